//! `writ features`: the map is sound, the document follows the coverage table exactly,
//! and it is a valid features document.
#![allow(clippy::expect_used)]

use std::collections::HashSet;

use serde_json::Value;
use writ_cli::tools::coverage::{self, compute, Results, Status};
use writ_cli::tools::features::{
    all_handled, check_document, explain, features_document, FeaturesMap, PROSE_ONLY,
};
use writ_cli::trace::{Use, UseKind};
use writ_macros::verifies;
use writ_spec::requirements::{Check, Level, Platform, Requirement, REQUIREMENTS};

fn map() -> FeaturesMap {
    FeaturesMap::builtin().expect("spec/features-map.toml parses")
}

/// Every (path, value, ids) the map can claim.
fn all_claims(map: &FeaturesMap) -> Vec<(String, Option<String>, Vec<String>)> {
    let mut out = Vec::new();
    for c in &map.claim {
        if c.is_list() {
            for v in c.all_values() {
                out.push((c.path.clone(), Some(v.clone()), c.ids_for(Some(&v))));
            }
        } else {
            out.push((c.path.clone(), None, c.ids_for(None)));
        }
    }
    out
}

#[test]
fn map_names_only_listed_requirements() {
    let known: HashSet<&str> = REQUIREMENTS.iter().map(|r| r.id).collect();
    let mut unknown = Vec::new();
    for (path, value, ids) in all_claims(&map()) {
        for id in ids {
            if !known.contains(id.as_str()) {
                unknown.push(format!("{path} {value:?}: {id}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "spec/features-map.toml names ids that are not in spec/requirements:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn map_rejects_bad_entries() {
    assert!(FeaturesMap::parse(
        "oci_version_min = \"1.0.0\"\n[[claim]]\npath = \"hooks\"\nvalues = [\"prestart\"]\n"
    )
    .is_err());
    assert!(FeaturesMap::parse(
        "oci_version_min = \"1.0.0\"\n[[claim]]\npath = \"linux..x\"\nrequires = [\"a\"]\n"
    )
    .is_err());
    assert!(FeaturesMap::parse("oci_version_min = \"1.0.0\"\n[[claim]]\npath = \"x\"\nrequires_each = \"a.b\"\nvalues = [\"v\"]\n").is_err());
    assert!(FeaturesMap::parse("oci_version_min = \"1.0.0\"\n[[claim]]\npath = \"x\"\nvalues_from = \"nope\"\nrequires = [\"a\"]\n").is_err());
    assert!(FeaturesMap::parse("oci_version_min = \"1.0.0\"\nbogus = 1\n").is_err());
}

fn lookup<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(doc, |v, k| v.get(k))
}

fn claimed(doc: &Value, path: &str, value: Option<&str>) -> bool {
    match (lookup(doc, path), value) {
        (Some(Value::Array(a)), Some(v)) => a.iter().any(|x| x.as_str() == Some(v)),
        (Some(Value::Bool(b)), None) => *b,
        _ => false,
    }
}

/// The document claims a thing exactly when the coverage table has a handler for every
/// requirement it stands for.
fn assert_follows_coverage(cov: &coverage::Coverage, map: &FeaturesMap) {
    let doc = features_document(cov, map);
    for (path, value, ids) in all_claims(map) {
        assert_eq!(
            claimed(&doc, &path, value.as_deref()),
            all_handled(cov, &ids),
            "{path} {value:?}: document and coverage table disagree\n{doc:#}"
        );
    }
}

#[test]
fn map_claims_each_thing_once() {
    let mut seen = HashSet::new();
    for (path, value, _) in all_claims(&map()) {
        assert!(
            seen.insert((path.clone(), value.clone())),
            "{path} {value:?} is claimed by two entries"
        );
    }
}

#[verifies(
    "features.hooks.supported",
    "features.mount_options.recognised",
    "features_linux.namespaces.recognised",
    "features_linux.capabilities.recognised",
    "features_linux.seccomp.actions.recognised",
    "features_linux.seccomp.operators.recognised",
    "features_linux.seccomp.archs.recognised",
    "features_linux.seccomp.known_flags.recognised",
    "features_linux.seccomp.supported_flags.supported"
)]
#[test]
fn real_document_follows_the_coverage_table() {
    assert_follows_coverage(&coverage::claimed(), &map());
}

#[verifies(
    "features.document.provided",
    "features.document.known_fields_only",
    "features.document.null_not_empty",
    "features.oci_version_max.not_below_min"
)]
#[test]
fn real_document_is_a_valid_features_document() {
    let doc = features_document(&coverage::claimed(), &map());
    assert_eq!(check_document(&doc), Ok(()));
    let violations = writ_spec::schema_violations_features(&doc);
    assert!(violations.is_empty(), "{violations:?}\n{doc:#}");
    let text = serde_json::to_vec(&doc).unwrap();
    let parsed = writ_spec::parse_features(&text)
        .expect("parses as writ_spec::Features")
        .value;
    assert!(
        parsed.extra.is_empty(),
        "keys outside the schema: {:?}",
        parsed.extra
    );
    assert_eq!(parsed.oci_version_max, writ_spec::OCI_VERSION);
    assert_eq!(parsed.oci_version_min, "1.0.0");
    if let Some(linux) = &parsed.linux {
        // Only what features-linux.md defines beyond the pinned schema (an erratum).
        let outside: Vec<&String> = linux
            .extra
            .keys()
            .filter(|k| !PROSE_ONLY.contains(&format!("/linux/{k}").as_str()))
            .collect();
        assert!(
            outside.is_empty(),
            "linux keys outside the schema: {outside:?}"
        );
    }
}

#[verifies("features.mount_options.no_fs_specific")]
#[test]
fn mount_options_are_only_table_options() {
    let doc = features_document(&coverage::claimed(), &map());
    let opts = doc["mountOptions"].as_array().expect("mountOptions listed");
    assert!(!opts.is_empty());
    let known: HashSet<&str> = REQUIREMENTS.iter().map(|r| r.id).collect();
    for o in opts {
        let o = o.as_str().expect("a string");
        assert!(
            !o.contains('=') && !["size", "mode", "uid", "gid", "nr_inodes"].contains(&o),
            "filesystem data option {o:?} in mountOptions"
        );
        assert!(
            known.contains(format!("config.mount_options.{o}").as_str()),
            "{o:?} is not an option of the config.md table"
        );
    }
}

/// Requirements made up from the map's ids, so the document can be driven both ways.
fn fixture(handled: impl Fn(&str) -> bool) -> (Vec<Requirement>, Vec<Use>) {
    let mut ids: Vec<String> = all_claims(&map())
        .into_iter()
        .flat_map(|(_, _, ids)| ids)
        .collect();
    ids.sort();
    ids.dedup();
    let mut reqs = Vec::new();
    let mut uses = Vec::new();
    for id in ids {
        let id: &'static str = Box::leak(id.into_boxed_str());
        reqs.push(Requirement {
            id,
            level: Level::Must,
            doc: "config.md",
            anchor: "x",
            line: 0,
            platforms: &[Platform::Linux],
            summary: "fixture",
            check: Check::Runtime,
            specerror: None,
            fingerprint: "0000000000000000",
            waived: None,
            deviation: None,
        });
        if handled(id) {
            uses.push(Use {
                id,
                kind: UseKind::Handler,
                item: "f",
                file: "f.rs",
                line: 1,
            });
        }
    }
    (reqs, uses)
}

#[test]
fn nothing_handled_claims_nothing() {
    let (reqs, uses) = fixture(|_| false);
    let cov = compute(&reqs, &uses, &[], Results::Assumed);
    let doc = features_document(&cov, &map());
    assert_eq!(doc["hooks"], serde_json::json!([]));
    assert_eq!(doc["mountOptions"], serde_json::json!([]));
    assert_eq!(doc["linux"]["namespaces"], serde_json::json!([]));
    assert_eq!(doc["linux"]["cgroup"]["v2"], false);
    assert_follows_coverage(&cov, &map());
}

#[test]
fn everything_handled_claims_everything() {
    let (reqs, uses) = fixture(|_| true);
    let cov = compute(&reqs, &uses, &[], Results::Assumed);
    let doc = features_document(&cov, &map());
    assert!(doc["hooks"].as_array().unwrap().len() == 6, "{doc:#}");
    assert!(doc["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "pid"));
    assert!(doc["linux"]["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "CAP_SYS_ADMIN"));
    assert_eq!(doc["linux"]["cgroup"]["v2"], true);
    assert!(doc["mountOptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "rbind"));
    assert_follows_coverage(&cov, &map());
    assert!(writ_spec::schema_violations_features(&doc).is_empty());
}

#[test]
fn one_mount_option_follows_its_own_requirement() {
    let (reqs, uses) = fixture(|id| id == "config.mount_options.nosuid");
    let cov = compute(&reqs, &uses, &[], Results::Assumed);
    let doc = features_document(&cov, &map());
    assert_eq!(doc["mountOptions"], serde_json::json!(["nosuid"]));
    // A test alone (no handler) does not make a runtime requirement claimable.
    let (reqs, _) = fixture(|_| false);
    let test_only = [Use {
        id: "config.mount_options.nodev",
        kind: UseKind::Test,
        item: "t",
        file: "t.rs",
        line: 1,
    }];
    let cov = compute(&reqs, &test_only, &[], Results::Assumed);
    let row = cov
        .rows
        .iter()
        .find(|r| r.req.id == "config.mount_options.nodev")
        .unwrap();
    assert_eq!(row.status, Status::Missing);
    assert_eq!(
        features_document(&cov, &map())["mountOptions"],
        serde_json::json!([])
    );
}

#[test]
fn explain_lists_every_claim() {
    let (reqs, uses) = fixture(|id| id.starts_with("config.hooks."));
    let cov = compute(&reqs, &uses, &[], Results::Assumed);
    let text = explain(&cov, &map());
    assert!(
        text.contains("yes  hooks += prestart: config.hooks.prestart.timing (implemented)"),
        "{text}"
    );
    assert!(text.contains("no   linux.cgroup.v2:"), "{text}");
    assert_eq!(text.lines().count(), all_claims(&map()).len());
}

#[test]
fn check_document_rejects_what_the_spec_forbids() {
    let ok = serde_json::json!({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0"});
    assert_eq!(check_document(&ok), Ok(()));
    let unknown = serde_json::json!({
        "ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0",
        "linux": {"cgroup": {"v3": true}}
    });
    let e = check_document(&unknown).unwrap_err();
    assert!(e.contains("/linux/cgroup/v3: not a field"), "{e}");
    let top = serde_json::json!({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "x": 1});
    assert!(check_document(&top)
        .unwrap_err()
        .contains("/x: not a field"));
    let null =
        serde_json::json!({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "hooks": null});
    assert!(check_document(&null).unwrap_err().contains("/hooks: null"));
    let order = serde_json::json!({"ociVersionMin": "1.2.0", "ociVersionMax": "1.1.9"});
    assert!(check_document(&order).unwrap_err().contains("older than"));
    let bad = serde_json::json!({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0",
        "linux": {"seccomp": {"actions": ["SCMP_ACT_NOPE"]}}});
    assert!(check_document(&bad).is_err());
}

/// The macros make every crate that uses them depend on the requirements list: the
/// compiler's dep-info for this very test binary (which uses `#[verifies]`) names each
/// list file, so cargo rebuilds it when the list changes.
#[test]
fn list_files_are_build_dependencies() {
    let exe = std::env::current_exe().unwrap();
    let dep_info = exe.with_extension("d");
    let text = std::fs::read_to_string(&dep_info)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dep_info.display()));
    let dir = coverage::workspace_root().join("spec").join("requirements");
    let mut tomls: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    tomls.sort();
    assert!(!tomls.is_empty());
    for t in tomls {
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            text.contains(&format!("spec/requirements/{name}")),
            "{} does not name {name}",
            dep_info.display()
        );
    }
}
