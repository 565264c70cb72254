//! `mounts`.

use serde_json::Value;
use writ_macros::requirement;

use super::{absolute, has, items, string, Findings, Ptr};

pub(super) fn check(config: &Value, f: &mut Findings) {
    for (i, m) in items(config, "mounts") {
        let at = Ptr::root().key("mounts").idx(i);
        destination_absolute(m, &at, f);
        mappings_paired(m, &at, f);
        mappings_idmap_option(m, &at, f);
    }
}

/// Relative destinations stay acceptable for old configs (resolved against "/"), so this is
/// an advisory.
#[requirement("config.mounts.destination.absolute_linux")]
fn destination_absolute(m: &Value, at: &Ptr, f: &mut Findings) {
    if let Some(d) = string(m, "destination") {
        if !absolute(d) {
            f.report(
                "config.mounts.destination.absolute_linux",
                &at.key("destination"),
                format!("mount destination {d:?} is relative (it is taken relative to \"/\")"),
            );
        }
    }
}

#[requirement(
    "config.mounts.uid_mappings.with_gid",
    "config.mounts.gid_mappings.with_uid"
)]
fn mappings_paired(m: &Value, at: &Ptr, f: &mut Findings) {
    match (has(m, "uidMappings"), has(m, "gidMappings")) {
        (true, false) => f.report(
            "config.mounts.uid_mappings.with_gid",
            &at.key("gidMappings"),
            "the mount has uidMappings but no gidMappings; give both".to_owned(),
        ),
        (false, true) => f.report(
            "config.mounts.gid_mappings.with_uid",
            &at.key("uidMappings"),
            "the mount has gidMappings but no uidMappings; give both".to_owned(),
        ),
        _ => {}
    }
}

#[requirement(
    "config.mounts.uid_mappings.idmap_option",
    "config.mounts.gid_mappings.idmap_option"
)]
fn mappings_idmap_option(m: &Value, at: &Ptr, f: &mut Findings) {
    let idmap = items(m, "options").any(|(_, o)| matches!(o.as_str(), Some("idmap" | "ridmap")));
    if idmap {
        return;
    }
    for (key, id) in [
        ("uidMappings", "config.mounts.uid_mappings.idmap_option"),
        ("gidMappings", "config.mounts.gid_mappings.idmap_option"),
    ] {
        if has(m, key) {
            f.report(
                id,
                &at.key("options"),
                format!("the mount has {key} but its options name neither idmap nor ridmap"),
            );
        }
    }
}
