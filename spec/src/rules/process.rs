//! `process`.

use std::collections::HashMap;

use serde_json::Value;
use writ_macros::requirement;

use super::names::{capability_number, CAPABILITIES, RLIMITS};
use super::{absolute, has, items, object, string, Findings, Ptr};
use crate::validation::closest;

pub(super) fn check(config: &Value, f: &mut Findings) {
    let Some(p) = object(config, "process") else {
        return;
    };
    let at = Ptr::root().key("process");
    cwd_absolute(p, &at, f);
    args_non_empty(p, &at, f);
    rlimits_unique(p, &at, f);
    rlimit_types(p, &at, f);
    capability_names(p, &at, f);
    io_priority_level(p, &at, f);
    user_ids(p, &at, f);
}

#[requirement("config.process.cwd.absolute")]
fn cwd_absolute(p: &Value, at: &Ptr, f: &mut Findings) {
    if let Some(cwd) = string(p, "cwd") {
        if !absolute(cwd) {
            f.report(
                "config.process.cwd.absolute",
                &at.key("cwd"),
                format!("working directory {cwd:?} is not an absolute path"),
            );
        }
    }
}

#[requirement("config.process.args.non_empty")]
fn args_non_empty(p: &Value, at: &Ptr, f: &mut Findings) {
    let message = match p.get("args") {
        None => "process.args is missing: on Linux it names the program to run",
        Some(Value::Array(a)) if a.is_empty() => {
            "process.args is empty: on Linux its first entry is the program to run"
        }
        // Other JSON types are reported by the schema check.
        Some(_) => return,
    };
    f.report(
        "config.process.args.non_empty",
        &at.key("args"),
        message.to_owned(),
    );
}

#[requirement("config.process.rlimits.duplicate")]
fn rlimits_unique(p: &Value, at: &Ptr, f: &mut Findings) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, r) in items(p, "rlimits") {
        let Some(ty) = string(r, "type") else {
            continue;
        };
        if let Some(first) = seen.get(ty) {
            f.report(
                "config.process.rlimits.duplicate",
                &at.key("rlimits").idx(i).key("type"),
                format!("rlimit {ty} is already set by process.rlimits[{first}]"),
            );
        } else {
            seen.insert(ty, i);
        }
    }
}

/// A type the schema's pattern allows (`RLIMIT_` and capitals; the schema check reports
/// others) that Linux does not know.
#[requirement(
    "config.process.rlimits.type.unknown",
    "config.process.rlimits.type.getrlimit"
)]
fn rlimit_types(p: &Value, at: &Ptr, f: &mut Findings) {
    for (i, r) in items(p, "rlimits") {
        let Some(ty) = string(r, "type") else {
            continue;
        };
        let shaped = ty
            .strip_prefix("RLIMIT_")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_uppercase()));
        if shaped && !RLIMITS.contains(&ty) {
            f.report(
                "config.process.rlimits.type.unknown",
                &at.key("rlimits").idx(i).key("type"),
                format!("{ty} is not a resource limit Linux knows (getrlimit(2))"),
            );
            f.help(closest(ty, RLIMITS.into_iter()).map(|k| format!("did you mean `{k}`?")));
        }
    }
}

/// A capability name Linux does not define: a warning, and the capability is left out
/// (`writ create` also warns about one this host's kernel does not have).
#[requirement(
    "config.process.capabilities.unknown_warn",
    "config.process.capabilities.ungrantable_ok"
)]
fn capability_names(p: &Value, at: &Ptr, f: &mut Findings) {
    let Some(caps) = object(p, "capabilities") else {
        return;
    };
    for set in [
        "bounding",
        "effective",
        "inheritable",
        "permitted",
        "ambient",
    ] {
        for (i, name) in items(caps, set) {
            let Some(name) = name.as_str() else { continue };
            if capability_number(name).is_some() {
                continue;
            }
            let bare = name.strip_prefix("CAP_").unwrap_or(name);
            let help =
                closest(bare, CAPABILITIES.into_iter()).map(|k| format!("did you mean `CAP_{k}`?"));
            f.warn(
                "config.process.capabilities.unknown_warn",
                &at.key("capabilities").key(set).idx(i),
                format!("unknown capability {name:?} (not granted)"),
                help,
            );
        }
    }
}

#[requirement("config.process.io_priority.priority.required")]
fn io_priority_level(p: &Value, at: &Ptr, f: &mut Findings) {
    if let Some(io) = object(p, "ioPriority") {
        if !has(io, "priority") {
            f.report(
                "config.process.io_priority.priority.required",
                &at.key("ioPriority").key("priority"),
                "ioPriority has no priority (the level within its class)".to_owned(),
            );
        }
    }
}

#[requirement("config.process.user.uid.required", "config.process.user.gid.required")]
fn user_ids(p: &Value, at: &Ptr, f: &mut Findings) {
    let Some(user) = object(p, "user") else {
        return;
    };
    for (key, id) in [
        ("uid", "config.process.user.uid.required"),
        ("gid", "config.process.user.gid.required"),
    ] {
        if !has(user, key) {
            f.report(
                id,
                &at.key("user").key(key),
                format!("process.user has no {key}"),
            );
        }
    }
}
