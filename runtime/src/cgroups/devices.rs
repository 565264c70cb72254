//! The devices controller (config-linux.md#allowed-device-list): the container's device
//! rules, in order. On a v1 hierarchy they are lines written to `devices.allow` and
//! `devices.deny`; on cgroup v2 a device filter program (device_filter.rs). On a hybrid
//! host a mounted v1 devices hierarchy is used, as runc does (it attaches no program
//! there): the kernel enforces it as it would the program; without a v1 devices
//! hierarchy the program goes on the container's cgroup2 directory.

use std::path::Path;

use super::controller::Controller;
use super::fs::CgroupFile;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const DEVICES: &str = "/linux/resources/devices";

/// `devices`.
pub struct Devices;

impl Controller for Devices {
    fn name(&self) -> &'static str {
        "devices"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        (!r.devices.is_empty()).then_some(DEVICES)
    }

    #[writ_macros::requirement("config_linux.device_allowlist.order")]
    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        // Each file is opened once (at its first rule) and takes one write per rule, in
        // the config's order across both files.
        let mut allow = CgroupFile::new("devices", DEVICES, dir, "devices.allow");
        let mut deny = CgroupFile::new("devices", DEVICES, dir, "devices.deny");
        for rule in &r.devices {
            let file = if rule.allow { &mut allow } else { &mut deny };
            file.write(&rule.v1_line())?;
        }
        Ok(())
    }

    /// cgroup v2 has no devices files: the rules become a device filter program attached
    /// to the directory (device_filter.rs), replacing any attached before.
    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        Ok(super::device_filter::install(dir, &r.devices)?)
    }

    fn v2_subtree_control(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::files;
    use crate::plan::DeviceRule;

    #[test]
    fn v1_rules_are_written_in_order() {
        let d = files(&["devices.allow", "devices.deny"]);
        let rule = |allow, kind, major, minor, access: &str| DeviceRule {
            allow,
            kind,
            major,
            minor,
            access: access.into(),
        };
        // Each file is opened once and takes one write per rule: in a plain file the
        // rules of each kind follow one another (reopening would leave only the last).
        let r = ResourcesPlan {
            devices: vec![
                rule(false, 'a', -1, -1, "rwm"),
                rule(true, 'c', 1, 3, "rw"),
                rule(false, 'c', 1, 3, "w"),
                rule(true, 'c', 1, 5, "r"),
            ],
            ..Default::default()
        };
        Devices.apply_v1(d.path(), &r).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("devices.deny")).unwrap(),
            "ac 1:3 w"
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("devices.allow")).unwrap(),
            "c 1:3 rwc 1:5 r"
        );
    }
}
