//! The resource catalogue (`runtime/data/resources.toml`): every field of
//! `linux.resources` (with `unified`), `linux.intelRdt` and `linux.memoryPolicy`, its
//! cgroup v1 and v2 file and conversion, and whether `update` changes it on a running
//! container ("live") or it needs a new container ("recreate"), and why. The data is
//! compiled in; `writ resources` prints it and [`Container::update`] refuses a change of a
//! "recreate" field with the catalogue's reason.
//!
//! A test walks the pinned runtime-spec schema and fails on a field the catalogue does not
//! classify (and on an entry the schema does not have), so a new field of a spec update
//! shows up here.
//!
//! [`Container::update`]: crate::Container::update

use serde::{Deserialize, Serialize};

/// The catalogue's text, as compiled in.
pub const SOURCE: &str = include_str!("../data/resources.toml");

/// What `update` can do with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Update {
    /// Changed on the running container.
    Live,
    /// Needs a new container: update refuses a change.
    Recreate,
}

impl std::fmt::Display for Update {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Update::Live => "live",
            Update::Recreate => "recreate",
        })
    }
}

/// What proves an entry's claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// The JSON an update gets: relative to `/linux/resources` for a field under it,
    /// else to `/linux`.
    pub patch: String,
    /// For a live field: what a cgroup v1 layout shows afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v1: Option<Shows>,
    /// The same for cgroup v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v2: Option<Shows>,
    /// The test that proves a field without a file of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// What a layout shows after the proof's patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shows {
    /// The file that shows the value: the first of these the container's cgroup has.
    pub files: Vec<String>,
    /// What it holds afterwards: a line or a word equal to one of these. Empty: the
    /// layout refuses the patch, naming the field.
    pub reads: Vec<String>,
}

/// One field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Its JSON pointer in config.json.
    pub pointer: String,
    /// The cgroup controller (v1 name), or `resctrl` / `set_mempolicy`.
    pub controller: String,
    /// The file on a cgroup v1 hierarchy ("" = none).
    pub v1: String,
    /// The file on cgroup v2 ("" = none).
    pub v2: String,
    /// How the value becomes the v2 file's.
    pub conversion: String,
    /// Live or recreate.
    pub update: Update,
    /// Why.
    pub why: String,
    /// The requirement ids that govern it.
    #[serde(default)]
    pub ids: Vec<String>,
    /// What proves the claim.
    pub proof: Proof,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    field: Vec<Field>,
}

/// Why the compiled-in catalogue cannot be read (a broken build: a test reads it).
#[derive(Debug, thiserror::Error)]
#[error("runtime/data/resources.toml: {0}")]
pub struct CatalogueError(String);

/// Every field, in the catalogue's order.
pub fn fields() -> Result<Vec<Field>, CatalogueError> {
    toml::from_str::<File>(SOURCE)
        .map(|f| f.field)
        .map_err(|e| CatalogueError(e.to_string()))
}

/// The entry that classifies `pointer`: the field itself or the list or map it lies in
/// (`/linux/resources/unified/memory.high` is classified by `/linux/resources/unified`).
pub fn field_of<'a>(fields: &'a [Field], pointer: &str) -> Option<&'a Field> {
    fields
        .iter()
        .filter(|f| pointer == f.pointer || pointer.starts_with(&format!("{}/", f.pointer)))
        .max_by_key(|f| f.pointer.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    /// The pinned schema directory (beside the workspace, where codegen reads it).
    fn schema_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/oci-runtime-spec")
            .join(writ_spec::SPEC_TAG)
            .join("schema")
    }

    fn load(dir: &Path, file: &str) -> Value {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the pinned runtime-spec schemas go there; see README, Setup)",
                path.display()
            )
        });
        serde_json::from_str(&text).expect("schema JSON")
    }

    /// Follows `$ref`s (`file.json#/definitions/X` or `#/...`) from `node` in `file`.
    fn resolve(dir: &Path, mut node: Value, mut file: String) -> (Value, String) {
        while let Some(r) = node.get("$ref").and_then(Value::as_str).map(str::to_string) {
            let (f, frag) = r.split_once('#').unwrap_or((&r, ""));
            if !f.is_empty() {
                file = f.to_string();
            }
            node = load(dir, &file)
                .pointer(frag)
                .cloned()
                .unwrap_or_else(|| panic!("unresolved $ref {r}"));
        }
        (node, file)
    }

    /// The leaves under `ptr`: members of objects with `properties`, each list or map
    /// one leaf.
    fn leaves(dir: &Path, node: Value, file: String, ptr: &str, out: &mut BTreeSet<String>) {
        let (node, file) = resolve(dir, node, file);
        match node.get("properties").and_then(Value::as_object) {
            Some(props) => {
                for (k, v) in props {
                    leaves(dir, v.clone(), file.clone(), &format!("{ptr}/{k}"), out);
                }
            }
            None => {
                out.insert(ptr.to_string());
            }
        }
    }

    #[test]
    fn every_schema_field_is_classified_and_nothing_else() {
        let dir = schema_dir();
        let linux = load(&dir, "config-linux.json");
        let mut schema = BTreeSet::new();
        for member in ["resources", "intelRdt", "memoryPolicy"] {
            let node = linux["linux"]["properties"][member].clone();
            assert!(!node.is_null(), "config-linux.json has no linux.{member}");
            leaves(
                &dir,
                node,
                "config-linux.json".into(),
                &format!("/linux/{member}"),
                &mut schema,
            );
        }
        let fields = fields().unwrap();
        let catalogue: BTreeSet<String> = fields.iter().map(|f| f.pointer.clone()).collect();
        let unclassified: Vec<_> = schema.difference(&catalogue).collect();
        assert!(
            unclassified.is_empty(),
            "fields of the schema the catalogue does not classify (add them to runtime/data/resources.toml): {unclassified:?}"
        );
        let stray: Vec<_> = catalogue.difference(&schema).collect();
        assert!(
            stray.is_empty(),
            "catalogue entries the schema lacks: {stray:?}"
        );
        assert_eq!(catalogue.len(), fields.len(), "a field is listed twice");
    }

    #[test]
    fn every_entry_is_complete_and_its_proof_well_formed() {
        for f in fields().unwrap() {
            assert!(
                !f.why.is_empty() && !f.conversion.is_empty(),
                "{}",
                f.pointer
            );
            for id in &f.ids {
                assert!(
                    writ_spec::requirements::find(id).is_some(),
                    "{}: unknown id {id}",
                    f.pointer
                );
            }
            let patch: Value = serde_json::from_str(&f.proof.patch)
                .unwrap_or_else(|e| panic!("{}: proof.patch: {e}", f.pointer));
            assert!(patch.is_object(), "{}: proof.patch", f.pointer);
            match f.update {
                Update::Live => assert!(
                    f.proof.scenario.is_some() || (f.proof.v1.is_some() && f.proof.v2.is_some()),
                    "{}: a live claim needs what v1 and v2 read afterwards, or a scenario",
                    f.pointer
                ),
                Update::Recreate => assert!(
                    f.proof.v1.is_none() && f.proof.v2.is_none(),
                    "{}: a recreate claim is proven by the refusal alone",
                    f.pointer
                ),
            }
        }
    }

    #[test]
    fn a_pointer_inside_a_list_or_map_is_classified_by_it() {
        let fields = fields().unwrap();
        let at = |p| field_of(&fields, p).map(|f| f.pointer.as_str());
        assert_eq!(
            at("/linux/resources/unified/memory.high"),
            Some("/linux/resources/unified")
        );
        assert_eq!(
            at("/linux/resources/devices/0/allow"),
            Some("/linux/resources/devices")
        );
        assert_eq!(
            at("/linux/resources/memory/limit"),
            Some("/linux/resources/memory/limit")
        );
        assert_eq!(at("/linux/resources/memory"), None);
        assert_eq!(at("/linux/sysctl"), None);
    }
}
