//! `writ coverage`: every requirement of the list with its handlers, its tests and a
//! status, as a terminal table, markdown, JSON or a self-contained HTML page.
//!
//! The requirements come from `writ_spec::requirements::REQUIREMENTS`; the handlers and
//! tests from `crate::trace::USES` (collected from the sources at build time); which
//! `check = "schema"` entries a generated check enforces from
//! `writ_spec::validation::SCHEMA_ENFORCED`; and whether each tagged test ran and
//! passed from the records the last test run wrote ([`results`], `writ_macros::results`).
//!
//! A requirement is *verified* only when it is implemented (a `#[requirement]` handler, or a
//! generated schema check) and a `#[verifies]` test of it passed in the last recorded run;
//! *failing* when one failed; *not run* when none has a usable record. The README summary,
//! the ratchet and `writ features` use the claimed view ([`Results::Assumed`]: every tagged
//! test counts as passed), which does not depend on the machine or the clock; CI runs
//! `writ coverage --check` after the tests, which fails unless the recorded run agrees.

mod html;
mod render;
pub mod results;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use writ_spec::requirements::{Check, Level, Requirement, DOCS, REQUIREMENTS};
use writ_spec::validation::SCHEMA_ENFORCED;

use crate::trace::{Use, UseKind, USES};
pub use render::{render, render_json, render_markdown, render_table, RenderOpts};
pub use results::{Results, TestState};

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

/// A level as written on the command line: `MUST`, `must-not`, `"MUST NOT"`, ...
pub fn parse_level(s: &str) -> Result<Level, String> {
    let want = s.trim().to_ascii_uppercase().replace(['-', '_'], " ");
    Level::ALL
        .into_iter()
        .find(|l| l.as_str() == want)
        .ok_or_else(|| {
            let all: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
            format!("unknown level {s:?} (one of {})", all.join(", "))
        })
}

#[derive(Debug, clap::Args)]
pub struct CoverageArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Only the totals per document and level (for the README).
    #[arg(long)]
    pub summary: bool,
    /// Table: also the handler and test columns (the table then does not fit a narrow
    /// terminal).
    #[arg(long)]
    pub wide: bool,
    /// Only requirements whose id matches (a substring, or a pattern with `*`).
    #[arg(long, value_name = "PATTERN")]
    pub id: Option<String>,
    /// Only requirements of this document (`config-linux.md` or `config-linux`; repeatable).
    #[arg(long, value_name = "DOC")]
    pub doc: Vec<String>,
    /// Only requirements of this level (`must`, `must-not`, `required`, ...; repeatable).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub level: Vec<Level>,
    /// Only requirements with this status (repeatable).
    #[arg(long, value_enum)]
    pub status: Vec<Status>,
    /// The results directory of the test run (default: `$WRIT_VERIFIES_DIR`, else
    /// `target/writ-verifies` of the build).
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Exit 1 when a requirement is failing, or has tagged tests none of which ran (what CI
    /// checks after the tests).
    #[arg(long)]
    pub check: bool,
    /// HTML: the base URL of handler and test links (`<base><file>#L<line>`; default: the
    /// workspace as a file:// URL).
    #[arg(long, value_name = "URL")]
    pub source_url: Option<String>,
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
    /// Implemented (a handler, or a generated schema check) and a tagged test passed in
    /// the last recorded run.
    Verified,
    /// Implemented, and a tagged test failed in the last recorded run.
    Failing,
    /// Implemented and tagged, but no tagged test has a usable record (never ran, skipped,
    /// or changed since it ran).
    #[value(name = "not-run")]
    NotRun,
    /// A handler, no test yet.
    Implemented,
    /// Enforced by a generated schema check; no test of its own.
    Schema,
    /// Deliberately not implemented; the list says why.
    Waived,
    /// Nothing yet (also: `check = "schema"` with no generated check behind it).
    Missing,
    /// Applies only to other platforms than Linux.
    #[value(name = "other-platform")]
    OtherPlatform,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Verified,
        Status::Failing,
        Status::NotRun,
        Status::Implemented,
        Status::Schema,
        Status::Waived,
        Status::Missing,
        Status::OtherPlatform,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Failing => "failing",
            Status::NotRun => "not-run",
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
            Status::Failing => "Failing",
            Status::NotRun => "Not run",
            Status::Implemented => "Implemented",
            Status::Schema => "Schema",
            Status::Waived => "Waived",
            Status::Missing => "Missing",
            Status::OtherPlatform => "Other platform",
        }
    }

    /// A short label for the terminal's totals.
    pub const fn short(self) -> &'static str {
        match self {
            Status::Verified => "verif",
            Status::Failing => "fail",
            Status::NotRun => "notrun",
            Status::Implemented => "impl",
            Status::Schema => "schema",
            Status::Waived => "waived",
            Status::Missing => "miss",
            Status::OtherPlatform => "other",
        }
    }

    /// True when writ does something for the requirement (the features document claims
    /// only these).
    pub const fn is_implemented(self) -> bool {
        matches!(
            self,
            Status::Verified
                | Status::Failing
                | Status::NotRun
                | Status::Implemented
                | Status::Schema
        )
    }
}

/// The status of a requirement.
///
/// * implemented (a handler, or a generated schema check) with tagged tests: failing when
///   one failed, else verified when one passed, else not run;
/// * waived in the list: waived;
/// * a handler: implemented;
/// * a generated schema check: schema;
/// * not for Linux: other-platform;
/// * otherwise (also `check = "schema"` with no generated check): missing.
pub fn status_of(
    req: &Requirement,
    handlers: usize,
    enforced: bool,
    tests: &[TestState],
) -> Status {
    let schema = req.check == Check::Schema && enforced;
    if !tests.is_empty() && (handlers > 0 || schema) {
        if tests.iter().any(|t| matches!(t, TestState::Failed { .. })) {
            Status::Failing
        } else if tests.iter().any(|t| matches!(t, TestState::Passed { .. })) {
            Status::Verified
        } else {
            Status::NotRun
        }
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
    /// The tagged tests with their state in the run.
    pub tests: Vec<(&'a Use, TestState)>,
    /// A generated schema check enforces it.
    pub enforced: bool,
}

/// The coverage of a requirements list by a set of uses.
#[derive(Debug, Clone)]
pub struct Coverage<'a> {
    /// In list order.
    pub rows: Vec<Row<'a>>,
    /// Uses naming an id the list does not have (only possible in code the compiler did
    /// not expand, e.g. behind a `cfg` that is off).
    pub orphans: Vec<&'a Use>,
    /// Where the test outcomes come from.
    pub results: Results,
}

/// The claimed coverage of the real list: every tagged test counts as passed. For the
/// README, the ratchet and `writ features`; the same on every machine.
pub fn claimed() -> Coverage<'static> {
    compute(&REQUIREMENTS, &USES, SCHEMA_ENFORCED, Results::Assumed)
}

/// The coverage of the real list by the outcomes recorded in `results`.
pub fn recorded(results: Results) -> Coverage<'static> {
    compute(&REQUIREMENTS, &USES, SCHEMA_ENFORCED, results)
}

/// Coverage of `reqs` by `uses`, given the ids generated schema checks enforce and the
/// test outcomes.
pub fn compute<'a>(
    reqs: &'a [Requirement],
    uses: &'a [Use],
    enforced: &[&str],
    results: Results,
) -> Coverage<'a> {
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
        let tests: Vec<(&Use, TestState)> = tests
            .into_iter()
            .map(|t| (t, results.state_of(t)))
            .collect();
        let states: Vec<TestState> = tests.iter().map(|(_, s)| s.clone()).collect();
        let is_enforced = enforced.contains(&req.id);
        let status = status_of(req, handlers.len(), is_enforced, &states);
        rows.push(Row {
            req,
            status,
            handlers,
            tests,
            enforced: is_enforced,
        });
    }
    let orphans = by_id
        .into_values()
        .flat_map(|(h, t)| h.into_iter().chain(t))
        .collect();
    Coverage {
        rows,
        orphans,
        results,
    }
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts([usize; 8]);

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

/// Which rows to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A substring of the id, or a pattern with `*`.
    pub id: Option<String>,
    /// Document names (with or without `.md`).
    pub docs: Vec<String>,
    pub levels: Vec<Level>,
    pub statuses: Vec<Status>,
}

/// Whether `text` matches `pattern`: a substring, or with `*` a glob over the whole text.
pub fn id_matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return text.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.docs.is_empty()
            && self.levels.is_empty()
            && self.statuses.is_empty()
    }

    pub fn keeps(&self, r: &Row) -> bool {
        self.id.as_deref().is_none_or(|p| id_matches(p, r.req.id))
            && (self.docs.is_empty()
                || self
                    .docs
                    .iter()
                    .any(|d| d == r.req.doc || format!("{d}.md") == r.req.doc))
            && (self.levels.is_empty() || self.levels.contains(&r.req.level))
            && (self.statuses.is_empty() || self.statuses.contains(&r.status))
    }
}

impl<'a> Coverage<'a> {
    /// Only the rows `f` keeps (totals are then over those rows).
    pub fn filtered(&self, f: &Filter) -> Coverage<'a> {
        Coverage {
            rows: self.rows.iter().filter(|r| f.keeps(r)).cloned().collect(),
            orphans: self.orphans.clone(),
            results: self.results.clone(),
        }
    }

    /// Counts of the rows `keep` selects.
    fn count(&self, keep: impl Fn(&Row) -> bool) -> Counts {
        let mut c = Counts::default();
        for r in self.rows.iter().filter(|r| keep(r)) {
            c.add(r.status);
        }
        c
    }

    /// Totals per document, in the list's document order.
    pub fn by_doc(&self) -> Vec<(&'static str, Counts)> {
        DOCS.iter()
            .map(|d| (*d, self.count(|r| r.req.doc == *d)))
            .collect()
    }

    /// Totals per level, strongest first.
    pub fn by_level(&self) -> Vec<(Level, Counts)> {
        Level::ALL
            .iter()
            .map(|l| (*l, self.count(|r| r.req.level == *l)))
            .collect()
    }

    /// Totals over everything.
    pub fn totals(&self) -> Counts {
        self.count(|_| true)
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

    /// The rows whose tagged tests failed or did not run (what `--check` refuses).
    pub fn unproven(&self) -> Vec<&Row<'a>> {
        self.rows
            .iter()
            .filter(|r| matches!(r.status, Status::Failing | Status::NotRun))
            .collect()
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
         # list are verified (a handler with #[requirement] or a generated schema check, and\n\
         # a test with #[verifies]; CI's `writ coverage --check` proves those tests passed).\n\
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
// The command
// ---------------------------------------------------------------------------------------

/// The README section: the markdown summary of the claimed coverage.
pub fn readme_summary(cov: &Coverage) -> String {
    render_markdown(cov, &RenderOpts::summary())
}

/// The width of the terminal on stdout: `$COLUMNS`, else the terminal's own (`None` when
/// stdout is not a terminal).
fn terminal_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    let out = std::io::stdout();
    if !rustix::termios::isatty(&out) {
        return None;
    }
    rustix::termios::tcgetwinsize(&out)
        .ok()
        .map(|w| usize::from(w.ws_col))
        .filter(|n| *n > 0)
}

fn file_url(root: &Path) -> String {
    format!("file://{}/", root.display())
}

pub fn run(args: CoverageArgs) -> i32 {
    if args.update_ratchet {
        return update_ratchet(&claimed());
    }
    if let Some(readme) = &args.update_readme {
        return update_readme(&claimed(), readme);
    }
    let root = workspace_root();
    let dir = args
        .results
        .clone()
        .unwrap_or_else(|| results::default_dir(&root));
    let sources = root.is_dir().then_some(root.as_path());
    let cov = recorded(Results::read(&dir, sources));
    let filter = Filter {
        id: args.id.clone(),
        docs: args.doc.clone(),
        levels: args.level.clone(),
        statuses: args.status.clone(),
    };
    let shown = if filter.is_empty() {
        cov.clone()
    } else {
        cov.filtered(&filter)
    };
    let opts = RenderOpts {
        summary: args.summary,
        wide: args.wide,
        width: if args.output.is_none() {
            terminal_width()
        } else {
            None
        },
        source_base: args.source_url.clone().unwrap_or_else(|| file_url(&root)),
    };
    let text = render(&shown, args.format, &opts);
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
    if args.check {
        return check(&cov);
    }
    0
}

/// `--check`: every implemented, tagged requirement verified by the recorded run.
fn check(cov: &Coverage) -> i32 {
    let bad = cov.unproven();
    if bad.is_empty() {
        eprintln!(
            "writ coverage: every tagged requirement was verified by the recorded run ({})",
            cov.results.describe()
        );
        return 0;
    }
    eprintln!(
        "writ coverage: {} requirement(s) not verified by the recorded run ({}):",
        bad.len(),
        cov.results.describe()
    );
    for r in bad {
        for (t, state) in &r.tests {
            eprintln!(
                "  {:<9} {} <- {} ({}:{}) {}",
                r.status.as_str(),
                r.req.id,
                t.item,
                t.file,
                t.line,
                state.detail()
            );
        }
    }
    1
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
