//! Every difference to the `oci-spec` crate (0.10) that `spec/README.md` claims, checked: if
//! oci-spec changes, this fails and the README must follow.
#![cfg(feature = "oci-spec-interop")]

use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "ociVersion": "1.3.0",
        "root": {"path": "rootfs"},
        "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}}
    })
}

fn theirs(v: &Value) -> Result<oci_spec::runtime::Spec, serde_json::Error> {
    serde_json::from_value(v.clone())
}

#[test]
fn an_absent_required_member_is_reported_here_and_silently_defaulted_there() {
    let mut v = base();
    v["root"] = json!({"readonly": true});
    let t = theirs(&v).expect("oci-spec parses it");
    assert_eq!(t.root().as_ref().unwrap().path().as_os_str(), "");
    let ours = writ_spec::parse_config(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(ours
        .errors()
        .any(|e| e.requirement == "config.root.path.required"));
}

#[test]
fn an_unknown_capability_is_a_warning_here_and_fails_the_whole_config_there() {
    let mut v = base();
    v["process"]["capabilities"] = json!({"bounding": ["CAP_CHOWN", "CAP_NOT_YET"]});
    assert!(
        theirs(&v).is_err(),
        "oci-spec now accepts unknown capabilities"
    );
    let ours = writ_spec::parse_config(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(ours.is_valid());
    assert!(ours
        .warnings()
        .any(|w| w.requirement == "config.process.capabilities.unknown_warn"));
}

#[test]
fn unknown_members_are_kept_here_and_dropped_there() {
    let mut v = base();
    v["org.example.future"] = json!({"x": 1});
    v["process"]["x-vendor"] = json!(true);
    let t = theirs(&v).unwrap();
    let back = serde_json::to_value(&t).unwrap();
    assert!(back.get("org.example.future").is_none());
    assert!(back["process"].get("x-vendor").is_none());
    let ours = writ_spec::parse_config(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&ours.value).unwrap(), v);
    let unknown = ours
        .warnings()
        .filter(|w| w.requirement == "config.extensibility.log_unknown")
        .count();
    assert_eq!(unknown, 2);
}

#[test]
fn out_of_range_values_are_findings_here_and_unchecked_there() {
    let mut v = base();
    v["hooks"] = json!({"createRuntime": [{"path": "/bin/true", "timeout": 0}]});
    v["process"]["cwd"] = json!("relative");
    assert!(theirs(&v).is_ok());
    let ours = writ_spec::parse_config(&serde_json::to_vec(&v).unwrap()).unwrap();
    let ids: Vec<&str> = ours.errors().map(|e| e.requirement).collect();
    assert!(
        ids.contains(&"config.hooks.create_runtime.timeout.positive"),
        "{ids:?}"
    );
    assert!(ids.contains(&"config.process.cwd.absolute"), "{ids:?}");
}

#[test]
fn a_type_error_names_the_member_here_and_only_a_position_there() {
    let src = b"{\n  \"ociVersion\": \"1.3.0\",\n  \"process\": {\"cwd\": 7}\n}";
    let e = serde_json::from_slice::<oci_spec::runtime::Spec>(src).unwrap_err();
    assert!(!e.to_string().contains("cwd"), "{e}");
    let ours = writ_spec::parse_config(src).unwrap_err();
    assert_eq!(ours.pointer(), Some("/process/cwd"));
}

#[test]
fn the_default_config_says_an_old_version_there_and_this_one_here() {
    assert_eq!(oci_spec::runtime::Spec::default().version(), "1.0.2-dev");
    assert_eq!(
        writ_spec::Spec::with_version().oci_version,
        writ_spec::OCI_VERSION
    );
}
