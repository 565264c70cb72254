//! Which requirement each generated schema check enforces.
//!
//! Every check the generated validation (`validate.rs`) makes sits at a *check point*: a JSON
//! pointer pattern (`*` for any array index or map key) and a kind (type, required member,
//! enum, minimum, maximum, pattern, minItems). [`check_points`] lists them by walking the
//! model from each document's root, exactly as [`crate::validate_gen`] emits them.
//!
//! A requirement with `schema = ["<pointer> <kind>", ...]` in `spec/requirements/*.toml`
//! names the check points that enforce it (`/process/rlimits/*/soft required`); a literal
//! key may stand for a map's `*` (`/annotations/org.opencontainers.image.os.version type`).
//! The pointer addresses the document of the entry's upstream file: `config.md` and
//! `config-linux.md` the config, `runtime.md` the state, `features.md` and
//! `features-linux.md` the features document. One entry per document carries `"** any"`: the
//! id every other finding of that document names (config: invalid values are an error;
//! state: the state follows its schema), so that every schema violation names a requirement.
//!
//! The result is rendered into `spec/src/generated/schema_ids.rs`: the rules a violation's id
//! is looked up in (most specific first; MAY entries are permissions and are never named by a
//! violation), the per-document defaults, and every id a generated check enforces. A
//! `check = "schema"` entry that is in none of them has no generated check behind it, and
//! `writ coverage` reports it as missing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::requirements::{Level, Requirement};
use crate::schema::{Kind, Model, Node};

/// The kinds of check the generated validation makes (names as in selectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckKind {
    Type,
    Required,
    Enum,
    Minimum,
    Maximum,
    Pattern,
    MinItems,
}

impl CheckKind {
    pub const ALL: [CheckKind; 7] = [
        CheckKind::Type,
        CheckKind::Required,
        CheckKind::Enum,
        CheckKind::Minimum,
        CheckKind::Maximum,
        CheckKind::Pattern,
        CheckKind::MinItems,
    ];

    /// The word used in selectors.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Type => "type",
            CheckKind::Required => "required",
            CheckKind::Enum => "enum",
            CheckKind::Minimum => "minimum",
            CheckKind::Maximum => "maximum",
            CheckKind::Pattern => "pattern",
            CheckKind::MinItems => "minItems",
        }
    }

    /// The variant of `writ_spec::validation::SchemaCheck`.
    pub fn variant(self) -> &'static str {
        match self {
            CheckKind::Type => "Type",
            CheckKind::Required => "Required",
            CheckKind::Enum => "Enum",
            CheckKind::Minimum => "Minimum",
            CheckKind::Maximum => "Maximum",
            CheckKind::Pattern => "Pattern",
            CheckKind::MinItems => "MinItems",
        }
    }

    fn parse(s: &str) -> Option<CheckKind> {
        CheckKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The three documents the schemas describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Document {
    Config,
    State,
    Features,
}

impl Document {
    pub const ALL: [Document; 3] = [Document::Config, Document::State, Document::Features];

    /// The root definition (see [`crate::schema::ROOTS`]).
    pub fn root(self) -> &'static str {
        match self {
            Document::Config => "Spec",
            Document::State => "State",
            Document::Features => "Features",
        }
    }

    /// The variant of `writ_spec::validation::Document`.
    pub fn variant(self) -> &'static str {
        match self {
            Document::Config => "Config",
            Document::State => "State",
            Document::Features => "Features",
        }
    }

    /// The document the schema selectors of an entry of upstream file `doc` address.
    pub fn of_spec_doc(doc: &str) -> Option<Document> {
        match doc {
            "config.md" | "config-linux.md" => Some(Document::Config),
            "runtime.md" => Some(Document::State),
            "features.md" | "features-linux.md" => Some(Document::Features),
            _ => None,
        }
    }
}

/// One segment of a pointer pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    /// A member name.
    Key(String),
    /// Any array index or map key.
    Any,
}

/// A pointer pattern as text: RFC 6901 tokens, `*` for [`Seg::Any`].
pub fn render_pointer(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        s.push('/');
        match seg {
            Seg::Any => s.push('*'),
            Seg::Key(k) => {
                for c in k.chars() {
                    match c {
                        '~' => s.push_str("~0"),
                        '/' => s.push_str("~1"),
                        c => s.push(c),
                    }
                }
            }
        }
    }
    s
}

fn parse_pointer(p: &str) -> Result<Vec<Seg>, String> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = p.strip_prefix('/') else {
        return Err(format!("pointer {p:?} must start with '/'"));
    };
    Ok(rest
        .split('/')
        .map(|t| {
            if t == "*" {
                Seg::Any
            } else {
                Seg::Key(t.replace("~1", "/").replace("~0", "~"))
            }
        })
        .collect())
}

/// A place where the generated validation checks something.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckPoint {
    pub pointer: Vec<Seg>,
    pub kind: CheckKind,
}

/// Every check point of `doc`, in walk order (the order the generated checks run in).
pub fn check_points(model: &Model, doc: Document) -> Result<Vec<CheckPoint>, String> {
    let root = model
        .get(doc.root())
        .ok_or_else(|| format!("the model has no {} definition", doc.root()))?;
    let mut w = Walker {
        model,
        out: Vec::new(),
        stack: Vec::new(),
    };
    w.stack.push(root.name.clone());
    w.node(&root.node, &mut Vec::new());
    Ok(w.out)
}

struct Walker<'a> {
    model: &'a Model,
    out: Vec<CheckPoint>,
    /// Definitions being walked (a recursive schema stops at the second visit).
    stack: Vec<String>,
}

impl Walker<'_> {
    fn push(&mut self, at: &[Seg], kind: CheckKind) {
        self.out.push(CheckPoint {
            pointer: at.to_vec(),
            kind,
        });
    }

    fn node(&mut self, node: &Node, at: &mut Vec<Seg>) {
        match &node.kind {
            Kind::Any => {}
            Kind::Bool | Kind::Number => self.push(at, CheckKind::Type),
            Kind::Integer { min, max } => {
                self.push(at, CheckKind::Type);
                let rust = crate::types::int_type(*min, *max).0;
                let (rmin, rmax) = crate::validate_gen::rust_range(rust);
                if min.is_some_and(|m| m > rmin) {
                    self.push(at, CheckKind::Minimum);
                }
                if max.is_some_and(|m| m < rmax) {
                    self.push(at, CheckKind::Maximum);
                }
            }
            Kind::String { pattern } => {
                self.push(at, CheckKind::Type);
                if pattern.is_some() {
                    self.push(at, CheckKind::Pattern);
                }
            }
            Kind::Enum { .. } => {
                self.push(at, CheckKind::Type);
                self.push(at, CheckKind::Enum);
            }
            Kind::Array { items, min_items } => {
                self.push(at, CheckKind::Type);
                if min_items.is_some() {
                    self.push(at, CheckKind::MinItems);
                }
                at.push(Seg::Any);
                self.node(items, at);
                at.pop();
            }
            Kind::Object {
                properties,
                required,
            } => {
                self.push(at, CheckKind::Type);
                for r in required {
                    at.push(Seg::Key(r.clone()));
                    self.push(at, CheckKind::Required);
                    at.pop();
                }
                for (key, sub) in properties {
                    at.push(Seg::Key(key.clone()));
                    self.node(sub, at);
                    at.pop();
                }
            }
            Kind::Map { value, .. } => {
                self.push(at, CheckKind::Type);
                at.push(Seg::Any);
                self.node(value, at);
                at.pop();
            }
            Kind::Ref(name) => {
                if self.stack.contains(name) {
                    return;
                }
                let Some(def) = self.model.get(name) else {
                    return;
                };
                self.stack.push(name.clone());
                self.node(&def.node, at);
                self.stack.pop();
            }
        }
    }
}

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `** any`: the id of every finding of the document no other rule names.
    Default,
    /// `<pointer> <kind>`.
    At { pointer: Vec<Seg>, kind: CheckKind },
}

/// Parses `"<pointer> <kind>"` or `"** any"`.
pub fn parse_selector(s: &str) -> Result<Selector, String> {
    let (pointer, kind) = s
        .trim()
        .rsplit_once(' ')
        .ok_or_else(|| format!("schema selector {s:?} is not \"<pointer> <kind>\""))?;
    let pointer = pointer.trim();
    if pointer == "**" {
        return if kind == "any" {
            Ok(Selector::Default)
        } else {
            Err(format!("schema selector {s:?}: \"**\" goes with \"any\""))
        };
    }
    let kind = CheckKind::parse(kind).ok_or_else(|| {
        let kinds: Vec<&str> = CheckKind::ALL.iter().map(|k| k.as_str()).collect();
        format!(
            "schema selector {s:?}: unknown check kind {kind:?} (one of {})",
            kinds.join(", ")
        )
    })?;
    Ok(Selector::At {
        pointer: parse_pointer(pointer).map_err(|e| format!("schema selector {s:?}: {e}"))?,
        kind,
    })
}

/// Whether selector pointer `sel` names the check point at `cp` (a literal key in the
/// selector may stand for a map's `*`).
pub fn selector_matches(sel: &[Seg], cp: &[Seg]) -> bool {
    sel.len() == cp.len()
        && sel.iter().zip(cp).all(|(s, c)| match (s, c) {
            (Seg::Any, Seg::Any) => true,
            (Seg::Any, Seg::Key(_)) => false,
            (Seg::Key(_), Seg::Any) => true,
            (Seg::Key(a), Seg::Key(b)) => a == b,
        })
}

/// One resolved rule: findings at `pointer` of `kind` name `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub document: Document,
    pub pointer: Vec<Seg>,
    pub kind: CheckKind,
    pub id: String,
}

impl Rule {
    fn wildcards(&self) -> usize {
        self.pointer.iter().filter(|s| **s == Seg::Any).count()
    }
}

/// What the selectors of the list resolve to.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Rules a violation's id is looked up in, most specific first.
    pub rules: Vec<Rule>,
    /// The id of every other finding, per document.
    pub defaults: BTreeMap<Document, String>,
    /// Every requirement a generated check enforces.
    pub enforced: BTreeSet<String>,
    /// Selectors that match no check point: (id, selector).
    pub unmatched: Vec<(String, String)>,
}

/// Resolves the `schema` selectors of `list` against the check points of `model`.
pub fn resolve(model: &Model, list: &[Requirement]) -> Result<Resolution, String> {
    let mut points: BTreeMap<Document, Vec<CheckPoint>> = BTreeMap::new();
    for doc in Document::ALL {
        points.insert(doc, check_points(model, doc)?);
    }
    let mut res = Resolution::default();
    for r in list {
        if r.schema.is_empty() {
            continue;
        }
        let doc = Document::of_spec_doc(&r.doc).ok_or_else(|| {
            format!(
                "{}: schema selectors on an entry of {}, which describes no schema document",
                r.id, r.doc
            )
        })?;
        for s in &r.schema {
            match parse_selector(s).map_err(|e| format!("{}: {e}", r.id))? {
                Selector::Default => {
                    if let Some(other) = res.defaults.insert(doc, r.id.clone()) {
                        return Err(format!(
                            "{} and {other} both claim \"** any\" for the {} document",
                            r.id,
                            doc.variant()
                        ));
                    }
                    res.enforced.insert(r.id.clone());
                }
                Selector::At { pointer, kind } => {
                    let hit = points[&doc]
                        .iter()
                        .any(|cp| cp.kind == kind && selector_matches(&pointer, &cp.pointer));
                    if !hit {
                        res.unmatched.push((r.id.clone(), s.clone()));
                        continue;
                    }
                    res.enforced.insert(r.id.clone());
                    // A permission (MAY) is enforced by the schema accepting it; no finding
                    // breaks it, so none names it.
                    if r.level != Level::May {
                        res.rules.push(Rule {
                            document: doc,
                            pointer,
                            kind,
                            id: r.id.clone(),
                        });
                    }
                }
            }
        }
    }
    for doc in Document::ALL {
        if !res.defaults.contains_key(&doc) {
            return Err(format!(
                "no requirement carries schema = [\"** any\"] for the {} document: every schema \
                 finding must name a requirement",
                doc.variant()
            ));
        }
    }
    // Most specific first: fewer wildcards, then document and list order (stable sort).
    res.rules.sort_by_key(|r| (r.document, r.wildcards()));
    Ok(res)
}

/// The text of `spec/src/generated/schema_ids.rs` (after the header).
pub fn render(res: &Resolution) -> String {
    let mut out = String::new();
    out.push_str(
        "\n//! Which requirement each generated schema check enforces: the `schema` selectors of\n\
         //! `spec/requirements/*.toml`, resolved against the checks of `validate.rs`.\n\n\
         use crate::validation::{Document, SchemaCheck, SchemaRule};\n\n",
    );
    out.push_str(
        "/// The id a schema violation names, most specific rule first (see\n\
         /// `validation::schema_requirement`).\n",
    );
    out.push_str("pub static SCHEMA_RULES: &[SchemaRule] = &[\n");
    for r in &res.rules {
        let _ = writeln!(
            out,
            "    SchemaRule {{ document: Document::{}, pointer: {:?}, check: SchemaCheck::{}, id: {:?} }},",
            r.document.variant(),
            render_pointer(&r.pointer),
            r.kind.variant(),
            r.id
        );
    }
    out.push_str("];\n\n");
    out.push_str("/// The id of a finding no rule names, per document.\n");
    out.push_str("pub const fn schema_default(document: Document) -> &'static str {\n");
    out.push_str("    match document {\n");
    for (doc, id) in &res.defaults {
        let _ = writeln!(out, "        Document::{} => {id:?},", doc.variant());
    }
    out.push_str("    }\n}\n\n");
    out.push_str("/// Every requirement a generated check enforces, sorted.\n");
    out.push_str("pub static SCHEMA_ENFORCED: &[&str] = &[\n");
    for id in &res.enforced {
        let _ = writeln!(out, "    {id:?},");
    }
    out.push_str("];\n");
    out
}
