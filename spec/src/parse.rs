//! Reading and writing the three documents: parsing with every finding kept, files.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::validation::{Severity, Violation};
use crate::{locate, Features, Spec, State};

/// Why a document could not be parsed into the Rust types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not JSON at all (or truncated).
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },
    /// JSON, but a value the types cannot hold (a wrong JSON type, an unknown enum value,
    /// an absent member without a zero value such as a namespace's `type`).
    #[error(
        "{} (line {line}, column {column}): {message}",
        display_pointer(pointer)
    )]
    Shape {
        /// JSON pointer of the first value that cannot be held.
        pointer: String,
        /// 1-based line of that value.
        line: usize,
        /// 1-based column of that value.
        column: usize,
        /// What is wrong with it.
        message: String,
        /// Every finding about the document (the one above among them), as
        /// [`Parsed::violations`] would have held them.
        violations: Vec<Violation>,
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

    /// Every finding about the document (none for a syntax error).
    pub fn violations(&self) -> &[Violation] {
        match self {
            Self::Syntax { .. } => &[],
            Self::Shape { violations, .. } => violations,
        }
    }
}

/// A document as parsed: the value and every finding about the document *as written*.
///
/// The Rust types cannot tell an absent required member from its zero value: a config
/// without `root.path` parses, like runc parses it, to `path: ""`. What was absent is kept
/// here, in [`violations`](Self::violations) (kind
/// [`RequiredDefaulted`](crate::ViolationKind::RequiredDefaulted)), together with every
/// other finding; so use these rather than validating `value` again. [`Parsed::into_valid`]
/// gives the value only when there is no error.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a parsed document may carry errors: look at `violations` or call `into_valid`"]
pub struct Parsed<T> {
    /// The document. A required member that was absent holds its zero value.
    pub value: T,
    /// Every finding, errors and warnings, in the order the checks ran: schema checks
    /// (with the required members that were absent), the spec's prose rules, members the
    /// spec does not define, values runtimes accept outside the spec.
    pub violations: Vec<Violation>,
}

impl<T> Parsed<T> {
    /// True when no finding is an error (warnings may remain).
    pub fn is_valid(&self) -> bool {
        !self.violations.iter().any(Violation::is_error)
    }

    /// The findings that are errors.
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.is_error())
    }

    /// The findings that are warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.violations
            .iter()
            .filter(|v| v.severity == Severity::Warning)
    }

    /// The value when no finding is an error; otherwise every finding.
    pub fn into_valid(self) -> Result<T, Invalid> {
        if self.is_valid() {
            Ok(self.value)
        } else {
            Err(Invalid {
                violations: self.violations,
            })
        }
    }
}

/// A document with errors ([`Parsed::into_valid`]): every finding, the errors among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Every finding (errors and warnings).
    pub violations: Vec<Violation>,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors: Vec<&Violation> = self.violations.iter().filter(|v| v.is_error()).collect();
        write!(f, "{} error(s)", errors.len())?;
        for v in errors {
            write!(f, "; {v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

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

/// Checks `value`, then moves it into the Rust types (its strings are moved, not copied:
/// a config padded with a megabyte of annotations is not copied again).
fn from_value<T: DeserializeOwned>(
    bytes: &[u8],
    value: Value,
    check: fn(&Value) -> Vec<Violation>,
) -> Result<Parsed<T>, ParseError> {
    let violations = check(&value);
    match T::deserialize(value) {
        Ok(value) => Ok(Parsed { value, violations }),
        Err(e) => {
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
                violations,
            })
        }
    }
}

/// Parse a `config.json`, keeping every finding ([`Parsed`]): the same rule set as
/// [`validate_config_value`](crate::validate_config_value). Fails only on what the Rust
/// types cannot hold. Members the spec does not define are no error: they are kept in the
/// `extra` map of the struct they appear in (and reported as warnings).
#[writ_macros::requirement("config.extensibility.ignore_unknown")]
pub fn parse_config(bytes: &[u8]) -> Result<Parsed<Spec>, ParseError> {
    let value = parse_json(bytes)?;
    from_value(bytes, value, crate::validate_config_value)
}

/// Parse a state document, keeping every finding.
pub fn parse_state(bytes: &[u8]) -> Result<Parsed<State>, ParseError> {
    let value = parse_json(bytes)?;
    from_value(bytes, value, crate::schema_violations_state)
}

/// Parse a features document, keeping every finding.
pub fn parse_features(bytes: &[u8]) -> Result<Parsed<Features>, ParseError> {
    let value = parse_json(bytes)?;
    from_value(bytes, value, crate::schema_violations_features)
}

/// Why [`load`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a config the types can hold.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why (with every finding about the document).
        #[source]
        source: ParseError,
    },
}

/// Why [`save`] failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct SaveError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// The config file a path names: the path itself, or `config.json` in it when it is a
/// directory (a bundle).
fn config_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("config.json")
    } else {
        path.to_path_buf()
    }
}

/// Read and parse a config file, or the `config.json` of a bundle directory
/// ([`parse_config`]).
pub fn load(path: impl AsRef<Path>) -> Result<Parsed<Spec>, LoadError> {
    let path = config_file(path.as_ref());
    let bytes = std::fs::read(&path).map_err(|source| LoadError::Read {
        path: path.clone(),
        source,
    })?;
    parse_config(&bytes).map_err(|source| LoadError::Parse { path, source })
}

/// A config as JSON text the way `runc spec` writes it: indented with tabs, members in
/// the schema's order, unknown members kept, a final newline.
pub fn to_json_pretty(spec: &Spec) -> String {
    let mut text = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut text, fmt);
    // Serialising these types cannot fail: every map key is a string and no number is a
    // non-finite float.
    let _ = serde::Serialize::serialize(spec, &mut ser);
    text.push(b'\n');
    String::from_utf8(text).unwrap_or_default()
}

/// Write a config to a file, or to `config.json` in a bundle directory, as
/// [`to_json_pretty`] formats it. The text goes to a temporary file beside it that is then
/// renamed over it, so a reader sees the old or the new config, never a part.
pub fn save(path: impl AsRef<Path>, spec: &Spec) -> Result<(), SaveError> {
    let path = config_file(path.as_ref());
    let err = |source| SaveError {
        path: path.clone(),
        source,
    };
    let name = path.file_name().map_or_else(
        || "config.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written =
        std::fs::write(&tmp, to_json_pretty(spec)).and_then(|()| std::fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}
