//! `hooks` (POSIX platforms).

use serde_json::Value;
use writ_macros::requirement;

use super::{absolute, items, object, string, Findings, Ptr};

/// Hook arrays and the requirement that makes their paths absolute: `prestart` has its own
/// rule; `createRuntime` has one, and the other kinds share the `createRuntime` entry
/// schema, so its rule covers them.
const KINDS: [(&str, &str); 6] = [
    ("prestart", "config.hooks.prestart.path.absolute"),
    ("createRuntime", "config.hooks.create_runtime.path.absolute"),
    (
        "createContainer",
        "config.hooks.create_runtime.path.absolute",
    ),
    (
        "startContainer",
        "config.hooks.create_runtime.path.absolute",
    ),
    ("poststart", "config.hooks.create_runtime.path.absolute"),
    ("poststop", "config.hooks.create_runtime.path.absolute"),
];

pub(super) fn check(config: &Value, f: &mut Findings) {
    if let Some(hooks) = object(config, "hooks") {
        paths_absolute(hooks, &Ptr::root().key("hooks"), f);
    }
}

#[requirement(
    "config.hooks.prestart.path.absolute",
    "config.hooks.create_runtime.path.absolute"
)]
fn paths_absolute(hooks: &Value, at: &Ptr, f: &mut Findings) {
    for (kind, id) in KINDS {
        for (i, h) in items(hooks, kind) {
            if let Some(path) = string(h, "path") {
                if !absolute(path) {
                    f.report(
                        id,
                        &at.key(kind).idx(i).key("path"),
                        format!("{kind} hook path {path:?} is not an absolute path"),
                    );
                }
            }
        }
    }
}
