//! Mounts (config.md#mounts, config-linux.md#mount-options): the mount steps the container
//! init runs before pivot_root, from the plan (`crate::plan::mounts`). Every destination
//! is resolved inside the rootfs (crate::rootfs) and mounted onto its fd.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use nix::mount::MsFlags;

pub use crate::plan::mounts::{bind_attr, MountAttrs, MountPlan};
use crate::plan::IdMap;
use crate::rootfs::{Leaf, Root};
use crate::sys::{self, fd_path, Context, Errno, MountAttr, SysError};

/// Read-only, nothing else.
const READ_ONLY: MountAttrs = MountAttrs {
    set: libc::MOUNT_ATTR_RDONLY,
    clear: 0,
};

/// mount_setattr(2) of `a` on the mount `fd` refers to.
fn setattr(fd: BorrowedFd, recursive: bool, a: MountAttrs) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set: a.set,
        attr_clr: a.clear,
        ..Default::default()
    };
    sys::mount_setattr(fd, recursive, &attr)
}

/// How the host's cgroups are laid out and where the container's cgroup is, for mounts of
/// type `cgroup`.
#[derive(Debug, Clone, Default)]
pub struct CgroupView {
    /// (directory name under /sys/fs/cgroup, host path of the container's cgroup there).
    pub dirs: Vec<(String, PathBuf)>,
    /// Host path of the container's cgroup on a cgroup2-only host.
    pub unified_only: Option<PathBuf>,
    pub new_cgroupns: bool,
}

/// Context the mount steps need.
pub struct MountCtx<'a> {
    pub cgroups: &'a CgroupView,
    /// Prepared idmapped trees, by mount index.
    pub idmapped: &'a [(usize, OwnedFd)],
}

fn mount_err(m: &MountPlan, what: &str, e: Errno) -> SysError {
    let mount = format!(
        "mounting {} on {} (type {}, options {:?}): {what}",
        m.source.as_deref().unwrap_or("none"),
        m.destination,
        m.fstype.as_deref().unwrap_or("none"),
        m.options.join(","),
    );
    SysError::new(mount, e)
}

fn raw_mount(
    source: Option<&str>,
    target: &str,
    fstype: Option<&str>,
    flags: u64,
    data: Option<&str>,
) -> Result<(), Errno> {
    nix::mount::mount(
        source,
        target,
        fstype,
        MsFlags::from_bits_retain(flags),
        data.filter(|d| !d.is_empty()),
    )
}

/// Performs one mount of the config inside the rootfs.
pub fn mount_one(root: &Root, m: &MountPlan, idx: usize, ctx: &MountCtx) -> Result<(), SysError> {
    if m.is_cgroup() {
        return mount_cgroup(root, m, ctx.cgroups);
    }
    let rel = &m.destination;
    if m.bind {
        let src = m.source.as_deref().unwrap_or_default();
        let leaf = match std::fs::metadata(src) {
            Ok(md) if !md.is_dir() => Leaf::File,
            Ok(_) => Leaf::Dir,
            Err(e) => {
                return Err(mount_err(
                    m,
                    "source",
                    Errno::from_raw(e.raw_os_error().unwrap_or(libc::ENOENT)),
                ))
            }
        };
        let dest = root.mkdir_all(rel, leaf)?;
        if let Some((_, tree)) = ctx.idmapped.iter().find(|(i, _)| *i == idx) {
            sys::move_mount_fd(tree.as_fd(), dest.as_fd())
                .map_err(|e| mount_err(m, "attaching idmapped mount", e))?;
        } else {
            let mut f = libc::MS_BIND;
            if m.recursive_bind {
                f |= libc::MS_REC;
            }
            raw_mount(Some(src), &fd_path(dest.as_fd()), None, f, None)
                .map_err(|e| mount_err(m, "bind", e))?;
        }
        if !m.bind_attr.is_empty() {
            let top = root
                .resolve(rel)
                .map_err(|e| mount_err(m, "reopening", e))?;
            setattr(top.as_fd(), false, m.bind_attr)
                .map_err(|e| mount_err(m, "setting mount attributes", e))?;
        }
    } else {
        let dest = root.mkdir_all(rel, Leaf::Dir)?;
        let mut flags = m.flags & !(libc::MS_BIND | libc::MS_REC);
        let ro_later = m.tmpcopyup && flags & libc::MS_RDONLY != 0;
        if ro_later {
            flags &= !libc::MS_RDONLY;
        }
        let fstype = m.fstype.as_deref().unwrap_or("none");
        let source = m.source.as_deref().unwrap_or(fstype);
        match raw_mount(
            Some(source),
            &fd_path(dest.as_fd()),
            Some(fstype),
            flags,
            Some(&m.data),
        ) {
            Ok(()) => {}
            // In a user namespace that does not own the network namespace, sysfs cannot
            // be mounted: show the host's /sys instead (as runc does), with the flags.
            Err(Errno::EPERM) if fstype == "sysfs" => {
                raw_mount(
                    Some("/sys"),
                    &fd_path(dest.as_fd()),
                    None,
                    libc::MS_BIND | libc::MS_REC,
                    None,
                )
                .map_err(|e| mount_err(m, "bind /sys", e))?;
                let top = root
                    .resolve(rel)
                    .map_err(|e| mount_err(m, "reopening", e))?;
                setattr(top.as_fd(), true, bind_attr(m.flags, 0))
                    .map_err(|e| mount_err(m, "setting attributes of /sys", e))?;
            }
            Err(e) => return Err(mount_err(m, "mount", e)),
        }
        if m.tmpcopyup {
            let top = root
                .resolve(rel)
                .map_err(|e| mount_err(m, "reopening", e))?;
            copy_dir(dest.as_fd(), top.as_fd()).map_err(|e| SysError {
                what: format!("tmpcopyup of {}: {}", m.destination, e.what),
                ..e
            })?;
            if ro_later {
                setattr(top.as_fd(), false, READ_ONLY)
                    .map_err(|e| mount_err(m, "making read-only", e))?;
            }
        }
    }
    finish_mount(root, m)
}

/// Propagation and recursive attributes, on the mount now at the destination.
fn finish_mount(root: &Root, m: &MountPlan) -> Result<(), SysError> {
    if m.propagation.is_empty() && m.rec_attr.is_none() {
        return Ok(());
    }
    let top = root
        .resolve(&m.destination)
        .map_err(|e| mount_err(m, "reopening", e))?;
    for p in &m.propagation {
        raw_mount(None, &fd_path(top.as_fd()), None, *p, None)
            .map_err(|e| mount_err(m, "setting propagation", e))?;
    }
    if let Some(a) = m.rec_attr {
        setattr(top.as_fd(), true, a)
            .map_err(|e| mount_err(m, "setting recursive attributes", e))?;
    }
    Ok(())
}

/// A mount of type `cgroup`/`cgroup2`: the container's own cgroups, on any host layout.
fn mount_cgroup(root: &Root, m: &MountPlan, view: &CgroupView) -> Result<(), SysError> {
    let dest = root.mkdir_all(&m.destination, Leaf::Dir)?;
    let ro = m.flags & libc::MS_RDONLY != 0;
    let base = m.flags & (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC);
    if let Some(host) = &view.unified_only {
        if view.new_cgroupns {
            raw_mount(
                Some("cgroup2"),
                &fd_path(dest.as_fd()),
                Some("cgroup2"),
                base,
                None,
            )
            .map_err(|e| mount_err(m, "cgroup2", e))?;
        } else {
            raw_mount(
                Some(&host.to_string_lossy()),
                &fd_path(dest.as_fd()),
                None,
                libc::MS_BIND | libc::MS_REC,
                None,
            )
            .map_err(|e| mount_err(m, "bind cgroup2", e))?;
        }
    } else {
        raw_mount(
            Some("tmpfs"),
            &fd_path(dest.as_fd()),
            Some("tmpfs"),
            base,
            Some("mode=755"),
        )
        .map_err(|e| mount_err(m, "tmpfs for cgroup hierarchies", e))?;
        let top = root
            .resolve(&m.destination)
            .map_err(|e| mount_err(m, "reopening", e))?;
        for (name, host) in &view.dirs {
            rustix::fs::mkdirat(&top, name.as_str(), rustix::fs::Mode::from_raw_mode(0o755))
                .map_err(|e| mount_err(m, name, Errno::from_raw(e.raw_os_error())))?;
            let sub = rustix::fs::openat(
                &top,
                name.as_str(),
                rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::NOFOLLOW
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| mount_err(m, name, Errno::from_raw(e.raw_os_error())))?;
            raw_mount(
                Some(&host.to_string_lossy()),
                &fd_path(sub.as_fd()),
                None,
                libc::MS_BIND | libc::MS_REC,
                None,
            )
            .map_err(|e| mount_err(m, &format!("bind {}", host.display()), e))?;
            if base != 0 {
                let sub_top = rustix::fs::openat(
                    &top,
                    name.as_str(),
                    rustix::fs::OFlags::PATH
                        | rustix::fs::OFlags::NOFOLLOW
                        | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .map_err(|e| mount_err(m, name, Errno::from_raw(e.raw_os_error())))?;
                setattr(sub_top.as_fd(), true, bind_attr(base, 0))
                    .map_err(|e| mount_err(m, "cgroup mount attributes", e))?;
            }
            // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", like on the host.
            if name.contains(',') {
                for part in name.split(',') {
                    let _ = rustix::fs::symlinkat(name.as_str(), &top, part);
                }
            }
        }
    }
    if ro {
        let top = root
            .resolve(&m.destination)
            .map_err(|e| mount_err(m, "reopening", e))?;
        setattr(top.as_fd(), true, READ_ONLY).map_err(|e| mount_err(m, "read-only", e))?;
    }
    finish_mount(
        root,
        &MountPlan {
            flags: 0,
            ..m.clone()
        },
    )
}

/// Copies the contents of directory `from` (an O_PATH fd of the directory underneath a new
/// tmpfs) into `to` (the tmpfs), keeping modes and owners: podman's `tmpcopyup`. Like
/// runc, only what is inside is copied: the tmpfs root keeps the mode and owner of its
/// mount options (default 1777), so that `podman run --tmpfs /scratch -u 65534` can
/// write there whatever the image's /scratch is.
fn copy_dir(from: BorrowedFd, to: BorrowedFd) -> Result<(), SysError> {
    use rustix::fs::{self as fs, AtFlags, FileType, Mode, OFlags};
    let errs = |what: &str, e: rustix::io::Errno| SysError::new(what, e);
    let src = fs::openat(
        from,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errs("opening source", e))?;
    let dst = fs::openat(
        to,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errs("opening target", e))?;
    let mut dir = fs::Dir::read_from(&src).map_err(|e| errs("reading directory", e))?;
    while let Some(ent) = dir.read() {
        let ent = ent.map_err(|e| errs("reading directory", e))?;
        let name = ent.file_name();
        if name.to_bytes() == b"." || name.to_bytes() == b".." {
            continue;
        }
        let st = fs::statat(&src, name, AtFlags::SYMLINK_NOFOLLOW).map_err(|e| errs("stat", e))?;
        let (uid, gid) = (fs::Uid::from_raw(st.st_uid), fs::Gid::from_raw(st.st_gid));
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => {
                fs::mkdirat(&dst, name, Mode::from_raw_mode(0o700))
                    .map_err(|e| errs("mkdir", e))?;
                let s = fs::openat(
                    &src,
                    name,
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| errs("open", e))?;
                let d = fs::openat(
                    &dst,
                    name,
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| errs("open", e))?;
                copy_dir(s.as_fd(), d.as_fd())?;
                let mode = Mode::from_raw_mode(st.st_mode & 0o7777);
                fs::chmodat(&dst, name, mode, AtFlags::empty()).map_err(|e| errs("chmod", e))?;
                let _ = fs::chownat(&dst, name, Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW);
            }
            FileType::Symlink => {
                let target =
                    fs::readlinkat(&src, name, Vec::new()).map_err(|e| errs("readlink", e))?;
                fs::symlinkat(target.as_c_str(), &dst, name).map_err(|e| errs("symlink", e))?;
                let _ = fs::chownat(&dst, name, Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW);
            }
            FileType::RegularFile => {
                let s = fs::openat(
                    &src,
                    name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| errs("open", e))?;
                let d = fs::openat(
                    &dst,
                    name,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(st.st_mode & 0o7777),
                )
                .map_err(|e| errs("create", e))?;
                // tmpfs and the image are different filesystems: plain read/write.
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match rustix::io::read(&s, &mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(rustix::io::Errno::INTR) => continue,
                        Err(e) => return Err(errs("read", e)),
                    };
                    let mut off = 0;
                    while off < n {
                        match rustix::io::write(&d, &buf[off..n]) {
                            Ok(w) => off += w,
                            Err(rustix::io::Errno::INTR) => {}
                            Err(e) => return Err(errs("write", e)),
                        }
                    }
                }
                let _ = fs::fchmod(&d, Mode::from_raw_mode(st.st_mode & 0o7777));
                let _ = fs::fchown(&d, Some(uid), Some(gid));
            }
            _ => {
                fs::mknodat(
                    &dst,
                    name,
                    FileType::from_raw_mode(st.st_mode),
                    Mode::from_raw_mode(st.st_mode & 0o7777),
                    st.st_rdev,
                )
                .map_err(|e| errs("mknod", e))?;
                let _ = fs::chownat(&dst, name, Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW);
            }
        }
    }
    Ok(())
}

/// maskedPaths: /dev/null over files, a read-only empty tmpfs over directories. `devnull`
/// is an O_PATH fd of the host's /dev/null, checked to be the real device.
pub fn mask_paths(root: &Root, paths: &[String], devnull: BorrowedFd) -> Result<(), SysError> {
    for p in paths {
        let fd = match root.resolve(p) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(SysError::new(format!("masking {p}"), e)),
        };
        let r = if crate::rootfs::is_dir(fd.as_fd()) {
            raw_mount(
                Some("tmpfs"),
                &fd_path(fd.as_fd()),
                Some("tmpfs"),
                libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                Some("size=0k"),
            )
        } else {
            raw_mount(
                Some(&fd_path(devnull)),
                &fd_path(fd.as_fd()),
                None,
                libc::MS_BIND,
                None,
            )
        };
        r.with_ctx(|| format!("masking {p}"))?;
    }
    Ok(())
}

/// readonlyPaths: bind each path onto itself and make it read-only (recursively).
pub fn readonly_paths(root: &Root, paths: &[String]) -> Result<(), SysError> {
    for p in paths {
        let fd = match root.resolve(p) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(SysError::new(format!("making {p} read-only"), e)),
        };
        let fp = fd_path(fd.as_fd());
        raw_mount(Some(&fp), &fp, None, libc::MS_BIND | libc::MS_REC, None)
            .with_ctx(|| format!("making {p} read-only: bind"))?;
        let top = root
            .resolve(p)
            .with_ctx(|| format!("making {p} read-only"))?;
        make_readonly(top.as_fd(), true).with_ctx(|| format!("making {p} read-only"))?;
    }
    Ok(())
}

/// Sets MOUNT_ATTR_RDONLY on the mount `fd` refers to.
pub fn make_readonly(fd: BorrowedFd, recursive: bool) -> Result<(), Errno> {
    setattr(fd, recursive, READ_ONLY)
}

/// A user namespace with the given mappings, for idmapped mounts: a short-lived helper
/// child unshares it, the caller writes its maps and keeps an fd of it.
pub fn make_userns(uid: &[IdMap], gid: &[IdMap]) -> Result<OwnedFd, SysError> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .ctx("creating a pipe for an idmapped mount's user namespace")?;
    let pid = match sys::fork_with_flags(libc::CLONE_NEWUSER as u64)
        .ctx("creating a user namespace for an idmapped mount")?
    {
        sys::Forked::Child => {
            drop(w);
            let mut b = [0u8; 1];
            let _ = nix::unistd::read(r.as_fd(), &mut b);
            // SAFETY: _exit in the forked child, no destructors or atexit handlers.
            unsafe { libc::_exit(0) }
        }
        sys::Forked::Parent(pid) => pid,
    };
    drop(r);
    let res = (|| {
        crate::namespaces::write_id_maps(pid, uid, gid)?;
        nix::fcntl::open(
            format!("/proc/{pid}/ns/user").as_str(),
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ctx("opening idmap user namespace")
    })();
    drop(w);
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    res
}

/// Prepares the detached, idmapped trees of every idmapped mount (done by create, which is
/// privileged over the source filesystems), by mount index.
#[writ_macros::requirement(
    "config.mount_options.idmap",
    "config.mount_options.idmap.mapped",
    "config.mount_options.idmap.mount_mappings",
    "config.mount_options.idmap.userns_fallback",
    "config.mount_options.idmap.no_mapping_error",
    "config.mount_options.idmap.no_userns_error",
    "config.mount_options.idmap.mount_setattr",
    "config.mount_options.ridmap",
    "config.mount_options.ridmap.mapped",
    "config.mount_options.ridmap.mount_mappings",
    "config.mount_options.ridmap.userns_fallback",
    "config.mount_options.ridmap.no_mapping_error",
    "config.mount_options.ridmap.no_userns_error",
    "config.mount_options.ridmap.mount_setattr",
    "config.mounts.uid_mappings.mount_setattr",
    "config.mounts.gid_mappings.mount_setattr"
)]
pub fn prepare_idmapped(
    mounts: &[MountPlan],
    container_uid: &[IdMap],
    container_gid: &[IdMap],
) -> Result<Vec<(usize, OwnedFd)>, SysError> {
    let mut out = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        let Some(idm) = &m.idmap else { continue };
        let (uid, gid) = if idm.uid.is_empty() {
            (container_uid, container_gid)
        } else {
            (idm.uid.as_slice(), idm.gid.as_slice())
        };
        if uid.is_empty() {
            let what = format!(
                "idmapped mount on {}: no uidMappings on the mount and no user namespace mappings",
                m.destination
            );
            return Err(SysError::new(what, Errno::EINVAL));
        }
        let userns = make_userns(uid, gid)?;
        let src = m.source.as_deref().unwrap_or_default();
        let tree = sys::open_tree_clone(src, m.recursive_bind)
            .map_err(|e| mount_err(m, "open_tree", e))?;
        let attr = MountAttr {
            attr_set: libc::MOUNT_ATTR_IDMAP,
            userns_fd: userns.as_raw_fd() as u64,
            ..Default::default()
        };
        sys::mount_setattr(tree.as_fd(), idm.recursive, &attr)
            .map_err(|e| mount_err(m, "idmapping", e))?;
        out.push((i, tree));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    use std::path::Path;

    fn opath(p: &std::path::Path) -> OwnedFd {
        rustix::fs::open(
            p,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap()
    }

    #[writ_macros::verifies("config.mount_options.tmpcopyup")]
    #[test]
    fn tmpcopyup_copies_files_dirs_links_and_nodes_with_their_modes() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        std::fs::set_permissions(src.path(), std::fs::Permissions::from_mode(0o750)).unwrap();
        std::fs::create_dir(src.path().join("d")).unwrap();
        std::fs::write(src.path().join("d/f"), vec![7u8; 100_000]).unwrap();
        std::fs::set_permissions(src.path().join("d"), std::fs::Permissions::from_mode(0o751))
            .unwrap();
        std::fs::set_permissions(dst.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::fs::set_permissions(
            src.path().join("d/f"),
            std::fs::Permissions::from_mode(0o604),
        )
        .unwrap();
        std::os::unix::fs::symlink("d/f", src.path().join("l")).unwrap();
        nix::unistd::mkfifo(
            &src.path().join("p"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        copy_dir(opath(src.path()).as_fd(), opath(dst.path()).as_fd()).unwrap();
        let d = dst.path();
        // The target root keeps its own mode; what is inside gets the source's.
        assert_eq!(std::fs::metadata(d).unwrap().mode() & 0o7777, 0o1777);
        assert_eq!(
            std::fs::metadata(d.join("d")).unwrap().mode() & 0o7777,
            0o751
        );
        assert_eq!(std::fs::read(d.join("d/f")).unwrap(), vec![7u8; 100_000]);
        assert_eq!(
            std::fs::metadata(d.join("d/f")).unwrap().mode() & 0o7777,
            0o604
        );
        assert_eq!(std::fs::read_link(d.join("l")).unwrap(), Path::new("d/f"));
        assert!(std::fs::symlink_metadata(d.join("p"))
            .unwrap()
            .file_type()
            .is_fifo());
        // A name that already exists in the target is an error, not an overwrite.
        let e = copy_dir(opath(src.path()).as_fd(), opath(dst.path()).as_fd()).unwrap_err();
        assert_eq!(e.errno(), Errno::EEXIST, "{e}");
    }
}
