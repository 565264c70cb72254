//! `writ coverage`: every requirement of the list with its handlers, its tests and a
//! status, as a terminal table, markdown, JSON or a self-contained HTML page.
//!
//! The requirements come from `writ_spec::requirements::REQUIREMENTS`; the handlers and
//! tests from `crate::trace::USES` (collected from the sources at build time). Nothing
//! here depends on the machine or the clock, so the output is the same on a fresh clone
//! and in CI.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use writ_spec::requirements::{Check, Level, Requirement, DOCS, REQUIREMENTS, SPEC_VERSION};

use crate::trace::{Use, UseKind, USES};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned plain text for a terminal.
    Table,
    /// GitHub-flavoured markdown.
    Markdown,
    /// JSON (one object: requirements, totals, ratchet count).
    Json,
    /// A self-contained HTML page (inline CSS and JS).
    Html,
}

#[derive(Debug, clap::Args)]
pub struct CoverageArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Only the totals per document and level (for the README).
    #[arg(long)]
    pub summary: bool,
    /// Only requirements with this status (repeatable).
    #[arg(long, value_enum)]
    pub status: Vec<Status>,
    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Record the current number of verified Linux MUST/MUST NOT/REQUIRED requirements in
    /// spec/ratchet.toml (refused when it would go down).
    #[arg(long)]
    pub update_ratchet: bool,
    /// Rewrite the summary between `<!-- coverage:begin -->` and `<!-- coverage:end -->`
    /// in this README.
    #[arg(long, value_name = "README")]
    pub update_readme: Option<PathBuf>,
}

/// Where a requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Status {
    /// A handler and a test (or: enforced by the schema, and a test).
    Verified,
    /// A handler, no test yet.
    Implemented,
    /// Enforced by the schema (the generated types and validation); no test of its own.
    Schema,
    /// Deliberately not implemented; the list says why.
    Waived,
    /// Nothing yet.
    Missing,
    /// Applies only to other platforms than Linux.
    #[value(name = "other-platform")]
    OtherPlatform,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Verified,
        Status::Implemented,
        Status::Schema,
        Status::Waived,
        Status::Missing,
        Status::OtherPlatform,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Implemented => "implemented",
            Status::Schema => "schema",
            Status::Waived => "waived",
            Status::Missing => "missing",
            Status::OtherPlatform => "other-platform",
        }
    }

    /// Title-case label for table headers.
    pub const fn label(self) -> &'static str {
        match self {
            Status::Verified => "Verified",
            Status::Implemented => "Implemented",
            Status::Schema => "Schema",
            Status::Waived => "Waived",
            Status::Missing => "Missing",
            Status::OtherPlatform => "Other platform",
        }
    }

    /// True when writ does something for the requirement (the features document claims
    /// only these).
    pub const fn is_implemented(self) -> bool {
        matches!(
            self,
            Status::Verified | Status::Implemented | Status::Schema
        )
    }
}

/// The status of a requirement given its handlers and tests.
///
/// * a handler and a test, or `check = "schema"` and a test: verified;
/// * waived in the list: waived;
/// * a handler: implemented;
/// * `check = "schema"`: schema;
/// * not for Linux: other-platform;
/// * otherwise: missing.
pub fn status_of(req: &Requirement, handlers: usize, tests: usize) -> Status {
    let schema = req.check == Check::Schema;
    if tests > 0 && (handlers > 0 || schema) {
        Status::Verified
    } else if req.waived.is_some() {
        Status::Waived
    } else if handlers > 0 {
        Status::Implemented
    } else if schema {
        Status::Schema
    } else if !req.applies_to_linux() {
        Status::OtherPlatform
    } else {
        Status::Missing
    }
}

/// One requirement with its uses and status.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub req: &'a Requirement,
    pub status: Status,
    pub handlers: Vec<&'a Use>,
    pub tests: Vec<&'a Use>,
}

/// The coverage of a requirements list by a set of uses.
#[derive(Debug, Clone)]
pub struct Coverage<'a> {
    /// In list order.
    pub rows: Vec<Row<'a>>,
    /// Uses naming an id the list does not have (only possible in code the compiler did
    /// not expand, e.g. behind a `cfg` that is off).
    pub orphans: Vec<&'a Use>,
}

/// Coverage of the real list by the uses found in the workspace's sources.
pub fn coverage() -> Coverage<'static> {
    compute(REQUIREMENTS, USES)
}

/// Coverage of `reqs` by `uses`.
pub fn compute<'a>(reqs: &'a [Requirement], uses: &'a [Use]) -> Coverage<'a> {
    let mut by_id: BTreeMap<&str, (Vec<&Use>, Vec<&Use>)> = BTreeMap::new();
    for u in uses {
        let e = by_id.entry(u.id).or_default();
        match u.kind {
            UseKind::Handler => e.0.push(u),
            UseKind::Test => e.1.push(u),
        }
    }
    let mut rows = Vec::with_capacity(reqs.len());
    for req in reqs {
        let (handlers, tests) = by_id.remove(req.id).unwrap_or_default();
        let status = status_of(req, handlers.len(), tests.len());
        rows.push(Row {
            req,
            status,
            handlers,
            tests,
        });
    }
    let orphans = by_id
        .into_values()
        .flat_map(|(h, t)| h.into_iter().chain(t))
        .collect();
    Coverage { rows, orphans }
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts([usize; 6]);

impl Counts {
    fn add(&mut self, s: Status) {
        self.0[s as usize] += 1;
    }
    pub fn get(&self, s: Status) -> usize {
        self.0[s as usize]
    }
    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
}

impl<'a> Coverage<'a> {
    /// Totals per document, in the list's document order.
    pub fn by_doc(&self) -> Vec<(&'static str, Counts)> {
        DOCS.iter()
            .map(|d| {
                let mut c = Counts::default();
                for r in self.rows.iter().filter(|r| r.req.doc == *d) {
                    c.add(r.status);
                }
                (*d, c)
            })
            .collect()
    }

    /// Totals per level, strongest first.
    pub fn by_level(&self) -> Vec<(Level, Counts)> {
        Level::ALL
            .iter()
            .map(|l| {
                let mut c = Counts::default();
                for r in self.rows.iter().filter(|r| r.req.level == *l) {
                    c.add(r.status);
                }
                (*l, c)
            })
            .collect()
    }

    /// Totals over everything.
    pub fn totals(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.rows {
            c.add(r.status);
        }
        c
    }

    /// The Linux MUST / MUST NOT / REQUIRED requirements.
    pub fn linux_mandatory(&self) -> impl Iterator<Item = &Row<'a>> {
        self.rows
            .iter()
            .filter(|r| r.req.level.is_mandatory() && r.req.applies_to_linux())
    }

    /// The ratchet count: verified Linux MUST / MUST NOT / REQUIRED requirements.
    pub fn ratchet_count(&self) -> usize {
        self.linux_mandatory()
            .filter(|r| r.status == Status::Verified)
            .count()
    }
}

// ---------------------------------------------------------------------------------------
// Workspace files: the ratchet and the README section
// ---------------------------------------------------------------------------------------

/// The workspace this binary was built from.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `spec/ratchet.toml` of the workspace.
pub fn ratchet_path() -> PathBuf {
    workspace_root().join("spec").join("ratchet.toml")
}

/// The key in `spec/ratchet.toml`.
pub const RATCHET_KEY: &str = "linux_mandatory_verified";

/// Reads the recorded count from the text of `spec/ratchet.toml`.
pub fn parse_ratchet(text: &str) -> Result<usize, String> {
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim() == RATCHET_KEY {
            return v.trim().parse::<usize>().map_err(|e| {
                format!(
                    "line {}: {RATCHET_KEY} must be a non-negative integer: {e}",
                    n + 1
                )
            });
        }
    }
    Err(format!("no `{RATCHET_KEY} = N` line"))
}

/// The text of `spec/ratchet.toml` recording `count`.
pub fn render_ratchet(count: usize) -> String {
    format!(
        "# The coverage ratchet: how many Linux MUST / MUST NOT / REQUIRED requirements of the\n\
         # list are verified (a handler with #[requirement] and a test with #[verifies]).\n\
         # CI (cli/tests/coverage_ratchet.rs) fails when the current count is lower.\n\
         # When it goes up, record it: `cargo run -p writ-cli -- coverage --update-ratchet`.\n\
         {RATCHET_KEY} = {count}\n"
    )
}

/// The README markers.
pub const README_BEGIN: &str = "<!-- coverage:begin -->";
pub const README_END: &str = "<!-- coverage:end -->";

/// The README with the text between the markers replaced by `section`; an error when
/// the markers are missing or out of order.
pub fn replace_readme_section(readme: &str, section: &str) -> Result<String, String> {
    let (before, rest) = readme
        .split_once(README_BEGIN)
        .ok_or_else(|| format!("the README has no {README_BEGIN} marker"))?;
    let (_, after) = rest
        .split_once(README_END)
        .ok_or_else(|| format!("the README has no {README_END} marker after {README_BEGIN}"))?;
    Ok(format!(
        "{before}{README_BEGIN}\n{section}{README_END}{after}"
    ))
}

/// The text currently between the README markers.
pub fn readme_section(readme: &str) -> Result<&str, String> {
    let (_, rest) = readme
        .split_once(README_BEGIN)
        .ok_or_else(|| format!("the README has no {README_BEGIN} marker"))?;
    let (inner, _) = rest
        .split_once(README_END)
        .ok_or_else(|| format!("the README has no {README_END} marker after {README_BEGIN}"))?;
    Ok(inner.strip_prefix('\n').unwrap_or(inner))
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

fn loc(u: &Use) -> String {
    format!("{}:{}", u.file, u.line)
}

/// A test's location and name (the name says what it proves, e.g. the CVE it guards).
fn test_loc(u: &Use) -> String {
    let name = u.item.rsplit("::").next().unwrap_or(u.item);
    format!("{}:{} {name}", u.file, u.line)
}

fn section(req: &Requirement) -> String {
    format!("{}#{}", req.doc, req.anchor)
}

fn filtered<'r, 'a>(cov: &'r Coverage<'a>, only: &[Status]) -> Vec<&'r Row<'a>> {
    cov.rows
        .iter()
        .filter(|r| only.is_empty() || only.contains(&r.status))
        .collect()
}

/// Plain-text table for a terminal.
pub fn render_table(cov: &Coverage, summary: bool, only: &[Status]) -> String {
    let mut out = String::new();
    if !summary {
        let rows = filtered(cov, only);
        let mut lines: Vec<[String; 6]> = vec![[
            "STATUS".into(),
            "LEVEL".into(),
            "ID".into(),
            "SECTION".into(),
            "HANDLERS".into(),
            "TESTS".into(),
        ]];
        for r in rows {
            lines.push([
                r.status.as_str().into(),
                r.req.level.as_str().into(),
                r.req.id.into(),
                section(r.req),
                join_or_dash(r.handlers.iter().map(|u| loc(u))),
                join_or_dash(r.tests.iter().map(|u| test_loc(u))),
            ]);
        }
        let mut w = [0usize; 5];
        for l in &lines {
            for (i, c) in l.iter().take(5).enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        for l in &lines {
            let mut s = String::new();
            for (i, c) in l.iter().enumerate() {
                if i < 5 {
                    let _ = write!(s, "{c:<width$}  ", width = w[i]);
                } else {
                    s.push_str(c);
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&totals_text(cov));
    for o in &cov.orphans {
        let _ = writeln!(
            out,
            "warning: {} names unknown requirement {} ({})",
            o.item,
            o.id,
            loc(o)
        );
    }
    out
}

fn join_or_dash(it: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = it.collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}

fn totals_text(cov: &Coverage) -> String {
    let mut grid: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["".to_string()];
    head.extend(Status::ALL.iter().map(|s| s.as_str().to_string()));
    head.push("total".into());
    grid.push(head);
    let row = |name: String, c: &Counts| {
        let mut v = vec![name];
        v.extend(Status::ALL.iter().map(|s| c.get(*s).to_string()));
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
    let cols = grid[0].len();
    let mut w = vec![0usize; cols];
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

/// Markdown; with `summary`, only the totals (what the README shows).
pub fn render_markdown(cov: &Coverage, summary: bool, only: &[Status]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Requirements of OCI runtime-spec {SPEC_VERSION} and where writ stands \
         (generated by `writ coverage --format markdown --summary`):\n"
    );
    let mut head = String::from("| Document |");
    let mut rule = String::from("| --- |");
    for s in Status::ALL {
        let _ = write!(head, " {} |", s.label());
        rule.push_str(" ---: |");
    }
    head.push_str(" Total |");
    rule.push_str(" ---: |");
    let line = |name: &str, c: &Counts, bold: bool| {
        let mut s = format!("| {name} |");
        for st in Status::ALL {
            let _ = write!(s, " {} |", c.get(st));
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
    if summary {
        return out;
    }
    out.push('\n');
    out.push_str("| Status | Level | Id | Section | Handlers | Tests |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for r in filtered(cov, only) {
        let hs: Vec<String> = r.handlers.iter().map(|u| format!("`{}`", loc(u))).collect();
        let ts: Vec<String> = r
            .tests
            .iter()
            .map(|u| format!("`{}`", test_loc(u)))
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
            r.req.url(),
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

fn counts_json(c: &Counts) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for s in Status::ALL {
        m.insert(s.as_str().into(), c.get(s).into());
    }
    m.insert("total".into(), c.total().into());
    serde_json::Value::Object(m)
}

/// JSON: `{specVersion, requirements: [...], totals: {byDocument, byLevel, all},
/// linuxMandatory: {verified, total}, orphans: [...]}`.
pub fn render_json(cov: &Coverage, summary: bool, only: &[Status]) -> String {
    let mut root = serde_json::Map::new();
    root.insert("specVersion".into(), SPEC_VERSION.into());
    if !summary {
        let reqs: Vec<serde_json::Value> = filtered(cov, only)
            .into_iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.req.id,
                    "level": r.req.level.as_str(),
                    "doc": r.req.doc,
                    "anchor": r.req.anchor,
                    "platforms": r.req.platforms.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                    "check": r.req.check.as_str(),
                    "summary": r.req.summary,
                    "status": r.status.as_str(),
                    "waived": r.req.waived,
                    "handlers": r.handlers.iter().map(|u| use_json(u)).collect::<Vec<_>>(),
                    "tests": r.tests.iter().map(|u| use_json(u)).collect::<Vec<_>>(),
                })
            })
            .collect();
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

fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const HTML_TEMPLATE: &str = include_str!("../../assets/coverage.html");

fn html_bar(c: &Counts) -> String {
    let total = c.total().max(1);
    let mut s = String::from("<div class=\"bar\">");
    for st in Status::ALL {
        let n = c.get(st);
        if n == 0 {
            continue;
        }
        let pct = (n as f64) * 100.0 / (total as f64);
        let _ = write!(
            s,
            "<span class=\"seg s-{}\" style=\"width:{pct:.3}%\" title=\"{}: {n}\"></span>",
            st.as_str(),
            st.label()
        );
    }
    s.push_str("</div>");
    s
}

fn html_uses(v: &[&Use]) -> String {
    if v.is_empty() {
        return "<span class=\"none\">&ndash;</span>".into();
    }
    v.iter()
        .map(|u| {
            format!(
                "<div class=\"use\" title=\"{}\"><code>{}</code></div>",
                html_escape(u.item),
                html_escape(&loc(u))
            )
        })
        .collect::<Vec<_>>()
        .join("")
}

/// A self-contained HTML page: summary bars per document, the table, filter by status.
pub fn render_html(cov: &Coverage, summary: bool, only: &[Status]) -> String {
    let mut summary_html = String::new();
    summary_html.push_str(
        "<table class=\"sum\"><thead><tr><th>Document</th><th class=\"barcol\">Status</th>",
    );
    for s in Status::ALL {
        let _ = write!(
            summary_html,
            "<th class=\"n s-{}-t\">{}</th>",
            s.as_str(),
            s.label()
        );
    }
    summary_html.push_str("<th class=\"n\">Total</th></tr></thead><tbody>");
    let mut docs = cov.by_doc();
    docs.push(("All documents", cov.totals()));
    for (d, c) in &docs {
        let _ = write!(
            summary_html,
            "<tr><td>{}</td><td class=\"barcol\">{}</td>",
            html_escape(d),
            html_bar(c)
        );
        for s in Status::ALL {
            let _ = write!(summary_html, "<td class=\"n\">{}</td>", c.get(s));
        }
        let _ = write!(
            summary_html,
            "<td class=\"n\"><b>{}</b></td></tr>",
            c.total()
        );
    }
    summary_html.push_str("</tbody></table>");
    summary_html
        .push_str("<table class=\"sum\"><thead><tr><th>Level</th><th class=\"barcol\">Status</th>");
    for s in Status::ALL {
        let _ = write!(summary_html, "<th class=\"n\">{}</th>", s.label());
    }
    summary_html.push_str("<th class=\"n\">Total</th></tr></thead><tbody>");
    for (l, c) in cov.by_level() {
        let _ = write!(
            summary_html,
            "<tr><td>{}</td><td class=\"barcol\">{}</td>",
            l.as_str(),
            html_bar(&c)
        );
        for s in Status::ALL {
            let _ = write!(summary_html, "<td class=\"n\">{}</td>", c.get(s));
        }
        let _ = write!(
            summary_html,
            "<td class=\"n\"><b>{}</b></td></tr>",
            c.total()
        );
    }
    summary_html.push_str("</tbody></table>");

    let mut filters = String::new();
    let totals = cov.totals();
    for s in Status::ALL {
        let _ = write!(
            filters,
            "<label class=\"chip s-{0}-t\"><input type=\"checkbox\" data-status=\"{0}\" checked> {1} <span class=\"cnt\">{2}</span></label>",
            s.as_str(),
            s.label(),
            totals.get(s)
        );
    }

    let mut rows = String::new();
    if !summary {
        for r in filtered(cov, only) {
            let status_cell = match (r.status, r.req.waived) {
                (Status::Waived, Some(why)) => format!(
                    "<span class=\"pill s-waived\">waived</span><div class=\"why\">{}</div>",
                    html_escape(why)
                ),
                (s, _) => format!(
                    "<span class=\"pill s-{}\">{}</span>",
                    s.as_str(),
                    s.as_str()
                ),
            };
            let _ = write!(
                rows,
                "<tr data-status=\"{st}\" data-doc=\"{doc}\"><td>{status_cell}</td><td class=\"lvl\">{lvl}</td>\
                 <td><code class=\"id\">{id}</code><div class=\"summary\">{summ}</div></td>\
                 <td><a href=\"{url}\">{sec}</a></td><td>{h}</td><td>{t}</td></tr>",
                st = r.status.as_str(),
                doc = html_escape(r.req.doc),
                lvl = r.req.level.as_str(),
                id = html_escape(r.req.id),
                summ = html_escape(r.req.summary),
                url = html_escape(&r.req.url()),
                sec = html_escape(&section(r.req)),
                h = html_uses(&r.handlers),
                t = html_uses(&r.tests),
            );
        }
    }
    let mut doc_options = String::new();
    for d in DOCS {
        let _ = write!(
            doc_options,
            "<option value=\"{0}\">{0}</option>",
            html_escape(d)
        );
    }

    HTML_TEMPLATE
        .replace("{{SPEC_VERSION}}", SPEC_VERSION)
        .replace(
            "{{MANDATORY}}",
            &format!(
                "{} of {}",
                cov.ratchet_count(),
                cov.linux_mandatory().count()
            ),
        )
        .replace("{{SUMMARY}}", &summary_html)
        .replace("{{FILTERS}}", &filters)
        .replace("{{DOC_OPTIONS}}", &doc_options)
        .replace("{{ROWS}}", &rows)
        .replace("{{TABLE_CLASS}}", if summary { "hidden" } else { "" })
}

/// Renders `cov` in `format`.
pub fn render(cov: &Coverage, format: Format, summary: bool, only: &[Status]) -> String {
    match format {
        Format::Table => render_table(cov, summary, only),
        Format::Markdown => render_markdown(cov, summary, only),
        Format::Json => render_json(cov, summary, only),
        Format::Html => render_html(cov, summary, only),
    }
}

/// The README section: the markdown summary.
pub fn readme_summary(cov: &Coverage) -> String {
    render_markdown(cov, true, &[])
}

pub fn run(args: CoverageArgs) -> i32 {
    let cov = coverage();
    if args.update_ratchet {
        return update_ratchet(&cov);
    }
    if let Some(readme) = &args.update_readme {
        return update_readme(&cov, readme);
    }
    let text = render(&cov, args.format, args.summary, &args.status);
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("writ coverage: cannot write {}: {e}", path.display());
                return 1;
            }
        }
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("writ coverage: cannot write to stdout: {e}");
                    return 1;
                }
            }
        }
    }
    0
}

fn update_ratchet(cov: &Coverage) -> i32 {
    let path = ratchet_path();
    let now = cov.ratchet_count();
    let recorded = match std::fs::read_to_string(&path) {
        Ok(t) => match parse_ratchet(&t) {
            Ok(n) => Some(n),
            Err(e) => {
                eprintln!("writ coverage: {}: {e}", path.display());
                return 1;
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            eprintln!("writ coverage: cannot read {}: {e}", path.display());
            return 1;
        }
    };
    if let Some(old) = recorded {
        if now < old {
            eprintln!(
                "writ coverage: refusing to lower the ratchet in {} from {old} to {now}: \
                 verified Linux MUST/MUST NOT/REQUIRED requirements went down",
                path.display()
            );
            return 1;
        }
    }
    if let Err(e) = std::fs::write(&path, render_ratchet(now)) {
        eprintln!("writ coverage: cannot write {}: {e}", path.display());
        return 1;
    }
    println!(
        "{}: {RATCHET_KEY} = {now} (was {})",
        path.display(),
        recorded.map_or_else(|| "unset".to_string(), |n| n.to_string())
    );
    0
}

fn update_readme(cov: &Coverage, readme: &Path) -> i32 {
    let text = match std::fs::read_to_string(readme) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("writ coverage: cannot read {}: {e}", readme.display());
            return 1;
        }
    };
    let new = match replace_readme_section(&text, &readme_summary(cov)) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("writ coverage: {}: {e}", readme.display());
            return 1;
        }
    };
    if new != text {
        if let Err(e) = std::fs::write(readme, new) {
            eprintln!("writ coverage: cannot write {}: {e}", readme.display());
            return 1;
        }
        println!("{}: coverage summary updated", readme.display());
    } else {
        println!("{}: coverage summary already current", readme.display());
    }
    0
}
