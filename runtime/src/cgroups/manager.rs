//! The cgroup manager interface: what the lifecycle asks of the container's cgroup,
//! whatever drives it. [`super::v1::V1`], [`super::v2::V2`] and [`super::hybrid::Hybrid`]
//! write the cgroup filesystem of each layout; a systemd manager would make the same
//! calls on a transient unit.
//!
//! The provided methods work on the directories recorded in [`CgroupState`] and suit any
//! cgroupfs manager; an implementation overrides what its layout does differently.

use std::collections::BTreeMap;

use super::controller::{Controller, CONTROLLERS};
use super::freezer::{Freezer, FreezerState};
use super::host::Layout;
use super::join::SelfJoin;
use super::record::CgroupState;
use super::{fs, CgroupError};
use crate::plan::ResourcesPlan;

/// A driver of the container's cgroup.
pub trait Manager: std::fmt::Debug {
    /// What the state record keeps: complete before anything is made.
    fn state(&self) -> &CgroupState;

    /// Applies what `r` asks of one controller (`field` is the first field that asks),
    /// or says why the controller is not available.
    fn apply_controller(
        &self,
        c: &dyn Controller,
        field: &'static str,
        r: &ResourcesPlan,
    ) -> Result<(), CgroupError>;

    /// `linux.resources.unified`: cgroup v2 files written as given (unified.rs).
    fn apply_unified(&self, unified: &BTreeMap<String, String>) -> Result<(), CgroupError> {
        let s = self.state();
        super::unified::apply(s, s.layout().unwrap_or(Layout::V1), unified)
    }

    /// Makes the container's directory in every hierarchy, and the missing ones above it.
    fn create(&self) -> Result<(), CgroupError> {
        create_dirs(self.state())
    }

    /// Writes every resource the config sets, controller by controller (at create, and
    /// again at update).
    #[writ_macros::requirement(
        "config_linux.cgroups.fitness_check",
        "config_linux.cgroups.fitness_check.error",
        "config_linux.cgroups_path.extra_controllers"
    )]
    fn apply(&self, r: &ResourcesPlan) -> Result<(), CgroupError> {
        for c in CONTROLLERS {
            if let Some(field) = c.requested(r) {
                self.apply_controller(*c, field, r)?;
            }
        }
        if r.unified.is_empty() {
            return Ok(());
        }
        self.apply_unified(&r.unified)
    }

    /// Moves a process into the container's cgroup in every hierarchy `joined` does not
    /// cover (those the init joins by itself, [`SelfJoin`]).
    fn add(&self, pid: i32, joined: &SelfJoin) -> Result<(), CgroupError> {
        for h in self
            .state()
            .hierarchies
            .iter()
            .filter(|h| !joined.covers(h))
        {
            fs::add_pid(&h.path, pid)?;
        }
        Ok(())
    }

    /// Every process in the cgroup and its descendants, sorted: from the cgroup2
    /// hierarchy (which holds every process), else the v1 pids hierarchy, else any.
    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let s = self.state();
        let Some(h) = s
            .v2()
            .or_else(|| s.v1_with("pids"))
            .or_else(|| s.hierarchies.first())
        else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        fs::collect_pids(&h.path, &mut out)?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Sends `signal` to every process of the cgroup (best effort: processes may exit
    /// meanwhile). Returns the pids it found; after SIGKILL a frozen cgroup is thawed, so
    /// that the processes die (as runc). SIGKILL goes through the cgroup2 directory's
    /// `cgroup.kill` where there is one (kernel 5.14+; it also catches processes forked
    /// meanwhile), anything else to one pid at a time.
    fn kill_all(&self, signal: i32) -> Result<Vec<i32>, CgroupError> {
        let pids = self.pids()?;
        let killed = signal == libc::SIGKILL
            && !pids.is_empty()
            && self
                .state()
                .v2()
                .is_some_and(|h| fs::write("cgroup", "/", &h.path, "cgroup.kill", "1").is_ok());
        if !killed {
            for &pid in &pids {
                fs::signal(pid, signal);
            }
        }
        // A frozen process dies of SIGKILL only once thawed (cgroup v1).
        if signal == libc::SIGKILL
            && self
                .freezer_state()
                .is_ok_and(|s| s != FreezerState::Thawed)
        {
            let _ = self.freeze(false);
        }
        Ok(pids)
    }

    /// The freezer state of the container's cgroup ([`super::freezer::freezer_of`]).
    fn freezer_state(&self) -> Result<FreezerState, CgroupError> {
        let (f, dir) = self.freezer()?;
        f.state(&dir)
    }

    /// Freezes (`true`) or thaws the container's processes and waits until that is done.
    fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        let (f, dir) = self.freezer()?;
        f.set(&dir, frozen, super::freezer::DEADLINE)
    }

    /// The freezer mechanism of the container's cgroup and its directory.
    fn freezer(&self) -> Result<(&'static dyn Freezer, std::path::PathBuf), CgroupError> {
        super::freezer::freezer_of(self.state()).ok_or_else(|| CgroupError::NoFreezer {
            relative: self.state().relative.clone(),
        })
    }

    /// Removes the container's directory in every hierarchy (its children first), then the
    /// directories above it that create made, when empty. Directories already gone are
    /// fine; a cgroup that keeps processes is an error (the first one is returned, after
    /// every hierarchy was tried).
    fn destroy(&self) -> Result<(), CgroupError> {
        remove_dirs(self.state(), fs::remove_tree)
    }

    /// Removes the container's directory in every hierarchy where it has neither children
    /// nor processes, one rmdir each (nothing is listed, nobody signalled), and the
    /// directories above it that create made, when empty. Returns whether none is left:
    /// otherwise processes or nested cgroups remain, for [`Manager::kill_all`] and
    /// [`Manager::destroy`].
    fn remove_empty(&self) -> bool {
        remove_dirs(self.state(), fs::remove_empty).is_ok()
    }
}

/// Removes the container's directory with `remove` in every hierarchy of `s`, and where
/// that went, the directories above it that create made, when empty. Every hierarchy is
/// tried; the first error is returned.
fn remove_dirs(
    s: &CgroupState,
    remove: fn(&std::path::Path) -> Result<(), CgroupError>,
) -> Result<(), CgroupError> {
    let mut first_err = None;
    for h in &s.hierarchies {
        if let Err(e) = remove(&h.path) {
            first_err.get_or_insert(e);
            continue;
        }
        for d in h.created.iter().rev().filter(|d| **d != h.path) {
            let _ = std::fs::remove_dir(d);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// Makes the container's directory in every hierarchy of `s`, and the missing ones above
/// it (each controller's `v1_made` runs for each directory made in a v1 hierarchy).
pub(super) fn create_dirs(s: &CgroupState) -> Result<(), CgroupError> {
    for h in &s.hierarchies {
        fs::mkdir_all(&h.mount, &h.path, |parent, dir| {
            for c in CONTROLLERS.iter().filter(|c| h.has(c.name())) {
                c.v1_made(parent, dir)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}
