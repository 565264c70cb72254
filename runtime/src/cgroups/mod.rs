//! Cgroups (config-linux.md#control-groups): the container's cgroup on cgroup v1, v2 and
//! hybrid hosts.
//!
//! - [`host`]: the host's layout, read from mountinfo and /proc/self/cgroup given as
//!   values ([`Host::parse`]), or from this host ([`Host::probe`]).
//! - [`path`]: cgroupsPath, resolved to the path inside each hierarchy.
//! - [`record`]: [`CgroupState`], what the container's state keeps (typed, serde),
//!   complete before anything is made.
//! - [`manager`]: the [`Manager`] interface; [`v1`], [`v2`] and [`hybrid`] implement it
//!   on the cgroup filesystem of each layout (a systemd manager is the next one).
//! - [`join`]: [`SelfJoin`], the v1 hierarchies the container's init joins by itself
//!   (no RCU grace period, unlike a pid written into `cgroup.procs`).
//! - [`controller`]: the [`Controller`] interface, one file per controller ([`memory`],
//!   [`cpu`], [`cpuset`], [`pids`], [`devices`]); each writes its v1 files and its v2
//!   files with the conversions between them, and names the config field it serves.
//!
//! [`Cgroup`] is the handle the lifecycle uses: `plan` (nothing touched), `state` (to
//! record), `create`, `apply`, `add` (`self_join`, `add_except`), `pids`, `kill_all`,
//! `remove_empty`, `destroy`.
//!
//! What each layout does with a resource: on a v1 host each controller is written in the
//! hierarchy that has it; on a cgroup2-only host the controller is enabled through the
//! parents' `cgroup.subtree_control` first; on a hybrid host a controller mounted on v1 is
//! written there, any other on the cgroup2 hierarchy. A resource whose controller the host
//! does not offer is an error naming the field, the controller and the layout.
//!
//! Device rules: `devices.allow`/`devices.deny` on a v1 devices hierarchy; on cgroup v2,
//! which has no devices files, an eBPF program attached to the container's directory
//! ([`device_filter`], over the bpf(2) calls of [`bpf`]). A hybrid host that mounts a v1
//! devices hierarchy gets the v1 files and no program, as runc does (runc 1.1.5 on this
//! project's hybrid machine: rules in the v1 `devices.list`, no program on the unified
//! directory; crun refuses hybrid hosts); one without gets the program on its cgroup2
//! directory, which the kernel enforces there too.

pub mod blkio;
pub mod bpf;
pub mod controller;
pub mod cpu;
pub mod cpuset;
pub mod device_filter;
pub mod devices;
mod error;
pub mod freezer;
mod fs;
pub mod host;
pub mod hugetlb;
pub mod hybrid;
pub mod join;
pub mod manager;
pub mod memory;
pub mod net_cls;
pub mod net_prio;
pub mod oom;
pub mod path;
pub mod pids;
pub mod rdma;
pub mod record;
pub mod stats;
pub mod unified;
pub mod v1;
pub mod v2;

pub use controller::{Controller, CONTROLLERS};
pub use error::CgroupError;
pub use host::{Host, Layout, Version};
pub use join::SelfJoin;
pub use manager::Manager;
pub use path::relative_path;
pub use record::{CgroupState, Driver, Hierarchy};

use crate::plan::ResourcesPlan;

/// The container's cgroup, driven by the manager its layout calls for.
#[derive(Debug)]
pub struct Cgroup {
    manager: Box<dyn Manager>,
}

impl Cgroup {
    /// The container's cgroup on `host` at the resolved cgroupsPath `relative`: its
    /// directory in every mounted hierarchy and the directories create will make that
    /// destroy takes back (all but [`path::DEFAULT_PARENT`], which stays). Nothing is made.
    pub fn plan(host: &Host, relative: &str) -> Result<Cgroup, CgroupError> {
        if host.layout().is_none() {
            return Err(CgroupError::NoHierarchy {
                root: host.root.clone(),
                mountinfo: "/proc/self/mountinfo".into(),
            });
        }
        let hierarchies = host
            .hierarchies
            .iter()
            .map(|m| {
                let path = host.dir_in(m, relative);
                let kept = host.dir_in(m, path::DEFAULT_PARENT);
                let mut created: Vec<std::path::PathBuf> = path
                    .ancestors()
                    .take_while(|d| d.starts_with(&m.mount) && *d != m.mount)
                    .filter(|d| !d.exists() && (*d != kept || *d == path))
                    .map(std::path::Path::to_path_buf)
                    .collect();
                created.reverse();
                Hierarchy {
                    name: m.name.clone(),
                    version: m.version,
                    controllers: m.controllers.clone(),
                    mount: m.mount.clone(),
                    path,
                    created,
                }
            })
            .collect();
        Ok(Cgroup::from_state(CgroupState {
            driver: Driver::Cgroupfs,
            relative: relative.to_string(),
            hierarchies,
        }))
    }

    /// The cgroup a state record describes, with the manager of its driver and layout.
    pub fn from_state(state: CgroupState) -> Cgroup {
        let manager: Box<dyn Manager> = match (state.driver, state.layout()) {
            (Driver::Cgroupfs, Some(Layout::V2)) => Box::new(v2::V2(state)),
            (Driver::Cgroupfs, Some(Layout::Hybrid)) => Box::new(hybrid::Hybrid(state)),
            (Driver::Cgroupfs, Some(Layout::V1) | None) => Box::new(v1::V1(state)),
        };
        Cgroup { manager }
    }

    /// Plans, makes and configures the container's cgroup; on failure removes what it
    /// made.
    pub fn setup(host: &Host, relative: &str, r: &ResourcesPlan) -> Result<Cgroup, CgroupError> {
        let cg = Cgroup::plan(host, relative)?;
        if let Err(e) = cg.create().and_then(|()| cg.apply(r)) {
            let _ = cg.destroy();
            return Err(e);
        }
        Ok(cg)
    }

    /// What the state record keeps.
    pub fn state(&self) -> &CgroupState {
        self.manager.state()
    }

    /// The layout of the container's cgroup.
    pub fn layout(&self) -> Option<Layout> {
        self.state().layout()
    }

    /// Makes the container's directory in every hierarchy.
    pub fn create(&self) -> Result<(), CgroupError> {
        self.manager.create()
    }

    /// Writes the resources.
    pub fn apply(&self, r: &ResourcesPlan) -> Result<(), CgroupError> {
        self.manager.apply(r)
    }

    /// Moves a process into the cgroup in every hierarchy.
    pub fn add(&self, pid: i32) -> Result<(), CgroupError> {
        self.manager.add(pid, &SelfJoin::default())
    }

    /// Moves the container's init into the cgroup in every hierarchy `joined` does not
    /// cover; the init joins those by itself ([`join`]).
    pub fn add_except(&self, pid: i32, joined: &SelfJoin) -> Result<(), CgroupError> {
        self.manager.add(pid, joined)
    }

    /// The hierarchies the container's init can join by itself ([`join`]).
    pub fn self_join(&self) -> SelfJoin {
        SelfJoin::of(self.state())
    }

    /// Every process in the cgroup and its descendants (for `kill --all`, `ps`).
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        self.manager.pids()
    }

    /// Signals every process of the cgroup; returns the pids found.
    pub fn kill_all(&self, signal: i32) -> Result<Vec<i32>, CgroupError> {
        self.manager.kill_all(signal)
    }

    /// The freezer state of the cgroup.
    pub fn freezer_state(&self) -> Result<freezer::FreezerState, CgroupError> {
        self.manager.freezer_state()
    }

    /// Freezes (`true`) or thaws every process of the cgroup and waits until that is done.
    pub fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        self.manager.freeze(frozen)
    }

    /// Removes the cgroup in every hierarchy.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        self.manager.destroy()
    }

    /// Removes the cgroup in every hierarchy where it is empty (no processes, no nested
    /// cgroups), one rmdir each; returns whether it is gone everywhere.
    pub fn remove_empty(&self) -> bool {
        self.manager.remove_empty()
    }

    /// The directories to show inside the container for a `cgroup` mount.
    pub fn view(&self, new_cgroupns: bool) -> crate::mounts::CgroupView {
        self.state().view(new_cgroupns)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    /// A temporary directory holding empty files with these names (a cgroup directory's
    /// files, as far as a controller writes them).
    pub(crate) fn files(names: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        for n in names {
            std::fs::write(d.path().join(n), "").expect("file");
        }
        d
    }

    /// The trimmed text of a file of `d`.
    pub(crate) fn read(d: &tempfile::TempDir, name: &str) -> String {
        read_at(d.path(), name)
    }

    pub(crate) fn read_at(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name))
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    use super::*;

    /// A host whose hierarchies are directories of `root`: v1 ones named after their
    /// controller, cgroup2 at `unified` (or at the root itself for `v2_at_root`).
    fn fake_host(root: &Path, v1: &[&str], v2: Option<&str>) -> Host {
        let mut info = String::new();
        for (i, c) in v1.iter().enumerate() {
            std::fs::create_dir_all(root.join(c)).unwrap();
            info += &format!(
                "{} 1 0:{} / {}/{c} rw - cgroup cgroup rw,{c}\n",
                30 + i,
                30 + i,
                root.display()
            );
        }
        if let Some(name) = v2 {
            let at = root.join(name);
            std::fs::create_dir_all(&at).unwrap();
            info += &format!("99 1 0:99 / {} rw - cgroup2 cgroup2 rw\n", at.display());
        }
        Host::parse(root, &info, "0::/\n")
    }

    /// Makes `dir` with these empty files.
    fn cgroup_dir(dir: &Path, names: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        for n in names {
            std::fs::write(dir.join(n), "").unwrap();
        }
    }

    fn limits() -> ResourcesPlan {
        ResourcesPlan {
            memory: writ_spec::LinuxMemory {
                limit: Some(64 << 20),
                ..Default::default()
            },
            pids_limit: Some(64),
            cpu: writ_spec::LinuxCpu {
                shares: Some(1024),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn hybrid_writes_v1_controllers_on_v1_and_the_rest_on_v2() {
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["memory", "cpu"], Some("unified"));
        assert_eq!(host.layout(), Some(Layout::Hybrid));
        let cg = Cgroup::plan(&host, "/writ/c1").unwrap();
        assert_eq!(cg.layout(), Some(Layout::Hybrid));
        let leaf = |h: &str| t.path().join(h).join("writ/c1");
        let u = cg.state().v2().unwrap();
        assert_eq!(u.path, leaf("unified"));
        // writ's default parent is made but kept: only the leaf is the container's.
        assert_eq!(u.created, [leaf("unified")]);
        cgroup_dir(&leaf("memory"), &["memory.limit_in_bytes", "cgroup.procs"]);
        cgroup_dir(&leaf("cpu"), &["cpu.shares", "cgroup.procs"]);
        cgroup_dir(
            &leaf("unified"),
            &["pids.max", "cgroup.controllers", "cgroup.procs"],
        );
        std::fs::write(leaf("unified").join("cgroup.controllers"), "hugetlb pids\n").unwrap();
        cgroup_dir(&t.path().join("unified"), &["cgroup.subtree_control"]);
        cgroup_dir(&t.path().join("unified/writ"), &["cgroup.subtree_control"]);
        cg.create().unwrap();
        cg.apply(&limits()).unwrap();
        assert_eq!(
            read_at(&leaf("memory"), "memory.limit_in_bytes"),
            "67108864"
        );
        assert_eq!(read_at(&leaf("cpu"), "cpu.shares"), "1024");
        assert_eq!(read_at(&leaf("unified"), "pids.max"), "64");
        // pids is enabled for the container in every directory above it.
        assert_eq!(read_at(t.path(), "unified/cgroup.subtree_control"), "+pids");
        assert_eq!(
            read_at(t.path(), "unified/writ/cgroup.subtree_control"),
            "+pids"
        );
        cg.add(4242).unwrap();
        for h in ["memory", "cpu", "unified"] {
            assert_eq!(read_at(&leaf(h), "cgroup.procs"), "4242");
        }
        assert_eq!(cg.pids().unwrap(), [4242]);
    }

    #[writ_macros::verifies("config_linux.cgroups.fitness_check.error")]
    #[test]
    fn a_controller_the_host_lacks_is_an_error_naming_it() {
        let t = tempfile::tempdir().unwrap();
        // cgroup2 only, offering cpu and pids: memory is not there.
        let host = fake_host(t.path(), &[], Some(""));
        assert_eq!(host.layout(), Some(Layout::V2));
        let cg = Cgroup::plan(&host, "/c2").unwrap();
        let leaf = t.path().join("c2");
        cgroup_dir(&leaf, &["cgroup.controllers", "pids.max", "cpu.weight"]);
        std::fs::write(leaf.join("cgroup.controllers"), "cpu pids\n").unwrap();
        cgroup_dir(t.path(), &["cgroup.subtree_control"]);
        let e = cg.apply(&limits()).unwrap_err().to_string();
        assert!(e.contains("/linux/resources/memory/limit"), "{e}");
        assert!(
            e.contains("memory controller") && e.contains("cgroup v2"),
            "{e}"
        );
        assert!(e.contains("\"cpu pids\""), "says what is offered: {e}");
        // v1 without a pids hierarchy.
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["memory"], None);
        let cg = Cgroup::plan(&host, "/c3").unwrap();
        cgroup_dir(&t.path().join("memory/c3"), &["memory.limit_in_bytes"]);
        let e = cg.apply(&limits()).unwrap_err().to_string();
        assert!(
            e.contains("/linux/resources/pids/limit") && e.contains("cgroup v1"),
            "{e}"
        );
        assert!(e.contains("no mounted v1 hierarchy"), "{e}");
    }

    #[writ_macros::verifies("config_linux.cgroups_path.extra_controllers")]
    #[test]
    fn v2_create_enables_every_offered_controller_and_hybrid_only_what_is_needed() {
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &[], Some(""));
        cgroup_dir(t.path(), &["cgroup.controllers", "cgroup.subtree_control"]);
        std::fs::write(t.path().join("cgroup.controllers"), "cpu io memory pids\n").unwrap();
        std::fs::write(t.path().join("cgroup.subtree_control"), "cpu\n").unwrap();
        let cg = Cgroup::plan(&host, "/c7").unwrap();
        cg.create().unwrap();
        // One write with what is missing (the test file keeps the last write).
        assert_eq!(
            read_at(t.path(), "cgroup.subtree_control"),
            "+io +memory +pids"
        );
        // Already enabled: nothing written.
        std::fs::write(
            t.path().join("cgroup.subtree_control"),
            "cpu io memory pids\n",
        )
        .unwrap();
        Cgroup::plan(&host, "/c8").unwrap().create().unwrap();
        assert_eq!(
            read_at(t.path(), "cgroup.subtree_control"),
            "cpu io memory pids"
        );
        // A hybrid host's cgroup2 side is left alone at create.
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["memory"], Some("unified"));
        let u = t.path().join("unified");
        cgroup_dir(&u, &["cgroup.controllers", "cgroup.subtree_control"]);
        std::fs::write(u.join("cgroup.controllers"), "hugetlb\n").unwrap();
        Cgroup::plan(&host, "/c9").unwrap().create().unwrap();
        assert_eq!(read_at(&u, "cgroup.subtree_control"), "");
    }

    #[test]
    fn a_controller_on_neither_side_of_a_hybrid_host_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["memory"], Some("unified"));
        let cg = Cgroup::plan(&host, "/c10").unwrap();
        let r = ResourcesPlan {
            network: writ_spec::LinuxNetwork {
                class_id: Some(1),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = cg.apply(&r).unwrap_err().to_string();
        assert!(
            e.starts_with("/linux/resources/network/classID: the net_cls controller"),
            "{e}"
        );
        assert!(
            e.contains("hybrid") && e.contains("no v1 hierarchy mounts it"),
            "{e}"
        );
    }

    #[test]
    fn create_then_destroy_leaves_nothing_it_made() {
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["memory", "pids"], Some("unified"));
        std::fs::create_dir_all(t.path().join("pids/shared")).unwrap();
        let cg = Cgroup::plan(&host, "/shared/c4").unwrap();
        cg.create().unwrap();
        for h in ["memory", "pids", "unified"] {
            assert!(t.path().join(h).join("shared/c4").is_dir());
        }
        cg.destroy().unwrap();
        for h in ["memory", "unified"] {
            assert!(
                !t.path().join(h).join("shared").exists(),
                "{h}/shared removed"
            );
        }
        // A parent that was there before stays.
        assert!(t.path().join("pids/shared").is_dir());
        assert!(!t.path().join("pids/shared/c4").exists());
        // Destroying again is fine.
        cg.destroy().unwrap();
    }

    #[test]
    fn remove_empty_leaves_a_cgroup_with_nested_ones_to_destroy() {
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["memory", "pids"], None);
        let cg = Cgroup::plan(&host, "/pods/c7").unwrap();
        cg.create().unwrap();
        // The container made a cgroup of its own inside, in one hierarchy.
        std::fs::create_dir_all(t.path().join("pids/pods/c7/inner/deeper")).unwrap();
        assert!(!cg.remove_empty());
        // The empty one went with the parent create made; the busy one is left whole.
        assert!(!t.path().join("memory/pods").exists());
        assert!(t.path().join("pids/pods/c7/inner/deeper").is_dir());
        // destroy tries the directory, then removes its children first.
        cg.destroy().unwrap();
        assert!(!t.path().join("pids/pods").exists());
        // Gone everywhere: nothing to do, which is no failure.
        assert!(cg.remove_empty());
        cg.create().unwrap();
        assert!(cg.remove_empty());
        assert!(!t.path().join("pids/pods").exists());
    }

    #[test]
    fn the_default_parent_is_made_once_and_kept() {
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["memory", "pids"], None);
        let id_path = relative_path(None, "c9", false).unwrap();
        let cg = Cgroup::plan(&host, &id_path).unwrap();
        cg.create().unwrap();
        assert!(t.path().join("pids/writ/c9").is_dir());
        assert!(cg.remove_empty());
        for h in ["memory", "pids"] {
            assert!(!t.path().join(h).join("writ/c9").exists(), "{h}: leaf gone");
            assert!(t.path().join(h).join("writ").is_dir(), "{h}: parent kept");
        }
        // The parent named as a container's own cgroup is that container's, and goes.
        let own = Cgroup::plan(&host, path::DEFAULT_PARENT).unwrap();
        own.destroy().unwrap();
        assert!(!t.path().join("pids/writ").exists());
    }

    #[test]
    fn destroy_reports_a_cgroup_it_cannot_empty() {
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["pids"], None);
        let cg = Cgroup::plan(&host, "/c8").unwrap();
        // A file the walk does not remove (a cgroup directory's files go with it; on
        // another filesystem rmdir says ENOTEMPTY): the error names the directory.
        cgroup_dir(&t.path().join("pids/c8/inner"), &["cgroup.procs"]);
        assert!(!cg.remove_empty());
        match cg.destroy() {
            Err(CgroupError::Remove { dir, source }) => {
                assert_eq!(dir, t.path().join("pids/c8/inner"));
                assert_eq!(source.raw_os_error(), Some(libc::ENOTEMPTY));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kill_all_uses_cgroup_kill_on_cgroup2() {
        // A pid above any pid_max: signalling it can reach no process.
        const NOBODY: &str = "2147483646";
        let t = tempfile::tempdir().unwrap();
        let host = fake_host(t.path(), &["pids"], Some("unified"));
        let cg = Cgroup::plan(&host, "/c6").unwrap();
        let (v1, v2) = (t.path().join("pids/c6"), t.path().join("unified/c6"));
        cgroup_dir(&v1, &["cgroup.procs"]);
        cgroup_dir(&v2, &["cgroup.procs", "cgroup.kill"]);
        std::fs::write(v2.join("cgroup.procs"), format!("{NOBODY}\n")).unwrap();
        assert_eq!(cg.kill_all(libc::SIGKILL).unwrap(), [2147483646]);
        assert_eq!(read_at(&v2, "cgroup.kill"), "1");
        // Other signals, and v1 alone, go pid by pid.
        std::fs::write(v2.join("cgroup.kill"), "").unwrap();
        assert_eq!(cg.kill_all(libc::SIGTERM).unwrap(), [2147483646]);
        assert_eq!(read_at(&v2, "cgroup.kill"), "");
        let only_v1 = Cgroup::plan(&fake_host(t.path(), &["pids"], None), "/c6").unwrap();
        std::fs::write(v1.join("cgroup.procs"), format!("{NOBODY}\n")).unwrap();
        assert_eq!(only_v1.kill_all(libc::SIGKILL).unwrap(), [2147483646]);
    }

    #[test]
    fn the_state_record_round_trips_and_picks_the_manager() {
        let t = tempfile::tempdir().unwrap();
        for (v1, v2, layout) in [
            (&["memory"][..], None, Layout::V1),
            (&[][..], Some(""), Layout::V2),
            (&["memory"][..], Some("unified"), Layout::Hybrid),
        ] {
            let root = t.path().join(format!("{layout:?}"));
            let cg = Cgroup::plan(&fake_host(&root, v1, v2), "rel/c5").unwrap();
            let json = serde_json::to_string(cg.state()).unwrap();
            let back: CgroupState = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, cg.state());
            let again = Cgroup::from_state(back);
            assert_eq!(again.layout(), Some(layout));
            let manager = format!("Cgroup {{ manager: {layout:?}(");
            assert!(format!("{again:?}").starts_with(&manager), "{again:?}");
        }
        assert!(matches!(
            Cgroup::plan(&Host::parse(t.path(), "", ""), "/x"),
            Err(CgroupError::NoHierarchy { .. })
        ));
    }
}
