//! Hooks: order, state on stdin, args and env, timeout, failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use writ_conformance::{for_each_runtime, Bundle, Kind};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

/// A hook running `sh -c` that stores its stdin as `<dir>/<name>.json` and appends
/// `<name>:<HOOKVAR>:<$1>` to `<dir>/log`. `dir` is a host path for runtime-namespace
/// hooks and `/hooklog` for container-namespace hooks.
fn logging_hook(name: &str, dir: &str) -> Value {
    json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("cat > {dir}/{name}.json; echo \"{name}:$HOOKVAR:$1\" >> {dir}/log; readlink /proc/self/ns/net > {dir}/{name}.netns"), "hook", format!("arg-{name}")],
        "env": [format!("HOOKVAR=env-{name}")]
    })
}

/// A bundle whose hooks all log, with `<bundle>/hooklog` bind-mounted at /hooklog.
fn logging_bundle(ctx: &writ_conformance::Ctx) -> (Bundle, std::path::PathBuf) {
    let b = ctx.bundle();
    let dir = b.path().join("hooklog");
    fs::create_dir(&dir).unwrap();
    let host = dir.to_str().unwrap().to_owned();
    b.edit(|c| {
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/hooklog", "source": host, "options": ["bind"]}));
        // Every hook's state carries the config's annotations (writ reads them from the
        // frozen config for the hooks of start and delete).
        c["annotations"] = json!({"org.example.hooks": "on-stdin"});
        c["hooks"] = json!({
            "prestart": [logging_hook("prestart", &host), logging_hook("prestart2", &host)],
            "createRuntime": [logging_hook("createRuntime", &host)],
            // createContainer runs before pivot_root (paths of the runtime namespace);
            // startContainer runs inside the container's root.
            "createContainer": [logging_hook("createContainer", &host)],
            "startContainer": [logging_hook("startContainer", "/hooklog")],
            "poststart": [logging_hook("poststart", &host)],
            "poststop": [logging_hook("poststop", &host)]
        });
    });
    b.set_sh("echo process:: >> /hooklog/log; readlink /proc/self/ns/net > /hooklog/process.netns");
    (b, dir)
}

fn log_names(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("log"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split(':').next().unwrap_or("").to_owned())
        .collect()
}

fn wait_for_line(dir: &Path, name: &str) {
    let deadline = Instant::now() + T;
    while !log_names(dir).iter().any(|n| n == name) {
        assert!(
            Instant::now() < deadline,
            "{name} never ran; log: {:?}",
            log_names(dir)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[verifies(
    "config.hooks.order",
    "config.hooks.state_stdin",
    "config.hooks.prestart.timing",
    "config.hooks.prestart.before_create_runtime",
    "config.hooks.prestart.runtime_ns",
    "config.hooks.prestart.path.runtime_ns",
    "config.hooks.create_runtime.timing",
    "config.hooks.create_runtime.runtime_ns",
    "config.hooks.create_runtime.path.runtime_ns",
    "config.hooks.create_container.timing",
    "config.hooks.create_container.after_create_runtime",
    "config.hooks.create_container.container_ns",
    "config.hooks.create_container.path.runtime_ns",
    "config.hooks.start_container.timing",
    "config.hooks.start_container.container_ns",
    "config.hooks.start_container.path.container_ns",
    "config.hooks.poststart.timing",
    "config.hooks.poststart.runtime_ns",
    "config.hooks.poststart.path.runtime_ns",
    "config.hooks.poststop.timing",
    "config.hooks.poststop.runtime_ns",
    "config.hooks.poststop.path.runtime_ns",
    "runtime.lifecycle.prestart.invoke",
    "runtime.lifecycle.create_runtime.invoke",
    "runtime.lifecycle.create_container.invoke",
    "runtime.lifecycle.start_container.invoke",
    "runtime.lifecycle.poststart.invoke",
    "runtime.lifecycle.poststop.invoke",
    "config.hooks.prestart.path.runtime_ns_timing",
    "config.hooks.prestart.runtime_ns_timing",
    "config.hooks.create_runtime.path.runtime_ns_timing",
    "config.hooks.create_runtime.runtime_ns_timing",
    "config.hooks.create_container.path.runtime_ns_timing",
    "config.hooks.create_container.container_ns_timing",
    "config.hooks.start_container.path.container_ns_timing",
    "config.hooks.start_container.container_ns_timing",
    "config.hooks.poststart.path.runtime_ns_timing",
    "config.hooks.poststart.runtime_ns_timing",
    "config.hooks.poststop.path.runtime_ns_timing",
    "config.hooks.poststop.runtime_ns_timing"
)]
#[test]
fn hooks_order_stdin_args_env() {
    for_each_runtime("hooks-order", |ctx| {
        let (b, dir) = logging_bundle(ctx);
        let mut c = ctx.container(&b);
        c.create().ok();
        let after_create = log_names(&dir);
        // runc 1.1 builds its startContainer list from the poststart hooks and runs it
        // during create; the oracle then only proves the rest.
        let runc_early_start = ctx.kind() == Kind::Runc
            && after_create
                .iter()
                .any(|n| n == "startContainer" || n == "poststart");
        if runc_early_start {
            ctx.deviation("runc 1.1 runs startContainer (and poststart) hooks during create");
        } else {
            let mut sorted = after_create.clone();
            sorted.sort();
            assert_eq!(
                sorted,
                ["createContainer", "createRuntime", "prestart", "prestart2"],
                "hooks run by create: {after_create:?}"
            );
        }
        let pos0 = |n: &str| after_create.iter().position(|x| x == n);
        assert!(
            pos0("prestart").is_some() && pos0("prestart") < pos0("prestart2"),
            "list order: {after_create:?}"
        );
        assert!(
            pos0("prestart2") < pos0("createRuntime"),
            "prestart before createRuntime: {after_create:?}"
        );
        assert!(
            pos0("createContainer") > pos0("createRuntime"),
            "createContainer after createRuntime: {after_create:?}"
        );
        assert!(
            pos0("createContainer") > pos0("prestart"),
            "createContainer after prestart: {after_create:?}"
        );

        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0));
        wait_for_line(&dir, "poststart");
        let after_start = log_names(&dir);
        let pos = |n: &str| after_start.iter().position(|x| x == n);
        assert!(pos("process").is_some(), "{after_start:?}");
        if !runc_early_start {
            assert!(pos("startContainer").is_some(), "{after_start:?}");
            assert!(
                pos("startContainer") < pos("process"),
                "startContainer before the user process: {after_start:?}"
            );
            assert!(
                pos("createContainer") < pos("startContainer"),
                "{after_start:?}"
            );
        }
        assert!(
            !after_start.iter().any(|n| n == "poststop"),
            "poststop only at delete: {after_start:?}"
        );

        c.delete().ok();
        let all = log_names(&dir);
        assert_eq!(
            all.last().map(String::as_str),
            Some("poststop"),
            "poststop after delete: {all:?}"
        );

        // Namespaces: runtime-namespace hooks see the host's network namespace,
        // container-namespace hooks the container's (new) one.
        let host_net = writ_conformance::ns_link("self", "net");
        let container_net = fs::read_to_string(dir.join("process.netns")).unwrap_or_default();
        for name in ["prestart", "createRuntime", "poststart", "poststop"] {
            let ns = fs::read_to_string(dir.join(format!("{name}.netns"))).unwrap_or_default();
            assert_eq!(
                ns.trim(),
                host_net,
                "{name} runs in the runtime's namespaces"
            );
        }
        for name in ["createContainer", "startContainer"] {
            if runc_early_start && name == "startContainer" {
                continue;
            }
            let ns = fs::read_to_string(dir.join(format!("{name}.netns"))).unwrap_or_default();
            assert_eq!(
                ns.trim(),
                container_net.trim(),
                "{name} runs in the container's namespaces"
            );
            assert_ne!(
                ns.trim(),
                host_net,
                "{name} runs in the container's namespaces"
            );
        }

        // args and env of each hook.
        let log = fs::read_to_string(dir.join("log")).unwrap();
        for name in [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop",
        ] {
            if runc_early_start && name == "startContainer" {
                continue;
            }
            let want = format!("{name}:env-{name}:arg-{name}");
            assert!(
                log.lines().any(|l| l == want),
                "hook {name} got its env and args ({want}): {log}"
            );
            // The state JSON on stdin.
            let text = fs::read_to_string(dir.join(format!("{name}.json"))).unwrap_or_default();
            let st: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name} stdin {text:?}: {e}"));
            assert_eq!(st["id"], c.id.as_str(), "{name} state: {st}");
            assert!(st["ociVersion"].is_string(), "{name} state: {st}");
            if st["annotations"]["org.example.hooks"] == "on-stdin" || ctx.kind() == Kind::Writ {
                assert_eq!(
                    st["annotations"]["org.example.hooks"], "on-stdin",
                    "{name} state annotations: {st}"
                );
            } else {
                ctx.deviation(&format!("{name} hooks get no annotations in the state"));
            }
            let bundle = fs::canonicalize(b.path()).unwrap();
            assert_eq!(
                st["bundle"].as_str(),
                Some(bundle.to_str().unwrap()),
                "{name} state: {st}"
            );
            let in_container = name == "createContainer" || name == "startContainer";
            if ctx.kind() == Kind::Runc && in_container && st["pid"].as_i64() == Some(1) {
                ctx.deviation(&format!(
                    "runc 1.1 gives {name} hooks the pid as seen inside the container"
                ));
            } else if name != "poststop" {
                assert_eq!(
                    st["pid"].as_i64(),
                    c.pid.map(i64::from),
                    "{name} state pid (host pid): {st}"
                );
            }
        }
        let st: Value =
            serde_json::from_str(&fs::read_to_string(dir.join("poststop.json")).unwrap()).unwrap();
        assert_eq!(st["status"], "stopped", "poststop state: {st}");
    });
}

fn failing_hook_bundle(ctx: &writ_conformance::Ctx, kind: &str, hook: Value) -> Bundle {
    let b = ctx.bundle();
    b.set_sh("echo user-process-ran");
    b.edit(|c| c["hooks"] = json!({ kind: [hook] }));
    b
}

#[verifies(
    "runtime.lifecycle.prestart.fail",
    "runtime.lifecycle.create_runtime.fail",
    "runtime.lifecycle.create_container.fail"
)]
#[test]
fn failing_create_hooks_fail_create() {
    for_each_runtime("hooks-failure-create", |ctx| {
        for kind in ["prestart", "createRuntime", "createContainer"] {
            let b = ctx.bundle();
            let marker = b.path().join("hook-ran");
            let script = format!("echo ran > {}; exit 3", marker.display());
            b.set_sh("echo user-process-ran");
            b.edit(|c| {
                c["hooks"] = json!({ kind: [{"path": "/bin/sh", "args": ["sh", "-c", script]}] })
            });
            let mut c = ctx.container(&b);
            let out = c.create();
            out.fails();
            assert!(
                marker.exists(),
                "the {kind} hook ran before create failed: {out}"
            );
            // No container is left behind.
            c.state_out().fails();
            assert!(!c.stdout().contains("user-process-ran"), "{kind}: {out}");
        }
    });
}

#[verifies(
    "runtime.lifecycle.start_container.fail",
    "runtime.lifecycle.poststart.fail"
)]
#[test]
fn failing_start_hooks_fail_start() {
    for_each_runtime("hooks-failure-start", |ctx| {
        let b = failing_hook_bundle(
            ctx,
            "startContainer",
            json!({"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}),
        );
        let mut c = ctx.container(&b);
        let created = c.create();
        if ctx.kind() == Kind::Runc && !created.success() && created.stderr.contains("hook") {
            ctx.deviation("runc 1.1 runs startContainer hooks during create");
        } else {
            created.ok();
            let start = c.start();
            if ctx.kind() == Kind::Runc && start.success() {
                ctx.deviation("runc 1.1 does not fail start when a startContainer hook fails");
            } else {
                start.fails();
            }
            let _ = c.wait_exit(T);
        }
        assert!(
            !c.stdout().contains("user-process-ran"),
            "user process ran after a failed startContainer hook"
        );

        let b = failing_hook_bundle(
            ctx,
            "poststart",
            json!({"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}),
        );
        b.set_sh("sleep 30");
        let mut c = ctx.container(&b);
        let created = c.create();
        if ctx.kind() == Kind::Runc && !created.success() && created.stderr.contains("hook") {
            ctx.deviation("runc 1.1 runs poststart hooks during create (with startContainer)");
            return;
        }
        created.ok();
        let start = c.start();
        if ctx.kind() == Kind::Runc && start.success() {
            ctx.deviation("runc 1.1 does not fail start when a poststart hook fails");
            return;
        }
        start.fails();
        // The container is stopped.
        assert!(c.wait_exit(T).is_some() || c.pid.is_some_and(|p| !writ_conformance::pid_alive(p)));
    });
}

/// A hook that outlives its timeout has failed: create reports it and leaves no container.
/// (That a timeout of 0 is refused is proven by `spec/tests/schema_ids.rs`.)
#[verifies("runtime.lifecycle.create_runtime.fail")]
#[test]
fn hook_timeout() {
    for_each_runtime("hooks-timeout", |ctx| {
        let b = ctx.bundle();
        let marker = b.path().join("hook-started");
        let script = format!("echo started > {}; exec sleep 20", marker.display());
        b.edit(|c| {
            c["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", script], "timeout": 1}]})
        });
        let mut c = ctx.container(&b);
        let t0 = Instant::now();
        let out = c.create();
        let took = t0.elapsed();
        out.fails();
        assert!(marker.exists(), "the hook ran: {out}");
        assert!(
            took < Duration::from_secs(8),
            "create waited {took:?} for a hook with a 1 s timeout"
        );
        c.state_out().fails();
    });
}

#[verifies("config.hooks.state_stdin")]
#[test]
fn hook_not_reading_stdin() {
    for_each_runtime("hooks-no-stdin", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["true"]);
        // A large annotation makes the state JSON bigger than a pipe buffer, so writing
        // it to a hook that exits without reading gets EPIPE.
        let big = "x".repeat(80 * 1024);
        b.edit(|c| {
            c["annotations"] = json!({"org.example.big": big});
            c["hooks"] = json!({
                "createRuntime": [{"path": "/bin/true", "args": ["true"]}],
                "prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exec 0<&-; exit 0"]}]
            });
        });
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0));
        c.delete().ok();
    });
}

#[verifies("runtime.lifecycle.poststop.fail_warn", "runtime.warnings.continue")]
#[test]
fn failing_poststop_hook_is_a_warning() {
    for_each_runtime("hooks-poststop-failure", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["true"]);
        let log = b.path().join("poststop.log");
        let script = format!("echo second >> {}", log.display());
        b.edit(|c| {
            c["hooks"] = json!({"poststop": [
                {"path": "/bin/sh", "args": ["sh", "-c", "exit 5"]},
                {"path": "/bin/sh", "args": ["sh", "-c", script]}
            ]})
        });
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        c.wait_exit(T);
        c.delete().ok();
        let ran = fs::read_to_string(&log).unwrap_or_default();
        if ctx.kind() == Kind::Runc && ran.is_empty() {
            ctx.deviation("runc 1.1 stops running poststop hooks at the first failure");
        } else {
            assert_eq!(ran, "second\n", "the next poststop hook still ran");
        }
        c.state_out().fails();
    });
}
