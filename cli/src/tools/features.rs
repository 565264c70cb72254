//! `writ features`: the runtime-spec features document (features.md, features-linux.md),
//! derived from the coverage table and never kept by hand.
//!
//! `spec/features-map.toml` says, for each thing the document can claim (a hook name, a
//! mount option, a namespace type, `linux.cgroup.v2`, ...), which requirements of the list
//! it stands for. A thing is claimed exactly when every one of those requirements has a
//! handler in the code (coverage status `verified` or `implemented`); a boolean that is
//! not claimed is written as `false`, a list holds only the claimed values.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{Map, Value};
use writ_macros::requirement;
use writ_spec::requirements::SPEC_VERSION;

use super::coverage::{self, Coverage, Status};

/// The map, compiled in.
pub const MAP_TOML: &str = include_str!("../../../spec/features-map.toml");

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// Instead of the document, list every claim of spec/features-map.toml with the
    /// coverage status of the requirements it stands for.
    #[arg(long)]
    pub explain: bool,
}

/// `spec/features-map.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturesMap {
    /// `ociVersionMin`: the oldest runtime-spec version whose configs writ accepts.
    pub oci_version_min: String,
    #[serde(default)]
    pub claim: Vec<Claim>,
}

/// One entry of the map.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Dotted path in the features document, e.g. `hooks` or `linux.cgroup.v2`.
    pub path: String,
    /// For a list: the values this entry can add. Without `values` / `values_from` the
    /// path is a boolean.
    #[serde(default)]
    pub values: Vec<String>,
    /// For a list whose values come from the runtime itself: `capabilities` (every
    /// capability writ knows by name).
    #[serde(default)]
    pub values_from: Option<String>,
    /// Requirements that must all have a handler for the claim.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Per value: a requirement id with `{}` standing for the value (e.g.
    /// `config.mount_options.{}`), required in addition to `requires`.
    #[serde(default)]
    pub requires_each: Option<String>,
    /// What the claim means where it is not one mechanism (e.g. how each cgroup layout
    /// enforces a resource); printed by `--explain`.
    #[serde(default)]
    pub note: Option<String>,
}

/// What is wrong with the map.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("spec/features-map.toml is not valid: {0}")]
    Toml(String),
    #[error("spec/features-map.toml: claim {path:?}: {message}")]
    Claim { path: String, message: String },
}

impl FeaturesMap {
    /// Parses the map text.
    pub fn parse(text: &str) -> Result<Self, MapError> {
        let map: FeaturesMap = toml::from_str(text).map_err(|e| MapError::Toml(e.to_string()))?;
        for c in &map.claim {
            let err = |message: &str| MapError::Claim {
                path: c.path.clone(),
                message: message.to_string(),
            };
            if c.path.is_empty() || c.path.split('.').any(str::is_empty) {
                return Err(err("the path is empty or has an empty segment"));
            }
            if c.requires.is_empty() && c.requires_each.is_none() {
                return Err(err("names no requirement (requires / requires_each)"));
            }
            if let Some(t) = &c.requires_each {
                if !t.contains("{}") {
                    return Err(err("requires_each has no {} placeholder"));
                }
                if c.values.is_empty() && c.values_from.is_none() {
                    return Err(err("requires_each needs values"));
                }
            }
            match c.values_from.as_deref() {
                None | Some("capabilities") => {}
                Some(other) => {
                    return Err(err(&format!(
                        "values_from = {other:?} is unknown (known: \"capabilities\")"
                    )))
                }
            }
        }
        Ok(map)
    }

    /// The compiled-in map.
    pub fn builtin() -> Result<Self, MapError> {
        Self::parse(MAP_TOML)
    }
}

/// Every capability writ knows by name, in kernel order.
pub fn known_capabilities() -> Vec<String> {
    let mut all: Vec<caps::Capability> = caps::all().into_iter().collect();
    all.sort_by_key(|c| c.index());
    all.into_iter().map(|c| c.to_string()).collect()
}

impl Claim {
    /// True when this claim names a list.
    pub fn is_list(&self) -> bool {
        !self.values.is_empty() || self.values_from.is_some()
    }

    /// The values of a list claim (empty for a boolean).
    pub fn all_values(&self) -> Vec<String> {
        let mut v = self.values.clone();
        if self.values_from.as_deref() == Some("capabilities") {
            v.extend(known_capabilities());
        }
        v
    }

    /// The requirement ids `value` stands for (`None`: the boolean itself).
    pub fn ids_for(&self, value: Option<&str>) -> Vec<String> {
        let mut ids = self.requires.clone();
        if let (Some(t), Some(v)) = (&self.requires_each, value) {
            ids.push(t.replace("{}", v));
        }
        ids
    }
}

/// True when the coverage table has a handler for every id (an unknown id counts as
/// missing).
pub fn all_handled(cov: &Coverage, ids: &[String]) -> bool {
    !ids.is_empty()
        && ids.iter().all(|id| {
            cov.rows.iter().any(|r| {
                r.req.id == id && matches!(r.status, Status::Verified | Status::Implemented)
            })
        })
}

fn slot<'v>(
    root: &'v mut Map<String, Value>,
    path: &str,
) -> Option<(&'v mut Map<String, Value>, String)> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop()?.to_string();
    let mut cur = root;
    for p in parts {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        cur = entry.as_object_mut()?;
    }
    Some((cur, last))
}

/// The features document that `cov` supports, per `map`: made from the requirements
/// list, the uses of `#[requirement]` and the map, all fixed when writ is built.
#[requirement(
    "features.document.provided",
    "features.document.build_time",
    "features.hooks.supported",
    "features.mount_options.recognised",
    "features.mount_options.no_fs_specific",
    "features_linux.namespaces.recognised",
    "features_linux.capabilities.recognised",
    "features_linux.seccomp.actions.recognised",
    "features_linux.seccomp.operators.recognised",
    "features_linux.seccomp.archs.recognised",
    "features_linux.seccomp.known_flags.recognised",
    "features_linux.seccomp.supported_flags.supported"
)]
pub fn features_document(cov: &Coverage, map: &FeaturesMap) -> Value {
    let mut root = Map::new();
    root.insert("ociVersionMin".into(), map.oci_version_min.clone().into());
    root.insert(
        "ociVersionMax".into(),
        SPEC_VERSION.trim_start_matches('v').into(),
    );
    for c in &map.claim {
        let Some((parent, key)) = slot(&mut root, &c.path) else {
            continue;
        };
        if c.is_list() {
            let list = parent
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !list.is_array() {
                *list = Value::Array(Vec::new());
            }
            if let Value::Array(items) = list {
                for v in c.all_values() {
                    let claimed = all_handled(cov, &c.ids_for(Some(&v)));
                    let present = items.iter().any(|x| x.as_str() == Some(v.as_str()));
                    if claimed && !present {
                        items.push(Value::String(v));
                    }
                }
            }
        } else {
            let claimed = all_handled(cov, &c.ids_for(None));
            let prev = parent.get(&key).and_then(Value::as_bool).unwrap_or(true);
            parent.insert(key, Value::Bool(prev && claimed));
        }
    }
    Value::Object(root)
}

/// `major.minor.patch` of a version string (pre-release and build parts ignored).
fn version_triple(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut it = core.split('.').map(|p| p.parse::<u64>().ok());
    let t = (it.next()??, it.next()??, it.next()??);
    it.next().is_none().then_some(t)
}

/// Fields that features-linux.md of the pinned release defines and its
/// features-linux.json omits (a schema erratum): the document may hold them although the
/// generated types keep them in `extra`.
pub const PROSE_ONLY: &[&str] = &[
    "/linux/memoryPolicy",
    "/linux/intelRdt/schemata",
    "/linux/intelRdt/monitoring",
];

fn unknown_keys(extra: &Map<String, Value>, at: &str, out: &mut Vec<String>) {
    out.extend(
        extra
            .keys()
            .map(|k| format!("{at}{k}"))
            .filter(|k| !PROSE_ONLY.contains(&k.as_str())),
    );
}

fn find_nulls(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(at.to_string()),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                find_nulls(x, &format!("{at}/{i}"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                find_nulls(x, &format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// Checks a features document before it is printed: it is valid against the features
/// schema, holds no field outside the runtime-spec's (nothing lands in the generated
/// types' catch-all `extra` maps), has no `null` (which would mean "unknown"), and
/// `ociVersionMax` is not older than `ociVersionMin`.
#[requirement(
    "features.document.known_fields_only",
    "features.document.null_not_empty",
    "features.oci_version_max.not_below_min"
)]
pub fn check_document(doc: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    for v in writ_spec::schema_violations_features(doc) {
        problems.push(v.to_string());
    }
    let mut nulls = Vec::new();
    find_nulls(doc, "", &mut nulls);
    for n in nulls {
        problems.push(format!(
            "{n}: null (the document says nothing it does not know)"
        ));
    }
    let text = serde_json::to_vec(doc).map_err(|e| e.to_string())?;
    match writ_spec::parse_features(&text) {
        Err(e) => problems.push(format!("does not parse as a features document: {e}")),
        Ok(parsed) => {
            let f = &parsed.value;
            let mut unknown = Vec::new();
            unknown_keys(&f.extra, "/", &mut unknown);
            if let Some(l) = &f.linux {
                unknown_keys(&l.extra, "/linux/", &mut unknown);
                if let Some(x) = &l.cgroup {
                    unknown_keys(&x.extra, "/linux/cgroup/", &mut unknown);
                }
                if let Some(x) = &l.seccomp {
                    unknown_keys(&x.extra, "/linux/seccomp/", &mut unknown);
                }
                if let Some(x) = &l.apparmor {
                    unknown_keys(&x.extra, "/linux/apparmor/", &mut unknown);
                }
                if let Some(x) = &l.selinux {
                    unknown_keys(&x.extra, "/linux/selinux/", &mut unknown);
                }
                if let Some(x) = &l.intel_rdt {
                    unknown_keys(&x.extra, "/linux/intelRdt/", &mut unknown);
                }
                if let Some(x) = &l.net_devices {
                    unknown_keys(&x.extra, "/linux/netDevices/", &mut unknown);
                }
                if let Some(x) = &l.mount_extensions {
                    unknown_keys(&x.extra, "/linux/mountExtensions/", &mut unknown);
                    if let Some(i) = &x.idmap {
                        unknown_keys(&i.extra, "/linux/mountExtensions/idmap/", &mut unknown);
                    }
                }
            }
            for k in unknown {
                problems.push(format!("{k}: not a field of the features document"));
            }
            match (
                version_triple(&f.oci_version_min),
                version_triple(&f.oci_version_max),
            ) {
                (Some(min), Some(max)) if max >= min => {}
                (Some(_), Some(_)) => problems.push(format!(
                    "ociVersionMax {} is older than ociVersionMin {}",
                    f.oci_version_max, f.oci_version_min
                )),
                _ => problems.push(format!(
                    "ociVersionMin {:?} / ociVersionMax {:?}: not major.minor.patch versions",
                    f.oci_version_min, f.oci_version_max
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// One line per claim and value: claimed or not, and the status of each id.
pub fn explain(cov: &Coverage, map: &FeaturesMap) -> String {
    let mut out = String::new();
    let status = |id: &str| {
        cov.rows
            .iter()
            .find(|r| r.req.id == id)
            .map_or("unknown id", |r| r.status.as_str())
    };
    for c in &map.claim {
        let values: Vec<Option<String>> = if c.is_list() {
            c.all_values().into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        for v in values {
            let ids = c.ids_for(v.as_deref());
            let mark = if all_handled(cov, &ids) { "yes" } else { "no " };
            let what = match &v {
                Some(v) => format!("{} += {v}", c.path),
                None => c.path.clone(),
            };
            let reasons: Vec<String> = ids.iter().map(|i| format!("{i} ({})", status(i))).collect();
            let note = c
                .note
                .as_deref()
                .map(|n| format!(" [{n}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "{mark}  {what}: {}{note}", reasons.join(", "));
        }
    }
    out
}

pub fn run(args: FeaturesArgs) -> i32 {
    let map = match FeaturesMap::builtin() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("writ features: {e}");
            return 1;
        }
    };
    let cov = coverage::claimed();
    let text = if args.explain {
        explain(&cov, &map)
    } else {
        let doc = features_document(&cov, &map);
        if let Err(e) = check_document(&doc) {
            eprintln!("writ features: the generated document is not valid: {e}");
            return 1;
        }
        match serde_json::to_string_pretty(&doc) {
            Ok(mut s) => {
                s.push('\n');
                s
            }
            Err(e) => {
                eprintln!("writ features: cannot serialise the document: {e}");
                return 1;
            }
        }
    };
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("writ features: cannot write to stdout: {e}");
            return 1;
        }
    }
    0
}
