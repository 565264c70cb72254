//! Values runc accepts beyond the schema's closed sets (codegen's `RUNC_ENUM_EXTENSIONS`):
//! they parse and write back unchanged, while validation still reports them, as warnings
//! naming the requirement that records the deviation.

use serde_json::json;
use writ_spec::{parse_config, validate_config_value, RootfsPropagation, Severity, ViolationKind};

fn config(propagation: &str) -> serde_json::Value {
    json!({
        "ociVersion": "1.3.0",
        "root": {"path": "rootfs"},
        "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
        "linux": {"rootfsPropagation": propagation}
    })
}

#[test]
fn recursive_rootfs_propagation_parses_round_trips_and_is_still_reported() {
    for (text, variant) in [
        ("rprivate", RootfsPropagation::Rprivate),
        ("rshared", RootfsPropagation::Rshared),
        ("rslave", RootfsPropagation::Rslave),
        ("runbindable", RootfsPropagation::Runbindable),
    ] {
        let value = config(text);
        let bytes = serde_json::to_vec(&value).unwrap();
        let parsed = parse_config(&bytes).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(parsed.is_valid(), "{text}: {:?}", parsed.violations);
        let spec = parsed.value;
        let linux = spec.linux.as_ref().unwrap();
        assert_eq!(linux.rootfs_propagation, Some(variant), "{text}");
        assert_eq!(variant.to_string(), text);
        assert_eq!(text.parse::<RootfsPropagation>().ok(), Some(variant));

        let back = serde_json::to_value(&spec).unwrap();
        assert_eq!(back["linux"]["rootfsPropagation"], json!(text), "{text}");
        assert_eq!(back, value, "{text}: the config writes back unchanged");

        let violations = validate_config_value(&value);
        let v = violations
            .iter()
            .find(|v| v.pointer == "/linux/rootfsPropagation")
            .unwrap_or_else(|| panic!("{text}: no violation: {violations:?}"));
        assert_eq!(v.kind, ViolationKind::Enum, "{text}: {v}");
        assert_eq!(v.severity, Severity::Warning, "{text}: {v}");
        let note = v.note.as_deref().unwrap_or_default();
        assert!(
            note.contains("runtime.create.apply_config"),
            "{text}: {note}"
        );
        assert_eq!(spec.validate(), violations, "{text}");
    }
}

#[test]
fn schema_values_still_validate_and_unknown_values_still_fail_to_parse() {
    for text in ["private", "shared", "slave", "unbindable"] {
        let value = config(text);
        assert!(
            !validate_config_value(&value)
                .iter()
                .any(|v| v.pointer == "/linux/rootfsPropagation"),
            "{text}"
        );
    }
    let bytes = serde_json::to_vec(&config("rbogus")).unwrap();
    let err = parse_config(&bytes).unwrap_err();
    assert_eq!(err.pointer(), Some("/linux/rootfsPropagation"), "{err}");
}
