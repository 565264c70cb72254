//! The net_prio controller (config-linux.md#network): the priority of the container's
//! traffic per interface (`net_prio.ifpriomap`, one `name priority` line per entry).
//! cgroup v1 only: cgroup v2 has no net_prio controller, so priorities are an error on a
//! host without a v1 net_prio hierarchy.

use std::path::Path;

use super::controller::Controller;
use super::fs::write;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const PRIORITIES: &str = "/linux/resources/network/priorities";

/// `net_prio`.
pub struct NetPrio;

fn priorities(r: &ResourcesPlan) -> &[writ_spec::LinuxInterfacePriority] {
    r.network.priorities.as_deref().unwrap_or(&[])
}

impl Controller for NetPrio {
    fn name(&self) -> &'static str {
        "net_prio"
    }

    fn v2_name(&self) -> Option<&'static str> {
        None
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        (!priorities(r).is_empty()).then_some(PRIORITIES)
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        for (i, p) in priorities(r).iter().enumerate() {
            let field = format!("{PRIORITIES}/{i}/name");
            // One line of "name priority": a name with white space would write another.
            if p.name.is_empty() || p.name.contains(char::is_whitespace) {
                return Err(CgroupError::Value {
                    field,
                    controller: "net_prio",
                    reason: format!("{:?} is not an interface name", p.name),
                });
            }
            let line = format!("{} {}", p.name, p.priority);
            write("net_prio", &field, dir, "net_prio.ifpriomap", &line)?;
        }
        Ok(())
    }

    fn apply_v2(&self, _dir: &Path, _r: &ResourcesPlan) -> Result<(), CgroupError> {
        Err(CgroupError::not_on_v2(
            PRIORITIES,
            "net_prio",
            "cgroup v2 has no net_prio controller",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    fn plan(names: &[(&str, u32)]) -> ResourcesPlan {
        let priorities = names
            .iter()
            .map(|(n, p)| writ_spec::LinuxInterfacePriority {
                name: n.to_string(),
                priority: *p,
                ..Default::default()
            })
            .collect();
        ResourcesPlan {
            network: writ_spec::LinuxNetwork {
                priorities: Some(priorities),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn each_priority_is_one_line_and_v2_refuses() {
        let d = files(&["net_prio.ifpriomap"]);
        let r = plan(&[("eth0", 500), ("lo", 1000)]);
        NetPrio.apply_v1(d.path(), &r).unwrap();
        // Each write replaces a test file's text: the last line is left.
        assert_eq!(read(&d, "net_prio.ifpriomap"), "lo 1000");
        let e = NetPrio
            .apply_v1(d.path(), &plan(&[("eth0\nlo", 1)]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/linux/resources/network/priorities/0/name"),
            "{e}"
        );
        let e = NetPrio.apply_v2(d.path(), &r).unwrap_err().to_string();
        assert!(
            e.starts_with(PRIORITIES) && e.contains("no net_prio"),
            "{e}"
        );
    }
}
