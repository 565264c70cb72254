//! The cpuset controller (config-linux.md#cpu): cpus and mems.

use std::path::Path;

use super::controller::Controller;
use super::fs::write;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const CPUS: &str = "/linux/resources/cpu/cpus";
const MEMS: &str = "/linux/resources/cpu/mems";

/// `cpuset`.
pub struct Cpuset;

/// A cpus/mems list, unless absent or empty (an empty list leaves the parent's).
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl Cpuset {
    fn apply(dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        if let Some(c) = set(&r.cpu.cpus) {
            write("cpuset", CPUS, dir, "cpuset.cpus", c)?;
        }
        if let Some(m) = set(&r.cpu.mems) {
            write("cpuset", MEMS, dir, "cpuset.mems", m)?;
        }
        Ok(())
    }
}

impl Controller for Cpuset {
    fn name(&self) -> &'static str {
        "cpuset"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        set(&r.cpu.cpus)
            .map(|_| CPUS)
            .or(set(&r.cpu.mems).map(|_| MEMS))
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        Self::apply(dir, r)
    }

    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        Self::apply(dir, r)
    }

    /// A new v1 cpuset cgroup takes tasks only once its cpus and mems are set: they are
    /// copied from the parent.
    fn v1_made(&self, parent: &Path, dir: &Path) -> Result<(), CgroupError> {
        for (file, field) in [("cpuset.cpus", CPUS), ("cpuset.mems", MEMS)] {
            let v = std::fs::read_to_string(parent.join(file)).unwrap_or_default();
            if !v.trim().is_empty() {
                write("cpuset", field, dir, file, v.trim())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    #[test]
    fn a_new_v1_cpuset_inherits_cpus_and_mems() {
        let parent = files(&["cpuset.cpus", "cpuset.mems"]);
        std::fs::write(parent.path().join("cpuset.cpus"), "0-1\n").unwrap();
        std::fs::write(parent.path().join("cpuset.mems"), "0\n").unwrap();
        let child = files(&["cpuset.cpus", "cpuset.mems"]);
        Cpuset.v1_made(parent.path(), child.path()).unwrap();
        assert_eq!(read(&child, "cpuset.cpus"), "0-1");
        assert_eq!(read(&child, "cpuset.mems"), "0");
        let r = ResourcesPlan {
            cpu: writ_spec::LinuxCpu {
                cpus: Some("1".into()),
                mems: Some(String::new()),
                ..Default::default()
            },
            ..Default::default()
        };
        Cpuset.apply_v2(child.path(), &r).unwrap();
        assert_eq!(read(&child, "cpuset.cpus"), "1");
        assert_eq!(read(&child, "cpuset.mems"), "0");
    }
}
