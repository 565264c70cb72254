//! Every schema violation names the requirement it breaks: the one codegen recorded for the
//! failing check (from the `schema` selectors of the requirements list), else the document's
//! default.

use serde_json::{json, Value};
use writ_macros::verifies;
use writ_spec::requirements::{self, Check};
use writ_spec::validation::{schema_default, SCHEMA_ENFORCED, SCHEMA_RULES};
use writ_spec::validation::{schema_requirement, Document, SchemaCheck};
use writ_spec::{schema_violations_config, schema_violations_features, schema_violations_state};

fn base() -> Value {
    json!({
        "ociVersion": writ_spec::OCI_VERSION,
        "root": {"path": "rootfs"},
        "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
        "linux": {}
    })
}

/// The (pointer, requirement) of every schema violation of `doc`.
fn ids(doc: &Value) -> Vec<(String, &'static str)> {
    schema_violations_config(doc)
        .into_iter()
        .map(|v| (v.pointer, v.requirement))
        .collect()
}

#[test]
fn the_table_names_only_known_requirements() {
    for r in SCHEMA_RULES {
        let req = requirements::find(r.id).unwrap_or_else(|| panic!("{r:?}: unknown id"));
        assert!(
            req.level != requirements::Level::May,
            "{}: a permission is never what a violation breaks",
            r.id
        );
        assert!(r.pointer.is_empty() || r.pointer.starts_with('/'), "{r:?}");
    }
    for id in SCHEMA_ENFORCED {
        assert!(requirements::find(id).is_some(), "{id}");
    }
    for d in [Document::Config, Document::State, Document::Features] {
        assert!(requirements::find(schema_default(d)).is_some(), "{d:?}");
    }
    assert_eq!(
        schema_default(Document::Config),
        "config.valid_values.error"
    );
    assert_eq!(schema_default(Document::State), "runtime.state.schema");
}

#[test]
fn the_most_specific_rule_wins() {
    // A literal map key beats the map's `*`.
    assert_eq!(
        schema_requirement(
            Document::Config,
            "/annotations/org.opencontainers.image.variant",
            SchemaCheck::Type
        ),
        "config.annotations.image_variant.value"
    );
    assert_eq!(
        schema_requirement(
            Document::Config,
            "/annotations/com.example.x",
            SchemaCheck::Type
        ),
        "config.annotations.value_string"
    );
    // The same place, another check: the default.
    assert_eq!(
        schema_requirement(Document::Config, "/root/path", SchemaCheck::Type),
        "config.valid_values.error"
    );
    assert_eq!(
        schema_requirement(Document::Config, "/root/path", SchemaCheck::Required),
        "config.root.path.required"
    );
    // Another document, the same pointer.
    assert_eq!(
        schema_requirement(Document::State, "/ociVersion", SchemaCheck::Required),
        "runtime.state.oci_version.required"
    );
}

#[verifies(
    "config.hooks.prestart.timeout.positive",
    "config.hooks.create_runtime.timeout.positive"
)]
#[test]
fn a_hook_timeout_of_zero_is_rejected() {
    for (kind, id) in [
        ("prestart", "config.hooks.prestart.timeout.positive"),
        (
            "createRuntime",
            "config.hooks.create_runtime.timeout.positive",
        ),
        // "Entries in the array have the same schema as createRuntime entries."
        (
            "createContainer",
            "config.hooks.create_runtime.timeout.positive",
        ),
        ("poststop", "config.hooks.create_runtime.timeout.positive"),
    ] {
        for bad in [0, -1] {
            let mut doc = base();
            doc["hooks"] = json!({kind: [{"path": "/bin/true", "timeout": bad}]});
            assert_eq!(
                ids(&doc),
                [(format!("/hooks/{kind}/0/timeout"), id)],
                "{kind} timeout {bad}"
            );
        }
        let mut doc = base();
        doc["hooks"] = json!({kind: [{"path": "/bin/true", "timeout": 1}]});
        assert_eq!(ids(&doc), [], "{kind} timeout 1");
    }
}

#[verifies(
    "config_linux.seccomp.default_action.required",
    "config_linux.seccomp.syscalls.action.required"
)]
#[test]
fn a_seccomp_profile_without_its_actions_is_rejected() {
    let mut doc = base();
    doc["linux"]["seccomp"] =
        json!({"syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]});
    assert_eq!(
        ids(&doc),
        [(
            "/linux/seccomp/defaultAction".to_owned(),
            "config_linux.seccomp.default_action.required"
        )]
    );
    doc["linux"]["seccomp"] =
        json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getcwd"]}]});
    assert_eq!(
        ids(&doc),
        [(
            "/linux/seccomp/syscalls/0/action".to_owned(),
            "config_linux.seccomp.syscalls.action.required"
        )]
    );
    // Both given: no finding.
    doc["linux"]["seccomp"]["syscalls"][0]["action"] = json!("SCMP_ACT_ERRNO");
    assert_eq!(ids(&doc), []);
    // Neither can be parsed into the types either (an enum has no zero value).
    doc["linux"]["seccomp"] = json!({"syscalls": []});
    let bytes = serde_json::to_vec(&doc).unwrap();
    let e = writ_spec::parse_config(&bytes).unwrap_err();
    assert_eq!(e.pointer(), Some("/linux/seccomp/defaultAction"), "{e}");
}

/// The JSON pointer of every value in `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, sub) in m {
                let mut p = at.clone();
                writ_spec::validation::push_token(&mut p, k);
                pointers(sub, p, out);
            }
        }
        Value::Array(a) => {
            for (i, sub) in a.iter().enumerate() {
                pointers(sub, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Each value replaced by one of another JSON type, and each member removed in turn.
fn mutations(v: &Value) -> Vec<Value> {
    let mut ptrs = Vec::new();
    pointers(v, String::new(), &mut ptrs);
    let mut out = Vec::new();
    for p in ptrs {
        let mut m = v.clone();
        if let Some(x) = m.pointer_mut(&p) {
            *x = match x {
                Value::String(_) => json!(7),
                Value::Number(_) | Value::Bool(_) | Value::Null => json!("seven"),
                Value::Array(_) => json!({"x": 1}),
                Value::Object(_) => json!([1]),
            };
        }
        out.push(m);
        if let Some((parent, key)) = p.rsplit_once('/') {
            let mut m = v.clone();
            if let Some(Value::Object(o)) = m.pointer_mut(parent) {
                o.remove(&key.replace("~1", "/").replace("~0", "~"));
                out.push(m);
            }
        }
    }
    out
}

#[test]
fn every_schema_finding_names_a_requirement() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    let mut docs = Vec::new();
    for f in ["runc-spec.json", "containerd-ctr-run-options.json"] {
        let v: Value = serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap();
        docs.push((Document::Config, v));
    }
    docs.push((
        Document::State,
        json!({"ociVersion": "1.3.0", "id": "c", "status": "running", "pid": 4, "bundle": "/b",
               "annotations": {"a": "b"}}),
    ));
    docs.push((
        Document::Features,
        json!({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "hooks": ["prestart"],
               "linux": {"namespaces": ["pid"], "seccomp": {"actions": ["SCMP_ACT_ALLOW"]}}}),
    ));
    let mut findings = 0;
    let mut named = std::collections::BTreeSet::new();
    for (doc, v) in docs {
        for m in mutations(&v) {
            let found = match doc {
                Document::Config => schema_violations_config(&m),
                Document::State => schema_violations_state(&m),
                Document::Features => schema_violations_features(&m),
                other => panic!("no document {other:?} in this test"),
            };
            for f in found {
                let req = requirements::find(f.requirement)
                    .unwrap_or_else(|| panic!("{f} names no requirement of the list"));
                assert!(f.to_string().ends_with(&format!("[{}]", req.id)), "{f}");
                findings += 1;
                named.insert(req.id);
            }
        }
    }
    assert!(findings > 500, "{findings} findings");
    // Not only the defaults: the specific entries show up.
    for id in [
        "config.root.path.required",
        "config.process.cwd.required",
        "config.mounts.destination.required",
        "config_linux.namespaces.type.required",
        "runtime.state.id.required",
        "features.oci_version_max.required",
        "config.valid_values.error",
        "runtime.state.schema",
    ] {
        assert!(named.contains(id), "{id} never named: {named:?}");
    }
}

#[test]
fn schema_entries_without_a_generated_check_are_known() {
    // `check = "schema"` entries no selector resolves for: writ coverage reports them as
    // missing. Today one: the generated features validation rejects the `null` that
    // features.md allows for optional fields.
    let unenforced: Vec<&str> = requirements::REQUIREMENTS
        .iter()
        .filter(|r| r.check == Check::Schema && !SCHEMA_ENFORCED.contains(&r.id))
        .map(|r| r.id)
        .collect();
    assert_eq!(unenforced, ["features.document.optional_fields"]);
    let null = json!({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "hooks": null});
    assert!(!schema_violations_features(&null).is_empty());
}
