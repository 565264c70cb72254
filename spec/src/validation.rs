//! Violations and the helpers the generated checks (`generated/validate.rs`) call.
//!
//! Every violation names the requirement it breaks. The prose rules (`crate::rules`) name
//! theirs; a schema violation takes its id from the table codegen resolves from the
//! requirements list (`generated/schema_ids.rs`, see [`schema_requirement`]): the entry
//! whose `schema` selector names the check that failed (`/root/path required` ->
//! `config.root.path.required`), else the document's default (config: invalid values are an
//! error; state: the state follows its schema; features: the features structure).

use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::generated::validate::{PATTERNS, PATTERNS_REGEX_LITE};

pub use crate::generated::schema_ids::{schema_default, SCHEMA_ENFORCED, SCHEMA_RULES};

/// What kind of rule a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationKind {
    /// The JSON type is wrong (or an integer does not fit the Rust type): the document does
    /// not deserialize.
    Type,
    /// A required property is missing and its type has no zero value (an enum, or a struct
    /// with such a member): the document does not deserialize.
    Required,
    /// A required property is missing; parsing fills in its zero value (`0`, `""`, `false`,
    /// `[]`), as runc does, so only validation rejects the document.
    RequiredDefaulted,
    /// A string is not one of a closed set: the document does not deserialize.
    Enum,
    /// A number is outside the schema's range.
    Range,
    /// A string does not match the schema's pattern.
    Pattern,
    /// An array has fewer items than the schema requires.
    MinItems,
    /// A rule from the spec's prose (see `requirement`).
    Rule,
    /// A member the schema does not define. Never an error
    /// (`config.extensibility.ignore_unknown`); reported as a warning so that a misspelt
    /// `arsg` does not go unnoticed (`config.extensibility.log_unknown`), with the closest
    /// known member in [`Violation::help`].
    Unknown,
}

impl ViolationKind {
    /// A short lower-case name (`type`, `required`, ..., `rule`, `unknown`), as `--format
    /// json` writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Type => "type",
            Self::Required => "required",
            Self::RequiredDefaulted => "required",
            Self::Enum => "enum",
            Self::Range => "range",
            Self::Pattern => "pattern",
            Self::MinItems => "min-items",
            Self::Rule => "rule",
            Self::Unknown => "unknown",
        }
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// The config breaks a mandatory rule (MUST, MUST NOT, REQUIRED, or the schema): a
    /// runtime refuses it (`writ create` does).
    Error,
    /// Worth hearing, never a reason to refuse: a recommendation (SHOULD, SHOULD NOT, NOT
    /// RECOMMENDED) not followed, a member the spec does not define, or a value outside
    /// the spec that runtimes accept (see [`Violation::note`]).
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ViolationKind {
    /// Whether a document with this violation cannot be parsed into the Rust types.
    pub fn breaks_parsing(self) -> bool {
        matches!(self, Self::Type | Self::Required | Self::Enum)
    }
}

impl ViolationKind {
    /// The generated check behind a schema violation of this kind (`None` for a prose rule;
    /// a range violation is a minimum or a maximum, see [`Ctx::integer`]).
    fn schema_check(self) -> Option<SchemaCheck> {
        match self {
            Self::Type => Some(SchemaCheck::Type),
            Self::Required | Self::RequiredDefaulted => Some(SchemaCheck::Required),
            Self::Enum => Some(SchemaCheck::Enum),
            Self::Range => Some(SchemaCheck::Minimum),
            Self::Pattern => Some(SchemaCheck::Pattern),
            Self::MinItems => Some(SchemaCheck::MinItems),
            Self::Rule | Self::Unknown => None,
        }
    }
}

/// One finding about a document, located by JSON pointer: a broken rule (an error, or a
/// warning for a recommendation) or a member the spec does not define (a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// RFC 6901 JSON pointer to the offending value (for a missing property: where it
    /// should be; for an unknown member: the member).
    pub pointer: String,
    /// What is wrong, for a person.
    pub message: String,
    /// What kind of rule it is about.
    pub kind: ViolationKind,
    /// The requirement id (`spec/requirements/*.toml`) the finding is about. Every finding
    /// has one: prose rules name theirs, schema violations the one codegen recorded for the
    /// check (see [`schema_requirement`]), unknown members `config.extensibility.log_unknown`.
    pub requirement: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// A suggestion: the known member an unknown one is probably a misspelling of ("did
    /// you mean `args`?"), or the unknown member found beside a missing one.
    pub help: Option<String>,
    /// Background: why a value outside the spec is only a warning (what runtimes accept).
    pub note: Option<String>,
}

/// The document a validation walks (decides which requirement a schema violation names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Document {
    /// `config.json`.
    Config,
    /// The state (`runtime.md#state`).
    State,
    /// The features structure (`features.md`).
    Features,
}

/// The kind of check a generated schema check makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaCheck {
    /// The JSON type.
    Type,
    /// A required member is present.
    Required,
    /// A string is one of a closed set.
    Enum,
    /// A number is at least the minimum.
    Minimum,
    /// A number is at most the maximum.
    Maximum,
    /// A string matches a pattern.
    Pattern,
    /// An array has enough items.
    MinItems,
}

/// One entry of the generated table: findings of `check` at `pointer` (RFC 6901 tokens,
/// `*` for any index or key) in `document` break requirement `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaRule {
    /// The document the check is in.
    pub document: Document,
    /// Where the check is.
    pub pointer: &'static str,
    /// What it checks.
    pub check: SchemaCheck,
    /// The requirement its findings name.
    pub id: &'static str,
}

fn pointer_matches(pattern: &str, pointer: &str) -> bool {
    let mut p = pattern.split('/');
    let mut v = pointer.split('/');
    loop {
        match (p.next(), v.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == "*" || a == b => {}
            _ => return false,
        }
    }
}

/// The requirement a schema violation of `check` at `pointer` in `document` breaks: the
/// most specific rule of the generated table that matches, else the document's default.
pub fn schema_requirement(document: Document, pointer: &str, check: SchemaCheck) -> &'static str {
    SCHEMA_RULES
        .iter()
        .find(|r| r.document == document && r.check == check && pointer_matches(r.pointer, pointer))
        .map_or_else(|| schema_default(document), |r| r.id)
}

impl Violation {
    /// A finding of `kind` at `pointer` about requirement `requirement`, with the severity
    /// its kind and the requirement's level give (see [`Violation::severity`]).
    pub(crate) fn new(
        pointer: String,
        message: String,
        kind: ViolationKind,
        requirement: &'static str,
    ) -> Self {
        let severity = match kind {
            ViolationKind::Unknown => Severity::Warning,
            ViolationKind::Rule => match crate::requirements::find(requirement) {
                Some(r) if !r.level.is_mandatory() => Severity::Warning,
                _ => Severity::Error,
            },
            _ => Severity::Error,
        };
        Self {
            pointer,
            message,
            kind,
            requirement,
            severity,
            help: None,
            note: None,
        }
    }

    /// Whether this finding is an error (a runtime refuses the document).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The pointer as shown to people: `(root)` for the document itself.
    pub fn display_pointer(&self) -> &str {
        if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        write!(
            f,
            "{}: {} [{}]",
            self.display_pointer(),
            self.message,
            self.requirement
        )
    }
}

impl std::error::Error for Violation {}

/// Appends one RFC 6901 reference token (escaping `~` and `/`).
pub fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// The walk state of a validation: the document, the current pointer and the violations
/// found so far.
#[derive(Debug)]
#[doc(hidden)]
pub struct Ctx {
    document: Document,
    pointer: String,
    violations: Vec<Violation>,
}

/// A saved pointer length, restored by [`Ctx::leave`].
#[derive(Debug, Clone, Copy)]
#[doc(hidden)]
pub struct Mark(usize);

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// The requirement an unknown member of a config is reported under: unknown properties may
/// be logged (and are otherwise ignored).
pub const UNKNOWN_MEMBER: &str = "config.extensibility.log_unknown";

/// Spelling for comparison: lower case, without `_` and `-` (`oci_version` ~ `ociVersion`).
fn folded(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The candidate `key` is most likely a misspelling of (or the other way round): the one at
/// the smallest edit distance (transpositions count once), when that is at most a third of
/// the key's length (at least 1).
pub(crate) fn closest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let k = folded(key);
    let limit = (k.chars().count() / 3).max(1);
    candidates
        .map(|c| (strsim::osa_distance(&k, &folded(c)), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Gives each finding about an absent member (a required one, or one a prose rule wants)
/// the unknown member beside it that looks like its misspelling: "found `destinaton`".
pub(crate) fn link_misspellings(config: &Value, findings: &mut [Violation]) {
    let unknown: Vec<String> = findings
        .iter()
        .filter(|v| v.kind == ViolationKind::Unknown)
        .map(|v| v.pointer.clone())
        .collect();
    for v in findings.iter_mut() {
        if v.kind == ViolationKind::Unknown || v.help.is_some() {
            continue;
        }
        let Some((parent, key)) = v.pointer.rsplit_once('/') else {
            continue;
        };
        if config.pointer(&v.pointer).is_some() || config.pointer(parent).is_none() {
            continue;
        }
        let siblings = unknown
            .iter()
            .filter_map(|u| u.rsplit_once('/'))
            .filter(|(p, _)| *p == parent)
            .map(|(_, k)| k);
        if let Some(found) = closest(key, siblings) {
            v.help = Some(format!("found `{found}`: a misspelling of `{key}`?"));
        }
    }
}

/// The value of a JSON integer (`None` for anything else, floats included).
pub fn integer(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}

/// The schema's pattern `index` (`PATTERNS`, ECMA-262), compiled from its regex-lite
/// translation (`PATTERNS_REGEX_LITE`), on first use.
fn regex(index: usize) -> Option<&'static regex_lite::Regex> {
    static COMPILED: OnceLock<Vec<Option<regex_lite::Regex>>> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            PATTERNS_REGEX_LITE
                .iter()
                .map(|p| regex_lite::Regex::new(p).ok())
                .collect()
        })
        .get(index)
        .and_then(Option::as_ref)
}

fn matches(index: usize, s: &str) -> bool {
    // Patterns are checked to compile when generated; an unusable one matches nothing.
    regex(index).is_some_and(|r| r.is_match(s))
}

#[cfg(test)]
mod pattern_tests;

impl Ctx {
    /// A validation of `document` from its root.
    pub fn new(document: Document) -> Self {
        Self {
            document,
            pointer: String::new(),
            violations: Vec::new(),
        }
    }

    /// The violations found, in document order.
    pub fn finish(self) -> Vec<Violation> {
        self.violations
    }

    /// Descends into member `key`.
    pub fn enter_key(&mut self, key: &str) -> Mark {
        let m = Mark(self.pointer.len());
        push_token(&mut self.pointer, key);
        m
    }

    /// Descends into item `index`.
    pub fn enter_index(&mut self, index: usize) -> Mark {
        let m = Mark(self.pointer.len());
        self.pointer.push('/');
        self.pointer.push_str(&index.to_string());
        m
    }

    /// Goes back up to where `mark` was taken.
    pub fn leave(&mut self, mark: Mark) {
        self.pointer.truncate(mark.0);
    }

    /// Records a schema violation at the current pointer, naming the requirement the
    /// generated table gives for `check` there.
    fn report_check(&mut self, kind: ViolationKind, check: SchemaCheck, message: String) {
        let requirement = schema_requirement(self.document, &self.pointer, check);
        self.violations.push(Violation::new(
            self.pointer.clone(),
            message,
            kind,
            requirement,
        ));
    }

    /// Records a schema violation of `kind` at the current pointer.
    pub fn report(&mut self, kind: ViolationKind, message: String) {
        let check = kind.schema_check().unwrap_or(SchemaCheck::Type);
        self.report_check(kind, check, message);
    }

    /// Reports that `v` is not of the `expected` JSON type.
    pub fn wrong_type(&mut self, v: &Value, expected: &str) {
        self.report(
            ViolationKind::Type,
            format!("expected {expected}, found {}", describe(v)),
        );
    }

    /// Checks that `v` is a boolean.
    pub fn boolean(&mut self, v: &Value) {
        if !v.is_boolean() {
            self.wrong_type(v, "a boolean");
        }
    }

    /// Checks that `v` is a number.
    pub fn number(&mut self, v: &Value) {
        if !v.is_number() {
            self.wrong_type(v, "a number");
        }
    }

    /// An integer that must fit the Rust type `rust` and, when given, the schema's bounds
    /// (only passed where they are narrower than the Rust type).
    pub fn integer(&mut self, v: &Value, rust: &str, min: Option<i128>, max: Option<i128>) {
        let Some(n) = integer(v) else {
            self.wrong_type(v, "an integer");
            return;
        };
        let fits = match rust {
            "i8" => i8::try_from(n).is_ok(),
            "i16" => i16::try_from(n).is_ok(),
            "i32" => i32::try_from(n).is_ok(),
            "u8" => u8::try_from(n).is_ok(),
            "u16" => u16::try_from(n).is_ok(),
            "u32" => u32::try_from(n).is_ok(),
            "u64" => u64::try_from(n).is_ok(),
            _ => i64::try_from(n).is_ok(),
        };
        if !fits {
            self.report(
                ViolationKind::Type,
                format!("{n} is out of range for this field (it must fit in {rust})"),
            );
            return;
        }
        if let Some(min) = min.filter(|m| n < *m) {
            self.report_check(
                ViolationKind::Range,
                SchemaCheck::Minimum,
                format!("{n} is below the minimum {min}"),
            );
        }
        if let Some(max) = max.filter(|m| n > *m) {
            let octal = if max == 0o777 {
                format!(" (0o{n:o}: only the permission bits 0o777 are allowed)")
            } else {
                String::new()
            };
            self.report_check(
                ViolationKind::Range,
                SchemaCheck::Maximum,
                format!("{n} is above the maximum {max}{octal}"),
            );
        }
    }

    /// A string, matching `PATTERNS[pattern]` when given.
    pub fn string(&mut self, v: &Value, pattern: Option<usize>) {
        let Some(s) = v.as_str() else {
            self.wrong_type(v, "a string");
            return;
        };
        if let Some(i) = pattern {
            if !matches(i, s) {
                let p = PATTERNS.get(i).copied().unwrap_or("?");
                self.report(
                    ViolationKind::Pattern,
                    format!("{s:?} does not match the pattern {p}"),
                );
            }
        }
    }

    /// A string from a closed set.
    pub fn one_of(&mut self, v: &Value, allowed: &[&str]) {
        match v.as_str() {
            None => self.wrong_type(v, "a string"),
            Some(s) if allowed.contains(&s) => {}
            Some(s) => self.not_in_enum(s, allowed),
        }
    }

    /// Reports that `s` is not one of `allowed`.
    pub fn not_in_enum(&mut self, s: &str, allowed: &[&str]) {
        self.report(
            ViolationKind::Enum,
            format!("{s:?} is not one of {}", allowed.join(", ")),
        );
    }

    /// An array with `len` items where the schema requires at least `min`.
    pub fn min_items(&mut self, len: usize, min: usize) {
        if len < min {
            self.too_few_items(len, min);
        }
    }

    /// Reports an array of `len` items where `min` are required.
    pub fn too_few_items(&mut self, len: usize, min: usize) {
        self.report(
            ViolationKind::MinItems,
            format!("has {len} items, at least {min} required"),
        );
    }

    /// The members of object `o`, whose schema defines `known`: each `(name, required)`,
    /// `required` being `Some(zero_value)` for a required member (`zero_value`: its type has
    /// a zero value that parsing fills in when it is absent). Reports every required member
    /// that is absent and, in a config, every member the schema does not define (a warning
    /// naming the closest absent known member: `arsg` -> `args`; see also
    /// `link_misspellings`).
    pub fn members(&mut self, o: &Map<String, Value>, known: &[(&str, Option<bool>)]) {
        let unknown: Vec<&str> = if self.document == Document::Config {
            o.keys()
                .map(String::as_str)
                .filter(|k| !known.iter().any(|(name, _)| name == k))
                .collect()
        } else {
            Vec::new()
        };
        for &(key, required) in known {
            let Some(zero_value) = required else { continue };
            if o.contains_key(key) {
                continue;
            }
            let m = self.enter_key(key);
            let kind = if zero_value {
                ViolationKind::RequiredDefaulted
            } else {
                ViolationKind::Required
            };
            self.report(kind, format!("required property {key:?} is missing"));
            self.leave(m);
        }
        for key in unknown {
            let absent = known
                .iter()
                .map(|(name, _)| *name)
                .filter(|name| !o.contains_key(*name));
            let m = self.enter_key(key);
            let mut v = Violation::new(
                self.pointer.clone(),
                format!("unknown property {key:?} (not defined by the spec, ignored)"),
                ViolationKind::Unknown,
                UNKNOWN_MEMBER,
            );
            v.help = closest(key, absent).map(|k| format!("did you mean `{k}`?"));
            self.violations.push(v);
            self.leave(m);
        }
    }

    /// Whether a map key falls under a `patternProperties` pattern.
    pub fn key_matches(&self, key: &str, index: usize) -> bool {
        matches(index, key)
    }
}
