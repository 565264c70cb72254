//! How the container's init gets into its cgroup without waiting for an RCU grace period.
//!
//! Writing a pid into `cgroup.procs` (v1 or v2) moves a whole thread group, so the kernel
//! write-locks `cgroup_threadgroup_rwsem`, a per-cpu rwsem: unless the cgroup root was
//! mounted with `favordynmods`, taking it for writing waits for an RCU grace period.
//! Measured on this project's 2-core host (kernel 6.18, load 5-11): 5-12 ms for the first
//! such write of a `create`, 15-30 µs for the next ones (the grace period is still fresh);
//! it was 40-50% of `create`'s time, and crun pays it too.
//!
//! A thread that writes `0` into a v1 hierarchy's `tasks` file moves only itself, and the
//! kernel then takes no threadgroup lock at all (it only needs the lock to keep another
//! thread group stable): 25-35 µs here, whatever the load. The init is single-threaded
//! (a fork of create, which starts no threads), so moving its one thread moves the
//! process. So on v1 hierarchies the init joins by itself, right after create's `Go`
//! (the directories exist and carry their resources by then), and create writes the pid
//! only where that cannot be done:
//!
//! - a container with a user namespace: its init cannot write the host's cgroup files.
//! - cgroup2 hierarchies (hybrid and v2-only hosts), where `cgroup.threads` moves single
//!   threads only inside a threaded subtree. There create makes the cgroup before the
//!   clone (recorded in the state first, so a killed create still leaves nothing
//!   `delete` cannot find) and clones the init into it (clone3 with CLONE_INTO_CGROUP,
//!   Linux 5.7: the kernel only read-locks the threadgroup lock for a fork); where the
//!   kernel refuses that, create clones as before and writes `cgroup.procs`.
//!
//! The init opens the files by the paths create recorded while it still shares create's
//! mount namespace (it joins or unshares namespaces only after `Go`).

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use super::record::{CgroupState, Hierarchy};
use super::{CgroupError, Version};
use crate::sys::SysError;

/// The v1 `tasks` files the init writes `0` into (empty: create adds the init everywhere),
/// and whether create cloned it into its cgroup2 directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfJoin {
    tasks: Vec<PathBuf>,
    cloned_into_v2: bool,
}

/// The container's cgroup2 directory (made already), opened for CLONE_INTO_CGROUP; `None`
/// on a host without cgroup2.
pub fn clone_target(state: &CgroupState) -> Result<Option<OwnedFd>, CgroupError> {
    use rustix::fs::{Mode, OFlags};
    let Some(h) = state.v2() else {
        return Ok(None);
    };
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::open(&h.path, flags, Mode::empty())
        .map(Some)
        .map_err(|e| CgroupError::Read {
            file: h.path.clone(),
            source: e.into(),
        })
}

impl SelfJoin {
    /// The v1 hierarchies of `state`, joined by the init itself.
    pub fn of(state: &CgroupState) -> SelfJoin {
        SelfJoin {
            tasks: state
                .hierarchies
                .iter()
                .filter(|h| h.version == Version::V1)
                .map(|h| h.path.join("tasks"))
                .collect(),
            cloned_into_v2: false,
        }
    }

    /// The same, the init having been cloned into the cgroup2 directory.
    pub fn cloned_into_v2(self) -> SelfJoin {
        SelfJoin {
            cloned_into_v2: true,
            ..self
        }
    }

    /// Whether the init is in `h` without create writing its pid there.
    pub fn covers(&self, h: &Hierarchy) -> bool {
        match h.version {
            Version::V1 => self.tasks.iter().any(|t| t.parent() == Some(&h.path)),
            Version::V2 => self.cloned_into_v2,
        }
    }

    /// Moves the calling thread (the init) into every hierarchy it covers.
    pub fn join(&self) -> Result<(), SysError> {
        for t in &self.tasks {
            crate::sys::write_file(t, b"0")
                .map_err(|e| SysError::new(format!("init: joining {}", t.display()), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::record::Driver;
    use std::path::Path;

    fn hierarchy(name: &str, version: Version) -> Hierarchy {
        Hierarchy {
            name: name.into(),
            version,
            controllers: if version == Version::V1 {
                vec![name.into()]
            } else {
                Vec::new()
            },
            mount: Path::new("/sys/fs/cgroup").join(name),
            path: Path::new("/sys/fs/cgroup").join(name).join("c1"),
            created: Vec::new(),
        }
    }

    fn cgroup_state(hierarchies: Vec<Hierarchy>) -> CgroupState {
        CgroupState {
            driver: Driver::Cgroupfs,
            relative: "c1".into(),
            hierarchies,
        }
    }

    #[test]
    fn v1_hierarchies_are_joined_by_the_init_and_cgroup2_by_create() {
        let state = cgroup_state(vec![
            hierarchy("memory", Version::V1),
            hierarchy("pids", Version::V1),
            hierarchy("unified", Version::V2),
        ]);
        let j = SelfJoin::of(&state);
        assert_eq!(
            j.tasks,
            vec![
                PathBuf::from("/sys/fs/cgroup/memory/c1/tasks"),
                PathBuf::from("/sys/fs/cgroup/pids/c1/tasks")
            ]
        );
        assert!(j.covers(&state.hierarchies[0]) && j.covers(&state.hierarchies[1]));
        assert!(!j.covers(&state.hierarchies[2]));
        assert!(j.clone().cloned_into_v2().covers(&state.hierarchies[2]));
        assert!(!SelfJoin::default().covers(&state.hierarchies[0]));
        assert!(SelfJoin::default()
            .cloned_into_v2()
            .covers(&state.hierarchies[2]));
    }

    #[test]
    fn the_clone_target_is_the_cgroup2_directory() {
        let d = tempfile::tempdir().unwrap();
        let mut h = hierarchy("unified", Version::V2);
        h.path = d.path().to_path_buf();
        let mut state = cgroup_state(vec![hierarchy("pids", Version::V1), h]);
        let fd = clone_target(&state).unwrap().unwrap();
        let dir = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&fd)
        ));
        assert_eq!(dir.unwrap(), d.path());
        state.hierarchies.pop();
        assert!(clone_target(&state).unwrap().is_none());
        state.hierarchies = vec![hierarchy("unified", Version::V2)];
        state.hierarchies[0].path = d.path().join("missing");
        assert!(clone_target(&state)
            .unwrap_err()
            .to_string()
            .contains("missing"));
    }

    #[test]
    fn a_failed_join_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        let mut h = hierarchy("pids", Version::V1);
        h.path = d.path().join("missing");
        let state = cgroup_state(vec![h]);
        let err = SelfJoin::of(&state).join().unwrap_err();
        assert!(err.to_string().contains("missing/tasks"), "{err}");
        assert_eq!(err.errno(), crate::sys::Errno::ENOENT);
    }

    #[test]
    fn join_writes_zero() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("tasks"), "").unwrap();
        let mut h = hierarchy("pids", Version::V1);
        h.path = d.path().to_path_buf();
        let state = cgroup_state(vec![h]);
        SelfJoin::of(&state).join().unwrap();
        assert_eq!(std::fs::read(d.path().join("tasks")).unwrap(), b"0");
    }
}
