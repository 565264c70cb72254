//! Resource usage of the container's cgroup, in the JSON shape of runc's `events`
//! (`{"type": "stats", "id": ..., "data": {cpu, cpuset, memory, pids, blkio, hugetlb,
//! intel_rdt, network_interfaces}}`; field names as runc's `types/events.go` spells them,
//! a zero left out where runc leaves it out). Each controller is read where the host has
//! it: its v1 hierarchy, else the cgroup2 directory (a hybrid host's hugetlb). A file the
//! kernel does not have is left out of the numbers, not an error; only a cgroup that is
//! gone is.
//!
//! v1 → runc's fields: `cpuacct.usage`/`usage_percpu`/`usage_all`/`stat` (USER_HZ ticks,
//! made ns), `cpu.stat` throttling; `memory.*` (usage, memsw = "swap" as memory+swap,
//! kmem, kmem.tcp) and `memory.stat`; `pids.current`/`max`;
//! `blkio.throttle.io_service*_recursive` (BFQ's `blkio.bfq.*` when there);
//! `hugetlb.SIZE.*`. cgroup v2: `cpu.stat` (µs made ns), `memory.current`/`max`/`peak`,
//! `memory.events` `max` as the failure count, swap reported as memory+swap like v1,
//! `memory.stat` `file` as the cache; `io.stat` as Read/Write entries;
//! `hugetlb.SIZE.current`, its `events` `max` as the failure count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::record::CgroupState;
use super::CgroupError;

fn zero(n: &u64) -> bool {
    *n == 0
}

/// runc's `stats` data.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// CPU time and throttling.
    pub cpu: Cpu,
    /// The cpuset (where one is mounted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<Cpuset>,
    /// Memory.
    pub memory: Memory,
    /// Processes.
    pub pids: Pids,
    /// Block I/O.
    pub blkio: Blkio,
    /// Huge pages, by page size ("2MB").
    pub hugetlb: BTreeMap<String, Hugetlb>,
    /// Intel RDT (writ reports none).
    pub intel_rdt: BTreeMap<String, u64>,
    /// Network interfaces (runc reports none).
    pub network_interfaces: Option<Vec<String>>,
}

/// CPU.
#[derive(Debug, Default, Serialize)]
pub struct Cpu {
    /// Time used, ns.
    pub usage: CpuUsage,
    /// CFS throttling.
    pub throttling: Throttling,
}

/// CPU time, ns.
#[derive(Debug, Default, Serialize)]
pub struct CpuUsage {
    /// In total.
    #[serde(skip_serializing_if = "zero")]
    pub total: u64,
    /// Per CPU (v1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    /// Per CPU in the kernel (v1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    /// Per CPU in user space (v1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    /// In the kernel.
    pub kernel: u64,
    /// In user space.
    pub user: u64,
}

/// CFS bandwidth throttling.
#[derive(Debug, Default, Serialize)]
pub struct Throttling {
    /// Periods elapsed.
    #[serde(skip_serializing_if = "zero")]
    pub periods: u64,
    /// Periods the group was throttled in.
    #[serde(rename = "throttledPeriods", skip_serializing_if = "zero")]
    pub throttled_periods: u64,
    /// Time throttled, ns.
    #[serde(rename = "throttledTime", skip_serializing_if = "zero")]
    pub throttled_time: u64,
}

/// The cpuset.
#[derive(Debug, Default, Serialize)]
pub struct Cpuset {
    /// CPUs.
    pub cpus: Vec<u32>,
    /// Memory nodes.
    pub mems: Vec<u32>,
}

/// One memory counter.
#[derive(Debug, Default, Serialize)]
pub struct MemoryEntry {
    /// The limit (bytes; u64::MAX-ish when none, as the kernel says).
    pub limit: u64,
    /// Bytes in use.
    #[serde(skip_serializing_if = "zero")]
    pub usage: u64,
    /// The most ever in use.
    #[serde(skip_serializing_if = "zero")]
    pub max: u64,
    /// How often the limit was hit.
    pub failcnt: u64,
}

/// Memory.
#[derive(Debug, Default, Serialize)]
pub struct Memory {
    /// Page cache, bytes.
    #[serde(skip_serializing_if = "zero")]
    pub cache: u64,
    /// Memory.
    pub usage: MemoryEntry,
    /// Memory plus swap.
    pub swap: MemoryEntry,
    /// Kernel memory (v1).
    pub kernel: MemoryEntry,
    /// Kernel TCP buffers (v1).
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    /// memory.stat as it is.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

/// Processes.
#[derive(Debug, Default, Serialize)]
pub struct Pids {
    /// How many now.
    #[serde(skip_serializing_if = "zero")]
    pub current: u64,
    /// The limit (0: none).
    #[serde(skip_serializing_if = "zero")]
    pub limit: u64,
}

/// One block I/O counter of one device.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BlkioEntry {
    /// Device major.
    #[serde(skip_serializing_if = "zero")]
    pub major: u64,
    /// Device minor.
    #[serde(skip_serializing_if = "zero")]
    pub minor: u64,
    /// "Read", "Write", ...
    #[serde(skip_serializing_if = "String::is_empty")]
    pub op: String,
    /// The count.
    #[serde(skip_serializing_if = "zero")]
    pub value: u64,
}

/// Block I/O.
#[derive(Debug, Default, Serialize)]
pub struct Blkio {
    /// Bytes by device and operation.
    #[serde(
        rename = "ioServiceBytesRecursive",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    /// Operations by device and operation.
    #[serde(rename = "ioServicedRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

/// Huge pages of one size.
#[derive(Debug, Default, Serialize)]
pub struct Hugetlb {
    /// Bytes in use.
    #[serde(skip_serializing_if = "zero")]
    pub usage: u64,
    /// The most ever in use (v1).
    #[serde(skip_serializing_if = "zero")]
    pub max: u64,
    /// How often the limit was hit.
    pub failcnt: u64,
}

/// A number file; "max" is u64::MAX; absent or unreadable is 0.
fn num(dir: &Path, file: &str) -> u64 {
    let t = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
    match t.trim() {
        "max" => u64::MAX,
        s => s.parse().unwrap_or(0),
    }
}

/// A `key value` file.
fn keyed(dir: &Path, file: &str) -> BTreeMap<String, u64> {
    let t = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
    t.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// A CPU or node list ("0-2,4").
fn list(dir: &Path, file: &str) -> Vec<u32> {
    let t = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
    let mut out = Vec::new();
    for part in t.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
            out.extend(a..=b);
        }
    }
    out
}

/// Where each controller of the container's cgroup is read: (dir, is v2).
fn dir_of(s: &CgroupState, v1_name: &str) -> Option<(PathBuf, bool)> {
    if let Some(h) = s.v1_with(v1_name) {
        return Some((h.path.clone(), false));
    }
    s.v2().map(|h| (h.path.clone(), true))
}

/// USER_HZ ticks of cpuacct.stat in ns.
const NS_PER_TICK: u64 = 10_000_000;

fn cpu(s: &CgroupState) -> Cpu {
    let mut c = Cpu::default();
    match dir_of(s, "cpuacct") {
        Some((d, false)) => {
            c.usage.total = num(&d, "cpuacct.usage");
            let t = std::fs::read_to_string(d.join("cpuacct.usage_percpu")).unwrap_or_default();
            c.usage.percpu = t
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            let all = std::fs::read_to_string(d.join("cpuacct.usage_all")).unwrap_or_default();
            for l in all.lines().skip(1) {
                let f: Vec<u64> = l
                    .split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect();
                if let [_, user, sys] = f[..] {
                    c.usage.percpu_user.push(user);
                    c.usage.percpu_kernel.push(sys);
                }
            }
            let st = keyed(&d, "cpuacct.stat");
            c.usage.user = st.get("user").copied().unwrap_or(0) * NS_PER_TICK;
            c.usage.kernel = st.get("system").copied().unwrap_or(0) * NS_PER_TICK;
        }
        Some((d, true)) => {
            let st = keyed(&d, "cpu.stat");
            let us = |k: &str| st.get(k).copied().unwrap_or(0) * 1000;
            c.usage.total = us("usage_usec");
            c.usage.user = us("user_usec");
            c.usage.kernel = us("system_usec");
            c.throttling.throttled_time = us("throttled_usec");
            c.throttling.periods = st.get("nr_periods").copied().unwrap_or(0);
            c.throttling.throttled_periods = st.get("nr_throttled").copied().unwrap_or(0);
        }
        None => {}
    }
    if let Some((d, false)) = dir_of(s, "cpu") {
        let st = keyed(&d, "cpu.stat");
        c.throttling.periods = st.get("nr_periods").copied().unwrap_or(0);
        c.throttling.throttled_periods = st.get("nr_throttled").copied().unwrap_or(0);
        c.throttling.throttled_time = st.get("throttled_time").copied().unwrap_or(0);
    }
    c
}

fn memory(s: &CgroupState) -> Memory {
    let mut m = Memory::default();
    let entry = |d: &Path, prefix: &str| MemoryEntry {
        limit: num(d, &format!("{prefix}.limit_in_bytes")),
        usage: num(d, &format!("{prefix}.usage_in_bytes")),
        max: num(d, &format!("{prefix}.max_usage_in_bytes")),
        failcnt: num(d, &format!("{prefix}.failcnt")),
    };
    match dir_of(s, "memory") {
        Some((d, false)) => {
            m.raw = keyed(&d, "memory.stat");
            m.cache = m.raw.get("cache").copied().unwrap_or(0);
            m.usage = entry(&d, "memory");
            m.swap = entry(&d, "memory.memsw");
            m.kernel = entry(&d, "memory.kmem");
            m.kernel_tcp = entry(&d, "memory.kmem.tcp");
        }
        Some((d, true)) => {
            m.raw = keyed(&d, "memory.stat");
            m.cache = m.raw.get("file").copied().unwrap_or(0);
            let fails = |f: &str| keyed(&d, f).get("max").copied().unwrap_or(0);
            m.usage = MemoryEntry {
                limit: num(&d, "memory.max"),
                usage: num(&d, "memory.current"),
                max: num(&d, "memory.peak"),
                failcnt: fails("memory.events"),
            };
            // As v1 counts it: memory plus swap.
            let swap_limit = num(&d, "memory.swap.max");
            m.swap = MemoryEntry {
                limit: if swap_limit == u64::MAX {
                    swap_limit
                } else {
                    swap_limit.saturating_add(m.usage.limit)
                },
                usage: num(&d, "memory.swap.current") + m.usage.usage,
                max: 0,
                failcnt: fails("memory.swap.events"),
            };
        }
        None => {}
    }
    m
}

fn blkio(s: &CgroupState) -> Blkio {
    let mut b = Blkio::default();
    match dir_of(s, "blkio") {
        Some((d, false)) => {
            let read = |name: &str| -> Vec<BlkioEntry> {
                let t = std::fs::read_to_string(d.join(name)).unwrap_or_default();
                t.lines().filter_map(v1_entry).collect()
            };
            let pick = |a: &str, b: &str| {
                let first = read(a);
                if first.is_empty() {
                    read(b)
                } else {
                    first
                }
            };
            b.io_service_bytes_recursive = pick(
                "blkio.throttle.io_service_bytes_recursive",
                "blkio.bfq.io_service_bytes_recursive",
            );
            b.io_serviced_recursive = pick(
                "blkio.throttle.io_serviced_recursive",
                "blkio.bfq.io_serviced_recursive",
            );
        }
        Some((d, true)) => {
            let t = std::fs::read_to_string(d.join("io.stat")).unwrap_or_default();
            for l in t.lines() {
                let mut f = l.split_whitespace();
                let Some((major, minor)) = f.next().and_then(dev) else {
                    continue;
                };
                for kv in f {
                    let Some((k, v)) = kv.split_once('=') else {
                        continue;
                    };
                    let value = v.parse().unwrap_or(0);
                    let (list, op) = match k {
                        "rbytes" => (&mut b.io_service_bytes_recursive, "Read"),
                        "wbytes" => (&mut b.io_service_bytes_recursive, "Write"),
                        "rios" => (&mut b.io_serviced_recursive, "Read"),
                        "wios" => (&mut b.io_serviced_recursive, "Write"),
                        _ => continue,
                    };
                    list.push(BlkioEntry {
                        major,
                        minor,
                        op: op.to_string(),
                        value,
                    });
                }
            }
        }
        None => {}
    }
    b
}

/// "8:0" as (8, 0).
fn dev(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A v1 blkio line "8:0 Read 4096" (the "Total" lines are left out).
fn v1_entry(l: &str) -> Option<BlkioEntry> {
    let mut f = l.split_whitespace();
    let (major, minor) = dev(f.next()?)?;
    let op = f.next()?.to_string();
    let value = f.next()?.parse().ok()?;
    Some(BlkioEntry {
        major,
        minor,
        op,
        value,
    })
}

fn hugetlb(s: &CgroupState) -> BTreeMap<String, Hugetlb> {
    let mut out = BTreeMap::new();
    let Some((d, v2)) = dir_of(s, "hugetlb") else {
        return out;
    };
    let suffix = if v2 { ".current" } else { ".usage_in_bytes" };
    for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(size) = name
            .strip_prefix("hugetlb.")
            .and_then(|n| n.strip_suffix(suffix))
            .filter(|s| !s.contains('.'))
        else {
            continue;
        };
        let h = if v2 {
            Hugetlb {
                usage: num(&d, &name),
                max: 0,
                failcnt: keyed(&d, &format!("hugetlb.{size}.events"))
                    .get("max")
                    .copied()
                    .unwrap_or(0),
            }
        } else {
            Hugetlb {
                usage: num(&d, &name),
                max: num(&d, &format!("hugetlb.{size}.max_usage_in_bytes")),
                failcnt: num(&d, &format!("hugetlb.{size}.failcnt")),
            }
        };
        out.insert(size.to_string(), h);
    }
    out
}

/// The usage of the container's cgroup now. A cgroup that is gone (the container was
/// deleted meanwhile) is an error.
pub fn read(s: &CgroupState) -> Result<Stats, CgroupError> {
    let Some(any) = s.v2().or_else(|| s.hierarchies.first()) else {
        return Ok(Stats::default());
    };
    if !any.path.is_dir() {
        return Err(CgroupError::Read {
            file: any.path.clone(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    let cpuset = match dir_of(s, "cpuset") {
        Some((d, v2)) => {
            let eff = |f: &str| {
                if v2 {
                    format!("{f}.effective")
                } else {
                    f.to_string()
                }
            };
            Some(Cpuset {
                cpus: list(&d, &eff("cpuset.cpus")),
                mems: list(&d, &eff("cpuset.mems")),
            })
        }
        None => None,
    };
    let pids = dir_of(s, "pids").map(|(d, _)| {
        let limit = num(&d, "pids.max");
        Pids {
            current: num(&d, "pids.current"),
            limit: if limit == u64::MAX { 0 } else { limit },
        }
    });
    Ok(Stats {
        cpu: cpu(s),
        cpuset,
        memory: memory(s),
        pids: pids.unwrap_or_default(),
        blkio: blkio(s),
        hugetlb: hugetlb(s),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::{Hierarchy, Version};

    fn state(root: &Path, v1: &[&str], v2: bool) -> CgroupState {
        let mut hierarchies: Vec<Hierarchy> = v1
            .iter()
            .map(|c| Hierarchy {
                name: c.to_string(),
                version: Version::V1,
                controllers: vec![c.to_string()],
                mount: root.join(c),
                path: root.join(c).join("c"),
                created: vec![],
            })
            .collect();
        if v2 {
            hierarchies.push(Hierarchy {
                name: "unified".into(),
                version: Version::V2,
                controllers: vec![],
                mount: root.join("unified"),
                path: root.join("unified/c"),
                created: vec![],
            });
        }
        for h in &hierarchies {
            std::fs::create_dir_all(&h.path).unwrap();
        }
        CgroupState {
            driver: Default::default(),
            relative: "/c".into(),
            hierarchies,
        }
    }

    fn put(dir: &Path, file: &str, text: &str) {
        std::fs::write(dir.join(file), text).unwrap();
    }

    #[test]
    fn v1_files_become_runcs_fields() {
        let t = tempfile::tempdir().unwrap();
        let s = state(
            t.path(),
            &["cpuacct", "cpu", "memory", "pids", "blkio"],
            true,
        );
        for (dir, file, text) in [
            ("cpuacct", "cpuacct.usage", "300\n"),
            ("cpuacct", "cpuacct.usage_percpu", "100 200 \n"),
            (
                "cpuacct",
                "cpuacct.usage_all",
                "cpu user system\n0 60 40\n1 150 50\n",
            ),
            ("cpuacct", "cpuacct.stat", "user 2\nsystem 1\n"),
            (
                "cpu",
                "cpu.stat",
                "nr_periods 5\nnr_throttled 2\nthrottled_time 77\n",
            ),
            ("memory", "memory.usage_in_bytes", "4096\n"),
            ("memory", "memory.limit_in_bytes", "8192\n"),
            ("memory", "memory.memsw.usage_in_bytes", "5000\n"),
            ("memory", "memory.stat", "cache 1024\nrss 2048\n"),
            ("pids", "pids.current", "3\n"),
            ("pids", "pids.max", "max\n"),
            (
                "blkio",
                "blkio.throttle.io_service_bytes_recursive",
                "8:0 Read 512\n8:0 Write 0\nTotal 512\n",
            ),
            ("unified", "hugetlb.2MB.current", "2097152\n"),
            ("unified", "hugetlb.2MB.events", "max 1\n"),
        ] {
            put(&t.path().join(dir).join("c"), file, text);
        }
        let st = read(&s).unwrap();
        let v = serde_json::to_value(&st).unwrap();
        assert_eq!(v["cpu"]["usage"]["total"], 300);
        assert_eq!(v["cpu"]["usage"]["percpu"], serde_json::json!([100, 200]));
        assert_eq!(
            v["cpu"]["usage"]["percpu_kernel"],
            serde_json::json!([40, 50])
        );
        assert_eq!(v["cpu"]["usage"]["user"], 20_000_000);
        assert_eq!(v["cpu"]["usage"]["kernel"], 10_000_000);
        assert_eq!(v["cpu"]["throttling"]["throttledPeriods"], 2);
        assert_eq!(v["memory"]["usage"]["usage"], 4096);
        assert_eq!(v["memory"]["usage"]["limit"], 8192);
        assert_eq!(v["memory"]["swap"]["usage"], 5000);
        assert_eq!(v["memory"]["cache"], 1024);
        assert_eq!(v["memory"]["raw"]["rss"], 2048);
        assert_eq!(v["memory"]["kernelTCP"]["failcnt"], 0);
        assert_eq!(v["pids"], serde_json::json!({"current": 3}));
        assert_eq!(
            v["blkio"]["ioServiceBytesRecursive"],
            serde_json::json!([{"major": 8, "op": "Read", "value": 512}, {"major": 8, "op": "Write"}])
        );
        assert_eq!(
            v["hugetlb"]["2MB"],
            serde_json::json!({"usage": 2097152, "failcnt": 1})
        );
        assert!(v["network_interfaces"].is_null());
        assert_eq!(v["intel_rdt"], serde_json::json!({}));
    }

    #[test]
    fn v2_files_become_runcs_fields() {
        let t = tempfile::tempdir().unwrap();
        let s = state(t.path(), &[], true);
        let d = t.path().join("unified/c");
        for (file, text) in [
            (
                "cpu.stat",
                "usage_usec 7\nuser_usec 4\nsystem_usec 3\nnr_periods 1\n",
            ),
            ("memory.current", "1000\n"),
            ("memory.max", "4000\n"),
            ("memory.swap.current", "10\n"),
            ("memory.swap.max", "max\n"),
            ("memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n"),
            ("memory.stat", "anon 600\nfile 400\n"),
            ("pids.current", "2\n"),
            ("pids.max", "64\n"),
            (
                "io.stat",
                "8:16 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n",
            ),
            ("cpuset.cpus.effective", "0-1\n"),
            ("cpuset.mems.effective", "0\n"),
        ] {
            put(&d, file, text);
        }
        let v = serde_json::to_value(read(&s).unwrap()).unwrap();
        assert_eq!(v["cpu"]["usage"]["total"], 7000);
        assert_eq!(v["cpu"]["usage"]["user"], 4000);
        assert_eq!(v["memory"]["usage"]["failcnt"], 4);
        assert_eq!(v["memory"]["swap"]["usage"], 1010);
        assert_eq!(v["memory"]["swap"]["limit"], u64::MAX);
        assert_eq!(v["memory"]["cache"], 400);
        assert_eq!(v["pids"], serde_json::json!({"current": 2, "limit": 64}));
        assert_eq!(v["blkio"]["ioServicedRecursive"][1]["value"], 2);
        assert_eq!(v["blkio"]["ioServiceBytesRecursive"][0]["minor"], 16);
        assert_eq!(v["cpuset"]["cpus"], serde_json::json!([0, 1]));
        // A cgroup that is gone is an error.
        std::fs::remove_dir_all(&d).unwrap();
        assert!(read(&s).is_err());
    }
}
