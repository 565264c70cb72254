//! Linux namespaces (config-linux.md#namespaces): joining them by path, creating them,
//! and writing the uid/gid maps and time offsets of new ones (the plan is
//! `crate::plan::namespaces`).

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

pub use crate::plan::namespaces::{flag_names, NamespaceKind, NamespacePlan};
use crate::plan::{IdMap, TimeOffset};
use crate::sys::{Context, Errno, SysError};

/// A namespace file opened for setns.
pub struct JoinFd {
    pub kind: NamespaceKind,
    pub path: PathBuf,
    pub fd: OwnedFd,
}

/// Opens every namespace path to join (in the caller's mount namespace, before anything
/// changes), user namespace first.
#[writ_macros::requirement("config_linux.namespaces.path.join")]
pub fn open_joins(nss: &[NamespacePlan]) -> Result<Vec<JoinFd>, SysError> {
    let mut out = Vec::new();
    let mut sorted: Vec<&NamespacePlan> = nss.iter().filter(|n| n.path.is_some()).collect();
    sorted.sort_by_key(|n| n.kind);
    for ns in sorted {
        let Some(path) = &ns.path else { continue };
        let fd = nix::fcntl::open(
            path.as_path(),
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .with_ctx(|| {
            format!(
                "opening {} namespace {}",
                ns.kind.config_name(),
                path.display()
            )
        })?;
        out.push(JoinFd {
            kind: ns.kind,
            path: path.clone(),
            fd,
        });
    }
    Ok(out)
}

/// setns into one opened namespace.
#[writ_macros::requirement("config_linux.namespaces.path.type_mismatch")]
pub fn join(j: &JoinFd) -> Result<(), SysError> {
    let flag = nix::sched::CloneFlags::from_bits_retain(j.kind.clone_flag() as i32);
    nix::sched::setns(j.fd.as_fd(), flag).map_err(|e| {
        let what = format!(
            "joining {} namespace {}",
            j.kind.config_name(),
            j.path.display()
        );
        let e = SysError::new(what, e);
        if e.errno() == Errno::EINVAL {
            e.hint(" (is it a namespace of that type?)")
        } else {
            e
        }
    })
}

/// Writes uid/gid maps of a process in a new user namespace (done by the parent, which
/// holds the privileges in the outer namespace). The rootfs is never chowned to fit them.
#[writ_macros::requirement("config_linux.id_mappings.no_chown")]
pub fn write_id_maps(pid: i32, uid: &[IdMap], gid: &[IdMap]) -> Result<(), SysError> {
    let base = PathBuf::from(format!("/proc/{pid}"));
    if !gid.is_empty() {
        write_map(&base.join("gid_map"), gid)?;
    }
    if !uid.is_empty() {
        write_map(&base.join("uid_map"), uid)?;
    }
    Ok(())
}

fn write_map(path: &Path, maps: &[IdMap]) -> Result<(), SysError> {
    let text = crate::plan::namespaces::id_map_text(maps);
    crate::sys::write_file(path, text.as_bytes()).with_ctx(|| {
        format!(
            "writing {} ({})",
            path.display(),
            text.trim_end().replace('\n', ", ")
        )
    })
}

/// Writes the time namespace offsets of the calling process's *children* time namespace
/// (after unshare(CLONE_NEWTIME), before any process has entered it).
pub fn write_time_offsets(offsets: &[TimeOffset]) -> Result<(), SysError> {
    if offsets.is_empty() {
        return Ok(());
    }
    let text = crate::plan::namespaces::time_offsets_text(offsets);
    crate::sys::write_file(Path::new("/proc/self/timens_offsets"), text.as_bytes())
        .ctx("writing time offsets")
}

/// unshare(2) with a message.
pub fn unshare(flags: u64) -> Result<(), SysError> {
    if flags == 0 {
        return Ok(());
    }
    nix::sched::unshare(nix::sched::CloneFlags::from_bits_retain(flags as i32))
        .with_ctx(|| format!("creating namespaces ({})", flag_names(flags)))
}

/// An fd of the caller's own namespace of a kind, to return to after a temporary setns.
pub fn own(kind: NamespaceKind) -> Result<OwnedFd, Errno> {
    nix::fcntl::open(
        format!("/proc/self/ns/{}", kind.proc_name()).as_str(),
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
}
