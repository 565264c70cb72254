//! Update (runc's `update`; the spec has no such operation), behind
//! [`Container::update`](super::Container::update): changes the resources of a container
//! that is `created`, `running` or `paused`.
//!
//! The request is a JSON object at `/linux`: `resources` (runc's `update -r` document,
//! `linux.resources`), and optionally `intelRdt` / `memoryPolicy`. It is merged into the
//! stored config member by member (a member it leaves out keeps its value; lists are
//! replaced whole, `unified` is merged by key), and the merged config is checked like a
//! config at create, with writ-spec's rule set: a finding says the JSON pointer and the
//! requirement id, and a member the spec does not define is refused here (a misspelt
//! field would otherwise change nothing without a word).
//!
//! Then each changed field is looked up in the resource catalogue
//! ([`crate::catalogue`]): a "recreate" field refuses the whole update with the
//! catalogue's reason (nothing is written); a value equal to the stored one is no change
//! (engines send the whole resources object back). The live fields are written through
//! the cgroup manager with the controller code create uses; the fields a cgroup file
//! couples are written together (memory limit and swap, which v2 stores as a difference;
//! cpu quota, period and burst, one `cpu.max` on v2; the real-time pair), with
//! `memory.checkBeforeUpdate` as stored, so a limit below the current usage is refused.
//! Last the merged config replaces the stored one, so a later update, `events` or `exec`
//! sees it.

use serde_json::{Map, Value};

use crate::catalogue::{self, Update};
use crate::error::{Error, Result};
use crate::state::{Locked, Status};

/// The members of `/linux` an update may carry.
const MEMBERS: [&str; 3] = ["resources", "intelRdt", "memoryPolicy"];

/// Fields written together with a changed one (see the module documentation).
const COUPLED: &[&[&str]] = &[
    &[
        "/linux/resources/memory/limit",
        "/linux/resources/memory/swap",
        "/linux/resources/memory/checkBeforeUpdate",
    ],
    &[
        "/linux/resources/cpu/quota",
        "/linux/resources/cpu/period",
        "/linux/resources/cpu/burst",
    ],
    &[
        "/linux/resources/cpu/realtimeRuntime",
        "/linux/resources/cpu/realtimePeriod",
    ],
];

/// Updates a locked container with `patch` (an object at `/linux`).
pub(crate) fn update(handle: &Locked, patch: &Value) -> Result<()> {
    let id = handle.id().to_string();
    let status = handle.status();
    if !matches!(status, Status::Created | Status::Running | Status::Paused) {
        return Err(Error::NotRunning { op: "update", id });
    }
    let path = handle.dir.join(crate::state::FROZEN_CONFIG);
    let data = std::fs::read(&path).map_err(|source| Error::ConfigRead {
        path: path.clone(),
        source,
    })?;
    let stored: Value = serde_json::from_slice(&data).map_err(|e| refused("", e.to_string()))?;
    let merged = merge_patch(&stored, patch)?;
    let changed = changed_fields(&normalised(&stored)?, &normalised(&merged)?)?;
    if changed.is_empty() {
        crate::logging::debug(|| format!("update {id}: nothing changes"));
        return Ok(());
    }
    let subset = live_subset(&merged, &changed);
    let resources: writ_spec::LinuxResources =
        serde_json::from_value(subset).map_err(|e| refused("/linux/resources", e.to_string()))?;
    let mut plan = crate::plan::resources::resources_plan(Some(&resources), &[]);
    // Device rules are never live (the catalogue says why): only the fields asked for.
    plan.devices.clear();
    let Some(cg) = super::cgroup_of(&handle.state) else {
        return Err(Error::NoCgroup { op: "update", id });
    };
    cg.apply(&plan).map_err(|source| Error::Cgroup {
        what: "updating the resources",
        id: id.clone(),
        source: Box::new(source),
    })?;
    store(&path, &merged)?;
    crate::logging::debug(|| format!("update {id}: changed {}", changed.join(", ")));
    Ok(())
}

/// An update refused at `pointer` (nothing was changed).
fn refused(pointer: &str, reason: impl Into<String>) -> Error {
    Error::Update {
        pointer: pointer.to_string(),
        reason: reason.into(),
    }
}

/// The stored config with `patch` merged into `/linux`, checked with writ-spec's rule
/// set: the first error, or a member the spec does not define, refuses the update.
#[writ_macros::requirement("config.valid_values.error")]
fn merge_patch(stored: &Value, patch: &Value) -> Result<Value> {
    let Some(members) = patch.as_object() else {
        return Err(refused("/linux", "an update is a JSON object"));
    };
    let mut merged = stored.clone();
    let linux = merged.as_object_mut().map(|o| {
        o.entry("linux")
            .or_insert_with(|| Value::Object(Map::new()))
    });
    let Some(Value::Object(linux)) = linux else {
        return Err(refused("/linux", "the stored config has no linux object"));
    };
    for (k, v) in members {
        if !MEMBERS.contains(&k.as_str()) {
            return Err(refused(
                &format!("/linux/{k}"),
                format!("update changes only {}", MEMBERS.join(", ")),
            ));
        }
        merge(linux.entry(k.clone()).or_insert(Value::Null), v);
    }
    let bytes = serde_json::to_vec(&merged).map_err(|e| refused("", e.to_string()))?;
    let parsed = match writ_spec::parse_config(&bytes) {
        Ok(p) => p.violations,
        Err(e) => e.violations().to_vec(),
    };
    let patched = |p: &str| {
        members
            .keys()
            .any(|k| p.starts_with(&format!("/linux/{k}")))
    };
    let bad = parsed.iter().find(|v| {
        v.is_error() || (v.kind == writ_spec::ViolationKind::Unknown && patched(&v.pointer))
    });
    if let Some(v) = bad {
        let what = if v.is_error() {
            v.message.clone()
        } else {
            "not a member the spec defines".to_string()
        };
        let help = v
            .help
            .as_deref()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return Err(refused(
            v.display_pointer(),
            format!("{what}{help} [{}]", v.requirement),
        ));
    }
    Ok(merged)
}

/// Merges `patch` into `into`: objects member by member, anything else replaced.
fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// `/linux` of a config as writ-spec reads it (defaults filled in, so that `"access":
/// "rwm"` and an absent one compare equal only when they mean the same).
fn normalised(config: &Value) -> Result<Value> {
    let bytes = serde_json::to_vec(config).map_err(|e| refused("", e.to_string()))?;
    let spec = writ_spec::parse_config(&bytes)
        .map_err(|e| refused("", e.to_string()))?
        .value;
    let v = serde_json::to_value(spec.linux).map_err(|e| refused("/linux", e.to_string()))?;
    Ok(v)
}

/// The catalogue fields whose value differs between two `/linux` objects; a change of a
/// "recreate" field, or of one the catalogue does not know, refuses the update.
#[writ_macros::requirement("config_linux.memory.check_before_update")]
fn changed_fields(before: &Value, after: &Value) -> Result<Vec<String>> {
    let fields = catalogue::fields().map_err(|e| refused("", e.to_string()))?;
    let mut changed = Vec::new();
    let mut recreate: Vec<&catalogue::Field> = Vec::new();
    for f in &fields {
        let rel = f.pointer.trim_start_matches("/linux");
        if before.pointer(rel) == after.pointer(rel) {
            continue;
        }
        match f.update {
            Update::Recreate => recreate.push(f),
            Update::Live => changed.push(f.pointer.clone()),
        }
    }
    if let Some((f, more)) = recreate.split_first() {
        let also: Vec<&str> = more.iter().map(|m| m.pointer.as_str()).collect();
        let also = if also.is_empty() {
            String::new()
        } else {
            format!("; also needing a new container: {}", also.join(", "))
        };
        return Err(refused(
            &f.pointer,
            format!(
                "cannot be changed on a running container, create a new one: {}{}{also}",
                f.why,
                ids(&f.ids)
            ),
        ));
    }
    for member in MEMBERS {
        let rel = format!("/{member}");
        let unclassified = before.pointer(&rel) != after.pointer(&rel)
            && !changed
                .iter()
                .any(|c| c.starts_with(&format!("/linux{rel}")));
        if unclassified {
            return Err(refused(
                &format!("/linux{rel}"),
                "a change the resource catalogue does not classify (runtime/data/resources.toml)",
            ));
        }
    }
    Ok(changed)
}

fn ids(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!(" [{}]", ids.join(", "))
    }
}

/// `linux.resources` of `merged` with only the changed fields and those coupled to them.
fn live_subset(merged: &Value, changed: &[String]) -> Value {
    let mut wanted: Vec<&str> = changed.iter().map(String::as_str).collect();
    for group in COUPLED {
        if group.iter().any(|p| wanted.contains(p)) {
            wanted.extend_from_slice(group);
        }
    }
    let mut out = Value::Object(Map::new());
    for p in wanted {
        let Some(rel) = p.strip_prefix("/linux/resources") else {
            continue;
        };
        if let Some(v) = merged.pointer(&format!("/linux/resources{rel}")) {
            set(&mut out, rel, v.clone());
        }
    }
    out
}

/// Sets `rel` (a pointer of object members) in `out`, making the objects on the way.
fn set(out: &mut Value, rel: &str, v: Value) {
    let mut cur = out;
    let tokens: Vec<&str> = rel.trim_start_matches('/').split('/').collect();
    for (i, t) in tokens.iter().enumerate() {
        let Value::Object(o) = cur else { return };
        if i + 1 == tokens.len() {
            o.insert((*t).to_string(), v);
            return;
        }
        cur = o
            .entry((*t).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Replaces the stored config (write to a temporary file, then rename; mode 0600).
fn store(path: &std::path::Path, config: &Value) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("json.update");
    let what = || format!("writing {}", path.display());
    let data = serde_json::to_vec(config).map_err(|e| refused("", e.to_string()))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&data))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(Error::io(what()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> Value {
        json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {"args": ["sh"], "cwd": "/"},
            "linux": {"resources": {
                "memory": {"limit": 1048576},
                "cpu": {"period": 30000},
                "devices": [{"allow": false, "access": "rwm"}],
                "unified": {"memory.high": "1000000"}
            }}
        })
    }

    fn changes(patch: Value) -> Result<Vec<String>> {
        let merged = merge_patch(&stored(), &patch)?;
        changed_fields(&normalised(&stored())?, &normalised(&merged)?)
    }

    #[test]
    fn a_merge_keeps_what_the_patch_leaves_out() {
        let m = merge_patch(
            &stored(),
            &json!({"resources": {"memory": {"reservation": 4096}, "unified": {"pids.max": "9"}}}),
        )
        .unwrap();
        let r = &m["linux"]["resources"];
        assert_eq!(r["memory"], json!({"limit": 1048576, "reservation": 4096}));
        assert_eq!(
            r["unified"],
            json!({"memory.high": "1000000", "pids.max": "9"})
        );
        assert_eq!(r["cpu"]["period"], 30000);
    }

    #[test]
    fn only_changed_fields_count_and_a_repeated_value_is_no_change() {
        assert_eq!(
            changes(json!({"resources": {"memory": {"limit": 2097152}, "pids": {"limit": 5}}}))
                .unwrap(),
            [
                "/linux/resources/memory/limit",
                "/linux/resources/pids/limit"
            ]
        );
        // The devices as stored (the access spelt out or not): no change, accepted.
        let same = json!({"resources": {"devices": [{"allow": false, "access": "rwm"}],
            "memory": {"limit": 1048576}}});
        assert!(changes(same).unwrap().is_empty());
    }

    #[writ_macros::verifies("config.valid_values.error")]
    #[test]
    fn refusals_name_the_pointer_and_the_reason() {
        let e = changes(json!({"resources": {"devices": []}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/linux/resources/devices") && e.contains("create a new one"),
            "{e}"
        );
        assert!(e.contains("config_linux.device_allowlist.order"), "{e}");
        let e = changes(json!({"resources": {"memory": {"limit": "big"}}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/linux/resources/memory/limit"), "{e}");
        assert!(e.contains('[') && e.contains(']'), "a requirement id: {e}");
        let e = changes(json!({"resources": {"memroy": {"limit": 1}}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/linux/resources/memroy") && e.contains("not a member"),
            "{e}"
        );
        let e = changes(json!({"sysctl": {}})).unwrap_err().to_string();
        assert!(
            e.contains("/linux/sysctl") && e.contains("only resources"),
            "{e}"
        );
        let e = changes(json!({"memoryPolicy": {"mode": "MPOL_LOCAL"}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/linux/memoryPolicy/mode") && e.contains("set_mempolicy"),
            "{e}"
        );
        // A burst above the quota breaks a prose rule of the spec.
        let e = changes(json!({"resources": {"cpu": {"quota": 1000, "burst": 5000}}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("config_linux.cpu."), "{e}");
    }

    /// The patch of a catalogue proof, at /linux.
    fn at_linux(f: &catalogue::Field) -> Value {
        let patch: Value = serde_json::from_str(&f.proof.patch).unwrap();
        if f.pointer.starts_with("/linux/resources/") {
            json!({ "resources": patch })
        } else {
            patch
        }
    }

    #[test]
    fn every_recreate_claim_of_the_catalogue_is_refused_with_its_reason() {
        for f in catalogue::fields().unwrap() {
            let r = changes(at_linux(&f));
            if f.update == Update::Live {
                let changed = r.unwrap_or_else(|e| panic!("{}: {e}", f.pointer));
                assert!(changed.contains(&f.pointer), "{}: {changed:?}", f.pointer);
                continue;
            }
            let e = r.expect_err(&f.pointer).to_string();
            let first = e.starts_with(&format!("{}: ", f.pointer)) && e.contains(&f.why);
            let also = e
                .split("also needing a new container: ")
                .nth(1)
                .is_some_and(|l| l.split(", ").any(|p| p == f.pointer));
            assert!(
                e.contains("create a new one") && (first || also),
                "{}: {e}",
                f.pointer
            );
        }
    }

    #[test]
    fn coupled_fields_are_written_together() {
        let merged =
            merge_patch(&stored(), &json!({"resources": {"cpu": {"quota": 20000}}})).unwrap();
        let sub = live_subset(&merged, &["/linux/resources/cpu/quota".to_string()]);
        assert_eq!(sub, json!({"cpu": {"quota": 20000, "period": 30000}}));
        let sub = live_subset(&merged, &["/linux/resources/memory/swap".to_string()]);
        assert_eq!(sub, json!({"memory": {"limit": 1048576}}));
        let sub = live_subset(&merged, &["/linux/resources/unified".to_string()]);
        assert_eq!(sub, json!({"unified": {"memory.high": "1000000"}}));
    }
}
