//! The plan of the namespaces (config-linux.md#namespaces), the user namespace's id
//! mappings (#user-namespace-mappings), the hostname and domainname (config.md#hostname)
//! and the time offsets (#offset-for-time-namespace).

use std::path::PathBuf;

use super::{invalid, unsupported, PlanError};

/// The eight namespace types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NamespaceKind {
    /// A user namespace.
    User,
    /// A mount namespace.
    Mount,
    /// A pid namespace.
    Pid,
    /// A network namespace.
    Network,
    /// An IPC namespace.
    Ipc,
    /// A UTS namespace (hostname, domainname).
    Uts,
    /// A cgroup namespace.
    Cgroup,
    /// A time namespace.
    Time,
}

impl NamespaceKind {
    /// Every kind, in the order namespaces are joined (user first).
    pub const ALL: [NamespaceKind; 8] = [
        NamespaceKind::User,
        NamespaceKind::Mount,
        NamespaceKind::Pid,
        NamespaceKind::Network,
        NamespaceKind::Ipc,
        NamespaceKind::Uts,
        NamespaceKind::Cgroup,
        NamespaceKind::Time,
    ];

    /// From the config's `type` value.
    pub fn from_config(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.config_name() == s)
    }

    /// The config's `type` value.
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

/// Names of the namespace kinds in a flag set, for messages.
pub fn flag_names(flags: u64) -> String {
    NamespaceKind::ALL
        .iter()
        .filter(|k| flags & k.clone_flag() != 0)
        .map(|k| k.config_name())
        .collect::<Vec<_>>()
        .join(",")
}

/// One namespace of the config: new when `path` is `None`, else joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePlan {
    /// Its type.
    pub kind: NamespaceKind,
    /// The namespace file to join, or `None` for a new namespace.
    pub path: Option<PathBuf>,
}

/// One uid/gid mapping line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    /// First id inside the namespace.
    pub container_id: u32,
    /// First id outside.
    pub host_id: u32,
    /// How many ids.
    pub size: u32,
}

/// Renders mappings in the format of /proc/PID/uid_map.
pub fn id_map_text(maps: &[IdMap]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

/// A timeOffsets entry: clock name ("monotonic" or "boottime"), seconds, nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeOffset {
    /// "monotonic" or "boottime".
    pub clock: String,
    /// Seconds.
    pub secs: i64,
    /// Nanoseconds.
    pub nanosecs: u32,
}

/// Renders offsets in the format of /proc/PID/timens_offsets.
pub fn time_offsets_text(offsets: &[TimeOffset]) -> String {
    offsets
        .iter()
        .map(|o| format!("{} {} {}\n", o.clock, o.secs, o.nanosecs))
        .collect()
}

/// How the container's init gets its namespaces, decided from the plan alone.
///
/// The fast path is one clone with the new user and pid namespaces, the other new ones
/// unshared by the child (creating them, a network namespace costs milliseconds,
/// overlaps with create joining the cgroup). When a user namespace is joined, or a new
/// one must be created after joining others, the child instead joins and unshares in
/// stages (and forks again for a new pid namespace). The pid and time namespaces to join
/// are joined by create itself (they apply to children); a new time namespace is
/// unshared by create too; a new cgroup namespace is unshared by the child once it is in
/// its cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NamespaceSteps {
    /// CLONE_NEW* flags of the clone.
    pub clone_flags: u64,
    /// CLONE_NEW* flags the child unshares after its joins.
    pub child_unshare: u64,
    /// The child joins and unshares in stages.
    pub staged: bool,
    /// The user namespace is new.
    pub new_userns: bool,
}

impl NamespaceSteps {
    /// Whether the clone itself makes the new user namespace (create then writes its id
    /// maps before letting the child go on).
    pub fn cloned_userns(&self) -> bool {
        self.clone_flags & NamespaceKind::User.clone_flag() != 0
    }

    /// Whether `kind` is joined by create rather than by the child.
    pub fn joined_by_create(kind: NamespaceKind) -> bool {
        matches!(kind, NamespaceKind::Pid | NamespaceKind::Time)
    }

    /// The steps for these namespaces.
    pub fn of(namespaces: &[NamespacePlan]) -> NamespaceSteps {
        let get = |k: NamespaceKind| namespaces.iter().find(|n| n.kind == k);
        let new = |k: NamespaceKind| get(k).is_some_and(|n| n.path.is_none());
        let new_userns = new(NamespaceKind::User);
        let user_joined = get(NamespaceKind::User).is_some_and(|n| n.path.is_some());
        let others_joined = namespaces.iter().any(|n| {
            n.path.is_some() && n.kind != NamespaceKind::User && !Self::joined_by_create(n.kind)
        });
        // A new cgroup namespace is made once the init is in its cgroup, a new time
        // namespace by create (it applies to children): neither is in these flags.
        let new_flags = NamespaceKind::ALL
            .into_iter()
            .filter(|k| !matches!(k, NamespaceKind::Cgroup | NamespaceKind::Time))
            .filter(|k| new(*k))
            .fold(0, |flags, k| flags | k.clone_flag());
        let staged = user_joined || (new_userns && others_joined);
        let (clone_flags, child_unshare) = if staged {
            (0, new_flags)
        } else {
            let in_clone = NamespaceKind::Pid.clone_flag() | NamespaceKind::User.clone_flag();
            (new_flags & in_clone, new_flags & !in_clone)
        };
        NamespaceSteps {
            clone_flags,
            child_unshare,
            staged,
            new_userns,
        }
    }
}

pub(super) fn id_maps(v: &Option<Vec<writ_spec::IdMapping>>) -> Vec<IdMap> {
    v.iter()
        .flatten()
        .map(|m| IdMap {
            container_id: m.container_id,
            host_id: m.host_id,
            size: m.size,
        })
        .collect()
}

/// The namespaces part of a plan.
pub(super) struct Namespaces {
    pub namespaces: Vec<NamespacePlan>,
    pub uid_mappings: Vec<IdMap>,
    pub gid_mappings: Vec<IdMap>,
    pub time_offsets: Vec<TimeOffset>,
}

impl Namespaces {
    pub fn get(&self, k: NamespaceKind) -> Option<&NamespacePlan> {
        self.namespaces.iter().find(|n| n.kind == k)
    }

    pub fn is_new(&self, k: NamespaceKind) -> bool {
        self.get(k).is_some_and(|n| n.path.is_none())
    }
}

fn kind_of(t: writ_spec::LinuxNamespaceType, i: usize) -> Result<NamespaceKind, PlanError> {
    use writ_spec::LinuxNamespaceType as T;
    Ok(match t {
        T::Mount => NamespaceKind::Mount,
        T::Pid => NamespaceKind::Pid,
        T::Network => NamespaceKind::Network,
        T::Uts => NamespaceKind::Uts,
        T::Ipc => NamespaceKind::Ipc,
        T::User => NamespaceKind::User,
        T::Cgroup => NamespaceKind::Cgroup,
        T::Time => NamespaceKind::Time,
        other => return Err(unsupported(format!("/linux/namespaces/{i}/type"), other)),
    })
}

/// The namespaces, id mappings and time offsets. Types listed once and absolute paths
/// are writ-spec's rules (checked before); what is checked here is what writ needs.
pub(super) fn namespaces_of(
    spec: &writ_spec::Spec,
    linux: &writ_spec::Linux,
) -> Result<Namespaces, PlanError> {
    let namespaces = linux
        .namespaces
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, ns)| {
            Ok(NamespacePlan {
                kind: kind_of(ns.type_, i)?,
                path: ns
                    .path
                    .as_deref()
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from),
            })
        })
        .collect::<Result<_, PlanError>>()?;
    let mut n = Namespaces {
        namespaces,
        uid_mappings: id_maps(&linux.uid_mappings),
        gid_mappings: id_maps(&linux.gid_mappings),
        time_offsets: Vec::new(),
    };
    check_mappings(&n)?;
    for (ptr, value) in [
        ("/hostname", &spec.hostname),
        ("/domainname", &spec.domainname),
    ] {
        // In a uts namespace of its own or joined by path (as runc and crun do); never
        // in the runtime's, which would rename the host.
        if value.as_deref().is_some_and(|h| !h.is_empty()) && n.get(NamespaceKind::Uts).is_none() {
            let what = ptr.trim_start_matches('/');
            return Err(invalid(
                ptr,
                format!("setting the {what} needs a uts namespace (new or joined by path), not the runtime's"),
            ));
        }
    }
    n.time_offsets = time_offsets_of(linux);
    if !n.time_offsets.is_empty() && !n.is_new(NamespaceKind::Time) {
        return Err(invalid(
            "/linux/timeOffsets",
            "time offsets need a new time namespace",
        ));
    }
    Ok(n)
}

fn check_mappings(n: &Namespaces) -> Result<(), PlanError> {
    let no_maps = n.uid_mappings.is_empty() || n.gid_mappings.is_empty();
    if n.is_new(NamespaceKind::User) && no_maps {
        return Err(invalid(
            "/linux/uidMappings",
            "a new user namespace needs uidMappings and gidMappings",
        ));
    }
    let any_maps = !n.uid_mappings.is_empty() || !n.gid_mappings.is_empty();
    if n.get(NamespaceKind::User).is_none() && any_maps {
        return Err(invalid(
            "/linux/uidMappings",
            "id mappings are given but there is no user namespace",
        ));
    }
    Ok(())
}

fn time_offsets_of(linux: &writ_spec::Linux) -> Vec<TimeOffset> {
    let Some(t) = &linux.time_offsets else {
        return Vec::new();
    };
    [("monotonic", &t.monotonic), ("boottime", &t.boottime)]
        .into_iter()
        .filter_map(|(clock, o)| {
            o.as_ref().map(|o| TimeOffset {
                clock: clock.to_string(),
                secs: o.secs.unwrap_or(0),
                nanosecs: o.nanosecs.unwrap_or(0),
            })
        })
        .collect()
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

    fn ns(list: &[(NamespaceKind, bool)]) -> Vec<NamespacePlan> {
        list.iter()
            .map(|&(kind, joined)| NamespacePlan {
                kind,
                path: joined.then(|| PathBuf::from("/proc/1/ns/x")),
            })
            .collect()
    }

    #[test]
    fn namespaces_come_with_the_clone_or_in_stages() {
        use NamespaceKind::*;
        let flag = |ks: &[NamespaceKind]| ks.iter().fold(0, |f, k| f | k.clone_flag());
        // New user and pid namespaces come with the clone, the others are unshared.
        let s = NamespaceSteps::of(&ns(&[
            (User, false),
            (Mount, false),
            (Pid, false),
            (Network, false),
            (Cgroup, false),
        ]));
        assert!(!s.staged && s.new_userns && s.cloned_userns());
        assert_eq!(s.clone_flags, flag(&[User, Pid]));
        assert_eq!(s.child_unshare, flag(&[Mount, Network]));
        // A joined user namespace: everything in stages, nothing in the clone.
        let s = NamespaceSteps::of(&ns(&[(User, true), (Mount, false), (Pid, false)]));
        assert!(s.staged && !s.new_userns && !s.cloned_userns());
        assert_eq!((s.clone_flags, s.child_unshare), (0, flag(&[Mount, Pid])));
        // A new user namespace after joining a network namespace: in stages.
        let s = NamespaceSteps::of(&ns(&[(User, false), (Network, true), (Mount, false)]));
        assert!(s.staged && s.new_userns);
        assert_eq!(s.child_unshare, flag(&[User, Mount]));
        // Joining a pid namespace is create's job: no stages for it.
        let s = NamespaceSteps::of(&ns(&[(User, false), (Pid, true), (Mount, false)]));
        assert!(!s.staged);
        assert_eq!(s.clone_flags, flag(&[User]));
        assert!(NamespaceSteps::joined_by_create(Time));
        assert!(!NamespaceSteps::joined_by_create(Network));
    }

    #[test]
    fn id_maps_and_offsets_render_like_proc() {
        let m = [
            IdMap {
                container_id: 0,
                host_id: 1000,
                size: 1,
            },
            IdMap {
                container_id: 1,
                host_id: 100000,
                size: 65536,
            },
        ];
        assert_eq!(id_map_text(&m), "0 1000 1\n1 100000 65536\n");
        let o = [TimeOffset {
            clock: "boottime".into(),
            secs: -5,
            nanosecs: 7,
        }];
        assert_eq!(time_offsets_text(&o), "boottime -5 7\n");
    }
}
