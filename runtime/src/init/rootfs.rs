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

use super::{ensure_cgroup, enter_cgroup, InitArgs, InitError};

/// mount(2) of flags only (propagation, MS_MOVE, ...), on `target`.
fn remount<P: ?Sized + nix::NixPath>(
    source: Option<&str>,
    target: &P,
    flags: u64,
) -> Result<(), nix::errno::Errno> {
    nix::mount::mount(
        source,
        target,
        None::<&str>,
        MsFlags::from_bits_retain(flags),
        None::<&str>,
    )
}

/// Whether the init made its own mount namespace; else it shares one (the runtime's, or
/// one joined by path) whose other processes and mounts must not be touched.
fn own_mount_ns(a: &InitArgs) -> bool {
    a.plan
        .namespace(NamespaceKind::Mount)
        .is_some_and(|n| n.path.is_none())
}

/// Propagation, the rootfs bind, the config's mounts, devices and /dev links; with a
/// terminal also the /dev/console placeholder (returned).
#[writ_macros::requirement("config.mounts.order", "config.root.path.exists")]
pub(super) fn prepare(a: &InitArgs) -> Result<(Root, Option<OwnedFd>), InitError> {
    let plan = a.plan;
    if own_mount_ns(a) {
        propagate_root(plan.rootfs_propagation)?;
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
    if !own_mount_ns(a) {
        // In a shared mount namespace the container's mounts go on a private rootfs
        // mount: nothing mounted under it propagates to the namespace's peers.
        remount(None, rootfs.as_path(), libc::MS_PRIVATE).ctx("making the rootfs mount private")?;
    }
    let root = Root::open(rootfs)?;
    let ctx = MountCtx {
        cgroups: &a.cgroups,
        idmapped: &a.idmapped,
    };
    for (i, m) in plan.mounts.iter().enumerate() {
        if m.is_cgroup() {
            ensure_cgroup(a)?;
        } else if !outside_cgroup(m) {
            enter_cgroup(a)?;
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

/// Whether an init that is not in the container's cgroup yet (`InitArgs::early`) may make
/// mount `m`: a bind mount (nothing is opened but the source's path) or a new instance of
/// a filesystem that needs no device and holds no data yet (a tmpfs with `tmpcopyup` is
/// filled, and what it is filled with belongs to the container's memory). A mount that
/// may open a block device (any other type, e.g. ext4 from /dev/sdb1) waits until the
/// init is in the cgroup, so that the container's device rules (v1 devices cgroup) apply
/// to it as they did before; so does everything after the mounts.
fn outside_cgroup(m: &crate::plan::MountPlan) -> bool {
    let fs = matches!(
        m.fstype.as_deref(),
        Some("proc" | "sysfs" | "devpts" | "mqueue" | "tmpfs")
    );
    m.bind || (fs && !m.tmpcopyup)
}

/// The propagation of / in the init's own mount namespace before the rootfs is bound
/// (config-linux.md#rootfs-mount-propagation): the config's, default rslave so that
/// nothing the container mounts reaches the host. Shared and unbindable are applied
/// after pivot_root (`enter`): pivot_root refuses shared mounts around the new root, and
/// an unbindable rootfs cannot be bind-mounted onto itself.
#[writ_macros::requirement("runtime.create.apply_config")]
fn propagate_root(propagation: Option<u64>) -> Result<(), InitError> {
    let slave = libc::MS_SLAVE | libc::MS_REC;
    let prop = propagation.unwrap_or(slave);
    if prop & libc::MS_UNBINDABLE != 0 {
        remount(None, "/", slave).ctx("setting mount propagation of /")?;
        return Ok(());
    }
    remount(None, "/", prop).ctx("setting mount propagation of /")?;
    if prop & libc::MS_SHARED != 0 {
        // Keep / private until the propagation is applied after pivot_root.
        remount(None, "/", libc::MS_PRIVATE).ctx("making / private")?;
    }
    Ok(())
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
/// root, then pivot_root into it (`enter`), or, in a shared mount namespace, a chroot
/// into a detached clone of it (`enter_shared`, which also re-opens `console`).
#[writ_macros::requirement("config.root.readonly")]
pub(super) fn finish(
    a: &InitArgs,
    root: Root,
    console: &mut Option<OwnedFd>,
) -> Result<(), InitError> {
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
    if own_mount_ns(a) {
        enter(&root, a.no_pivot, plan.rootfs_propagation)
    } else {
        enter_shared(&root, plan.rootfs_propagation, console)
    }
}

/// Without a mount namespace of its own (config-linux.md#namespaces: the runtime's is
/// inherited, or one is joined by path) the container shares a mount table with other
/// processes: pivot_root or MS_MOVE would change their root too, and the container's
/// mounts would stay there after it is gone (runc leaves them). So the finished rootfs
/// is cloned, with every mount below it, into a tree of its own, the mounts made in the
/// shared namespace are detached, and the clone is entered with chroot. The namespace is
/// left as it was, nothing is left to unmount at delete, and from the clone no path
/// (not even `..` out of a nested chroot) leads to the namespace's mounts. Once the init
/// has closed the clone's fd (before `created`), the tree is in no namespace: nothing
/// can be mounted in it any more, and /proc/self/mountinfo lists nothing.
/// With a terminal, the /dev/console placeholder is opened again in the clone.
#[writ_macros::requirement("config_linux.namespaces.inherit", "config_linux.namespaces.path.join")]
fn enter_shared(
    root: &Root,
    propagation: Option<u64>,
    console: &mut Option<OwnedFd>,
) -> Result<(), InitError> {
    let tree = sys::open_tree_clone_fd_recursive(root.as_fd()).ctx("cloning the rootfs")?;
    nix::unistd::fchdir(root.as_fd()).ctx("entering rootfs")?;
    detach_cwd_mount(root)?;
    nix::unistd::fchdir(&tree).ctx("entering the rootfs clone")?;
    nix::unistd::chroot(".").ctx("chroot")?;
    nix::unistd::chdir("/").ctx("chdir /")?;
    if let Some(p) = propagation {
        remount(None, "/", p).ctx("setting rootfsPropagation")?;
    }
    if console.is_some() {
        *console = Some(console_placeholder(&Root::open(std::path::Path::new(
            "/",
        ))?)?);
    }
    // The clone stays in its own (anonymous) namespace while its fd is open, so that the
    // pty can still be bound onto /dev/console; the fd is closed with every other one
    // before the init reports `created` (`run_program`), or at exec.
    std::mem::forget(tree);
    Ok(())
}

/// Detaches the rootfs mount (our cwd) from the shared namespace, with whatever the
/// config stacked onto it (umount2 of "." takes the topmost mount there). Cloning a mount
/// that is in no namespace fails with EINVAL: proof that the rootfs mount itself is gone.
fn detach_cwd_mount(root: &Root) -> Result<(), InitError> {
    for _ in 0..8 {
        nix::mount::umount2(".", MntFlags::MNT_DETACH)
            .ctx("detaching the rootfs from the shared mount namespace")?;
        if sys::open_tree_clone_fd(root.as_fd()).err() == Some(sys::Errno::EINVAL) {
            return Ok(());
        }
    }
    Err(InitError::Refused(
        "the rootfs mount is still attached to the shared mount namespace after 8 detaches".into(),
    ))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test: a failing unwrap is a failing test
    use super::outside_cgroup;
    use crate::plan::MountPlan;

    fn mount(fstype: Option<&str>, bind: bool, tmpcopyup: bool) -> MountPlan {
        MountPlan {
            destination: "/m".into(),
            fstype: fstype.map(str::to_owned),
            source: None,
            flags: 0,
            bind_attr: Default::default(),
            data: String::new(),
            propagation: Vec::new(),
            rec_attr: None,
            bind,
            recursive_bind: false,
            tmpcopyup,
            idmap: None,
            options: Vec::new(),
        }
    }

    #[test]
    fn only_mounts_that_open_no_device_and_copy_nothing_come_before_the_cgroup() {
        for t in ["proc", "sysfs", "devpts", "mqueue", "tmpfs"] {
            assert!(outside_cgroup(&mount(Some(t), false, false)), "{t}");
        }
        assert!(outside_cgroup(&mount(None, true, false)), "bind");
        assert!(
            outside_cgroup(&mount(Some("none"), true, false)),
            "bind of any type"
        );
        assert!(
            !outside_cgroup(&mount(Some("tmpfs"), false, true)),
            "tmpcopyup"
        );
        for t in ["ext4", "xfs", "overlay", "cgroup", "cgroup2", "nfs"] {
            assert!(!outside_cgroup(&mount(Some(t), false, false)), "{t}");
        }
        assert!(!outside_cgroup(&mount(None, false, false)), "no type");
    }
}
