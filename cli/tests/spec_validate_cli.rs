//! `writ spec` and `writ validate` as a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    let spec = writ_spec::parse_config(text.as_bytes()).unwrap();
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
    let spec =
        writ_spec::parse_config(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
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
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn validate_reports_podman_file_modes() {
    let path = fixtures().join("valid/podman-run-options.json");
    let o = writ(
        &["validate", "--config", path.to_str().unwrap()],
        Path::new("/"),
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("/linux/devices/0/fileMode: 8630 "), "{out}");
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
        if pointer == "-" {
            assert_eq!(o.status.code(), Some(2), "{file}");
            let err = stderr(&o);
            assert!(
                err.contains("line ") && err.contains("column "),
                "{file}: {err}"
            );
        } else {
            assert_eq!(o.status.code(), Some(1), "{file}: {}", stderr(&o));
            let first = stdout(&o).lines().next().unwrap_or_default().to_owned();
            let shown = if pointer.is_empty() {
                "(root)"
            } else {
                pointer
            };
            assert!(first.starts_with(&format!("{shown}: ")), "{file}: {first}");
            assert!(
                first.contains(&format!(" [{id}] (line ")),
                "{file}: {first}"
            );
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
