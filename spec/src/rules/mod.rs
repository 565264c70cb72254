//! The spec's prose rules about the config that the JSON schema cannot express: every
//! requirement with `check = "validate"` that applies to Linux (see
//! `spec/requirements/*.toml`).
//!
//! The rules read the raw JSON, so they run whether or not the document deserializes; a value
//! of the wrong JSON type is skipped here because the schema check already reports it. Each
//! finding is a [`Violation`] of kind [`ViolationKind::Rule`] carrying its requirement id and
//! the JSON pointer of the offending value (for a missing member: where it belongs).
//!
//! Findings of mandatory rules (MUST, MUST NOT, REQUIRED) are returned by [`check`]; those of
//! recommendations (SHOULD, SHOULD NOT, NOT RECOMMENDED) by [`advisories`]: a config may
//! break a recommendation and still be valid.

use serde_json::Value;
use writ_macros::requirement;

use crate::requirements;
use crate::validation::{push_token, Violation, ViolationKind};

mod annotations;
mod hooks;
mod linux;
mod mounts;
mod process;
mod resources;
mod root;
mod seccomp;
mod version;

/// A JSON pointer under construction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ptr(String);

impl Ptr {
    pub(crate) fn root() -> Self {
        Self::default()
    }

    /// The pointer to member `key` of the value this one points at.
    pub(crate) fn key(&self, key: &str) -> Self {
        let mut s = self.0.clone();
        push_token(&mut s, key);
        Self(s)
    }

    /// The pointer to item `index` of the array this one points at.
    pub(crate) fn idx(&self, index: usize) -> Self {
        Self(format!("{}/{index}", self.0))
    }
}

/// The rule findings of one config.
#[derive(Debug, Default)]
pub(crate) struct Findings(Vec<Violation>);

impl Findings {
    pub(crate) fn report(&mut self, id: &'static str, at: &Ptr, message: String) {
        self.0.push(Violation {
            pointer: at.0.clone(),
            message,
            kind: ViolationKind::Rule,
            requirement: id,
        });
    }
}

/// Items of the array at `v[key]` (nothing when absent or not an array).
pub(crate) fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// The string at `v[key]`, if it is one.
pub(crate) fn string<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The object at `v[key]`, if it is one.
pub(crate) fn object<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|o| o.is_object())
}

/// Whether `v[key]` is present with a value other than `null` (the types read `null` as
/// absent).
pub(crate) fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

/// Every rule finding, mandatory and advisory, in the order the sections are checked.
///
/// This is the static half of "invalid values are an error": `writ validate` (and a runtime
/// that refuses a config with violations) reports every value the spec's prose rules out.
#[requirement("config.valid_values.error")]
pub fn all(config: &Value) -> Vec<Violation> {
    let mut f = Findings::default();
    if !config.is_object() {
        // The schema check reports a document that is not an object.
        return Vec::new();
    }
    version::check(config, &mut f);
    root::check(config, &mut f);
    mounts::check(config, &mut f);
    process::check(config, &mut f);
    hooks::check(config, &mut f);
    annotations::check(config, &mut f);
    if let Some(linux) = object(config, "linux") {
        let at = Ptr::root().key("linux");
        linux::check(linux, &at, &mut f);
        resources::check(linux, &at, &mut f);
        seccomp::check(linux, &at, &mut f);
    }
    f.0
}

/// Whether a finding breaks a mandatory rule (MUST, MUST NOT, REQUIRED).
fn mandatory(v: &Violation) -> bool {
    requirements::find(v.requirement).is_some_and(|r| r.level.is_mandatory())
}

/// The violations of mandatory prose rules (MUST, MUST NOT, REQUIRED) in a config.
pub fn check(config: &Value) -> Vec<Violation> {
    all(config).into_iter().filter(mandatory).collect()
}

/// The places where a config departs from a recommendation (SHOULD, SHOULD NOT, NOT
/// RECOMMENDED): worth a warning, not an error.
pub fn advisories(config: &Value) -> Vec<Violation> {
    all(config).into_iter().filter(|v| !mandatory(v)).collect()
}

/// Whether `path` is absolute on Linux.
pub(crate) fn absolute(path: &str) -> bool {
    path.starts_with('/')
}
