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

use crate::validation::{push_token, Violation, ViolationKind};

mod annotations;
mod hooks;
mod linux;
mod mounts;
mod names;
mod process;
mod resources;
mod root;
mod seccomp;
mod version;

pub use names::{capability_number, CAPABILITIES, RLIMITS};

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
    /// A finding about rule `id`: an error or a warning as the rule's level says.
    pub(crate) fn report(&mut self, id: &'static str, at: &Ptr, message: String) {
        self.0.push(Violation::new(
            at.0.clone(),
            message,
            ViolationKind::Rule,
            id,
        ));
    }

    /// A finding that is a warning whatever the level of rule `id` (a rule that says to
    /// warn), with a suggestion.
    pub(crate) fn warn(
        &mut self,
        id: &'static str,
        at: &Ptr,
        message: String,
        help: Option<String>,
    ) {
        let mut v = Violation::new(at.0.clone(), message, ViolationKind::Rule, id);
        v.severity = crate::Severity::Warning;
        v.help = help;
        self.0.push(v);
    }

    /// The last finding gets a suggestion.
    pub(crate) fn help(&mut self, help: Option<String>) {
        if let Some(v) = self.0.last_mut() {
            v.help = help;
        }
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

/// The rule findings that are errors (mandatory rules: MUST, MUST NOT, REQUIRED).
pub fn check(config: &Value) -> Vec<Violation> {
    all(config)
        .into_iter()
        .filter(Violation::is_error)
        .collect()
}

/// The rule findings that are warnings: where a config departs from a recommendation
/// (SHOULD, SHOULD NOT, NOT RECOMMENDED), or what a rule says to warn about (an unknown
/// capability).
pub fn advisories(config: &Value) -> Vec<Violation> {
    all(config).into_iter().filter(|v| !v.is_error()).collect()
}

/// Whether `path` is absolute on Linux.
pub(crate) fn absolute(path: &str) -> bool {
    path.starts_with('/')
}
