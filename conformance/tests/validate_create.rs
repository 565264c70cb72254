//! `writ validate` and `writ create` apply one rule set: every config `validate` finds an
//! error in, `create` refuses before anything is built, with the same diagnostics; every
//! config `validate` passes (warnings and all), `create` builds, logging the warnings the
//! spec asks a runtime to log through the logger (`--log-format json` included).
//!
//! writ only: the oracles do not share writ's `validate` (runc creates a container from a
//! config without `ociVersion`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::Path;

use serde_json::{json, Value};
use writ_conformance::{writ, Bundle, CreateOpts, Ctx, Out};
use writ_macros::verifies;

/// The error lines (`file:line:column: error[id]: ...`) of a diagnostics text.
fn error_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(": error["))
        .map(|l| l.trim_start_matches("writ create: ").to_owned())
        .collect()
}

fn validate(ctx: &Ctx, config: &Path) -> Out {
    ctx.cmd(&["validate", config.to_str().unwrap()])
}

type Edit = fn(&mut Value);

#[verifies(
    "runtime.create.validate",
    "config.oci_version.required",
    "config.root.path.required",
    "config.mounts.destination.required",
    "config.process.rlimits.type.unknown"
)]
#[test]
fn create_refuses_exactly_what_validate_finds_errors_in() {
    let ctx = Ctx::new(writ(), "validate-create-agree");
    let cases: [(&str, Edit); 6] = [
        ("no ociVersion", |c| {
            c.as_object_mut().unwrap().remove("ociVersion");
        }),
        ("no root.path", |c| {
            c["root"].as_object_mut().unwrap().remove("path");
        }),
        ("a mount without destination", |c| {
            let m = c["mounts"][0].as_object_mut().unwrap();
            let d = m.remove("destination").unwrap();
            m.insert("destinaton".into(), d);
        }),
        ("an rlimit Linux does not know", |c| {
            c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFLE", "soft": 1, "hard": 1}]);
        }),
        ("a hook timeout of 0", |c| {
            c["hooks"] = json!({"createRuntime": [{"path": "/bin/true", "timeout": 0}]});
        }),
        ("a relative cwd", |c| c["process"]["cwd"] = json!("tmp")),
    ];
    for (what, edit) in cases {
        let b = Bundle::new();
        b.edit(edit);
        let config = b.path().join("config.json");
        let v = validate(&ctx, &config);
        assert_eq!(v.code, Some(1), "{what}: validate: {v}");
        let expected = error_lines(&v.stdout);
        assert!(!expected.is_empty(), "{what}: {v}");

        let mut c = ctx.container(&b);
        let out = c.create();
        out.fails();
        let got = error_lines(&out.stderr);
        assert_eq!(got, expected, "{what}: create: {out}");
        // The same snippets too: every line of validate's diagnostics is in create's error.
        for line in v.stdout.lines().filter(|l| l.contains(" | ")) {
            assert!(out.stderr.contains(line), "{what}: {line:?} not in {out}");
        }
        c.state_out().fails();
        assert!(!ctx.root().join(&c.id).exists(), "{what}: state left");
    }
}

#[verifies(
    "config.extensibility.log_unknown",
    "config.extensibility.ignore_unknown",
    "config.process.capabilities.unknown_warn",
    "config.process.capabilities.ungrantable_ok"
)]
#[test]
fn create_builds_what_validate_passes_and_logs_its_warnings() {
    let ctx = Ctx::new(writ(), "validate-create-warnings");
    let b = Bundle::new();
    b.edit(|c| {
        c["domainnme"] = json!("typo");
        c["process"]["capabilities"]["bounding"]
            .as_array_mut()
            .unwrap()
            .push(json!("CAP_SYS_ADMN"));
    });
    b.set_sh("echo ran");
    let config = b.path().join("config.json");
    let v = validate(&ctx, &config);
    assert_eq!(v.code, Some(0), "validate: {v}");
    assert!(v.stdout.contains("2 warnings"), "{v}");

    let log = b.path().join("writ-log.json");
    let mut c = ctx.container(&b);
    let out = c.create_with(CreateOpts {
        globals: vec![
            "--log".into(),
            log.to_str().unwrap().into(),
            "--log-format".into(),
            "json".into(),
        ],
        ..Default::default()
    });
    out.ok();
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let warnings: Vec<&str> = lines
        .iter()
        .filter(|l| l["level"] == "warning")
        .filter_map(|l| l["msg"].as_str())
        .collect();
    assert_eq!(warnings.len(), 2, "{lines:?}");
    assert!(
        warnings.iter().any(|w| w
            .contains("warning[config.extensibility.log_unknown]: /domainnme: unknown property")
            && w.contains("did you mean `domainname`?")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(
            |w| w.contains("warning[config.process.capabilities.unknown_warn]")
                && w.contains("CAP_SYS_ADMN")
        ),
        "{warnings:?}"
    );
    // Nothing on stderr but what the log does not take.
    assert!(!out.stderr.contains("warning"), "{out}");
    c.start().ok();
    c.wait_status("stopped", std::time::Duration::from_secs(10));
    assert!(c.stdout().contains("ran"), "{}", c.stdout());
}
