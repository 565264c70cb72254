//! The memory controller (config-linux.md#memory): limit, reservation and swap.

use std::path::Path;

use super::controller::Controller;
use super::fs::write;
use super::CgroupError;
use crate::plan::ResourcesPlan;

const LIMIT: &str = "/linux/resources/memory/limit";
const RESERVATION: &str = "/linux/resources/memory/reservation";
const SWAP: &str = "/linux/resources/memory/swap";

/// `memory`.
pub struct Memory;

/// A v2 limit: negative means no limit.
fn max_or(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

/// memory.swap.max from the config's swap, which is memory+swap as on v1: the swap
/// alone is swap minus limit (-1 stays unlimited).
pub fn v2_swap(swap: i64, limit: Option<i64>) -> String {
    match (swap, limit) {
        (-1, _) => "max".to_string(),
        (s, Some(l)) if l > 0 => (s - l).max(0).to_string(),
        (s, _) => s.to_string(),
    }
}

impl Controller for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        [
            (r.memory_limit, LIMIT),
            (r.memory_reservation, RESERVATION),
            (r.memory_swap, SWAP),
        ]
        .into_iter()
        .find_map(|(v, f)| v.map(|_| f))
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        let w = |field, file, v: i64| write("memory", field, dir, file, &v.to_string());
        if let Some(v) = r.memory_reservation {
            w(RESERVATION, "memory.soft_limit_in_bytes", v)?;
        }
        // memory+swap must stay >= limit: order the writes accordingly.
        let swap_file = "memory.memsw.limit_in_bytes";
        match (r.memory_limit, r.memory_swap) {
            (Some(l), Some(s)) => {
                let cur: i64 = std::fs::read_to_string(dir.join("memory.limit_in_bytes"))
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(i64::MAX);
                if s == -1 || s > cur {
                    w(SWAP, swap_file, s)?;
                    w(LIMIT, "memory.limit_in_bytes", l)?;
                } else {
                    w(LIMIT, "memory.limit_in_bytes", l)?;
                    w(SWAP, swap_file, s)?;
                }
            }
            (Some(l), None) => w(LIMIT, "memory.limit_in_bytes", l)?,
            (None, Some(s)) => w(SWAP, swap_file, s)?,
            (None, None) => {}
        }
        Ok(())
    }

    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        if let Some(v) = r.memory_reservation {
            write("memory", RESERVATION, dir, "memory.low", &v.to_string())?;
        }
        if let Some(l) = r.memory_limit {
            write("memory", LIMIT, dir, "memory.max", &max_or(l))?;
        }
        if let Some(s) = r.memory_swap {
            write(
                "memory",
                SWAP,
                dir,
                "memory.swap.max",
                &v2_swap(s, r.memory_limit),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    #[test]
    fn v1_limit_and_swap_are_ordered() {
        let d = files(&[
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "memory.soft_limit_in_bytes",
        ]);
        std::fs::write(d.path().join("memory.limit_in_bytes"), "1000\n").unwrap();
        let r = ResourcesPlan {
            memory_limit: Some(4096),
            memory_swap: Some(8192),
            memory_reservation: Some(2048),
            ..Default::default()
        };
        Memory.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.limit_in_bytes"), "4096");
        assert_eq!(read(&d, "memory.memsw.limit_in_bytes"), "8192");
        assert_eq!(read(&d, "memory.soft_limit_in_bytes"), "2048");
    }

    #[test]
    fn v2_converts_swap_and_unlimited() {
        let d = files(&["memory.max", "memory.swap.max", "memory.low"]);
        let r = ResourcesPlan {
            memory_limit: Some(4096),
            memory_swap: Some(8192),
            ..Default::default()
        };
        Memory.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.max"), "4096");
        assert_eq!(read(&d, "memory.swap.max"), "4096");
        assert_eq!(read(&d, "memory.low"), "");
        let r = ResourcesPlan {
            memory_limit: Some(-1),
            memory_swap: Some(-1),
            ..Default::default()
        };
        Memory.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.max"), "max");
        assert_eq!(read(&d, "memory.swap.max"), "max");
        assert_eq!(v2_swap(100, None), "100");
        assert_eq!(v2_swap(100, Some(200)), "0");
    }

    #[test]
    fn a_missing_file_names_field_controller_and_file() {
        let d = files(&[]);
        let r = ResourcesPlan {
            memory_limit: Some(1),
            ..Default::default()
        };
        let e = Memory.apply_v2(d.path(), &r).unwrap_err().to_string();
        assert!(e.contains("/linux/resources/memory/limit"), "{e}");
        assert!(
            e.contains("memory.max") && e.contains("controller memory"),
            "{e}"
        );
    }
}
