//! The memory controller (config-linux.md#memory): limit, reservation, swap, the kernel
//! limits, swappiness, the OOM killer switch, hierarchical accounting and
//! checkBeforeUpdate.
//!
//! On cgroup v2 (the conversions crun documents): limit → `memory.max`, reservation →
//! `memory.low`, swap → `memory.swap.max` as swap minus limit (v1's swap counts memory
//! too). cgroup v2 has no kernel or TCP buffer limit, no per-cgroup swappiness and no
//! switch for the OOM killer, and is always hierarchical: a value that asks for one of
//! those (anything but "unlimited", "OOM killer on", "hierarchical") is an error there.

use std::path::Path;

use super::controller::{first_set, Controller};
use super::fs::{read, write};
use super::CgroupError;
use crate::plan::ResourcesPlan;

const LIMIT: &str = "/linux/resources/memory/limit";
const RESERVATION: &str = "/linux/resources/memory/reservation";
const SWAP: &str = "/linux/resources/memory/swap";
const KERNEL: &str = "/linux/resources/memory/kernel";
const KERNEL_TCP: &str = "/linux/resources/memory/kernelTCP";
const SWAPPINESS: &str = "/linux/resources/memory/swappiness";
const DISABLE_OOM: &str = "/linux/resources/memory/disableOOMKiller";
const USE_HIERARCHY: &str = "/linux/resources/memory/useHierarchy";
const CHECK: &str = "/linux/resources/memory/checkBeforeUpdate";

/// What v1 reads back from a limit file that holds no limit.
const V1_UNLIMITED: i64 = 9_223_372_036_854_771_712;

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

/// With checkBeforeUpdate, a new limit below what the cgroup uses now is refused (on v1
/// the kernel would refuse it too, on v2 it would invoke the OOM killer instead).
#[writ_macros::requirement(
    "config_linux.memory.check_before_update",
    "config_linux.memory.check_before_update.reject"
)]
fn check_before_update(dir: &Path, r: &ResourcesPlan, usage_file: &str) -> Result<(), CgroupError> {
    let m = &r.memory;
    let Some(limit) = m
        .limit
        .filter(|l| *l > 0 && m.check_before_update == Some(true))
    else {
        return Ok(());
    };
    let usage: i64 = read(dir, usage_file)?.trim().parse().unwrap_or(0);
    if limit < usage {
        return Err(CgroupError::Value {
            field: LIMIT.into(),
            controller: "memory",
            reason: format!(
                "the new limit {limit} is below the cgroup's current usage {usage} ({}), and {CHECK} is true [config_linux.memory.check_before_update.reject]",
                dir.join(usage_file).display()
            ),
        });
    }
    Ok(())
}

impl Memory {
    /// memory+swap must stay >= limit on v1: the writes are ordered accordingly.
    fn v1_limit_and_swap(dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        let w = |field, file, v: i64| write("memory", field, dir, file, &v.to_string());
        let swap_file = "memory.memsw.limit_in_bytes";
        match (r.memory.limit, r.memory.swap) {
            (Some(l), Some(s)) => {
                let cur: i64 = read(dir, "memory.limit_in_bytes")
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(i64::MAX);
                if s == -1 || s > cur {
                    w(SWAP, swap_file, s)?;
                    w(LIMIT, "memory.limit_in_bytes", l)
                } else {
                    w(LIMIT, "memory.limit_in_bytes", l)?;
                    w(SWAP, swap_file, s)
                }
            }
            (Some(l), None) => w(LIMIT, "memory.limit_in_bytes", l),
            (None, Some(s)) => w(SWAP, swap_file, s),
            (None, None) => Ok(()),
        }
    }

    /// A kernel memory limit on v1. Kernels since 5.16 accept a write to
    /// memory.kmem.limit_in_bytes and ignore it: the value is read back, and a limit that
    /// did not take is an error, not a silent no-op.
    fn v1_kernel(dir: &Path, field: &str, file: &str, v: i64) -> Result<(), CgroupError> {
        write("memory", field, dir, file, &v.to_string())?;
        let now: i64 = read(dir, file)?.trim().parse().unwrap_or(V1_UNLIMITED);
        if v >= 0 && now == V1_UNLIMITED {
            return Err(CgroupError::unsupported(
                field,
                "memory",
                format!(
                    "the kernel accepted {v} for {} but keeps no limit there (kernel memory limits are gone since Linux 5.16)",
                    dir.join(file).display()
                ),
            ));
        }
        Ok(())
    }
}

impl Controller for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        let m = &r.memory;
        first_set(&[
            (m.limit.is_some(), LIMIT),
            (m.reservation.is_some(), RESERVATION),
            (m.swap.is_some(), SWAP),
            (m.kernel.is_some(), KERNEL),
            (m.kernel_tcp.is_some(), KERNEL_TCP),
            (m.swappiness.is_some(), SWAPPINESS),
            (m.disable_oom_killer.is_some(), DISABLE_OOM),
            (m.use_hierarchy.is_some(), USE_HIERARCHY),
            (m.check_before_update.is_some(), CHECK),
        ])
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        let m = &r.memory;
        check_before_update(dir, r, "memory.usage_in_bytes")?;
        if let Some(v) = m.reservation {
            write(
                "memory",
                RESERVATION,
                dir,
                "memory.soft_limit_in_bytes",
                &v.to_string(),
            )?;
        }
        Self::v1_limit_and_swap(dir, r)?;
        if let Some(v) = m.kernel {
            Self::v1_kernel(dir, KERNEL, "memory.kmem.limit_in_bytes", v)?;
        }
        if let Some(v) = m.kernel_tcp {
            write(
                "memory",
                KERNEL_TCP,
                dir,
                "memory.kmem.tcp.limit_in_bytes",
                &v.to_string(),
            )?;
        }
        if let Some(v) = m.swappiness {
            if v > 100 {
                return Err(CgroupError::Value {
                    field: SWAPPINESS.into(),
                    controller: "memory",
                    reason: format!("{v} is outside 0..=100"),
                });
            }
            write(
                "memory",
                SWAPPINESS,
                dir,
                "memory.swappiness",
                &v.to_string(),
            )?;
        }
        if let Some(off) = m.disable_oom_killer {
            let v = if off { "1" } else { "0" };
            write("memory", DISABLE_OOM, dir, "memory.oom_control", v)?;
        }
        if let Some(h) = m.use_hierarchy {
            let v = if h { "1" } else { "0" };
            write("memory", USE_HIERARCHY, dir, "memory.use_hierarchy", v)?;
        }
        Ok(())
    }

    #[writ_macros::requirement(
        "config_linux.unified.v1_conversion",
        "config_linux.unified.v1_conversion.error"
    )]
    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        let m = &r.memory;
        // What v2 cannot express, refused before anything is written.
        let refuse = |field, why: &str| Err(CgroupError::not_on_v2(field, "memory", why));
        if m.kernel.is_some_and(|v| v >= 0) {
            return refuse(
                KERNEL,
                "cgroup v2 has no kernel memory limit (memory.max covers it)",
            );
        }
        if m.kernel_tcp.is_some_and(|v| v >= 0) {
            return refuse(
                KERNEL_TCP,
                "cgroup v2 has no TCP buffer limit (memory.max covers it)",
            );
        }
        if m.swappiness.is_some() {
            return refuse(SWAPPINESS, "cgroup v2 has no per-cgroup swappiness");
        }
        if m.disable_oom_killer == Some(true) {
            return refuse(
                DISABLE_OOM,
                "cgroup v2 cannot switch the OOM killer off for a cgroup",
            );
        }
        if m.use_hierarchy == Some(false) {
            return refuse(USE_HIERARCHY, "cgroup v2 accounting is always hierarchical");
        }
        check_before_update(dir, r, "memory.current")?;
        if let Some(v) = m.reservation {
            write("memory", RESERVATION, dir, "memory.low", &v.to_string())?;
        }
        if let Some(l) = m.limit {
            write("memory", LIMIT, dir, "memory.max", &max_or(l))?;
        }
        if let Some(s) = m.swap {
            write("memory", SWAP, dir, "memory.swap.max", &v2_swap(s, m.limit))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    fn plan(m: writ_spec::LinuxMemory) -> ResourcesPlan {
        ResourcesPlan {
            memory: m,
            ..Default::default()
        }
    }

    #[test]
    fn v1_limit_and_swap_are_ordered() {
        let d = files(&[
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "memory.soft_limit_in_bytes",
        ]);
        std::fs::write(d.path().join("memory.limit_in_bytes"), "1000\n").unwrap();
        let r = plan(writ_spec::LinuxMemory {
            limit: Some(4096),
            swap: Some(8192),
            reservation: Some(2048),
            ..Default::default()
        });
        Memory.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.limit_in_bytes"), "4096");
        assert_eq!(read(&d, "memory.memsw.limit_in_bytes"), "8192");
        assert_eq!(read(&d, "memory.soft_limit_in_bytes"), "2048");
    }

    #[test]
    fn v1_writes_every_other_memory_field() {
        let d = files(&[
            "memory.kmem.tcp.limit_in_bytes",
            "memory.swappiness",
            "memory.oom_control",
            "memory.use_hierarchy",
        ]);
        let r = plan(writ_spec::LinuxMemory {
            kernel_tcp: Some(1 << 20),
            swappiness: Some(10),
            disable_oom_killer: Some(true),
            use_hierarchy: Some(true),
            ..Default::default()
        });
        assert_eq!(Memory.requested(&r), Some(KERNEL_TCP));
        Memory.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.kmem.tcp.limit_in_bytes"), "1048576");
        assert_eq!(read(&d, "memory.swappiness"), "10");
        assert_eq!(read(&d, "memory.oom_control"), "1");
        assert_eq!(read(&d, "memory.use_hierarchy"), "1");
        let too_swappy = plan(writ_spec::LinuxMemory {
            swappiness: Some(101),
            ..Default::default()
        });
        let e = Memory
            .apply_v1(d.path(), &too_swappy)
            .unwrap_err()
            .to_string();
        assert!(e.contains(SWAPPINESS) && e.contains("0..=100"), "{e}");
    }

    #[test]
    fn v1_kernel_limit_the_kernel_ignores_is_an_error() {
        let d = files(&["memory.kmem.limit_in_bytes"]);
        let r = plan(writ_spec::LinuxMemory {
            kernel: Some(1 << 20),
            ..Default::default()
        });
        // A file that keeps what is written: the limit took.
        Memory.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.kmem.limit_in_bytes"), "1048576");
        // A kernel that keeps no limit there (what Linux 6.18 reads back): refused.
        let file = d.path().join("memory.kmem.limit_in_bytes");
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink("/dev/null", &file).unwrap();
        let e = Memory.apply_v1(d.path(), &r).unwrap_err().to_string();
        assert!(e.contains(KERNEL), "{e}");
        // -1 (unlimited) asks nothing the kernel could ignore.
        let unlimited = plan(writ_spec::LinuxMemory {
            kernel: Some(-1),
            ..Default::default()
        });
        Memory.apply_v1(d.path(), &unlimited).unwrap();
    }

    #[test]
    fn v2_converts_swap_and_unlimited() {
        let d = files(&[
            "memory.max",
            "memory.swap.max",
            "memory.low",
            "memory.current",
        ]);
        let r = plan(writ_spec::LinuxMemory {
            limit: Some(4096),
            swap: Some(8192),
            ..Default::default()
        });
        Memory.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.max"), "4096");
        assert_eq!(read(&d, "memory.swap.max"), "4096");
        assert_eq!(read(&d, "memory.low"), "");
        let r = plan(writ_spec::LinuxMemory {
            limit: Some(-1),
            swap: Some(-1),
            ..Default::default()
        });
        Memory.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.max"), "max");
        assert_eq!(read(&d, "memory.swap.max"), "max");
        assert_eq!(v2_swap(100, None), "100");
        assert_eq!(v2_swap(100, Some(200)), "0");
    }

    #[writ_macros::verifies("config_linux.unified.v1_conversion.error")]
    #[test]
    fn v2_refuses_what_it_cannot_express_and_accepts_its_own_defaults() {
        let d = files(&["memory.max", "memory.current"]);
        let refused = [
            (
                KERNEL,
                writ_spec::LinuxMemory {
                    kernel: Some(1 << 20),
                    ..Default::default()
                },
            ),
            (
                KERNEL_TCP,
                writ_spec::LinuxMemory {
                    kernel_tcp: Some(1 << 20),
                    ..Default::default()
                },
            ),
            (
                SWAPPINESS,
                writ_spec::LinuxMemory {
                    swappiness: Some(0),
                    ..Default::default()
                },
            ),
            (
                DISABLE_OOM,
                writ_spec::LinuxMemory {
                    disable_oom_killer: Some(true),
                    ..Default::default()
                },
            ),
            (
                USE_HIERARCHY,
                writ_spec::LinuxMemory {
                    use_hierarchy: Some(false),
                    ..Default::default()
                },
            ),
        ];
        for (field, m) in refused {
            let e = Memory
                .apply_v2(
                    d.path(),
                    &plan(writ_spec::LinuxMemory {
                        limit: Some(1),
                        ..m
                    }),
                )
                .unwrap_err()
                .on(crate::cgroups::Layout::V2)
                .to_string();
            assert!(e.starts_with(field), "{e}");
            assert!(
                e.contains("cgroup v2 host") && e.contains("v1_conversion.error"),
                "{e}"
            );
            assert_eq!(
                read(&d, "memory.max"),
                "",
                "nothing written before the refusal"
            );
        }
        let defaults = plan(writ_spec::LinuxMemory {
            kernel: Some(-1),
            kernel_tcp: Some(-1),
            disable_oom_killer: Some(false),
            use_hierarchy: Some(true),
            limit: Some(4096),
            ..Default::default()
        });
        Memory.apply_v2(d.path(), &defaults).unwrap();
        assert_eq!(read(&d, "memory.max"), "4096");
    }

    #[writ_macros::verifies(
        "config_linux.memory.check_before_update",
        "config_linux.memory.check_before_update.reject"
    )]
    #[test]
    fn check_before_update_refuses_a_limit_below_usage() {
        for (usage_file, apply) in [
            (
                "memory.current",
                Memory::apply_v2 as fn(&Memory, &Path, &ResourcesPlan) -> _,
            ),
            ("memory.usage_in_bytes", Memory::apply_v1),
        ] {
            let d = files(&["memory.max", "memory.limit_in_bytes", usage_file]);
            std::fs::write(d.path().join(usage_file), "8192\n").unwrap();
            let m = |limit, check| {
                plan(writ_spec::LinuxMemory {
                    limit: Some(limit),
                    check_before_update: Some(check),
                    ..Default::default()
                })
            };
            let e = apply(&Memory, d.path(), &m(4096, true))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(LIMIT) && e.contains("8192") && e.contains(CHECK),
                "{e}"
            );
            assert_eq!(read(&d, "memory.max"), "");
            assert_eq!(read(&d, "memory.limit_in_bytes"), "");
            // Above the usage, or without the check, the limit is written.
            apply(&Memory, d.path(), &m(16384, true)).unwrap();
            apply(&Memory, d.path(), &m(4096, false)).unwrap();
        }
    }

    #[test]
    fn a_missing_file_names_field_controller_and_file() {
        let d = files(&["memory.current"]);
        let r = plan(writ_spec::LinuxMemory {
            limit: Some(1),
            ..Default::default()
        });
        let e = Memory.apply_v2(d.path(), &r).unwrap_err().to_string();
        assert!(e.contains("/linux/resources/memory/limit"), "{e}");
        assert!(
            e.contains("memory.max")
                && e.contains("memory controller")
                && e.contains("does not exist"),
            "{e}"
        );
    }
}
