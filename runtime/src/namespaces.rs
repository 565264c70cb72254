//! Linux namespaces (config-linux.md#namespaces): which to create, which to join by path,
//! and the uid/gid maps and time offsets written for new ones.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::plan::{IdMap, TimeOffset};
use crate::sys::{errno_text, Errno};

/// The eight namespace types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NamespaceKind {
    User,
    Mount,
    Pid,
    Network,
    Ipc,
    Uts,
    Cgroup,
    Time,
}

impl NamespaceKind {
    /// From the config's `type` value.
    pub fn from_config(s: &str) -> Option<Self> {
        Some(match s {
            "user" => Self::User,
            "mount" => Self::Mount,
            "pid" => Self::Pid,
            "network" => Self::Network,
            "ipc" => Self::Ipc,
            "uts" => Self::Uts,
            "cgroup" => Self::Cgroup,
            "time" => Self::Time,
            _ => return None,
        })
    }

    pub fn config_name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Mount => "mount",
            Self::Pid => "pid",
            Self::Network => "network",
            Self::Ipc => "ipc",
            Self::Uts => "uts",
            Self::Cgroup => "cgroup",
            Self::Time => "time",
        }
    }

    /// The CLONE_NEW* flag.
    pub fn clone_flag(self) -> u64 {
        (match self {
            Self::User => libc::CLONE_NEWUSER,
            Self::Mount => libc::CLONE_NEWNS,
            Self::Pid => libc::CLONE_NEWPID,
            Self::Network => libc::CLONE_NEWNET,
            Self::Ipc => libc::CLONE_NEWIPC,
            Self::Uts => libc::CLONE_NEWUTS,
            Self::Cgroup => libc::CLONE_NEWCGROUP,
            Self::Time => libc::CLONE_NEWTIME,
        }) as u32 as u64
    }

    /// The entry under /proc/PID/ns/.
    pub fn proc_name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Mount => "mnt",
            Self::Pid => "pid",
            Self::Network => "net",
            Self::Ipc => "ipc",
            Self::Uts => "uts",
            Self::Cgroup => "cgroup",
            Self::Time => "time",
        }
    }
}

/// One namespace of the config: new when `path` is `None`, else joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePlan {
    pub kind: NamespaceKind,
    pub path: Option<PathBuf>,
}

/// A namespace file opened for setns.
pub struct JoinFd {
    pub kind: NamespaceKind,
    pub path: PathBuf,
    pub fd: OwnedFd,
}

/// Opens every namespace path to join (in the caller's mount namespace, before anything
/// changes), user namespace first.
#[writ_macros::requirement(
    "config_linux.namespaces.path.join",
    "config_linux.namespaces.path.absolute"
)]
pub fn open_joins(nss: &[NamespacePlan]) -> Result<Vec<JoinFd>, String> {
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
        .map_err(|e| {
            format!(
                "opening {} namespace {}: {}",
                ns.kind.config_name(),
                path.display(),
                errno_text(e)
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
pub fn join(j: &JoinFd) -> Result<(), String> {
    let flag = nix::sched::CloneFlags::from_bits_retain(j.kind.clone_flag() as i32);
    nix::sched::setns(j.fd.as_fd(), flag).map_err(|e| {
        let why = if e == Errno::EINVAL {
            "invalid argument (is it a namespace of that type?)".to_string()
        } else {
            errno_text(e)
        };
        format!(
            "joining {} namespace {}: {why}",
            j.kind.config_name(),
            j.path.display()
        )
    })
}

/// Writes uid/gid maps of a process in a new user namespace (done by the parent, which
/// holds the privileges in the outer namespace). The rootfs is never chowned to fit them.
#[writ_macros::requirement("config_linux.id_mappings.no_chown")]
pub fn write_id_maps(pid: i32, uid: &[IdMap], gid: &[IdMap]) -> Result<(), String> {
    let base = PathBuf::from(format!("/proc/{pid}"));
    if !gid.is_empty() {
        write_map(&base.join("gid_map"), gid)?;
    }
    if !uid.is_empty() {
        write_map(&base.join("uid_map"), uid)?;
    }
    Ok(())
}

fn write_map(path: &Path, maps: &[IdMap]) -> Result<(), String> {
    let text = crate::plan::id_map_text(maps);
    crate::sys::write_file(path, text.as_bytes()).map_err(|e| {
        format!(
            "writing {} ({}): {}",
            path.display(),
            text.trim_end().replace('\n', ", "),
            crate::sys::io_text(&e)
        )
    })
}

/// Writes the time namespace offsets of the calling process's *children* time namespace
/// (after unshare(CLONE_NEWTIME), before any process has entered it).
pub fn write_time_offsets(offsets: &[TimeOffset]) -> Result<(), String> {
    if offsets.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for o in offsets {
        text.push_str(&format!("{} {} {}\n", o.clock, o.secs, o.nanosecs));
    }
    crate::sys::write_file(Path::new("/proc/self/timens_offsets"), text.as_bytes())
        .map_err(|e| format!("writing time offsets: {}", crate::sys::io_text(&e)))
}

/// unshare(2) with a message.
pub fn unshare(flags: u64) -> Result<(), String> {
    if flags == 0 {
        return Ok(());
    }
    nix::sched::unshare(nix::sched::CloneFlags::from_bits_retain(flags as i32)).map_err(|e| {
        format!(
            "creating namespaces ({}): {}",
            flag_names(flags),
            errno_text(e)
        )
    })
}

/// Names of the namespace kinds in a flag set, for messages.
pub fn flag_names(flags: u64) -> String {
    let all = [
        NamespaceKind::User,
        NamespaceKind::Mount,
        NamespaceKind::Pid,
        NamespaceKind::Network,
        NamespaceKind::Ipc,
        NamespaceKind::Uts,
        NamespaceKind::Cgroup,
        NamespaceKind::Time,
    ];
    all.iter()
        .filter(|k| flags & k.clone_flag() != 0)
        .map(|k| k.config_name())
        .collect::<Vec<_>>()
        .join(",")
}

/// An fd of the caller's own namespace of a kind, to return to after a temporary setns.
pub fn own(kind: NamespaceKind) -> Result<OwnedFd, Errno> {
    nix::fcntl::open(
        format!("/proc/self/ns/{}", kind.proc_name()).as_str(),
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_config_type_maps_to_a_distinct_flag() {
        let names = [
            "user", "mount", "pid", "network", "ipc", "uts", "cgroup", "time",
        ];
        let mut seen = 0u64;
        for n in names {
            let k = NamespaceKind::from_config(n).unwrap();
            assert_eq!(k.config_name(), n);
            assert_eq!(seen & k.clone_flag(), 0);
            seen |= k.clone_flag();
        }
        assert_eq!(NamespaceKind::from_config("nope"), None);
        assert_eq!(flag_names(seen), names.join(","));
    }
}
