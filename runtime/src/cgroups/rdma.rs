//! The rdma controller (config-linux.md#rdma): per device, the maximum number of HCA
//! handles and objects (`rdma.max`, one `device hca_handle=N hca_object=M` line per
//! entry), the same file on cgroup v1 and v2.

use std::path::Path;

use super::controller::Controller;
use super::fs::write;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const RDMA: &str = "/linux/resources/rdma";

/// `rdma`.
pub struct Rdma;

impl Rdma {
    #[writ_macros::requirement("config_linux.rdma.handles_or_objects")]
    fn apply(dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        for (dev, l) in &r.rdma {
            let field = format!("{RDMA}/{}", super::unified::pointer_token(dev));
            let mut line = dev.clone();
            if let Some(n) = l.hca_handles {
                line += &format!(" hca_handle={n}");
            }
            if let Some(n) = l.hca_objects {
                line += &format!(" hca_object={n}");
            }
            let bad = if dev.is_empty() || dev.contains(char::is_whitespace) {
                Some(format!("{dev:?} is not a device name"))
            } else if l.hca_handles.is_none() && l.hca_objects.is_none() {
                Some("an entry sets hcaHandles, hcaObjects or both [config_linux.rdma.handles_or_objects]".into())
            } else {
                None
            };
            if let Some(reason) = bad {
                return Err(CgroupError::Value {
                    field,
                    controller: "rdma",
                    reason,
                });
            }
            write("rdma", &field, dir, "rdma.max", &line)?;
        }
        Ok(())
    }
}

impl Controller for Rdma {
    fn name(&self) -> &'static str {
        "rdma"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        (!r.rdma.is_empty()).then_some(RDMA)
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        Self::apply(dir, r)
    }

    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        Self::apply(dir, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    #[writ_macros::verifies("config_linux.rdma.handles_or_objects")]
    #[test]
    fn one_line_per_device_with_the_limits_set() {
        let d = files(&["rdma.max"]);
        let mut r = ResourcesPlan::default();
        r.rdma.insert(
            "mlx5_1".into(),
            writ_spec::LinuxRdma {
                hca_handles: Some(3),
                hca_objects: Some(10000),
                ..Default::default()
            },
        );
        Rdma.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "rdma.max"), "mlx5_1 hca_handle=3 hca_object=10000");
        r.rdma.insert(
            "rxe3".into(),
            writ_spec::LinuxRdma {
                hca_objects: Some(7),
                ..Default::default()
            },
        );
        Rdma.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "rdma.max"), "rxe3 hca_object=7");
        r.rdma
            .insert("bad dev".into(), writ_spec::LinuxRdma::default());
        let e = Rdma.apply_v1(d.path(), &r).unwrap_err().to_string();
        assert!(e.starts_with("/linux/resources/rdma/bad dev"), "{e}");
    }
}
