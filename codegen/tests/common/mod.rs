//! Helpers of the codegen integration tests (each test file uses some of them).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real workspace.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The pinned schemas; a test without them fails saying where they go and how to get them.
pub fn pinned_schemas() -> PathBuf {
    writ_codegen::generate::pinned_schema_dir(&workspace()).unwrap_or_else(|e| panic!("{e}"))
}

/// The normalised model of the pinned schemas.
pub fn model() -> writ_codegen::schema::Model {
    let lock = writ_codegen::generate::pinned_lock(&workspace()).unwrap();
    let set = writ_codegen::schema::load(&pinned_schemas(), Some(&lock)).unwrap();
    writ_codegen::schema::normalise(&set).unwrap()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Copies into `root` what generation reads and writes: the manifests, the lock, the
/// generated files and the requirements list.
pub fn copy_workspace(root: &Path) {
    let ws = workspace();
    std::fs::create_dir_all(root.join("spec/src")).unwrap();
    std::fs::copy(ws.join("Cargo.toml"), root.join("Cargo.toml")).unwrap();
    std::fs::copy(ws.join("spec/Cargo.toml"), root.join("spec/Cargo.toml")).unwrap();
    std::fs::copy(ws.join("spec/schema.lock"), root.join("spec/schema.lock")).unwrap();
    std::fs::copy(ws.join("spec/fields.toml"), root.join("spec/fields.toml")).unwrap();
    copy_dir(
        &ws.join("spec/src/generated"),
        &root.join("spec/src/generated"),
    );
    copy_dir(
        &ws.join("spec/requirements"),
        &root.join("spec/requirements"),
    );
}

/// Runs the writ-codegen binary.
pub fn codegen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ-codegen"))
        .args(args)
        .output()
        .unwrap()
}

/// stdout and stderr of a run.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
