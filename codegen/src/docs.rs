//! The documentation of the generated types, from the field table `spec/fields.toml` and the
//! requirements list.
//!
//! The schemas' `description`s are the spec's own sentences, so none of them reaches the
//! generated code. Instead every type, every member and every enum value has an entry in the
//! field table, written in our words: what it does, its unit and range, the requirement ids
//! that govern it and the section of the spec that defines it. The ids of an entry are those
//! it lists plus every requirement whose `schema` selectors name a check of that member (so
//! the schema's own rules are never left out). Codegen refuses a table that misses a type, a
//! member or a value, names one the schemas do not have, or names an unknown id.
//!
//! ```toml
//! [Root]
//! section = "config.md#root"
//! doc = "The container's root filesystem."
//!
//! [Root.fields.path]
//! doc = "Where the root filesystem is: an absolute path, or one relative to the bundle."
//! ids = ["config.root.path.exists"]
//!
//! [LinuxNamespaceType.values]
//! pid = "Process ids: the container's first process is pid 1."
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::requirements::Requirement;
use crate::schema::{Kind, Model, Node};
use crate::schema_ids::{parse_selector, selector_matches, Document, Seg, Selector};

/// Where the field table is, relative to the workspace root.
pub const FIELDS_FILE: &str = "spec/fields.toml";

/// The entry of one generated type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDoc {
    /// What the type is, in our words.
    pub doc: String,
    /// The section of the spec that defines it: `config.md#root`.
    pub section: String,
    /// Its members, by JSON name.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldDoc>,
    /// Its values (a closed set of strings), by JSON value.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// The entry of one member.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDoc {
    /// What it does, in our words.
    pub doc: String,
    /// The unit of a number (`bytes`, `seconds`, `microseconds`, ...).
    #[serde(default)]
    pub unit: Option<String>,
    /// The values it may take beyond what its type says (`0 to 7`, `absolute path`).
    #[serde(default)]
    pub range: Option<String>,
    /// Requirement ids that govern it (the schema's are added).
    #[serde(default)]
    pub ids: Vec<String>,
    /// A section other than the type's.
    #[serde(default)]
    pub section: Option<String>,
}

/// The loaded table, checked against the model and the list.
#[derive(Debug)]
pub struct Docs {
    table: BTreeMap<String, TypeDoc>,
    requirements: BTreeMap<String, Requirement>,
    /// List order of the ids (the order they are shown in).
    order: BTreeMap<String, usize>,
    /// Ids from schema selectors, per (type, member).
    from_schema: BTreeMap<(String, String), BTreeSet<String>>,
    tag: String,
}

/// Every pointer (pattern) at which each named definition occurs, walking from the roots.
fn occurrences(model: &Model) -> BTreeMap<String, Vec<(Document, Vec<Seg>)>> {
    fn walk(
        model: &Model,
        doc: Document,
        node: &Node,
        at: &mut Vec<Seg>,
        stack: &mut Vec<String>,
        out: &mut BTreeMap<String, Vec<(Document, Vec<Seg>)>>,
    ) {
        match &node.kind {
            Kind::Ref(name) => {
                if stack.contains(name) {
                    return;
                }
                out.entry(name.clone()).or_default().push((doc, at.clone()));
                if let Some(def) = model.get(name) {
                    stack.push(name.clone());
                    walk(model, doc, &def.node, at, stack, out);
                    stack.pop();
                }
            }
            Kind::Array { items, .. } => {
                at.push(Seg::Any);
                walk(model, doc, items, at, stack, out);
                at.pop();
            }
            Kind::Map { value, .. } => {
                at.push(Seg::Any);
                walk(model, doc, value, at, stack, out);
                at.pop();
            }
            Kind::Object { properties, .. } => {
                for (key, sub) in properties {
                    at.push(Seg::Key(key.clone()));
                    walk(model, doc, sub, at, stack, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for doc in Document::ALL {
        if let Some(root) = model.get(doc.root()) {
            out.entry(root.name.clone())
                .or_insert_with(Vec::new)
                .push((doc, Vec::new()));
            let mut stack = vec![root.name.clone()];
            walk(
                model,
                doc,
                &root.node,
                &mut Vec::new(),
                &mut stack,
                &mut out,
            );
        }
    }
    out
}

/// The pointers a member's own checks sit at: the member, and its items when it is an
/// array or map of plain values.
fn member_pointers(at: &[Seg], key: &str, node: &Node) -> Vec<Vec<Seg>> {
    let mut p = at.to_vec();
    p.push(Seg::Key(key.to_owned()));
    let mut out = vec![p.clone()];
    if let Kind::Array { items: inner, .. } | Kind::Map { value: inner, .. } = &node.kind {
        if !matches!(inner.kind, Kind::Ref(_)) {
            p.push(Seg::Any);
            out.push(p);
        }
    }
    out
}

/// The documents of the spec a section may be in: those of the requirements list and the
/// other platforms' configuration documents.
const SPEC_DOCS: [&str; 5] = [
    "config-windows.md",
    "config-solaris.md",
    "config-vm.md",
    "config-zos.md",
    "config-freebsd.md",
];

fn check_section(section: &str, what: &str) -> Result<(), String> {
    let (doc, anchor) = section
        .split_once('#')
        .ok_or_else(|| format!("{what}: section {section:?} is not \"<doc>.md#<anchor>\""))?;
    let known = crate::requirements::doc_info(doc).is_some() || SPEC_DOCS.contains(&doc);
    if !known || anchor.is_empty() {
        return Err(format!(
            "{what}: section {section:?} names no document of the spec"
        ));
    }
    Ok(())
}

impl Docs {
    /// Reads `spec/fields.toml` under `root` and checks it covers exactly the model.
    pub fn load(
        root: &Path,
        model: &Model,
        list: &[Requirement],
        tag: &str,
    ) -> Result<Self, String> {
        let path = root.join(FIELDS_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read the field table {}: {e}", path.display()))?;
        let table: BTreeMap<String, TypeDoc> =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::new(table, model, list, tag).map_err(|problems| {
            format!(
                "{} does not document the generated types exactly ({} problem(s)):\n  {}",
                path.display(),
                problems.len(),
                problems.join("\n  ")
            )
        })
    }

    /// Checks `table` against the model and the list; every problem found.
    pub fn new(
        table: BTreeMap<String, TypeDoc>,
        model: &Model,
        list: &[Requirement],
        tag: &str,
    ) -> Result<Self, Vec<String>> {
        let requirements: BTreeMap<String, Requirement> =
            list.iter().map(|r| (r.id.clone(), r.clone())).collect();
        let order = list
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let mut problems = Vec::new();
        for def in &model.definitions {
            let Some(entry) = table.get(&def.name) else {
                problems.push(format!("[{}] is missing ({})", def.name, def.location));
                continue;
            };
            let what = format!("[{}]", def.name);
            if let Err(e) = check_section(&entry.section, &what) {
                problems.push(e);
            }
            if entry.doc.trim().is_empty() {
                problems.push(format!("{what}: empty doc"));
            }
            let (members, values): (Vec<&str>, Vec<&str>) = match &def.node.kind {
                Kind::Object { properties, .. } => (
                    properties.iter().map(|(k, _)| k.as_str()).collect(),
                    Vec::new(),
                ),
                Kind::Enum { values } => {
                    let mut all: Vec<&str> = values.iter().map(String::as_str).collect();
                    if let Some((extra, _)) = crate::types::enum_extension(&def.location) {
                        all.extend(extra.iter().copied());
                    }
                    (Vec::new(), all)
                }
                _ => (Vec::new(), Vec::new()),
            };
            for m in &members {
                match entry.fields.get(*m) {
                    None => problems.push(format!("[{}.fields.{m}] is missing", def.name)),
                    Some(f) => {
                        let what = format!("[{}.fields.{m}]", def.name);
                        if f.doc.trim().is_empty() {
                            problems.push(format!("{what}: empty doc"));
                        }
                        if let Some(s) = &f.section {
                            if let Err(e) = check_section(s, &what) {
                                problems.push(e);
                            }
                        }
                        for id in &f.ids {
                            if !requirements.contains_key(id) {
                                problems.push(format!("{what}: unknown requirement id {id:?}"));
                            }
                        }
                    }
                }
            }
            for f in entry.fields.keys() {
                if !members.contains(&f.as_str()) {
                    problems.push(format!(
                        "[{}.fields.{f}]: the schema has no such member",
                        def.name
                    ));
                }
            }
            for v in &values {
                if !entry.values.contains_key(*v) {
                    problems.push(format!("[{}.values] has no entry for {v:?}", def.name));
                }
            }
            for v in entry.values.keys() {
                if !values.contains(&v.as_str()) {
                    problems.push(format!(
                        "[{}.values]: the schema has no value {v:?}",
                        def.name
                    ));
                }
            }
        }
        for name in table.keys() {
            if model.get(name).is_none() {
                problems.push(format!("[{name}]: no generated type has this name"));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        // The ids the schema selectors give each member.
        let places = occurrences(model);
        let mut selectors: Vec<(Document, Vec<Seg>, String)> = Vec::new();
        for r in list {
            let Some(doc) = Document::of_spec_doc(&r.doc) else {
                continue;
            };
            for s in &r.schema {
                if let Ok(Selector::At { pointer, .. }) = parse_selector(s) {
                    selectors.push((doc, pointer, r.id.clone()));
                }
            }
        }
        let mut from_schema: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for def in &model.definitions {
            let Kind::Object { properties, .. } = &def.node.kind else {
                continue;
            };
            for (key, node) in properties {
                for (doc, at) in places.get(&def.name).into_iter().flatten() {
                    for p in member_pointers(at, key, node) {
                        for (sdoc, sel, id) in &selectors {
                            if sdoc == doc && selector_matches(sel, &p) {
                                from_schema
                                    .entry((def.name.clone(), key.clone()))
                                    .or_default()
                                    .insert(id.clone());
                            }
                        }
                    }
                }
            }
        }
        Ok(Self {
            table,
            requirements,
            order,
            from_schema,
            tag: tag.to_owned(),
        })
    }

    fn section_link(&self, section: &str) -> String {
        let (doc, anchor) = section.split_once('#').unwrap_or((section, ""));
        format!(
            "[{section}](https://github.com/opencontainers/runtime-spec/blob/{}/{doc}#{anchor})",
            self.tag
        )
    }

    fn id_link(&self, id: &str) -> String {
        match self.requirements.get(id) {
            Some(r) => {
                let url = if r.line == 0 {
                    format!(
                        "https://github.com/opencontainers/runtime-spec/blob/{}/{}#{}",
                        self.tag, r.doc, r.anchor
                    )
                } else {
                    format!(
                        "https://github.com/opencontainers/runtime-spec/blob/{}/{}?plain=1#L{}",
                        self.tag, r.doc, r.line
                    )
                };
                format!("[`{id}`]({url}) ({})", r.level.as_str())
            }
            None => format!("`{id}`"),
        }
    }

    /// The documentation of type `name` (`location`: its schema location).
    pub fn type_doc(&self, name: &str, location: &str) -> Option<String> {
        let t = self.table.get(name)?;
        let mut doc = t.doc.trim().to_owned();
        doc.push_str(&format!(
            "\n\nSpec: {}. Schema: `{location}`.",
            self.section_link(&t.section)
        ));
        Some(doc)
    }

    /// The documentation of member `key` of type `name`.
    pub fn field_doc(&self, name: &str, key: &str) -> Option<String> {
        let t = self.table.get(name)?;
        let f = t.fields.get(key)?;
        let mut doc = f.doc.trim().to_owned();
        let mut facts = Vec::new();
        if let Some(u) = &f.unit {
            facts.push(format!("Unit: {u}."));
        }
        if let Some(r) = &f.range {
            facts.push(format!("Range: {r}."));
        }
        if !facts.is_empty() {
            doc.push_str("\n\n");
            doc.push_str(&facts.join(" "));
        }
        let mut ids: Vec<&str> = f.ids.iter().map(String::as_str).collect();
        if let Some(s) = self.from_schema.get(&(name.to_owned(), key.to_owned())) {
            ids.extend(s.iter().map(String::as_str));
        }
        ids.sort_by_key(|id| self.order.get(*id).copied().unwrap_or(usize::MAX));
        ids.dedup();
        if !ids.is_empty() {
            let links: Vec<String> = ids.iter().map(|id| self.id_link(id)).collect();
            doc.push_str("\n\nRequirements: ");
            doc.push_str(&links.join(", "));
            doc.push('.');
        }
        let section = f.section.as_deref().unwrap_or(&t.section);
        doc.push_str(&format!("\n\nSpec: {}.", self.section_link(section)));
        Some(doc)
    }

    /// The documentation of value `value` of enum type `name`.
    pub fn value_doc(&self, name: &str, value: &str) -> Option<String> {
        self.table
            .get(name)?
            .values
            .get(value)
            .map(|d| d.trim().to_owned())
    }

    /// Every requirement id some member names (listed or from the schema).
    pub fn named_ids(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self
            .table
            .values()
            .flat_map(|t| t.fields.values())
            .flat_map(|f| f.ids.iter().cloned())
            .collect();
        out.extend(self.from_schema.values().flatten().cloned());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Definition;

    fn node(kind: Kind) -> Node {
        Node {
            description: Some("the spec's own sentence".into()),
            kind,
        }
    }

    fn model() -> Model {
        Model {
            definitions: vec![
                Definition {
                    name: "Spec".into(),
                    location: "config-schema.json#".into(),
                    node: node(Kind::Object {
                        properties: vec![
                            ("ociVersion".into(), node(Kind::String { pattern: None })),
                            ("mode".into(), node(Kind::Ref("Mode".into()))),
                        ],
                        required: vec!["ociVersion".into()],
                    }),
                },
                Definition {
                    name: "Mode".into(),
                    location: "defs.json#/definitions/Mode".into(),
                    node: node(Kind::Enum {
                        values: vec!["on".into(), "off".into()],
                    }),
                },
            ],
            unnamed: Vec::new(),
        }
    }

    fn table(text: &str) -> BTreeMap<String, TypeDoc> {
        toml::from_str(text).unwrap()
    }

    const GOOD: &str = r#"
[Spec]
section = "config.md#configuration"
doc = "A config."
[Spec.fields.ociVersion]
doc = "The version."
unit = "none"
range = "SemVer"
ids = ["config.oci_version.semver"]
[Spec.fields.mode]
doc = "A mode."
section = "config.md#root"
[Mode]
section = "config.md#root"
doc = "Modes."
[Mode.values]
on = "On."
off = "Off."
"#;

    fn list() -> Vec<Requirement> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/requirements");
        crate::requirements::load(&dir).unwrap()
    }

    #[test]
    fn a_complete_table_documents_members_with_units_ids_and_links() {
        let docs = Docs::new(table(GOOD), &model(), &list(), "v9.9.9").unwrap();
        let d = docs.field_doc("Spec", "ociVersion").unwrap();
        assert!(
            d.starts_with("The version.\n\nUnit: none. Range: SemVer."),
            "{d}"
        );
        assert!(d.contains("[`config.oci_version.semver`](https://github.com/opencontainers/runtime-spec/blob/v9.9.9/config.md?plain=1#L"), "{d}");
        assert!(d.contains("(MUST)"), "{d}");
        assert!(d.ends_with("Spec: [config.md#configuration](https://github.com/opencontainers/runtime-spec/blob/v9.9.9/config.md#configuration)."), "{d}");
        // The schema's own selectors add their ids (ociVersion required).
        assert!(d.contains("config.oci_version.required"), "{d}");
        assert!(!d.contains("the spec's own sentence"));
        let t = docs.type_doc("Spec", "config-schema.json#").unwrap();
        assert!(
            t.starts_with("A config.\n\nSpec: [config.md#configuration]"),
            "{t}"
        );
        assert_eq!(docs.value_doc("Mode", "off").as_deref(), Some("Off."));
        assert!(docs
            .field_doc("Spec", "mode")
            .unwrap()
            .contains("config.md#root"));
    }

    #[test]
    fn a_gap_or_a_stray_entry_is_refused_by_name() {
        let bad = GOOD
            .replace(
                "[Spec.fields.mode]\ndoc = \"A mode.\"",
                "[Spec.fields.mood]\ndoc = \"A mood.\"",
            )
            .replace("off = \"Off.\"", "of = \"Of.\"")
            .replace("config.oci_version.semver", "config.no.such")
            .replace(
                "section = \"config.md#root\"\ndoc = \"Modes.\"",
                "section = \"nowhere.md#x\"\ndoc = \"Modes.\"",
            );
        let problems = Docs::new(table(&bad), &model(), &list(), "v1").unwrap_err();
        let all = problems.join("\n");
        for want in [
            "[Spec.fields.mode] is missing",
            "[Spec.fields.mood]: the schema has no such member",
            "unknown requirement id \"config.no.such\"",
            "[Mode.values] has no entry for \"off\"",
            "[Mode.values]: the schema has no value \"of\"",
            "section \"nowhere.md#x\" names no document",
        ] {
            assert!(all.contains(want), "{want} not in:\n{all}");
        }
        let mut missing_type = table(GOOD);
        missing_type.remove("Mode");
        let problems = Docs::new(missing_type, &model(), &list(), "v1").unwrap_err();
        assert_eq!(
            problems,
            ["[Mode] is missing (defs.json#/definitions/Mode)"]
        );
    }
}
