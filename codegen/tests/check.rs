//! `writ-codegen --check` on a temporary copy of the workspace's generated files: passes when
//! clean, fails naming the file after a hand edit; the schema lock rejects a changed schema.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::PathBuf;

mod common;
use common::{codegen, copy_dir, copy_workspace, text};

fn schema_dir() -> PathBuf {
    common::pinned_schemas()
}

/// A workspace copy holding what generation reads and writes.
fn temp_workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_workspace(tmp.path());
    tmp
}

#[test]
fn check_passes_on_the_committed_tree_and_fails_after_a_hand_edit() {
    let tmp = temp_workspace();
    let root = tmp.path().to_str().unwrap().to_owned();
    let schemas = schema_dir();
    let schemas = schemas.to_str().unwrap();

    let clean = codegen(&["--workspace", &root, "--schema-dir", schemas, "--check"]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));

    let config = tmp.path().join("spec/src/generated/config.rs");
    let edited = std::fs::read_to_string(&config).unwrap().replacen(
        "pub struct Spec {",
        "pub struct Spec {\n    pub sneaky: u8,",
        1,
    );
    std::fs::write(&config, edited).unwrap();
    let dirty = codegen(&["--workspace", &root, "--schema-dir", schemas, "--check"]);
    assert_eq!(dirty.status.code(), Some(1), "{}", text(&dirty));
    assert!(
        text(&dirty).contains("spec/src/generated/config.rs"),
        "{}",
        text(&dirty)
    );

    // Regenerating repairs it.
    let regen = codegen(&["--workspace", &root, "--schema-dir", schemas]);
    assert_eq!(regen.status.code(), Some(0), "{}", text(&regen));
    let again = codegen(&["--workspace", &root, "--schema-dir", schemas, "--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn a_schema_that_differs_from_the_lock_is_refused_by_name() {
    let tmp = temp_workspace();
    let root = tmp.path().to_str().unwrap().to_owned();
    let schemas = tmp.path().join("shared/schema");
    copy_dir(&schema_dir(), &schemas);
    let defs = schemas.join("defs.json");
    let mut s = std::fs::read_to_string(&defs).unwrap();
    s.push('\n');
    std::fs::write(&defs, s).unwrap();
    let o = codegen(&[
        "--workspace",
        &root,
        "--schema-dir",
        schemas.to_str().unwrap(),
        "--check",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let msg = text(&o);
    assert!(
        msg.contains("defs.json") && msg.contains("db17c223dd9b3ffb"),
        "{msg}"
    );
}

/// Without the schemas beside the workspace, codegen says where they belong and how to get
/// them, instead of failing on a missing file.
#[test]
fn absent_schemas_are_explained() {
    let tmp = temp_workspace();
    let root = tmp.path().to_str().unwrap().to_owned();
    let o = codegen(&["--workspace", &root, "--check"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("the OCI runtime-spec v1.3.0 schemas are not in"),
        "{t}"
    );
    assert!(
        t.contains("bump <checkout> --tag v1.3.0 --prepare-only"),
        "{t}"
    );
    let e = writ_codegen::generate::pinned_schema_dir(tmp.path()).unwrap_err();
    assert!(
        e.contains("../shared/oci-runtime-spec/v1.3.0/schema"),
        "{e}"
    );
}
