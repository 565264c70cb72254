//! Device nodes (config-linux.md#devices and #default-devices): the config's devices plus
//! the default set, created inside the rootfs by mknod, or bind-mounted from the host where
//! mknod is not allowed (user namespaces). Links in /dev (fd, stdin, stdout, stderr, ptmx).

use std::os::fd::AsFd;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

pub use crate::plan::devices::{with_defaults, DevicePlan};
use crate::rootfs::Root;
use crate::sys::{fd_path, Context, SysError};

/// Why a device node or a link in /dev could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum DeviceError {
    /// A system call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// Something other than the device is at its path.
    #[error("creating device {path}: a different file already exists at that path")]
    Conflict {
        /// The device's path in the container.
        path: String,
    },
}

/// Creates one device node. `bind` forces a bind mount of the host's node of the same path.
#[writ_macros::requirement(
    "config_linux.devices.available",
    "config_linux.devices.how",
    "config_linux.devices.path.conflict",
    "config_linux.devices.path.anywhere"
)]
pub fn create_device(root: &Root, d: &DevicePlan, bind: bool) -> Result<(), DeviceError> {
    let (dir, name) = root.parent_of(&d.path)?;
    let msg = |what: &str| format!("creating device {}: {what}", d.path);
    if !bind {
        let ft = FileType::from_raw_mode(d.kind);
        let dev = rustix::fs::makedev(d.major as u32, d.minor as u32);
        match rustix::fs::mknodat(&dir, name.as_str(), ft, Mode::from_raw_mode(d.mode), dev) {
            Ok(()) => {}
            // An existing entry is never followed; it must already be this device.
            Err(rustix::io::Errno::EXIST) => return check_existing(&dir, &name, d),
            Err(rustix::io::Errno::PERM) => return create_device(root, d, true),
            Err(e) => return Err(SysError::new(msg("mknod"), e).into()),
        }
        rustix::fs::chmodat(
            &dir,
            name.as_str(),
            Mode::from_raw_mode(d.mode),
            AtFlags::empty(),
        )
        .with_ctx(|| msg("chmod"))?;
        rustix::fs::chownat(
            &dir,
            name.as_str(),
            Some(rustix::fs::Uid::from_raw(d.uid)),
            Some(rustix::fs::Gid::from_raw(d.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .with_ctx(|| msg("chown"))?;
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
                .with_ctx(|| msg("stat"))?;
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_size != 0 {
                return check_existing(&dir, &name, d);
            }
        }
        Err(e) => return Err(SysError::new(msg("creating mount point"), e).into()),
    }
    let target = rustix::fs::openat(
        &dir,
        name.as_str(),
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_ctx(|| msg("opening mount point"))?;
    nix::mount::mount(
        Some(d.path.as_str()),
        fd_path(target.as_fd()).as_str(),
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .with_ctx(|| msg("bind from host"))?;
    Ok(())
}

/// An entry already at a device's path is fine only when it is that very device.
fn check_existing(
    dir: &std::os::fd::OwnedFd,
    name: &str,
    d: &DevicePlan,
) -> Result<(), DeviceError> {
    let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .with_ctx(|| format!("creating device {}: stat", d.path))?;
    let same_kind = FileType::from_raw_mode(st.st_mode) == FileType::from_raw_mode(d.kind);
    let same_dev = d.kind == libc::S_IFIFO
        || (rustix::fs::major(st.st_rdev) as u64 == d.major
            && rustix::fs::minor(st.st_rdev) as u64 == d.minor);
    if same_kind && same_dev {
        return Ok(());
    }
    Err(DeviceError::Conflict {
        path: d.path.clone(),
    })
}

/// The standard links in /dev.
#[writ_macros::requirement("runtime_linux.dev_symlinks")]
pub fn create_links(root: &Root, ptmx: bool) -> Result<(), SysError> {
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
            Err(e) => return Err(e).with_ctx(|| format!("creating link {link}")),
        }
    }
    if ptmx {
        // /dev/ptmx must be the container's pts/ptmx.
        match rustix::fs::unlinkat(&dev, "ptmx", AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(e).ctx("replacing /dev/ptmx"),
        }
        rustix::fs::symlinkat("pts/ptmx", &dev, "ptmx").ctx("creating link /dev/ptmx")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    fn fifo(path: &str, mode: u32) -> DevicePlan {
        DevicePlan {
            path: path.into(),
            kind: libc::S_IFIFO,
            major: 0,
            minor: 0,
            mode,
            uid: 0,
            gid: 0,
        }
    }

    #[writ_macros::verifies("config_linux.devices.path.anywhere")]
    #[test]
    fn a_node_is_made_inside_the_root_with_its_mode_and_parents() {
        let d = tempfile::tempdir().unwrap();
        let root = Root::open(d.path()).unwrap();
        create_device(&root, &fifo("/dev/sub/f", 0o640), false).unwrap();
        let md = std::fs::symlink_metadata(d.path().join("dev/sub/f")).unwrap();
        assert!(md.file_type().is_fifo());
        assert_eq!(md.mode() & 0o777, 0o640);
        // The same node again is fine (an existing entry must already be it).
        create_device(&root, &fifo("/dev/sub/f", 0o640), false).unwrap();
    }

    #[writ_macros::verifies("config_linux.devices.path.conflict")]
    #[test]
    fn a_different_file_at_the_path_is_refused_and_never_followed() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("dev")).unwrap();
        std::fs::write(d.path().join("dev/taken"), b"data").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("x"), d.path().join("dev/link")).unwrap();
        let root = Root::open(d.path()).unwrap();
        let e = create_device(&root, &fifo("/dev/taken", 0o600), false).unwrap_err();
        assert!(matches!(&e, DeviceError::Conflict { path } if path == "/dev/taken"));
        assert_eq!(
            e.to_string(),
            "creating device /dev/taken: a different file already exists at that path"
        );
        assert!(create_device(&root, &fifo("/dev/link", 0o600), false).is_err());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[writ_macros::verifies("runtime_linux.dev_symlinks")]
    #[test]
    fn dev_links_point_at_proc_and_ptmx_at_pts() {
        let d = tempfile::tempdir().unwrap();
        let root = Root::open(d.path()).unwrap();
        std::fs::create_dir(d.path().join("dev")).unwrap();
        std::fs::write(d.path().join("dev/ptmx"), b"").unwrap();
        create_links(&root, true).unwrap();
        let link = |n: &str| std::fs::read_link(d.path().join("dev").join(n)).unwrap();
        assert_eq!(link("fd"), std::path::Path::new("/proc/self/fd"));
        assert_eq!(link("stdin"), std::path::Path::new("/proc/self/fd/0"));
        assert_eq!(link("stderr"), std::path::Path::new("/proc/self/fd/2"));
        assert_eq!(link("ptmx"), std::path::Path::new("pts/ptmx"));
        // Twice is fine.
        create_links(&root, true).unwrap();
    }
}
