//! The crate as a dependency uses it: parsing keeps what was missing, files, errors,
//! diagnostics.

use writ_macros::verifies;
use writ_spec::{
    load, parse_config, save, LoadError, ParseError, Report, Severity, Spec, ViolationKind,
};

const WITHOUT_ROOT_PATH: &str = r#"{
  "ociVersion": "1.3.0",
  "root": {"readonly": true},
  "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}}
}"#;

#[verifies("config.root.path.required")]
#[test]
fn an_absent_required_member_is_kept_as_a_finding_not_lost_in_its_zero_value() {
    let parsed = parse_config(WITHOUT_ROOT_PATH.as_bytes()).unwrap();
    // The type holds the zero value, as runc reads it...
    assert_eq!(parsed.value.root.as_ref().unwrap().path, "");
    // ...and the parse result says it was absent.
    assert!(!parsed.is_valid());
    let e: Vec<_> = parsed.errors().collect();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].pointer, "/root/path");
    assert_eq!(e[0].kind, ViolationKind::RequiredDefaulted);
    assert_eq!(e[0].requirement, "config.root.path.required");
    let invalid = parsed.into_valid().unwrap_err();
    assert!(
        invalid.to_string().starts_with("1 error(s); /root/path: "),
        "{invalid}"
    );
    // Errors are std errors, with a source chain.
    let boxed: Box<dyn std::error::Error> = Box::new(invalid.violations[0].clone());
    assert!(boxed.to_string().ends_with("[config.root.path.required]"));
}

#[test]
fn load_reads_a_file_or_a_bundle_and_save_writes_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let spec = writ_spec::example::starter_config(false, 0, 0);
    save(dir.path(), &spec).unwrap();
    let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    assert!(text.starts_with("{\n\t\"ociVersion\": "), "{text}");
    assert!(text.ends_with("}\n"));
    // Nothing else is left in the directory (the temporary file was renamed).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let from_dir = load(dir.path()).unwrap();
    let from_file = load(dir.path().join("config.json")).unwrap();
    assert_eq!(from_dir, from_file);
    assert!(from_dir.is_valid(), "{:?}", from_dir.violations);
    assert_eq!(from_dir.value, spec);

    let mut changed: Spec = from_dir.value;
    changed.hostname = Some("other".into());
    save(dir.path().join("config.json"), &changed).unwrap();
    assert_eq!(
        load(dir.path()).unwrap().value.hostname.as_deref(),
        Some("other")
    );

    match load(dir.path().join("absent.json")) {
        Err(LoadError::Read { path, .. }) => assert!(path.ends_with("absent.json")),
        other => panic!("{other:?}"),
    }
    std::fs::write(dir.path().join("bad.json"), "{\"ociVersion\": 1}").unwrap();
    match load(dir.path().join("bad.json")) {
        Err(e @ LoadError::Parse { .. }) => {
            let source = std::error::Error::source(&e).unwrap();
            assert!(source.to_string().contains("/ociVersion"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    assert!(save(dir.path().join("no/such/dir/config.json"), &changed).is_err());
}

#[test]
fn a_shape_error_carries_every_finding() {
    let src = br#"{"ociVersion": 7, "linux": {"namespaces": [{"type": "nope"}]}, "hostnme": "x"}"#;
    let e = parse_config(src).unwrap_err();
    assert_eq!(e.pointer(), Some("/ociVersion"));
    let pointers: Vec<&str> = e.violations().iter().map(|v| v.pointer.as_str()).collect();
    assert!(
        pointers.contains(&"/linux/namespaces/0/type"),
        "{pointers:?}"
    );
    assert!(pointers.contains(&"/hostnme"), "{pointers:?}");
    assert!(matches!(e, ParseError::Shape { .. }));
}

#[test]
fn the_report_places_each_finding_at_its_line_and_column() {
    let report = Report::new(
        "config.json",
        WITHOUT_ROOT_PATH.as_bytes(),
        &parse_config(WITHOUT_ROOT_PATH.as_bytes())
            .unwrap()
            .violations,
    );
    assert_eq!(report.errors(), 1);
    assert_eq!(report.warnings(), 0);
    assert!(!report.is_ok());
    let d = &report.diagnostics()[0];
    assert_eq!((d.line, d.column), (3, 11));
    assert_eq!(d.severity, Severity::Error);
    let text = report.to_string();
    let expected = "config.json:3:11: error[config.root.path.required]: /root/path: required property \"path\" is missing\n  |\n3 |   \"root\": {\"readonly\": true},\n  |           ^\nconfig.json: 1 error";
    assert_eq!(text, expected);
    let json = report.to_json();
    assert_eq!(json["diagnostics"][0]["level"], "REQUIRED");
    assert_eq!(report.summary(), "config.json: 1 error");

    let ok = Report::new("config.json", b"{}", &[]);
    assert_eq!(ok.to_string(), "config.json: ok");
}
