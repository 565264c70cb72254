//! The cpu controller (config-linux.md#cpu): shares, quota and period.

use std::path::Path;

use super::controller::Controller;
use super::fs::write;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const SHARES: &str = "/linux/resources/cpu/shares";
const QUOTA: &str = "/linux/resources/cpu/quota";
const PERIOD: &str = "/linux/resources/cpu/period";

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

impl Controller for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        r.cpu_shares
            .map(|_| SHARES)
            .or(r.cpu_quota.map(|_| QUOTA))
            .or(r.cpu_period.map(|_| PERIOD))
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        if let Some(s) = r.cpu_shares {
            write("cpu", SHARES, dir, "cpu.shares", &s.to_string())?;
        }
        // The period first: a quota is checked against it.
        if let Some(p) = r.cpu_period {
            write("cpu", PERIOD, dir, "cpu.cfs_period_us", &p.to_string())?;
        }
        if let Some(q) = r.cpu_quota {
            write("cpu", QUOTA, dir, "cpu.cfs_quota_us", &q.to_string())?;
        }
        Ok(())
    }

    #[writ_macros::requirement("config_linux.unified.v1_conversion")]
    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        if let Some(s) = r.cpu_shares {
            let w = shares_to_weight(s).to_string();
            write("cpu", SHARES, dir, "cpu.weight", &w)?;
        }
        if r.cpu_quota.is_some() || r.cpu_period.is_some() {
            let q = match r.cpu_quota {
                Some(q) if q > 0 => q.to_string(),
                _ => "max".to_string(),
            };
            let per = r.cpu_period.unwrap_or(100_000);
            let field = if r.cpu_quota.is_some() { QUOTA } else { PERIOD };
            write("cpu", field, dir, "cpu.max", &format!("{q} {per}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    #[test]
    fn shares_convert_to_weight() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(0), 100);
    }

    #[test]
    fn v1_and_v2_files() {
        let r = ResourcesPlan {
            cpu_shares: Some(512),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            ..Default::default()
        };
        let d = files(&["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"]);
        Cpu.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "cpu.shares"), "512");
        assert_eq!(read(&d, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&d, "cpu.cfs_period_us"), "100000");
        let d = files(&["cpu.weight", "cpu.max"]);
        Cpu.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "cpu.weight"), "20");
        assert_eq!(read(&d, "cpu.max"), "50000 100000");
        let r = ResourcesPlan {
            cpu_period: Some(20_000),
            ..Default::default()
        };
        Cpu.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "cpu.max"), "max 20000");
    }
}
