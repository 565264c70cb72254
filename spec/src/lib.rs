//! OCI runtime-spec for Rust: the config ([`Spec`]), state ([`State`]) and features
//! ([`Features`]) documents as Rust types, their validation, and the spec's requirements as
//! data. Types and validation are generated from the upstream JSON schemas of the release
//! pinned in `spec/schema.lock` ([`OCI_VERSION`]); every type, member and value is
//! documented with its unit, range, the requirement ids that govern it and a link to its
//! section of the spec.
//!
//! # Parse, validate, print
//!
//! [`parse_config`] (or [`load`] for a file or bundle) gives the config *and* every finding
//! about it, so nothing the Rust types cannot show gets lost: a config without `root.path`
//! parses, as runc reads it, to `path: ""`, and the finding that it was absent is kept.
//!
//! ```
//! let text = br#"{
//!     "ociVersion": "1.0.0",
//!     "root": {"readonly": true},
//!     "process": {"cwd": "/", "arsg": ["sh"], "user": {"uid": 0, "gid": 0}}
//! }"#;
//! let parsed = writ_spec::parse_config(text)?;
//! assert_eq!(parsed.value.root.as_ref().unwrap().path, ""); // what the types hold
//! assert!(!parsed.is_valid());                              // what the document lacks
//!
//! // Every finding names the requirement it is about, and says error or warning.
//! let found: Vec<(&str, &str)> = parsed
//!     .violations
//!     .iter()
//!     .map(|v| (v.pointer.as_str(), v.requirement))
//!     .collect();
//! assert_eq!(found, [
//!     ("/root/path", "config.root.path.required"),
//!     ("/process/arsg", "config.extensibility.log_unknown"),
//!     ("/process/args", "config.process.args.non_empty"),
//! ]);
//! assert_eq!(parsed.violations[1].help.as_deref(), Some("did you mean `args`?"));
//!
//! // Diagnostics for people: file:line:column, the source line, a caret.
//! let report = writ_spec::Report::new("config.json", text, &parsed.violations);
//! let shown = report.to_string();
//! assert!(shown.starts_with(
//!     "config.json:3:13: error[config.root.path.required]: /root/path: required property \"path\" is missing\n"
//! ));
//! assert!(shown.ends_with("config.json: 2 errors, 1 warning"));
//! // ... or as JSON for tools: report.to_json()
//! # Ok::<(), writ_spec::ParseError>(())
//! ```
//!
//! [`Parsed::into_valid`] turns the findings into a `Result` (errors refuse, warnings pass).
//! [`Spec::validate`] checks a config built in code with the same rule set.
//!
//! # Build, check, save
//!
//! ```
//! use writ_spec::{Mount, Spec};
//!
//! let mut spec = writ_spec::example::starter_config(false, 0, 0); // what `runc spec` writes
//! spec.hostname = Some("web".into());
//! spec.mounts.get_or_insert_with(Vec::new).push(Mount {
//!     destination: "data".into(), // relative: on Linux a warning (it should be absolute)
//!     source: Some("/srv/data".into()),
//!     options: Some(vec!["rbind".into(), "ro".into()]),
//!     ..Mount::default()
//! });
//! let findings = spec.validate();
//! assert!(findings.iter().all(|v| !v.is_error()));
//! assert_eq!(findings[0].requirement, "config.mounts.destination.absolute_linux");
//!
//! let dir = std::env::temp_dir().join(format!("writ-spec-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! writ_spec::save(&dir, &spec)?; // dir/config.json, written atomically
//! assert_eq!(writ_spec::load(&dir)?.value, spec);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Convert to oci-spec
//!
//! With the cargo feature `oci-spec-interop`, each document converts to and from the
//! [`oci-spec`](https://docs.rs/oci-spec) crate's types ([`interop`]), for code that already
//! uses them:
//!
//! ```
//! # #[cfg(feature = "oci-spec-interop")] {
//! let spec = writ_spec::example::starter_config(false, 0, 0);
//! let theirs = oci_spec::runtime::Spec::try_from(&spec)?;
//! assert_eq!(theirs.version(), writ_spec::OCI_VERSION);
//! let back = writ_spec::Spec::try_from(&theirs)?;
//! assert_eq!((&back.root, &back.mounts), (&spec.root, &spec.mounts));
//! // oci-spec keeps capability sets as hash sets: their order does not survive the trip.
//! # }
//! # Ok::<(), writ_spec::interop::InteropError>(())
//! ```
//!
//! # What the types hold
//!
//! Parsing fails only on what the types cannot hold (a wrong JSON type, an unknown enum
//! value, an absent member without a zero value such as a namespace's `type`); everything
//! else is a finding. Values runc accepts outside the schema because engines send them
//! (podman's device `fileMode` with file-type bits, runc's `rshared` propagation) parse,
//! and are warnings that name the requirement recording the deviation. Members the spec
//! does not define are kept in each struct's `extra` map and written back. The public enums
//! are `#[non_exhaustive]`: a later release of the spec may add values.
//!
//! # The requirements
//!
//! [`requirements`] holds every normative statement of the spec as a [`Requirement`]: id,
//! level, document and line, platforms, our one-line summary. [`rules`] are the spec's
//! prose rules the schema cannot express, each tagged with its id.

#![warn(missing_docs)]

#[rustfmt::skip]
mod generated;
mod accepted;
pub mod example;
pub mod locate;
pub mod packed;
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
pub use validation::{Document, SchemaCheck, SchemaRule, Severity, Violation, ViolationKind};

#[cfg(feature = "oci-spec-interop")]
pub use interop::InteropError;

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
