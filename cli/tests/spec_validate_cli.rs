//! `writ spec` and `writ validate` as a user runs them.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use writ_macros::verifies;

fn writ(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/tests/fixtures")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn spec_writes_a_valid_config_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let o = writ(&["spec"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    let spec = writ_spec::parse_config(text.as_bytes()).unwrap().value;
    assert_eq!(spec.oci_version, writ_spec::OCI_VERSION);
    assert_eq!(spec.root.as_ref().unwrap().path, "rootfs");
    assert_eq!(
        spec.process.as_ref().unwrap().args.as_deref(),
        Some(&["sh".to_owned()][..])
    );

    let again = writ(&["spec"], dir.path());
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));
    // The first config is untouched.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("config.json")).unwrap(),
        text
    );

    let v = writ(&["validate"], dir.path());
    assert_eq!(v.status.code(), Some(0), "{}{}", stdout(&v), stderr(&v));
}

#[test]
fn spec_rootless_and_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b");
    std::fs::create_dir(&bundle).unwrap();
    let o = writ(
        &["spec", "--rootless", "--bundle", bundle.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let spec = writ_spec::parse_config(&std::fs::read(bundle.join("config.json")).unwrap())
        .unwrap()
        .value;
    let linux = spec.linux.unwrap();
    let ns: Vec<String> = linux
        .namespaces
        .unwrap()
        .iter()
        .map(|n| n.type_.to_string())
        .collect();
    assert!(
        ns.contains(&"user".to_owned()) && !ns.contains(&"network".to_owned()),
        "{ns:?}"
    );
    let uid = rustix::process::geteuid().as_raw();
    assert_eq!(linux.uid_mappings.unwrap()[0].host_id, uid);
    assert!(linux.resources.is_none());

    let v = writ(
        &["validate", "--bundle", bundle.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));

    let missing = writ(
        &["spec", "--bundle", "/nonexistent/writ-bundle"],
        dir.path(),
    );
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn validate_accepts_real_configs() {
    for name in [
        "runc-spec.json",
        "runc-spec-rootless.json",
        "crun-spec.json",
        "containerd-ctr-run-options.json",
        "podman-run.json",
    ] {
        let path = fixtures().join("valid").join(name);
        let o = writ(
            &["validate", "--config", path.to_str().unwrap()],
            Path::new("/"),
        );
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stdout(&o));
        let out = stdout(&o);
        let last = out.lines().last().unwrap_or_default();
        assert!(
            last.starts_with(&format!("{}: ok", path.display())),
            "{name}: {out}"
        );
        assert!(!out.contains("error["), "{name}: {out}");
    }
    // The runc configs break no recommendation either: one line, "ok".
    let path = fixtures().join("valid/runc-spec.json");
    let o = writ(&["validate", path.to_str().unwrap()], Path::new("/"));
    assert_eq!(stdout(&o), format!("{}: ok\n", path.display()));
}

#[test]
fn validate_warns_about_podman_file_modes_and_says_why() {
    let path = fixtures().join("valid/podman-run-options.json");
    let o = writ(
        &["validate", "--config", path.to_str().unwrap()],
        Path::new("/"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    let head = out
        .lines()
        .find(|l| l.contains("/linux/devices/0/fileMode"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        head.contains(": warning[config.valid_values.error]: /linux/devices/0/fileMode: 8630 "),
        "{head}"
    );
    assert!(
        out.contains("= note: accepted as runc accepts it [config_linux.devices.available]"),
        "{out}"
    );
}

#[test]
fn validate_rejects_the_invalid_corpus() {
    let dir = fixtures().join("invalid");
    let list = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    for line in list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, pointer) = (cols[0], cols.get(1).copied().unwrap_or(""));
        let id = cols.get(2).copied().unwrap_or("");
        let path = dir.join(file);
        let o = writ(&["validate", "-c", path.to_str().unwrap()], Path::new("/"));
        assert_eq!(o.status.code(), Some(1), "{file}: {}", stdout(&o));
        let out = stdout(&o);
        let prefix = format!("{}:", path.display());
        let errors: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with(&prefix) && l.contains(": error["))
            .collect();
        assert!(!errors.is_empty(), "{file}: {out}");
        assert!(
            out.lines().last().unwrap_or_default().contains(" error"),
            "{file}: {out}"
        );
        if pointer == "-" {
            // Not JSON: one error at the line and column of the syntax error.
            assert_eq!(errors.len(), 1, "{file}: {out}");
            assert!(
                errors[0].contains(": error[config.valid_values.error]: not valid JSON: "),
                "{file}: {out}"
            );
        } else {
            // `file:line:column: error[id]: pointer: message`, the expected one among them.
            let shown = if pointer.is_empty() {
                "(root)"
            } else {
                pointer
            };
            let want = format!(": error[{id}]: {shown}: ");
            let found = errors.iter().find(|l| l.contains(&want));
            let found = found.unwrap_or_else(|| panic!("{file}: no {want} in {out}"));
            let loc = found[prefix.len()..].split(':').take(2).collect::<Vec<_>>();
            assert!(
                loc.iter().all(|n| n.parse::<usize>().is_ok_and(|n| n >= 1)),
                "{file}: {found}"
            );
        }
        // Every finding names its requirement.
        for l in out.lines().filter(|l| l.starts_with(&prefix)) {
            if l.contains("error[") || l.contains("warning[") {
                let id = l.split('[').nth(1).and_then(|r| r.split(']').next());
                let id = id.unwrap_or_default();
                assert!(writ_spec::requirements::find(id).is_some(), "{file}: {l}");
            }
        }
    }
}

#[test]
fn validate_exit_2_on_unreadable_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = writ(&["validate"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("config.json"), "{}", stderr(&o));
    let o = writ(&["validate", "--config", "/nonexistent/x.json"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}

/// A config with misspelt members, as a person types it.
const MISSPELT: &str = r#"{
	"ociVersion": "1.3.0",
	"root": {"path": "rootfs"},
	"process": {
		"arsg": ["sh"],
		"cwd": "/",
		"user": {"uid": 0, "gid": 0}
	},
	"hostnme": "box",
	"mounts": [
		{"destinaton": "/proc", "type": "proc", "source": "proc"}
	]
}
"#;

fn validate_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_writ"))
        .arg("validate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[verifies("config.extensibility.log_unknown")]
#[test]
fn validate_names_misspelt_members_with_the_known_one() {
    let o = validate_stdin(&["-"], MISSPELT);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    // Unknown members: warnings, each with the closest known member.
    for (line, col, key, known) in [
        (5, 3, "/process/arsg", "args"),
        (9, 2, "/hostnme", "hostname"),
        (11, 4, "/mounts/0/destinaton", "destination"),
    ] {
        let head = format!(
            "<stdin>:{line}:{col}: warning[config.extensibility.log_unknown]: {key}: unknown property"
        );
        let at = out
            .find(&head)
            .unwrap_or_else(|| panic!("no {head} in\n{out}"));
        let rest = &out[at..];
        let help = format!("= help: did you mean `{known}`?");
        assert!(rest.contains(&help), "{head}: {out}");
    }
    // The missing members beside them: errors that name what was found.
    for (line, col, id, pointer, found) in [
        (
            4,
            13,
            "config.process.args.non_empty",
            "/process/args",
            "arsg",
        ),
        (
            11,
            3,
            "config.mounts.destination.required",
            "/mounts/0/destination",
            "destinaton",
        ),
    ] {
        let head = format!("<stdin>:{line}:{col}: error[{id}]: {pointer}: ");
        let at = out
            .find(&head)
            .unwrap_or_else(|| panic!("no {head} in\n{out}"));
        let block: String = out[at..].lines().take(5).collect::<Vec<_>>().join("\n");
        assert!(
            block.contains(&format!("= help: found `{found}`")),
            "{block}"
        );
    }
    // The caret sits under the spot, tabs copied so that it lines up.
    assert!(
        out.contains("11 | \t\t{\"destinaton\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}\n   | \t\t ^\n"),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("<stdin>: 2 errors, 3 warnings"));
}

#[test]
fn validate_format_json_is_one_document_with_every_finding() {
    let o = validate_stdin(&["--format", "json", "-"], MISSPELT);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["file"], "<stdin>");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["errors"], 2);
    assert_eq!(doc["warnings"], 3);
    let d = doc["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 5);
    for x in d {
        let id = x["requirement"].as_str().unwrap();
        let r = writ_spec::requirements::find(id).unwrap();
        assert_eq!(x["level"], r.level.as_str());
        assert_eq!(x["url"], r.url());
        assert!(x["line"].as_u64().unwrap() >= 1 && x["column"].as_u64().unwrap() >= 1);
    }
    let hostname = d.iter().find(|x| x["pointer"] == "/hostnme").unwrap();
    assert_eq!(hostname["severity"], "warning");
    assert_eq!(hostname["help"], "did you mean `hostname`?");
    // A valid config: ok, nothing to report.
    let o = validate_stdin(
        &["--format", "json", "-"],
        &MISSPELT
            .replace("arsg", "args")
            .replace("hostnme", "hostname")
            .replace("destinaton", "destination"),
    );
    assert_eq!(o.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
}
