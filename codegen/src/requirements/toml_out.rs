//! The canonical text of a list file, as `--write` produces it.

use super::{DocInfo, Requirement};
use std::fmt::Write as _;

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The file text: a header comment, then one `[[requirement]]` table per entry.
pub fn render_file(info: &DocInfo, entries: &[Requirement]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Normative statements of {} at the OCI runtime-spec release pinned in spec/schema.lock:",
        info.doc
    );
    out.push_str("# one entry per keyword. Format: README.md. Fingerprint, level, anchor and occurrence are\n");
    out.push_str("# kept in step with the spec text by `writ-codegen requirements --spec-docs DIR --write`;\n");
    out.push_str("# the rest is ours.\n");
    for r in entries {
        out.push('\n');
        out.push_str("[[requirement]]\n");
        let _ = writeln!(out, "id = {}", quote(&r.id));
        let _ = writeln!(out, "level = {}", quote(r.level.as_str()));
        let _ = writeln!(out, "doc = {}", quote(&r.doc));
        let _ = writeln!(out, "anchor = {}", quote(&r.anchor));
        if r.line != 0 {
            let _ = writeln!(out, "line = {}", r.line);
        }
        let platforms: Vec<String> = r.platforms.iter().map(|p| quote(p.as_str())).collect();
        let _ = writeln!(out, "platforms = [{}]", platforms.join(", "));
        let _ = writeln!(out, "summary = {}", quote(&r.summary));
        let _ = writeln!(out, "check = {}", quote(r.check.as_str()));
        if let Some(v) = &r.specerror {
            let _ = writeln!(out, "specerror = {}", quote(v));
        }
        let _ = writeln!(out, "fingerprint = {}", quote(&r.fingerprint));
        if r.occurrence != 1 {
            let _ = writeln!(out, "occurrence = {}", r.occurrence);
        }
        if !r.schema.is_empty() {
            let sels: Vec<String> = r.schema.iter().map(|s| quote(s)).collect();
            let _ = writeln!(out, "schema = [{}]", sels.join(", "));
        }
        for (k, v) in [
            ("waived", &r.waived),
            ("deviation", &r.deviation),
            ("review", &r.review),
        ] {
            if let Some(v) = v {
                let _ = writeln!(out, "{k} = {}", quote(v));
            }
        }
    }
    out
}
