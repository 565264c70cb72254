//! What `writ update` asks, as runc's command line gives it: `-r FILE|-` (runc's
//! document, `linux.resources` as JSON) or one flag per field. [`ResourcesUpdate::patch`]
//! makes it the JSON object at `/linux` that [`Container::update`] takes.
//!
//! [`Container::update`]: super::Container::update

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// runc's `update` arguments. A flag left `None` is not asked for; unlike runc, a 0 is a
/// value (a pids limit of 0 is a limit), and `-r` together with a flag is refused (runc
/// silently ignores the flags then).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourcesUpdate {
    /// `-r`: a JSON file of linux.resources, or `-` for stdin.
    pub resources: Option<PathBuf>,
    /// `--memory`: bytes (-1: none).
    pub memory: Option<i64>,
    /// `--memory-swap`: memory plus swap, bytes (-1: unlimited swap).
    pub memory_swap: Option<i64>,
    /// `--memory-reservation`: bytes.
    pub memory_reservation: Option<i64>,
    /// `--kernel-memory`: bytes.
    pub kernel_memory: Option<i64>,
    /// `--kernel-memory-tcp`: bytes.
    pub kernel_memory_tcp: Option<i64>,
    /// `--cpu-share`.
    pub cpu_share: Option<u64>,
    /// `--cpu-quota`: µs per period.
    pub cpu_quota: Option<i64>,
    /// `--cpu-period`: µs.
    pub cpu_period: Option<u64>,
    /// `--cpu-rt-runtime`: µs per period.
    pub cpu_rt_runtime: Option<i64>,
    /// `--cpu-rt-period`: µs.
    pub cpu_rt_period: Option<u64>,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: Option<String>,
    /// `--cpuset-mems`.
    pub cpuset_mems: Option<String>,
    /// `--pids-limit` (-1: none).
    pub pids_limit: Option<i64>,
    /// `--blkio-weight`: 10..1000.
    pub blkio_weight: Option<u16>,
    /// `--l3-cache-schema`: an Intel RDT `L3:` line.
    pub l3_cache_schema: Option<String>,
    /// `--mem-bw-schema`: an Intel RDT `MB:` line.
    pub mem_bw_schema: Option<String>,
}

fn asked(pointer: &str, reason: &str) -> Error {
    Error::Update {
        pointer: pointer.to_string(),
        reason: reason.to_string(),
    }
}

impl ResourcesUpdate {
    /// The update as a JSON object at `/linux` (`resources`, `intelRdt`).
    pub fn patch(&self) -> Result<Value> {
        let mut resources = json!({
            "memory": {
                "limit": self.memory, "swap": self.memory_swap,
                "reservation": self.memory_reservation, "kernel": self.kernel_memory,
                "kernelTCP": self.kernel_memory_tcp,
            },
            "cpu": {
                "shares": self.cpu_share, "quota": self.cpu_quota, "period": self.cpu_period,
                "realtimeRuntime": self.cpu_rt_runtime, "realtimePeriod": self.cpu_rt_period,
                "cpus": self.cpuset_cpus, "mems": self.cpuset_mems,
            },
            "pids": {"limit": self.pids_limit},
            "blockIO": {"weight": self.blkio_weight},
        });
        let mut rdt =
            json!({"l3CacheSchema": self.l3_cache_schema, "memBwSchema": self.mem_bw_schema});
        let flags = prune(&mut resources) | prune(&mut rdt);
        let mut out = json!({});
        if let Some(file) = &self.resources {
            if flags {
                return Err(asked(
                    "/linux/resources",
                    "give either -r FILE or the resource flags, not both",
                ));
            }
            out["resources"] = read_json(file)?;
        } else if !flags {
            return Err(asked(
                "/linux/resources",
                "nothing to update: give -r FILE|- or a resource flag",
            ));
        }
        for (k, v) in [("resources", resources), ("intelRdt", rdt)] {
            if v.as_object().is_some_and(|o| !o.is_empty()) {
                out[k] = v;
            }
        }
        Ok(out)
    }
}

/// Drops the nulls (flags not given) and the objects left empty; whether anything is left.
fn prune(v: &mut Value) -> bool {
    if let Value::Object(o) = v {
        o.retain(|_, x| prune(x));
        !o.is_empty()
    } else {
        !v.is_null()
    }
}

/// The JSON of `file`, or of stdin for `-`.
fn read_json(file: &std::path::Path) -> Result<Value> {
    let what = format!("reading {}", file.display());
    let data = if file.as_os_str() == "-" {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut s).map(|_| s)
    } else {
        std::fs::read(file)
    }
    .map_err(Error::io(what))?;
    serde_json::from_slice(&data).map_err(|e| {
        asked(
            "/linux/resources",
            &format!("{} is not JSON: {e}", file.display()),
        )
    })
}

/// A byte count as runc's `update` flags take it: a number with an optional binary unit
/// (`k`, `m`, `g`, `t`, `p`, in any case, optionally followed by `i` and/or `b`:
/// `64m`, `1.5GiB`, `4096`), or `-1` for no limit.
pub fn parse_bytes(s: &str) -> Result<i64> {
    let bad = |reason: &'static str| Error::Size {
        given: s.to_string(),
        reason,
    };
    let t = s.trim();
    if t == "-1" {
        return Ok(-1);
    }
    let lower = t.to_ascii_lowercase();
    let digits = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits);
    let unit = unit.trim_start();
    let unit = unit.strip_suffix('b').unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => return Err(bad("unknown unit (use k, m, g, t or p)")),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| bad("not a size such as 4096, 64m or 1g"))?;
    let bytes = n * 2f64.powi(shift);
    if !(0.0..9.2e18).contains(&bytes) {
        return Err(bad("out of range"));
    }
    // Whole bytes, as runc rounds.
    Ok(bytes as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_runcs_flags() {
        for (s, n) in [
            ("4096", 4096),
            ("64m", 64 << 20),
            ("64M", 64 << 20),
            ("1g", 1 << 30),
            ("1GiB", 1 << 30),
            ("2kb", 2048),
            ("1.5k", 1536),
            ("-1", -1),
            ("1t", 1 << 40),
        ] {
            assert_eq!(parse_bytes(s).ok(), Some(n), "{s}");
        }
        for bad in ["", "m", "12x", "-5", "1.2.3", "99999999p"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_become_the_patch_and_mixing_is_refused() {
        let u = ResourcesUpdate {
            memory: Some(64 << 20),
            pids_limit: Some(0),
            cpuset_cpus: Some("0".into()),
            l3_cache_schema: Some("L3:0=f".into()),
            ..Default::default()
        };
        assert_eq!(
            u.patch().unwrap(),
            json!({"resources": {"memory": {"limit": 67108864}, "pids": {"limit": 0},
                "cpu": {"cpus": "0"}}, "intelRdt": {"l3CacheSchema": "L3:0=f"}})
        );
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("r.json");
        std::fs::write(&f, r#"{"pids": {"limit": 9}}"#).unwrap();
        let from_file = ResourcesUpdate {
            resources: Some(f.clone()),
            ..Default::default()
        };
        assert_eq!(
            from_file.patch().unwrap(),
            json!({"resources": {"pids": {"limit": 9}}})
        );
        let both = ResourcesUpdate {
            memory: Some(1),
            ..from_file
        };
        assert!(both.patch().unwrap_err().to_string().contains("not both"));
        assert!(ResourcesUpdate::default().patch().is_err());
    }
}
