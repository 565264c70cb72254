//! The plan of linux.resources (config-linux.md#control-groups): the limits
//! `crate::cgroups` writes at create, and the device rules.

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

/// Memory, pids and cpu limits applied at create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcesPlan {
    /// Device cgroup rules in config order, then allowances for the devices the container
    /// is given (cgroup v1 only).
    pub devices: Vec<DeviceRule>,
    /// memory.limit, bytes.
    pub memory_limit: Option<i64>,
    /// memory.reservation, bytes.
    pub memory_reservation: Option<i64>,
    /// memory.swap (memory + swap), bytes.
    pub memory_swap: Option<i64>,
    /// pids.limit.
    pub pids_limit: Option<i64>,
    /// cpu.shares.
    pub cpu_shares: Option<u64>,
    /// cpu.quota, µs per period.
    pub cpu_quota: Option<i64>,
    /// cpu.period, µs.
    pub cpu_period: Option<u64>,
    /// cpu.cpus, a CPU list.
    pub cpu_cpus: Option<String>,
    /// cpu.mems, a memory node list.
    pub cpu_mems: Option<String>,
}

fn resources_of(r: &writ_spec::LinuxResources) -> ResourcesPlan {
    let mem = r.memory.clone().unwrap_or_default();
    let cpu = r.cpu.clone().unwrap_or_default();
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
        memory_limit: mem.limit,
        memory_reservation: mem.reservation,
        memory_swap: mem.swap,
        pids_limit: r.pids.as_ref().map(|p| p.limit),
        cpu_shares: cpu.shares,
        cpu_quota: cpu.quota,
        cpu_period: cpu.period,
        cpu_cpus: cpu.cpus.filter(|s| !s.is_empty()),
        cpu_mems: cpu.mems.filter(|s| !s.is_empty()),
    }
}

/// The resources; with device rules, the devices the container is given stay usable
/// whatever the rules say (as runc), and so do ptys.
pub(super) fn resources_plan(
    resources: Option<&writ_spec::LinuxResources>,
    devices: &[DevicePlan],
) -> ResourcesPlan {
    let mut plan = resources.map(resources_of).unwrap_or_default();
    if plan.devices.is_empty() {
        return plan;
    }
    let given = super::devices::with_defaults(devices);
    let given = given.iter().filter(|d| d.kind != libc::S_IFIFO).map(|d| {
        (
            if d.kind == libc::S_IFBLK { 'b' } else { 'c' },
            d.major as i64,
            d.minor as i64,
        )
    });
    let ptys = [('c', 5, 2), ('c', 136, -1), ('c', 5, 1)];
    for (kind, major, minor) in given.chain(ptys) {
        plan.devices.push(DeviceRule {
            allow: true,
            kind,
            major,
            minor,
            access: "rwm".into(),
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[writ_macros::verifies("config_linux.device_allowlist.order")]
    #[test]
    fn device_rules_keep_order_and_allow_given_devices() {
        let r: writ_spec::LinuxResources = serde_json::from_value(json!({"devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 10, "access": "r"}
        ]}))
        .unwrap();
        let p = resources_plan(Some(&r), &[]);
        let lines: Vec<String> = p.devices.iter().map(DeviceRule::v1_line).collect();
        assert_eq!(lines[0], "a");
        assert!(!p.devices[0].allow);
        assert_eq!(lines[1], "c 10:* r");
        assert!(lines.contains(&"c 1:3 rwm".to_string()), "{lines:?}");
        assert!(lines.contains(&"c 136:* rwm".to_string()), "{lines:?}");
        // Without rules, no allowances either.
        assert!(resources_plan(None, &[]).devices.is_empty());
    }
}
