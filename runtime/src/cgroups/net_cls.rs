//! The net_cls controller (config-linux.md#network): the class identifier the
//! container's packets are tagged with (`net_cls.classid`). cgroup v1 only: cgroup v2 has
//! no net_cls controller (its eBPF socket programs have no field in the config), so
//! classID is an error on a host without a v1 net_cls hierarchy.

use std::path::Path;

use super::controller::Controller;
use super::fs::write;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const CLASS_ID: &str = "/linux/resources/network/classID";

/// `net_cls`.
pub struct NetCls;

impl Controller for NetCls {
    fn name(&self) -> &'static str {
        "net_cls"
    }

    fn v2_name(&self) -> Option<&'static str> {
        None
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        r.network.class_id.map(|_| CLASS_ID)
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        match r.network.class_id {
            Some(id) => write("net_cls", CLASS_ID, dir, "net_cls.classid", &id.to_string()),
            None => Ok(()),
        }
    }

    fn apply_v2(&self, _dir: &Path, _r: &ResourcesPlan) -> Result<(), CgroupError> {
        Err(CgroupError::not_on_v2(
            CLASS_ID,
            "net_cls",
            "cgroup v2 has no net_cls controller",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    #[test]
    fn class_id_is_written_on_v1_and_refused_on_v2() {
        let r = ResourcesPlan {
            network: writ_spec::LinuxNetwork {
                class_id: Some(0x100001),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(NetCls.requested(&r), Some(CLASS_ID));
        let d = files(&["net_cls.classid"]);
        NetCls.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "net_cls.classid"), "1048577");
        let e = NetCls.apply_v2(d.path(), &r).unwrap_err().to_string();
        assert!(e.starts_with(CLASS_ID) && e.contains("no net_cls"), "{e}");
    }
}
