//! The manager of a hybrid host: cgroup v1 hierarchies for the controllers mounted there,
//! and a cgroup2 hierarchy beside them (`/sys/fs/cgroup/unified`) that holds every
//! process and offers the controllers that are not on v1 (on this project's machine:
//! hugetlb). Each controller is driven where the host has it: on v1 when a v1 hierarchy
//! has it, else on cgroup2.

use super::controller::Controller;
use super::host::Layout;
use super::manager::Manager;
use super::record::CgroupState;
use super::v1::apply_in_v1;
use super::v2::apply_in_v2;
use super::CgroupError;
use crate::plan::ResourcesPlan;

/// Hybrid cgroup v1 + v2.
#[derive(Debug)]
pub struct Hybrid(pub CgroupState);

impl Manager for Hybrid {
    fn state(&self) -> &CgroupState {
        &self.0
    }

    fn apply_controller(
        &self,
        c: &dyn Controller,
        field: &'static str,
        r: &ResourcesPlan,
    ) -> Result<(), CgroupError> {
        if let Some(done) = apply_in_v1(&self.0, c, r) {
            return done;
        }
        if c.v2_name().is_none() {
            let why = "no v1 hierarchy mounts it, and cgroup v2 has no such controller";
            return Err(CgroupError::unavailable(
                field,
                c.name(),
                Layout::Hybrid,
                why,
            ));
        }
        apply_in_v2(self.0.v2(), Layout::Hybrid, c, field, r)
    }
}
