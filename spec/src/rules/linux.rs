//! `linux`: namespaces, devices, cgroupsPath, intelRdt, memoryPolicy, maskedPaths,
//! readonlyPaths, personality.

use std::collections::HashMap;

use serde_json::Value;
use writ_macros::requirement;

use super::{absolute, has, items, object, string, Findings, Ptr};
use crate::validation::integer;

pub(super) fn check(linux: &Value, at: &Ptr, f: &mut Findings) {
    namespace_paths_absolute(linux, at, f);
    namespace_types_unique(linux, at, f);
    device_numbers(linux, at, f);
    devices_unique(linux, at, f);
    cgroups_path_form(linux, at, f);
    intel_rdt(linux, at, f);
    memory_policy_mode(linux, at, f);
    masked_paths_absolute(linux, at, f);
    readonly_paths_absolute(linux, at, f);
    personality_domain(linux, at, f);
}

#[requirement("config_linux.namespaces.path.absolute")]
fn namespace_paths_absolute(linux: &Value, at: &Ptr, f: &mut Findings) {
    for (i, ns) in items(linux, "namespaces") {
        if let Some(path) = string(ns, "path") {
            if !absolute(path) {
                f.report(
                    "config_linux.namespaces.path.absolute",
                    &at.key("namespaces").idx(i).key("path"),
                    format!("namespace path {path:?} is not an absolute path"),
                );
            }
        }
    }
}

#[requirement("config_linux.namespaces.duplicate_type")]
fn namespace_types_unique(linux: &Value, at: &Ptr, f: &mut Findings) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, ns) in items(linux, "namespaces") {
        let Some(ty) = string(ns, "type") else {
            continue;
        };
        if let Some(first) = seen.get(ty) {
            f.report(
                "config_linux.namespaces.duplicate_type",
                &at.key("namespaces").idx(i).key("type"),
                format!("namespace type {ty:?} is already listed at linux.namespaces[{first}]"),
            );
        } else {
            seen.insert(ty, i);
        }
    }
}

/// Device types that need major and minor numbers: all but `p` (FIFO).
fn numbered(ty: &str) -> bool {
    matches!(ty, "c" | "b" | "u")
}

#[requirement("config_linux.devices.major_minor.required")]
fn device_numbers(linux: &Value, at: &Ptr, f: &mut Findings) {
    for (i, d) in items(linux, "devices") {
        let Some(ty) = string(d, "type").filter(|t| numbered(t)) else {
            continue;
        };
        for key in ["major", "minor"] {
            if !has(d, key) {
                f.report(
                    "config_linux.devices.major_minor.required",
                    &at.key("devices").idx(i).key(key),
                    format!("device of type {ty:?} has no {key} number"),
                );
            }
        }
    }
}

#[requirement("config_linux.devices.unique")]
fn devices_unique(linux: &Value, at: &Ptr, f: &mut Findings) {
    let mut seen: HashMap<(&str, i128, i128), usize> = HashMap::new();
    for (i, d) in items(linux, "devices") {
        let Some(ty) = string(d, "type").filter(|t| numbered(t)) else {
            continue;
        };
        let (Some(major), Some(minor)) = (
            d.get("major").and_then(integer),
            d.get("minor").and_then(integer),
        ) else {
            continue;
        };
        if let Some(first) = seen.get(&(ty, major, minor)) {
            f.report(
                "config_linux.devices.unique",
                &at.key("devices").idx(i),
                format!("device {ty} {major}:{minor} is already listed at linux.devices[{first}]"),
            );
        } else {
            seen.insert((ty, major, minor), i);
        }
    }
}

/// Any non-empty string without a NUL byte is an absolute (leading `/`) or a relative path;
/// the empty string is neither. (runc's systemd form `slice:prefix:name` is a relative path
/// here; whether a cgroup driver accepts it is the runtime's business.)
#[requirement("config_linux.cgroups_path.form")]
fn cgroups_path_form(linux: &Value, at: &Ptr, f: &mut Findings) {
    let Some(p) = string(linux, "cgroupsPath") else {
        return;
    };
    let problem = if p.is_empty() {
        "cgroupsPath is empty, which is neither an absolute nor a relative path"
    } else if p.contains('\0') {
        "cgroupsPath contains a NUL byte, which no path can hold"
    } else {
        return;
    };
    f.report(
        "config_linux.cgroups_path.form",
        &at.key("cgroupsPath"),
        problem.to_owned(),
    );
}

#[requirement(
    "config_linux.intel_rdt.l3_cache_schema.prefix",
    "config_linux.intel_rdt.l3_cache_schema.one_line",
    "config_linux.intel_rdt.schemata.one_line"
)]
fn intel_rdt(linux: &Value, at: &Ptr, f: &mut Findings) {
    let Some(rdt) = object(linux, "intelRdt") else {
        return;
    };
    let at = at.key("intelRdt");
    if let Some(l3) = string(rdt, "l3CacheSchema") {
        if !l3.starts_with("L3:") {
            f.report(
                "config_linux.intel_rdt.l3_cache_schema.prefix",
                &at.key("l3CacheSchema"),
                format!("l3CacheSchema {l3:?} does not start with \"L3:\""),
            );
        }
        if l3.contains('\n') {
            f.report(
                "config_linux.intel_rdt.l3_cache_schema.one_line",
                &at.key("l3CacheSchema"),
                "l3CacheSchema contains a newline".to_owned(),
            );
        }
    }
    for (i, line) in items(rdt, "schemata") {
        if line.as_str().is_some_and(|l| l.contains('\n')) {
            f.report(
                "config_linux.intel_rdt.schemata.one_line",
                &at.key("schemata").idx(i),
                "a schemata element contains a newline (each element is one line)".to_owned(),
            );
        }
    }
}

#[requirement("config_linux.memory_policy.mode.required")]
fn memory_policy_mode(linux: &Value, at: &Ptr, f: &mut Findings) {
    if let Some(mp) = object(linux, "memoryPolicy") {
        if !has(mp, "mode") {
            f.report(
                "config_linux.memory_policy.mode.required",
                &at.key("memoryPolicy").key("mode"),
                "memoryPolicy has no mode".to_owned(),
            );
        }
    }
}

fn paths_absolute(linux: &Value, at: &Ptr, key: &str, id: &'static str, f: &mut Findings) {
    for (i, p) in items(linux, key) {
        if let Some(path) = p.as_str() {
            if !absolute(path) {
                f.report(
                    id,
                    &at.key(key).idx(i),
                    format!("{key} entry {path:?} is not an absolute path"),
                );
            }
        }
    }
}

#[requirement("config_linux.masked_paths.absolute")]
fn masked_paths_absolute(linux: &Value, at: &Ptr, f: &mut Findings) {
    paths_absolute(
        linux,
        at,
        "maskedPaths",
        "config_linux.masked_paths.absolute",
        f,
    );
}

#[requirement("config_linux.readonly_paths.absolute")]
fn readonly_paths_absolute(linux: &Value, at: &Ptr, f: &mut Findings) {
    paths_absolute(
        linux,
        at,
        "readonlyPaths",
        "config_linux.readonly_paths.absolute",
        f,
    );
}

#[requirement("config_linux.personality.domain.required")]
fn personality_domain(linux: &Value, at: &Ptr, f: &mut Findings) {
    if let Some(p) = object(linux, "personality") {
        if !has(p, "domain") {
            f.report(
                "config_linux.personality.domain.required",
                &at.key("personality").key("domain"),
                "personality has no execution domain".to_owned(),
            );
        }
    }
}
