//! `pause` and `resume` (runc's commands; the spec has no such operations): the
//! container's processes frozen through the cgroup freezer (v1 `freezer.state` on this
//! hybrid host, cgroup2's `cgroup.freeze` in the pure cgroup v2 lane), status `paused` in
//! `state` and `list`, and what `kill`, `delete --force`, `pause` and `resume` do to a
//! paused container, against runc as the oracle.

use std::time::Duration;

use writ_conformance::{for_each_runtime, pid_alive, scaled, Container, Ctx, Kind};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

/// Prints a line every 20 ms; exits 3 on SIGTERM.
const TICK: &str = "trap 'echo got-term; exit 3' TERM; while :; do echo tick; sleep 0.02; done";

/// Lines the container printed so far.
fn ticks(c: &Container<'_>) -> usize {
    c.stdout().lines().filter(|l| *l == "tick").count()
}

/// Asserts that the container prints nothing for a while (its processes are frozen).
#[track_caller]
fn assert_frozen(c: &Container<'_>) {
    let before = ticks(c);
    std::thread::sleep(scaled(Duration::from_millis(300)));
    assert_eq!(ticks(c), before, "a paused container kept running");
}

/// Waits until the container prints again (its processes run).
#[track_caller]
fn assert_runs(c: &Container<'_>) {
    let before = ticks(c);
    let deadline = std::time::Instant::now() + scaled(T);
    while ticks(c) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the container does not run"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A started container printing ticks.
fn ticking<'a>(ctx: &'a Ctx, b: &'a writ_conformance::Bundle) -> Container<'a> {
    b.set_sh(TICK);
    let mut c = ctx.container(b);
    // A cgroup named after the id, so that its removal can be checked.
    let cg = format!("/{}", c.id);
    b.edit(|conf| conf["linux"]["cgroupsPath"] = serde_json::json!(cg));
    c.create().ok();
    c.start().ok();
    c.wait_status("running", T);
    assert_runs(&c);
    c
}

/// The status `list --format json` shows for the container.
fn listed_status(ctx: &Ctx, id: &str) -> String {
    let out = ctx.cmd(&["list", "--format", "json"]);
    out.ok();
    let all: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
    all.as_array()
        .into_iter()
        .flatten()
        .find(|c| c["id"] == id)
        .and_then(|c| c["status"].as_str())
        .unwrap_or("<not listed>")
        .to_string()
}

#[verifies(
    "runtime.state.status.extra_new_only",
    "runtime.state_op.returns_state"
)]
#[test]
fn pause_freezes_and_resume_thaws() {
    for_each_runtime("pause-resume", |ctx| {
        let b = ctx.bundle();
        let c = ticking(ctx, &b);
        let pid = c.pid.expect("pid");
        ctx.cmd(&["pause", &c.id]).ok();
        assert_eq!(c.status(), "paused");
        assert_eq!(c.state()["pid"].as_i64(), Some(pid as i64), "pid shown");
        assert_eq!(listed_status(ctx, &c.id), "paused");
        let table = ctx.cmd(&["list"]);
        assert!(
            table
                .stdout
                .lines()
                .any(|l| l.contains(&c.id) && l.contains("paused")),
            "list table: {table}"
        );
        assert_frozen(&c);
        // Pausing again, or starting, is refused; the container stays paused.
        let again = ctx.cmd(&["pause", &c.id]);
        if again.success() && ctx.kind() == Kind::Crun {
            ctx.deviation("crun pauses a paused container again without an error");
        } else {
            again.fails();
        }
        c.start().fails();
        assert_eq!(c.status(), "paused");
        ctx.cmd(&["resume", &c.id]).ok();
        assert_eq!(c.status(), "running");
        assert_runs(&c);
        // Resuming a running container is refused, and says it is not paused.
        let out = ctx.cmd(&["resume", &c.id]);
        if out.success() && ctx.kind() == Kind::Crun {
            ctx.deviation("crun resumes a running container without an error");
        } else {
            out.fails();
            assert!(out.text_lower().contains("not paused"), "{out}");
        }
        assert_eq!(c.status(), "running");
        assert!(pid_alive(pid));
    });
}

#[test]
fn pause_of_a_stopped_container_fails() {
    for_each_runtime("pause-stopped", |ctx| {
        let b = ctx.bundle();
        let c = ctx.stopped(&b);
        let out = ctx.cmd(&["pause", &c.id]);
        out.fails();
        assert!(out.text_lower().contains("not running"), "{out}");
        ctx.cmd(&["resume", &c.id]).fails();
        assert_eq!(c.status(), "stopped");
        ctx.cmd(&["pause", "no-such-container-pause"]).fails();
    });
}

/// A signal other than SIGKILL waits for `resume`; SIGKILL kills a paused container at
/// once (runc thaws it for that), and `kill --all` thaws it whatever the signal.
#[verifies("runtime.kill.signal")]
#[test]
fn kill_of_a_paused_container() {
    for_each_runtime("pause-kill", |ctx| {
        let b = ctx.bundle();
        let c = ticking(ctx, &b);
        ctx.cmd(&["pause", &c.id]).ok();
        c.kill("TERM").ok();
        assert_frozen(&c);
        assert_eq!(c.status(), "paused", "TERM is pending while frozen");
        ctx.cmd(&["resume", &c.id]).ok();
        assert_eq!(c.wait_exit(T), Some(3), "TERM delivered at resume");
        assert!(c.stdout().contains("got-term"));

        let b = ctx.bundle();
        let c = ticking(ctx, &b);
        ctx.cmd(&["pause", &c.id]).ok();
        c.kill("KILL").ok();
        assert_eq!(
            c.wait_exit(T),
            Some(137),
            "SIGKILL kills a paused container"
        );
        c.wait_status("stopped", T);
        c.delete().ok();

        let b = ctx.bundle();
        let c = ticking(ctx, &b);
        ctx.cmd(&["pause", &c.id]).ok();
        ctx.cmd(&["kill", "--all", &c.id, "KILL"]).ok();
        assert_eq!(
            c.wait_exit(T),
            Some(137),
            "kill --all KILL of a paused container"
        );

        // kill --all with another signal leaves the container thawed (runc's way): the
        // signal is delivered at once.
        let b = ctx.bundle();
        let c = ticking(ctx, &b);
        ctx.cmd(&["pause", &c.id]).ok();
        ctx.cmd(&["kill", "--all", &c.id, "TERM"]).ok();
        assert_eq!(
            c.wait_exit(T),
            Some(3),
            "kill --all TERM of a paused container"
        );
    });
}

#[verifies(
    "runtime.delete.not_stopped.error",
    "runtime.delete.not_stopped.no_effect"
)]
#[test]
fn delete_of_a_paused_container() {
    for_each_runtime("pause-delete", |ctx| {
        let b = ctx.bundle();
        let c = ticking(ctx, &b);
        let pid = c.pid.expect("pid");
        ctx.cmd(&["pause", &c.id]).ok();
        // Without --force: refused, left paused.
        c.delete().fails();
        assert_eq!(c.status(), "paused");
        assert!(pid_alive(pid));
        // --force thaws and kills it, and removes it.
        c.delete_force().ok();
        assert!(c.wait_exit(T).is_some() || !pid_alive(pid));
        c.state_out().fails();
        assert!(
            writ_conformance::cgroup_dirs_named(&c.id).is_empty(),
            "cgroup left after delete --force of a paused container"
        );
    });
}
