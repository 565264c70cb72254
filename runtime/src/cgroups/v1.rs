//! The manager of a cgroup v1 host: one hierarchy per controller (or group of
//! controllers), each resource written in the hierarchy that has its controller.

use super::controller::Controller;
use super::host::Layout;
use super::manager::Manager;
use super::record::CgroupState;
use super::CgroupError;
use crate::plan::ResourcesPlan;

/// cgroup v1.
#[derive(Debug)]
pub struct V1(pub CgroupState);

/// Applies `c` in the v1 hierarchy that has it; `None` when no hierarchy does.
pub(super) fn apply_in_v1(
    s: &CgroupState,
    c: &dyn Controller,
    r: &ResourcesPlan,
) -> Option<Result<(), CgroupError>> {
    let layout = s.layout().unwrap_or(Layout::V1);
    s.v1_with(c.name())
        .map(|h| c.apply_v1(&h.path, r).map_err(|e| e.on(layout)))
}

impl Manager for V1 {
    fn state(&self) -> &CgroupState {
        &self.0
    }

    fn apply_controller(
        &self,
        c: &dyn Controller,
        field: &'static str,
        r: &ResourcesPlan,
    ) -> Result<(), CgroupError> {
        apply_in_v1(&self.0, c, r).unwrap_or_else(|| {
            let why = "no mounted v1 hierarchy has it";
            Err(CgroupError::unavailable(field, c.name(), Layout::V1, why))
        })
    }
}
