//! Loading the pinned schema files, checking them against `spec/schema.lock`, applying the
//! errata of the pinned tag, and normalising the multi-file schemas into one model that both
//! the type generator (via typify) and the validation generator read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::names;

/// Errors while reading or normalising the schemas.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("schema lock {path}: {message}")]
    Lock { path: PathBuf, message: String },
    #[error("schema file {file} does not match spec/schema.lock: locked sha256 {locked}, found {found} (run `writ-codegen bump` if the spec moved on purpose)")]
    HashMismatch {
        file: String,
        locked: String,
        found: String,
    },
    #[error("schema file {file} is listed in spec/schema.lock but missing from {dir}")]
    Missing { file: String, dir: PathBuf },
    #[error("schema file {file} in {dir} is not listed in spec/schema.lock (run `writ-codegen bump` if the spec moved on purpose)")]
    Unlisted { file: String, dir: PathBuf },
    #[error("{location}: {message}")]
    Schema { location: String, message: String },
}

/// The contents of `spec/schema.lock`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SchemaLock {
    /// The upstream tag the schemas come from.
    pub tag: String,
    /// The upstream commit of that tag.
    pub commit: String,
    /// sha256 of every schema file, by file name.
    pub files: BTreeMap<String, String>,
}

impl SchemaLock {
    pub fn read(path: &Path) -> Result<Self, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Io {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| SchemaError::Lock {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Pinned OCI runtime-spec schemas: the one place the spec version is written (codegen\n\
             # generates the version constants and everything else from it). writ-codegen refuses\n\
             # schema files whose sha256 differs from these. Move to another release with\n\
             # `cargo run -p writ-codegen -- bump <runtime-spec checkout> --tag <tag>`.\n",
        );
        out.push_str(&format!(
            "tag = {:?}\ncommit = {:?}\n\n[files]\n",
            self.tag, self.commit
        ));
        for (file, hash) in &self.files {
            out.push_str(&format!("{file:?} = {hash:?}\n"));
        }
        out
    }
}

/// One loaded schema file.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub name: String,
    pub sha256: String,
    pub json: Value,
}

/// All schema files of one spec version, errata applied.
#[derive(Debug, Clone)]
pub struct SchemaSet {
    pub files: BTreeMap<String, SchemaFile>,
    /// The errata that were applied (one line each).
    pub applied_errata: Vec<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read `tag:` and `commit:` from the SOURCE.txt next to the schema directory.
pub fn read_source_txt(schema_dir: &Path) -> Result<(String, String), SchemaError> {
    let path = schema_dir
        .parent()
        .map(|p| p.join("SOURCE.txt"))
        .unwrap_or_else(|| PathBuf::from("SOURCE.txt"));
    let text = std::fs::read_to_string(&path).map_err(|source| SchemaError::Io {
        path: path.clone(),
        source,
    })?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
            .ok_or_else(|| SchemaError::Lock {
                path: path.clone(),
                message: format!("no `{key}` line"),
            })
    };
    Ok((field("tag:")?, field("commit:")?))
}

/// Load every `*.json` file of `dir`, hash it, and compare with `lock` (when given).
pub fn load(dir: &Path, lock: Option<&SchemaLock>) -> Result<SchemaSet, SchemaError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SchemaError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|source| SchemaError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if !name.ends_with(".json") {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|source| SchemaError::Io {
            path: path.clone(),
            source,
        })?;
        let sha256 = sha256_hex(&bytes);
        let json = serde_json::from_slice(&bytes).map_err(|source| SchemaError::Json {
            path: path.clone(),
            source,
        })?;
        files.insert(name.clone(), SchemaFile { name, sha256, json });
    }
    if let Some(lock) = lock {
        for (file, locked) in &lock.files {
            match files.get(file) {
                None => {
                    return Err(SchemaError::Missing {
                        file: file.clone(),
                        dir: dir.to_owned(),
                    })
                }
                Some(f) if &f.sha256 != locked => {
                    return Err(SchemaError::HashMismatch {
                        file: file.clone(),
                        locked: locked.clone(),
                        found: f.sha256.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = files.keys().find(|f| !lock.files.contains_key(*f)) {
            return Err(SchemaError::Unlisted {
                file: extra.clone(),
                dir: dir.to_owned(),
            });
        }
    }
    let mut set = SchemaSet {
        files,
        applied_errata: Vec::new(),
    };
    apply_errata(&mut set);
    Ok(set)
}

/// A known mistake in a released schema, fixed in code until a tag carries the upstream fix.
pub struct Erratum {
    pub file: &'static str,
    /// What is wrong and which upstream commit fixes it.
    pub summary: &'static str,
    /// The line of SOURCE.txt that records it (after the file name).
    pub source_note: &'static str,
    /// The upstream commit that fixes it.
    pub fixed_by: &'static str,
    /// Returns true when it changed something (the broken form was present).
    pub fix: fn(&mut Value) -> bool,
}

/// The errata writ-codegen knows, applied when the broken form is present.
pub static ERRATA: &[Erratum] = &[
    Erratum {
        file: "defs.json",
        summary: "ArrayOfUint32.items $ref \"#definitions/uint32\" lacks the '/' (fixed upstream by \
                  runtime-spec commit 04836b1e7ae1286ef9b56129a8748aa5e4e5bc36)",
        source_note: "ArrayOfUint32.items \"$ref\": \"#definitions/uint32\" (missing \"/\"; main \
                      04836b1e7ae1286ef9b56129a8748aa5e4e5bc36)",
        fixed_by: "04836b1e7ae1286ef9b56129a8748aa5e4e5bc36",
        fix: fix_array_of_uint32_ref,
    },
    Erratum {
        file: "config-vm.json",
        summary: "vm.hwConfig.iomems uses the tuple form \"items\": [ {...} ] where one item schema is \
                  meant (fixed upstream by runtime-spec commit 4361740b602e412827646dbe53f671a0a8905edb)",
        source_note: "vm.hwConfig.iomems \"items\": [ {...} ] (draft-04 tuple form; main \
                      4361740b602e412827646dbe53f671a0a8905edb makes it \"items\": {...})",
        fixed_by: "4361740b602e412827646dbe53f671a0a8905edb",
        fix: fix_iomems_items,
    },
];

/// The errata present in the schema file `name` with contents `json`.
pub fn errata_in(name: &str, json: &Value) -> Vec<&'static Erratum> {
    ERRATA
        .iter()
        .filter(|e| e.file == name && (e.fix)(&mut json.clone()))
        .collect()
}

// Upstream 04836b1e7ae1286ef9b56129a8748aa5e4e5bc36.
fn fix_array_of_uint32_ref(v: &mut Value) -> bool {
    match v.pointer_mut("/definitions/ArrayOfUint32/items/$ref") {
        Some(r) if r == "#definitions/uint32" => {
            *r = Value::String("#/definitions/uint32".into());
            true
        }
        _ => false,
    }
}

// Upstream 4361740b602e412827646dbe53f671a0a8905edb.
fn fix_iomems_items(v: &mut Value) -> bool {
    match v.pointer_mut("/vm/properties/hwConfig/properties/iomems/items") {
        Some(items) => match items {
            Value::Array(a) if a.len() == 1 => {
                let one = a.remove(0);
                *items = one;
                true
            }
            _ => false,
        },
        None => false,
    }
}

fn apply_errata(set: &mut SchemaSet) {
    for e in ERRATA {
        if let Some(f) = set.files.get_mut(e.file) {
            if (e.fix)(&mut f.json) {
                set.applied_errata
                    .push(format!("{}: {}", e.file, e.summary));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The normalised model.

/// A normalised schema node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub description: Option<String>,
    pub kind: Kind,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Any JSON value.
    Any,
    Bool,
    Number,
    Integer {
        min: Option<i128>,
        max: Option<i128>,
    },
    String {
        pattern: Option<String>,
    },
    /// A closed set of strings (always a named definition).
    Enum {
        values: Vec<String>,
    },
    Array {
        items: Box<Node>,
        min_items: Option<u64>,
    },
    /// An object with declared properties (always a named definition).
    Object {
        properties: Vec<(String, Node)>,
        required: Vec<String>,
    },
    /// An object used as a map: every value matches `value`; keys match `key_pattern` when set.
    Map {
        value: Box<Node>,
        key_pattern: Option<String>,
    },
    /// A reference to a named definition.
    Ref(String),
}

/// A named type.
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: String,
    /// `file#/pointer` the definition comes from.
    pub location: String,
    pub node: Node,
}

/// The whole normalised schema: named definitions and the three documents' root names.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub definitions: Vec<Definition>,
    /// Locations that had no entry in [`names::TYPE_NAMES`] (named by fallback).
    pub unnamed: Vec<String>,
}

impl Model {
    pub fn get(&self, name: &str) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.name == name)
    }
}

/// Root documents: (file, Rust name).
pub const ROOTS: &[(&str, &str)] = &[
    ("config-schema.json", "Spec"),
    ("state-schema.json", "State"),
    ("features-schema.json", "Features"),
];

struct Normaliser<'a> {
    set: &'a SchemaSet,
    model: Model,
    by_location: BTreeMap<String, String>,
    in_progress: Vec<String>,
}

fn upper_camel(s: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

impl<'a> Normaliser<'a> {
    fn lookup(&self, file: &str, ptr: &str) -> Result<&'a Value, SchemaError> {
        let f = self
            .set
            .files
            .get(file)
            .ok_or_else(|| SchemaError::Schema {
                location: format!("{file}#{ptr}"),
                message: format!("reference to missing schema file {file}"),
            })?;
        f.json.pointer(ptr).ok_or_else(|| SchemaError::Schema {
            location: format!("{file}#{ptr}"),
            message: "reference target does not exist".into(),
        })
    }

    fn resolve_ref(&self, file: &str, r: &str) -> Result<(String, String), SchemaError> {
        let (f, ptr) = match r.split_once('#') {
            Some(("", p)) => (file.to_owned(), p.to_owned()),
            Some((f, p)) => (f.to_owned(), p.to_owned()),
            None => (r.to_owned(), String::new()),
        };
        if !ptr.is_empty() && !ptr.starts_with('/') {
            return Err(SchemaError::Schema {
                location: format!("{file}: $ref {r}"),
                message: "JSON pointer in $ref must start with '/'".into(),
            });
        }
        Ok((f, ptr))
    }

    /// Whether a schema value becomes a named definition.
    fn is_nameable(v: &Value) -> bool {
        v.get("properties").is_some() || v.get("allOf").is_some() || v.get("enum").is_some()
    }

    fn description(v: &Value) -> Option<String> {
        v.get("description")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Normalise the schema at `file#ptr`; `hint` names it when the table has no entry.
    fn node(
        &mut self,
        file: &str,
        ptr: &str,
        v: &'a Value,
        hint: &str,
    ) -> Result<Node, SchemaError> {
        let loc = format!("{file}#{ptr}");
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let (tf, tp) = self.resolve_ref(file, r)?;
            let target = self.lookup(&tf, &tp)?;
            let mut n = self.node(&tf, &tp, target, hint)?;
            if let Some(d) = Self::description(v) {
                n.description = Some(d);
            }
            return Ok(n);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = v.get(key).and_then(Value::as_array) {
                if alts.len() != 1 {
                    return Err(SchemaError::Schema {
                        location: loc,
                        message: format!("{key} with {} alternatives is not supported", alts.len()),
                    });
                }
                let mut n = self.node(file, &format!("{ptr}/{key}/0"), &alts[0], hint)?;
                if let Some(d) = Self::description(v) {
                    n.description = Some(d);
                }
                return Ok(n);
            }
        }
        if Self::is_nameable(v) {
            let name = self.define(file, ptr, v, hint)?;
            return Ok(Node {
                description: Self::description(v),
                kind: Kind::Ref(name),
            });
        }
        self.anonymous(file, ptr, v, hint)
    }

    fn anonymous(
        &mut self,
        file: &str,
        ptr: &str,
        v: &'a Value,
        hint: &str,
    ) -> Result<Node, SchemaError> {
        let loc = format!("{file}#{ptr}");
        let description = Self::description(v);
        let ty = v.get("type").and_then(Value::as_str);
        let kind = match ty {
            Some("boolean") => Kind::Bool,
            Some("number") => Kind::Number,
            Some("integer") => Kind::Integer {
                min: v.get("minimum").and_then(json_int),
                max: v.get("maximum").and_then(json_int),
            },
            Some("string") => Kind::String {
                pattern: v.get("pattern").and_then(Value::as_str).map(str::to_owned),
            },
            Some("array") => {
                let items = v.get("items").ok_or_else(|| SchemaError::Schema {
                    location: loc.clone(),
                    message: "array without items".into(),
                })?;
                if items.is_array() {
                    return Err(SchemaError::Schema {
                        location: loc,
                        message: "tuple-form items are not supported (is an erratum fix missing?)"
                            .into(),
                    });
                }
                let item_hint = hint.strip_suffix('s').unwrap_or(hint).to_owned();
                Kind::Array {
                    items: Box::new(self.node(file, &format!("{ptr}/items"), items, &item_hint)?),
                    min_items: v.get("minItems").and_then(Value::as_u64),
                }
            }
            Some("object") | None => {
                if let Some(ap) = v.get("additionalProperties").filter(|a| a.is_object()) {
                    Kind::Map {
                        value: Box::new(self.node(
                            file,
                            &format!("{ptr}/additionalProperties"),
                            ap,
                            hint,
                        )?),
                        key_pattern: None,
                    }
                } else if let Some(pp) = v.get("patternProperties").and_then(Value::as_object) {
                    if pp.len() != 1 {
                        return Err(SchemaError::Schema {
                            location: loc,
                            message: "patternProperties with several patterns is not supported"
                                .into(),
                        });
                    }
                    let (pat, sub) = pp.iter().next().ok_or_else(|| SchemaError::Schema {
                        location: loc.clone(),
                        message: "empty patternProperties".into(),
                    })?;
                    let sub_ptr = format!(
                        "{ptr}/patternProperties/{}",
                        pat.replace('~', "~0").replace('/', "~1")
                    );
                    Kind::Map {
                        value: Box::new(self.node(file, &sub_ptr, sub, hint)?),
                        key_pattern: Some(pat.clone()),
                    }
                } else if ty.is_none() {
                    Kind::Any
                } else {
                    Kind::Map {
                        value: Box::new(Node {
                            description: None,
                            kind: Kind::Any,
                        }),
                        key_pattern: None,
                    }
                }
            }
            Some(other) => {
                return Err(SchemaError::Schema {
                    location: loc,
                    message: format!("unsupported type {other:?}"),
                })
            }
        };
        Ok(Node { description, kind })
    }

    /// Make (or reuse) the named definition for the schema at `file#ptr`.
    fn define(
        &mut self,
        file: &str,
        ptr: &str,
        v: &'a Value,
        hint: &str,
    ) -> Result<String, SchemaError> {
        let loc = format!("{file}#{ptr}");
        if let Some(name) = self.by_location.get(&loc) {
            return Ok(name.clone());
        }
        let name = match names::lookup(&loc) {
            Some(n) => n.to_owned(),
            None => {
                self.model.unnamed.push(loc.clone());
                upper_camel(hint)
            }
        };
        if self.model.definitions.iter().any(|d| d.name == name) || self.in_progress.contains(&name)
        {
            return Err(SchemaError::Schema {
                location: loc,
                message: format!("type name {name} is already used by another location; add a name for this one to codegen/src/names.rs"),
            });
        }
        self.by_location.insert(loc.clone(), name.clone());
        self.in_progress.push(name.clone());
        let description = Self::description(v);
        let kind = if let Some(values) = v.get("enum").and_then(Value::as_array) {
            let values = values
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| SchemaError::Schema {
                            location: loc.clone(),
                            message: "only string enums are supported".into(),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Kind::Enum { values }
        } else {
            let mut properties = Vec::new();
            let mut required = Vec::new();
            self.collect_object(file, ptr, v, &name, &mut properties, &mut required)?;
            Kind::Object {
                properties,
                required,
            }
        };
        self.in_progress.retain(|n| n != &name);
        self.model.definitions.push(Definition {
            name: name.clone(),
            location: loc,
            node: Node { description, kind },
        });
        Ok(name)
    }

    /// Gather properties and required names of an object schema, merging `allOf` members
    /// (every member must hold, so the union of properties and requirements is the same rule).
    fn collect_object(
        &mut self,
        file: &str,
        ptr: &str,
        v: &'a Value,
        type_name: &str,
        properties: &mut Vec<(String, Node)>,
        required: &mut Vec<String>,
    ) -> Result<(), SchemaError> {
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let (tf, tp) = self.resolve_ref(file, r)?;
            let target = self.lookup(&tf, &tp)?;
            return self.collect_object(&tf, &tp, target, type_name, properties, required);
        }
        if let Some(all) = v.get("allOf").and_then(Value::as_array) {
            for (i, member) in all.iter().enumerate() {
                self.collect_object(
                    file,
                    &format!("{ptr}/allOf/{i}"),
                    member,
                    type_name,
                    properties,
                    required,
                )?;
            }
        }
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            for (key, sub) in props {
                let sub_ptr = format!(
                    "{ptr}/properties/{}",
                    key.replace('~', "~0").replace('/', "~1")
                );
                let hint = format!("{type_name}{}", upper_camel(key));
                let node = self.node(file, &sub_ptr, sub, &hint)?;
                if let Some(existing) = properties.iter_mut().find(|(k, _)| k == key) {
                    existing.1 = node;
                } else {
                    properties.push((key.clone(), node));
                }
            }
        }
        if let Some(req) = v.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !required.iter().any(|x| x == r) {
                    required.push(r.to_owned());
                }
            }
        }
        Ok(())
    }
}

fn json_int(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i128))
}

/// Normalise the three root documents and everything they reference.
pub fn normalise(set: &SchemaSet) -> Result<Model, SchemaError> {
    let mut n = Normaliser {
        set,
        model: Model::default(),
        by_location: BTreeMap::new(),
        in_progress: Vec::new(),
    };
    for (file, name) in ROOTS {
        let root = n.lookup(file, "")?;
        let got = n.define(file, "", root, name)?;
        if got != *name {
            return Err(SchemaError::Schema {
                location: format!("{file}#"),
                message: format!("root must be named {name}, got {got}"),
            });
        }
    }
    Ok(n.model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(files: &[(&str, Value)]) -> SchemaSet {
        let mut s = SchemaSet {
            files: files
                .iter()
                .map(|(n, v)| {
                    (
                        (*n).to_owned(),
                        SchemaFile {
                            name: (*n).to_owned(),
                            sha256: String::new(),
                            json: v.clone(),
                        },
                    )
                })
                .collect(),
            applied_errata: Vec::new(),
        };
        apply_errata(&mut s);
        s
    }

    fn minimal_roots(config: Value) -> Vec<(&'static str, Value)> {
        vec![
            ("config-schema.json", config),
            (
                "state-schema.json",
                json!({"type": "object", "properties": {"id": {"type": "string"}}}),
            ),
            (
                "features-schema.json",
                json!({"type": "object", "properties": {"ociVersionMin": {"type": "string"}}}),
            ),
        ]
    }

    #[test]
    fn errata_apply_only_while_the_mistake_is_there() {
        let broken = json!({"definitions": {"ArrayOfUint32": {"type": "array", "items": {"$ref": "#definitions/uint32"}}}});
        let s = set(&[("defs.json", broken)]);
        assert_eq!(s.applied_errata.len(), 1);
        assert_eq!(
            s.files["defs.json"].json["definitions"]["ArrayOfUint32"]["items"]["$ref"],
            "#/definitions/uint32"
        );
        let fixed = json!({"definitions": {"ArrayOfUint32": {"type": "array", "items": {"$ref": "#/definitions/uint32"}}}});
        assert!(set(&[("defs.json", fixed)]).applied_errata.is_empty());

        let tuple = json!({"vm": {"properties": {"hwConfig": {"properties": {"iomems": {"type": "array", "items": [{"type": "string"}]}}}}}});
        let s = set(&[("config-vm.json", tuple)]);
        assert_eq!(s.applied_errata.len(), 1);
        assert!(
            s.files["config-vm.json"].json["vm"]["properties"]["hwConfig"]["properties"]["iomems"]
                ["items"]
                .is_object()
        );
    }

    #[test]
    fn aliases_are_inlined_and_new_objects_get_derived_names() {
        let mut files = minimal_roots(json!({
            "type": "object",
            "properties": {
                "ociVersion": {"$ref": "defs.json#/definitions/ociVersion"},
                "uid": {"$ref": "defs.json#/definitions/UID"},
                "gadget": {"type": "object", "properties": {"on": {"type": "boolean"}}}
            },
            "required": ["ociVersion"]
        }));
        files.push((
            "defs.json",
            json!({"definitions": {
                "uint32": {"type": "integer", "minimum": 0, "maximum": 4294967295u64},
                "UID": {"$ref": "#/definitions/uint32"},
                "ociVersion": {"type": "string"}
            }}),
        ));
        let model = normalise(&set(&files)).unwrap();
        let spec = model.get("Spec").unwrap();
        let Kind::Object {
            properties,
            required,
        } = &spec.node.kind
        else {
            panic!("{spec:?}")
        };
        assert_eq!(required, &["ociVersion"]);
        assert_eq!(
            properties[1].1.kind,
            Kind::Integer {
                min: Some(0),
                max: Some(u32::MAX.into())
            }
        );
        assert_eq!(properties[2].1.kind, Kind::Ref("SpecGadget".into()));
        assert_eq!(
            model.unnamed,
            ["config-schema.json#/properties/gadget"],
            "a location missing from names.rs is reported"
        );
    }

    #[test]
    fn the_pinned_schemas_normalise_with_every_location_named() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let lock = crate::generate::pinned_lock(&root).unwrap();
        let dir = crate::generate::pinned_schema_dir(&root).unwrap_or_else(|e| panic!("{e}"));
        let set = load(&dir, Some(&lock)).unwrap();
        assert_eq!(set.applied_errata.len(), 2);
        let model = normalise(&set).unwrap();
        assert!(model.unnamed.is_empty(), "{:?}", model.unnamed);
        for name in [
            "Spec",
            "State",
            "Features",
            "Process",
            "User",
            "Root",
            "Mount",
            "Hooks",
            "Hook",
            "Linux",
            "LinuxResources",
            "Seccomp",
            "LinuxNamespace",
            "IdMapping",
            "LinuxDevice",
        ] {
            assert!(model.get(name).is_some(), "{name}");
        }
    }
}
