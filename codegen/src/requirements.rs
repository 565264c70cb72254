//! Requirements list: loading, the normative-sentence finder, spec-update diffs and the
//! generated requirement table.
//!
//! The list lives in `spec/requirements/*.toml` (format in `spec/requirements/README.md`):
//! one entry per normative keyword of the runtime-spec documents listed in [`DOCS`].
//! `writ-codegen requirements --spec-docs DIR [--write]` compares a runtime-spec
//! checkout with the list by fingerprint and reports (or writes) new, changed and retired
//! statements, keeping the hand-written fields of the ones that did not change.

mod finder;
mod toml_out;

pub use finder::{
    find_lower_case_keywords, find_statements, fingerprint, keyword_count, normalise,
    LowerCaseKeyword, Statement,
};

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::packed::Pool;

/// One upstream document covered by the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocInfo {
    /// Markdown file name upstream, e.g. `config-linux.md`.
    pub doc: &'static str,
    /// TOML file name in `spec/requirements/`.
    pub file: &'static str,
    /// First segment of every id in that file.
    pub prefix: &'static str,
    /// Platforms a new statement of this document applies to unless its text says otherwise.
    pub default_platforms: &'static [Platform],
}

/// The documents, in table order.
pub const DOCS: &[DocInfo] = &[
    DocInfo {
        doc: "bundle.md",
        file: "bundle.toml",
        prefix: "bundle",
        default_platforms: &[Platform::All],
    },
    DocInfo {
        doc: "runtime.md",
        file: "runtime.toml",
        prefix: "runtime",
        default_platforms: &[Platform::All],
    },
    DocInfo {
        doc: "runtime-linux.md",
        file: "runtime-linux.toml",
        prefix: "runtime_linux",
        default_platforms: &[Platform::Linux],
    },
    DocInfo {
        doc: "config.md",
        file: "config.toml",
        prefix: "config",
        default_platforms: &[Platform::All],
    },
    DocInfo {
        doc: "config-linux.md",
        file: "config-linux.toml",
        prefix: "config_linux",
        default_platforms: &[Platform::Linux],
    },
    DocInfo {
        doc: "features.md",
        file: "features.toml",
        prefix: "features",
        default_platforms: &[Platform::All],
    },
    DocInfo {
        doc: "features-linux.md",
        file: "features-linux.toml",
        prefix: "features_linux",
        default_platforms: &[Platform::Linux],
    },
];

/// Looks up a document by its markdown name.
pub fn doc_info(doc: &str) -> Option<&'static DocInfo> {
    DOCS.iter().find(|d| d.doc == doc)
}

/// RFC 2119 level of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    #[serde(rename = "REQUIRED")]
    Required,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    #[serde(rename = "RECOMMENDED")]
    Recommended,
    #[serde(rename = "NOT RECOMMENDED")]
    NotRecommended,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    /// All levels, strongest first.
    pub const ALL: [Level; 8] = [
        Level::Must,
        Level::MustNot,
        Level::Required,
        Level::Should,
        Level::ShouldNot,
        Level::Recommended,
        Level::NotRecommended,
        Level::May,
    ];

    /// The keyword as written in the spec and in the list.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Required => "REQUIRED",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::Recommended => "RECOMMENDED",
            Level::NotRecommended => "NOT RECOMMENDED",
            Level::May => "MAY",
        }
    }

    /// Name of the matching variant of `writ_spec::requirements::Level`.
    pub fn variant(self) -> &'static str {
        match self {
            Level::Must => "Must",
            Level::MustNot => "MustNot",
            Level::Required => "Required",
            Level::Should => "Should",
            Level::ShouldNot => "ShouldNot",
            Level::Recommended => "Recommended",
            Level::NotRecommended => "NotRecommended",
            Level::May => "May",
        }
    }
}

/// Platform a requirement applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    All,
    Linux,
    Windows,
    Solaris,
    Vm,
    Freebsd,
    Zos,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::All => "all",
            Platform::Linux => "linux",
            Platform::Windows => "windows",
            Platform::Solaris => "solaris",
            Platform::Vm => "vm",
            Platform::Freebsd => "freebsd",
            Platform::Zos => "zos",
        }
    }

    pub fn variant(self) -> &'static str {
        match self {
            Platform::All => "All",
            Platform::Linux => "Linux",
            Platform::Windows => "Windows",
            Platform::Solaris => "Solaris",
            Platform::Vm => "Vm",
            Platform::Freebsd => "Freebsd",
            Platform::Zos => "Zos",
        }
    }
}

/// How a requirement is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// The JSON schema (and so the generated types and validation) enforces it.
    Schema,
    /// A config rule the schema cannot express, checked by `writ validate`.
    Validate,
    /// Behaviour of the runtime.
    Runtime,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Schema => "schema",
            Check::Validate => "validate",
            Check::Runtime => "runtime",
        }
    }

    pub fn variant(self) -> &'static str {
        match self {
            Check::Schema => "Schema",
            Check::Validate => "Validate",
            Check::Runtime => "Runtime",
        }
    }
}

fn default_occurrence() -> u32 {
    1
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn line_u32(line: usize) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub level: Level,
    pub doc: String,
    pub anchor: String,
    /// Line of the sentence in the document at the pinned release (0: not recorded).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub line: u32,
    pub platforms: Vec<Platform>,
    pub summary: String,
    pub check: Check,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specerror: Option<String>,
    pub fingerprint: String,
    /// Which keyword of the sentence this entry is (1-based); a sentence with two
    /// keywords has two entries with the same fingerprint.
    #[serde(default = "default_occurrence")]
    pub occurrence: u32,
    /// The generated schema checks that enforce this requirement, as
    /// `"<JSON pointer pattern> <kind>"` (see [`crate::schema_ids`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<String>,
    /// Set by the update tool on new or changed entries; a person re-checks the entry and
    /// removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(default)]
    requirement: Vec<Requirement>,
}

/// Errors reading, checking or writing the list.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid requirements file: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: requirement {id:?}: {message}")]
    Invalid {
        path: PathBuf,
        id: String,
        message: String,
    },
    #[error("{path}: unexpected file in the requirements directory (expected only {expected})")]
    UnknownFile { path: PathBuf, expected: String },
}

/// The record of retired ids in the list directory.
pub const RETIRED_FILE: &str = "retired.toml";

/// An id the list dropped because the spec no longer has its sentence. Ids are never
/// reused; `#[requirement]`/`#[verifies]` naming one say when it was retired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retired {
    pub id: String,
    /// The first release whose documents no longer have the sentence.
    pub retired_in: String,
    pub doc: String,
    /// The entry's summary when it was retired.
    pub summary: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetiredFile {
    #[serde(default)]
    retired: Vec<Retired>,
}

/// The retired ids recorded in `dir` (none when the file does not exist).
pub fn load_retired(dir: &Path) -> Result<Vec<Retired>, Error> {
    let path = dir.join(RETIRED_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Read { path, source }),
    };
    let file: RetiredFile = toml::from_str(&text).map_err(|source| Error::Parse {
        path: path.clone(),
        source: Box::new(source),
    })?;
    Ok(file.retired)
}

/// The text of `retired.toml`.
pub fn render_retired(retired: &[Retired]) -> String {
    let mut out = String::from(
        "# Requirement ids the list has dropped because a release of the spec no longer has their\n\
         # sentence (written by `writ-codegen requirements --write`). An id here is never used\n\
         # again; #[requirement]/#[verifies] naming one fail to compile, saying when it went.\n",
    );
    for r in retired {
        out.push_str("\n[[retired]]\n");
        out.push_str(&format!("id = {}\n", toml_out::quote(&r.id)));
        out.push_str(&format!(
            "retired_in = {}\n",
            toml_out::quote(&r.retired_in)
        ));
        out.push_str(&format!("doc = {}\n", toml_out::quote(&r.doc)));
        out.push_str(&format!("summary = {}\n", toml_out::quote(&r.summary)));
    }
    out
}

/// Reads and checks one list file.
pub fn load_file(path: &Path, info: &DocInfo) -> Result<Vec<Requirement>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let list: ListFile = toml::from_str(&text).map_err(|source| Error::Parse {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    for r in &list.requirement {
        check_entry(r, info).map_err(|message| Error::Invalid {
            path: path.to_path_buf(),
            id: r.id.clone(),
            message,
        })?;
    }
    Ok(list.requirement)
}

/// Reads every list file of `dir` (a missing file is an empty list), in [`DOCS`] order
/// and document order inside each file, and checks the entries.
pub fn load(dir: &Path) -> Result<Vec<Requirement>, Error> {
    let read = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let expected: Vec<&str> = DOCS.iter().map(|d| d.file).collect();
    for entry in read {
        let entry = entry.map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".toml") && name != RETIRED_FILE && !expected.contains(&name.as_ref()) {
            return Err(Error::UnknownFile {
                path: entry.path(),
                expected: expected.join(", "),
            });
        }
    }
    let retired: HashMap<String, String> = load_retired(dir)?
        .into_iter()
        .map(|r| (r.id, r.retired_in))
        .collect();
    let mut all = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for info in DOCS {
        let path = dir.join(info.file);
        if !path.exists() {
            continue;
        }
        for r in load_file(&path, info)? {
            if let Some(first) = seen.get(&r.id) {
                return Err(Error::Invalid {
                    path,
                    id: r.id.clone(),
                    message: format!("duplicate id (first defined in {})", first.display()),
                });
            }
            if let Some(release) = retired.get(&r.id) {
                return Err(Error::Invalid {
                    path,
                    id: r.id.clone(),
                    message: format!(
                        "this id was retired in {release} ({RETIRED_FILE}); ids are never reused"
                    ),
                });
            }
            seen.insert(r.id.clone(), path.clone());
            all.push(r);
        }
    }
    Ok(all)
}

/// Checks that an id is `<prefix>.<section>[.<rule>...]` with lower-case segments.
pub fn check_id(id: &str, prefix: &str) -> Result<(), String> {
    let segments: Vec<&str> = id.split('.').collect();
    if segments.len() < 2 {
        return Err("an id has at least two dot-separated segments".to_string());
    }
    if segments[0] != prefix {
        return Err(format!("ids in this file start with {prefix:?}"));
    }
    for s in &segments {
        if s.is_empty() {
            return Err("empty segment in id".to_string());
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(format!("segment {s:?} may hold only a-z, 0-9, '_' and '-'"));
        }
    }
    Ok(())
}

fn check_entry(r: &Requirement, info: &DocInfo) -> Result<(), String> {
    check_id(&r.id, info.prefix)?;
    if r.doc != info.doc {
        return Err(format!(
            "doc is {:?} but this file is for {:?}",
            r.doc, info.doc
        ));
    }
    if r.anchor.is_empty() || r.anchor.chars().any(char::is_whitespace) {
        return Err("anchor must be a non-empty heading slug".to_string());
    }
    if r.platforms.is_empty() {
        return Err("platforms must not be empty".to_string());
    }
    if r.platforms.contains(&Platform::All) && r.platforms.len() > 1 {
        return Err("\"all\" cannot be combined with other platforms".to_string());
    }
    let mut uniq = HashSet::new();
    if !r.platforms.iter().all(|p| uniq.insert(*p)) {
        return Err("platform listed twice".to_string());
    }
    if r.summary.trim().is_empty() || r.summary.contains('\n') {
        return Err("summary must be one non-empty line".to_string());
    }
    if r.fingerprint.len() != 16
        || !r
            .fingerprint
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        return Err("fingerprint must be 16 lower-case hex digits".to_string());
    }
    if r.occurrence == 0 {
        return Err("occurrence counts from 1".to_string());
    }
    for (name, v) in [
        ("specerror", &r.specerror),
        ("waived", &r.waived),
        ("deviation", &r.deviation),
        ("review", &r.review),
    ] {
        if let Some(v) = v {
            if v.trim().is_empty() {
                return Err(format!("{name} must not be empty when present"));
            }
        }
    }
    for sel in &r.schema {
        crate::schema_ids::parse_selector(sel)?;
    }
    if let Some(code) = &r.specerror {
        if !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err("specerror must be a runtime-tools code name".to_string());
        }
    }
    Ok(())
}

/// The list file text for one document (the canonical format `--write` produces).
pub fn to_toml(info: &DocInfo, entries: &[Requirement]) -> String {
    toml_out::render_file(info, entries)
}

// ---------------------------------------------------------------------------------------
// Spec-update diff
// ---------------------------------------------------------------------------------------

/// What happened to one statement or entry between the list and the spec text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Same sentence (fingerprint and keyword); `moved` is set when the anchor, level or
    /// line recorded in the list differs and will be rewritten.
    Unchanged { entry: usize, moved: bool },
    /// A sentence whose text changed, matched to an old entry of the same section.
    Changed { entry: usize },
    /// A statement with no entry.
    New,
}

/// Comparison of one document with its list file.
#[derive(Debug, Clone)]
pub struct DocDiff {
    pub info: &'static DocInfo,
    /// Keywords counted in the document (plain upper-case words outside code blocks).
    pub keywords: usize,
    pub statements: Vec<Statement>,
    /// One per statement.
    pub changes: Vec<Change>,
    /// The entries of the list file, in file order.
    pub entries: Vec<Requirement>,
    /// Indices into `entries` of those no statement matches.
    pub retired: Vec<usize>,
    /// Sentences with a lower-case must/should/shall: not statements, listed for review.
    pub lower_case: Vec<LowerCaseKeyword>,
}

impl DocDiff {
    pub fn count(&self, f: impl Fn(&Change) -> bool) -> usize {
        self.changes.iter().filter(|c| f(c)).count()
    }

    /// True when the list file already matches the document.
    pub fn is_current(&self) -> bool {
        self.retired.is_empty()
            && self
                .changes
                .iter()
                .all(|c| matches!(c, Change::Unchanged { moved: false, .. }))
            && self.order_kept()
    }

    fn order_kept(&self) -> bool {
        let order: Vec<usize> = self
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Unchanged { entry, .. } | Change::Changed { entry } => Some(*entry),
                Change::New => None,
            })
            .collect();
        order.windows(2).all(|w| w[0] < w[1])
    }

    /// The entries the list file should hold for this document.
    pub fn updated_entries(&self) -> Vec<Requirement> {
        let mut used_ids: HashSet<String> = self.entries.iter().map(|e| e.id.clone()).collect();
        self.statements
            .iter()
            .zip(&self.changes)
            .map(|(s, c)| match c {
                Change::Unchanged { entry, .. } => {
                    let mut e = self.entries[*entry].clone();
                    e.anchor = s.anchor.clone();
                    e.level = s.level;
                    e.line = line_u32(s.line);
                    e
                }
                Change::Changed { entry } => {
                    let mut e = self.entries[*entry].clone();
                    e.anchor = s.anchor.clone();
                    e.level = s.level;
                    e.line = line_u32(s.line);
                    e.fingerprint = s.fingerprint.clone();
                    e.occurrence = s.occurrence;
                    e.review = Some(format!(
                        "changed upstream (line {}): re-check summary, level, check and platforms",
                        s.line
                    ));
                    e
                }
                Change::New => {
                    let e = placeholder(self.info, s, &used_ids);
                    used_ids.insert(e.id.clone());
                    e
                }
            })
            .collect()
    }
}

fn slug_segment(anchor: &str) -> String {
    let s: String = anchor
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "top".to_string()
    } else {
        s
    }
}

/// Platforms a statement applies to, guessed from its text for new entries.
pub fn guess_platforms(info: &DocInfo, sentence: &str) -> Vec<Platform> {
    let lower = sentence.to_ascii_lowercase();
    let marks: [(&str, Platform); 6] = [
        ("windows", Platform::Windows),
        ("hyper-v", Platform::Windows),
        ("solaris", Platform::Solaris),
        ("freebsd", Platform::Freebsd),
        ("z/os", Platform::Zos),
        ("virtual machine", Platform::Vm),
    ];
    let mut found: Vec<Platform> = Vec::new();
    for (word, p) in marks {
        if lower.contains(word) && !found.contains(&p) {
            found.push(p);
        }
    }
    if lower.contains("linux") && !found.is_empty() {
        found.insert(0, Platform::Linux);
    }
    if found.is_empty() {
        info.default_platforms.to_vec()
    } else {
        found
    }
}

fn placeholder(info: &DocInfo, s: &Statement, used: &HashSet<String>) -> Requirement {
    let base = format!(
        "{}.{}.new_{}_{}",
        info.prefix,
        slug_segment(&s.anchor),
        &s.fingerprint[..8],
        s.occurrence
    );
    let mut id = base.clone();
    let mut n = 2;
    while used.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    Requirement {
        id,
        level: s.level,
        doc: info.doc.to_string(),
        anchor: s.anchor.clone(),
        line: line_u32(s.line),
        platforms: guess_platforms(info, &s.sentence),
        summary: format!(
            "REVIEW: new {} statement at {} line {}",
            s.level.as_str(),
            info.doc,
            s.line
        ),
        check: Check::Runtime,
        specerror: None,
        fingerprint: s.fingerprint.clone(),
        occurrence: s.occurrence,
        schema: Vec::new(),
        waived: None,
        deviation: None,
        review: Some("new upstream statement: write id, summary, check and platforms".into()),
    }
}

fn words(s: &str) -> HashSet<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(|w| w.to_lowercase())
        .collect()
}

/// Share of the summary's words that occur in the sentence (0..=1).
fn overlap(summary: &str, sentence: &str) -> f64 {
    let a = words(summary);
    if a.is_empty() {
        return 0.0;
    }
    let b = words(sentence);
    a.intersection(&b).count() as f64 / a.len() as f64
}

/// Dice coefficient of two word sets (0..=1).
fn dice(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}

/// Least similarity for pairing a changed sentence with the old sentence of an entry.
pub const MIN_SENTENCE_SIMILARITY: f64 = 0.5;
/// Least share of an entry's summary words in a changed sentence, when the old sentence is
/// not known.
pub const MIN_SUMMARY_OVERLAP: f64 = 0.3;

/// Compares one document's statements with its list entries.
pub fn diff_doc(info: &'static DocInfo, markdown: &str, entries: Vec<Requirement>) -> DocDiff {
    diff_doc_with(info, markdown, entries, None)
}

/// Compares one document's statements with its list entries; `old_markdown`, the document
/// at the release the list was made from, gives each entry's old sentence (by fingerprint),
/// so that changed sentences are paired with entries by what they say.
///
/// Statements are matched to entries by (fingerprint, occurrence) first. What is left is
/// paired by content, best pair first over the whole section (not in document order): the
/// similarity of the old and the new sentence when the old one is known, else the share of
/// the entry's summary words the new sentence has. A level that stayed the same only breaks
/// ties: a rewording may well change MUST into MUST NOT.
pub fn diff_doc_with(
    info: &'static DocInfo,
    markdown: &str,
    entries: Vec<Requirement>,
    old_markdown: Option<&str>,
) -> DocDiff {
    let statements = find_statements(info.doc, markdown);
    let keywords = keyword_count(markdown);
    let mut by_key: HashMap<(String, u32), Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_key
            .entry((e.fingerprint.clone(), e.occurrence))
            .or_default()
            .push(i);
    }
    let mut used = vec![false; entries.len()];
    // Exact pass. The same sentence can stand in several sections ("This operation MUST
    // generate an error if ..."): prefer the entry of the same section, then document order.
    let mut changes: Vec<Option<Change>> = statements
        .iter()
        .map(|s| {
            let candidates = by_key.get(&(s.fingerprint.clone(), s.occurrence))?;
            let free = || candidates.iter().copied().filter(|i| !used[*i]);
            let i = free()
                .find(|i| entries[*i].anchor == s.anchor)
                .or_else(|| free().next())?;
            used[i] = true;
            let e = &entries[i];
            Some(Change::Unchanged {
                entry: i,
                moved: e.anchor != s.anchor || e.level != s.level || e.line != line_u32(s.line),
            })
        })
        .collect();
    // The old sentence of each entry, from the old document.
    let old_sentences: HashMap<String, String> = old_markdown
        .map(|md| {
            find_statements(info.doc, md)
                .into_iter()
                .map(|s| (s.fingerprint, s.sentence))
                .collect()
        })
        .unwrap_or_default();
    // Content pass: every left-over statement against every left-over entry of its
    // section, best pair first.
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (si, s) in statements.iter().enumerate() {
        if changes[si].is_some() {
            continue;
        }
        let new_words = words(&s.sentence);
        for (ei, e) in entries.iter().enumerate() {
            if used[ei] || e.anchor != s.anchor {
                continue;
            }
            let content = match old_sentences.get(&e.fingerprint) {
                Some(old) => {
                    let sim = dice(&words(old), &new_words);
                    if sim < MIN_SENTENCE_SIMILARITY {
                        continue;
                    }
                    sim
                }
                None => {
                    let sim = overlap(&e.summary, &s.sentence);
                    if sim < MIN_SUMMARY_OVERLAP {
                        continue;
                    }
                    sim
                }
            };
            let tie = if e.level == s.level { 0.001 } else { 0.0 };
            pairs.push((content + tie, si, ei));
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (_, si, ei) in pairs {
        if changes[si].is_some() || used[ei] {
            continue;
        }
        used[ei] = true;
        changes[si] = Some(Change::Changed { entry: ei });
    }
    let changes = changes
        .into_iter()
        .map(|c| c.unwrap_or(Change::New))
        .collect();
    let retired = (0..entries.len()).filter(|i| !used[*i]).collect();
    DocDiff {
        info,
        keywords,
        statements,
        changes,
        entries,
        retired,
        lower_case: find_lower_case_keywords(info.doc, markdown),
    }
}

/// Compares every document of a spec checkout with the list in `list_dir`.
pub fn diff_all(spec_docs: &Path, list_dir: &Path) -> Result<Vec<DocDiff>, Error> {
    diff_all_with(spec_docs, list_dir, None)
}

/// [`diff_all`], with the documents at the release the list was made from (`old_docs`:
/// markdown by document name) for pairing changed sentences by content.
pub fn diff_all_with(
    spec_docs: &Path,
    list_dir: &Path,
    old_docs: Option<&BTreeMap<String, String>>,
) -> Result<Vec<DocDiff>, Error> {
    let all = load(list_dir)?;
    let mut out = Vec::new();
    for info in DOCS {
        let path = spec_docs.join(info.doc);
        let markdown =
            std::fs::read_to_string(&path).map_err(|source| Error::Read { path, source })?;
        let old = old_docs.and_then(|m| m.get(info.doc)).map(String::as_str);
        let entries: Vec<Requirement> = all.iter().filter(|r| r.doc == info.doc).cloned().collect();
        out.push(diff_doc_with(info, &markdown, entries, old));
    }
    Ok(out)
}

/// The documents of directory `dir`, by name.
pub fn read_docs(dir: &Path) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for info in DOCS {
        let path = dir.join(info.doc);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read { path, source })?;
        out.insert(info.doc.to_owned(), text);
    }
    Ok(out)
}

/// The documents at revision `rev` of the git checkout `repo`, by name.
pub fn git_docs(repo: &Path, rev: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for info in DOCS {
        let bytes = crate::git::show(repo, rev, info.doc)?;
        out.insert(
            info.doc.to_owned(),
            String::from_utf8_lossy(&bytes).into_owned(),
        );
    }
    Ok(out)
}

/// Writes the updated list file of each document that is not current, and records the
/// ids that retire as retired in `release` (the release of the documents compared).
pub fn write_updates(diffs: &[DocDiff], list_dir: &Path, release: &str) -> Result<usize, Error> {
    let mut written = 0;
    let mut retired = load_retired(list_dir)?;
    let before = retired.len();
    for d in diffs {
        if d.is_current() {
            continue;
        }
        for i in &d.retired {
            let e = &d.entries[*i];
            if !retired.iter().any(|r| r.id == e.id) {
                retired.push(Retired {
                    id: e.id.clone(),
                    retired_in: release.to_owned(),
                    doc: e.doc.clone(),
                    summary: e.summary.clone(),
                });
            }
        }
        let text = to_toml(d.info, &d.updated_entries());
        write_atomic(&list_dir.join(d.info.file), &text)?;
        written += 1;
    }
    if retired.len() != before {
        write_atomic(&list_dir.join(RETIRED_FILE), &render_retired(&retired))?;
    }
    Ok(written)
}

/// Writes `text` to a temporary file next to `path` and renames it over `path`, so a
/// reader (the proc-macro, a concurrent build) never sees a half-written file.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).map_err(|source| Error::Write {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The human report of a diff.
pub fn report(diffs: &[DocDiff], verbose: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<18} {:>8} {:>10} {:>8} {:>9} {:>7} {:>5} {:>7}",
        "document", "keywords", "statements", "entries", "unchanged", "changed", "new", "retired"
    );
    for d in diffs {
        let _ = writeln!(
            out,
            "{:<18} {:>8} {:>10} {:>8} {:>9} {:>7} {:>5} {:>7}{}",
            d.info.doc,
            d.keywords,
            d.statements.len(),
            d.entries.len(),
            d.count(|c| matches!(c, Change::Unchanged { .. })),
            d.count(|c| matches!(c, Change::Changed { .. })),
            d.count(|c| matches!(c, Change::New)),
            d.retired.len(),
            if d.keywords == d.statements.len() {
                ""
            } else {
                "  (keyword count and statements differ: a keyword sits outside any sentence)"
            }
        );
    }
    for d in diffs {
        for (s, c) in d.statements.iter().zip(&d.changes) {
            match c {
                Change::Unchanged { entry, moved } => {
                    if *moved {
                        let e = &d.entries[*entry];
                        let _ = writeln!(
                            out,
                            "moved    {}:{} {} (anchor {} -> {}, level {} -> {}, line {} -> {})",
                            d.info.doc,
                            s.line,
                            e.id,
                            e.anchor,
                            s.anchor,
                            e.level.as_str(),
                            s.level.as_str(),
                            e.line,
                            s.line
                        );
                    } else if verbose {
                        let _ = writeln!(
                            out,
                            "same     {}:{} {}",
                            d.info.doc, s.line, d.entries[*entry].id
                        );
                    }
                }
                Change::Changed { entry } => {
                    let _ = writeln!(
                        out,
                        "changed  {}:{} {} [{}] {}",
                        d.info.doc,
                        s.line,
                        d.entries[*entry].id,
                        s.level.as_str(),
                        s.sentence
                    );
                }
                Change::New => {
                    let _ = writeln!(
                        out,
                        "new      {}:{} #{} [{}] {}",
                        d.info.doc,
                        s.line,
                        s.anchor,
                        s.level.as_str(),
                        s.sentence
                    );
                }
            }
        }
        for i in &d.retired {
            let e = &d.entries[*i];
            let _ = writeln!(
                out,
                "retired  {} {} [{}] {}",
                d.info.doc,
                e.id,
                e.level.as_str(),
                e.summary
            );
        }
    }
    let lower: Vec<&LowerCaseKeyword> = diffs.iter().flat_map(|d| &d.lower_case).collect();
    if !lower.is_empty() {
        let _ = writeln!(
            out,
            "\n{} sentence(s) use a keyword in lower case; RFC 2119 keywords count only in \
             capitals, so these are no statements. Review whether each is meant as one:",
            lower.len()
        );
        for l in lower {
            let _ = writeln!(
                out,
                "review   {}:{} #{} lower-case \"{}\": {}",
                l.doc,
                l.line,
                l.anchor,
                l.words.join("\", \""),
                l.sentence
            );
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Generated table
// ---------------------------------------------------------------------------------------

/// Path of the generated table, relative to the workspace root.
pub const TABLE_PATH: &str = "spec/src/generated/requirements.rs";
/// Path of the list, relative to the workspace root.
pub const LIST_DIR: &str = "spec/requirements";

/// The full text of `spec/src/generated/requirements.rs` for the list under
/// `workspace_root`, made from the docs of release `tag` (the tag of `spec/schema.lock`).
pub fn render_table(workspace_root: &Path, tag: &str) -> Result<String, String> {
    let list = load(&workspace_root.join(LIST_DIR)).map_err(|e| e.to_string())?;
    Ok(render_entries(&list, tag))
}

/// The table text for a loaded list, packed (see `writ_spec::packed`): the strings in one
/// text, each once; the distinct platform lists in one array; a record of integers per
/// entry, which `writ_spec::requirements` decodes into its `Requirement` on first use.
pub fn render_entries(list: &[Requirement], tag: &str) -> String {
    let mut pool = Pool::default();
    let mut platforms: Vec<Platform> = Vec::new();
    let mut records = String::new();
    for r in list {
        let at = platform_span(&mut platforms, &r.platforms);
        let _ = writeln!(
            records,
            "    Packed {{ id: {}, level: Level::{}, doc: {}, anchor: {}, line: {}, platforms: ({}, {}), \
             summary: {}, check: Check::{}, specerror: {}, fingerprint: {}, waived: {}, deviation: {} }},",
            pool.add(&r.id),
            r.level.variant(),
            pool.add(&r.doc),
            pool.add(&r.anchor),
            r.line,
            at.0,
            at.1,
            pool.add(&r.summary),
            r.check.variant(),
            pool.add_opt(r.specerror.as_deref()),
            pool.add(&r.fingerprint),
            pool.add_opt(r.waived.as_deref()),
            pool.add_opt(r.deviation.as_deref()),
        );
    }
    let mut out = String::new();
    out.push_str(
        "// @generated by writ-codegen from spec/requirements/*.toml, the requirements list of\n",
    );
    let _ = writeln!(
        out,
        "// OCI runtime-spec {tag}. Do not edit: change the list and regenerate."
    );
    out.push('\n');
    let _ = writeln!(out, "/// The strings of the table, each once.");
    let _ = writeln!(out, "static TEXT: &str = {};", pool.to_rust());
    out.push('\n');
    let _ = writeln!(out, "/// The platform lists of the table, each once.");
    let names: Vec<String> = platforms
        .iter()
        .map(|p| format!("Platform::{}", p.variant()))
        .collect();
    let _ = writeln!(
        out,
        "static PLATFORMS: [Platform; {}] = [{}];",
        names.len(),
        names.join(", ")
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "/// Every requirement of the list, in document order, packed."
    );
    let _ = writeln!(out, "static PACKED: [Packed; {}] = [", list.len());
    out.push_str(&records);
    out.push_str("];\n");
    out
}

/// Where `list` stands in `all` (start, length), appended unless it is there already.
fn platform_span(all: &mut Vec<Platform>, list: &[Platform]) -> (usize, usize) {
    let found = (0..=all.len().saturating_sub(list.len()))
        .find(|&i| all.get(i..i + list.len()) == Some(list));
    let start = found.unwrap_or_else(|| {
        all.extend_from_slice(list);
        all.len() - list.len()
    });
    (start, list.len())
}

// ---------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------

const USAGE: &str = "usage: writ-codegen requirements --spec-docs DIR [--old-spec-docs DIR] [--tag TAG] [--write] [--list] [--verbose] [--requirements DIR]
  --spec-docs DIR      directory holding the runtime-spec markdown (bundle.md, config.md, ...)
  --old-spec-docs DIR  the markdown of the release the list was made from: changed sentences
                       are then paired with entries by comparing old and new sentence
  --tag TAG            the release of --spec-docs (default: the git tag checked out there),
                       recorded for ids that retire
  --write              update spec/requirements/*.toml: keep unchanged entries, mark changed
                       ones for review, add placeholders for new statements, drop retired ones
                       (recorded in retired.toml)
  --list               print every normative statement found (doc, line, anchor, level, keyword
                       number, fingerprint, sentence) and exit
  --verbose            also list unchanged statements
  --requirements DIR   the list directory (default: this workspace's spec/requirements)
exit status: 0 when the list matches the documents (or was written), 1 when it differs, 2 on error";

/// The workspace this binary was built from.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `writ-codegen requirements ...`; `args` are the arguments after the subcommand name
/// (a leading `requirements` is skipped too).
pub fn main(args: &[String]) -> i32 {
    let mut args = args;
    if args.first().map(String::as_str) == Some("requirements") {
        args = &args[1..];
    }
    let mut spec_docs: Option<PathBuf> = None;
    let mut old_docs: Option<PathBuf> = None;
    let mut list_dir: Option<PathBuf> = None;
    let mut tag: Option<String> = None;
    let (mut write, mut list, mut verbose) = (false, false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--spec-docs" | "--old-spec-docs" | "--requirements" | "--tag" => {
                let Some(v) = it.next() else {
                    eprintln!("writ-codegen requirements: {a} needs a value\n{USAGE}");
                    return 2;
                };
                match a.as_str() {
                    "--spec-docs" => spec_docs = Some(PathBuf::from(v)),
                    "--old-spec-docs" => old_docs = Some(PathBuf::from(v)),
                    "--tag" => tag = Some(v.clone()),
                    _ => list_dir = Some(PathBuf::from(v)),
                }
            }
            "--write" => write = true,
            "--list" => list = true,
            "--verbose" | "-v" => verbose = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            other => {
                eprintln!("writ-codegen requirements: unknown argument {other:?}\n{USAGE}");
                return 2;
            }
        }
    }
    let Some(spec_docs) = spec_docs else {
        eprintln!("writ-codegen requirements: --spec-docs DIR is required\n{USAGE}");
        return 2;
    };
    if list {
        return list_statements(&spec_docs);
    }
    let list_dir = list_dir.unwrap_or_else(|| workspace_root().join(LIST_DIR));
    // The old sentences: from --old-spec-docs, else from the checkout at the pinned tag.
    let old = match &old_docs {
        Some(dir) => match read_docs(dir) {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("writ-codegen requirements: {e}");
                return 2;
            }
        },
        None => crate::generate::pinned_lock(&workspace_root())
            .ok()
            .and_then(|lock| git_docs(&spec_docs, &lock.tag).ok()),
    };
    if old.is_none() {
        println!(
            "(no documents of the pinned release: changed sentences are paired by the entries' \
             summaries; pass --old-spec-docs DIR to pair them by sentence)"
        );
    }
    let diffs = match diff_all_with(&spec_docs, &list_dir, old.as_ref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("writ-codegen requirements: {e}");
            return 2;
        }
    };
    print!("{}", report(&diffs, verbose));
    let current = diffs.iter().all(DocDiff::is_current);
    if current {
        println!("the requirements list matches the documents");
        return 0;
    }
    if !write {
        println!(
            "the requirements list differs from the documents; run again with --write to update it"
        );
        return 1;
    }
    let release = tag
        .or_else(|| crate::git::exact_tag(&spec_docs))
        .unwrap_or_else(|| "the release after the pinned one".to_owned());
    match write_updates(&diffs, &list_dir, &release) {
        Ok(n) => {
            println!(
                "updated {n} file(s) in {}; entries marked `review` need a person",
                list_dir.display()
            );
            0
        }
        Err(e) => {
            eprintln!("writ-codegen requirements: {e}");
            2
        }
    }
}

fn list_statements(spec_docs: &Path) -> i32 {
    for info in DOCS {
        let path = spec_docs.join(info.doc);
        let markdown = match std::fs::read_to_string(&path) {
            Ok(m) => m,
            Err(e) => {
                eprintln!(
                    "writ-codegen requirements: cannot read {}: {e}",
                    path.display()
                );
                return 2;
            }
        };
        for s in find_statements(info.doc, &markdown) {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                s.doc,
                s.line,
                s.anchor,
                s.level.as_str(),
                s.occurrence,
                s.fingerprint,
                s.sentence
            );
        }
    }
    0
}
