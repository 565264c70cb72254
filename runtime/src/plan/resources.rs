//! The plan of linux.resources (config-linux.md#control-groups): the limits
//! `crate::cgroups` writes at create, and the device rules.

use std::collections::BTreeMap;

use super::devices::DevicePlan;

/// One device cgroup rule: (allow, "a"/"c"/"b", major, minor (-1 = any), access "rwm").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    /// Allow (true) or deny.
    pub allow: bool,
    /// 'a' (all), 'c' or 'b'.
    pub kind: char,
    /// Major number, -1 for any.
    pub major: i64,
    /// Minor number, -1 for any.
    pub minor: i64,
    /// Some of "rwm".
    pub access: String,
}

impl DeviceRule {
    /// The line written to devices.allow / devices.deny (cgroup v1).
    pub fn v1_line(&self) -> String {
        let n = |v: i64| {
            if v < 0 {
                "*".to_string()
            } else {
                v.to_string()
            }
        };
        if self.kind == 'a' {
            return "a".to_string();
        }
        format!(
            "{} {}:{} {}",
            self.kind,
            n(self.major),
            n(self.minor),
            self.access
        )
    }
}

/// linux.resources as create (and update) applies it: the device rules resolved (a
/// default deny first, the config's rules in order, then the devices the container is
/// given), every other field as the config gives it. Each controller of `crate::cgroups`
/// reads its own fields and either writes them or says why it cannot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourcesPlan {
    /// The device cgroup rules, complete: a default deny, the config's rules in order,
    /// then the devices the container is given and ptys.
    pub devices: Vec<DeviceRule>,
    /// linux.resources.memory.
    pub memory: writ_spec::LinuxMemory,
    /// linux.resources.cpu.
    pub cpu: writ_spec::LinuxCpu,
    /// linux.resources.pids.limit.
    pub pids_limit: Option<i64>,
    /// linux.resources.blockIO.
    pub block_io: writ_spec::LinuxBlockIo,
    /// linux.resources.hugepageLimits.
    pub hugepage_limits: Vec<writ_spec::LinuxHugepageLimit>,
    /// linux.resources.network.
    pub network: writ_spec::LinuxNetwork,
    /// linux.resources.rdma.
    pub rdma: BTreeMap<String, writ_spec::LinuxRdma>,
    /// linux.unified.
    pub unified: BTreeMap<String, String>,
}

fn resources_of(r: &writ_spec::LinuxResources) -> ResourcesPlan {
    let devices = r
        .devices
        .iter()
        .flatten()
        .map(|d| DeviceRule {
            allow: d.allow,
            kind: d
                .type_
                .as_deref()
                .and_then(|t| t.chars().next())
                .unwrap_or('a'),
            major: d.major.unwrap_or(-1),
            minor: d.minor.unwrap_or(-1),
            access: d.access.clone().unwrap_or_else(|| "rwm".into()),
        })
        .collect();
    ResourcesPlan {
        devices,
        memory: r.memory.clone().unwrap_or_default(),
        cpu: r.cpu.clone().unwrap_or_default(),
        pids_limit: r.pids.as_ref().map(|p| p.limit),
        block_io: r.block_io.clone().unwrap_or_default(),
        hugepage_limits: r.hugepage_limits.clone().unwrap_or_default(),
        network: r.network.clone().unwrap_or_default(),
        rdma: r.rdma.clone().unwrap_or_default(),
        unified: r.unified.clone().unwrap_or_default(),
    }
}

/// The resources, with the device rules complete: every device denied first (the
/// container reaches only the devices it lists and the default ones, as runc), then the
/// config's rules in order, then allowances for the devices the container is given and
/// for ptys, which stay usable whatever the rules say.
#[writ_macros::requirement("config_linux.devices.unlisted_access")]
pub(crate) fn resources_plan(
    resources: Option<&writ_spec::LinuxResources>,
    devices: &[DevicePlan],
) -> ResourcesPlan {
    let mut plan = resources.map(resources_of).unwrap_or_default();
    let rule = |allow, kind, major, minor| DeviceRule {
        allow,
        kind,
        major,
        minor,
        access: "rwm".into(),
    };
    let given = super::devices::with_defaults(devices);
    let given = given.iter().filter(|d| d.kind != libc::S_IFIFO).map(|d| {
        let kind = if d.kind == libc::S_IFBLK { 'b' } else { 'c' };
        rule(true, kind, d.major as i64, d.minor as i64)
    });
    let ptys = [(5, 2), (136, -1), (5, 1)].map(|(major, minor)| rule(true, 'c', major, minor));
    plan.devices = std::iter::once(rule(false, 'a', -1, -1))
        .chain(std::mem::take(&mut plan.devices))
        .chain(given)
        .chain(ptys)
        .collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(resources: serde_json::Value, devices: &[DevicePlan]) -> ResourcesPlan {
        let r: writ_spec::LinuxResources = serde_json::from_value(resources).unwrap();
        resources_plan(Some(&r), devices)
    }

    #[writ_macros::verifies("config_linux.device_allowlist.order")]
    #[test]
    fn device_rules_keep_order_and_allow_given_devices() {
        let p = plan(
            json!({"devices": [
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "access": "r"}
            ]}),
            &[],
        );
        let lines: Vec<String> = p.devices.iter().map(DeviceRule::v1_line).collect();
        // The default deny, then the config's rules in order, then the given devices.
        assert_eq!(lines[..3], ["a", "a", "c 10:* r"]);
        assert!(!p.devices[0].allow && !p.devices[1].allow);
        assert!(p.devices[2].allow);
        assert!(lines[3..].contains(&"c 1:3 rwm".to_string()), "{lines:?}");
        assert!(lines[3..].contains(&"c 136:* rwm".to_string()), "{lines:?}");
    }

    #[writ_macros::verifies("config_linux.devices.unlisted_access")]
    #[test]
    fn without_device_rules_only_the_given_devices_are_allowed() {
        let fuse = DevicePlan {
            path: "/dev/fuse".into(),
            kind: libc::S_IFCHR,
            major: 10,
            minor: 229,
            mode: 0o666,
            uid: 0,
            gid: 0,
        };
        let rules = resources_plan(None, &[fuse]).devices;
        assert_eq!(
            (rules[0].allow, rules[0].v1_line()),
            (false, "a".to_string())
        );
        let allowed: Vec<String> = rules[1..]
            .iter()
            .inspect(|r| assert!(r.allow, "only allowances after the deny: {r:?}"))
            .map(DeviceRule::v1_line)
            .collect();
        for want in [
            "c 10:229 rwm",
            "c 1:3 rwm",
            "c 1:9 rwm",
            "c 5:0 rwm",
            "c 5:2 rwm",
            "c 136:* rwm",
        ] {
            assert!(allowed.iter().any(|l| l == want), "{want} in {allowed:?}");
        }
        assert!(
            !allowed.iter().any(|l| l.starts_with('b') || l == "a"),
            "{allowed:?}"
        );
    }
}
