//! The terminal table, markdown and JSON renderings.

use std::fmt::Write as _;

use writ_spec::requirements::{Requirement, SPEC_VERSION};

use super::results::{Results, TestState};
use super::{Counts, Coverage, Format, Row, Status};
use crate::trace::Use;

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOpts {
    /// Only the totals per document and level.
    pub summary: bool,
    /// Table: also the handler and test columns.
    pub wide: bool,
    /// Table: the width to fit (`None`: no limit).
    pub width: Option<usize>,
    /// HTML: base URL of the source links.
    pub source_base: String,
}

impl RenderOpts {
    /// Totals only.
    pub fn summary() -> Self {
        RenderOpts {
            summary: true,
            ..Self::default()
        }
    }

    /// Every row, every column, no width limit.
    pub fn full() -> Self {
        RenderOpts {
            wide: true,
            ..Self::default()
        }
    }
}

/// Renders `cov` in `format`.
pub fn render(cov: &Coverage, format: Format, opts: &RenderOpts) -> String {
    match format {
        Format::Table => render_table(cov, opts),
        Format::Markdown => render_markdown(cov, opts),
        Format::Json => render_json(cov, opts),
        Format::Html => super::html::render_html(cov, opts),
    }
}

pub(super) fn loc(u: &Use) -> String {
    format!("{}:{}", u.file, u.line)
}

pub(super) fn section(req: &Requirement) -> String {
    format!("{}#{}", req.doc, req.anchor)
}

/// The statuses worth a column: all but failing and not run when no row has them (the
/// claimed view never does).
pub(super) fn columns(cov: &Coverage) -> Vec<Status> {
    let t = cov.totals();
    Status::ALL
        .into_iter()
        .filter(|s| {
            !matches!(s, Status::Failing | Status::NotRun)
                || t.get(Status::Failing) + t.get(Status::NotRun) > 0
        })
        .collect()
}

/// A test's location and name (the name says what it proves, e.g. the CVE it guards),
/// with its state unless it passed.
fn test_cell(u: &Use, state: &TestState) -> String {
    let name = u.item.rsplit("::").next().unwrap_or(u.item);
    match state {
        TestState::Passed { .. } => format!("{} {name}", loc(u)),
        s => format!("{} {name} ({})", loc(u), s.as_str()),
    }
}

/// Cuts `s` to `max` characters, marking the cut with `…`.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer word gets a
/// line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in text.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    lines.push(cur);
    lines
}

fn join_or_dash(it: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = it.collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}

/// Plain-text table for a terminal: status, level, id and section (`--wide`: handlers and
/// tests too), fitted to `opts.width` by shortening the section, then the id.
pub fn render_table(cov: &Coverage, opts: &RenderOpts) -> String {
    let mut out = String::new();
    for l in wrap(&cov.results.describe(), opts.width.unwrap_or(usize::MAX)) {
        let _ = writeln!(out, "{l}");
    }
    out.push('\n');
    if !opts.summary {
        let mut head = vec!["STATUS", "LEVEL", "ID", "SECTION"];
        if opts.wide {
            head.extend(["HANDLERS", "TESTS"]);
        }
        let mut lines: Vec<Vec<String>> = vec![head.iter().map(|s| (*s).to_owned()).collect()];
        for r in &cov.rows {
            let mut l = vec![
                r.status.as_str().to_owned(),
                r.req.level.as_str().to_owned(),
                r.req.id.to_owned(),
                section(r.req),
            ];
            if opts.wide {
                l.push(join_or_dash(r.handlers.iter().map(|u| loc(u))));
                l.push(join_or_dash(r.tests.iter().map(|(u, s)| test_cell(u, s))));
            }
            lines.push(l);
        }
        let n = lines[0].len();
        let mut w = vec![0usize; n];
        for l in &lines {
            for (i, c) in l.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        if let (Some(limit), false) = (opts.width, opts.wide) {
            // The last column needs no padding; the others are followed by two spaces.
            let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * (w.len() - 1);
            for (col, min) in [(3, 14), (2, 24)] {
                let over = total(&w).saturating_sub(limit);
                if over > 0 {
                    w[col] = w[col].saturating_sub(over).max(min);
                }
            }
        }
        for l in &lines {
            let mut s = String::new();
            for (i, c) in l.iter().enumerate() {
                let c = cut(c, w[i]);
                if i + 1 < n {
                    let _ = write!(s, "{c:<width$}  ", width = w[i]);
                } else {
                    s.push_str(&c);
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&totals_text(cov, opts.width.unwrap_or(usize::MAX)));
    for o in &cov.orphans {
        let w = format!(
            "warning: {} names unknown requirement {} ({})",
            o.item,
            o.id,
            loc(o)
        );
        for l in wrap(&w, opts.width.unwrap_or(usize::MAX)) {
            let _ = writeln!(out, "{l}");
        }
    }
    out
}

fn totals_text(cov: &Coverage, width: usize) -> String {
    let cols = columns(cov);
    let mut grid: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["".to_string()];
    head.extend(cols.iter().map(|s| s.short().to_string()));
    head.push("total".into());
    grid.push(head);
    let row = |name: String, c: &Counts| {
        let mut v = vec![name];
        v.extend(cols.iter().map(|s| c.get(*s).to_string()));
        v.push(c.total().to_string());
        v
    };
    for (d, c) in cov.by_doc() {
        grid.push(row(d.to_string(), &c));
    }
    grid.push(row("all documents".into(), &cov.totals()));
    grid.push(Vec::new());
    for (l, c) in cov.by_level() {
        grid.push(row(l.as_str().to_string(), &c));
    }
    let n = grid[0].len();
    let mut w = vec![0usize; n];
    for r in &grid {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let mut out = String::new();
    for r in &grid {
        let mut s = String::new();
        for (i, c) in r.iter().enumerate() {
            if i == 0 {
                let _ = write!(s, "{c:<width$}  ", width = w[i]);
            } else {
                let _ = write!(s, "{c:>width$}  ", width = w[i]);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    }
    let legend: Vec<String> = cols
        .iter()
        .filter(|s| s.short() != s.as_str())
        .map(|s| format!("{} = {}", s.short(), s.as_str()))
        .collect();
    for l in wrap(&format!("({})", legend.join(", ")), width) {
        let _ = writeln!(out, "{l}");
    }
    let mandatory = cov.linux_mandatory().count();
    let _ = writeln!(
        out,
        "\nLinux MUST / MUST NOT / REQUIRED: {} verified of {mandatory}",
        cov.ratchet_count()
    );
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// What "verified" rests on, for the headings.
fn verified_means(results: &Results) -> &'static str {
    match results {
        Results::Assumed => {
            "Verified: implemented (a handler, or a generated schema check) and proven by a \
             tagged test; CI's `writ coverage --check` fails unless every such test ran and \
             passed in its recorded run."
        }
        Results::Recorded(_) => {
            "Verified: implemented (a handler, or a generated schema check) and a tagged test \
             passed in the last recorded run."
        }
    }
}

/// Markdown; with `opts.summary`, only the totals (what the README shows).
pub fn render_markdown(cov: &Coverage, opts: &RenderOpts) -> String {
    let cols = columns(cov);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Requirements of OCI runtime-spec {SPEC_VERSION} and where writ stands \
         (generated by `writ coverage --format markdown --summary`). {}\n",
        verified_means(&cov.results)
    );
    let mut head = String::from("| Document |");
    let mut rule = String::from("| --- |");
    for s in &cols {
        let _ = write!(head, " {} |", s.label());
        rule.push_str(" ---: |");
    }
    head.push_str(" Total |");
    rule.push_str(" ---: |");
    let line = |name: &str, c: &Counts, bold: bool| {
        let mut s = format!("| {name} |");
        for st in &cols {
            let _ = write!(s, " {} |", c.get(*st));
        }
        if bold {
            let _ = write!(s, " **{}** |", c.total());
        } else {
            let _ = write!(s, " {} |", c.total());
        }
        s
    };
    let _ = writeln!(out, "{head}\n{rule}");
    for (d, c) in cov.by_doc() {
        let _ = writeln!(out, "{}", line(&format!("`{d}`"), &c, false));
    }
    let _ = writeln!(out, "{}", line("**All**", &cov.totals(), true));
    out.push('\n');
    let _ = writeln!(out, "{}", head.replacen("Document", "Level", 1));
    let _ = writeln!(out, "{rule}");
    for (l, c) in cov.by_level() {
        let _ = writeln!(out, "{}", line(l.as_str(), &c, false));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Linux MUST / MUST NOT / REQUIRED: **{} verified** of {}.",
        cov.ratchet_count(),
        cov.linux_mandatory().count()
    );
    if opts.summary {
        return out;
    }
    out.push('\n');
    let _ = writeln!(out, "{}\n", md_escape(&cov.results.describe()));
    out.push_str("| Status | Level | Id | Sentence | Handlers | Tests |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for r in &cov.rows {
        let hs: Vec<String> = r.handlers.iter().map(|u| format!("`{}`", loc(u))).collect();
        let ts: Vec<String> = r
            .tests
            .iter()
            .map(|(u, s)| format!("`{}`", test_cell(u, s)))
            .collect();
        let status = match (r.status, r.req.waived) {
            (Status::Waived, Some(why)) => format!("waived: {}", md_escape(why)),
            (s, _) => s.as_str().to_string(),
        };
        let _ = writeln!(
            out,
            "| {status} | {} | `{}` | [{}]({}) | {} | {} |",
            r.req.level,
            r.req.id,
            section(r.req),
            r.req.sentence_url(),
            if hs.is_empty() {
                "-".into()
            } else {
                hs.join("<br>")
            },
            if ts.is_empty() {
                "-".into()
            } else {
                ts.join("<br>")
            },
        );
    }
    out
}

fn use_json(u: &Use) -> serde_json::Value {
    serde_json::json!({ "item": u.item, "file": u.file, "line": u.line })
}

fn test_json(u: &Use, s: &TestState) -> serde_json::Value {
    let mut v = use_json(u);
    v["state"] = s.as_str().into();
    match s {
        TestState::Passed { time } => {
            if *time > 0 {
                v["time"] = (*time).into();
            }
        }
        TestState::Failed { time, detail } => {
            v["time"] = (*time).into();
            v["detail"] = detail.as_str().into();
        }
        TestState::NotRun { why } => v["detail"] = why.as_str().into(),
    }
    v
}

fn counts_json(c: &Counts) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for s in Status::ALL {
        m.insert(s.as_str().into(), c.get(s).into());
    }
    m.insert("total".into(), c.total().into());
    serde_json::Value::Object(m)
}

fn row_json(r: &Row) -> serde_json::Value {
    serde_json::json!({
        "id": r.req.id,
        "level": r.req.level.as_str(),
        "doc": r.req.doc,
        "anchor": r.req.anchor,
        "sentence": {
            "line": r.req.line,
            "fingerprint": r.req.fingerprint,
            "url": r.req.sentence_url(),
        },
        "platforms": r.req.platforms.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "check": r.req.check.as_str(),
        "enforcedBySchema": r.enforced,
        "summary": r.req.summary,
        "status": r.status.as_str(),
        "waived": r.req.waived,
        "handlers": r.handlers.iter().map(|u| use_json(u)).collect::<Vec<_>>(),
        "tests": r.tests.iter().map(|(u, s)| test_json(u, s)).collect::<Vec<_>>(),
    })
}

fn results_json(results: &Results) -> serde_json::Value {
    match results {
        Results::Assumed => serde_json::json!({"source": "assumed"}),
        Results::Recorded(r) => {
            let span = results.span();
            serde_json::json!({
                "source": "recorded",
                "dir": r.dir.display().to_string(),
                "records": r.records.len(),
                "oldest": span.map(|s| s.0),
                "newest": span.map(|s| s.1),
                "unreadable": r.problems,
            })
        }
    }
}

/// JSON: `{specVersion, results, requirements: [...], totals: {byDocument, byLevel, all},
/// linuxMandatory: {verified, total}, orphans: [...]}`.
pub fn render_json(cov: &Coverage, opts: &RenderOpts) -> String {
    let mut root = serde_json::Map::new();
    root.insert("specVersion".into(), SPEC_VERSION.into());
    root.insert("results".into(), results_json(&cov.results));
    if !opts.summary {
        let reqs: Vec<serde_json::Value> = cov.rows.iter().map(row_json).collect();
        root.insert("requirements".into(), reqs.into());
    }
    let mut by_doc = serde_json::Map::new();
    for (d, c) in cov.by_doc() {
        by_doc.insert(d.into(), counts_json(&c));
    }
    let mut by_level = serde_json::Map::new();
    for (l, c) in cov.by_level() {
        by_level.insert(l.as_str().into(), counts_json(&c));
    }
    root.insert(
        "totals".into(),
        serde_json::json!({
            "byDocument": by_doc,
            "byLevel": by_level,
            "all": counts_json(&cov.totals()),
        }),
    );
    root.insert(
        "linuxMandatory".into(),
        serde_json::json!({
            "verified": cov.ratchet_count(),
            "total": cov.linux_mandatory().count(),
        }),
    );
    root.insert(
        "orphans".into(),
        cov.orphans
            .iter()
            .map(
                |u| serde_json::json!({"id": u.id, "item": u.item, "file": u.file, "line": u.line}),
            )
            .collect::<Vec<_>>()
            .into(),
    );
    let mut s = serde_json::to_string_pretty(&serde_json::Value::Object(root)).unwrap_or_default();
    s.push('\n');
    s
}
