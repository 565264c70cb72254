//! A spec bump is one command, and the version is written in one file.
//!
//! `writ-codegen bump` runs against a runtime-spec checkout made here: a git repository
//! with the pinned schemas tagged `v1.3.0` and a changed `defs.json` tagged `v1.3.1`. It
//! prepares the release directory (schemas + SOURCE.txt), pins it in the lock and
//! regenerates; `--check` then passes against the new release, and the new version shows in
//! the generated constants. The real workspace writes its spec version only in
//! `spec/schema.lock`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{codegen, copy_dir, copy_workspace, text, workspace};

fn pinned() -> writ_codegen::schema::SchemaLock {
    writ_codegen::generate::pinned_lock(&workspace()).unwrap()
}

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn git(repo: &Path, args: &[&str]) -> String {
    let o = run(Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_DATE", "2030-01-02T03:04:05+02:00")
        .env("GIT_AUTHOR_DATE", "2030-01-02T03:04:05+02:00"));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// A runtime-spec-like repository: the pinned schemas at `v1.3.0`, then `v1.3.1` with
/// `defs.json` changed. The licence and documents are stand-ins.
fn checkout(dir: &Path) -> PathBuf {
    let repo = dir.join("runtime-spec");
    let schema = repo.join("schema");
    copy_dir(&common::pinned_schemas(), &schema);
    std::fs::write(schema.join("Makefile"), "all:\n").unwrap();
    std::fs::create_dir_all(schema.join("test")).unwrap();
    std::fs::write(schema.join("test/good.json"), "{}\n").unwrap();
    std::fs::write(
        repo.join("LICENSE"),
        "Apache License\nVersion 2.0, January 2004\n(a stand-in for the test)\n",
    )
    .unwrap();
    for doc in ["bundle.md", "runtime.md", "config.md"] {
        std::fs::write(repo.join(doc), "# a stand-in document\n").unwrap();
    }
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "release"]);
    git(&repo, &["tag", "-a", "-m", "v1.3.0", "v1.3.0"]);
    let defs = schema.join("defs.json");
    let text = std::fs::read_to_string(&defs).unwrap();
    let changed = text.replacen(
        "\"definitions\": {",
        "\"definitions\": {\n        \"WritTestNote\": {\"type\": \"string\"},",
        1,
    );
    assert_ne!(changed, text);
    std::fs::write(&defs, changed).unwrap();
    git(&repo, &["commit", "-q", "-am", "next release"]);
    git(&repo, &["tag", "-a", "-m", "v1.3.1", "v1.3.1"]);
    repo
}

/// A copy of what generation reads and writes: `<dir>/ws`, beside `<dir>/shared`.
fn temp_workspace(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    copy_workspace(&ws);
    ws
}

#[test]
fn a_bump_to_another_tag_is_one_command() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = checkout(tmp.path());
    let ws = temp_workspace(tmp.path());
    let shared = tmp.path().join("shared/oci-runtime-spec");
    let (r, w, s) = (
        repo.to_str().unwrap(),
        ws.to_str().unwrap(),
        shared.to_str().unwrap(),
    );
    let bump = |tag: &str, extra: &[&str]| {
        let mut args = vec!["bump", r, "--tag", tag, "--workspace", w, "--shared", s];
        args.extend(extra);
        codegen(&args)
    };
    let o = bump("v1.3.1", &["--no-requirements"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("v1.3.1: prepared"), "{}", text(&o));

    // The release directory: the schemas unmodified, and where they come from.
    let release = shared.join("v1.3.1");
    let defs = std::fs::read(release.join("schema/defs.json")).unwrap();
    // HEAD is at v1.3.1.
    assert_eq!(defs, std::fs::read(repo.join("schema/defs.json")).unwrap());
    let files = std::fs::read_dir(release.join("schema")).unwrap().count();
    assert_eq!(files, 16, "only the schema files are copied");
    let source = std::fs::read_to_string(release.join("SOURCE.txt")).unwrap();
    let tag_object = git(&repo, &["rev-parse", "v1.3.1"]);
    let commit = git(&repo, &["rev-parse", "v1.3.1^{commit}"]);
    for line in [
        "upstream: github.com/opencontainers/runtime-spec".to_owned(),
        format!("tag: v1.3.1 (annotated tag object {tag_object})"),
        format!("commit: {commit}"),
        "commit date: 2030-01-02T03:04:05+02:00".to_owned(),
        "license: Apache-2.0 (upstream LICENSE file at the tag; no NOTICE file upstream)"
            .to_owned(),
        "files copied unmodified from upstream path schema/<name>".to_owned(),
    ] {
        assert!(
            source.lines().any(|l| l == line),
            "{line:?} not in\n{source}"
        );
    }
    assert!(source.contains("declare draft-04; others are $ref targets). Not copied: schema/test/, schema/Makefile\n"), "{source}");
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(&defs)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert!(
        source.contains(&format!("{sha}  schema/defs.json\n")),
        "{source}"
    );
    // The errata of the pinned schemas are still there; their fixes are not in this
    // checkout, so SOURCE.txt does not claim where they are.
    assert!(
        source.contains("Known errata in these files (left unmodified here; writ-codegen fixes them before generation):\n  defs.json       ArrayOfUint32"),
        "{source}"
    );

    // Pinned, regenerated: the version comes out of the lock.
    let lock = std::fs::read_to_string(ws.join("spec/schema.lock")).unwrap();
    assert!(lock.contains("tag = \"v1.3.1\""), "{lock}");
    assert!(lock.contains(&format!("commit = \"{commit}\"")), "{lock}");
    let module = std::fs::read_to_string(ws.join("spec/src/generated/mod.rs")).unwrap();
    assert!(
        module.contains("pub const OCI_VERSION: &str = \"1.3.1\";"),
        "{module}"
    );
    assert!(
        module.contains("pub const SPEC_TAG: &str = \"v1.3.1\";"),
        "{module}"
    );
    let table = std::fs::read_to_string(ws.join("spec/src/generated/requirements.rs")).unwrap();
    assert!(
        table.contains("OCI runtime-spec v1.3.1."),
        "the table header follows the lock"
    );
    // --check finds the new release by itself (../shared/oci-runtime-spec/<tag>).
    let check = codegen(&["--workspace", w, "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));

    // Again: nothing to do, the release directory is left as it is.
    let again = bump("v1.3.1", &["--no-requirements"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        text(&again).contains("already there, identical"),
        "{}",
        text(&again)
    );
    assert!(!text(&again).contains("wrote "), "{}", text(&again));

    // A release directory that differs is never overwritten.
    std::fs::write(release.join("schema/defs.json"), "{}").unwrap();
    let refused = bump("v1.3.1", &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("schema/defs.json"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        std::fs::read(release.join("schema/defs.json")).unwrap(),
        b"{}"
    );

    // An unknown tag is an error that says so.
    let o = bump("v9.9.9", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no tag \"v9.9.9\""), "{}", text(&o));
}

/// The files in which the spec version is written by hand: only `spec/schema.lock`. Code
/// (outside `#[cfg(test)]` modules and tests) and configuration get it from there.
#[test]
fn the_spec_version_is_written_in_one_file() {
    let root = workspace();
    let tag = pinned().tag;
    let version = tag.trim_start_matches('v').to_owned();
    let files = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "*.rs", "*.toml"])
        .output()
        .unwrap();
    let files = String::from_utf8_lossy(&files.stdout).into_owned();
    let mut found = Vec::new();
    for f in files.lines() {
        let generated = f.starts_with("spec/src/generated/");
        let test_code = f.contains("/tests/") || f.starts_with("macros/tests/");
        if generated || test_code || f == "spec/schema.lock" || f == "Cargo.lock" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(f)) else {
            continue;
        };
        // Unit tests sit at the end of a file, after `#[cfg(test)]`.
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for (n, line) in code.lines().enumerate() {
            if line.contains(&version) {
                found.push(format!("{f}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the spec version {tag} is written outside spec/schema.lock:\n{}",
        found.join("\n")
    );
}
