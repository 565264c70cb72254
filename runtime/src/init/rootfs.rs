//! The init's second phase: the container's root filesystem (config.md#root,
//! #mounts, config-linux.md#devices, #masked-paths, #readonly-paths, #rootfs-mount-
//! propagation), built while the init still sees the host's / and /proc, then entered
//! with pivot_root.

use std::os::fd::{AsFd, OwnedFd};

use nix::mount::{MntFlags, MsFlags};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::mounts::MountCtx;
use crate::namespaces::NamespaceKind;
use crate::rootfs::{Leaf, Root};
use crate::sys::{self, Context, SysError};

use super::{ensure_cgroup, InitArgs, InitError};

/// mount(2) of flags only (propagation, MS_MOVE, ...), on `target`.
fn remount(source: Option<&str>, target: &str, flags: u64) -> Result<(), nix::errno::Errno> {
    nix::mount::mount(
        source,
        target,
        None::<&str>,
        MsFlags::from_bits_retain(flags),
        None::<&str>,
    )
}

/// Propagation, the rootfs bind, the config's mounts, devices and /dev links; with a
/// terminal also the /dev/console placeholder (returned).
#[writ_macros::requirement("config.mounts.order", "config.root.path.exists")]
pub(super) fn prepare(a: &InitArgs) -> Result<(Root, Option<OwnedFd>), InitError> {
    let plan = a.plan;
    let prop = plan
        .rootfs_propagation
        .unwrap_or(libc::MS_SLAVE | libc::MS_REC);
    remount(None, "/", prop).ctx("setting mount propagation of /")?;
    if prop & libc::MS_SHARED != 0 {
        // pivot_root refuses shared mounts around the new root: keep / private until
        // the propagation is applied after pivot_root (enter).
        remount(None, "/", libc::MS_PRIVATE).ctx("making / private")?;
    }
    let rootfs = &plan.rootfs;
    nix::mount::mount(
        Some(rootfs.as_path()),
        rootfs.as_path(),
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .with_ctx(|| format!("bind-mounting rootfs {}", rootfs.display()))?;
    let root = Root::open(rootfs)?;
    let ctx = MountCtx {
        cgroups: &a.cgroups,
        idmapped: &a.idmapped,
    };
    for (i, m) in plan.mounts.iter().enumerate() {
        if m.is_cgroup() {
            ensure_cgroup(a)?;
        }
        crate::mounts::mount_one(&root, m, i, &ctx)?;
    }
    ensure_cgroup(a)?;
    let bind_devices = a.new_userns || plan.namespace(NamespaceKind::User).is_some();
    for d in crate::devices::with_defaults(&plan.devices) {
        crate::devices::create_device(&root, &d, bind_devices)?;
    }
    let has_pts = plan
        .mounts
        .iter()
        .any(|m| m.destination.trim_end_matches('/') == "/dev/pts");
    crate::devices::create_links(&root, has_pts)?;
    let console = match plan.terminal {
        true => Some(console_placeholder(&root)?),
        false => None,
    };
    root.mkdir_all(&plan.process.cwd, Leaf::Dir)?;
    Ok((root, console))
}

/// The file the pty is bound onto as /dev/console: made by us, never a path that
/// something in the rootfs chose (CVE-2025-52565). A symlink (or other entry) the image
/// put there is removed first; a regular file or a character device is used as it is.
/// Returns an O_PATH fd of it, opened without following a symlink.
#[writ_macros::requirement("config_linux.default_devices.supply")]
fn console_placeholder(root: &Root) -> Result<OwnedFd, InitError> {
    let (dir, name) = root.parent_of("/dev/console")?;
    let what = |w: &str| format!("{w} /dev/console");
    let usable = |mode: u32| {
        matches!(
            FileType::from_raw_mode(mode),
            FileType::RegularFile | FileType::CharacterDevice
        )
    };
    match rustix::fs::statat(&dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if usable(st.st_mode) => {}
        Ok(_) => rustix::fs::unlinkat(&dir, name.as_str(), AtFlags::empty())
            .with_ctx(|| what("replacing"))?,
        Err(rustix::io::Errno::NOENT) => {}
        Err(e) => return Err(SysError::new(what("inspecting"), e).into()),
    }
    match rustix::fs::openat(
        &dir,
        name.as_str(),
        OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    ) {
        Ok(_) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(SysError::new(what("creating"), e).into()),
    }
    let fd = rustix::fs::openat(
        &dir,
        name.as_str(),
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_ctx(|| what("opening"))?;
    let st = rustix::fs::fstat(&fd).with_ctx(|| what("inspecting"))?;
    if !usable(st.st_mode) {
        return Err(InitError::Refused(
            "/dev/console: something other than a file appeared there".into(),
        ));
    }
    Ok(fd)
}

/// The host's /dev/null, checked to be the null device, for masking files.
fn open_host_devnull() -> Result<OwnedFd, InitError> {
    let fd = rustix::fs::open("/dev/null", OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
        .ctx("opening /dev/null")?;
    let st = rustix::fs::fstat(&fd).ctx("stat /dev/null")?;
    let is_null = FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(st.st_rdev) == 1
        && rustix::fs::minor(st.st_rdev) == 3;
    if !is_null {
        return Err(InitError::Refused(
            "the host's /dev/null is not the null device; refusing to mask paths with it".into(),
        ));
    }
    Ok(fd)
}

/// After the createContainer hooks: sysctls, masked and read-only paths, a read-only
/// root, then pivot_root into it.
#[writ_macros::requirement("config.root.readonly")]
pub(super) fn finish(a: &InitArgs, root: Root) -> Result<(), InitError> {
    let plan = a.plan;
    for (k, v) in &plan.sysctl {
        let rel = format!("/proc/sys/{}", k.replace('.', "/"));
        sys::write_file(std::path::Path::new(&rel), v.as_bytes())
            .with_ctx(|| format!("setting sysctl {k}={v}"))?;
    }
    let devnull = open_host_devnull()?;
    crate::mounts::mask_paths(&root, &plan.masked_paths, devnull.as_fd())?;
    crate::mounts::readonly_paths(&root, &plan.readonly_paths)?;
    drop(devnull);
    if plan.root_readonly {
        let top = root.resolve("").ctx("reopening rootfs")?;
        crate::mounts::make_readonly(top.as_fd(), false)
            .ctx("making the root filesystem read-only")?;
    }
    enter(&root, a.no_pivot, plan.rootfs_propagation)
}

/// pivot_root into the rootfs (or MS_MOVE + chroot with --no-pivot).
fn enter(root: &Root, no_pivot: bool, propagation: Option<u64>) -> Result<(), InitError> {
    nix::unistd::fchdir(root.as_fd()).ctx("entering rootfs")?;
    if propagation.is_some_and(|p| p & libc::MS_SHARED != 0) {
        // A shared rootfs mount cannot be pivoted: private now, shared again below.
        remount(None, ".", libc::MS_PRIVATE).ctx("making the rootfs private for pivot_root")?;
    }
    if no_pivot {
        remount(Some("."), "/", libc::MS_MOVE).ctx("moving rootfs to /")?;
        nix::unistd::chroot(".").ctx("chroot")?;
    } else {
        let old_root = rustix::fs::open(
            "/",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx("opening /")?;
        nix::unistd::pivot_root(".", ".").ctx("pivot_root")?;
        // The old root is now stacked on "/": from inside it, make it a slave (so that
        // detaching it does not propagate to the host) and detach it. The new root's own
        // mounts keep their propagation.
        nix::unistd::fchdir(&old_root).ctx("entering the old root")?;
        remount(None, ".", libc::MS_SLAVE | libc::MS_REC).ctx("making the old root a slave")?;
        nix::mount::umount2(".", MntFlags::MNT_DETACH).ctx("detaching the old root")?;
    }
    nix::unistd::chdir("/").ctx("chdir /")?;
    if let Some(p) = propagation {
        remount(None, "/", p).ctx("setting rootfsPropagation")?;
    }
    Ok(())
}
