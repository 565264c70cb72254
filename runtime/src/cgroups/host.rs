//! The host's cgroup layout: which hierarchies are mounted where (from mountinfo) and the
//! caller's own cgroup in each (from /proc/self/cgroup). Both come in as text, so the
//! layout logic is tested on any host; [`Host::probe`] reads this host's files.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CgroupError;

/// Where the host's cgroup hierarchies are mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const MOUNTINFO: &str = "/proc/self/mountinfo";
const PROC_CGROUP: &str = "/proc/self/cgroup";

/// The cgroup layout of a host.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// cgroup v1 hierarchies only.
    V1,
    /// One cgroup2 hierarchy mounted at the root, nothing else.
    V2,
    /// cgroup v1 hierarchies and a cgroup2 hierarchy beside them (`unified`).
    Hybrid,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::V1 => "cgroup v1",
            Layout::V2 => "cgroup v2",
            Layout::Hybrid => "hybrid cgroup v1 + v2",
        })
    }
}

/// The version of one hierarchy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    /// A cgroup v1 hierarchy.
    V1,
    /// The unified (cgroup2) hierarchy.
    V2,
}

/// A cgroup hierarchy mounted on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// The mount point relative to the cgroup root ("memory", "cpu,cpuacct", "unified";
    /// "" for a cgroup2 hierarchy mounted at the root).
    pub name: String,
    /// The mount point.
    pub mount: PathBuf,
    /// The mount's root within the hierarchy (not "/" inside a cgroup namespace).
    pub root: String,
    /// v1 or v2.
    pub version: Version,
    /// The controllers of a v1 hierarchy, and `name=...` for a named one (empty for
    /// cgroup2, whose controllers are read from `cgroup.controllers` when needed).
    pub controllers: Vec<String>,
}

/// One line of /proc/self/cgroup: `id:controllers:path`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnLine {
    controllers: Vec<String>,
    path: String,
}

/// What the host offers: the mounted hierarchies and the caller's cgroup in each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Where hierarchies are looked for (`/sys/fs/cgroup` on a real host).
    pub root: PathBuf,
    /// The hierarchies mounted under it.
    pub hierarchies: Vec<Mounted>,
    own: Vec<OwnLine>,
}

/// The v1 controllers writ knows by name (mount options that are not one of these, or
/// `name=...`, are ordinary mount options).
const V1_CONTROLLERS: &[&str] = &[
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

/// Undoes mountinfo's octal escapes (`\040` for a space, ...).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], oct) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Host {
    /// This host: /proc/self/mountinfo and /proc/self/cgroup, hierarchies under
    /// /sys/fs/cgroup.
    pub fn probe() -> Result<Host, CgroupError> {
        // One buffer each, of about twice what a host with a few dozen mounts has.
        let read = |p: &str, size_hint: usize| {
            let text = crate::sys::read_small(p, size_hint).and_then(|b| {
                String::from_utf8(b)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
            });
            text.map_err(|source| CgroupError::Read {
                file: PathBuf::from(p),
                source,
            })
        };
        let host = Host::parse(
            Path::new(CGROUP_ROOT),
            &read(MOUNTINFO, 8192)?,
            &read(PROC_CGROUP, 1024)?,
        );
        if host.hierarchies.is_empty() {
            return Err(CgroupError::NoHierarchy {
                root: host.root,
                mountinfo: PathBuf::from(MOUNTINFO),
            });
        }
        Ok(host)
    }

    /// The hierarchies mounted at or under `root` per `mountinfo`, the caller's cgroups
    /// per `proc_cgroup` (the text of /proc/self/cgroup). A hierarchy mounted twice counts
    /// once (the first mount).
    pub fn parse(root: &Path, mountinfo: &str, proc_cgroup: &str) -> Host {
        let mut hierarchies: Vec<Mounted> = Vec::new();
        let mut seen_devices: Vec<&str> = Vec::new();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            if l.len() < 5 || r.len() < 3 {
                continue;
            }
            let (device, mount_root, mount, fstype, superopts) = (
                l[2],
                unescape(l[3]),
                PathBuf::from(unescape(l[4])),
                r[0],
                r[2],
            );
            let Ok(rel) = mount.strip_prefix(root) else {
                continue;
            };
            let (version, controllers) = match fstype {
                "cgroup2" => (Version::V2, Vec::new()),
                "cgroup" => {
                    let c: Vec<String> = superopts
                        .split(',')
                        .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
                        .map(str::to_string)
                        .collect();
                    if c.is_empty() {
                        continue;
                    }
                    (Version::V1, c)
                }
                _ => continue,
            };
            if seen_devices.contains(&device) || hierarchies.iter().any(|h| h.mount == mount) {
                continue;
            }
            seen_devices.push(device);
            hierarchies.push(Mounted {
                name: rel.to_string_lossy().into_owned(),
                mount,
                root: mount_root,
                version,
                controllers,
            });
        }
        let own = proc_cgroup
            .lines()
            .filter_map(|line| {
                let mut it = line.splitn(3, ':');
                let (_, ctrl, path) = (it.next()?, it.next()?, it.next()?);
                Some(OwnLine {
                    controllers: ctrl
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                        .collect(),
                    path: path.to_string(),
                })
            })
            .collect();
        Host {
            root: root.to_path_buf(),
            hierarchies,
            own,
        }
    }

    /// The layout, or `None` when no hierarchy is mounted.
    pub fn layout(&self) -> Option<Layout> {
        let v1 = self.hierarchies.iter().any(|h| h.version == Version::V1);
        let v2 = self.hierarchies.iter().any(|h| h.version == Version::V2);
        match (v1, v2) {
            (true, true) => Some(Layout::Hybrid),
            (true, false) => Some(Layout::V1),
            (false, true) => Some(Layout::V2),
            (false, false) => None,
        }
    }

    /// The caller's own cgroup in a hierarchy ("/" when /proc/self/cgroup has no line
    /// for it).
    pub fn own_cgroup(&self, h: &Mounted) -> &str {
        self.own
            .iter()
            .find(|l| match h.version {
                Version::V2 => l.controllers.is_empty(),
                Version::V1 => {
                    !l.controllers.is_empty()
                        && h.controllers.iter().all(|c| l.controllers.contains(c))
                }
            })
            .map_or("/", |l| l.path.as_str())
    }

    /// The container's cgroup directory in a hierarchy: an absolute cgroupsPath is
    /// relative to the hierarchy's root, a relative one to the caller's own cgroup; inside
    /// a cgroup namespace the mount's root is taken off.
    pub fn dir_in(&self, h: &Mounted, relative: &str) -> PathBuf {
        let within = if relative.starts_with('/') {
            relative.to_string()
        } else {
            format!("{}/{}", self.own_cgroup(h).trim_end_matches('/'), relative)
        };
        let within = match within.strip_prefix(h.root.trim_end_matches('/')) {
            Some(rest) if h.root != "/" => rest.to_string(),
            _ => within,
        };
        h.mount.join(within.trim_start_matches('/'))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// This machine's mountinfo (hybrid: v1 hierarchies and cgroup2 at unified).
    pub(crate) const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    pub(crate) const V2: &str = "\
25 20 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
26 20 0:23 / /proc rw - proc proc rw
";
    pub(crate) const V1: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
";

    #[test]
    fn layouts_are_told_apart() {
        let root = Path::new(CGROUP_ROOT);
        let h = Host::parse(root, HYBRID, "");
        assert_eq!(h.layout(), Some(Layout::Hybrid));
        assert_eq!(h.hierarchies.len(), 8);
        let u = h
            .hierarchies
            .iter()
            .find(|h| h.version == Version::V2)
            .unwrap();
        assert_eq!(
            (u.name.as_str(), u.mount.as_path()),
            ("unified", Path::new("/sys/fs/cgroup/unified"))
        );
        let named = h.hierarchies.iter().find(|h| h.name == "systemd").unwrap();
        assert_eq!(named.controllers, ["name=systemd"]);
        assert_eq!(Host::parse(root, V2, "").layout(), Some(Layout::V2));
        let v1 = Host::parse(root, V1, "");
        assert_eq!(v1.layout(), Some(Layout::V1));
        assert_eq!(v1.hierarchies[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(Host::parse(root, "", "").layout(), None);
        // Hierarchies outside the root, and a second mount of one, do not count.
        let text = format!("{V2}99 1 0:22 / /mnt/again rw - cgroup2 cgroup2 rw\n77 1 0:22 / /sys/fs/cgroup/x rw - cgroup2 cgroup2 rw\n");
        assert_eq!(Host::parse(root, &text, "").hierarchies.len(), 1);
    }

    #[test]
    fn container_dirs_follow_cgroups_path() {
        let own = "5:devices:/user.slice\n4:memory:/process/x\n0::/init.scope\n";
        let h = Host::parse(Path::new(CGROUP_ROOT), HYBRID, own);
        let mem = h.hierarchies.iter().find(|h| h.name == "memory").unwrap();
        let uni = h.hierarchies.iter().find(|h| h.name == "unified").unwrap();
        let cpu = h.hierarchies.iter().find(|h| h.name == "cpu").unwrap();
        assert_eq!(
            h.dir_in(mem, "/writ/a"),
            Path::new("/sys/fs/cgroup/memory/writ/a")
        );
        assert_eq!(
            h.dir_in(mem, "a/b"),
            Path::new("/sys/fs/cgroup/memory/process/x/a/b")
        );
        assert_eq!(
            h.dir_in(uni, "a"),
            Path::new("/sys/fs/cgroup/unified/init.scope/a")
        );
        assert_eq!(h.dir_in(cpu, "a"), Path::new("/sys/fs/cgroup/cpu/a"));
        // Inside a cgroup namespace rooted at /ns, the mount shows /ns as its root.
        let ns = "25 20 0:22 /ns /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let h = Host::parse(Path::new(CGROUP_ROOT), ns, "0::/ns/me\n");
        assert_eq!(
            h.dir_in(&h.hierarchies[0], "c"),
            Path::new("/sys/fs/cgroup/me/c")
        );
    }

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape(r"/x\\y\0"), r"/x\\y\0");
    }
}
