//! The requirement table as decoded from its packed form is the list it was generated from:
//! every field of every entry of `spec/requirements/*.toml`, in table order.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::Path;
use writ_spec::requirements::{Requirement, DOCS, REQUIREMENTS};

/// An entry's fields as the list writes them (`None` for an absent optional field).
fn fields(r: &Requirement) -> Vec<(&'static str, Option<String>)> {
    let platforms: Vec<&str> = r.platforms.iter().map(|p| p.as_str()).collect();
    vec![
        ("id", Some(r.id.to_owned())),
        ("level", Some(r.level.as_str().to_owned())),
        ("doc", Some(r.doc.to_owned())),
        ("anchor", Some(r.anchor.to_owned())),
        ("line", Some(r.line.to_string())),
        ("platforms", Some(platforms.join(","))),
        ("summary", Some(r.summary.to_owned())),
        ("check", Some(r.check.as_str().to_owned())),
        ("specerror", r.specerror.map(str::to_owned)),
        ("fingerprint", Some(r.fingerprint.to_owned())),
        ("waived", r.waived.map(str::to_owned)),
        ("deviation", r.deviation.map(str::to_owned)),
    ]
}

/// The same fields of a TOML entry.
fn listed(entry: &toml::Value) -> Vec<(&'static str, Option<String>)> {
    let text = |key: &str| match entry.get(key) {
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(toml::Value::Integer(n)) => Some(n.to_string()),
        Some(toml::Value::Array(a)) => Some(
            a.iter()
                .map(|v| v.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(other) => panic!("{key} = {other}: not a string, integer or array"),
        None => None,
    };
    let keys = [
        "id",
        "level",
        "doc",
        "anchor",
        "line",
        "platforms",
        "summary",
        "check",
        "specerror",
        "fingerprint",
        "waived",
        "deviation",
    ];
    keys.iter()
        .map(|&k| {
            (
                k,
                if k == "line" {
                    text(k).or(Some("0".into()))
                } else {
                    text(k)
                },
            )
        })
        .collect()
}

#[test]
fn decoded_table_is_the_list() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("requirements");
    let mut entries = Vec::new();
    for doc in DOCS {
        let path = dir.join(doc.replace(".md", ".toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let file: toml::Value = toml::from_str(&text).unwrap();
        entries.extend(file["requirement"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(REQUIREMENTS.len(), entries.len());
    for (r, entry) in REQUIREMENTS.iter().zip(&entries) {
        assert_eq!(fields(r), listed(entry), "entry {}", r.id);
    }
    // Each optional field is present somewhere and absent somewhere: both ways are checked.
    for pick in [
        |r: &Requirement| r.specerror,
        |r: &Requirement| r.waived,
        |r: &Requirement| r.deviation,
    ] {
        assert!(REQUIREMENTS.iter().any(|r| pick(r).is_some()));
        assert!(REQUIREMENTS.iter().any(|r| pick(r).is_none()));
    }
    assert!(REQUIREMENTS.iter().any(|r| r.platforms.len() > 1));
}
