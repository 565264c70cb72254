//! "Verified" means the tagged test ran and passed: a scratch crate with one `#[verifies]`
//! test is built and run twice, passing and then broken on purpose, and the coverage
//! computed from its records turns the requirement from verified to failing. Also: the
//! `--check` of `writ coverage` refuses a run in which tagged tests did not run, and
//! `#[verifies]` below `#[test]` does not compile in a test build.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use writ_cli::tools::coverage::{self, Format, RenderOpts, Results, Status, TestState};
use writ_cli::trace::{Use, UseKind};
use writ_spec::requirements::REQUIREMENTS;
use writ_spec::validation::SCHEMA_ENFORCED;

// The build script's scanner, run on the scratch workspace.
#[allow(dead_code)]
#[path = "../build.rs"]
mod scan;

const ID: &str = "config.root.path.required";

fn workspace() -> PathBuf {
    coverage::workspace_root()
}

/// A workspace holding one package whose test verifies [`ID`] and fails when
/// `WRIT_BREAK_THE_RULE` is set. Laid out like the real one (`conformance/tests/`) so that
/// the build script's scanner finds the test.
fn scratch(root: &Path) {
    let macros = workspace().join("macros");
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"conformance\"]\nresolver = \"2\"\n",
    );
    write(
        "conformance/Cargo.toml",
        &format!(
            "[package]\nname = \"writ-scratch-verifies\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\nwrit-macros = {{ path = {:?} }}\n",
            macros.display().to_string()
        ),
    );
    write("conformance/src/lib.rs", "");
    write(
        "conformance/tests/broken.rs",
        &format!(
            "use writ_macros::verifies;\n\n\
             #[verifies({ID:?})]\n\
             #[test]\n\
             fn root_path_is_required() {{\n    \
                 assert!(\n        \
                     std::env::var_os(\"WRIT_BREAK_THE_RULE\").is_none(),\n        \
                     \"the rule is broken on purpose\"\n    \
                 );\n\
             }}\n"
        ),
    );
    // The workspace's lock, so that nothing needs to be fetched.
    std::fs::copy(workspace().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
}

/// `cargo test` in the scratch workspace; its target directory stays in ours, so a second
/// run of this test does not build writ-macros again.
fn cargo(root: &Path, args: &[&str], results: &Path, broken: bool) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = workspace().join("target").join("writ-scratch");
    let mut cmd = Command::new(cargo);
    cmd.args(args)
        .arg("--offline")
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .env(writ_macros::results::DIR_ENV, results)
        .env_remove("WRIT_BREAK_THE_RULE");
    if broken {
        cmd.env("WRIT_BREAK_THE_RULE", "1");
    }
    cmd.output().expect("run cargo")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The scratch workspace's tagged uses, as the coverage table takes them.
fn uses(root: &Path) -> &'static [Use] {
    let found: Vec<Use> = scan::scan_workspace(root)
        .into_iter()
        .map(|u| Use {
            id: Box::leak(u.id.into_boxed_str()),
            kind: if u.kind == "Test" {
                UseKind::Test
            } else {
                UseKind::Handler
            },
            item: Box::leak(u.item.into_boxed_str()),
            file: Box::leak(u.file.into_boxed_str()),
            line: u.line as u32,
        })
        .collect();
    Box::leak(found.into_boxed_slice())
}

fn status_in(root: &Path, results: &Path) -> (Status, String) {
    let cov = coverage::compute(
        &REQUIREMENTS,
        uses(root),
        SCHEMA_ENFORCED,
        Results::read(results, Some(root)),
    );
    let row = cov.rows.iter().find(|r| r.req.id == ID).unwrap();
    let table = coverage::render(&cov, Format::Table, &RenderOpts::full());
    let line = table
        .lines()
        .find(|l| l.contains(ID))
        .unwrap_or_default()
        .to_owned();
    (row.status, line)
}

#[test]
fn a_broken_rule_turns_verified_into_failing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let results = dir.path().join("results");
    scratch(&root);
    assert_eq!(uses(&root).len(), 1, "the scanner finds the scratch test");

    // Tagged, but nothing ran yet.
    let (st, _) = status_in(&root, &results);
    assert_eq!(st, Status::NotRun);

    let ok = cargo(&root, &["test", "--test", "broken"], &results, false);
    assert!(ok.status.success(), "{}", text(&ok));
    let (st, line) = status_in(&root, &results);
    assert_eq!(st, Status::Verified, "{line}");
    assert!(line.starts_with("verified"), "{line}");

    let broken = cargo(&root, &["test", "--test", "broken"], &results, true);
    assert!(
        !broken.status.success(),
        "the broken test fails: {}",
        text(&broken)
    );
    assert!(text(&broken).contains("the rule is broken on purpose"));
    let (st, line) = status_in(&root, &results);
    assert_eq!(st, Status::Failing, "{line}");
    assert!(line.starts_with("failing"), "{line}");
    assert!(
        line.contains("conformance/tests/broken.rs:5 root_path_is_required (failed)"),
        "{line}"
    );

    // Fixed again: verified again.
    let ok = cargo(&root, &["test", "--test", "broken"], &results, false);
    assert!(ok.status.success(), "{}", text(&ok));
    assert_eq!(status_in(&root, &results).0, Status::Verified);

    // Editing the test after the run makes its record stale: not run.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let file = root.join("conformance/tests/broken.rs");
    let src = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{src}// edited\n")).unwrap();
    let cov = coverage::compute(
        &REQUIREMENTS,
        uses(&root),
        SCHEMA_ENFORCED,
        Results::read(&results, Some(&root)),
    );
    let row = cov.rows.iter().find(|r| r.req.id == ID).unwrap();
    assert_eq!(row.status, Status::NotRun);
    assert!(matches!(&row.tests[0].1, TestState::NotRun { why } if why.starts_with("stale")));

    // #[verifies] written below #[test] is refused in a test build.
    let order = "use writ_macros::verifies;\n\n#[test]\n#[verifies(\"config.root.path.required\")]\nfn below() {}\n";
    std::fs::write(root.join("conformance/tests/order.rs"), order).unwrap();
    let o = cargo(
        &root,
        &["test", "--no-run", "--test", "order"],
        &results,
        false,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("#[verifies] can only be used on a test: `below` has no #[test]"),
        "{}",
        text(&o)
    );
}

#[test]
fn check_refuses_a_run_in_which_tagged_tests_did_not_run() {
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["coverage", "--summary", "--check", "--results"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("test outcomes: no records in"), "{out}");
    assert!(out.contains("not verified by the recorded run"), "{out}");
    assert!(out.contains("not-run"), "{out}");
}
