//! The manager of a cgroup2-only host: one hierarchy; a controller is enabled for the
//! container through its parents' `cgroup.subtree_control` and then written with the v2
//! file names and value conversions.

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
    h: Option<&Hierarchy>,
    layout: Layout,
    c: &dyn Controller,
    field: &'static str,
    r: &ResourcesPlan,
) -> Result<(), CgroupError> {
    let unavailable = |why: String| CgroupError::unavailable(field, c.name(), layout, why);
    let Some(h) = h else {
        return Err(unavailable("no cgroup2 hierarchy is recorded".into()));
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
        apply_in_v2(self.0.v2(), Layout::V2, c, field, r)
    }
}
