//! More of runtime.md's lifecycle: however the container process ends, the container is
//! `stopped`; a config that breaks the spec is refused by `create` before anything is built.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;
use std::time::{Duration, Instant};

use serde_json::json;
use writ_conformance::{for_each_runtime, Bundle};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

/// The one-letter state of `pid` in /proc (`None` once it is gone).
fn proc_state(pid: i32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().next().map(str::to_owned)
}

/// Drops the pid namespace, so the container process is not a namespace init (which
/// ignores signals it has no handler for, even its own SIGSEGV sent with kill).
fn without_pid_namespace(b: &Bundle) {
    b.edit(|c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "pid")
    });
}

#[verifies("runtime.lifecycle.process_exit")]
#[test]
fn stopped_however_the_process_ends() {
    for_each_runtime("process-exit-ways", |ctx| {
        // (how it ends, script, runtime kill signal, wait status)
        let cases: [(&str, &str, Option<&str>, i32); 4] = [
            ("normal exit", "echo up; exit 0", None, 0),
            ("error exit", "echo up; exit 5", None, 5),
            ("crash", "echo up; kill -SEGV $$; sleep 30", None, 128 + 11),
            (
                "runtime kill",
                "echo up; while :; do sleep 0.05; done",
                Some("KILL"),
                128 + 9,
            ),
        ];
        for (how, script, signal, want) in cases {
            let b = ctx.bundle();
            without_pid_namespace(&b);
            b.set_sh(script);
            let mut c = ctx.container(&b);
            c.create().ok();
            let pid = c.pid.expect("pid file written by create");
            c.start().ok();
            let deadline = Instant::now() + T;
            while !c.stdout().contains("up") {
                assert!(Instant::now() < deadline, "{how}: the process never ran");
                std::thread::sleep(Duration::from_millis(5));
            }
            if let Some(sig) = signal {
                assert_eq!(c.status(), "running", "{how}: before the kill");
                c.kill(sig).ok();
            }
            // We are its subreaper and have not reaped it: it stays a zombie, which is
            // already a stopped container.
            while proc_state(pid).as_deref() != Some("Z") {
                assert!(
                    Instant::now() < deadline,
                    "{how}: process {pid} did not end ({:?})",
                    proc_state(pid)
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(c.status(), "stopped", "{how}: state of an ended process");
            assert_eq!(c.wait_exit(T), Some(want), "{how}: wait status");
            assert_eq!(c.status(), "stopped", "{how}: state once reaped");
            c.delete().ok();
            c.state_out().fails();
        }
    });
}

#[verifies("runtime.create.validate")]
#[test]
fn invalid_config_is_refused_before_anything_is_built() {
    for_each_runtime("create-validates-first", |ctx| {
        let with_hook = |marker: &std::path::Path| {
            let b = ctx.bundle();
            b.set_args(&["true"]);
            let m = marker.to_str().unwrap().to_owned();
            b.edit(|c| {
                c["hooks"] = json!({"createRuntime": [
                    {"path": "/bin/busybox", "args": ["busybox", "touch", m]}
                ]})
            });
            b
        };
        // Control: a valid config gets built, and its createRuntime hook runs.
        let marker_dir = tempfile::tempdir().unwrap();
        let marker = marker_dir.path().join("built");
        let b = with_hook(&marker);
        let mut c = ctx.container(&b);
        c.create().ok();
        assert!(
            marker.exists(),
            "the createRuntime hook ran for the control"
        );

        // The same config with a relative process.cwd: refused, and nothing was built.
        let marker = marker_dir.path().join("built-invalid");
        let b = with_hook(&marker);
        b.edit(|c| c["process"]["cwd"] = json!("relative/dir"));
        let mut c = ctx.container(&b);
        let out = c.create();
        out.fails();
        assert!(
            out.text_lower().contains("cwd"),
            "the error names process.cwd: {out}"
        );
        assert!(
            !marker.exists(),
            "create ran the createRuntime hook of an invalid config"
        );
        c.state_out().fails();
        assert!(
            !ctx.root().join(&c.id).exists(),
            "nothing left for {}",
            c.id
        );
        assert!(
            !std::path::Path::new("/sys/fs/cgroup/memory")
                .join(&c.id)
                .exists()
                && !std::path::Path::new("/sys/fs/cgroup/unified")
                    .join(&c.id)
                    .exists(),
            "no cgroup for {}",
            c.id
        );
    });
}

#[verifies("runtime.state.extra_properties")]
#[test]
fn state_carries_runc_extra_properties() {
    for_each_runtime("state-extra-properties", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["true"]);
        let mut c = ctx.container(&b);
        c.create().ok();
        let st = c.state();
        // The spec's members are all there ...
        for key in ["ociVersion", "id", "status", "pid", "bundle"] {
            assert!(st.get(key).is_some(), "{key} in {st}");
        }
        // ... next to runc's own: rootfs, created (RFC 3339) and owner.
        let rootfs = fs::canonicalize(b.rootfs()).unwrap();
        assert_eq!(
            st["rootfs"].as_str(),
            Some(rootfs.to_str().unwrap()),
            "rootfs in {st}"
        );
        let created = st["created"].as_str().unwrap_or_default();
        assert!(
            created.len() >= 20
                && created.as_bytes()[4] == b'-'
                && created.as_bytes()[10] == b'T'
                && (created.ends_with('Z') || created.contains('+')),
            "created is an RFC 3339 time: {st}"
        );
        // runc leaves owner empty for a container created by root.
        assert!(st["owner"].is_string(), "owner in {st}");
    });
}

#[verifies(
    "features.oci_version_min.accepted",
    "features.oci_version_max.accepted"
)]
#[test]
fn configs_at_the_features_version_bounds_run() {
    for_each_runtime("features-version-bounds", |ctx| {
        let out = ctx.cmd(&["features"]);
        out.ok();
        let features: serde_json::Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("features is not JSON ({e}): {out}"));
        for key in ["ociVersionMin", "ociVersionMax"] {
            let version = features[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {features}"))
                .to_owned();
            let b = ctx.bundle();
            b.set_sh("echo ran");
            b.edit(|c| c["ociVersion"] = json!(version));
            let mut c = ctx.container(&b);
            c.create().ok();
            c.start().ok();
            assert_eq!(c.wait_exit(T), Some(0), "{key} {version}");
            assert!(c.stdout().contains("ran"), "{key} {version}");
        }
    });
}
