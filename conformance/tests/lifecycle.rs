//! The lifecycle of runtime.md and every error it names.

use std::fs;
use std::time::{Duration, Instant};

use writ_conformance::{for_each_runtime, ns_link, pid_alive, Kind};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

/// A container script that waits for SIGTERM and exits 3 when it arrives.
const WAIT_TERM: &str =
    "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done";

#[verifies(
    "runtime.operations.supported",
    "runtime.scope.same_entity",
    "runtime.state_op.returns_state",
    "runtime.state.pid.required",
    "runtime.create.new_container",
    "runtime.create.args_deferred",
    "runtime.lifecycle.create_no_user_program",
    "runtime.lifecycle.run_program",
    "runtime.start.run_program",
    "runtime.kill.signal",
    "runtime.delete.resources",
    "runtime.delete.id_reuse",
    "runtime.lifecycle.destroy",
    "runtime.state.status.extra_new_only"
)]
#[test]
fn lifecycle_create_start_kill_delete() {
    for_each_runtime("lifecycle", |ctx| {
        let b = ctx.bundle();
        b.set_sh(WAIT_TERM);
        let mut c = ctx.container(&b);
        c.create().ok();

        // created: state JSON with the required fields, the pid file names a host pid.
        let st = c.state();
        assert_eq!(st["status"], "created", "state after create: {st}");
        assert_eq!(st["id"], c.id.as_str(), "state id: {st}");
        assert!(
            st["ociVersion"].as_str().is_some_and(|v| !v.is_empty()),
            "ociVersion in {st}"
        );
        let bundle = fs::canonicalize(b.path()).unwrap();
        assert_eq!(
            st["bundle"].as_str(),
            Some(bundle.to_str().unwrap()),
            "bundle in {st}"
        );
        let pid = c.pid.expect("pid file written by create");
        assert_eq!(
            st["pid"].as_i64(),
            Some(pid as i64),
            "state pid vs pid file: {st}"
        );
        assert!(
            pid_alive(pid),
            "the container process {pid} is alive after create"
        );
        // The user program has not run yet.
        assert!(
            !c.stdout().contains("ready"),
            "the user process ran before start: {}",
            c.stdout()
        );
        // The pid file holds the pid in our (host) pid namespace; the process is in a new one.
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let nspid = status
            .lines()
            .find(|l| l.starts_with("NSpid:"))
            .unwrap_or("");
        assert!(
            nspid.split_whitespace().nth(1) == Some(pid.to_string().as_str()),
            "host pid in {nspid}"
        );
        assert_eq!(
            nspid.split_whitespace().last(),
            Some("1"),
            "pid 1 inside its pid namespace: {nspid}"
        );
        assert_ne!(ns_link(&pid.to_string(), "pid"), ns_link("self", "pid"));
        // It stays our descendant (we are a subreaper, like conmon): create's exit re-parents it to us.
        let ppid = status
            .lines()
            .find(|l| l.starts_with("PPid:"))
            .unwrap_or("");
        assert_eq!(
            ppid.split_whitespace().nth(1),
            Some(std::process::id().to_string().as_str()),
            "container process is re-parented to the caller of create: {ppid}"
        );

        c.start().ok();
        let deadline = Instant::now() + T;
        while !c.stdout().contains("ready") {
            assert!(
                Instant::now() < deadline,
                "user process did not run after start"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let st = c.state();
        assert_eq!(st["status"], "running", "state after start: {st}");
        assert_eq!(
            st["pid"].as_i64(),
            Some(pid as i64),
            "pid stays the same: {st}"
        );

        c.kill("TERM").ok();
        assert_eq!(c.wait_exit(T), Some(3), "exit status after SIGTERM");
        assert!(
            c.stdout().contains("got-term"),
            "the signal reached the process: {}",
            c.stdout()
        );
        let st = c.state();
        assert_eq!(st["status"], "stopped", "state after exit: {st}");

        c.delete().ok();
        c.state_out().fails();
        assert!(
            !ctx.root().join(&c.id).exists() || ctx.kind() != Kind::Writ,
            "state dir removed"
        );
    });
}

#[verifies("runtime.kill.signal")]
#[test]
fn kill_signal_forms() {
    for_each_runtime("kill-signal-forms", |ctx| {
        for sig in ["TERM", "SIGTERM", "15"] {
            let b = ctx.bundle();
            b.set_sh(WAIT_TERM);
            let mut c = ctx.container(&b);
            c.create().ok();
            c.start().ok();
            let deadline = Instant::now() + T;
            while !c.stdout().contains("ready") {
                assert!(
                    Instant::now() < deadline,
                    "user process did not run after start"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            c.kill(sig).ok();
            assert_eq!(c.wait_exit(T), Some(3), "exit status after kill {sig}");
            c.delete().ok();
        }
        // Default signal is TERM.
        let b = ctx.bundle();
        b.set_sh(WAIT_TERM);
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        let deadline = Instant::now() + T;
        while !c.stdout().contains("ready") {
            assert!(
                Instant::now() < deadline,
                "user process did not run after start"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        ctx.cmd(&["kill", &c.id]).ok();
        assert_eq!(
            c.wait_exit(T),
            Some(3),
            "exit status after kill without a signal"
        );
    });
}

#[verifies("runtime.lifecycle.run_program", "runtime.lifecycle.process_exit")]
#[test]
fn run_returns_exit_status_and_output() {
    for_each_runtime("run-exit-status", |ctx| {
        let b = ctx.bundle();
        b.set_sh("echo out-line; echo err-line >&2; exit 7");
        let mut c = ctx.container(&b);
        let out = c.run(&[]);
        assert_eq!(
            out.code,
            Some(7),
            "run exits with the container's status: {out}"
        );
        assert!(
            out.stdout.contains("out-line"),
            "container stdout is the caller's: {out}"
        );
        assert!(
            out.stderr.contains("err-line"),
            "container stderr is the caller's: {out}"
        );
    });
}

#[verifies(
    "runtime.state_op.id_required",
    "runtime.start.id_required",
    "runtime.kill.id_required",
    "runtime.delete.id_required",
    "runtime.create.args_required"
)]
#[test]
fn error_missing_id() {
    for_each_runtime("error-missing-id", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["true"]);
        // Control: the runtime works with an id.
        let mut control = ctx.container(&b);
        control.create().ok();
        control.state_out().ok();
        let bundle = b.path().to_str().unwrap();
        ctx.cmd(&["create", "--bundle", bundle]).fails();
        ctx.cmd(&["start"]).fails();
        ctx.cmd(&["state"]).fails();
        ctx.cmd(&["kill"]).fails();
        ctx.cmd(&["delete"]).fails();
    });
}

#[verifies("runtime.state_op.unknown_id")]
#[test]
fn error_unknown_id() {
    for_each_runtime("error-unknown-id", |ctx| {
        // Control: a known id answers.
        let b = ctx.bundle();
        b.set_args(&["true"]);
        let mut control = ctx.container(&b);
        control.create().ok();
        control.state_out().ok();
        let id = writ_conformance::unique_id("unknown");
        ctx.cmd(&["state", &id]).fails();
        ctx.cmd(&["start", &id]).fails();
        ctx.cmd(&["kill", &id, "KILL"]).fails();
        ctx.cmd(&["delete", &id]).fails();
    });
}

#[verifies(
    "runtime.create.id_invalid.error",
    "runtime.create.id_invalid.nothing_created",
    "runtime.state.id.unique"
)]
#[test]
fn error_duplicate_create() {
    for_each_runtime("error-duplicate-create", |ctx| {
        let b = ctx.bundle();
        b.set_sh(WAIT_TERM);
        let mut c = ctx.container(&b);
        c.create().ok();
        let pid = c.pid;
        let b2 = ctx.bundle();
        let bundle2 = b2.path().to_str().unwrap();
        ctx.cmd(&["create", "--bundle", bundle2, &c.id]).fails();
        let st = c.state();
        assert_eq!(
            st["status"], "created",
            "the first container is untouched: {st}"
        );
        assert_eq!(st["pid"].as_i64(), pid.map(i64::from), "same pid: {st}");
        assert!(pid.is_some_and(pid_alive));

        // Malformed ids are refused and leave nothing behind.
        for bad in ["bad/id", "..", "a b"] {
            let before: Vec<_> = fs::read_dir(ctx.root())
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            ctx.cmd(&["create", "--bundle", bundle2, bad]).fails();
            let after: Vec<_> = fs::read_dir(ctx.root())
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert_eq!(before, after, "create with id {bad:?} left state behind");
            ctx.cmd(&["state", bad]).fails();
        }
    });
}

#[verifies(
    "runtime.start.not_created.error",
    "runtime.start.not_created.no_effect"
)]
#[test]
fn error_start_not_created() {
    for_each_runtime("error-start-not-created", |ctx| {
        let b = ctx.bundle();
        b.set_sh(WAIT_TERM);
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        c.wait_status("running", T);
        // running -> start fails
        c.start().fails();
        assert_eq!(c.status(), "running");
        c.kill("KILL").ok();
        c.wait_exit(T);
        // stopped -> start fails
        c.start().fails();
        assert_eq!(c.status(), "stopped");
    });
}

#[verifies("runtime.kill.not_live.error", "runtime.kill.not_live.no_effect")]
#[test]
fn error_kill_stopped() {
    for_each_runtime("error-kill-stopped", |ctx| {
        let b = ctx.bundle();
        let c = ctx.stopped(&b);
        assert_eq!(c.status(), "stopped");
        let out = c.kill("TERM");
        out.fails();
        // containerd's runc shim treats a kill failure as harmless only when its text says
        // "container not running" (or "no such process", "process already finished").
        assert!(
            out.text_lower().contains("container not running"),
            "plain kill of a stopped container names it not running: {out}"
        );
        assert_eq!(c.status(), "stopped");
    });
}

/// containerd's runc v2 shim runs `kill --all ID 9` after the container process exited and
/// retries until it succeeds: `--all` on a stopped container succeeds, as runc's does (the
/// deviation recorded on runtime.kill.not_live.error), and changes nothing.
#[verifies("runtime.kill.not_live.no_effect")]
#[test]
fn kill_all_of_stopped_succeeds() {
    for_each_runtime("kill-all-stopped", |ctx| {
        let b = ctx.bundle();
        let c = ctx.stopped(&b);
        assert_eq!(c.status(), "stopped");
        for sig in ["9", "KILL", "TERM"] {
            ctx.cmd(&["kill", "--all", &c.id, sig]).ok();
            assert_eq!(c.status(), "stopped", "after kill --all {sig}");
        }
        // ... and the container still deletes normally.
        c.delete().ok();
        c.state_out().fails();
    });
}

#[verifies(
    "runtime.delete.not_stopped.error",
    "runtime.delete.not_stopped.no_effect"
)]
#[test]
fn error_delete_created_without_force() {
    for_each_runtime("error-delete-created", |ctx| {
        let b = ctx.bundle();
        b.set_sh(WAIT_TERM);
        let mut c = ctx.container(&b);
        c.create().ok();
        let pid = c.pid.expect("pid");
        let out = c.delete();
        if ctx.kind() == Kind::Runc && out.success() {
            // runc deliberately lets `delete` remove a created container.
            ctx.deviation("runc deletes a `created` container without --force");
            return;
        }
        out.fails();
        let st = c.state();
        assert_eq!(st["status"], "created", "left exactly as it was: {st}");
        assert_eq!(st["pid"].as_i64(), Some(pid as i64));
        assert!(pid_alive(pid), "process still alive");
        // and it still starts
        c.start().ok();
        c.wait_status("running", T);
    });
}

#[verifies(
    "runtime.delete.not_stopped.error",
    "runtime.delete.not_stopped.no_effect"
)]
#[test]
fn error_delete_running_without_force() {
    for_each_runtime("error-delete-running", |ctx| {
        let b = ctx.bundle();
        b.set_sh(WAIT_TERM);
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        c.wait_status("running", T);
        let pid = c.pid.expect("pid");
        c.delete().fails();
        let st = c.state();
        assert_eq!(st["status"], "running", "left exactly as it was: {st}");
        assert!(pid_alive(pid), "process still alive");
        // --force removes it and its process.
        c.delete_force().ok();
        assert!(c.wait_exit(T).is_some() || !pid_alive(pid));
        c.state_out().fails();
    });
}

#[verifies("runtime.state_op.unknown_id", "runtime.delete.resources")]
#[test]
fn error_state_of_deleted() {
    for_each_runtime("error-state-deleted", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["true"]);
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        c.wait_exit(T);
        c.delete().ok();
        c.state_out().fails();
        c.kill("KILL").fails();
        c.start().fails();
        c.delete().fails();
    });
}

#[verifies(
    "runtime.lifecycle.create_env.error",
    "runtime.create.apply_failure.error",
    "runtime.create.apply_failure.nothing_created",
    "runtime.errors.no_side_effects"
)]
#[test]
fn missing_executable_fails_at_create() {
    for_each_runtime("missing-executable", |ctx| {
        for args in [&["/no/such/program"][..], &["no-such-program-in-path"][..]] {
            let b = ctx.bundle();
            b.set_args(args);
            let mut c = ctx.container(&b);
            // A cgroup named after the id, to check that the failure removes it.
            let cg = format!("/{}", c.id);
            b.edit(|conf| conf["linux"]["cgroupsPath"] = serde_json::json!(cg));
            let before: usize = leftover_processes(&b);
            let out = c.create();
            out.fails();
            let cgroups = writ_conformance::cgroup_dirs_named(&c.id);
            assert!(cgroups.is_empty(), "failed create left cgroups {cgroups:?}");
            let mounts: Vec<_> = writ_conformance::host_mount_points()
                .into_iter()
                .filter(|p| p.starts_with(b.path()))
                .collect();
            assert!(mounts.is_empty(), "failed create left mounts {mounts:?}");
            assert_eq!(
                leftover_processes(&b),
                before,
                "failed create left a process behind"
            );
            let text = out.text_lower();
            assert!(
                text.contains("no such file or directory")
                    || text.contains("executable file not found"),
                "error text for {args:?} names the cause: {out}"
            );
            c.state_out().fails();
            assert!(
                !ctx.root().join(&c.id).exists(),
                "failed create left its state dir behind"
            );
            assert!(
                !c.pid_file_path().exists(),
                "failed create wrote a pid file"
            );
        }
    });
}

#[verifies("runtime.state_op.returns_state")]
#[test]
fn state_reports_creating_during_create() {
    for_each_runtime("state-creating", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["true"]);
        let flag = b.path().join("in-hook");
        let release = b.path().join("release");
        let script = format!(
            "touch {f}; i=0; while [ ! -e {r} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done",
            f = flag.display(),
            r = release.display()
        );
        b.edit(|c| {
            c["hooks"] = serde_json::json!({
                "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]
            })
        });
        let mut c = ctx.container(&b);
        let id = c.id.clone();
        let seen = std::thread::scope(|s| {
            let h = s.spawn(|| {
                let deadline = Instant::now() + T;
                while !flag.exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(2));
                }
                let out = ctx.cmd(&["state", &id]);
                fs::write(&release, "").unwrap();
                out
            });
            let created = c.create();
            (created, h.join().unwrap())
        });
        let (created, st) = seen;
        created.ok();
        let status = serde_json::from_str::<serde_json::Value>(&st.stdout)
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_owned));
        if ctx.kind() != Kind::Writ && status.as_deref() != Some("creating") {
            ctx.deviation(&format!(
                "`state` during create does not report creating (got {status:?})"
            ));
            return;
        }
        assert_eq!(
            status.as_deref(),
            Some("creating"),
            "state while create runs: {st}"
        );
    });
}

#[verifies("runtime.lifecycle.config_frozen")]
#[test]
fn config_changes_after_create_have_no_effect() {
    for_each_runtime("config-frozen", |ctx| {
        let b = ctx.bundle();
        b.set_sh("echo original-args; hostname");
        let mut c = ctx.container(&b);
        c.create().ok();
        b.edit(|conf| {
            conf["process"]["args"] = serde_json::json!(["sh", "-c", "echo changed-args"]);
            conf["hostname"] = serde_json::json!("changed-host");
        });
        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0));
        let out = c.stdout();
        assert!(
            out.contains("original-args"),
            "the config read at create is used: {out}"
        );
        assert!(!out.contains("changed"), "{out}");
    });
}

#[verifies(
    "bundle.config.required",
    "config.root.path.exists",
    "runtime.lifecycle.create_env.error",
    "runtime.create.apply_failure.nothing_created",
    "bundle.config.at_root",
    "bundle.config.name"
)]
#[test]
fn broken_bundles_fail_create() {
    for_each_runtime("broken-bundle", |ctx| {
        // Control: an intact bundle creates.
        let b = ctx.bundle();
        b.set_args(&["true"]);
        ctx.container(&b).create().ok();
        // No config.json.
        let b = ctx.bundle();
        fs::remove_file(b.path().join("config.json")).unwrap();
        let mut c = ctx.container(&b);
        c.create().fails();
        c.state_out().fails();
        assert!(
            !ctx.root().join(&c.id).exists(),
            "nothing left for {}",
            c.id
        );

        // root.path missing.
        let b = ctx.bundle();
        b.edit(|conf| conf["root"]["path"] = serde_json::json!("no-such-rootfs"));
        let mut c = ctx.container(&b);
        c.create().fails();
        c.state_out().fails();
        assert!(
            !ctx.root().join(&c.id).exists(),
            "nothing left for {}",
            c.id
        );

        // The config only under another name, or only in a subdirectory.
        for (dir, name) in [
            ("", "Config.json"),
            ("", "config.JSON"),
            ("sub", "config.json"),
        ] {
            let b = ctx.bundle();
            let text = fs::read(b.path().join("config.json")).unwrap();
            fs::remove_file(b.path().join("config.json")).unwrap();
            fs::create_dir_all(b.path().join(dir)).unwrap();
            fs::write(b.path().join(dir).join(name), text).unwrap();
            let mut c = ctx.container(&b);
            c.create().fails();
            c.state_out().fails();
        }

        // Unparseable config.json.
        let b = ctx.bundle();
        fs::write(b.path().join("config.json"), "{ not json").unwrap();
        let mut c = ctx.container(&b);
        c.create().fails();
        c.state_out().fails();
    });
}

#[verifies("config.process.required_at_start", "runtime.start.no_process")]
#[test]
fn start_without_process_fails() {
    for_each_runtime("no-process", |ctx| {
        let b = ctx.bundle();
        b.edit(|conf| {
            conf.as_object_mut().unwrap().remove("process");
        });
        let mut c = ctx.container(&b);
        let created = c.create();
        if created.success() {
            // Created without a process: start must refuse.
            c.start().fails();
        } else {
            // Refusing at create is allowed too; then the error says why and nothing is left.
            created.fails();
            assert!(
                created.stderr.to_lowercase().contains("process"),
                "the error names the missing process: {created}"
            );
            c.state_out().fails();
        }
        // Control: the same bundle with a process runs.
        let b = ctx.bundle();
        b.set_args(&["true"]);
        ctx.run(&b).ok();
    });
}

/// Processes whose working directory or root lies in the bundle (a container init left behind).
fn leftover_processes(b: &writ_conformance::Bundle) -> usize {
    let Ok(procs) = fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .flatten()
        .filter(|p| p.file_name().to_string_lossy().parse::<i32>().is_ok())
        .filter(|p| {
            ["root", "cwd"]
                .iter()
                .any(|l| fs::read_link(p.path().join(l)).is_ok_and(|t| t.starts_with(b.path())))
        })
        .count()
}

#[verifies(
    "config.extensibility.ignore_unknown",
    "config.annotations.unknown_keys",
    "runtime.state.annotations.empty"
)]
#[test]
fn unknown_properties_and_annotations() {
    for_each_runtime("unknown-properties", |ctx| {
        // Without annotations the state omits them or gives an empty object.
        let b = ctx.bundle();
        b.set_args(&["true"]);
        let mut c = ctx.container(&b);
        c.create().ok();
        let st = c.state();
        assert!(
            st.get("annotations")
                .is_none_or(|a| a.as_object().is_some_and(|o| o.is_empty())),
            "annotations absent or empty: {st}"
        );

        // Unknown properties (top level and nested) and unknown annotation keys are ignored.
        let b = ctx.bundle();
        b.set_sh("echo ran");
        b.edit(|conf| {
            conf["org.example.unknownTopLevel"] = serde_json::json!({"x": 1});
            conf["process"]["org.example.unknownNested"] = serde_json::json!(true);
            conf["annotations"] =
                serde_json::json!({"org.example.whatever": "v", "com.example.k": "",
                    "org.opencontainers.notdefined": "x"});
        });
        let mut c = ctx.container(&b);
        c.create().ok();
        let st = c.state();
        assert_eq!(
            st["annotations"]["org.example.whatever"], "v",
            "annotations in the state: {st}"
        );
        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0));
        assert!(c.stdout().contains("ran"));
    });
}
