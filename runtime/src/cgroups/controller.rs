//! A controller: what one cgroup controller does with the container's resources, on a v1
//! hierarchy and on cgroup v2. Each lives in a file of its own (memory.rs, cpu.rs, ...);
//! adding one is a new file and a line in [`CONTROLLERS`].

use std::path::Path;

use super::CgroupError;
use crate::plan::ResourcesPlan;

/// One cgroup controller.
pub trait Controller: Sync {
    /// The controller's name on cgroup v1 ("memory", "cpu", "blkio", "devices").
    fn name(&self) -> &'static str;

    /// Its name in `cgroup.controllers` on cgroup v2 ("io" for blkio), or `None` when
    /// cgroup v2 has no such controller.
    fn v2_name(&self) -> Option<&'static str> {
        Some(self.name())
    }

    /// The JSON pointer of the first resource field that asks something of this
    /// controller, or `None` when the config leaves it alone.
    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str>;

    /// Writes the resources into the container's directory of a v1 hierarchy.
    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError>;

    /// Writes the resources into the container's cgroup2 directory, converting the values
    /// where the v2 interface differs.
    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError>;

    /// Whether, on cgroup v2, the controller is enabled for the container through the
    /// parents' `cgroup.subtree_control` (the device filter is not: it is a program
    /// attached to the directory).
    fn v2_subtree_control(&self) -> bool {
        true
    }

    /// Runs for each directory create makes in a v1 hierarchy that has this controller
    /// (`parent` is the directory above it).
    fn v1_made(&self, _parent: &Path, _dir: &Path) -> Result<(), CgroupError> {
        Ok(())
    }
}

/// The pointer of the first field that is set, of `(set, pointer)` pairs in order.
pub(super) fn first_set(fields: &[(bool, &'static str)]) -> Option<&'static str> {
    fields.iter().find(|(set, _)| *set).map(|(_, f)| *f)
}

/// Every controller writ drives, in the order they are applied: device rules first.
/// `unified` comes after all of them (unified.rs), so that its files have the last word.
pub const CONTROLLERS: &[&dyn Controller] = &[
    &super::devices::Devices,
    &super::memory::Memory,
    &super::pids::Pids,
    &super::cpu::Cpu,
    &super::cpuset::Cpuset,
    &super::blkio::Blkio,
    &super::hugetlb::Hugetlb,
    &super::net_cls::NetCls,
    &super::net_prio::NetPrio,
    &super::rdma::Rdma,
];
