//! Broken configs: each is rejected, the first violation (or parse error) naming the right
//! JSON pointer; those the types cannot hold also fail `parse_config` at that pointer.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::Path;

use writ_spec::{
    parse_config, parse_json, schema_violations_config, validate_config_value, ParseError,
    ViolationKind,
};

/// (file, pointer of the first violation, the requirement it names).
fn corpus() -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let list = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    list.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let col = |i: usize| cols.get(i).copied().unwrap_or("").to_owned();
            (col(0), col(1), col(2))
        })
        .collect()
}

fn read(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/invalid")
            .join(file),
    )
    .unwrap()
}

#[test]
fn corpus_lists_every_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let listed: Vec<String> = corpus().into_iter().map(|(f, _, _)| f).collect();
    assert!(listed.len() >= 30);
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            assert!(listed.contains(&name), "{name} is not in expected.txt");
        }
    }
}

#[test]
fn every_invalid_config_is_rejected_at_the_right_path() {
    for (file, pointer, id) in corpus() {
        let bytes = read(&file);
        if pointer == "-" {
            match parse_json(&bytes) {
                Err(ParseError::Syntax { line, column, .. }) => {
                    assert!(line >= 1, "{file}: {line}:{column}");
                    let _ = column;
                }
                other => panic!("{file}: expected a syntax error, got {other:?}"),
            }
            assert!(matches!(
                parse_config(&bytes),
                Err(ParseError::Syntax { .. })
            ));
            continue;
        }
        let value = parse_json(&bytes).unwrap();
        let violations = validate_config_value(&value);
        let first = violations
            .iter()
            .find(|v| v.is_error())
            .unwrap_or_else(|| panic!("{file}: no error reported: {violations:?}"));
        assert_eq!(first.pointer, pointer, "{file}: {violations:?}");
        assert!(!first.message.is_empty());
        assert_eq!(first.requirement, id, "{file}: {first}");
        assert!(
            writ_spec::requirements::find(first.requirement).is_some(),
            "{file}: {first} names an unknown requirement"
        );
        match parse_config(&bytes) {
            Ok(parsed) => {
                assert!(
                    !first.kind.breaks_parsing(),
                    "{file}: parsed although {first} breaks parsing"
                );
                // Parsing keeps every finding about the document as written, a required
                // member it filled in with its zero value (as runc does) included.
                assert_eq!(parsed.violations, violations, "{file}");
                assert!(!parsed.is_valid(), "{file}");
                assert!(parsed.clone().into_valid().is_err(), "{file}");
                if first.kind == ViolationKind::RequiredDefaulted {
                    assert!(first.message.contains("missing"), "{file}: {first}");
                } else {
                    // What parsed must still fail validation the same way.
                    assert_eq!(parsed.value.validate(), violations, "{file}");
                }
            }
            Err(e) => {
                assert!(first.kind.breaks_parsing(), "{file}: {e}");
                assert_eq!(e.pointer(), Some(pointer.as_str()), "{file}: {e}");
                assert_eq!(e.violations(), violations.as_slice(), "{file}");
                if let ParseError::Shape { line, column, .. } = e {
                    assert!(line >= 1 && column >= 1);
                }
            }
        }
    }
}

#[test]
fn out_of_range_values_real_runtimes_accept_still_parse() {
    // podman's character-device fileMode: rejected by the schema, accepted by runc and crun.
    let src = br#"{"ociVersion":"1.3.0","linux":{"devices":[{"path":"/dev/x","type":"c","major":1,"minor":3,"fileMode":8630}]}}"#;
    let parsed = parse_config(src).unwrap();
    // A warning, with the deviation that accepts it.
    let found = parsed
        .violations
        .iter()
        .find(|v| v.pointer == "/linux/devices/0/fileMode")
        .unwrap();
    assert!(!found.is_error() && found.note.is_some(), "{found:?}");
    let spec = parsed.value;
    let dev = &spec.linux.as_ref().unwrap().devices.as_ref().unwrap()[0];
    assert_eq!(dev.file_mode, Some(8630));
    let v = schema_violations_config(&serde_json::to_value(&spec).unwrap());
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].pointer, "/linux/devices/0/fileMode");
    assert_eq!(v[0].kind, ViolationKind::Range);
    assert!(v[0].message.contains("511"), "{}", v[0].message);
}

#[test]
fn missing_members_parse_like_runc_unless_they_have_no_zero_value() {
    // Go's encoding/json leaves an absent member at its zero value; runc accepts e.g. a
    // device cgroup rule without "allow". Validation still reports it.
    let src = br#"{"ociVersion":"1.3.0","linux":{"resources":{"devices":[{"access":"rwm"}]}}}"#;
    let parsed = parse_config(src).unwrap();
    assert_eq!(
        parsed.errors().next().map(|v| v.pointer.as_str()),
        Some("/linux/resources/devices/0/allow")
    );
    let spec = parsed.value;
    let rule = &spec.linux.unwrap().resources.unwrap().devices.unwrap()[0];
    assert!(!rule.allow);
    let v = schema_violations_config(&parse_json(src).unwrap());
    assert_eq!(v[0].pointer, "/linux/resources/devices/0/allow");
    assert_eq!(v[0].kind, ViolationKind::RequiredDefaulted);

    // A namespace without a type has no zero value: parsing fails at that member.
    let src = br#"{"ociVersion":"1.3.0","linux":{"namespaces":[{"path":"/proc/1/ns/net"}]}}"#;
    let e = parse_config(src).unwrap_err();
    assert_eq!(e.pointer(), Some("/linux/namespaces/0/type"), "{e}");
}

#[test]
fn parse_errors_carry_line_and_column() {
    let src = b"{\n  \"ociVersion\": \"1.3.0\",\n  \"process\": {\n    \"cwd\": 7\n  }\n}\n";
    match parse_config(src) {
        Err(ParseError::Shape {
            pointer,
            line,
            column,
            message,
            ..
        }) => {
            assert_eq!(pointer, "/process/cwd");
            assert_eq!((line, column), (4, 12));
            assert!(message.contains("string"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match parse_config(b"{\"ociVersion\": \"1.3.0\",\n \"x\": }") {
        Err(ParseError::Syntax { line, column, .. }) => assert_eq!((line, column), (2, 7)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_violation_is_reported_not_only_the_first() {
    let src = br#"{"process":{"user":{"uid":-1,"gid":"x"},"rlimits":[{"type":"bad","soft":1}]},
        "linux":{"namespaces":[{"type":"nope"}]}}"#;
    let v = schema_violations_config(&parse_json(src).unwrap());
    let pointers: Vec<&str> = v.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/ociVersion",
            "/process/cwd",
            "/process/user/uid",
            "/process/user/gid",
            "/process/rlimits/0/hard",
            "/process/rlimits/0/type",
            "/linux/namespaces/0/type"
        ]
    );
}
