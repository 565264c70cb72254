//! Intel RDT (config-linux.md#intelrdt) through the resctrl filesystem: the container's
//! CTRL_MON group (named by closID, or after the container), its schemata, an optional
//! MON group, the container process in their `tasks`, and removal at delete.
//!
//! Everything works on a [`Resctrl`] root given as a value ([`Resctrl::at`]), so the file
//! writes and the rules' order are tested on a temporary directory; [`Resctrl::probe`]
//! finds the resctrl mount of the runtime's mount namespace. This project's machine has
//! no resctrl: the rules are verified by the unit tests against an injected root.
//!
//! The rules, in the order `setup` applies them:
//! - no `intelRdt`: nothing here runs, no resctrl filesystem is touched (create does not
//!   call in);
//! - no resctrl mounted: an error;
//! - the group: `<root>/<closID>`, the root itself for closID `/` (the default class of
//!   service), `<root>/<container id>` without closID (made, and removed at delete);
//! - closID with schemas: a missing group is made (and kept at delete), an existing one
//!   must already hold every value the schemas give, else an error (it is never
//!   rewritten: other containers may share it);
//! - closID without schemas: the group must exist (pre-configured), else an error;
//! - schemata: `l3CacheSchema`, then `memBwSchema`, then the `schemata` lines, in one
//!   write to the group's `schemata` file; nothing at all without any of them;
//! - enableMonitoring: a MON group `mon_groups/<container id>` in the group, whose failure
//!   is an error, removed at delete;
//! - the container process goes into the group's `tasks`, then the MON group's.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sys::io_text;

const AT: &str = "/linux/intelRdt";
const MOUNTINFO: &str = "/proc/self/mountinfo";

/// A mounted resctrl filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resctrl {
    /// Where it is mounted.
    pub root: PathBuf,
}

/// What the state keeps of the container's resctrl groups.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RdtState {
    /// The CTRL_MON group the container is in (the resctrl root for closID "/").
    pub group: PathBuf,
    /// Whether create made the group.
    #[serde(default)]
    pub made: bool,
    /// Whether delete removes the group: made by create for a container without closID.
    #[serde(default)]
    pub remove_at_delete: bool,
    /// The MON group made for the container (enableMonitoring); removed at delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mon_group: Option<PathBuf>,
}

/// Why Intel RDT could not be set up or torn down.
#[derive(Debug, thiserror::Error)]
pub enum RdtError {
    /// No resctrl filesystem is mounted.
    #[error("{AT}: no resctrl filesystem is mounted in the runtime's mount namespace (none in {}) [config_linux.intel_rdt.no_resctrl]", mountinfo.display())]
    NoResctrl {
        /// The mountinfo that was read.
        mountinfo: PathBuf,
    },
    /// closID cannot name a group.
    #[error("{AT}/closID: {clos:?} is not a resctrl group name: {why}")]
    BadClos {
        /// closID as given.
        clos: String,
        /// Why it is not a group name.
        why: &'static str,
    },
    /// The pre-configured closID group is missing.
    #[error("{AT}/closID: the pre-configured group {} does not exist (without l3CacheSchema, memBwSchema or schemata the closID group must exist) [config_linux.intel_rdt.preconfigured.assign]", dir.display())]
    NotPreconfigured {
        /// The group's directory.
        dir: PathBuf,
    },
    /// An existing group holds other schemata than the config asks.
    #[error("{AT}: the existing group {} holds {have:?} where the config asks {want:?} [config_linux.intel_rdt.compare_clos]", dir.display())]
    Mismatch {
        /// The group's directory.
        dir: PathBuf,
        /// The schemata the config asks.
        want: String,
        /// The schemata the group holds.
        have: String,
    },
    /// A resctrl file or directory could not be read, written or made.
    #[error("{field}: {what} {}: {}{status} [{requirement}]", path.display(), io_text(source))]
    Io {
        /// The config field (JSON pointer) it is for.
        field: &'static str,
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The kernel's reason from `info/last_cmd_status`, when it gave one.
        status: String,
        /// The requirement it enforces.
        requirement: &'static str,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl Resctrl {
    /// A resctrl filesystem mounted at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Resctrl {
        Resctrl { root: root.into() }
    }

    /// The first resctrl mount of a mountinfo text.
    pub fn from_mountinfo(text: &str) -> Option<Resctrl> {
        text.lines().find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            (right.split(' ').next() == Some("resctrl"))
                .then(|| left.split(' ').nth(4))
                .flatten()
                .map(|m| Resctrl::at(m.replace("\\040", " ")))
        })
    }

    /// The resctrl mount of the runtime's mount namespace.
    #[writ_macros::requirement("config_linux.intel_rdt.no_resctrl")]
    pub fn probe() -> Result<Resctrl, RdtError> {
        let text = std::fs::read_to_string(MOUNTINFO).unwrap_or_default();
        Resctrl::from_mountinfo(&text).ok_or(RdtError::NoResctrl {
            mountinfo: MOUNTINFO.into(),
        })
    }

    /// The kernel's reason for the last refused write (`info/last_cmd_status`), as
    /// " (kernel: ...)", or "".
    fn last_status(&self) -> String {
        match std::fs::read_to_string(self.root.join("info/last_cmd_status")) {
            Ok(s) if !s.trim().is_empty() && s.trim() != "ok" => format!(" (kernel: {})", s.trim()),
            _ => String::new(),
        }
    }
}

/// The schemata lines the config asks for, in the order they are written:
/// l3CacheSchema, memBwSchema, then each line of schemata.
#[writ_macros::requirement(
    "config_linux.intel_rdt.write_both",
    "config_linux.intel_rdt.write_order",
    "config_linux.intel_rdt.write_one",
    "config_linux.intel_rdt.write_schemata"
)]
pub fn schema_lines(rdt: &writ_spec::IntelRdt) -> Vec<String> {
    let fields = [&rdt.l3_cache_schema, &rdt.mem_bw_schema];
    let mut lines: Vec<String> = fields.into_iter().flatten().cloned().collect();
    lines.extend(rdt.schemata.iter().flatten().cloned());
    lines.retain(|l| !l.trim().is_empty());
    lines
}

/// A closID that names a group directly under the root: one path component, not one of
/// resctrl's own directories.
fn check_clos(clos: &str) -> Result<(), RdtError> {
    let why = if clos.is_empty() {
        Some("it is empty")
    } else if clos.contains('/') || clos == "." || clos == ".." {
        Some("it must be one directory name (or \"/\" for the default group)")
    } else if ["info", "mon_groups", "mon_data"].contains(&clos) {
        Some("resctrl uses that name itself")
    } else {
        None
    };
    match why {
        Some(why) => Err(RdtError::BadClos {
            clos: clos.into(),
            why,
        }),
        None => Ok(()),
    }
}

/// The values of a schemata text: (resource, domain) → value, normalised (names
/// trimmed, values lower-case without leading zeros: the kernel prints `7f0` for
/// `07F0`). A line that is not `NAME:dom=val;...` is kept whole.
fn values(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parsed = line.split_once(':').map(|(name, rest)| {
            rest.split(';')
                .map(|d| {
                    let (dom, val) = d.split_once('=')?;
                    let v = val.trim().to_ascii_lowercase();
                    let v = v.trim_start_matches('0');
                    let v = if v.is_empty() { "0" } else { v };
                    Some((
                        name.trim().to_string(),
                        dom.trim().to_string(),
                        v.to_string(),
                    ))
                })
                .collect::<Option<Vec<_>>>()
        });
        match parsed.flatten() {
            Some(v) => out.extend(v),
            None => out.push((line.to_string(), String::new(), String::new())),
        }
    }
    out
}

/// Whether the group's schemata already hold every value of `lines`.
fn holds(schemata: &str, lines: &[String]) -> bool {
    let have = values(schemata);
    values(&lines.join("\n")).iter().all(|v| have.contains(v))
}

fn io_err(
    field: &'static str,
    what: &'static str,
    path: &Path,
    requirement: &'static str,
    r: &Resctrl,
) -> impl FnOnce(std::io::Error) -> RdtError {
    let (path, status) = (path.to_path_buf(), r.last_status());
    move |source| RdtError::Io {
        field,
        what,
        path,
        status,
        requirement,
        source,
    }
}

/// Writes a resctrl file. The kernel makes a group's files with the group, so O_CREAT
/// only opens them there (and makes them in a test root); O_TRUNC is ignored by resctrl.
fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?
        .write_all(text.as_bytes())
}

/// create's first step: without `intelRdt` nothing at all (no resctrl is looked for or
/// touched); with it, the resctrl mount (`probe`, or the `root` given) and the groups'
/// [`plan`], which create records before anything is made.
#[writ_macros::requirement("config_linux.intel_rdt.untouched")]
pub fn plan_for(
    rdt: Option<&writ_spec::IntelRdt>,
    root: Option<Resctrl>,
    id: &str,
) -> Result<Option<(Resctrl, RdtState)>, RdtError> {
    let Some(rdt) = rdt else {
        return Ok(None);
    };
    let r = match root {
        Some(r) => r,
        None => Resctrl::probe()?,
    };
    let s = plan(&r, rdt, id)?;
    Ok(Some((r, s)))
}

/// Where the container's groups go, nothing made: the CTRL_MON group (closID, `/`, or
/// the container's own, which must not exist yet, so that delete never removes a group
/// it did not make), whether delete removes it, and the MON group.
#[writ_macros::requirement(
    "config_linux.intel_rdt.clos_root",
    "config_linux.intel_rdt.default_clos",
    "config_linux.intel_rdt.monitoring.name"
)]
pub fn plan(r: &Resctrl, rdt: &writ_spec::IntelRdt, id: &str) -> Result<RdtState, RdtError> {
    let clos = rdt.clos_id.as_deref();
    let group = match clos {
        Some("/") => r.root.clone(),
        Some(c) => {
            check_clos(c)?;
            r.root.join(c)
        }
        None => r.root.join(id),
    };
    let mon_group =
        (rdt.enable_monitoring == Some(true)).then(|| group.join("mon_groups").join(id));
    for own in std::iter::once(&group)
        .filter(|_| clos.is_none())
        .chain(&mon_group)
    {
        if own.exists() {
            return Err(RdtError::Io {
                field: AT,
                what: "a group of the container's id exists already:",
                path: own.clone(),
                status: String::new(),
                requirement: "config_linux.intel_rdt.default_clos",
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
    }
    Ok(RdtState {
        group,
        made: false,
        remove_at_delete: clos.is_none(),
        mon_group,
    })
}

/// Makes (or checks) the planned groups and writes the schemata (`s.made` says whether
/// the group was made here); the container process is added later ([`add`]). On
/// failure nothing it made is left.
#[writ_macros::requirement(
    "config_linux.intel_rdt.rules",
    "config_linux.intel_rdt.no_write",
    "config_linux.intel_rdt.create_clos",
    "config_linux.intel_rdt.compare_clos",
    "config_linux.intel_rdt.preconfigured.check",
    "config_linux.intel_rdt.preconfigured.assign",
    "config_linux.intel_rdt.monitoring",
    "config_linux.intel_rdt.monitoring.error"
)]
pub fn setup(r: &Resctrl, rdt: &writ_spec::IntelRdt, s: &mut RdtState) -> Result<(), RdtError> {
    let lines = schema_lines(rdt);
    let clos = rdt.clos_id.as_deref();
    let group = s.group.clone();
    match (clos, group.is_dir()) {
        (Some(_), false) if lines.is_empty() => {
            return Err(RdtError::NotPreconfigured { dir: group });
        }
        (Some(_), true) if !lines.is_empty() => {
            let file = group.join("schemata");
            let have = std::fs::read_to_string(&file).map_err(io_err(
                "/linux/intelRdt/closID",
                "reading",
                &file,
                "config_linux.intel_rdt.compare_clos",
                r,
            ))?;
            if !holds(&have, &lines) {
                return Err(RdtError::Mismatch {
                    dir: group,
                    want: lines.join("\n"),
                    have: have.trim().to_string(),
                });
            }
        }
        (Some(_), true) => {}
        // A group of the container's own, or a closID group the schemas call for.
        (_, _) => {
            let requirement = if clos.is_none() {
                "config_linux.intel_rdt.default_clos"
            } else {
                "config_linux.intel_rdt.create_clos"
            };
            std::fs::create_dir(&group).map_err(io_err(
                AT,
                "creating the group",
                &group,
                requirement,
                r,
            ))?;
            s.made = true;
            if let Err(e) = write_schemata(r, &group, &lines) {
                undo(s);
                return Err(e);
            }
        }
    }
    if let Some(mon) = &s.mon_group {
        if let Err(e) = std::fs::create_dir(mon) {
            let err = io_err(
                "/linux/intelRdt/enableMonitoring",
                "creating the MON group",
                mon,
                "config_linux.intel_rdt.monitoring.error",
                r,
            )(e);
            undo(&RdtState {
                mon_group: None,
                ..s.clone()
            });
            return Err(err);
        }
    }
    Ok(())
}

/// Writes the schemata lines, all in one write, in their order; nothing without lines.
fn write_schemata(r: &Resctrl, group: &Path, lines: &[String]) -> Result<(), RdtError> {
    if lines.is_empty() {
        return Ok(());
    }
    let file = group.join("schemata");
    let text = lines.join("\n") + "\n";
    write_file(&file, &text).map_err(io_err(
        AT,
        "writing the schemata to",
        &file,
        "config_linux.intel_rdt.write_schemata",
        r,
    ))
}

/// Puts the container process into the group's tasks, then into the MON group's.
#[writ_macros::requirement("config_linux.intel_rdt.tasks")]
pub fn add(r: &Resctrl, s: &RdtState, pid: i32) -> Result<(), RdtError> {
    for dir in std::iter::once(&s.group).chain(&s.mon_group) {
        let tasks = dir.join("tasks");
        write_file(&tasks, &pid.to_string()).map_err(io_err(
            AT,
            "adding the container process to",
            &tasks,
            "config_linux.intel_rdt.tasks",
            r,
        ))?;
    }
    Ok(())
}

/// Removes what a failed create made.
pub fn undo(s: &RdtState) {
    if let Some(m) = &s.mon_group {
        let _ = std::fs::remove_dir(m);
    }
    if s.made {
        let _ = std::fs::remove_dir(&s.group);
    }
}

/// At delete: the MON group goes, and the group if it was the container's own; a closID
/// group stays. A directory already gone is fine.
#[writ_macros::requirement(
    "config_linux.intel_rdt.remove_created",
    "config_linux.intel_rdt.keep_foreign",
    "config_linux.intel_rdt.monitoring.delete"
)]
pub fn remove(s: &RdtState) -> Result<(), RdtError> {
    let dirs = s
        .mon_group
        .iter()
        .chain(s.remove_at_delete.then_some(&s.group));
    for d in dirs {
        match std::fs::remove_dir(d) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(RdtError::Io {
                    field: AT,
                    what: "removing",
                    path: d.clone(),
                    status: String::new(),
                    requirement: "config_linux.intel_rdt.remove_created",
                    source: e,
                })
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use writ_macros::verifies;

    fn rdt(v: serde_json::Value) -> writ_spec::IntelRdt {
        serde_json::from_value(v).unwrap()
    }

    /// plan, then setup, as create does.
    fn make(r: &Resctrl, c: &writ_spec::IntelRdt, id: &str) -> Result<RdtState, RdtError> {
        let mut s = plan(r, c, id)?;
        setup(r, c, &mut s)?;
        Ok(s)
    }

    /// A resctrl root with a `schemata` and `tasks` file at the top, and `info/`.
    fn root() -> (tempfile::TempDir, Resctrl) {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("info")).unwrap();
        std::fs::create_dir_all(t.path().join("mon_groups")).unwrap();
        std::fs::write(
            t.path().join("schemata"),
            "    L3:0=7ff;1=7ff\n    MB:0=100;1=100\n",
        )
        .unwrap();
        std::fs::write(t.path().join("tasks"), "").unwrap();
        let r = Resctrl::at(t.path());
        (t, r)
    }

    /// Makes a group directory as the kernel would fill it (schemata, tasks, mon_groups).
    fn group(r: &Resctrl, name: &str, schemata: &str) -> PathBuf {
        let g = r.root.join(name);
        std::fs::create_dir_all(g.join("mon_groups")).unwrap();
        std::fs::write(g.join("schemata"), schemata).unwrap();
        std::fs::write(g.join("tasks"), "").unwrap();
        g
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    #[verifies("config_linux.intel_rdt.no_resctrl")]
    #[test]
    fn the_mount_is_found_in_mountinfo_or_it_is_an_error() {
        let info = "24 1 0:5 / /proc rw - proc proc rw\n40 23 0:40 / /sys/fs/resctrl rw,relatime - resctrl resctrl rw\n";
        assert_eq!(
            Resctrl::from_mountinfo(info),
            Some(Resctrl::at("/sys/fs/resctrl"))
        );
        assert_eq!(
            Resctrl::from_mountinfo("24 1 0:5 / /proc rw - proc proc rw\n"),
            None
        );
        // This machine has no resctrl: probe says so, naming the rule.
        if Resctrl::from_mountinfo(&std::fs::read_to_string(MOUNTINFO).unwrap()).is_none() {
            let e = Resctrl::probe().unwrap_err().to_string();
            assert!(
                e.starts_with("/linux/intelRdt: no resctrl filesystem is mounted"),
                "{e}"
            );
            assert!(e.contains("[config_linux.intel_rdt.no_resctrl]"), "{e}");
        }
    }

    #[verifies(
        "config_linux.intel_rdt.write_both",
        "config_linux.intel_rdt.write_order",
        "config_linux.intel_rdt.write_one",
        "config_linux.intel_rdt.write_schemata",
        "config_linux.intel_rdt.default_clos",
        "config_linux.intel_rdt.rules"
    )]
    #[test]
    fn without_clos_id_the_container_gets_its_own_group_and_schemata_go_last() {
        let (_t, r) = root();
        let c = rdt(json!({
            "l3CacheSchema": "L3:0=7f0;1=1f",
            "memBwSchema": "MB:0=20;1=70",
            "schemata": ["L2:0=f;1=f", "MB:0=30"]
        }));
        let s = make(&r, &c, "c1").unwrap();
        assert_eq!(s.group, r.root.join("c1"));
        assert!(s.made && s.remove_at_delete && s.mon_group.is_none());
        // l3CacheSchema first, memBwSchema next, the schemata lines last, in one write.
        assert_eq!(
            read(&s.group.join("schemata")),
            "L3:0=7f0;1=1f\nMB:0=20;1=70\nL2:0=f;1=f\nMB:0=30\n"
        );
        // Only one of the two: that one.
        let one = make(&r, &rdt(json!({"memBwSchema": "MB:0=50"})), "c2").unwrap();
        assert_eq!(read(&one.group.join("schemata")), "MB:0=50\n");
    }

    #[verifies("config_linux.intel_rdt.no_write", "config_linux.intel_rdt.clos_root")]
    #[test]
    fn no_schema_writes_no_schemata_and_clos_slash_is_the_root() {
        let (_t, r) = root();
        let s = make(&r, &rdt(json!({})), "c3").unwrap();
        assert!(s.group.is_dir());
        assert!(
            !s.group.join("schemata").exists(),
            "no schemata file written"
        );
        let before = read(&r.root.join("schemata"));
        let s = make(&r, &rdt(json!({"closID": "/"})), "c4").unwrap();
        assert_eq!(s.group, r.root);
        assert!(!s.made && !s.remove_at_delete);
        // With schemas the root is compared, never written.
        let s = make(
            &r,
            &rdt(json!({"closID": "/", "l3CacheSchema": "L3:0=7FF"})),
            "c5",
        )
        .unwrap();
        assert_eq!(s.group, r.root);
        assert_eq!(read(&r.root.join("schemata")), before);
        add(&r, &s, 4242).unwrap();
        assert_eq!(read(&r.root.join("tasks")), "4242");
    }

    #[verifies(
        "config_linux.intel_rdt.create_clos",
        "config_linux.intel_rdt.compare_clos"
    )]
    #[test]
    fn a_clos_id_group_is_made_when_missing_and_compared_when_present() {
        let (_t, r) = root();
        let c = rdt(json!({"closID": "gold", "l3CacheSchema": "L3:0=00f;1=f"}));
        let s = make(&r, &c, "c6").unwrap();
        assert_eq!(s.group, r.root.join("gold"));
        assert!(
            s.made && !s.remove_at_delete,
            "made, but a closID group stays at delete"
        );
        assert_eq!(read(&s.group.join("schemata")), "L3:0=00f;1=f\n");
        // Present (as the kernel prints it: padded names, no leading zeros): compared.
        group(&r, "silver", "    L3:0=f;1=f\n    MB:0=100;1=100\n");
        let same = rdt(json!({"closID": "silver", "l3CacheSchema": "L3:0=00F;1=f"}));
        let s = make(&r, &same, "c7").unwrap();
        assert!(!s.made);
        assert_eq!(
            read(&s.group.join("schemata")),
            "    L3:0=f;1=f\n    MB:0=100;1=100\n",
            "not rewritten"
        );
        let other = rdt(json!({"closID": "silver", "memBwSchema": "MB:0=50"}));
        let e = make(&r, &other, "c8").unwrap_err().to_string();
        assert!(
            e.contains("[config_linux.intel_rdt.compare_clos]") && e.contains("MB:0=50"),
            "{e}"
        );
    }

    #[verifies(
        "config_linux.intel_rdt.preconfigured.check",
        "config_linux.intel_rdt.preconfigured.assign"
    )]
    #[test]
    fn a_clos_id_without_schemas_joins_the_preconfigured_group_or_fails() {
        let (_t, r) = root();
        let e = make(&r, &rdt(json!({"closID": "bronze"})), "c9")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[config_linux.intel_rdt.preconfigured.assign]"),
            "{e}"
        );
        assert!(!r.root.join("bronze").exists(), "nothing made");
        let g = group(&r, "bronze", "L3:0=1\n");
        let s = make(&r, &rdt(json!({"closID": "bronze"})), "c9").unwrap();
        assert_eq!(s.group, g);
        assert!(!s.made && !s.remove_at_delete);
        assert_eq!(read(&g.join("schemata")), "L3:0=1\n");
    }

    #[verifies(
        "config_linux.intel_rdt.tasks",
        "config_linux.intel_rdt.monitoring",
        "config_linux.intel_rdt.monitoring.name",
        "config_linux.intel_rdt.monitoring.delete",
        "config_linux.intel_rdt.remove_created",
        "config_linux.intel_rdt.keep_foreign"
    )]
    #[test]
    fn monitoring_group_tasks_and_removal() {
        let (_t, r) = root();
        // A new group of a temporary directory has no mon_groups/ (the kernel's has):
        // the MON group cannot be made, which is an error.
        let c = rdt(json!({"enableMonitoring": true}));
        let e = make(&r, &c, "c10").unwrap_err().to_string();
        assert!(
            e.contains("[config_linux.intel_rdt.monitoring.error]"),
            "{e}"
        );
        assert!(
            !r.root.join("c10").exists(),
            "the group made for it is removed again"
        );
        // A group whose mon_groups exists (as the kernel makes it).
        let g = group(&r, "shared", "L3:0=1\n");
        let s = make(
            &r,
            &rdt(json!({"closID": "shared", "enableMonitoring": true})),
            "c11",
        )
        .unwrap();
        let mon = g.join("mon_groups/c11");
        assert_eq!(s.mon_group.as_deref(), Some(mon.as_path()));
        add(&r, &s, 77).unwrap();
        assert_eq!(read(&g.join("tasks")), "77");
        assert_eq!(read(&mon.join("tasks")), "77");
        std::fs::remove_file(mon.join("tasks")).unwrap();
        remove(&s).unwrap();
        assert!(!mon.exists(), "the MON group is removed at delete");
        assert!(g.is_dir(), "a closID group stays");
        // The container's own group is removed at delete (the kernel empties it; here
        // the test removes the files it made).
        let own = make(&r, &rdt(json!({})), "c12").unwrap();
        remove(&own).unwrap();
        assert!(!own.group.exists());
        remove(&own).unwrap();
    }

    #[verifies("config_linux.intel_rdt.untouched")]
    #[test]
    fn without_intel_rdt_nothing_is_touched() {
        let (t, r) = root();
        let before: Vec<_> = std::fs::read_dir(t.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(plan_for(None, Some(r.clone()), "c14").unwrap(), None);
        let after: Vec<_> = std::fs::read_dir(t.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(before, after);
        assert_eq!(read(&r.root.join("tasks")), "");
        let planned = plan_for(Some(&rdt(json!({}))), Some(r), "c14").unwrap();
        assert!(planned.is_some_and(|(_, s)| s.group.ends_with("c14") && !s.group.exists()));
    }

    #[test]
    fn a_group_of_the_containers_id_that_exists_already_is_refused_before_anything() {
        let (_t, r) = root();
        let g = group(&r, "c15", "L3:0=1\n");
        let e = plan(&r, &rdt(json!({})), "c15").unwrap_err().to_string();
        assert!(e.contains("exists already") && e.contains("c15"), "{e}");
        assert!(g.is_dir(), "left as it was");
        std::fs::create_dir_all(g.join("mon_groups/c16")).unwrap();
        let e = plan(
            &r,
            &rdt(json!({"closID": "c15", "enableMonitoring": true})),
            "c16",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("mon_groups/c16"), "{e}");
    }

    #[test]
    fn a_clos_id_is_one_group_name() {
        let (_t, r) = root();
        for bad in ["../x", "a/b", "..", ".", "", "info", "mon_groups"] {
            let e = make(
                &r,
                &rdt(json!({"closID": bad, "l3CacheSchema": "L3:0=1"})),
                "c13",
            )
            .unwrap_err();
            assert!(matches!(e, RdtError::BadClos { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn the_kernels_reason_is_quoted() {
        let (_t, r) = root();
        std::fs::write(
            r.root.join("info/last_cmd_status"),
            "Unknown or unsupported resource name 'L9'\n",
        )
        .unwrap();
        let g = group(&r, "g", "");
        std::fs::remove_file(g.join("schemata")).unwrap();
        std::fs::create_dir(g.join("schemata")).unwrap();
        let e = write_schemata(&r, &g, &["L9:0=1".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("(kernel: Unknown or unsupported resource name 'L9')"),
            "{e}"
        );
    }
}
