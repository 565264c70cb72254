//! The committed requirements list, its generated table, and the spec-update tool.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use writ_codegen::requirements::{
    self as req, diff_doc, diff_doc_with, find_statements, fingerprint, keyword_count, load,
    render_table, Change, Check, Level, Platform, Requirement, DOCS,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen sits in the workspace")
        .to_path_buf()
}

fn list_dir() -> PathBuf {
    root().join(req::LIST_DIR)
}

/// The drift check: the committed table is exactly what the list renders to.
/// `WRIT_BLESS=1` rewrites it instead.
#[test]
fn generated_table_matches_list() {
    let tag = writ_codegen::generate::pinned_lock(&root())
        .expect("schema lock")
        .tag;
    let expected = render_table(&root(), &tag).expect("list loads");
    let path = root().join(req::TABLE_PATH);
    if std::env::var_os("WRIT_BLESS").is_some() {
        std::fs::write(&path, &expected).expect("write table");
    }
    let actual = std::fs::read_to_string(&path).expect("read table");
    assert!(
        actual == expected,
        "{} is out of date with spec/requirements/*.toml; regenerate it (WRIT_BLESS=1 cargo test -p writ-codegen --test requirements)",
        req::TABLE_PATH
    );
}

#[test]
fn committed_files_are_canonical() {
    for info in DOCS {
        let path = list_dir().join(info.file);
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let entries = req::load_file(&path, info).unwrap();
        assert_eq!(
            req::to_toml(info, &entries),
            text,
            "{} is not in the canonical format `--write` produces",
            info.file
        );
    }
}

#[test]
fn committed_list_is_reviewed_and_consistent() {
    let list = load(&list_dir()).expect("list loads");
    assert!(!list.is_empty());
    let mut keys = HashSet::new();
    for r in &list {
        assert!(
            r.review.is_none(),
            "{} still carries a review note from the update tool: {:?}",
            r.id,
            r.review
        );
        assert!(
            !r.summary.starts_with("REVIEW"),
            "{} has a placeholder summary",
            r.id
        );
        if let Some(w) = &r.waived {
            assert!(w.len() > 10, "{} is waived without a real reason", r.id);
        }
        // The same sentence may appear twice in a document; then the entries follow the
        // document order, so (fingerprint, occurrence) repeats only for repeated text.
        keys.insert((
            r.doc.clone(),
            r.fingerprint.clone(),
            r.occurrence,
            r.id.clone(),
        ));
    }
    assert_eq!(keys.len(), list.len());
}

#[test]
fn known_entries_have_their_expected_shape() {
    let list = load(&list_dir()).expect("list loads");
    let by_id = |id: &str| -> Requirement {
        list.iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .clone()
    };
    let ns = by_id("config_linux.namespaces.duplicate_type");
    assert_eq!(ns.level, Level::Must);
    assert_eq!(ns.check, Check::Validate);
    assert_eq!(ns.platforms, vec![Platform::Linux]);
    assert_eq!(ns.specerror.as_deref(), Some("NSErrorOnDup"));
    let dev = by_id("config_linux.devices.available");
    assert!(dev.deviation.as_deref().unwrap_or("").contains("fileMode"));
    let v = by_id("config.oci_version.semver");
    assert_eq!(v.doc, "config.md");
    assert_eq!(v.anchor, "specification-version");
}

#[test]
fn load_rejects_bad_entries() {
    let dir = tempdir("bad");
    let good = r#"
[[requirement]]
id = "bundle.format.config"
level = "MUST"
doc = "bundle.md"
anchor = "container-format"
platforms = ["all"]
summary = "x"
check = "runtime"
fingerprint = "0123456789abcdef"
"#;
    std::fs::write(dir.join("bundle.toml"), good).unwrap();
    assert_eq!(load(&dir).unwrap().len(), 1);

    for (bad, what) in [
        (good.replace("bundle.format", "runtime.format"), "prefix"),
        (good.replace("0123456789abcdef", "0123"), "fingerprint"),
        (good.replace("\"all\"", "\"all\", \"linux\""), "all"),
        (good.replace("bundle.md", "config.md"), "doc"),
        (
            good.replace("check = \"runtime\"", "check = \"tested\""),
            "check",
        ),
        (
            good.replace("summary = \"x\"", "summary = \"x\"\nextra = 1"),
            "unknown",
        ),
        (format!("{good}{good}"), "duplicate"),
    ] {
        std::fs::write(dir.join("bundle.toml"), &bad).unwrap();
        assert!(load(&dir).is_err(), "accepted a bad file ({what})");
    }
    std::fs::write(dir.join("bundle.toml"), good).unwrap();
    std::fs::write(dir.join("other.toml"), "").unwrap();
    assert!(load(&dir).is_err(), "accepted an unknown file");
    std::fs::remove_dir_all(&dir).unwrap();
}

const SAMPLE: &str = r#"# <a name="top" />Sample

## <a name="first" />First section

**`field`** (string, REQUIRED) MUST be a [nice](other.md#x) *value*.
The runtime MUST NOT touch it, e.g. `MUST` in code
stays one sentence. Runtimes SHOULD log it.

```json
{"MUST": "not counted"}
```

* A list item MAY hold a keyword.
    Its continuation is NOT RECOMMENDED.

## Example

Text SHOULD NOT be split at e.g. this point.

## Example

| Option | Requirement |
|--------|-------------|
| `ro`   | MUST        |

[nice]: https://example.com
"#;

#[test]
fn finder_reads_sample() {
    let st = find_statements("sample.md", SAMPLE);
    let levels: Vec<Level> = st.iter().map(|s| s.level).collect();
    assert_eq!(
        levels,
        vec![
            Level::Required,
            Level::Must,
            Level::MustNot,
            Level::Must,
            Level::Should,
            Level::May,
            Level::NotRecommended,
            Level::ShouldNot,
            Level::Must,
        ]
    );
    // Every keyword outside code blocks is one statement.
    assert_eq!(keyword_count(SAMPLE), st.len());
    assert_eq!(st[0].anchor, "first-section");
    assert_eq!(
        st[0].sentence,
        "field (string, REQUIRED) MUST be a nice value."
    );
    assert_eq!(st[0].fingerprint, fingerprint(&st[0].sentence));
    assert_eq!(st[0].fingerprint, st[1].fingerprint);
    assert_eq!((st[0].occurrence, st[1].occurrence), (1, 2));
    assert_eq!(
        st[2].sentence,
        "The runtime MUST NOT touch it, e.g. MUST in code stays one sentence."
    );
    assert_eq!(st[2].line, 6);
    assert_eq!(st[4].sentence, "Runtimes SHOULD log it.");
    assert_eq!(st[4].line, 7);
    assert_eq!(st[5].sentence, "A list item MAY hold a keyword.");
    assert_eq!(st[6].sentence, "Its continuation is NOT RECOMMENDED.");
    assert_eq!(st[6].line, 14);
    assert_eq!(st[7].anchor, "example");
    assert_eq!(st[8].anchor, "example-1");
    assert_eq!(st[8].sentence, "| ro | MUST |");
}

#[test]
fn fingerprint_is_sha256_prefix() {
    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223...
    assert_eq!(fingerprint("abc"), "ba7816bf8f01cfea");
}

fn entries_for(markdown: &str) -> Vec<Requirement> {
    let info = req::doc_info("bundle.md").unwrap();
    let d = diff_doc(info, markdown, Vec::new());
    d.updated_entries()
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.id = format!("bundle.s.rule{i}");
            e.summary = format!("our words {i}");
            e.review = None;
            e.check = Check::Validate;
            e
        })
        .collect()
}

#[test]
fn diff_finds_unchanged_changed_new_and_retired() {
    let info = req::doc_info("bundle.md").unwrap();
    let v1 = "## S\n\nA MUST be b.\nC SHOULD be d.\nE MAY be f.\n\n## T\n\nG MUST be h.\n";
    let entries = entries_for(v1);
    let same = diff_doc(info, v1, entries.clone());
    assert!(same.is_current());
    assert_eq!(same.updated_entries(), entries);

    // C's sentence changes wording (same section, same level), E is dropped, a new
    // sentence arrives in T.
    let v2 =
        "## S\n\nA MUST be b.\nC SHOULD be d, mostly.\n\n## T\n\nG MUST be h.\nI MUST NOT be j.\n";
    let d = diff_doc_with(info, v2, entries.clone(), Some(v1));
    assert!(!d.is_current());
    assert_eq!(
        d.changes,
        vec![
            Change::Unchanged {
                entry: 0,
                moved: false
            },
            Change::Changed { entry: 1 },
            // G's sentence moved up a line.
            Change::Unchanged {
                entry: 3,
                moved: true
            },
            Change::New,
        ]
    );
    // Without the old text there is nothing to say C's entry is the reworded sentence:
    // it retires and the sentence is new (a person sees both).
    let blind = diff_doc(info, v2, entries.clone());
    assert_eq!(blind.changes[1], Change::New);
    assert_eq!(blind.retired, vec![1, 2]);
    assert_eq!(d.retired, vec![2]);
    let out = d.updated_entries();
    assert_eq!(out.len(), 4);
    // Hand-written fields survive for unchanged and changed entries.
    assert_eq!(out[0], entries[0]);
    assert_eq!(out[1].id, entries[1].id);
    assert_eq!(out[1].summary, entries[1].summary);
    assert_ne!(out[1].fingerprint, entries[1].fingerprint);
    assert!(out[1].review.is_some());
    assert_eq!(out[2].id, entries[3].id);
    assert_eq!(out[2].line, 8);
    // The new one is a placeholder marked for review.
    assert_eq!(out[3].level, Level::MustNot);
    assert!(out[3].id.starts_with("bundle.t.new_"));
    assert!(out[3].review.is_some());
    assert!(out[3].summary.starts_with("REVIEW"));
    assert!(req::check_id(&out[3].id, "bundle").is_ok());

    // A moved section keeps the entry and updates the anchor.
    let v3 = "## Renamed\n\nA MUST be b.\nC SHOULD be d.\nE MAY be f.\n\n## T\n\nG MUST be h.\n";
    let d = diff_doc(info, v3, entries.clone());
    assert!(matches!(
        d.changes[0],
        Change::Unchanged { moved: true, .. }
    ));
    assert_eq!(d.updated_entries()[0].anchor, "renamed");
    assert_eq!(d.updated_entries()[0].id, entries[0].id);
}

#[test]
fn write_round_trips_through_files() {
    let dir = tempdir("write");
    let docs = tempdir("docs");
    let v1 = "## S\n\nA MUST be b and MAY be c.\n";
    for info in DOCS {
        std::fs::write(docs.join(info.doc), "# empty\n").unwrap();
    }
    std::fs::write(docs.join("bundle.md"), v1).unwrap();
    let entries = entries_for(v1);
    let info = req::doc_info("bundle.md").unwrap();
    std::fs::write(dir.join("bundle.toml"), req::to_toml(info, &entries)).unwrap();
    let diffs = req::diff_all(&docs, &dir).unwrap();
    assert!(diffs.iter().all(|d| d.is_current()));
    assert_eq!(req::write_updates(&diffs, &dir, "v0").unwrap(), 0);

    std::fs::write(docs.join("bundle.md"), format!("{v1}X SHOULD be y.\n")).unwrap();
    let diffs = req::diff_all(&docs, &dir).unwrap();
    assert_eq!(req::write_updates(&diffs, &dir, "v0").unwrap(), 1);
    let after = load(&dir).unwrap();
    assert_eq!(after.len(), 3);
    assert_eq!(after[..2], entries[..]);
    assert_eq!(after[2].level, Level::Should);
    let report = req::report(&diffs, false);
    assert!(report.contains("new      bundle.md:"), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&docs).unwrap();
}

#[test]
fn command_line_reports_status() {
    let docs = tempdir("cli");
    for info in DOCS {
        std::fs::write(docs.join(info.doc), "# empty\n").unwrap();
    }
    let dir = tempdir("cli-list");
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let d = docs.to_str().unwrap();
    let l = dir.to_str().unwrap();
    assert_eq!(
        req::main(&args(&[
            "requirements",
            "--spec-docs",
            d,
            "--requirements",
            l
        ])),
        0
    );
    std::fs::write(docs.join("bundle.md"), "## S\n\nA MUST be b.\n").unwrap();
    assert_eq!(
        req::main(&args(&["--spec-docs", d, "--requirements", l])),
        1
    );
    assert_eq!(
        req::main(&args(&["--spec-docs", d, "--requirements", l, "--write"])),
        0
    );
    assert_eq!(load(&dir).unwrap().len(), 1);
    assert_eq!(req::main(&args(&["--requirements", l])), 2);
    assert_eq!(req::main(&args(&["--bogus"])), 2);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&docs).unwrap();
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "writ-req-test-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The reconciliation table in spec/requirements/README.md states the entries per document
/// and level; it must agree with the list.
#[test]
fn readme_reconciliation_matches_list() {
    let readme = std::fs::read_to_string(list_dir().join("README.md")).unwrap();
    let list = load(&list_dir()).unwrap();
    let columns = [
        Level::Must,
        Level::MustNot,
        Level::Required,
        Level::Should,
        Level::ShouldNot,
        Level::NotRecommended,
        Level::May,
    ];
    let mut rows = 0;
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 11 {
            continue;
        }
        let doc = cells[1];
        if doc.ends_with(".md") {
            let entries: Vec<&Requirement> = list.iter().filter(|r| r.doc == doc).collect();
            assert_eq!(cells[3], entries.len().to_string(), "{doc}: entries");
            assert_eq!(cells[2], cells[3], "{doc}: keywords and entries differ");
            for (i, level) in columns.iter().enumerate() {
                let n = entries.iter().filter(|r| r.level == *level).count();
                assert_eq!(cells[4 + i], n.to_string(), "{doc}: {}", level.as_str());
            }
            rows += 1;
        } else if doc == "total" {
            assert_eq!(cells[3], list.len().to_string(), "total entries");
            rows += 1;
        }
    }
    assert_eq!(rows, DOCS.len() + 1, "README table rows");
}

#[test]
fn repeated_sentence_keeps_its_section() {
    let info = req::doc_info("bundle.md").unwrap();
    let v1 = "## Start\n\nIt MUST fail without an id.\n\n## Kill\n\nIt MUST fail without an id.\n\n## Delete\n\nIt MUST fail without an id.\n";
    let entries = entries_for(v1);
    assert_eq!(entries[0].fingerprint, entries[2].fingerprint);
    // The first section rewords its sentence: the other two keep their own entries (not
    // the first one of the same text), and the reworded one is matched as changed.
    let v2 = "## Start\n\nIt MUST fail when no id is given.\n\n## Kill\n\nIt MUST fail without an id.\n\n## Delete\n\nIt MUST fail without an id.\n";
    let d = diff_doc_with(info, v2, entries.clone(), Some(v1));
    let out = d.updated_entries();
    assert_eq!(out[1].id, entries[1].id);
    assert_eq!(out[2].id, entries[2].id);
    assert_eq!(
        out[0].id, entries[0].id,
        "reworded in the same section: changed"
    );
    assert!(out[0].review.is_some());
    assert!(d.retired.is_empty());
    // The first section loses the sentence: its entry retires, the others stay.
    let v3 = "## Kill\n\nIt MUST fail without an id.\n\n## Delete\n\nIt MUST fail without an id.\n";
    let d = diff_doc(info, v3, entries.clone());
    let out = d.updated_entries();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].id, entries[1].id);
    assert_eq!(out[1].id, entries[2].id);
    assert_eq!(d.retired, vec![0]);
}

/// Every `schema` selector of the committed list names a check the generated validation
/// makes, and each document has its default.
#[test]
fn schema_selectors_resolve_against_the_pinned_schemas() {
    use writ_codegen::{generate, schema, schema_ids};
    let lock = generate::pinned_lock(&root()).unwrap();
    let dir = generate::pinned_schema_dir(&root()).unwrap_or_else(|e| panic!("{e}"));
    let set = schema::load(&dir, Some(&lock)).unwrap();
    let model = schema::normalise(&set).unwrap();
    let list = load(&list_dir()).unwrap();
    let res = schema_ids::resolve(&model, &list).unwrap();
    assert!(res.unmatched.is_empty(), "{:?}", res.unmatched);
    assert_eq!(res.defaults.len(), 3);
    // Entries that claim the schema enforces them and name no check are exactly those the
    // coverage reports as missing.
    let claimed: Vec<&str> = list
        .iter()
        .filter(|r| r.check == Check::Schema && !res.enforced.contains(&r.id))
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(claimed, ["features.document.optional_fields"]);

    // A selector that matches nothing is reported, not silently dropped.
    let mut bad = list.clone();
    let e = bad
        .iter_mut()
        .find(|r| r.id == "config.root.path.required")
        .unwrap();
    e.schema = vec!["/root/pathh required".into()];
    let res = schema_ids::resolve(&model, &bad).unwrap();
    assert_eq!(
        res.unmatched,
        [(
            "config.root.path.required".to_owned(),
            "/root/pathh required".to_owned()
        )]
    );
    assert!(!res.enforced.contains("config.root.path.required"));
    // Without a default for a document, generation refuses.
    let mut nodefault = list.clone();
    for r in &mut nodefault {
        r.schema.retain(|s| s != "** any");
    }
    assert!(schema_ids::resolve(&model, &nodefault).is_err());
    assert!(schema_ids::parse_selector("/x sideways").is_err());
    assert!(schema_ids::parse_selector("x type").is_err());
}

/// A section in the shape of config-linux.md's intelRdt rules between v1.2.1 and v1.3.0 (in
/// our own words): three rules reworded, one dropped, sentences added before and between
/// them. Pairing by section, level and document order matched the added sentences with the
/// old rules; pairing by content matches each reworded rule with its own entry.
const CACHE_OLD: &str = "## Cache

* **`group`** (string, OPTIONAL) names the group.

The rules below apply:

* If both alpha and beta are given, runtimes MUST write the joined value to the table file in the group directory.

* If alpha holds a line starting with `B:`, the value written to the table file MUST be the other lines of alpha and the line of beta.

* If either alpha or beta is given, runtimes MUST write it to the table file in the group directory.

* If neither alpha nor beta is given, runtimes MUST NOT write to table files anywhere.

* If group is set and neither alpha nor beta is given, the runtime MUST check that the group directory exists.
";

const CACHE_NEW: &str = "## Cache

* **`group`** (string, OPTIONAL) names the group.
  As a special case, the value `/` MUST place the container in the default group.

* **`gamma`** (array of strings, OPTIONAL) lines for the table file. The value MUST NOT contain newlines.

The rules below apply:

* If both alpha and beta are given, runtimes MUST write the values to the table file in the group directory. The runtimes MUST write alpha first and beta last.

* If either alpha or beta is given, runtimes MUST write it to the table file in the group directory.

* If gamma is given, runtimes MUST write it to the table file in the group directory.

* If none of alpha, beta or gamma is given, runtimes MUST NOT write to table files anywhere.

* If group is set and none of alpha, beta or gamma is given, the runtime MUST check that the group directory exists.
";

#[test]
fn changed_sentences_pair_by_content_not_document_order() {
    let info = req::doc_info("bundle.md").unwrap();
    let old = entries_for(CACHE_OLD);
    assert_eq!(old.len(), 5);
    let d = req::diff_doc_with(info, CACHE_NEW, old.clone(), Some(CACHE_OLD));
    let got: Vec<(String, Option<&str>)> = d
        .statements
        .iter()
        .zip(&d.changes)
        .map(|(s, c)| {
            let id = match c {
                Change::Unchanged { entry, .. } | Change::Changed { entry } => {
                    Some(old[*entry].id.as_str())
                }
                Change::New => None,
            };
            (s.sentence.chars().take(24).collect(), id)
        })
        .collect();
    let want: Vec<(String, Option<&str>)> = vec![
        ("As a special case, the v".into(), None),
        ("The value MUST NOT conta".into(), None),
        ("If both alpha and beta a".into(), Some("bundle.s.rule0")),
        ("The runtimes MUST write ".into(), None),
        ("If either alpha or beta ".into(), Some("bundle.s.rule2")),
        ("If gamma is given, runti".into(), None),
        ("If none of alpha, beta o".into(), Some("bundle.s.rule3")),
        ("If group is set and none".into(), Some("bundle.s.rule4")),
    ];
    assert_eq!(got, want);
    assert_eq!(d.retired, vec![1], "the B: rule is gone");

    // Rolling a list made at the new text back to the old one and forward again gives every
    // sentence its own entry back.
    let new = entries_for(CACHE_NEW);
    let back = req::diff_doc_with(info, CACHE_OLD, new.clone(), Some(CACHE_NEW)).updated_entries();
    let forward =
        req::diff_doc_with(info, CACHE_NEW, back.clone(), Some(CACHE_OLD)).updated_entries();
    for e in &new {
        if let Some(f) = forward
            .iter()
            .find(|f| f.fingerprint == e.fingerprint && f.occurrence == e.occurrence)
        {
            if !f.id.contains(".new_") {
                assert_eq!(f.id, e.id, "{}", f.summary);
            }
        }
    }
    // The three reworded rules keep their ids through the round trip.
    let kept = |prefix: &str| {
        forward
            .iter()
            .zip(find_statements("bundle.md", CACHE_NEW))
            .find(|(_, s)| s.sentence.starts_with(prefix))
            .map(|(f, _)| f.id.clone())
    };
    let orig = |prefix: &str| {
        new.iter()
            .zip(find_statements("bundle.md", CACHE_NEW))
            .find(|(_, s)| s.sentence.starts_with(prefix))
            .map(|(e, _)| e.id.clone())
    };
    for p in ["If both alpha", "If none of alpha", "If group is set"] {
        assert_eq!(kept(p), orig(p), "{p}");
    }
}

#[test]
fn lower_case_keywords_are_listed_for_review() {
    let md = "## S\n\nThe value MUST be set. If also x is set the value of y must be written last.\n\nHooks should not be run twice, which SHOULD be obvious.\n\n```\nit must not count in code\n```\n";
    let found = req::find_lower_case_keywords("bundle.md", md);
    let got: Vec<(usize, Vec<String>)> = found.iter().map(|l| (l.line, l.words.clone())).collect();
    assert_eq!(
        got,
        [(3, vec!["must".to_owned()]), (5, vec!["should".to_owned()])]
    );
    // Not statements: the keyword count and the statements stay the upper-case ones.
    assert_eq!(find_statements("bundle.md", md).len(), 2);
    let info = req::doc_info("bundle.md").unwrap();
    let report = req::report(&[diff_doc(info, md, Vec::new())], false);
    assert!(
        report.contains("review   bundle.md:3 #s lower-case \"must\": If also x is set"),
        "{report}"
    );
}

#[test]
fn retired_ids_are_recorded_and_never_reused() {
    let docs = tempdir("retire-docs");
    let dir = tempdir("retire-list");
    for info in DOCS {
        std::fs::write(docs.join(info.doc), "# empty\n").unwrap();
    }
    let v1 = "## S\n\nA MUST be b.\nC MUST NOT be d.\n";
    let entries = entries_for(v1);
    let info = req::doc_info("bundle.md").unwrap();
    std::fs::write(dir.join("bundle.toml"), req::to_toml(info, &entries)).unwrap();
    std::fs::write(docs.join("bundle.md"), "## S\n\nA MUST be b.\n").unwrap();
    let diffs = req::diff_all(&docs, &dir).unwrap();
    req::write_updates(&diffs, &dir, "v9.0.0").unwrap();
    let retired = req::load_retired(&dir).unwrap();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].id, entries[1].id);
    assert_eq!(retired[0].retired_in, "v9.0.0");
    assert_eq!(retired[0].summary, entries[1].summary);
    assert_eq!(load(&dir).unwrap().len(), 1);
    // Using the id again is refused.
    std::fs::write(dir.join("bundle.toml"), req::to_toml(info, &entries)).unwrap();
    let e = load(&dir).unwrap_err().to_string();
    assert!(e.contains("retired in v9.0.0"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&docs).unwrap();
}
