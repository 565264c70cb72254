//! `root`.

use serde_json::Value;
use writ_macros::requirement;

use super::{has, object, string, Findings, Ptr};

pub(super) fn check(config: &Value, f: &mut Findings) {
    root_required(config, f);
    root_path_conventional(config, f);
}

/// writ targets Linux, where `root` is required.
#[requirement("config.root.required")]
fn root_required(config: &Value, f: &mut Findings) {
    if !has(config, "root") {
        f.report(
            "config.root.required",
            &Ptr::root().key("root"),
            "root is missing: on Linux the config names the container's root filesystem".to_owned(),
        );
    }
}

#[requirement("config.root.path.conventional")]
fn root_path_conventional(config: &Value, f: &mut Findings) {
    if let Some(path) = object(config, "root").and_then(|r| string(r, "path")) {
        if path != "rootfs" {
            f.report(
                "config.root.path.conventional",
                &Ptr::root().key("root").key("path"),
                format!("root path {path:?} is not the conventional \"rootfs\""),
            );
        }
    }
}
