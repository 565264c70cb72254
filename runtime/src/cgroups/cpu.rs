//! The cpu controller (config-linux.md#cpu): shares, quota, period, burst, the realtime
//! runtime and period, and idle.
//!
//! On cgroup v2 (the conversions crun documents): shares → `cpu.weight` (2..262144 onto
//! 1..10000), quota and period → `cpu.max` together, burst → `cpu.max.burst`, idle →
//! `cpu.idle`. cgroup v2 has no realtime group scheduling: realtimeRuntime and
//! realtimePeriod are an error there.

use std::path::Path;

use super::controller::{first_set, Controller};
use super::fs::write;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const SHARES: &str = "/linux/resources/cpu/shares";
const QUOTA: &str = "/linux/resources/cpu/quota";
const PERIOD: &str = "/linux/resources/cpu/period";
const BURST: &str = "/linux/resources/cpu/burst";
const RT_RUNTIME: &str = "/linux/resources/cpu/realtimeRuntime";
const RT_PERIOD: &str = "/linux/resources/cpu/realtimePeriod";
const IDLE: &str = "/linux/resources/cpu/idle";

/// `cpu`.
pub struct Cpu;

/// cpu.shares (2..262144) to cpu.weight (1..10000), as runc and crun convert.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

fn w(field: &str, dir: &Path, file: &str, v: impl ToString) -> Result<(), CgroupError> {
    write("cpu", field, dir, file, &v.to_string())
}

impl Controller for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        let c = &r.cpu;
        first_set(&[
            (c.shares.is_some(), SHARES),
            (c.quota.is_some(), QUOTA),
            (c.period.is_some(), PERIOD),
            (c.burst.is_some(), BURST),
            (c.realtime_runtime.is_some(), RT_RUNTIME),
            (c.realtime_period.is_some(), RT_PERIOD),
            (c.idle.is_some(), IDLE),
        ])
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        let c = &r.cpu;
        if let Some(s) = c.shares {
            w(SHARES, dir, "cpu.shares", s)?;
        }
        // The period first: a quota is checked against it; the burst after the quota it
        // must not exceed.
        if let Some(p) = c.period {
            w(PERIOD, dir, "cpu.cfs_period_us", p)?;
        }
        if let Some(q) = c.quota {
            w(QUOTA, dir, "cpu.cfs_quota_us", q)?;
        }
        if let Some(b) = c.burst {
            w(BURST, dir, "cpu.cfs_burst_us", b)?;
        }
        // The realtime period before the runtime that must fit in it.
        if let Some(p) = c.realtime_period {
            w(RT_PERIOD, dir, "cpu.rt_period_us", p)?;
        }
        if let Some(rt) = c.realtime_runtime {
            w(RT_RUNTIME, dir, "cpu.rt_runtime_us", rt)?;
        }
        if let Some(i) = c.idle {
            w(IDLE, dir, "cpu.idle", i)?;
        }
        Ok(())
    }

    #[writ_macros::requirement(
        "config_linux.unified.v1_conversion",
        "config_linux.unified.v1_conversion.error"
    )]
    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        let c = &r.cpu;
        for (set, field) in [
            (c.realtime_runtime.is_some(), RT_RUNTIME),
            (c.realtime_period.is_some(), RT_PERIOD),
        ] {
            if set {
                return Err(CgroupError::not_on_v2(
                    field,
                    "cpu",
                    "cgroup v2 has no realtime group scheduling (no cpu.rt_* files)",
                ));
            }
        }
        if let Some(s) = c.shares {
            w(SHARES, dir, "cpu.weight", shares_to_weight(s))?;
        }
        if c.quota.is_some() || c.period.is_some() {
            let q = match c.quota {
                Some(q) if q > 0 => q.to_string(),
                _ => "max".to_string(),
            };
            let per = c.period.unwrap_or(100_000);
            let field = if c.quota.is_some() { QUOTA } else { PERIOD };
            w(field, dir, "cpu.max", format!("{q} {per}"))?;
        }
        if let Some(b) = c.burst {
            w(BURST, dir, "cpu.max.burst", b)?;
        }
        if let Some(i) = c.idle {
            w(IDLE, dir, "cpu.idle", i)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    fn plan(c: writ_spec::LinuxCpu) -> ResourcesPlan {
        ResourcesPlan {
            cpu: c,
            ..Default::default()
        }
    }

    #[test]
    fn shares_convert_to_weight() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(0), 100);
    }

    #[test]
    fn v1_and_v2_files() {
        let r = plan(writ_spec::LinuxCpu {
            shares: Some(512),
            quota: Some(50_000),
            period: Some(100_000),
            burst: Some(10_000),
            idle: Some(1),
            ..Default::default()
        });
        let d = files(&[
            "cpu.shares",
            "cpu.cfs_period_us",
            "cpu.cfs_quota_us",
            "cpu.cfs_burst_us",
            "cpu.idle",
        ]);
        Cpu.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "cpu.shares"), "512");
        assert_eq!(read(&d, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&d, "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&d, "cpu.cfs_burst_us"), "10000");
        assert_eq!(read(&d, "cpu.idle"), "1");
        let d = files(&["cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle"]);
        Cpu.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "cpu.weight"), "20");
        assert_eq!(read(&d, "cpu.max"), "50000 100000");
        assert_eq!(read(&d, "cpu.max.burst"), "10000");
        assert_eq!(read(&d, "cpu.idle"), "1");
        let r = plan(writ_spec::LinuxCpu {
            period: Some(20_000),
            ..Default::default()
        });
        Cpu.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "cpu.max"), "max 20000");
    }

    #[writ_macros::verifies("config_linux.unified.v1_conversion.error")]
    #[test]
    fn realtime_fields_go_to_v1_and_are_refused_on_v2() {
        let r = plan(writ_spec::LinuxCpu {
            realtime_runtime: Some(10_000),
            realtime_period: Some(1_000_000),
            shares: Some(512),
            ..Default::default()
        });
        let d = files(&["cpu.shares", "cpu.rt_period_us", "cpu.rt_runtime_us"]);
        Cpu.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "cpu.rt_runtime_us"), "10000");
        assert_eq!(read(&d, "cpu.rt_period_us"), "1000000");
        let d = files(&["cpu.weight"]);
        let e = Cpu.apply_v2(d.path(), &r).unwrap_err().to_string();
        assert!(e.contains(RT_RUNTIME) && e.contains("realtime"), "{e}");
        assert_eq!(
            read(&d, "cpu.weight"),
            "",
            "nothing written before the refusal"
        );
    }
}
