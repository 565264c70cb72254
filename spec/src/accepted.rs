//! Values the spec rules out that runtimes accept, because engines send them: each finding
//! about one becomes a warning, with a note naming the requirement that records why (its
//! `deviation`, or the rule of the spec that overrides it). `writ validate` and `writ create`
//! agree on them by construction: both read [`crate::validate_config_value`].

use serde_json::Value;

use crate::requirements;
use crate::validation::{integer, Severity, Violation, ViolationKind};

/// The file-type bits of a mode (`S_IFMT`).
const S_IFMT: i128 = 0o170_000;

/// Why a finding is accepted: the id of the requirement that says so, and the reason.
fn accepted(config: &Value, v: &Violation) -> Option<(&'static str, String)> {
    let value = config.pointer(&v.pointer);
    let deviation = |id: &'static str| {
        requirements::find(id)
            .and_then(|r| r.deviation)
            .map(|why| (id, why.to_owned()))
    };
    let tokens: Vec<&str> = v.pointer.split('/').collect();
    match (v.kind, tokens.as_slice()) {
        // podman's device fileMode with the file-type bits (0o20666): runc uses the
        // permission bits.
        (ViolationKind::Range, ["", "linux", "devices", _, "fileMode"]) => {
            let mode = value.and_then(integer)?;
            (mode >= 0 && mode & !(S_IFMT | 0o777) == 0)
                .then(|| deviation("config_linux.devices.available"))?
        }
        // runc's recursive propagation values, which containerd's CRI writes: the Rust enum
        // holds them (codegen's RUNC_ENUM_EXTENSIONS).
        (ViolationKind::Enum, ["", "linux", "rootfsPropagation"]) => {
            let s = value.and_then(Value::as_str)?;
            s.parse::<crate::RootfsPropagation>()
                .ok()
                .and_then(|_| deviation("runtime.create.apply_config"))
        }
        // A key in the reserved namespace that the spec does not define: the config breaks
        // a MUST NOT, but a runtime must not refuse an annotation key it does not know.
        (ViolationKind::Rule, _) if v.requirement == "config.annotations.reserved_namespace" => {
            Some((
                "config.annotations.unknown_keys",
                "a runtime never refuses an annotation key it does not know".to_owned(),
            ))
        }
        _ => None,
    }
}

/// Turns the errors about accepted values into warnings with a note.
pub(crate) fn apply(config: &Value, findings: &mut [Violation]) {
    for v in findings.iter_mut().filter(|v| v.is_error()) {
        if let Some((id, why)) = accepted(config, v) {
            v.severity = Severity::Warning;
            v.note = Some(format!("accepted as runc accepts it [{id}]: {why}"));
        }
    }
}
