//! `process`.

use std::collections::HashMap;

use serde_json::Value;
use writ_macros::requirement;

use super::{absolute, has, items, object, string, Findings, Ptr};

pub(super) fn check(config: &Value, f: &mut Findings) {
    let Some(p) = object(config, "process") else {
        return;
    };
    let at = Ptr::root().key("process");
    cwd_absolute(p, &at, f);
    args_non_empty(p, &at, f);
    rlimits_unique(p, &at, f);
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
