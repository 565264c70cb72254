//! Fault injection: `create` killed (SIGKILL) at many points, after each of its steps and on
//! a timer, then `delete --force`: nothing of the container may be left, no process, no
//! mount, no cgroup in any hierarchy, no state. Drives writ only (the property is writ's
//! crash safety; runc 1.1.5 leaves cgroups and processes behind in the same trials).
//!
//! "After a step" needs no hook in the binary: `create --debug --log FILE` logs each step
//! (the init's steps too, through create), the test watches the log and kills create as
//! soon as the step's line is there.
//!
//! This is the only test of this binary: it reaps the zombies that killed creates leave to
//! it (the test process is a subreaper), which would steal other tests' children.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use writ_conformance::{host_mount_points, writ, Bundle, Ctx};
use writ_macros::verifies;

/// The debug lines of create's steps, in order (see spawn.rs, init/, commands/create.rs).
const STEPS: &[&str] = &[
    ": begin",
    ": planned",
    ": state directory reserved",
    // With cgroup2 (hybrid and v2 hosts): made and recorded before the clone, which clones
    // the init into it (cgroups::join). Never logged on a v1-only host.
    ": cgroup made for the clone",
    ": init cloned",
    ": cgroup created",
    ": init joined the cgroup",
    "init: namespaces set up",
    "init: rootfs prepared",
    "init: root entered",
    "init: process attributes set",
    ": init ready",
    ": state saved",
    ": init detached",
];

/// How a trial kills create.
#[derive(Debug, Clone, Copy)]
enum Kill {
    AfterStep(&'static str),
    AfterMicros(u64),
}

/// A small deterministic generator (no rand dependency): the timer trials' delays, in
/// microseconds, spread over `span_us` (how long a create takes with this binary: a
/// release build finishes in a few ms, a debug build in tens).
fn delays(n: usize, span_us: u64) -> Vec<u64> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + x % span_us.max(1)
        })
        .collect()
}

fn sigkill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs create and kills it as `kill` says; returns whether it was killed before it exited.
fn create_and_kill(ctx: &Ctx, bundle: &Bundle, id: &str, log: &Path, kill: Kill) -> bool {
    let _ = fs::remove_file(log);
    let mut child = Command::new(&ctx.rt.bin)
        .arg("--root")
        .arg(ctx.root())
        .arg("--debug")
        .arg("--log")
        .arg(log)
        .args(["create", "--bundle"])
        .arg(bundle.path())
        .arg(id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn create");
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        let due = match kill {
            Kill::AfterMicros(us) => start.elapsed() >= Duration::from_micros(us),
            Kill::AfterStep(step) => {
                fs::read_to_string(log).is_ok_and(|text| text.lines().any(|l| l.contains(step)))
            }
        };
        if due || start.elapsed() > Duration::from_secs(20) {
            sigkill(&mut child);
            return true;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Processes whose command line names the container (the init is a fork of create, so
/// it carries create's argv), zombies excepted (those are reaped: they are ours).
fn processes_of(id: &str) -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.first() == Some(&"Z") {
            if f.get(1).and_then(|p| p.parse::<i32>().ok()) == Some(me) {
                let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
            }
            continue;
        }
        let cmdline = fs::read(e.path().join("cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|a| a == id.as_bytes()) {
            out.push((pid, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    out
}

/// The container's cgroup directories (default cgroupsPath /writ/<id>) that exist.
fn cgroups_of(id: &str) -> Vec<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .filter(|l| {
            l.split_once(" - ")
                .is_some_and(|(_, r)| r.starts_with("cgroup ") || r.starts_with("cgroup2 "))
        })
        .filter_map(|l| l.split(' ').nth(4))
        .map(|mnt| Path::new(mnt).join("writ").join(id))
        .filter(|p| p.exists())
        .collect()
}

/// What a trial left, or nothing.
fn leftovers(ctx: &Ctx, bundle: &Bundle, id: &str) -> Vec<String> {
    let mut left = Vec::new();
    // A process killed by PDEATHSIG or exiting on EOF of its channel may still be on its
    // way out (slowly on a loaded host); one that survives this long is left behind.
    let deadline = Instant::now() + writ_conformance::scaled(Duration::from_secs(2));
    let procs = loop {
        let p = processes_of(id);
        if p.is_empty() || Instant::now() > deadline {
            break p;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    left.extend(
        procs
            .iter()
            .map(|(pid, cmd)| format!("process {pid}: {cmd}")),
    );
    left.extend(
        host_mount_points()
            .into_iter()
            .filter(|p| p.starts_with(bundle.path()))
            .map(|p| format!("mount {}", p.display())),
    );
    left.extend(
        cgroups_of(id)
            .into_iter()
            .map(|p| format!("cgroup {}", p.display())),
    );
    left.extend(
        fs::read_dir(ctx.root())
            .map(|rd| rd.flatten().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|e| format!("state {}", e.path().display())),
    );
    left
}

#[verifies(
    "runtime.errors.no_side_effects",
    "runtime.delete.resources",
    "runtime.lifecycle.destroy"
)]
#[test]
fn killed_create_leaves_nothing_after_delete_force() {
    let ctx = Ctx::new(writ(), "fault-create");
    let bundle = ctx.bundle();
    bundle.set_args(&["sleep", "30"]);
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("create.log");
    // 100 trials: each step 4 times, the rest on a timer of 1-50 ms.
    let mut trials: Vec<Kill> = Vec::new();
    for _ in 0..4 {
        trials.extend(STEPS.iter().map(|s| Kill::AfterStep(s)));
    }
    let timed = 100 - trials.len();
    // How long one create takes when nothing kills it (the same command, logging too).
    let probe = format!("wc-fault-{}-probe", std::process::id());
    let t0 = Instant::now();
    assert!(
        !create_and_kill(&ctx, &bundle, &probe, &log, Kill::AfterStep("never logged")),
        "the probe create finishes"
    );
    let span_us = t0.elapsed().as_micros() as u64;
    assert!(ctx.cmd(&["delete", "--force", &probe]).success());
    trials.extend(delays(timed, span_us).into_iter().map(Kill::AfterMicros));
    let mut failures = Vec::new();
    let mut killed = 0;
    for (n, kill) in trials.iter().enumerate() {
        let id = format!("wc-fault-{}-{n}", std::process::id());
        if create_and_kill(&ctx, &bundle, &id, &log, *kill) {
            killed += 1;
        }
        let del = ctx.cmd(&["delete", "--force", &id]);
        if !del.success() {
            failures.push(format!("trial {n} ({kill:?}): {del}"));
        }
        let left = leftovers(&ctx, &bundle, &id);
        if !left.is_empty() {
            failures.push(format!("trial {n} ({kill:?}) left: {left:?}"));
        }
        // Whatever happened, nothing of this trial may disturb the next one.
        writ_conformance::remove_cgroups_named(&id);
        writ_conformance::umount_under(bundle.path());
        for (pid, _) in processes_of(&id) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    assert!(
        killed >= 60,
        "most trials must kill create before it finishes ({killed} of 100 did)"
    );
    assert!(
        failures.is_empty(),
        "{} of 100 trials left something:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
