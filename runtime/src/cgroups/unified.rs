//! `linux.resources.unified` (config-linux.md#unified): cgroup v2 files written as the
//! config gives them, after every other resource (so they have the last word).
//!
//! Each key names a file of the container's cgroup2 directory, `<controller>.<name>`.
//! The controller is enabled for the cgroup first, through the parents'
//! `cgroup.subtree_control` (`cgroup.*` files belong to no controller); a controller the
//! cgroup then does not offer is an error, and so is, on a hybrid host, one that is
//! mounted on a v1 hierarchy (its v2 files cannot exist there). The file must exist; its
//! name need not be known to writ. A key is a file name, never a path: one with `/`, a
//! leading `.` or `..` is refused. Every key is checked and every controller enabled
//! before the first value is written.

use std::collections::BTreeMap;

use super::host::Layout;
use super::record::CgroupState;
use super::v2::enable;
use super::{fs, CgroupError};

const UNIFIED: &str = "/linux/resources/unified";
const MISSING: &str = "config_linux.unified.missing_controller";

/// A map key as a JSON pointer token (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The pointer of a unified key.
pub fn field(key: &str) -> String {
    format!("{UNIFIED}/{}", pointer_token(key))
}

/// The controller a key belongs to ("cgroup" for the core files), or why the key is not
/// a file name of a cgroup2 directory.
fn controller_of(key: &str) -> Result<&str, &'static str> {
    let ok_chars = key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    match key.split_once('.') {
        _ if !ok_chars => Err("a cgroup file name has only letters, digits, '.', '_' and '-'"),
        Some((c, rest)) if !c.is_empty() && !rest.is_empty() && !key.contains("..") => Ok(c),
        _ => Err("a cgroup2 file name has the form <controller>.<name>"),
    }
}

/// Writes the unified keys into the container's cgroup2 directory of `s`.
#[writ_macros::requirement(
    "config_linux.unified.enable_controllers",
    "config_linux.unified.unknown_keys",
    "config_linux.unified.missing_controller"
)]
pub fn apply(
    s: &CgroupState,
    layout: Layout,
    unified: &BTreeMap<String, String>,
) -> Result<(), CgroupError> {
    let Some(h) = s.v2() else {
        let key = unified.keys().next().map_or("", String::as_str);
        return Err(CgroupError::unavailable(
            field(key),
            key.split('.').next().unwrap_or_default(),
            layout,
            "unified sets cgroup v2 files and this host mounts no cgroup2 hierarchy",
        )
        .for_requirement(MISSING));
    };
    for key in unified.keys() {
        let controller = controller_of(key).map_err(|why| CgroupError::Value {
            field: field(key),
            controller: "unified",
            reason: format!("{key:?} is not a cgroup2 file name: {why}"),
        })?;
        if controller == "cgroup" {
            continue;
        }
        let unavailable = |why: String| {
            CgroupError::unavailable(field(key), controller, layout, why).for_requirement(MISSING)
        };
        if let Some(v1) = s.v1_with(controller) {
            return Err(unavailable(format!(
                "it is mounted on the v1 hierarchy {}, so the cgroup2 hierarchy cannot have its files",
                v1.mount.display()
            )));
        }
        enable(h, controller, unavailable)?;
    }
    for (key, value) in unified {
        fs::write("unified", &field(key), &h.path, key, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::host::Version;
    use crate::cgroups::record::{Driver, Hierarchy};
    use crate::cgroups::tests::read_at;
    use std::path::Path;

    fn hierarchy(name: &str, version: Version, controllers: &[&str], mount: &Path) -> Hierarchy {
        Hierarchy {
            name: name.into(),
            version,
            controllers: controllers.iter().map(|c| c.to_string()).collect(),
            mount: mount.into(),
            path: mount.join("c"),
            created: vec![],
        }
    }

    /// A cgroup2 mount at `root/unified` whose container directory `c` offers
    /// `offered` once enabled, with the files `files`; and a v1 memory hierarchy.
    fn setup(root: &Path, offered: &str, files: &[&str]) -> CgroupState {
        let u = root.join("unified");
        std::fs::create_dir_all(u.join("c")).unwrap();
        std::fs::write(u.join("cgroup.subtree_control"), "").unwrap();
        std::fs::write(u.join("c/cgroup.controllers"), offered).unwrap();
        for f in files {
            std::fs::write(u.join("c").join(f), "").unwrap();
        }
        CgroupState {
            driver: Driver::Cgroupfs,
            relative: "/c".into(),
            hierarchies: vec![
                hierarchy("memory", Version::V1, &["memory"], &root.join("memory")),
                hierarchy("unified", Version::V2, &[], &u),
            ],
        }
    }

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[writ_macros::verifies(
        "config_linux.unified.enable_controllers",
        "config_linux.unified.unknown_keys"
    )]
    #[test]
    fn keys_are_written_as_given_after_enabling_their_controller() {
        let t = tempfile::tempdir().unwrap();
        let s = setup(
            t.path(),
            "hugetlb pids\n",
            &[
                "hugetlb.2MB.max",
                "pids.some_future_file",
                "cgroup.max.depth",
            ],
        );
        let u = map(&[
            ("hugetlb.2MB.max", "4194304"),
            ("pids.some_future_file", "value as given\n"),
            ("cgroup.max.depth", "3"),
        ]);
        apply(&s, Layout::Hybrid, &u).unwrap();
        let c = t.path().join("unified/c");
        assert_eq!(read_at(&c, "hugetlb.2MB.max"), "4194304");
        assert_eq!(read_at(&c, "pids.some_future_file"), "value as given");
        assert_eq!(read_at(&c, "cgroup.max.depth"), "3");
        // Each write replaces a test file's text: the last controller enabled is left.
        assert_eq!(
            read_at(&t.path().join("unified"), "cgroup.subtree_control"),
            "+pids"
        );
    }

    #[writ_macros::verifies("config_linux.unified.missing_controller")]
    #[test]
    fn a_controller_absent_on_v2_or_mounted_on_v1_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        let s = setup(t.path(), "hugetlb\n", &["hugetlb.2MB.max", "io.max"]);
        let e = apply(
            &s,
            Layout::Hybrid,
            &map(&[("hugetlb.2MB.max", "1"), ("io.max", "8:0 rbps=1")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("/linux/resources/unified/io.max: the io controller"),
            "{e}"
        );
        assert!(
            e.contains("hybrid") && e.contains("[config_linux.unified.missing_controller]"),
            "{e}"
        );
        assert_eq!(
            read_at(&t.path().join("unified/c"), "hugetlb.2MB.max"),
            "",
            "nothing written"
        );
        let e = apply(&s, Layout::Hybrid, &map(&[("memory.high", "1")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("memory controller") && e.contains("v1 hierarchy"),
            "{e}"
        );
        // A v1-only host has no cgroup2 hierarchy to write to.
        let v1 = CgroupState {
            hierarchies: vec![s.hierarchies[0].clone()],
            ..s.clone()
        };
        let e = apply(&v1, Layout::V1, &map(&[("memory.high", "1")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no cgroup2 hierarchy") && e.contains("missing_controller"),
            "{e}"
        );
        // An unknown file of a present controller: the kernel has no such file.
        let e = apply(&s, Layout::Hybrid, &map(&[("hugetlb.3MB.max", "1")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("hugetlb.3MB.max") && e.contains("does not exist"),
            "{e}"
        );
    }

    #[test]
    fn a_key_is_a_file_name_never_a_path() {
        let t = tempfile::tempdir().unwrap();
        let s = setup(t.path(), "pids\n", &[]);
        for bad in [
            "../../etc/passwd",
            "pids.max/x",
            ".pids",
            "pids.",
            "pids..max",
            "nodot",
            "pids max",
        ] {
            let e = apply(&s, Layout::V2, &map(&[(bad, "1")]))
                .unwrap_err()
                .to_string();
            assert!(e.contains("is not a cgroup2 file name"), "{bad}: {e}");
            assert!(e.starts_with(&field(bad)), "{bad}: {e}");
        }
        assert_eq!(field("a/b~c"), "/linux/resources/unified/a~1b~0c");
    }
}
