//! The facts about this host that a plan depends on (`crate::plan::HostFacts`), read from
//! /sys and /proc.

use std::path::Path;

use crate::plan::HostFacts;

/// Whether AppArmor is enabled on this host.
pub fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .map(|s| s.trim() == "Y")
        .unwrap_or(false)
}

/// Whether SELinux is enabled on this host.
pub fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// The facts of this host.
pub fn facts() -> HostFacts {
    HostFacts {
        apparmor: apparmor_enabled(),
        selinux: selinux_enabled(),
        cap_last_cap: crate::sys::cap_last_cap(),
        is_dir: Path::is_dir,
    }
}
