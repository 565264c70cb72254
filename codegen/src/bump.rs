//! `writ-codegen bump`: move writ to another runtime-spec release in one command.
//!
//! From a runtime-spec git checkout (any clone with the tag):
//!
//! 1. prepare `<shared>/<tag>/`: the tag's `schema/*.json`, unmodified, and a `SOURCE.txt`
//!    saying where they come from (tag object, commit, date, license, sha256 of each file,
//!    the known errata present); `<shared>` is `../shared/oci-runtime-spec` beside the
//!    workspace unless given. An existing `<tag>/` is left alone when it holds exactly
//!    that content, and refused otherwise;
//! 2. pin the schemas in `spec/schema.lock` (the one place the version is written);
//! 3. regenerate every generated file (types, validation, the version constants, the
//!    requirement table);
//! 4. compare the tag's documents with the requirements list, pairing changed sentences by
//!    content against the documents of the release pinned before, and (unless
//!    `--no-requirements`) update the list: new statements get placeholders, changed ones a
//!    `review` mark, retired ids go to `retired.toml` as retired in the new tag.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::generate::{self, Options};
use crate::git;
use crate::schema::{self, SchemaLock, ROOTS};

/// Where the schemas of a release come from, as recorded in SOURCE.txt.
pub const DEFAULT_UPSTREAM: &str = "github.com/opencontainers/runtime-spec";

/// The tag's release material, read from the checkout.
#[derive(Debug, Clone)]
pub struct Release {
    pub tag: String,
    /// The annotated tag object, when the tag is annotated.
    pub tag_object: Option<String>,
    pub commit: String,
    pub commit_date: String,
    /// `schema/<name>` contents, by name.
    pub schemas: BTreeMap<String, Vec<u8>>,
    /// Entries of `schema/` that are not copied (directories with a trailing `/`).
    pub not_copied: Vec<String>,
    pub has_notice: bool,
    /// The SOURCE.txt text.
    pub source_txt: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads release `tag` from the checkout `repo`.
pub fn read_release(repo: &Path, tag: &str, upstream: &str) -> Result<Release, String> {
    let object = git::rev_parse(repo, &format!("refs/tags/{tag}"))
        .map_err(|_| format!("{} has no tag {tag:?}", repo.display()))?;
    let tag_object = (git::object_type(repo, &object)? == "tag").then_some(object);
    let commit = git::commit_of(repo, tag)?;
    let commit_date = git::commit_date(repo, &commit)?;
    let license = String::from_utf8_lossy(&git::show(repo, tag, "LICENSE")?).into_owned();
    if !(license.contains("Apache License") && license.contains("Version 2.0")) {
        return Err(format!(
            "{tag}: LICENSE is not the Apache License 2.0; refusing to copy the schemas"
        ));
    }
    let top = git::ls_tree_entries(repo, tag, "")?;
    let has_notice = top.iter().any(|(dir, n)| !dir && n == "NOTICE");
    let mut schemas = BTreeMap::new();
    let mut dirs = Vec::new();
    let mut others = Vec::new();
    for (is_dir, name) in git::ls_tree_entries(repo, tag, "schema")? {
        if is_dir {
            dirs.push(format!("schema/{name}/"));
        } else if name.ends_with(".json") {
            schemas.insert(
                name.clone(),
                git::show(repo, tag, &format!("schema/{name}"))?,
            );
        } else {
            others.push(format!("schema/{name}"));
        }
    }
    if schemas.is_empty() {
        return Err(format!("{tag}: schema/ holds no .json file"));
    }
    // Directories, then programs, build files, documents, anything else.
    others.sort_by_key(|n| {
        let base = n.rsplit('/').next().unwrap_or(n).to_owned();
        let rank = if [".go", ".rs", ".py", ".sh", ".c"]
            .iter()
            .any(|x| base.ends_with(x))
        {
            0
        } else if base.starts_with("Makefile") {
            1
        } else if base.ends_with(".md") || base.starts_with("README") {
            2
        } else {
            3
        };
        (rank, base)
    });
    let mut not_copied = dirs;
    not_copied.extend(others);
    let mut rel = Release {
        tag: tag.to_owned(),
        tag_object,
        commit,
        commit_date,
        schemas,
        not_copied,
        has_notice,
        source_txt: String::new(),
    };
    let notes = errata_notes(repo, &rel)?;
    rel.source_txt = render_source_txt(&rel, upstream, &notes);
    Ok(rel)
}

/// The "Known errata" lines of SOURCE.txt: each erratum of writ-codegen present in the
/// files, and whether a tag carries the upstream fix.
fn errata_notes(repo: &Path, rel: &Release) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    let mut in_tags = Vec::new();
    for e in schema::ERRATA {
        let Some(bytes) = rel.schemas.get(e.file) else {
            continue;
        };
        let json: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|err| format!("{}: schema/{} is not JSON: {err}", rel.tag, e.file))?;
        if schema::errata_in(e.file, &json)
            .iter()
            .any(|x| x.fixed_by == e.fixed_by)
        {
            lines.push(format!("  {:<15} {}", e.file, e.source_note));
            in_tags.push(git::tags_containing(repo, e.fixed_by));
        }
    }
    if lines.is_empty() {
        return Ok(lines);
    }
    let head = if in_tags
        .iter()
        .all(|t| t.as_ref().is_some_and(Vec::is_empty))
    {
        "Known errata in these files (left unmodified here; fixed upstream on main after the tag, not in any tag yet):".to_owned()
    } else {
        "Known errata in these files (left unmodified here; writ-codegen fixes them before generation):"
            .to_owned()
    };
    lines.insert(0, head);
    // Not an erratum of the schema, but a trap for readers of it.
    let vm = rel
        .schemas
        .get("config-vm.json")
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let go = git::show(repo, &rel.tag, "specs-go/config.go")
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if vm.is_some_and(|v| v.contains("\"hwConfig\"")) && go.contains("json:\"hwconfig") {
        lines.push(
            "  Also: schema and config-vm.md spell the key \"hwConfig\"; specs-go/config.go uses json:\"hwconfig\" (Go decodes case-insensitively)."
                .to_owned(),
        );
    }
    Ok(lines)
}

/// The entry points and the JSON-schema draft they declare, for the `contents:` line.
fn entry_points(rel: &Release) -> String {
    let mut drafts: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (file, _) in ROOTS {
        let draft = rel
            .schemas
            .get(*file)
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .and_then(|v| v.get("$schema").and_then(|s| s.as_str()).map(str::to_owned))
            .map(|s| {
                s.split('/')
                    .find(|p| p.starts_with("draft-"))
                    .unwrap_or(&s)
                    .to_owned()
            })
            .unwrap_or_else(|| "no $schema".to_owned());
        drafts.entry(draft).or_default().push(file);
    }
    drafts
        .iter()
        .map(|(d, files)| format!("{} declare {d}", files.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// SOURCE.txt in the format of the existing ones.
fn render_source_txt(rel: &Release, upstream: &str, errata: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "upstream: {upstream}");
    match &rel.tag_object {
        Some(o) => {
            let _ = writeln!(s, "tag: {} (annotated tag object {o})", rel.tag);
        }
        None => {
            let _ = writeln!(s, "tag: {} (lightweight tag)", rel.tag);
        }
    }
    let _ = writeln!(s, "commit: {}", rel.commit);
    let _ = writeln!(s, "commit date: {}", rel.commit_date);
    let _ = writeln!(
        s,
        "license: Apache-2.0 (upstream LICENSE file at the tag; {})",
        if rel.has_notice {
            "NOTICE file copied beside"
        } else {
            "no NOTICE file upstream"
        }
    );
    let _ = writeln!(
        s,
        "contents: schema/*.json from the tag (JSON Schema; entry points {}; others are $ref targets). Not copied: {}",
        entry_points(rel),
        rel.not_copied.join(", ")
    );
    s.push_str("files copied unmodified from upstream path schema/<name>\n\nsha256:\n");
    for (name, bytes) in &rel.schemas {
        let _ = writeln!(s, "{}  schema/{name}", sha256_hex(bytes));
    }
    if !errata.is_empty() {
        s.push('\n');
        for l in errata {
            s.push_str(l);
            s.push('\n');
        }
    }
    s
}

/// The files of `<shared>/<tag>/` for a release: relative path -> contents.
fn files(repo: &Path, rel: &Release) -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
    let mut out = BTreeMap::new();
    out.insert(
        PathBuf::from("SOURCE.txt"),
        rel.source_txt.clone().into_bytes(),
    );
    for (name, bytes) in &rel.schemas {
        out.insert(Path::new("schema").join(name), bytes.clone());
    }
    if rel.has_notice {
        out.insert(
            PathBuf::from("NOTICE"),
            git::show(repo, &rel.tag, "NOTICE")?,
        );
    }
    Ok(out)
}

/// What [`prepare`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// Written afresh.
    Written(PathBuf),
    /// Already there with exactly this content.
    Identical(PathBuf),
}

impl Prepared {
    pub fn dir(&self) -> &Path {
        match self {
            Prepared::Written(d) | Prepared::Identical(d) => d,
        }
    }
}

fn read_tree(dir: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir.join(rel))? {
        let e = e?;
        let r = rel.join(e.file_name());
        if e.file_type()?.is_dir() {
            read_tree(dir, &r, out)?;
        } else {
            out.insert(r, std::fs::read(e.path())?);
        }
    }
    Ok(())
}

/// Prepares `<shared>/<tag>/` from the checkout (see the module docs). Never changes an
/// existing directory.
pub fn prepare(repo: &Path, tag: &str, shared: &Path, upstream: &str) -> Result<Prepared, String> {
    let rel = read_release(repo, tag, upstream)?;
    let want = files(repo, &rel)?;
    let dest = shared.join(tag);
    if dest.exists() {
        let mut have = BTreeMap::new();
        read_tree(&dest, Path::new(""), &mut have)
            .map_err(|e| format!("cannot read {}: {e}", dest.display()))?;
        if have == want {
            return Ok(Prepared::Identical(dest));
        }
        let differ: Vec<String> = want
            .keys()
            .chain(have.keys())
            .filter(|k| want.get(*k) != have.get(*k))
            .map(|k| k.display().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        return Err(format!(
            "{} exists and differs from what {tag} of {} gives ({}); it is left alone: remove \
             it yourself if it is wrong",
            dest.display(),
            repo.display(),
            differ.join(", ")
        ));
    }
    std::fs::create_dir_all(shared).map_err(|e| format!("{}: {e}", shared.display()))?;
    let tmp = shared.join(format!(".{tag}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for (rel_path, bytes) in &want {
        let p = tmp.join(rel_path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    Ok(Prepared::Written(dest))
}

/// Options of a bump.
#[derive(Debug, Clone)]
pub struct BumpOptions {
    /// The runtime-spec git checkout.
    pub repo: PathBuf,
    /// The release tag (default: the tag checked out in `repo`).
    pub tag: Option<String>,
    pub workspace: PathBuf,
    /// Default: `<workspace>/../shared/oci-runtime-spec`.
    pub shared: Option<PathBuf>,
    pub upstream: String,
    /// Also update the requirements list (default).
    pub requirements: bool,
    /// Only prepare `<shared>/<tag>/`.
    pub prepare_only: bool,
}

/// Runs the whole bump; returns the report.
pub fn bump(o: &BumpOptions) -> Result<String, String> {
    let tag = match &o.tag {
        Some(t) => t.clone(),
        None => git::exact_tag(&o.repo).ok_or_else(|| {
            format!(
                "{} is not checked out at a tag; pass --tag TAG",
                o.repo.display()
            )
        })?,
    };
    let before = generate::pinned_lock(&o.workspace).map_err(|e| e.to_string())?;
    let shared = o
        .shared
        .clone()
        .unwrap_or_else(|| generate::shared_spec_dir(&o.workspace));
    let mut report = String::new();
    let prepared = prepare(&o.repo, &tag, &shared, &o.upstream)?;
    let _ = writeln!(
        report,
        "{}: {}",
        prepared.dir().display(),
        match prepared {
            Prepared::Written(_) => "prepared",
            Prepared::Identical(_) => "already there, identical",
        }
    );
    if o.prepare_only {
        return Ok(report);
    }
    // Pin and regenerate: the lock is written from the files and SOURCE.txt found.
    let schema_dir = prepared.dir().join("schema");
    report.push_str(&write_generated(&o.workspace, &schema_dir, true)?);
    let after = SchemaLock::read(&generate::lock_path(&o.workspace)).map_err(|e| e.to_string())?;
    let _ = writeln!(
        report,
        "spec/schema.lock: {} -> {} ({})",
        before.tag, after.tag, after.commit
    );
    if o.requirements && requirements(o, &tag, &before.tag, &mut report)? {
        // The list changed: the table and the schema ids follow it.
        report.push_str(&write_generated(&o.workspace, &schema_dir, false)?);
    }
    Ok(report)
}

/// Generates everything from `schema_dir` and writes what changed; the report lines.
fn write_generated(
    workspace: &Path,
    schema_dir: &Path,
    update_lock: bool,
) -> Result<String, String> {
    let out = generate::generate(&Options {
        workspace_root: workspace.to_path_buf(),
        schema_dir: schema_dir.to_path_buf(),
        update_lock,
    })
    .map_err(|e| e.to_string())?;
    let mut report = String::new();
    for f in &out.files {
        let path = workspace.join(&f.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(f.contents.as_str()) {
            continue;
        }
        std::fs::write(&path, &f.contents).map_err(|e| format!("{}: {e}", path.display()))?;
        let _ = writeln!(report, "wrote {}", f.path.display());
    }
    for n in &out.notes {
        if !n.starts_with("timing:") {
            let _ = writeln!(report, "{n}");
        }
    }
    Ok(report)
}

/// Step 4: the list against the tag's documents; true when the list was rewritten.
fn requirements(
    o: &BumpOptions,
    tag: &str,
    old_tag: &str,
    report: &mut String,
) -> Result<bool, String> {
    use crate::requirements as req;
    let docs = tempfile_dir()?;
    let new_docs = req::git_docs(&o.repo, tag)?;
    for (name, text) in &new_docs {
        std::fs::write(docs.join(name), text).map_err(|e| e.to_string())?;
    }
    let old = req::git_docs(&o.repo, old_tag).ok();
    let list_dir = o.workspace.join(req::LIST_DIR);
    let diffs = req::diff_all_with(&docs, &list_dir, old.as_ref()).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&docs);
    let _ = writeln!(
        report,
        "\nrequirements list against the documents of {tag}{}:",
        if old.is_some() {
            format!(" (changed sentences paired with {old_tag}'s by content)")
        } else {
            String::new()
        }
    );
    report.push_str(&req::report(&diffs, false));
    if diffs.iter().all(req::DocDiff::is_current) {
        report.push_str("the requirements list matches the documents\n");
        return Ok(false);
    }
    let n = req::write_updates(&diffs, &list_dir, tag).map_err(|e| e.to_string())?;
    let _ = writeln!(
        report,
        "updated {n} list file(s); entries marked `review` need a person"
    );
    Ok(true)
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let d = std::env::temp_dir().join(format!("writ-bump-docs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    Ok(d)
}

pub const USAGE: &str = "usage: writ-codegen bump RUNTIME-SPEC-CHECKOUT [--tag TAG] [--shared DIR] [--workspace DIR] [--upstream NAME] [--no-requirements] [--prepare-only]
  RUNTIME-SPEC-CHECKOUT  a git clone of runtime-spec that has the tag
  --tag TAG              the release (default: the tag checked out there)
  --shared DIR           where release directories go (default: ../shared/oci-runtime-spec beside the workspace)
  --workspace DIR        the writ workspace (default: this one)
  --upstream NAME        recorded in SOURCE.txt (default: github.com/opencontainers/runtime-spec)
  --no-requirements      do not update the requirements list
  --prepare-only         only prepare <shared>/<tag>/
Prepares <shared>/<tag>/ (schemas + SOURCE.txt), pins them in spec/schema.lock, regenerates the
generated files and updates the requirements list (changed entries marked for review).";

/// `writ-codegen bump ...`; `args` after the subcommand name.
pub fn main(args: &[String], default_workspace: Option<PathBuf>) -> i32 {
    let mut repo: Option<PathBuf> = None;
    let mut o = BumpOptions {
        repo: PathBuf::new(),
        tag: None,
        workspace: default_workspace.unwrap_or_default(),
        shared: None,
        upstream: DEFAULT_UPSTREAM.to_owned(),
        requirements: true,
        prepare_only: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tag" | "--shared" | "--workspace" | "--upstream" => {
                let Some(v) = it.next() else {
                    eprintln!("writ-codegen bump: {a} needs a value\n{USAGE}");
                    return 2;
                };
                match a.as_str() {
                    "--tag" => o.tag = Some(v.clone()),
                    "--shared" => o.shared = Some(PathBuf::from(v)),
                    "--workspace" => o.workspace = PathBuf::from(v),
                    _ => o.upstream = v.clone(),
                }
            }
            "--no-requirements" => o.requirements = false,
            "--prepare-only" => o.prepare_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            other if !other.starts_with('-') && repo.is_none() => repo = Some(PathBuf::from(other)),
            other => {
                eprintln!("writ-codegen bump: unknown argument {other:?}\n{USAGE}");
                return 2;
            }
        }
    }
    let Some(repo) = repo else {
        eprintln!("writ-codegen bump: the runtime-spec checkout is required\n{USAGE}");
        return 2;
    };
    if o.workspace.as_os_str().is_empty() {
        eprintln!("writ-codegen bump: cannot find the workspace; pass --workspace DIR");
        return 2;
    }
    o.repo = repo;
    match bump(&o) {
        Ok(report) => {
            print!("{report}");
            0
        }
        Err(e) => {
            eprintln!("writ-codegen bump: {e}");
            1
        }
    }
}
