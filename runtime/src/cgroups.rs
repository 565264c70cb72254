//! Cgroups (config-linux.md#control-groups) on cgroup v2, v1 and hybrid hosts: the
//! container's cgroup is one directory per mounted hierarchy; memory, pids and cpu limits
//! are written at create; the cgroup is removed at delete.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::ResourcesPlan;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Why a cgroup operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{what} {path}: {msg}")]
    Io {
        what: String,
        path: PathBuf,
        msg: String,
    },
    #[error("cgroupsPath {0:?}: {1}")]
    BadPath(String, String),
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> CgroupError {
    CgroupError::Io {
        what: what.to_string(),
        path: path.to_path_buf(),
        msg: crate::sys::io_text(e),
    }
}

/// One hierarchy the container's cgroup lives in.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    /// Directory name under /sys/fs/cgroup ("memory", "cpu,cpuacct", "unified", "" for a
    /// cgroup2-only host).
    pub name: String,
    /// Controllers of a v1 hierarchy (empty for cgroup2).
    pub controllers: Vec<String>,
    pub v2: bool,
    /// The container's cgroup directory.
    pub path: PathBuf,
}

/// The container's cgroup.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Cgroup {
    /// The path inside each hierarchy, e.g. "/writ/ID".
    pub relative: String,
    pub hierarchies: Vec<Hierarchy>,
    /// Directories this create made (removed at delete, deepest first).
    #[serde(default)]
    pub created: Vec<PathBuf>,
}

/// A mounted hierarchy of the host.
#[derive(Debug, Clone)]
struct HostHierarchy {
    name: String,
    mount: PathBuf,
    /// The mount's root within the hierarchy (non-"/" inside a cgroup namespace).
    root: String,
    controllers: Vec<String>,
    v2: bool,
}

/// The hierarchies mounted under /sys/fs/cgroup (from /proc/self/mountinfo).
fn host_hierarchies() -> Result<Vec<HostHierarchy>, CgroupError> {
    let p = Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(p).map_err(|e| io_err("reading", p, &e))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        let (root, mnt, fstype, superopts) = (l[3], l[4], r[0], r[2]);
        if !(mnt == CGROUP_ROOT || mnt.starts_with("/sys/fs/cgroup/")) {
            continue;
        }
        let name = mnt
            .strip_prefix(CGROUP_ROOT)
            .unwrap_or("")
            .trim_start_matches('/');
        match fstype {
            "cgroup2" => out.push(HostHierarchy {
                name: name.to_string(),
                mount: PathBuf::from(mnt),
                root: root.to_string(),
                controllers: vec![],
                v2: true,
            }),
            "cgroup" => {
                let known = [
                    "cpuset",
                    "cpu",
                    "cpuacct",
                    "blkio",
                    "memory",
                    "devices",
                    "freezer",
                    "net_cls",
                    "perf_event",
                    "net_prio",
                    "hugetlb",
                    "pids",
                    "rdma",
                    "misc",
                ];
                let controllers: Vec<String> = superopts
                    .split(',')
                    .filter(|o| known.contains(o) || o.starts_with("name="))
                    .map(str::to_string)
                    .collect();
                if controllers.is_empty()
                    || out
                        .iter()
                        .any(|h: &HostHierarchy| h.mount == Path::new(mnt))
                {
                    continue;
                }
                out.push(HostHierarchy {
                    name: name.to_string(),
                    mount: PathBuf::from(mnt),
                    root: root.to_string(),
                    controllers,
                    v2: false,
                })
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The caller's own cgroup path in a hierarchy (from /proc/self/cgroup).
fn own_cgroup(h: &HostHierarchy) -> String {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    for line in text.lines() {
        let mut it = line.splitn(3, ':');
        let (Some(_), Some(ctrl), Some(path)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let matches = if h.v2 {
            ctrl.is_empty()
        } else {
            let set: Vec<&str> = ctrl.split(',').collect();
            h.controllers.iter().all(|c| set.contains(&c.as_str()))
        };
        if matches {
            return path.to_string();
        }
    }
    "/".to_string()
}

/// Converts a systemd-style cgroupsPath "slice:prefix:name" into a path.
fn systemd_path(p: &str) -> Result<String, String> {
    let parts: Vec<&str> = p.split(':').collect();
    if parts.len() != 3 {
        return Err("with --systemd-cgroup the path must be slice:prefix:name".into());
    }
    let mut path = String::new();
    let slice = if parts[0].is_empty() {
        "system.slice"
    } else {
        parts[0]
    };
    // "a-b-c.slice" lives in a.slice/a-b.slice/a-b-c.slice.
    let stem = slice.strip_suffix(".slice").unwrap_or(slice);
    let mut acc = String::new();
    for (i, piece) in stem.split('-').enumerate() {
        if i > 0 {
            acc.push('-');
        }
        acc.push_str(piece);
        path.push('/');
        path.push_str(&acc);
        path.push_str(".slice");
    }
    let unit = if parts[2].ends_with(".slice") || parts[2].ends_with(".scope") {
        parts[2].to_string()
    } else if parts[1].is_empty() {
        format!("{}.scope", parts[2])
    } else {
        format!("{}-{}.scope", parts[1], parts[2])
    };
    path.push('/');
    path.push_str(&unit);
    Ok(path)
}

/// Resolves the container's cgroup path: the config's cgroupsPath, or /writ/ID.
#[writ_macros::requirement(
    "config_linux.cgroups_path.form",
    "config_linux.cgroups_path.absolute",
    "config_linux.cgroups_path.relative",
    "config_linux.cgroups_path.stable",
    "config_linux.cgroups_path.default",
    "config_linux.cgroups_path.invalid",
    "config_linux.cgroups_path.invalid.error"
)]
pub fn relative_path(
    cgroups_path: Option<&str>,
    id: &str,
    systemd: bool,
) -> Result<String, CgroupError> {
    let p = match cgroups_path {
        None | Some("") => format!("/writ/{id}"),
        Some(p) if systemd && !p.starts_with('/') => {
            systemd_path(p).map_err(|m| CgroupError::BadPath(p.to_string(), m))?
        }
        Some(p) => p.to_string(),
    };
    if p.split('/').any(|c| c == "..") {
        return Err(CgroupError::BadPath(p, "must not contain ..".into()));
    }
    Ok(p)
}

fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    crate::sys::write_file(path, value.as_bytes()).map_err(|e| CgroupError::Io {
        what: format!("writing {value:?} to"),
        path: path.to_path_buf(),
        msg: crate::sys::io_text(&e),
    })
}

impl Cgroup {
    /// Makes (or reuses) the container's cgroup in every mounted hierarchy and applies the
    /// memory, pids and cpu limits.
    #[writ_macros::requirement(
        "config_linux.cgroups.fitness_check",
        "config_linux.cgroups.fitness_check.error",
        "config_linux.cgroups_path.extra_controllers"
    )]
    pub fn create(relative: &str, res: &ResourcesPlan) -> Result<Cgroup, CgroupError> {
        let mut cg = Cgroup::plan(relative)?;
        cg.make(res)?;
        Ok(cg)
    }

    /// Where the container's cgroup goes in every mounted hierarchy, without making
    /// anything (so that create can record it before it exists).
    pub fn plan(relative: &str) -> Result<Cgroup, CgroupError> {
        let mut cg = Cgroup {
            relative: relative.to_string(),
            hierarchies: Vec::new(),
            created: Vec::new(),
        };
        for h in &host_hierarchies()? {
            // An absolute cgroupsPath is relative to the hierarchy's root; a relative one to
            // the caller's own cgroup.
            let within = if relative.starts_with('/') {
                relative.to_string()
            } else {
                format!("{}/{}", own_cgroup(h).trim_end_matches('/'), relative)
            };
            // Inside a cgroup namespace the mount root is not "/": strip it.
            let within = match within.strip_prefix(h.root.trim_end_matches('/')) {
                Some(rest) if h.root != "/" => rest.to_string(),
                _ => within,
            };
            cg.hierarchies.push(Hierarchy {
                name: h.name.clone(),
                controllers: h.controllers.clone(),
                v2: h.v2,
                path: h.mount.join(within.trim_start_matches('/')),
            });
        }
        Ok(cg)
    }

    /// Makes (or reuses) the planned directories and applies the limits; on failure
    /// removes what it made.
    pub fn make(&mut self, res: &ResourcesPlan) -> Result<(), CgroupError> {
        let result = self.make_dirs().and_then(|_| self.apply(res));
        if let Err(e) = result {
            let _ = self.destroy();
            return Err(e);
        }
        Ok(())
    }

    fn make_dirs(&mut self) -> Result<(), CgroupError> {
        for h in self.hierarchies.clone() {
            let cpuset = !h.v2 && h.controllers.iter().any(|c| c == "cpuset");
            self.mkdir_p(&self.v2_mount(&h), &h.path, cpuset)?;
        }
        Ok(())
    }

    fn mkdir_p(&mut self, mount: &Path, path: &Path, cpuset: bool) -> Result<(), CgroupError> {
        let rel = path.strip_prefix(mount).unwrap_or(path);
        let mut cur = mount.to_path_buf();
        for comp in rel.components() {
            let parent = cur.clone();
            cur.push(comp);
            match std::fs::create_dir(&cur) {
                Ok(()) => {
                    self.created.push(cur.clone());
                    if cpuset {
                        // A v1 cpuset cgroup takes tasks only once cpus and mems are set.
                        for f in ["cpuset.cpus", "cpuset.mems"] {
                            let v = std::fs::read_to_string(parent.join(f)).unwrap_or_default();
                            if !v.trim().is_empty() {
                                write(&cur.join(f), v.trim())?;
                            }
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("creating cgroup", &cur, &e)),
            }
        }
        Ok(())
    }

    fn find(&self, controller: &str) -> Option<&Hierarchy> {
        self.hierarchies
            .iter()
            .find(|h| !h.v2 && h.controllers.iter().any(|c| c == controller))
    }

    /// The cgroup2 hierarchy that has `controller` available (cgroup.controllers).
    fn v2_with(&self, controller: &str) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| {
            h.v2 && h
                .path
                .parent()
                .and_then(|p| std::fs::read_to_string(p.join("cgroup.controllers")).ok())
                .is_some_and(|c| c.split_whitespace().any(|x| x == controller))
        })
    }

    /// Enables controllers in the parents of a v2 cgroup (cgroup.subtree_control).
    fn enable_v2(&self, h: &Hierarchy, controllers: &[&str]) {
        let mount = self.v2_mount(h);
        let mut dirs = Vec::new();
        let mut cur = h.path.parent();
        while let Some(d) = cur {
            dirs.push(d.to_path_buf());
            if d == mount {
                break;
            }
            cur = d.parent();
        }
        for d in dirs.iter().rev() {
            for c in controllers {
                let _ = write(&d.join("cgroup.subtree_control"), &format!("+{c}"));
            }
        }
    }

    /// The mount point of a hierarchy (`/sys/fs/cgroup/<name>`).
    fn v2_mount(&self, h: &Hierarchy) -> PathBuf {
        Path::new(CGROUP_ROOT).join(&h.name)
    }

    /// Writes the memory, pids and cpu limits.
    #[writ_macros::requirement(
        "config_linux.pids.zero_limit",
        "config_linux.unified.v1_conversion",
        "config_linux.device_allowlist.order"
    )]
    pub fn apply(&self, r: &ResourcesPlan) -> Result<(), CgroupError> {
        // Device rules, in order (cgroup v1; cgroup v2 would need an eBPF program).
        if let Some(h) = self.find("devices") {
            for rule in &r.devices {
                let file = if rule.allow {
                    "devices.allow"
                } else {
                    "devices.deny"
                };
                write(&h.path.join(file), &rule.v1_line())?;
            }
        }
        let has_mem =
            r.memory_limit.is_some() || r.memory_reservation.is_some() || r.memory_swap.is_some();
        let has_cpu = r.cpu_shares.is_some() || r.cpu_quota.is_some() || r.cpu_period.is_some();
        let has_cpuset = r.cpu_cpus.is_some() || r.cpu_mems.is_some();
        let v1_mem = self.find("memory");
        let v1_pids = self.find("pids");
        let v1_cpu = self.find("cpu");
        let v1_cpuset = self.find("cpuset");
        let mut v2_needed = Vec::new();
        if has_mem && v1_mem.is_none() {
            v2_needed.push("memory");
        }
        if r.pids_limit.is_some() && v1_pids.is_none() {
            v2_needed.push("pids");
        }
        if has_cpu && v1_cpu.is_none() {
            v2_needed.push("cpu");
        }
        if has_cpuset && v1_cpuset.is_none() {
            v2_needed.push("cpuset");
        }
        for c in &v2_needed {
            if let Some(h) = self.hierarchies.iter().find(|h| h.v2) {
                self.enable_v2(h, &[c]);
            }
        }
        let v2 = |c: &str| self.v2_with(c).map(|h| h.path.clone());
        let missing = |c: &str| CgroupError::Io {
            what: format!("applying {c} limits:"),
            path: PathBuf::from(CGROUP_ROOT),
            msg: format!("the {c} controller is not available on this host"),
        };

        if has_mem {
            if let Some(h) = v1_mem {
                let p = &h.path;
                if let Some(v) = r.memory_reservation {
                    write(&p.join("memory.soft_limit_in_bytes"), &v.to_string())?;
                }
                // memsw must stay >= limit: order the writes accordingly.
                let swap_file = p.join("memory.memsw.limit_in_bytes");
                match (r.memory_limit, r.memory_swap) {
                    (Some(l), Some(s)) => {
                        let cur: i64 = std::fs::read_to_string(p.join("memory.limit_in_bytes"))
                            .ok()
                            .and_then(|s| s.trim().parse().ok())
                            .unwrap_or(i64::MAX);
                        if s == -1 || s > cur {
                            write(&swap_file, &s.to_string())?;
                            write(&p.join("memory.limit_in_bytes"), &l.to_string())?;
                        } else {
                            write(&p.join("memory.limit_in_bytes"), &l.to_string())?;
                            write(&swap_file, &s.to_string())?;
                        }
                    }
                    (Some(l), None) => write(&p.join("memory.limit_in_bytes"), &l.to_string())?,
                    (None, Some(s)) => write(&swap_file, &s.to_string())?,
                    (None, None) => {}
                }
            } else if let Some(p) = v2("memory") {
                if let Some(v) = r.memory_reservation {
                    write(&p.join("memory.low"), &v.to_string())?;
                }
                if let Some(l) = r.memory_limit {
                    write(&p.join("memory.max"), &max_or(l))?;
                }
                if let Some(s) = r.memory_swap {
                    // v1 semantics (memory+swap) converted to swap only.
                    let v = match (s, r.memory_limit) {
                        (-1, _) => "max".to_string(),
                        (s, Some(l)) if l > 0 => (s - l).max(0).to_string(),
                        (s, _) => s.to_string(),
                    };
                    write(&p.join("memory.swap.max"), &v)?;
                }
            } else {
                return Err(missing("memory"));
            }
        }
        if let Some(n) = r.pids_limit {
            // 0 is a real limit (no new processes); only negative values mean unlimited.
            let v = if n < 0 {
                "max".to_string()
            } else {
                n.to_string()
            };
            if let Some(h) = v1_pids {
                write(&h.path.join("pids.max"), &v)?;
            } else if let Some(p) = v2("pids") {
                write(&p.join("pids.max"), &v)?;
            } else {
                return Err(missing("pids"));
            }
        }
        if has_cpu {
            if let Some(h) = v1_cpu {
                if let Some(s) = r.cpu_shares {
                    write(&h.path.join("cpu.shares"), &s.to_string())?;
                }
                if let Some(p) = r.cpu_period {
                    write(&h.path.join("cpu.cfs_period_us"), &p.to_string())?;
                }
                if let Some(q) = r.cpu_quota {
                    write(&h.path.join("cpu.cfs_quota_us"), &q.to_string())?;
                }
            } else if let Some(p) = v2("cpu") {
                if let Some(s) = r.cpu_shares {
                    write(&p.join("cpu.weight"), &shares_to_weight(s).to_string())?;
                }
                if r.cpu_quota.is_some() || r.cpu_period.is_some() {
                    let q = match r.cpu_quota {
                        Some(q) if q > 0 => q.to_string(),
                        _ => "max".to_string(),
                    };
                    let per = r.cpu_period.unwrap_or(100_000);
                    write(&p.join("cpu.max"), &format!("{q} {per}"))?;
                }
            } else {
                return Err(missing("cpu"));
            }
        }
        if has_cpuset {
            let p = match v1_cpuset {
                Some(h) => h.path.clone(),
                None => v2("cpuset").ok_or_else(|| missing("cpuset"))?,
            };
            if let Some(c) = &r.cpu_cpus {
                write(&p.join("cpuset.cpus"), c)?;
            }
            if let Some(m) = &r.cpu_mems {
                write(&p.join("cpuset.mems"), m)?;
            }
        }
        Ok(())
    }

    /// Moves a process into the cgroup in every hierarchy.
    pub fn add(&self, pid: i32) -> Result<(), CgroupError> {
        let s = pid.to_string();
        for h in &self.hierarchies {
            write(&h.path.join("cgroup.procs"), &s)?;
        }
        Ok(())
    }

    /// Every process in the cgroup and its descendants (for `kill --all`).
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let h = self
            .hierarchies
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == "pids"))
            .or_else(|| self.hierarchies.iter().find(|h| h.v2))
            .or_else(|| self.hierarchies.first());
        let Some(h) = h else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        collect_pids(&h.path, &mut out)?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Removes the cgroup directories (children first). Directories that were already gone
    /// are fine; a cgroup that still has processes is an error.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        let mut first_err = None;
        for h in &self.hierarchies {
            if let Err(e) = remove_tree(&h.path) {
                first_err.get_or_insert(e);
            }
        }
        // Parents this create made (deepest first), when empty.
        for d in self.created.iter().rev() {
            if self.hierarchies.iter().any(|h| &h.path == d) {
                continue;
            }
            let _ = std::fs::remove_dir(d);
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The directories to show inside the container for a `cgroup` mount.
    pub fn view(&self, new_cgroupns: bool) -> crate::mounts::CgroupView {
        let mut v = crate::mounts::CgroupView {
            new_cgroupns,
            ..Default::default()
        };
        for h in &self.hierarchies {
            if h.v2 && h.name.is_empty() {
                v.unified_only = Some(h.path.clone());
            } else {
                v.dirs.push((h.name.clone(), h.path.clone()));
            }
        }
        v
    }
}

fn max_or(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

/// cpu.shares (2..262144) to cpu.weight (1..10000), as runc and crun convert.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

fn collect_pids(dir: &Path, out: &mut Vec<i32>) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    match std::fs::read_to_string(&procs) {
        Ok(t) => out.extend(t.lines().filter_map(|l| l.trim().parse::<i32>().ok())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("reading", &procs, &e)),
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                collect_pids(&e.path(), out)?;
            }
        }
    }
    Ok(())
}

fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_tree(&e.path())?;
            }
        }
    }
    // Freshly killed tasks may linger for a moment.
    let mut tries = 0;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 1000 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_micros(500));
            }
            Err(e) => return Err(io_err("removing cgroup", dir, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[writ_macros::verifies(
        "config_linux.cgroups_path.default",
        "config_linux.cgroups_path.absolute",
        "config_linux.cgroups_path.invalid.error"
    )]
    fn default_and_configured_paths() {
        assert_eq!(relative_path(None, "abc", false).unwrap(), "/writ/abc");
        assert_eq!(
            relative_path(Some("/libpod_parent/libpod-x"), "abc", false).unwrap(),
            "/libpod_parent/libpod-x"
        );
        assert!(relative_path(Some("/a/../b"), "abc", false).is_err());
        assert_eq!(
            relative_path(Some("machine-libpod.slice:libpod:abc"), "abc", true).unwrap(),
            "/machine.slice/machine-libpod.slice/libpod-abc.scope"
        );
        assert!(relative_path(Some("bad"), "abc", true).is_err());
    }

    #[test]
    fn shares_convert_to_weight() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1024), 39);
    }

    #[test]
    fn host_hierarchies_are_found() {
        // Every Linux host that runs these tests has some cgroup mount.
        let h = host_hierarchies().unwrap();
        assert!(!h.is_empty());
        assert!(h.iter().all(|h| h.mount.starts_with(CGROUP_ROOT)));
    }
}
