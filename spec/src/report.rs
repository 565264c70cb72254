//! Findings as diagnostics for people and tools: `file:line:column: severity[id]: ...` with
//! the source line and a caret under the spot, or one JSON document.
//!
//! ```text
//! config.json:14:3: error[config.mounts.destination.required]: /mounts/0/destination: required property "destination" is missing
//!    |
//! 14 |         {
//!    |         ^
//!    = help: found `destinaton`: a misspelling of `destination`?
//! config.json: 1 error
//! ```
//!
//! `writ validate` prints these and `writ create` logs them when it refuses a config.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::locate;
use crate::parse::ParseError;
use crate::requirements;
use crate::validation::{Severity, Violation, ViolationKind};

/// The id a finding that is not about one rule of the spec is reported under: a document
/// that is not JSON, or not an object, is an invalid value.
const INVALID_DOCUMENT: &str = "config.valid_values.error";

/// Source lines longer than this are shown as a window around the column.
const MAX_SNIPPET: usize = 100;

/// One finding, located in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The requirement id (see [`Violation::requirement`]).
    pub requirement: &'static str,
    /// JSON pointer of the value (`None` for a syntax error, which has none).
    pub pointer: Option<String>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// A suggestion (see [`Violation::help`]).
    pub help: Option<String>,
    /// Background (see [`Violation::note`]).
    pub note: Option<String>,
    /// The source line (a window of it when it is long) and the caret's column in it.
    snippet: (String, usize),
}

/// The diagnostics of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    file: String,
    diagnostics: Vec<Diagnostic>,
}

fn source_line(lines: &locate::Lines, line: usize) -> String {
    let text = String::from_utf8_lossy(lines.line(line));
    text.trim_end_matches('\r').to_owned()
}

/// The part of `line` to show and the caret's column in it (1-based, in characters).
fn window(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= MAX_SNIPPET {
        return (line.to_owned(), column);
    }
    let half = MAX_SNIPPET / 2;
    let start = column.saturating_sub(half + 1);
    let end = (start + MAX_SNIPPET).min(chars.len());
    let mut shown = String::new();
    let mut caret = column - start;
    if start > 0 {
        shown.push_str("...");
        caret += 3;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push_str("...");
    }
    (shown, caret)
}

impl Diagnostic {
    fn at(lines: &locate::Lines, line: usize, column: usize) -> (usize, usize, (String, usize)) {
        (line, column, window(&source_line(lines, line), column))
    }

    fn of_violation(src: &[u8], lines: &locate::Lines, v: &Violation) -> Self {
        let offset = if v.kind == ViolationKind::Unknown {
            locate::locate_member(src, &v.pointer)
        } else {
            locate::locate(src, &v.pointer)
        };
        let (line, column) = lines.line_column(offset);
        let (line, column, snippet) = Self::at(lines, line, column);
        Self {
            severity: v.severity,
            requirement: v.requirement,
            pointer: Some(v.pointer.clone()),
            line,
            column,
            message: v.message.clone(),
            help: v.help.clone(),
            note: v.note.clone(),
            snippet,
        }
    }

    /// The first line: `file:line:column: severity[id]: pointer: message` (`(root)` for
    /// the document itself).
    fn headline(&self, file: &str) -> String {
        let at = match self.pointer.as_deref() {
            None => String::new(),
            Some("") => "(root): ".to_owned(),
            Some(p) => format!("{p}: "),
        };
        format!(
            "{file}:{}:{}: {}[{}]: {at}{}",
            self.line, self.column, self.severity, self.requirement, self.message
        )
    }

    /// The diagnostic on one line (for a log): the first line, then the help and the note.
    pub fn one_line(&self, file: &str) -> String {
        let mut line = self.headline(file);
        for (label, text) in [("help", &self.help), ("note", &self.note)] {
            if let Some(text) = text {
                let _ = write!(line, "; {label}: {text}");
            }
        }
        line
    }

    fn render(&self, file: &str, out: &mut String) {
        let _ = writeln!(out, "{}", self.headline(file));
        let (text, caret) = &self.snippet;
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        // The caret sits under the column: tabs before it are copied so that it lines up
        // whatever the terminal's tab width.
        let pad: String = text
            .chars()
            .take(caret.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = writeln!(out, "{gutter} |");
        let _ = writeln!(out, "{number} | {text}");
        let _ = writeln!(out, "{gutter} | {pad}^");
        for (label, text) in [("help", &self.help), ("note", &self.note)] {
            if let Some(text) = text {
                let _ = writeln!(out, "{gutter} = {label}: {text}");
            }
        }
    }

    fn to_json(&self) -> Value {
        let level = requirements::find(self.requirement).map(|r| r.level.as_str());
        let url = requirements::find(self.requirement).map(|r| r.url());
        json!({
            "severity": self.severity.as_str(),
            "requirement": self.requirement,
            "level": level,
            "pointer": self.pointer,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "help": self.help,
            "note": self.note,
            "url": url,
        })
    }
}

impl Report {
    /// The diagnostics of `violations` about the document `src`, named `file` in the
    /// output. They are sorted by position (errors before warnings at the same place).
    pub fn new(file: impl Into<String>, src: &[u8], violations: &[Violation]) -> Self {
        // The line index is made only for a document with findings.
        let lines = locate::Lines::new(if violations.is_empty() { &[] } else { src });
        let mut diagnostics: Vec<Diagnostic> = violations
            .iter()
            .map(|v| Diagnostic::of_violation(src, &lines, v))
            .collect();
        diagnostics.sort_by_key(|d| (d.line, d.column, d.severity));
        Self {
            file: file.into(),
            diagnostics,
        }
    }

    /// The diagnostics of a document that did not parse: one for a JSON syntax error, or
    /// every finding of a document the types cannot hold.
    pub fn of_parse_error(file: impl Into<String>, src: &[u8], e: &ParseError) -> Self {
        match e {
            ParseError::Syntax {
                line,
                column,
                message,
            } => {
                let lines = locate::Lines::new(src);
                let (line, column, snippet) = Diagnostic::at(&lines, *line, (*column).max(1));
                Self {
                    file: file.into(),
                    diagnostics: vec![Diagnostic {
                        severity: Severity::Error,
                        requirement: INVALID_DOCUMENT,
                        pointer: None,
                        line,
                        column,
                        message: format!("not valid JSON: {message}"),
                        help: None,
                        note: None,
                        snippet,
                    }],
                }
            }
            ParseError::Shape { violations, .. } => Self::new(file, src, violations),
        }
    }

    /// The document's name as the diagnostics show it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Every diagnostic, by position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// How many diagnostics are errors.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// How many diagnostics are warnings.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == s).count()
    }

    /// True when there is no error.
    pub fn is_ok(&self) -> bool {
        self.errors() == 0
    }

    /// One line: `config.json: ok`, `config.json: ok, 1 warning`,
    /// `config.json: 2 errors, 1 warning`.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.file, self.counts())
    }

    /// The summary without the file: `ok`, `ok, 1 warning`, `2 errors, 1 warning`.
    pub fn counts(&self) -> String {
        let plural = |n: usize, what: &str| {
            if n == 1 {
                format!("1 {what}")
            } else {
                format!("{n} {what}s")
            }
        };
        let (e, w) = (self.errors(), self.warnings());
        let mut parts = Vec::new();
        if e == 0 {
            parts.push("ok".to_owned());
        } else {
            parts.push(plural(e, "error"));
        }
        if w > 0 {
            parts.push(plural(w, "warning"));
        }
        parts.join(", ")
    }

    /// Every diagnostic with its snippet (no summary line).
    pub fn render_diagnostics(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            d.render(&self.file, &mut out);
        }
        out
    }

    /// The report as one JSON document: `{"file", "ok", "errors", "warnings",
    /// "diagnostics": [{"severity", "requirement", "level", "pointer", "line", "column",
    /// "message", "help", "note", "url"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "file": self.file,
            "ok": self.is_ok(),
            "errors": self.errors(),
            "warnings": self.warnings(),
            "diagnostics": self.diagnostics.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Every diagnostic with its snippet, then the summary line.
impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render_diagnostics())?;
        f.write_str(&self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_windowed_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(300), "b".repeat(300));
        let (shown, caret) = window(&line, 301);
        assert!(shown.starts_with("...") && shown.ends_with("..."));
        assert_eq!(shown.chars().nth(caret - 1), Some('X'));
        assert!(shown.chars().count() <= MAX_SNIPPET + 6);
        let (shown, caret) = window("short", 3);
        assert_eq!((shown.as_str(), caret), ("short", 3));
    }
}
