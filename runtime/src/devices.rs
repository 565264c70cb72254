//! Device nodes (config-linux.md#devices and #default-devices): the config's devices plus
//! the default set, created inside the rootfs by mknod, or bind-mounted from the host where
//! mknod is not allowed (user namespaces). Links in /dev (fd, stdin, stdout, stderr, ptmx).

use std::os::fd::AsFd;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::plan::DevicePlan;
use crate::rootfs::Root;
use crate::sys::{errno_text, fd_path, Errno};

/// The devices every container gets (config-linux.md#default-devices), besides ptmx which is
/// a link to pts/ptmx.
#[writ_macros::requirement("config_linux.default_devices.supply")]
pub fn default_devices() -> Vec<DevicePlan> {
    let dev = |path: &str, major, minor| DevicePlan {
        path: path.to_string(),
        kind: libc::S_IFCHR,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    };
    vec![
        dev("/dev/null", 1, 3),
        dev("/dev/zero", 1, 5),
        dev("/dev/full", 1, 7),
        dev("/dev/random", 1, 8),
        dev("/dev/urandom", 1, 9),
        dev("/dev/tty", 5, 0),
    ]
}

/// The devices to create: the config's, then the defaults the config does not list.
pub fn with_defaults(config: &[DevicePlan]) -> Vec<DevicePlan> {
    let mut all = config.to_vec();
    for d in default_devices() {
        if !all.iter().any(|c| c.path == d.path) {
            all.push(d);
        }
    }
    all
}

fn ferr(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// Creates one device node. `bind` forces a bind mount of the host's node of the same path.
#[writ_macros::requirement(
    "config_linux.devices.available",
    "config_linux.devices.how",
    "config_linux.devices.path.conflict",
    "config_linux.devices.path.anywhere"
)]
pub fn create_device(root: &Root, d: &DevicePlan, bind: bool) -> Result<(), String> {
    let (dir, name) = root.parent_of(&d.path)?;
    let msg =
        |what: &str, e: Errno| format!("creating device {}: {what}: {}", d.path, errno_text(e));
    if !bind {
        let ft = FileType::from_raw_mode(d.kind);
        let dev = rustix::fs::makedev(d.major as u32, d.minor as u32);
        match rustix::fs::mknodat(&dir, name.as_str(), ft, Mode::from_raw_mode(d.mode), dev) {
            Ok(()) => {}
            // An existing entry is never followed; it must already be this device.
            Err(rustix::io::Errno::EXIST) => return check_existing(&dir, &name, d),
            Err(rustix::io::Errno::PERM) => return create_device(root, d, true),
            Err(e) => return Err(msg("mknod", ferr(e))),
        }
        rustix::fs::chmodat(
            &dir,
            name.as_str(),
            Mode::from_raw_mode(d.mode),
            AtFlags::empty(),
        )
        .map_err(|e| msg("chmod", ferr(e)))?;
        rustix::fs::chownat(
            &dir,
            name.as_str(),
            Some(rustix::fs::Uid::from_raw(d.uid)),
            Some(rustix::fs::Gid::from_raw(d.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| msg("chown", ferr(e)))?;
        return Ok(());
    }
    match rustix::fs::openat(
        &dir,
        name.as_str(),
        OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    ) {
        Ok(_) => {}
        Err(rustix::io::Errno::EXIST) => {
            // An empty regular file is a mount point (ours or the image's); anything else
            // must already be the device.
            let st = rustix::fs::statat(&dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| msg("stat", ferr(e)))?;
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_size != 0 {
                return check_existing(&dir, &name, d);
            }
        }
        Err(e) => return Err(msg("creating mount point", ferr(e))),
    }
    let target = rustix::fs::openat(
        &dir,
        name.as_str(),
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| msg("opening mount point", ferr(e)))?;
    nix::mount::mount(
        Some(d.path.as_str()),
        fd_path(target.as_fd()).as_str(),
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| msg("bind from host", e))
}

/// An entry already at a device's path is fine only when it is that very device.
fn check_existing(dir: &std::os::fd::OwnedFd, name: &str, d: &DevicePlan) -> Result<(), String> {
    let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| format!("creating device {}: stat: {}", d.path, errno_text(ferr(e))))?;
    let same_kind = FileType::from_raw_mode(st.st_mode) == FileType::from_raw_mode(d.kind);
    let same_dev = d.kind == libc::S_IFIFO
        || (rustix::fs::major(st.st_rdev) as u64 == d.major
            && rustix::fs::minor(st.st_rdev) as u64 == d.minor);
    if same_kind && same_dev {
        return Ok(());
    }
    Err(format!(
        "creating device {}: a different file already exists at that path",
        d.path
    ))
}

/// The standard links in /dev.
#[writ_macros::requirement("runtime_linux.dev_symlinks")]
pub fn create_links(root: &Root, ptmx: bool) -> Result<(), String> {
    let mut links = vec![
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ];
    if std::path::Path::new("/proc/kcore").exists() {
        links.push(("/dev/core", "/proc/kcore"));
    }
    let dev = root.mkdir_all("/dev", crate::rootfs::Leaf::Dir)?;
    for (link, target) in links {
        let name = link.trim_start_matches("/dev/");
        match rustix::fs::symlinkat(target, &dev, name) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(format!("creating link {link}: {}", errno_text(ferr(e)))),
        }
    }
    if ptmx {
        // /dev/ptmx must be the container's pts/ptmx.
        match rustix::fs::unlinkat(&dev, "ptmx", AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(format!("replacing /dev/ptmx: {}", errno_text(ferr(e)))),
        }
        rustix::fs::symlinkat("pts/ptmx", &dev, "ptmx")
            .map_err(|e| format!("creating link /dev/ptmx: {}", errno_text(ferr(e))))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[writ_macros::verifies("config_linux.default_devices.supply")]
    #[test]
    fn config_devices_override_defaults() {
        let custom = DevicePlan {
            path: "/dev/null".into(),
            kind: libc::S_IFCHR,
            major: 1,
            minor: 3,
            mode: 0o600,
            uid: 5,
            gid: 5,
        };
        let all = with_defaults(std::slice::from_ref(&custom));
        assert_eq!(all.iter().filter(|d| d.path == "/dev/null").count(), 1);
        assert_eq!(all[0], custom);
        for p in [
            "/dev/zero",
            "/dev/full",
            "/dev/random",
            "/dev/urandom",
            "/dev/tty",
        ] {
            assert!(all.iter().any(|d| d.path == p), "{p} missing");
        }
    }
}
