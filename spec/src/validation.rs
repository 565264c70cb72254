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

use serde_json::Value;

use crate::generated::validate::PATTERNS;

/// What kind of rule a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
            Self::Rule => None,
        }
    }
}

/// One broken rule, located by JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// RFC 6901 JSON pointer to the offending value (for a missing property: where it should be).
    pub pointer: String,
    /// What is wrong, for a person.
    pub message: String,
    pub kind: ViolationKind,
    /// The requirement id (`spec/requirements/*.toml`) the violation breaks. Every violation
    /// has one: prose rules name theirs, schema violations the one codegen recorded for the
    /// check (see [`schema_requirement`]).
    pub requirement: &'static str,
}

/// The document a validation walks (decides which requirement a schema violation names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
pub enum SchemaCheck {
    Type,
    Required,
    Enum,
    Minimum,
    Maximum,
    Pattern,
    MinItems,
}

/// One entry of the generated table: findings of `check` at `pointer` (RFC 6901 tokens,
/// `*` for any index or key) in `document` break requirement `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaRule {
    pub document: Document,
    pub pointer: &'static str,
    pub check: SchemaCheck,
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
    use crate::generated::schema_ids::{schema_default, SCHEMA_RULES};
    SCHEMA_RULES
        .iter()
        .find(|r| r.document == document && r.check == check && pointer_matches(r.pointer, pointer))
        .map_or_else(|| schema_default(document), |r| r.id)
}

impl Violation {
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
        write!(
            f,
            "{}: {} [{}]",
            self.display_pointer(),
            self.message,
            self.requirement
        )
    }
}

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
pub struct Ctx {
    document: Document,
    pointer: String,
    violations: Vec<Violation>,
}

/// A saved pointer length, restored by [`Ctx::leave`].
#[derive(Debug, Clone, Copy)]
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

/// The value of a JSON integer (`None` for anything else, floats included).
pub fn integer(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}

fn regex(index: usize) -> Option<&'static regress::Regex> {
    static COMPILED: OnceLock<Vec<Option<regress::Regex>>> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            PATTERNS
                .iter()
                .map(|p| regress::Regex::new(p).ok())
                .collect()
        })
        .get(index)
        .and_then(Option::as_ref)
}

fn matches(index: usize, s: &str) -> bool {
    // Patterns are checked to compile when generated; an unusable one matches nothing.
    regex(index).is_some_and(|r| r.find(s).is_some())
}

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

    pub fn enter_key(&mut self, key: &str) -> Mark {
        let m = Mark(self.pointer.len());
        push_token(&mut self.pointer, key);
        m
    }

    pub fn enter_index(&mut self, index: usize) -> Mark {
        let m = Mark(self.pointer.len());
        self.pointer.push('/');
        self.pointer.push_str(&index.to_string());
        m
    }

    pub fn leave(&mut self, mark: Mark) {
        self.pointer.truncate(mark.0);
    }

    /// Records a schema violation at the current pointer, naming the requirement the
    /// generated table gives for `check` there.
    fn report_check(&mut self, kind: ViolationKind, check: SchemaCheck, message: String) {
        let requirement = schema_requirement(self.document, &self.pointer, check);
        self.violations.push(Violation {
            pointer: self.pointer.clone(),
            message,
            kind,
            requirement,
        });
    }

    /// Records a schema violation of `kind` at the current pointer.
    pub fn report(&mut self, kind: ViolationKind, message: String) {
        let check = kind.schema_check().unwrap_or(SchemaCheck::Type);
        self.report_check(kind, check, message);
    }

    pub fn wrong_type(&mut self, v: &Value, expected: &str) {
        self.report(
            ViolationKind::Type,
            format!("expected {expected}, found {}", describe(v)),
        );
    }

    pub fn boolean(&mut self, v: &Value) {
        if !v.is_boolean() {
            self.wrong_type(v, "a boolean");
        }
    }

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

    pub fn too_few_items(&mut self, len: usize, min: usize) {
        self.report(
            ViolationKind::MinItems,
            format!("has {len} items, at least {min} required"),
        );
    }

    /// A required member `key` is absent; `zero_value`: its type has a zero value that
    /// parsing fills in.
    pub fn missing(&mut self, key: &str, zero_value: bool) {
        let m = self.enter_key(key);
        let kind = if zero_value {
            ViolationKind::RequiredDefaulted
        } else {
            ViolationKind::Required
        };
        self.report(kind, format!("required property {key:?} is missing"));
        self.leave(m);
    }

    /// Whether a map key falls under a `patternProperties` pattern.
    pub fn key_matches(&self, key: &str, index: usize) -> bool {
        matches(index, key)
    }
}
