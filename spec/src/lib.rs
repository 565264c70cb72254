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
pub mod generated;
pub mod example;
pub mod locate;
pub mod requirements;
pub mod rules;
pub mod validation;

#[cfg(feature = "oci-spec-interop")]
pub mod interop;

pub use generated::config::*;
pub use generated::features::*;
pub use generated::state::*;
pub use generated::ConversionError;
pub use validation::{Violation, ViolationKind};

use serde::de::DeserializeOwned;
use serde_json::Value;

/// The spec version these types implement (generated from the tag in `spec/schema.lock`).
pub use generated::OCI_VERSION;

/// Why a document could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON at all (or truncated).
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but a value the types cannot hold.
    #[error(
        "{} (line {line}, column {column}): {message}",
        display_pointer(pointer)
    )]
    Shape {
        pointer: String,
        line: usize,
        column: usize,
        message: String,
    },
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() {
        "(root)"
    } else {
        p
    }
}

impl ParseError {
    /// The JSON pointer of the offending value, when known.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Self::Syntax { .. } => None,
            Self::Shape { pointer, .. } => Some(pointer),
        }
    }
}

/// Parse bytes as JSON, reporting syntax errors with line and column.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ParseError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let bare = full.strip_suffix(&suffix).unwrap_or(&full);
        let message = if e.is_eof() {
            format!("{bare} (the document is truncated)")
        } else {
            bare.to_owned()
        };
        ParseError::Syntax {
            line: e.line(),
            column: e.column(),
            message,
        }
    })
}

fn from_value<T: DeserializeOwned>(
    bytes: &[u8],
    value: Value,
    check: fn(&Value) -> Vec<Violation>,
) -> Result<T, ParseError> {
    match T::deserialize(&value) {
        Ok(t) => Ok(t),
        Err(e) => {
            let violations = check(&value);
            let first = violations.iter().find(|v| v.kind.breaks_parsing());
            let (pointer, message) = match first {
                Some(v) => (v.pointer.clone(), v.message.clone()),
                None => (String::new(), e.to_string()),
            };
            let (line, column) = locate::line_column(bytes, locate::locate(bytes, &pointer));
            Err(ParseError::Shape {
                pointer,
                line,
                column,
                message,
            })
        }
    }
}

/// Parse a `config.json`. Members the spec does not define are no error: they are kept in
/// the `extra` map of the struct they appear in.
#[writ_macros::requirement("config.extensibility.ignore_unknown")]
pub fn parse_config(bytes: &[u8]) -> Result<Spec, ParseError> {
    let value = parse_json(bytes)?;
    from_value(bytes, value, schema_violations_config)
}

/// Parse a state document.
pub fn parse_state(bytes: &[u8]) -> Result<State, ParseError> {
    let value = parse_json(bytes)?;
    from_value(bytes, value, schema_violations_state)
}

/// Parse a features document.
pub fn parse_features(bytes: &[u8]) -> Result<Features, ParseError> {
    let value = parse_json(bytes)?;
    from_value(bytes, value, schema_violations_features)
}

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

/// Every violation of a config document given as raw JSON: all schema rules, then the
/// spec's mandatory prose rules ([`rules::check`]), which carry a requirement id.
pub fn validate_config_value(v: &Value) -> Vec<Violation> {
    let mut out = schema_violations_config(v);
    out.extend(rules::check(v));
    out
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    // Serialising these types cannot fail: every map key is a string and no field is a
    // non-finite float coming from JSON.
    serde_json::to_value(t).unwrap_or(Value::Null)
}

impl Spec {
    /// Every violation of this config.
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
    /// Every violation of this state document.
    pub fn validate(&self) -> Vec<Violation> {
        schema_violations_state(&to_value(self))
    }
}

impl Features {
    /// Every violation of this features document.
    pub fn validate(&self) -> Vec<Violation> {
        schema_violations_features(&to_value(self))
    }
}
