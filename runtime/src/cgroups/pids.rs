//! The pids controller (config-linux.md#pids).

use std::path::Path;

use super::controller::Controller;
use super::fs::write;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const LIMIT: &str = "/linux/resources/pids/limit";

/// `pids`.
pub struct Pids;

impl Pids {
    /// pids.max: 0 is a real limit (no new processes); only negative values mean
    /// unlimited.
    #[writ_macros::requirement("config_linux.pids.zero_limit")]
    fn max(n: i64) -> String {
        if n < 0 {
            "max".to_string()
        } else {
            n.to_string()
        }
    }

    fn apply(dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        match r.pids_limit {
            Some(n) => write("pids", LIMIT, dir, "pids.max", &Self::max(n)),
            None => Ok(()),
        }
    }
}

impl Controller for Pids {
    fn name(&self) -> &'static str {
        "pids"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        r.pids_limit.map(|_| LIMIT)
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

    #[test]
    fn zero_is_a_limit_and_negative_is_none() {
        let d = files(&["pids.max"]);
        for (n, want) in [(0, "0"), (64, "64"), (-1, "max")] {
            let r = ResourcesPlan {
                pids_limit: Some(n),
                ..Default::default()
            };
            Pids.apply_v1(d.path(), &r).unwrap();
            assert_eq!(read(&d, "pids.max"), want);
        }
    }
}
