//! The manager of a cgroup2-only host: one hierarchy; a controller is enabled for the
//! container through its parents' `cgroup.subtree_control` and then written with the v2
//! file names and value conversions; `kill_all` with SIGKILL uses `cgroup.kill`.

use super::controller::Controller;
use super::host::Layout;
use super::manager::Manager;
use super::record::{CgroupState, Hierarchy};
use super::{fs, CgroupError};
use crate::plan::ResourcesPlan;

/// cgroup v2.
#[derive(Debug)]
pub struct V2(pub CgroupState);

/// Enables `c` for the container's cgroup in every directory above it (best effort: a
/// parent may have it already, or refuse), checks that the cgroup then offers it, and
/// applies it.
pub(super) fn apply_in_v2(
    h: &Hierarchy,
    layout: Layout,
    c: &dyn Controller,
    field: &'static str,
    r: &ResourcesPlan,
) -> Result<(), CgroupError> {
    let unavailable = |reason: String| CgroupError::Unavailable {
        field,
        controller: c.name(),
        layout,
        reason,
    };
    let Some(name) = c.v2_name() else {
        return Err(unavailable("cgroup v2 has no such controller".into()));
    };
    if c.v2_subtree_control() {
        let mut above: Vec<&std::path::Path> = h
            .path
            .ancestors()
            .skip(1)
            .take_while(|d| d.starts_with(&h.mount))
            .collect();
        above.reverse();
        for d in above {
            let _ = fs::write(
                c.name(),
                field,
                d,
                "cgroup.subtree_control",
                &format!("+{name}"),
            );
        }
        let offered = fs::read(&h.path, "cgroup.controllers")?;
        if !offered.split_whitespace().any(|x| x == name) {
            return Err(unavailable(format!(
                "{} offers {:?}",
                h.path.join("cgroup.controllers").display(),
                offered.trim()
            )));
        }
    }
    c.apply_v2(&h.path, r)
}

/// SIGKILL through `cgroup.kill` (kernel 5.14+; it also catches processes forked
/// meanwhile), other signals one pid at a time.
pub(super) fn kill_in_v2(m: &impl Manager, signal: i32) -> Result<Vec<i32>, CgroupError> {
    let pids = m.pids()?;
    let killed = signal == libc::SIGKILL
        && !pids.is_empty()
        && m.state()
            .v2()
            .is_some_and(|h| fs::write("cgroup", "/", &h.path, "cgroup.kill", "1").is_ok());
    if !killed {
        for &pid in &pids {
            fs::signal(pid, signal);
        }
    }
    Ok(pids)
}

impl Manager for V2 {
    fn state(&self) -> &CgroupState {
        &self.0
    }

    fn apply_controller(
        &self,
        c: &dyn Controller,
        field: &'static str,
        r: &ResourcesPlan,
    ) -> Result<(), CgroupError> {
        match self.0.v2() {
            Some(h) => apply_in_v2(h, Layout::V2, c, field, r),
            None => Err(CgroupError::Unavailable {
                field,
                controller: c.name(),
                layout: Layout::V2,
                reason: "no cgroup2 hierarchy is recorded".into(),
            }),
        }
    }

    fn kill_all(&self, signal: i32) -> Result<Vec<i32>, CgroupError> {
        kill_in_v2(self, signal)
    }
}
