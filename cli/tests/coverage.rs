//! `writ coverage`: the status rules, the totals, the renderings, the build-time scan of
//! `#[requirement]` / `#[verifies]`, and the consistency of the real table.

use writ_cli::commands::coverage::{self, compute, status_of, Format, Status};
use writ_cli::trace::{Use, UseKind, USES};
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
        platforms,
        summary: "a fixture requirement",
        check,
        specerror: None,
        fingerprint: "0000000000000000",
        waived,
        deviation: None,
    }
}

const LINUX: &[Platform] = &[Platform::Linux];
const ALL: &[Platform] = &[Platform::All];
const WINDOWS: &[Platform] = &[Platform::Windows];

static FIX_REQS: [Requirement; 8] = [
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
];

const fn u(id: &'static str, kind: UseKind, line: u32) -> Use {
    Use {
        id,
        kind,
        item: "fixture::item",
        file: "runtime/src/fixture.rs",
        line,
    }
}

static FIX_USES: [Use; 7] = [
    u("a.verified", UseKind::Handler, 10),
    u("a.verified", UseKind::Test, 20),
    u("a.verified", UseKind::Test, 21),
    u("a.implemented", UseKind::Handler, 30),
    u("a.schema_tested", UseKind::Test, 40),
    u("a.test_only", UseKind::Test, 50),
    u("no.such.id", UseKind::Handler, 60),
];

fn status(id: &str) -> Status {
    let cov = compute(&FIX_REQS, &FIX_USES);
    cov.rows
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
    assert_eq!(status_of(&r, 1, 1), Status::Verified);
    assert_eq!(status_of(&r, 1, 0), Status::Waived);
}

#[test]
fn uses_are_attached_and_orphans_reported() {
    let cov = compute(&FIX_REQS, &FIX_USES);
    let v = cov.rows.iter().find(|r| r.req.id == "a.verified").unwrap();
    assert_eq!(v.handlers.len(), 1);
    assert_eq!(v.tests.len(), 2);
    assert_eq!(cov.rows.len(), FIX_REQS.len());
    assert_eq!(cov.orphans.len(), 1);
    assert_eq!(cov.orphans[0].id, "no.such.id");
}

#[test]
fn totals_and_ratchet_count() {
    let cov = compute(&FIX_REQS, &FIX_USES);
    let totals = cov.totals();
    assert_eq!(totals.total(), FIX_REQS.len());
    assert_eq!(totals.get(Status::Verified), 2);
    let by_doc: std::collections::HashMap<_, _> = cov.by_doc().into_iter().collect();
    assert_eq!(by_doc["config.md"].total(), 4);
    assert_eq!(by_doc["runtime.md"].total(), 3);
    assert_eq!(by_doc["config-linux.md"].get(Status::Verified), 1);
    assert_eq!(by_doc["bundle.md"].total(), 0);
    let by_level: std::collections::HashMap<_, _> = cov.by_level().into_iter().collect();
    assert_eq!(by_level[&Level::Must].total(), 4);
    assert_eq!(by_level[&Level::Required].total(), 2);
    // Linux mandatory: a.verified, a.implemented, a.schema, a.schema_tested, a.missing,
    // a.test_only (a.windows does not apply, a.waived is a SHOULD).
    assert_eq!(cov.linux_mandatory().count(), 6);
    assert_eq!(cov.ratchet_count(), 2);
}

#[test]
fn renderings_carry_every_row() {
    let cov = compute(&FIX_REQS, &FIX_USES);
    for format in [Format::Table, Format::Markdown, Format::Json, Format::Html] {
        let text = coverage::render(&cov, format, false, &[]);
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
    }
    let filtered = coverage::render(&cov, Format::Table, false, &[Status::Missing]);
    assert!(filtered.contains("a.missing"));
    assert!(!filtered.contains("a.verified"));
    let table = coverage::render(&cov, Format::Table, false, &[]);
    assert!(table.contains("warning: fixture::item names unknown requirement no.such.id"));
}

#[test]
fn json_is_valid_and_counts_match() {
    let cov = compute(&FIX_REQS, &FIX_USES);
    let text = coverage::render(&cov, Format::Json, false, &[]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["requirements"].as_array().unwrap().len(), FIX_REQS.len());
    assert_eq!(v["totals"]["all"]["verified"], 2);
    assert_eq!(v["totals"]["byDocument"]["config.md"]["total"], 4);
    assert_eq!(v["linuxMandatory"]["verified"], 2);
    assert_eq!(v["linuxMandatory"]["total"], 6);
    let a = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "a.verified")
        .unwrap();
    assert_eq!(a["status"], "verified");
    assert_eq!(a["tests"].as_array().unwrap().len(), 2);
    assert_eq!(a["handlers"][0]["line"], 10);
    let summary: serde_json::Value =
        serde_json::from_str(&coverage::render(&cov, Format::Json, true, &[])).unwrap();
    assert!(summary.get("requirements").is_none());
}

#[test]
fn html_is_self_contained() {
    let cov = compute(&FIX_REQS, &FIX_USES);
    let html = coverage::render(&cov, Format::Html, false, &[]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("{{"), "unreplaced template placeholder");
    assert!(html.contains("<style>") && html.contains("<script>"));
    for needle in ["<script src", "<link rel=\"stylesheet\"", "@import"] {
        assert!(!html.contains(needle), "external resource: {needle}");
    }
    assert_eq!(html.matches("<tr data-status=").count(), FIX_REQS.len());
    assert!(html.contains("data-status=\"waived\""));
}

#[test]
fn markdown_summary_is_totals_only() {
    let cov = compute(&FIX_REQS, &FIX_USES);
    let s = coverage::readme_summary(&cov);
    assert!(
        s.contains("| `config.md` | 1 | 1 | 1 | 0 | 0 | 1 | 4 |"),
        "{s}"
    );
    assert!(s.contains("Linux MUST / MUST NOT / REQUIRED: **2 verified** of 6."));
    assert!(!s.contains("a.verified"));
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
        "use writ_macros::verifies;\n#[test]\n#[verifies(\"m.one\")]\nfn create_mounts() {}\n",
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
    assert!(text.contains(
        "Use { id: \"m.one\", kind: UseKind::Test, item: \"lifecycle::create_mounts\", file: \"runtime/tests/lifecycle.rs\", line: 4 },"
    ));
    // Deterministic: a second scan renders the same text.
    assert_eq!(scan::render(&scan::scan_workspace(root)), text);
}

// ---------------------------------------------------------------------------------------
// The real table
// ---------------------------------------------------------------------------------------

#[test]
fn real_uses_point_at_their_items() {
    let root = coverage::workspace_root();
    for u in USES {
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

#[test]
fn real_uses_name_listed_requirements() {
    let cov = coverage::coverage();
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
        let a = coverage::render(&coverage::coverage(), format, false, &[]);
        let b = coverage::render(&coverage::coverage(), format, false, &[]);
        assert_eq!(a, b, "{format:?} differs between two runs");
    }
}
