//! OCI runtime-spec for Rust: the config (`Spec`), state (`State`) and features
//! (`Features`) types and their validation, generated from the upstream JSON schemas by
//! `writ-codegen`, plus the requirement table. The release is the one pinned in
//! `spec/schema.lock` ([`OCI_VERSION`], [`requirements::SPEC_VERSION`]).
//!
//! Parsing ([`parse_config`]) only fails on what the Rust types cannot hold (wrong JSON types,
//! unknown enum values, absent members without a zero value such as a namespace's `type`);
//! like runc, an absent `allow` or `soft` parses as `false`/`0`. Everything else (ranges,
//! patterns, required members) is reported by validation ([`Spec::validate`],
//! [`validate_config_value`]), so configs real runtimes accept (podman's device `fileMode`
//! with file-type bits) still parse. Unknown members are kept in each struct's `extra` map
//! and written back.

#[rustfmt::skip]
#[allow(missing_docs)]
mod generated;
mod accepted;
pub mod example;
pub mod locate;
mod parse;
pub mod report;
pub mod requirements;
pub mod rules;
pub mod validation;

#[cfg(feature = "oci-spec-interop")]
pub mod interop;

pub use generated::config::*;
pub use generated::features::*;
pub use generated::state::*;
pub use generated::{ConversionError, OCI_VERSION, SPEC_TAG};
pub use parse::{
    load, parse_config, parse_features, parse_json, parse_state, save, to_json_pretty, Invalid,
    LoadError, ParseError, Parsed, SaveError,
};
pub use report::{Diagnostic, Report};
pub use requirements::{Check, Level, Platform, Requirement};
pub use validation::{Severity, Violation, ViolationKind};

use serde_json::Value;

fn run(
    document: validation::Document,
    check: fn(&Value, &mut validation::Ctx),
    v: &Value,
) -> Vec<Violation> {
    let mut cx = validation::Ctx::new(document);
    check(v, &mut cx);
    cx.finish()
}

/// Schema violations of a config document (raw JSON).
pub fn schema_violations_config(v: &Value) -> Vec<Violation> {
    run(
        validation::Document::Config,
        generated::validate::check_spec,
        v,
    )
}

/// Schema violations of a state document (raw JSON).
pub fn schema_violations_state(v: &Value) -> Vec<Violation> {
    run(
        validation::Document::State,
        generated::validate::check_state,
        v,
    )
}

/// Schema violations of a features document (raw JSON).
pub fn schema_violations_features(v: &Value) -> Vec<Violation> {
    run(
        validation::Document::Features,
        generated::validate::check_features,
        v,
    )
}

/// Every finding about a config document given as raw JSON: the rule set `writ validate`
/// reports and `writ create` enforces. In order: the schema checks (types, required
/// members, ranges, patterns, closed sets; members the spec does not define, as warnings),
/// then the spec's prose rules ([`rules::all`]; recommendations as warnings). Values the
/// spec rules out but runtimes accept because engines send them (podman's device
/// `fileMode` with file-type bits, runc's `rshared` propagation) are warnings with a
/// [`note`](Violation::note) naming the requirement that records the deviation. Every
/// finding carries a requirement id; the config is valid when none is an
/// [error](Severity::Error).
pub fn validate_config_value(v: &Value) -> Vec<Violation> {
    let mut out = schema_violations_config(v);
    out.extend(rules::all(v));
    accepted::apply(v, &mut out);
    validation::link_misspellings(v, &mut out);
    out
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    // Serialising these types cannot fail: every map key is a string and no field is a
    // non-finite float coming from JSON.
    serde_json::to_value(t).unwrap_or(Value::Null)
}

impl Spec {
    /// Every finding about this config ([`validate_config_value`] of its JSON).
    ///
    /// This sees the value as it is: a required member that parsing filled in with its zero
    /// value (an absent `root.path` read as `""`) looks present here. The findings of a
    /// parsed document, those included, are in [`Parsed::violations`].
    pub fn validate(&self) -> Vec<Violation> {
        validate_config_value(&to_value(self))
    }

    /// A config with only `ociVersion` set to this crate's spec version.
    pub fn with_version() -> Self {
        Spec {
            oci_version: OCI_VERSION.to_owned(),
            ..Spec::default()
        }
    }
}

impl State {
    /// Every finding about this state document (the schema's checks).
    pub fn validate(&self) -> Vec<Violation> {
        schema_violations_state(&to_value(self))
    }
}

impl Features {
    /// Every finding about this features document (the schema's checks).
    pub fn validate(&self) -> Vec<Violation> {
        schema_violations_features(&to_value(self))
    }
}
