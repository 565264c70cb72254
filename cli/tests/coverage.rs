//! `writ coverage`: the status rules, the totals, the renderings, the build-time scan of
//! `#[requirement]` / `#[verifies]`, and the consistency of the real table.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use writ_cli::tools::coverage::{
    self, compute, id_matches, status_of, Filter, Format, RenderOpts, Results, Status, TestState,
};
use writ_cli::trace::{Use, UseKind, USES};
use writ_macros::results::{Outcome, Record};
use writ_spec::requirements::{Check, Level, Platform, Requirement, REQUIREMENTS};

// The build script's scanner, compiled here so it can be run on a fixture workspace.
#[allow(dead_code)]
#[path = "../build.rs"]
mod scan;

const fn req(
    id: &'static str,
    level: Level,
    doc: &'static str,
    platforms: &'static [Platform],
    check: Check,
    waived: Option<&'static str>,
) -> Requirement {
    Requirement {
        id,
        level,
        doc,
        anchor: "sec",
        line: 12,
        platforms,
        summary: "a fixture requirement",
        check,
        specerror: None,
        fingerprint: "0123456789abcdef",
        waived,
        deviation: None,
    }
}

const LINUX: &[Platform] = &[Platform::Linux];
const ALL: &[Platform] = &[Platform::All];
const WINDOWS: &[Platform] = &[Platform::Windows];

static FIX_REQS: [Requirement; 11] = [
    req(
        "a.verified",
        Level::Must,
        "config.md",
        ALL,
        Check::Runtime,
        None,
    ),
    req(
        "a.implemented",
        Level::Must,
        "config.md",
        LINUX,
        Check::Runtime,
        None,
    ),
    req(
        "a.schema",
        Level::Required,
        "config.md",
        ALL,
        Check::Schema,
        None,
    ),
    req(
        "a.schema_tested",
        Level::Required,
        "config-linux.md",
        LINUX,
        Check::Schema,
        None,
    ),
    req(
        "a.waived",
        Level::Should,
        "runtime.md",
        LINUX,
        Check::Runtime,
        Some("not on this kernel"),
    ),
    req(
        "a.missing",
        Level::MustNot,
        "runtime.md",
        ALL,
        Check::Validate,
        None,
    ),
    req(
        "a.windows",
        Level::Must,
        "config.md",
        WINDOWS,
        Check::Runtime,
        None,
    ),
    req(
        "a.test_only",
        Level::Must,
        "runtime.md",
        LINUX,
        Check::Runtime,
        None,
    ),
    req(
        "a.failing",
        Level::Must,
        "config.md",
        LINUX,
        Check::Runtime,
        None,
    ),
    req(
        "a.not_run",
        Level::Must,
        "config.md",
        LINUX,
        Check::Runtime,
        None,
    ),
    req(
        "a.schema_unenforced",
        Level::Required,
        "config.md",
        ALL,
        Check::Schema,
        None,
    ),
];

/// The ids generated schema checks enforce in the fixture.
const ENFORCED: &[&str] = &["a.schema", "a.schema_tested"];

const fn u(id: &'static str, kind: UseKind, line: u32) -> Use {
    Use {
        id,
        kind,
        item: "fixture::item",
        file: "runtime/src/fixture.rs",
        line,
    }
}

static FIX_USES: [Use; 13] = [
    u("a.verified", UseKind::Handler, 10),
    u("a.verified", UseKind::Test, 20),
    u("a.verified", UseKind::Test, 21),
    u("a.implemented", UseKind::Handler, 30),
    u("a.schema_tested", UseKind::Test, 40),
    u("a.test_only", UseKind::Test, 50),
    u("no.such.id", UseKind::Handler, 60),
    u("a.failing", UseKind::Handler, 70),
    u("a.failing", UseKind::Test, 71),
    u("a.failing", UseKind::Test, 72),
    u("a.not_run", UseKind::Handler, 80),
    u("a.not_run", UseKind::Test, 81),
    u("a.schema_unenforced", UseKind::Test, 90),
];

fn record(line: u32, outcome: Outcome) -> Record {
    Record {
        item: "fixture::item".into(),
        file: "runtime/src/fixture.rs".into(),
        line,
        ids: Vec::new(),
        outcome,
        time: 1_764_620_000,
    }
}

/// A results directory for the fixture: the tests at lines 20, 21, 40, 71 and 90 passed, 72
/// failed, 81 was skipped; 50 has no record.
fn fixture_results() -> (tempfile::TempDir, Results) {
    let dir = tempfile::tempdir().unwrap();
    for r in [
        record(20, Outcome::Pass),
        record(21, Outcome::Pass),
        record(40, Outcome::Pass),
        record(71, Outcome::Pass),
        record(72, Outcome::Fail("assertion failed: broken".into())),
        record(81, Outcome::Skip("podman is not installed".into())),
        record(90, Outcome::Pass),
    ] {
        writ_macros::results::write(dir.path(), &r).unwrap();
    }
    let results = Results::read(dir.path(), None);
    (dir, results)
}

fn fixture() -> coverage::Coverage<'static> {
    let (_dir, results) = fixture_results();
    compute(&FIX_REQS, &FIX_USES, ENFORCED, results)
}

fn claimed_fixture() -> coverage::Coverage<'static> {
    compute(&FIX_REQS, &FIX_USES, ENFORCED, Results::Assumed)
}

fn status(id: &str) -> Status {
    fixture()
        .rows
        .iter()
        .find(|r| r.req.id == id)
        .map(|r| r.status)
        .unwrap_or_else(|| panic!("{id} not in the rows"))
}

#[test]
fn statuses_follow_the_rules() {
    assert_eq!(status("a.verified"), Status::Verified);
    assert_eq!(status("a.implemented"), Status::Implemented);
    assert_eq!(status("a.schema"), Status::Schema);
    assert_eq!(status("a.schema_tested"), Status::Verified);
    assert_eq!(status("a.waived"), Status::Waived);
    assert_eq!(status("a.missing"), Status::Missing);
    assert_eq!(status("a.windows"), Status::OtherPlatform);
    // A test alone does not make a runtime rule verified: the handler must say so.
    assert_eq!(status("a.test_only"), Status::Missing);
    // One failing test makes the requirement failing, whatever the others did.
    assert_eq!(status("a.failing"), Status::Failing);
    // A skipped test is no proof.
    assert_eq!(status("a.not_run"), Status::NotRun);
    // check = "schema" with no generated check behind it: missing, even with a test.
    assert_eq!(status("a.schema_unenforced"), Status::Missing);
}

#[test]
fn the_claimed_view_counts_every_tagged_test_as_passed() {
    let cov = claimed_fixture();
    let st = |id: &str| cov.rows.iter().find(|r| r.req.id == id).unwrap().status;
    assert_eq!(st("a.failing"), Status::Verified);
    assert_eq!(st("a.not_run"), Status::Verified);
    assert_eq!(st("a.schema_unenforced"), Status::Missing);
    assert!(cov.unproven().is_empty());
    let rec = fixture();
    let unproven: Vec<&str> = rec.unproven().iter().map(|r| r.req.id).collect();
    assert_eq!(unproven, ["a.failing", "a.not_run"]);
}

#[test]
fn waived_but_verified_counts_as_verified() {
    let r = req(
        "x",
        Level::Must,
        "config.md",
        LINUX,
        Check::Runtime,
        Some("why"),
    );
    let passed = [TestState::Passed { time: 1 }];
    assert_eq!(status_of(&r, 1, false, &passed), Status::Verified);
    assert_eq!(status_of(&r, 1, false, &[]), Status::Waived);
}

#[test]
fn uses_are_attached_and_orphans_reported() {
    let cov = fixture();
    let v = cov.rows.iter().find(|r| r.req.id == "a.verified").unwrap();
    assert_eq!(v.handlers.len(), 1);
    assert_eq!(v.tests.len(), 2);
    assert!(matches!(v.tests[0].1, TestState::Passed { .. }));
    let f = cov.rows.iter().find(|r| r.req.id == "a.failing").unwrap();
    assert!(matches!(&f.tests[1].1, TestState::Failed { detail, .. } if detail.contains("broken")));
    assert_eq!(cov.rows.len(), FIX_REQS.len());
    assert_eq!(cov.orphans.len(), 1);
    assert_eq!(cov.orphans[0].id, "no.such.id");
}

#[test]
fn a_record_older_than_its_source_file_is_stale() {
    let ws = tempfile::tempdir().unwrap();
    let src = ws.path().join("runtime/src/fixture.rs");
    std::fs::create_dir_all(src.parent().unwrap()).unwrap();
    std::fs::write(&src, "// changed after the run\n").unwrap();
    let (dir, _) = fixture_results();
    let results = Results::read(dir.path(), Some(ws.path()));
    let state = results.state_of(&FIX_USES[1]);
    assert!(
        matches!(&state, TestState::NotRun { why } if why.starts_with("stale")),
        "{state:?}"
    );
}

#[test]
fn totals_and_ratchet_count() {
    let cov = fixture();
    let totals = cov.totals();
    assert_eq!(totals.total(), FIX_REQS.len());
    assert_eq!(totals.get(Status::Verified), 2);
    assert_eq!(totals.get(Status::Failing), 1);
    assert_eq!(totals.get(Status::NotRun), 1);
    let by_doc: std::collections::HashMap<_, _> = cov.by_doc().into_iter().collect();
    assert_eq!(by_doc["config.md"].total(), 7);
    assert_eq!(by_doc["runtime.md"].total(), 3);
    assert_eq!(by_doc["config-linux.md"].get(Status::Verified), 1);
    assert_eq!(by_doc["bundle.md"].total(), 0);
    let by_level: std::collections::HashMap<_, _> = cov.by_level().into_iter().collect();
    assert_eq!(by_level[&Level::Must].total(), 6);
    assert_eq!(by_level[&Level::Required].total(), 3);
    // Linux mandatory: a.verified, a.implemented, a.schema, a.schema_tested, a.missing,
    // a.test_only, a.failing, a.not_run, a.schema_unenforced (a.windows does not apply,
    // a.waived is a SHOULD).
    assert_eq!(cov.linux_mandatory().count(), 9);
    assert_eq!(cov.ratchet_count(), 2);
    assert_eq!(claimed_fixture().ratchet_count(), 4);
}

#[test]
fn filters_select_rows() {
    let cov = fixture();
    let ids = |f: &Filter| -> Vec<&str> { cov.filtered(f).rows.iter().map(|r| r.req.id).collect() };
    let f = Filter {
        statuses: vec![Status::Failing, Status::NotRun],
        ..Filter::default()
    };
    assert_eq!(ids(&f), ["a.failing", "a.not_run"]);
    let f = Filter {
        docs: vec!["runtime".into()],
        levels: vec![Level::MustNot],
        ..Filter::default()
    };
    assert_eq!(ids(&f), ["a.missing"]);
    let f = Filter {
        id: Some("a.schema*".into()),
        ..Filter::default()
    };
    assert_eq!(
        ids(&f),
        ["a.schema", "a.schema_tested", "a.schema_unenforced"]
    );
    assert!(id_matches("ver", "a.verified"));
    assert!(id_matches("a.*.x", "a.b.c.x"));
    assert!(!id_matches("a.*.x", "a.b.c.xy"));
    assert!(id_matches("*run*", "a.not_run"));
    // Totals follow the filter.
    let f = Filter {
        docs: vec!["config.md".into()],
        ..Filter::default()
    };
    assert_eq!(cov.filtered(&f).totals().total(), 7);
}

#[test]
fn renderings_carry_every_row() {
    let cov = fixture();
    for format in [Format::Table, Format::Markdown, Format::Json, Format::Html] {
        let text = coverage::render(&cov, format, &RenderOpts::full());
        for r in &FIX_REQS {
            assert!(text.contains(r.id), "{format:?} lacks {}", r.id);
        }
        let located = match format {
            Format::Json => {
                text.contains("\"file\": \"runtime/src/fixture.rs\"")
                    && text.contains("\"line\": 10")
            }
            _ => text.contains("runtime/src/fixture.rs:10"),
        };
        assert!(located, "{format:?} lacks the handler location");
        assert!(text.contains("not on this kernel") || format == Format::Table);
        assert!(text.contains("failing"), "{format:?}");
    }
    let table = coverage::render(&cov, Format::Table, &RenderOpts::full());
    assert!(table.contains("warning: fixture::item names unknown requirement no.such.id"));
    assert!(
        table.contains("runtime/src/fixture.rs:72 item (failed)"),
        "{table}"
    );
    assert!(
        table.contains("runtime/src/fixture.rs:81 item (not run)"),
        "{table}"
    );
    assert!(table.starts_with("test outcomes: 7 records in "), "{table}");
}

#[test]
fn the_terminal_table_fits_the_terminal() {
    let cov = fixture();
    let narrow = RenderOpts {
        width: Some(80),
        ..RenderOpts::default()
    };
    let text = coverage::render(&cov, Format::Table, &narrow);
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} chars: {line}",
            line.chars().count()
        );
    }
    // Handlers and tests only with --wide.
    assert!(!text.contains("HANDLERS") && !text.contains("runtime/src/fixture.rs:10"));
    let wide = coverage::render(&cov, Format::Table, &RenderOpts::full());
    assert!(wide.contains("HANDLERS") && wide.contains("TESTS"));
    // The real list at 100 columns: the ids are long, the section is shortened first.
    let real = coverage::claimed();
    let opts = RenderOpts {
        width: Some(100),
        ..RenderOpts::default()
    };
    let text = coverage::render(&real, Format::Table, &opts);
    let longest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest <= 100, "a line of {longest} chars");
    assert!(text.contains("config_linux.seccomp.syscalls.names.non_empty"));
}

#[test]
fn json_is_valid_and_counts_match() {
    let cov = fixture();
    let text = coverage::render(&cov, Format::Json, &RenderOpts::full());
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["requirements"].as_array().unwrap().len(), FIX_REQS.len());
    assert_eq!(v["totals"]["all"]["verified"], 2);
    assert_eq!(v["totals"]["all"]["failing"], 1);
    assert_eq!(v["totals"]["all"]["not-run"], 1);
    assert_eq!(v["totals"]["byDocument"]["config.md"]["total"], 7);
    assert_eq!(v["linuxMandatory"]["verified"], 2);
    assert_eq!(v["linuxMandatory"]["total"], 9);
    assert_eq!(v["results"]["source"], "recorded");
    assert_eq!(v["results"]["records"], 7);
    let a = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "a.failing")
        .unwrap();
    assert_eq!(a["status"], "failing");
    assert_eq!(a["tests"][1]["state"], "failed");
    assert_eq!(a["tests"][1]["detail"], "assertion failed: broken");
    assert_eq!(a["handlers"][0]["line"], 70);
    assert_eq!(a["sentence"]["line"], 12);
    assert_eq!(a["sentence"]["fingerprint"], "0123456789abcdef");
    let summary: serde_json::Value = serde_json::from_str(&coverage::render(
        &cov,
        Format::Json,
        &RenderOpts::summary(),
    ))
    .unwrap();
    assert!(summary.get("requirements").is_none());
}

#[test]
fn html_is_self_contained_with_anchors_and_links() {
    let cov = fixture();
    let opts = RenderOpts {
        source_base: "https://example.com/writ/blob/abc/".into(),
        ..RenderOpts::full()
    };
    let html = coverage::render(&cov, Format::Html, &opts);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("{{"), "unreplaced template placeholder");
    assert!(html.contains("<style>") && html.contains("<script>"));
    for needle in ["<script src", "<link rel=\"stylesheet\"", "@import"] {
        assert!(!html.contains(needle), "external resource: {needle}");
    }
    assert_eq!(html.matches("<tr id=").count(), FIX_REQS.len());
    assert!(html.contains("data-status=\"waived\""));
    // An anchor per requirement, linked from its id.
    assert!(html.contains("<tr id=\"a.failing\" data-status=\"failing\""));
    assert!(html.contains("href=\"#a.failing\""));
    // The sentence: by line at the pinned tag, with the fingerprint; the section by anchor.
    assert!(html.contains("config.md?plain=1#L12\""), "sentence link");
    assert!(html.contains("config.md#sec\""), "section link");
    assert!(html.contains(">0123456789abcdef<"), "fingerprint");
    assert!(html.contains("a fixture requirement"), "our summary");
    // Handler and test lines link to the source.
    assert!(html.contains("href=\"https://example.com/writ/blob/abc/runtime/src/fixture.rs#L70\""));
    assert!(html.contains("class=\"use t-failed\""));
    // A level filter.
    assert!(html.contains("<select id=\"level\""));
    assert!(html.contains("data-level=\"MUST NOT\""));
}

#[test]
fn markdown_summary_is_totals_only() {
    let cov = claimed_fixture();
    let s = coverage::readme_summary(&cov);
    // The claimed view has no failing or not-run column.
    assert!(!s.contains("Failing") && !s.contains("Not run"), "{s}");
    assert!(
        s.contains("| `config.md` | 3 | 1 | 1 | 0 | 1 | 1 | 7 |"),
        "{s}"
    );
    assert!(s.contains("Linux MUST / MUST NOT / REQUIRED: **4 verified** of 9."));
    assert!(!s.contains("a.verified"));
    let rec = coverage::render_markdown(&fixture(), &RenderOpts::summary());
    assert!(rec.contains("| Failing | Not run |"), "{rec}");
}

#[test]
fn readme_section_replacement() {
    let readme = "# t\n\nbefore\n<!-- coverage:begin -->\nold\n<!-- coverage:end -->\nafter\n";
    let new = coverage::replace_readme_section(readme, "new text\n").unwrap();
    assert_eq!(
        new,
        "# t\n\nbefore\n<!-- coverage:begin -->\nnew text\n<!-- coverage:end -->\nafter\n"
    );
    assert_eq!(coverage::readme_section(&new).unwrap(), "new text\n");
    assert!(coverage::replace_readme_section("no markers", "x").is_err());
    assert!(coverage::readme_section("<!-- coverage:begin --> only").is_err());
}

#[test]
fn ratchet_text_round_trips() {
    let t = coverage::render_ratchet(42);
    assert_eq!(coverage::parse_ratchet(&t), Ok(42));
    assert!(coverage::parse_ratchet("other = 1\n").is_err());
    assert!(coverage::parse_ratchet("linux_mandatory_verified = -3\n").is_err());
}

// ---------------------------------------------------------------------------------------
// The build-time scan
// ---------------------------------------------------------------------------------------

#[test]
fn scan_finds_uses_with_paths_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "runtime/src/mounts/mod.rs",
        "use writ_macros::requirement;\n\
         \n\
         #[requirement(\"m.one\", \"m.two\")]\n\
         pub fn mount_one() {}\n\
         \n\
         pub struct Plan;\n\
         #[requirement(\"m.impl\")]\n\
         impl Plan {\n\
         \x20   #[writ_macros::requirement(\"m.method\")]\n\
         \x20   fn apply(&self) {}\n\
         }\n\
         #[derive(Debug)]\n\
         struct NotAUse;\n",
    );
    write(
        "runtime/src/lib.rs",
        "#[requirement(\"r.root\")]\nmod inner {\n    #[requirement(\"r.nested\")]\n    fn f() {}\n}\n",
    );
    write(
        "runtime/tests/lifecycle.rs",
        "use writ_macros::verifies;\n#[verifies(\"m.one\")]\n#[test]\nfn create_mounts() {}\n",
    );
    write(
        "spec/src/validate/mounts.rs",
        "impl Check for Dest {\n    #[requirement(\"v.dest\")]\n    fn check(&self) {}\n}\n",
    );
    // Not scanned: the macros' own tests, and files that do not parse.
    write(
        "macros/tests/ui/pass/x.rs",
        "#[requirement(\"nope\")]\nfn x() {}\n",
    );
    write("conformance/tests/broken.rs", "fn (\n");

    let uses = scan::scan_workspace(root);
    let got: Vec<(String, &str, String, usize, String)> = uses
        .iter()
        .map(|u| (u.id.clone(), u.kind, u.file.clone(), u.line, u.item.clone()))
        .collect();
    let want = |id: &str, kind: &'static str, file: &str, line: usize, item: &str| {
        (
            id.to_string(),
            kind,
            file.to_string(),
            line,
            item.to_string(),
        )
    };
    assert_eq!(
        got,
        vec![
            want(
                "m.impl",
                "Handler",
                "runtime/src/mounts/mod.rs",
                8,
                "writ::mounts::Plan"
            ),
            want(
                "m.method",
                "Handler",
                "runtime/src/mounts/mod.rs",
                10,
                "writ::mounts::Plan::apply"
            ),
            want(
                "m.one",
                "Handler",
                "runtime/src/mounts/mod.rs",
                4,
                "writ::mounts::mount_one"
            ),
            want(
                "m.one",
                "Test",
                "runtime/tests/lifecycle.rs",
                4,
                "lifecycle::create_mounts"
            ),
            want(
                "m.two",
                "Handler",
                "runtime/src/mounts/mod.rs",
                4,
                "writ::mounts::mount_one"
            ),
            want(
                "r.nested",
                "Handler",
                "runtime/src/lib.rs",
                4,
                "writ::inner::f"
            ),
            want("r.root", "Handler", "runtime/src/lib.rs", 2, "writ::inner"),
            want(
                "v.dest",
                "Handler",
                "spec/src/validate/mounts.rs",
                3,
                "writ_spec::validate::mounts::<Dest as Check>::check"
            ),
        ]
    );
    let text = scan::render(&uses);
    // Packed: each string once in the text (an id, item or file of several uses too), a
    // record per use.
    for s in [
        "m.one",
        "writ::mounts::mount_one",
        "runtime/src/mounts/mod.rs",
    ] {
        assert_eq!(
            text.matches(&format!("\n    \"{s}\",\n")).count(),
            1,
            "{s} in\n{text}"
        );
    }
    assert_eq!(text.matches("\n    (Span(").count(), uses.len());
    assert!(text.contains(&format!("static PACKED: [Packed; {}] = [", uses.len())));
    // Deterministic: a second scan renders the same text.
    assert_eq!(scan::render(&scan::scan_workspace(root)), text);
}

// ---------------------------------------------------------------------------------------
// The real table
// ---------------------------------------------------------------------------------------

#[test]
fn real_uses_point_at_their_items() {
    let root = coverage::workspace_root();
    for u in USES.iter() {
        let text = std::fs::read_to_string(root.join(u.file))
            .unwrap_or_else(|e| panic!("{}: {e}", u.file));
        let line = text
            .lines()
            .nth(u.line as usize - 1)
            .unwrap_or_else(|| panic!("{}:{} is past the end", u.file, u.line));
        let name = u.item.rsplit("::").next().unwrap_or(u.item);
        let name = name
            .trim_start_matches('<')
            .split(' ')
            .next()
            .unwrap_or(name);
        assert!(
            line.contains(name) || line.contains("impl"),
            "{}:{} does not name {}: {line:?}",
            u.file,
            u.line,
            u.item
        );
    }
}

/// The decoded table is the build script's scan of the sources, entry by entry.
#[test]
fn real_uses_decode_to_the_scan() {
    let scanned: Vec<(String, &str, String, usize, String)> =
        scan::scan_workspace(&coverage::workspace_root())
            .into_iter()
            .map(|u| (u.id, u.kind, u.file, u.line, u.item))
            .collect();
    let decoded: Vec<(String, &str, String, usize, String)> = USES
        .iter()
        .map(|u| {
            let kind = match u.kind {
                UseKind::Handler => "Handler",
                UseKind::Test => "Test",
            };
            let line = u.line as usize;
            (
                u.id.to_owned(),
                kind,
                u.file.to_owned(),
                line,
                u.item.to_owned(),
            )
        })
        .collect();
    assert!(decoded.len() > 100, "only {} uses", decoded.len());
    assert_eq!(decoded, scanned);
}

#[test]
fn real_uses_name_listed_requirements() {
    let cov = coverage::claimed();
    let orphans: Vec<String> = cov
        .orphans
        .iter()
        .map(|u| format!("{} at {}:{} ({})", u.id, u.file, u.line, u.item))
        .collect();
    assert!(
        orphans.is_empty(),
        "uses naming ids that are not in spec/requirements:\n{}",
        orphans.join("\n")
    );
    assert_eq!(cov.rows.len(), REQUIREMENTS.len());
}

#[test]
fn real_output_is_deterministic() {
    for format in [Format::Table, Format::Markdown, Format::Json, Format::Html] {
        let a = coverage::render(&coverage::claimed(), format, &RenderOpts::full());
        let b = coverage::render(&coverage::claimed(), format, &RenderOpts::full());
        assert_eq!(a, b, "{format:?} differs between two runs");
    }
}

#[test]
fn levels_parse_as_written() {
    use writ_cli::tools::coverage::parse_level;
    assert_eq!(parse_level("must"), Ok(Level::Must));
    assert_eq!(parse_level("must-not"), Ok(Level::MustNot));
    assert_eq!(parse_level("MUST NOT"), Ok(Level::MustNot));
    assert_eq!(parse_level("not_recommended"), Ok(Level::NotRecommended));
    assert!(parse_level("sometimes").unwrap_err().contains("MUST NOT"));
}
