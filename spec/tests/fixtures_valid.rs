//! Real configs (runc spec, runc spec --rootless, crun spec, podman, containerd) parse,
//! validate and round-trip to JSON equal to the input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::{Path, PathBuf};

use serde_json::Value;
use writ_macros::verifies;
use writ_spec::{parse_config, validate_config_value, Severity, Spec, ViolationKind};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Known deviation of a real engine from the schema that runc and crun accept: podman writes
/// device `fileMode` with the file-type bits set (0o20666 = 8630 for `--device` and
/// `--privileged`). Validation reports it (the schema allows 0-511); parsing must not fail.
/// Returns the pointers of such values, found by reading the JSON directly.
fn podman_file_modes(input: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(devs) = input.pointer("/linux/devices").and_then(Value::as_array) {
        for (i, d) in devs.iter().enumerate() {
            if d.get("fileMode")
                .and_then(Value::as_u64)
                .is_some_and(|m| m > 0o777)
            {
                out.push(format!("/linux/devices/{i}/fileMode"));
            }
        }
    }
    out
}

#[test]
fn there_are_fixtures_of_every_source() {
    let names: Vec<String> = fixtures().iter().map(|p| name(p)).collect();
    for prefix in [
        "runc-spec",
        "runc-spec-rootless",
        "crun-spec",
        "podman",
        "containerd",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(prefix)),
            "no fixture from {prefix} in {names:?}"
        );
    }
}

#[test]
fn every_fixture_parses_validates_and_round_trips() {
    for path in fixtures() {
        let file = name(&path);
        let bytes = std::fs::read(&path).unwrap();
        let parsed = parse_config(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(parsed.is_valid(), "{file}: {:?}", parsed.violations);
        let spec: Spec = parsed.value;

        let input: Value = serde_json::from_slice(&bytes).unwrap();
        let output = serde_json::to_value(&spec).unwrap();
        assert_eq!(input, output, "{file}: round-trip changed the document");

        let violations = spec.validate();
        assert_eq!(violations, validate_config_value(&input), "{file}");
        assert_eq!(violations, parsed.violations, "{file}");
        let expected = podman_file_modes(&input);
        if !expected.is_empty() {
            assert!(
                file.starts_with("podman"),
                "{file}: fileMode above 0o777 outside podman"
            );
        }
        // No errors. podman's file modes are warnings with the deviation's note; the other
        // warnings are recommendations (podman's absolute root.path is not "rootfs").
        let got: Vec<String> = violations
            .iter()
            .filter(|v| v.kind != ViolationKind::Rule)
            .map(|v| v.pointer.clone())
            .collect();
        assert_eq!(got, expected, "{file}: violations {violations:?}");
        for v in &violations {
            assert_eq!(v.severity, Severity::Warning, "{file}: {v}");
            match v.kind {
                ViolationKind::Range => assert!(
                    v.note
                        .as_deref()
                        .is_some_and(|n| n.contains("config_linux.devices.available")),
                    "{file}: {v:?}"
                ),
                ViolationKind::Rule => {
                    let r = writ_spec::requirements::find(v.requirement).unwrap();
                    assert!(!r.level.is_mandatory(), "{file}: {v}");
                }
                other => panic!("{file}: {other:?}: {v}"),
            }
        }
    }
}

#[verifies("config.extensibility.ignore_unknown")]
#[test]
fn empty_arrays_and_unknown_members_survive() {
    let src =
        br#"{"ociVersion":"1.3.0","mounts":[],"process":{"cwd":"/","args":[],"x-vendor":{"a":1}},
        "linux":{"namespaces":[],"sysctl":{}},"annotations":{},"future":[1,2]}"#;
    let spec = parse_config(src).unwrap().value;
    assert_eq!(spec.mounts.as_deref(), Some(&[][..]));
    assert_eq!(spec.extra.get("future"), Some(&serde_json::json!([1, 2])));
    let back = serde_json::to_value(&spec).unwrap();
    let input: Value = serde_json::from_slice(src).unwrap();
    assert_eq!(back, input);
    // Unknown members are warnings, not errors, and nothing below them is checked.
    let unknown = ["/future", "/process/x-vendor"];
    let violations = validate_config_value(&input);
    for v in violations
        .iter()
        .filter(|v| unknown.iter().any(|u| v.pointer.starts_with(u)))
    {
        assert_eq!(v.kind, ViolationKind::Unknown, "{v}");
        assert_eq!(v.severity, Severity::Warning, "{v}");
        assert_eq!(v.requirement, "config.extensibility.log_unknown");
    }
    let reported: Vec<&str> = violations
        .iter()
        .filter(|v| v.kind == ViolationKind::Unknown)
        .map(|v| v.pointer.as_str())
        .collect();
    assert_eq!(reported, ["/future", "/process/x-vendor"]);
}

/// `writ spec` writes what `runc spec` writes, apart from `ociVersion` (this crate's spec
/// version) and the hostname.
#[test]
fn starter_config_matches_runc_spec() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    for (rootless, file) in [(false, "runc-spec.json"), (true, "runc-spec-rootless.json")] {
        let mut runc: Value =
            serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        runc["ociVersion"] = Value::String(writ_spec::OCI_VERSION.to_owned());
        runc["hostname"] = Value::String("writ".to_owned());
        // The fixtures were made as root: the rootless mapping names host id 0.
        let ours =
            serde_json::to_value(writ_spec::example::starter_config(rootless, 0, 0)).unwrap();
        assert_eq!(ours, runc, "{file}");
    }
}
