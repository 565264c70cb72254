//! Mounts (config.md#mounts, config-linux.md#mount-options): option parsing for the plan,
//! and the mount steps the container init runs before pivot_root. Every destination is
//! resolved inside the rootfs (crate::rootfs) and mounted onto its fd.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::mount::MsFlags;

use crate::plan::IdMap;
use crate::rootfs::{Leaf, Root};
use crate::sys::{self, errno_text, fd_path, Errno, MountAttr};

/// An idmapped mount request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdmapPlan {
    pub recursive: bool,
    /// Empty: use the container's user namespace mappings.
    pub uid: Vec<IdMap>,
    pub gid: Vec<IdMap>,
}

/// One mount, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MountPlan {
    /// Absolute path inside the container.
    pub destination: String,
    pub fstype: Option<String>,
    /// For bind mounts an absolute host path; otherwise passed to mount(2) as is.
    pub source: Option<String>,
    /// MS_* flags other than propagation.
    pub flags: u64,
    /// Non-recursive mount attributes to apply to a bind mount after it is made.
    pub bind_attr: MountAttr,
    /// Comma-separated filesystem data (options that are not flags).
    pub data: String,
    /// MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, each maybe with MS_REC, in order.
    pub propagation: Vec<u64>,
    /// The recursive `r*` options, applied with mount_setattr(AT_RECURSIVE).
    pub rec_attr: Option<MountAttr>,
    pub bind: bool,
    pub recursive_bind: bool,
    pub tmpcopyup: bool,
    pub idmap: Option<IdmapPlan>,
    /// The config's options, for messages.
    pub options: Vec<String>,
}

impl MountPlan {
    pub fn is_cgroup(&self) -> bool {
        matches!(self.fstype.as_deref(), Some("cgroup") | Some("cgroup2"))
    }
}

/// The parsed form of a mount's `options`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedOptions {
    pub flags: u64,
    pub clear: u64,
    pub data: Vec<String>,
    pub propagation: Vec<u64>,
    pub rec_set: u64,
    pub rec_clr: u64,
    pub bind: bool,
    pub recursive_bind: bool,
    pub tmpcopyup: bool,
    pub idmap: bool,
    pub ridmap: bool,
}

const MS_NOSYMFOLLOW: u64 = 256;

/// Parses mount options per the Linux mount-options table (v1.2+). Options that are not in
/// the table are filesystem data (`size=64k`, `mode=755`, ...).
#[writ_macros::requirement(
    "config.mount_options.must",
    "config.mount_options.should",
    "config.mount_options.may",
    "config.mount_options.mount8",
    "config.mount_options.custom",
    "config.mount_options.custom.mount8",
    "config.mount_options.unknown_as_data",
    "config.mount_options.tmpcopyup",
    "config.mount_options.idmap.not_passed",
    "config.mount_options.ridmap.not_passed",
    "config.mount_options.async",
    "config.mount_options.atime",
    "config.mount_options.bind",
    "config.mount_options.defaults",
    "config.mount_options.dev",
    "config.mount_options.diratime",
    "config.mount_options.dirsync",
    "config.mount_options.exec",
    "config.mount_options.iversion",
    "config.mount_options.lazytime",
    "config.mount_options.loud",
    "config.mount_options.mand",
    "config.mount_options.noatime",
    "config.mount_options.nodev",
    "config.mount_options.nodiratime",
    "config.mount_options.noexec",
    "config.mount_options.noiversion",
    "config.mount_options.nolazytime",
    "config.mount_options.nomand",
    "config.mount_options.norelatime",
    "config.mount_options.nostrictatime",
    "config.mount_options.nosuid",
    "config.mount_options.nosymfollow",
    "config.mount_options.private",
    "config.mount_options.ratime",
    "config.mount_options.rbind",
    "config.mount_options.rdev",
    "config.mount_options.rdiratime",
    "config.mount_options.relatime",
    "config.mount_options.remount",
    "config.mount_options.rexec",
    "config.mount_options.rnoatime",
    "config.mount_options.rnodiratime",
    "config.mount_options.rnoexec",
    "config.mount_options.rnorelatime",
    "config.mount_options.rnostrictatime",
    "config.mount_options.rnosuid",
    "config.mount_options.rnosymfollow",
    "config.mount_options.ro",
    "config.mount_options.rprivate",
    "config.mount_options.rrelatime",
    "config.mount_options.rro",
    "config.mount_options.rrw",
    "config.mount_options.rshared",
    "config.mount_options.rslave",
    "config.mount_options.rstrictatime",
    "config.mount_options.rsuid",
    "config.mount_options.rsymfollow",
    "config.mount_options.runbindable",
    "config.mount_options.rw",
    "config.mount_options.shared",
    "config.mount_options.silent",
    "config.mount_options.slave",
    "config.mount_options.strictatime",
    "config.mount_options.suid",
    "config.mount_options.symfollow",
    "config.mount_options.sync",
    "config.mount_options.unbindable"
)]
pub fn parse_options(options: &[String]) -> ParsedOptions {
    use libc::*;
    let mut p = ParsedOptions::default();
    for o in options {
        let (set, clr): (u64, u64) = match o.as_str() {
            "async" => (0, MS_SYNCHRONOUS),
            "atime" => (0, MS_NOATIME),
            "defaults" => (0, 0),
            "dev" => (0, MS_NODEV),
            "diratime" => (0, MS_NODIRATIME),
            "dirsync" => (MS_DIRSYNC, 0),
            "exec" => (0, MS_NOEXEC),
            "iversion" => (MS_I_VERSION, 0),
            "lazytime" => (MS_LAZYTIME, 0),
            "loud" => (0, MS_SILENT),
            "mand" => (MS_MANDLOCK, 0),
            "noatime" => (MS_NOATIME, 0),
            "nodev" => (MS_NODEV, 0),
            "nodiratime" => (MS_NODIRATIME, 0),
            "noexec" => (MS_NOEXEC, 0),
            "noiversion" => (0, MS_I_VERSION),
            "nolazytime" => (0, MS_LAZYTIME),
            "nomand" => (0, MS_MANDLOCK),
            "norelatime" => (0, MS_RELATIME),
            "nostrictatime" => (0, MS_STRICTATIME),
            "nosuid" => (MS_NOSUID, 0),
            "nosymfollow" => (MS_NOSYMFOLLOW, 0),
            "relatime" => (MS_RELATIME, 0),
            "remount" => (MS_REMOUNT, 0),
            "ro" => (MS_RDONLY, 0),
            "rw" => (0, MS_RDONLY),
            "silent" => (MS_SILENT, 0),
            "strictatime" => (MS_STRICTATIME, 0),
            "suid" => (0, MS_NOSUID),
            "symfollow" => (0, MS_NOSYMFOLLOW),
            "sync" => (MS_SYNCHRONOUS, 0),
            "bind" => {
                p.bind = true;
                continue;
            }
            "rbind" => {
                p.bind = true;
                p.recursive_bind = true;
                continue;
            }
            "tmpcopyup" => {
                p.tmpcopyup = true;
                continue;
            }
            "idmap" => {
                p.idmap = true;
                continue;
            }
            "ridmap" => {
                p.idmap = true;
                p.ridmap = true;
                continue;
            }
            _ => {
                if let Some(prop) = propagation_flag(o) {
                    p.propagation.push(prop);
                } else if let Some((s, c)) = recursive_attr(o) {
                    p.rec_set = (p.rec_set & !c) | s;
                    p.rec_clr = (p.rec_clr & !s) | c;
                } else {
                    p.data.push(o.clone());
                }
                continue;
            }
        };
        p.flags = (p.flags & !clr) | set;
        p.clear = (p.clear & !set) | clr;
    }
    p
}

/// MS_* propagation flags for `shared`, `rslave`, ...
pub fn propagation_flag(o: &str) -> Option<u64> {
    use libc::*;
    Some(match o {
        "private" => MS_PRIVATE,
        "rprivate" => MS_PRIVATE | MS_REC,
        "shared" => MS_SHARED,
        "rshared" => MS_SHARED | MS_REC,
        "slave" => MS_SLAVE,
        "rslave" => MS_SLAVE | MS_REC,
        "unbindable" => MS_UNBINDABLE,
        "runbindable" => MS_UNBINDABLE | MS_REC,
        _ => return None,
    })
}

/// (attr_set, attr_clr) of mount_setattr for a recursive option.
fn recursive_attr(o: &str) -> Option<(u64, u64)> {
    use crate::sys::*;
    let atime = |set: u64| (set, MOUNT_ATTR_ATIME_MASK);
    Some(match o {
        "rro" => (MOUNT_ATTR_RDONLY, 0),
        "rrw" => (0, MOUNT_ATTR_RDONLY),
        "rnosuid" => (MOUNT_ATTR_NOSUID, 0),
        "rsuid" => (0, MOUNT_ATTR_NOSUID),
        "rnodev" => (MOUNT_ATTR_NODEV, 0),
        "rdev" => (0, MOUNT_ATTR_NODEV),
        "rnoexec" => (MOUNT_ATTR_NOEXEC, 0),
        "rexec" => (0, MOUNT_ATTR_NOEXEC),
        "rnodiratime" => (MOUNT_ATTR_NODIRATIME, 0),
        "rdiratime" => (0, MOUNT_ATTR_NODIRATIME),
        "rnoatime" => atime(MOUNT_ATTR_NOATIME),
        "ratime" | "rrelatime" | "rnostrictatime" => atime(MOUNT_ATTR_RELATIME),
        "rstrictatime" | "rnorelatime" => atime(MOUNT_ATTR_STRICTATIME),
        "rnosymfollow" => (MOUNT_ATTR_NOSYMFOLLOW, 0),
        "rsymfollow" => (0, MOUNT_ATTR_NOSYMFOLLOW),
        _ => return None,
    })
}

/// The mount_setattr attributes equivalent to a bind mount's per-mount MS_* flags.
pub fn bind_attr(flags: u64, clear: u64) -> MountAttr {
    use crate::sys::*;
    let pairs = [
        (libc::MS_RDONLY, MOUNT_ATTR_RDONLY),
        (libc::MS_NOSUID, MOUNT_ATTR_NOSUID),
        (libc::MS_NODEV, MOUNT_ATTR_NODEV),
        (libc::MS_NOEXEC, MOUNT_ATTR_NOEXEC),
        (libc::MS_NODIRATIME, MOUNT_ATTR_NODIRATIME),
        (MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW),
    ];
    let mut a = MountAttr::default();
    for (ms, at) in pairs {
        if flags & ms != 0 {
            a.attr_set |= at;
        }
        if clear & ms != 0 {
            a.attr_clr |= at;
        }
    }
    if flags & libc::MS_NOATIME != 0 {
        a.attr_set |= MOUNT_ATTR_NOATIME;
        a.attr_clr |= MOUNT_ATTR_ATIME_MASK;
    } else if flags & libc::MS_STRICTATIME != 0 {
        a.attr_set |= MOUNT_ATTR_STRICTATIME;
        a.attr_clr |= MOUNT_ATTR_ATIME_MASK;
    } else if flags & libc::MS_RELATIME != 0 {
        a.attr_clr |= MOUNT_ATTR_ATIME_MASK;
    }
    a
}

/// Builds the plan of one mount. `bundle` anchors relative bind sources.
#[writ_macros::requirement(
    "config.mounts.destination.relative_allowed",
    "config.mounts.destination.relative_to_root",
    "config.mounts.uid_mappings.with_gid",
    "config.mounts.gid_mappings.with_uid"
)]
pub fn plan_mount(
    destination: &str,
    fstype: Option<&str>,
    source: Option<&str>,
    options: &[String],
    uid_mappings: Vec<IdMap>,
    gid_mappings: Vec<IdMap>,
    bundle: &Path,
) -> Result<MountPlan, String> {
    // Old configs may give a relative destination: it is taken from the container's "/".
    let destination = if destination.starts_with('/') {
        destination.to_string()
    } else {
        format!("/{destination}")
    };
    let destination = destination.as_str();
    let p = parse_options(options);
    let bind = p.bind || fstype == Some("bind");
    let source = match source {
        Some(s) if bind && !s.starts_with('/') => {
            Some(bundle.join(s).to_string_lossy().into_owned())
        }
        Some(s) => Some(s.to_string()),
        None => None,
    };
    if bind && source.is_none() {
        return Err("a bind mount needs a source".into());
    }
    let idmap = if p.idmap || !uid_mappings.is_empty() || !gid_mappings.is_empty() {
        if !bind {
            return Err("idmapped mounts are supported for bind mounts only".into());
        }
        if uid_mappings.is_empty() != gid_mappings.is_empty() {
            return Err("uidMappings and gidMappings must be given together".into());
        }
        Some(IdmapPlan {
            recursive: p.ridmap,
            uid: uid_mappings,
            gid: gid_mappings,
        })
    } else {
        None
    };
    let rec_attr = (p.rec_set != 0 || p.rec_clr != 0).then_some(MountAttr {
        attr_set: p.rec_set,
        attr_clr: p.rec_clr,
        ..Default::default()
    });
    Ok(MountPlan {
        destination: destination.to_string(),
        fstype: fstype.map(str::to_string),
        source,
        flags: p.flags,
        bind_attr: bind_attr(p.flags, p.clear),
        data: p.data.join(","),
        propagation: p.propagation,
        rec_attr,
        bind,
        recursive_bind: p.recursive_bind,
        tmpcopyup: p.tmpcopyup,
        idmap,
        options: options.to_vec(),
    })
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

fn mount_err(m: &MountPlan, what: &str, e: Errno) -> String {
    format!(
        "mounting {} on {} (type {}, options {:?}): {what}: {}",
        m.source.as_deref().unwrap_or("none"),
        m.destination,
        m.fstype.as_deref().unwrap_or("none"),
        m.options.join(","),
        errno_text(e)
    )
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
pub fn mount_one(root: &Root, m: &MountPlan, idx: usize, ctx: &MountCtx) -> Result<(), String> {
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
        if m.bind_attr != MountAttr::default() {
            let top = root
                .resolve(rel)
                .map_err(|e| mount_err(m, "reopening", e))?;
            sys::mount_setattr(top.as_fd(), false, &m.bind_attr)
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
                sys::mount_setattr(top.as_fd(), true, &bind_attr(m.flags, 0))
                    .map_err(|e| mount_err(m, "setting attributes of /sys", e))?;
            }
            Err(e) => return Err(mount_err(m, "mount", e)),
        }
        if m.tmpcopyup {
            let top = root
                .resolve(rel)
                .map_err(|e| mount_err(m, "reopening", e))?;
            copy_dir(dest.as_fd(), top.as_fd())
                .map_err(|e| format!("tmpcopyup of {}: {e}", m.destination))?;
            if ro_later {
                let attr = MountAttr {
                    attr_set: sys::MOUNT_ATTR_RDONLY,
                    ..Default::default()
                };
                sys::mount_setattr(top.as_fd(), false, &attr)
                    .map_err(|e| mount_err(m, "making read-only", e))?;
            }
        }
    }
    finish_mount(root, m)
}

/// Propagation and recursive attributes, on the mount now at the destination.
fn finish_mount(root: &Root, m: &MountPlan) -> Result<(), String> {
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
    if let Some(a) = &m.rec_attr {
        sys::mount_setattr(top.as_fd(), true, a)
            .map_err(|e| mount_err(m, "setting recursive attributes", e))?;
    }
    Ok(())
}

/// A mount of type `cgroup`/`cgroup2`: the container's own cgroups, on any host layout.
fn mount_cgroup(root: &Root, m: &MountPlan, view: &CgroupView) -> Result<(), String> {
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
                sys::mount_setattr(sub_top.as_fd(), true, &bind_attr(base, 0))
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
        let attr = MountAttr {
            attr_set: sys::MOUNT_ATTR_RDONLY,
            ..Default::default()
        };
        sys::mount_setattr(top.as_fd(), true, &attr).map_err(|e| mount_err(m, "read-only", e))?;
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
/// tmpfs) into `to` (the tmpfs), keeping modes and owners: podman's `tmpcopyup`.
fn copy_dir(from: BorrowedFd, to: BorrowedFd) -> Result<(), String> {
    use rustix::fs::{self as fs, AtFlags, FileType, Mode, OFlags};
    let errs = |what: &str, e: rustix::io::Errno| {
        format!("{what}: {}", errno_text(Errno::from_raw(e.raw_os_error())))
    };
    let src = fs::openat(
        from,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errs("opening source", e))?;
    let st = fs::fstat(&src).map_err(|e| errs("stat", e))?;
    let dst = fs::openat(
        to,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errs("opening target", e))?;
    let _ = fs::fchmod(&dst, Mode::from_raw_mode(st.st_mode & 0o7777));
    let _ = fs::fchown(
        &dst,
        Some(fs::Uid::from_raw(st.st_uid)),
        Some(fs::Gid::from_raw(st.st_gid)),
    );
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
#[writ_macros::requirement("config_linux.masked_paths.absolute")]
pub fn mask_paths(root: &Root, paths: &[String], devnull: BorrowedFd) -> Result<(), String> {
    for p in paths {
        let fd = match root.resolve(p) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(format!("masking {p}: {}", errno_text(e))),
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
        r.map_err(|e| format!("masking {p}: {}", errno_text(e)))?;
    }
    Ok(())
}

/// readonlyPaths: bind each path onto itself and make it read-only (recursively).
#[writ_macros::requirement("config_linux.readonly_paths.absolute")]
pub fn readonly_paths(root: &Root, paths: &[String]) -> Result<(), String> {
    for p in paths {
        let fd = match root.resolve(p) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(format!("making {p} read-only: {}", errno_text(e))),
        };
        let fp = fd_path(fd.as_fd());
        raw_mount(Some(&fp), &fp, None, libc::MS_BIND | libc::MS_REC, None)
            .map_err(|e| format!("making {p} read-only: bind: {}", errno_text(e)))?;
        let top = root
            .resolve(p)
            .map_err(|e| format!("making {p} read-only: {}", errno_text(e)))?;
        make_readonly(top.as_fd(), true)
            .map_err(|e| format!("making {p} read-only: {}", errno_text(e)))?;
    }
    Ok(())
}

/// Sets MOUNT_ATTR_RDONLY on the mount `fd` refers to.
pub fn make_readonly(fd: BorrowedFd, recursive: bool) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set: sys::MOUNT_ATTR_RDONLY,
        ..Default::default()
    };
    sys::mount_setattr(fd, recursive, &attr)
}

/// A user namespace with the given mappings, for idmapped mounts: a short-lived helper
/// child unshares it, the caller writes its maps and keeps an fd of it.
pub fn make_userns(uid: &[IdMap], gid: &[IdMap]) -> Result<OwnedFd, String> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(errno_text)?;
    let pid = match sys::fork_with_flags(libc::CLONE_NEWUSER as u64).map_err(|e| {
        format!(
            "creating a user namespace for an idmapped mount: {}",
            errno_text(e)
        )
    })? {
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
        .map_err(|e| format!("opening idmap user namespace: {}", errno_text(e)))
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
) -> Result<Vec<(usize, OwnedFd)>, String> {
    let mut out = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        let Some(idm) = &m.idmap else { continue };
        let (uid, gid) = if idm.uid.is_empty() {
            (container_uid, container_gid)
        } else {
            (idm.uid.as_slice(), idm.gid.as_slice())
        };
        if uid.is_empty() {
            return Err(format!(
                "idmapped mount on {}: no uidMappings on the mount and no user namespace mappings",
                m.destination
            ));
        }
        let userns = make_userns(uid, gid)?;
        let src = m.source.as_deref().unwrap_or_default();
        let tree = sys::open_tree_clone(src, m.recursive_bind)
            .map_err(|e| mount_err(m, "open_tree", e))?;
        let attr = MountAttr {
            attr_set: sys::MOUNT_ATTR_IDMAP,
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

    fn opts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[writ_macros::verifies(
        "config.mount_options.unknown_as_data",
        "config.mount_options.nosuid",
        "config.mount_options.noexec",
        "config.mount_options.ro",
        "config.mount_options.rw",
        "config.mount_options.rslave"
    )]
    #[test]
    fn flags_data_and_propagation_are_separated() {
        let p = parse_options(&opts(&[
            "nosuid",
            "noexec",
            "mode=755",
            "size=65536k",
            "rslave",
            "ro",
        ]));
        assert_eq!(p.flags, libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_RDONLY);
        assert_eq!(p.data, vec!["mode=755", "size=65536k"]);
        assert_eq!(p.propagation, vec![libc::MS_SLAVE | libc::MS_REC]);
        // Later options win.
        let p = parse_options(&opts(&["ro", "rw"]));
        assert_eq!(p.flags & libc::MS_RDONLY, 0);
        assert_eq!(p.clear & libc::MS_RDONLY, libc::MS_RDONLY);
    }

    #[writ_macros::verifies(
        "config.mount_options.rro",
        "config.mount_options.rrw",
        "config.mount_options.rnosuid",
        "config.mount_options.rnoatime",
        "config.mount_options.rbind"
    )]
    #[test]
    fn recursive_options_become_mount_attrs() {
        let p = parse_options(&opts(&["rbind", "rro", "rnosuid", "rnoatime"]));
        assert!(p.bind && p.recursive_bind);
        assert_eq!(
            p.rec_set,
            sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOATIME
        );
        assert_eq!(p.rec_clr, sys::MOUNT_ATTR_ATIME_MASK);
        let p = parse_options(&opts(&["rro", "rrw"]));
        assert_eq!(p.rec_set, 0);
        assert_eq!(p.rec_clr, sys::MOUNT_ATTR_RDONLY);
    }

    #[test]
    fn podman_options_parse() {
        let p = parse_options(&opts(&["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]));
        assert!(p.tmpcopyup);
        assert_eq!(p.flags, libc::MS_NOSUID | libc::MS_NODEV);
        assert_eq!(p.propagation, vec![libc::MS_PRIVATE | libc::MS_REC]);
    }

    #[writ_macros::verifies(
        "config.mounts.destination.relative_to_root",
        "config.mounts.destination.relative_allowed"
    )]
    #[test]
    fn bind_sources_are_anchored_at_the_bundle() {
        let m = plan_mount(
            "/data",
            None,
            Some("data"),
            &opts(&["bind", "ro"]),
            vec![],
            vec![],
            Path::new("/b"),
        )
        .unwrap();
        assert_eq!(m.source.as_deref(), Some("/b/data"));
        assert!(m.bind && !m.recursive_bind);
        assert_eq!(m.bind_attr.attr_set, sys::MOUNT_ATTR_RDONLY);
        let rel = plan_mount(
            "rel/x",
            Some("tmpfs"),
            None,
            &[],
            vec![],
            vec![],
            Path::new("/b"),
        );
        assert_eq!(rel.unwrap().destination, "/rel/x");
        assert!(plan_mount(
            "/x",
            Some("tmpfs"),
            None,
            &opts(&["idmap"]),
            vec![],
            vec![],
            Path::new("/b")
        )
        .is_err());
    }
}
