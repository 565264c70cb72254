//! `exec`: another process in a running (or created) container, with runc's command line.
//! The runtime-spec has no exec operation; config.md#process applies to the exec'd
//! process, and runc's behaviour is the contract engines rely on (podman/conmon and
//! containerd's shim call `exec --process F --detach --pid-file P [--tty --console-socket
//! S] ID`; kubelet's exec probes do so every few seconds).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;
use std::io::{BufRead, Read};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use writ_conformance::{
    for_each_runtime, kv_lines, pid_alive, scaled, Bundle, ConsoleSocket, Container, Ctx, Invoke,
    Kind,
};
use writ_macros::verifies;

fn t() -> Duration {
    scaled(Duration::from_secs(10))
}

/// A started container running `sleep`.
fn running<'a>(ctx: &'a Ctx, b: &'a Bundle) -> Container<'a> {
    b.set_args(&["sleep", "1000"]);
    let mut c = ctx.container(b);
    c.create().ok();
    c.start().ok();
    c
}

/// A scratch directory (pid files, process.json).
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("exec-")
        .tempdir_in(writ_conformance::work_dir())
        .unwrap()
}

/// `exec -d --pid-file F FLAGS... ID CMD...`; returns the process's host pid.
#[track_caller]
fn exec_detached(c: &Container, flags: &[&str], cmd: &[&str]) -> i32 {
    let d = scratch();
    let pf = d.path().join("exec.pid");
    let pfs = pf.to_str().unwrap();
    let mut all = vec!["-d", "--pid-file", pfs];
    all.extend_from_slice(flags);
    c.exec(&all, cmd).ok();
    let pid: i32 = fs::read_to_string(&pf).unwrap().trim().parse().unwrap();
    assert!(pid_alive(pid), "the detached process {pid} runs");
    pid
}

/// Kills and reaps a process we are the (sub)reaper of.
fn kill_reap(pid: i32) {
    let p = nix::unistd::Pid::from_raw(pid);
    let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
    let _ = writ_conformance::wait_pid(pid, t());
}

fn ns_of(pid: i32, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_else(|e| format!("<{e}>"))
}

/// A status line of /proc/<pid>/status (e.g. "CapEff").
fn status_field(pid: i32, key: &str) -> String {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    kv_lines(&s.replace(":\t", "="))
        .get(key)
        .cloned()
        .unwrap_or_default()
}

/// A change to a config.
type Edit = fn(&mut serde_json::Value);

#[test]
fn exec_joins_every_namespace_and_the_cgroup() {
    for_each_runtime("exec-namespaces", |ctx| {
        // (name, config edit) — the base config has pid, network, ipc, uts and mount.
        let cases: [(&str, Edit); 4] = [
            ("no mount namespace", |c| {
                c["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|n| n["type"] != "mount")
            }),
            ("base", |_| {}),
            ("user+cgroup", |c| {
                let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
                ns.push(json!({"type": "user"}));
                ns.push(json!({"type": "cgroup"}));
                let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
                c["linux"]["uidMappings"] = map.clone();
                c["linux"]["gidMappings"] = map;
            }),
            ("time", |c| {
                let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
                ns.push(json!({"type": "time"}));
                c["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 86400, "nanosecs": 0}});
            }),
        ];
        for (name, edit) in cases {
            let b = ctx.bundle();
            b.edit(edit);
            b.set_args(&["sleep", "1000"]);
            let mut c = ctx.container(&b);
            let out = c.create();
            if ctx.kind() == Kind::Runc && !out.success() && name != "base" {
                ctx.deviation(&format!(
                    "runc 1.1.5 refuses the {name} case: {}",
                    out.stderr.trim()
                ));
                continue;
            }
            out.ok();
            c.start().ok();
            let init = c.pid.unwrap();
            b.edit(|c| c["process"]["oomScoreAdj"] = json!(500));
            let pid = exec_detached(&c, &[], &["sleep", "1000"]);
            for ns in ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"] {
                assert_eq!(ns_of(pid, ns), ns_of(init, ns), "{name}: {ns} namespace");
            }
            let cg = |p: i32| fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap();
            assert_eq!(
                cg(pid),
                cg(init),
                "{name}: the exec'd process is in the cgroup"
            );
            // The container's root, and pid 1 of its pid namespace is the init.
            assert_eq!(
                fs::read_link(format!("/proc/{pid}/root")).unwrap(),
                fs::read_link(format!("/proc/{init}/root")).unwrap(),
                "{name}: root"
            );
            let out = c.exec(
                &[],
                &[
                    "sh",
                    "-c",
                    "cat /proc/1/cmdline; echo; id -u; cat /proc/self/oom_score_adj",
                ],
            );
            out.ok();
            let lines: Vec<&str> = out.stdout.lines().collect();
            assert!(
                lines[0].starts_with("sleep"),
                "{name}: pid 1 is the init: {out}"
            );
            assert_eq!(lines[1], "0", "{name}: root in the container: {out}");
            assert_eq!(
                lines[2], "0",
                "{name}: config changed after create does not reach exec: {out}"
            );
            kill_reap(pid);
        }
    });
}

#[verifies(
    "config.process.rlimits.soft.applied",
    "config.process.rlimits.hard.applied"
)]
#[test]
fn exec_exit_status_stdio_user_env_cwd() {
    for_each_runtime("exec-basics", |ctx| {
        let b = ctx.bundle();
        let c = running(ctx, &b);
        let out = c.exec(&[], &["sh", "-c", "echo out; echo err >&2; exit 3"]);
        assert_eq!(out.code, Some(3), "the exit status is the process's: {out}");
        assert_eq!(out.stdout, "out\n", "{out}");
        assert!(out.stderr.contains("err"), "{out}");
        let out = c.exec(
            &[
                "-u",
                "1000:100",
                "-g",
                "7",
                "-g",
                "8",
                "-e",
                "FOO=bar",
                "-e",
                "TERM=dumb",
                "--cwd",
                "/dev",
            ],
            &[
                "sh",
                "-c",
                "id -u; id -g; id -G; echo $FOO $TERM; pwd; ulimit -n; ulimit -Hn",
            ],
        );
        out.ok();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines,
            ["1000", "100", "100 7 8", "bar dumb", "/dev", "1024", "1024"],
            "user, groups, env (overriding TERM), cwd, the container's rlimits: {out}"
        );
        // A program that is not there.
        let out = c.exec(&[], &["no-such-program"]);
        out.fails();
        if ctx.kind() == Kind::Writ {
            assert!(
                out.text_lower().contains("executable file not found"),
                "{out}"
            );
            assert_eq!(
                out.code,
                Some(255),
                "runc's exit status for a failed exec: {out}"
            );
        }
    });
}

#[verifies(
    "config.process.rlimits.soft.applied",
    "config.process.rlimits.hard.applied",
    "config.process.oom_score_adj.set",
    "config.process.cwd.absolute"
)]
#[test]
fn exec_process_json() {
    for_each_runtime("exec-process-json", |ctx| {
        let b = ctx.bundle();
        let c = running(ctx, &b);
        let d = scratch();
        let pj = d.path().join("process.json");
        let process = json!({
            "terminal": false,
            "user": {"uid": 1000, "gid": 1000, "additionalGids": [5]},
            "args": ["sh", "-c", "id -u; id -G; echo $A; pwd; ulimit -Sn; ulimit -Hn; cat /proc/self/oom_score_adj; grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/self/status"],
            "env": ["PATH=/bin", "A=from-json"],
            "cwd": "/proc",
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}],
            "noNewPrivileges": true,
            "oomScoreAdj": 600
        });
        fs::write(&pj, process.to_string()).unwrap();
        let out = c.exec(&["-p", pj.to_str().unwrap()], &[]);
        out.ok();
        let mut lines: Vec<&str> = out.stdout.lines().collect();
        // runc 1.1.5 now and then leaves the exec'd process's soft RLIMIT_NOFILE at the
        // hard value (seen once in 20-odd runs, 2026-12-02; its Go runtime raises the soft
        // limit at start-up): a deviation of runc's, never accepted of writ.
        if ctx.kind() == Kind::Runc && lines.get(4) == Some(&"200") {
            ctx.deviation("runc 1.1.5 sometimes leaves an exec'd process's soft RLIMIT_NOFILE at the hard value");
            lines[4] = "100";
        }
        assert_eq!(
            &lines[..6],
            ["1000", "1000 5", "from-json", "/proc", "100", "200"],
            "{out}"
        );
        if ctx.kind() == Kind::Runc && lines[6] == "0" {
            ctx.deviation("runc 1.1.5 does not apply oomScoreAdj to an exec'd process");
        } else {
            assert_eq!(lines[6], "600", "oomScoreAdj: {out}");
        }
        let kv = kv_lines(&out.stdout.replace(":\t", "="));
        assert_eq!(kv["CapBnd"], "0000000000000020", "only CAP_KILL: {out}");
        assert_eq!(
            kv["CapEff"], "0000000000000000",
            "uid 1000 without ambient: {out}"
        );
        assert_eq!(kv["NoNewPrivs"], "1", "{out}");
        // A process object that breaks the spec is refused before anything runs.
        fs::write(&pj, json!({"args": ["sh"], "cwd": "relative"}).to_string()).unwrap();
        let out = c.exec(&["-p", pj.to_str().unwrap()], &[]);
        out.fails();
        if ctx.kind() == Kind::Writ {
            assert!(
                out.stderr.contains("/process/cwd"),
                "names the member: {out}"
            );
        }
    });
}

#[verifies("config.process.capabilities.ungrantable_ok")]
#[test]
fn exec_cap_and_no_new_privs_flags() {
    for_each_runtime("exec-caps", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["process"]["noNewPrivileges"] = json!(false));
        let c = running(ctx, &b);
        let pid = exec_detached(&c, &[], &["sleep", "1000"]);
        assert_eq!(status_field(pid, "NoNewPrivs"), "0");
        let eff = u64::from_str_radix(&status_field(pid, "CapEff"), 16).unwrap();
        assert_eq!(eff & (1 << 13), 0, "no CAP_NET_RAW without -c");
        kill_reap(pid);
        if ctx.kind() == Kind::Writ {
            // No AppArmor or SELinux on this host: a label is refused, naming the member.
            for (flag, member) in [
                ("--apparmor", "apparmorProfile"),
                ("--process-label", "selinuxLabel"),
            ] {
                let out = c.exec(&[flag, "writ-test"], &["true"]);
                out.fails();
                assert!(out.stderr.contains(member), "{out}");
            }
        }
        let pid = exec_detached(
            &c,
            &["-c", "CAP_NET_RAW", "--no-new-privs"],
            &["sleep", "1000"],
        );
        assert_eq!(status_field(pid, "NoNewPrivs"), "1", "--no-new-privs");
        for set in ["CapEff", "CapPrm", "CapBnd"] {
            let bits = u64::from_str_radix(&status_field(pid, set), 16).unwrap();
            assert_ne!(bits & (1 << 13), 0, "-c CAP_NET_RAW in {set}");
            assert_ne!(bits & (1 << 5), 0, "the container's CAP_KILL kept in {set}");
        }
        kill_reap(pid);
    });
}

#[verifies("runtime_linux.fds.extra")]
#[test]
fn exec_preserve_fds_and_no_other_fd() {
    for_each_runtime("exec-preserve-fds", |ctx| {
        let b = ctx.bundle();
        let c = running(ctx, &b);
        let (r, w) = nix::unistd::pipe().unwrap();
        let script =
            "echo via3 >&3; for f in /proc/self/fd/*; do echo \"${f##*/}=$(readlink $f)\"; done";
        let out = c.exec_with(
            &["--preserve-fds", "1"],
            &["sh", "-c", script],
            Invoke {
                extra_fds: vec![w],
                ..Default::default()
            },
        );
        out.ok();
        let mut got = String::new();
        fs::File::from(r).read_to_string(&mut got).unwrap();
        assert_eq!(got, "via3\n", "fd 3 is the caller's pipe");
        for line in out.stdout.lines() {
            let (fd, target) = line.split_once('=').unwrap();
            let n: i32 = fd.parse().unwrap();
            assert!(
                // The glob's own directory fd is listed, and gone by the readlink.
                n <= 3 || target.is_empty() || target.ends_with("/fd"),
                "fd {n} ({target}) was not passed: {out}"
            );
        }
    });
}

/// Reads from a pty master until `want` shows up (or the deadline).
fn read_until(master: &OwnedFd, want: &str) -> String {
    let mut got = String::new();
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    while !got.contains(want) && start.elapsed() < t() {
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(master),
            nix::poll::PollFlags::POLLIN,
        )];
        if nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16)).unwrap_or(0) > 0 {
            match nix::unistd::read(master, &mut buf) {
                Ok(n) if n > 0 => got.push_str(&String::from_utf8_lossy(&buf[..n])),
                _ => break,
            }
        }
    }
    got
}

#[test]
fn exec_detached_pid_file_and_tty() {
    for_each_runtime("exec-detach-tty", |ctx| {
        let b = ctx.bundle();
        let c = running(ctx, &b);
        let start = Instant::now();
        let pid = exec_detached(&c, &[], &["sleep", "1000"]);
        assert!(start.elapsed() < t(), "-d returns while the process runs");
        kill_reap(pid);
        // A terminal: the pty master goes to the console socket.
        let sock = ConsoleSocket::listen();
        let pid = exec_detached(
            &c,
            &["-t", "--console-socket", sock.path.to_str().unwrap()],
            &[
                "sh",
                "-c",
                "tty; [ -t 0 ] && echo stdin-is-a-tty; sleep 1000",
            ],
        );
        let got = sock.receive().expect("the pty master");
        assert_eq!(got.fds.len(), 1, "one fd");
        let text = read_until(&got.fds[0], "stdin-is-a-tty");
        assert!(text.contains("/dev/pts/"), "{text:?}");
        assert!(text.contains("stdin-is-a-tty"), "{text:?}");
        kill_reap(pid);
        // -t -d without a console socket: nobody would hold the terminal.
        c.exec(&["-t", "-d"], &["true"]).fails();
    });
}

#[test]
fn exec_refused_when_stopped_or_unknown_allowed_when_created() {
    for_each_runtime("exec-status", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["true"]);
        let mut c = ctx.container(&b);
        c.create().ok();
        // runc allows exec into a created container (its namespaces exist).
        let out = c.exec(&[], &["sh", "-c", "echo in-created"]);
        out.ok();
        assert_eq!(out.stdout, "in-created\n");
        c.start().ok();
        assert_eq!(c.wait_exit(t()), Some(0));
        let out = c.exec(&[], &["true"]);
        out.fails();
        assert!(out.text_lower().contains("stopped"), "{out}");
        let out = ctx.cmd(&["exec", "no-such-container", "true"]);
        out.fails();
        assert!(out.text_lower().contains("not exist"), "{out}");
    });
}

/// The container's cgroup directory in the freezer hierarchy (v1), or its cgroup2
/// directory; `None` where neither is mounted.
fn freezer_dir(pid: i32) -> Option<(PathBuf, bool)> {
    if let Some(root) = writ_conformance::pure_cgroup2_root() {
        return writ_conformance::cgroup2_dir_of(&root, pid).map(|d| (d, true));
    }
    let cg = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let path = cg.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, ctrl, path) = (f.next()?, f.next()?, f.next()?);
        ctrl.split(',')
            .any(|c| c == "freezer")
            .then(|| path.to_string())
    })?;
    let dir = Path::new("/sys/fs/cgroup/freezer").join(path.trim_start_matches('/'));
    dir.is_dir().then_some((dir, false))
}

/// Freezes or thaws the cgroup and waits until the kernel says it is done: a v1 freezer
/// reads FREEZING for a while on a busy host, and a runtime may take that for running
/// (runc 1.1.5 then execs and hangs in the frozen cgroup).
fn freeze(dir: &Path, v2: bool, on: bool) {
    let (file, value, state, done) = match (v2, on) {
        (true, _) => (
            "cgroup.freeze",
            if on { "1" } else { "0" },
            "cgroup.events",
            if on { "frozen 1" } else { "frozen 0" },
        ),
        (false, true) => ("freezer.state", "FROZEN", "freezer.state", "FROZEN"),
        (false, false) => ("freezer.state", "THAWED", "freezer.state", "THAWED"),
    };
    fs::write(dir.join(file), value).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !fs::read_to_string(dir.join(state)).is_ok_and(|s| s.lines().any(|l| l.trim() == done)) {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never became {done:?}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[verifies(
    "config_linux.cgroups.fitness_check",
    "config_linux.cgroups.fitness_check.error"
)]
#[test]
fn exec_refused_when_paused_and_never_hangs() {
    for_each_runtime("exec-paused", |ctx| {
        let b = ctx.bundle();
        let c = running(ctx, &b);
        let Some((dir, v2)) = freezer_dir(c.pid.unwrap()) else {
            ctx.skip("no freezer on this host");
        };
        freeze(&dir, v2, true);
        struct Thaw<'a>(&'a Path, bool);
        impl Drop for Thaw<'_> {
            fn drop(&mut self) {
                freeze(self.0, self.1, false);
            }
        }
        let _thaw = Thaw(&dir, v2);
        let out = c.exec(&[], &["true"]);
        out.fails();
        assert!(out.text_lower().contains("paused"), "{out}");
        let out = c.exec_with(
            &["--ignore-paused"],
            &["true"],
            Invoke {
                timeout: Some(Duration::from_secs(3)),
                ..Default::default()
            },
        );
        if ctx.kind() == Kind::Runc && out.timed_out {
            ctx.deviation("runc's exec --ignore-paused into a frozen cgroup hangs");
        } else {
            out.fails();
            assert!(out.text_lower().contains("frozen"), "says why: {out}");
        }
        drop(_thaw);
        c.exec(&[], &["true"]).ok();
    });
}

#[verifies(
    "config_linux.cgroups.fitness_check",
    "config_linux.cgroups.fitness_check.error"
)]
#[test]
fn exec_into_a_sub_cgroup() {
    for_each_runtime("exec-sub-cgroup", |ctx| {
        let b = ctx.bundle();
        let c = running(ctx, &b);
        let init = c.pid.unwrap();
        let cg = fs::read_to_string(format!("/proc/{init}/cgroup")).unwrap();
        let (arg, dir, line_of) = if let Some(root) = writ_conformance::pure_cgroup2_root() {
            let d = writ_conformance::cgroup2_dir_of(&root, init).unwrap();
            ("sub", d, "0::")
        } else {
            let path = cg
                .lines()
                .find_map(|l| l.split_once(":pids:").map(|(_, p)| p.to_string()))
                .expect("a v1 pids hierarchy");
            let d = Path::new("/sys/fs/cgroup/pids").join(path.trim_start_matches('/'));
            ("pids:sub", d, ":pids:")
        };
        let sub = dir.join("sub");
        // Missing: refused, naming it.
        c.exec(&["--cgroup", arg], &["true"]).fails();
        fs::create_dir(&sub).unwrap();
        let pid = exec_detached(&c, &["--cgroup", arg], &["sleep", "1000"]);
        let mine = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        let line = mine.lines().find(|l| l.contains(line_of)).unwrap();
        assert!(line.ends_with("/sub"), "in the sub-cgroup: {mine}");
        kill_reap(pid);
        let _ = fs::remove_dir(&sub);
    });
}

#[test]
fn exec_forwards_signals_in_the_foreground() {
    for_each_runtime("exec-signals", |ctx| {
        let b = ctx.bundle();
        let c = running(ctx, &b);
        let mut child = std::process::Command::new(&ctx.rt.bin)
            .arg("--root")
            .arg(ctx.root())
            .args(["exec", &c.id, "sh", "-c"])
            .arg("trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 0.05; done")
            .stdout(std::process::Stdio::piped())
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > t() {
                let _ = child.kill();
                panic!("exec did not end after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        assert!(rest.contains("got-term"), "{rest}");
        assert_eq!(
            status.code(),
            Some(9),
            "the process's status after the forwarded TERM"
        );
    });
}

#[test]
fn exec_gets_the_containers_seccomp_filter() {
    for_each_runtime("exec-seccomp", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["seccomp"] = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
            })
        });
        let c = running(ctx, &b);
        let out = c.exec(&[], &["sh", "-c", "mkdir /tmp/denied 2>&1; echo rc=$?"]);
        out.ok();
        assert!(
            out.stdout
                .to_lowercase()
                .contains("operation not permitted"),
            "{out}"
        );
        assert!(!b.rootfs().join("tmp/denied").exists());
    });
}

#[test]
fn exec_scheduler_and_io_priority_from_process_json() {
    for_each_runtime("exec-sched-ioprio", |ctx| {
        let b = ctx.bundle();
        let c = running(ctx, &b);
        let d = scratch();
        let pj = d.path().join("process.json");
        let process = json!({
            "args": ["sleep", "1000"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 0, "gid": 0},
            "scheduler": {"policy": "SCHED_BATCH", "nice": 7},
            "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 6}
        });
        fs::write(&pj, process.to_string()).unwrap();
        let pid = exec_detached(&c, &["-p", pj.to_str().unwrap()], &[]);
        // SAFETY: plain queries of another process's scheduling attributes.
        let (policy, ioprio) = unsafe {
            (
                libc::sched_getscheduler(pid),
                libc::syscall(libc::SYS_ioprio_get, 1, pid),
            )
        };
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let nice: i32 = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .nth(16)
            .unwrap()
            .parse()
            .unwrap();
        kill_reap(pid);
        if ctx.kind() == Kind::Runc && policy != libc::SCHED_BATCH {
            ctx.deviation("runc 1.1.5 has no process.scheduler nor ioPriority");
            return;
        }
        assert_eq!(policy, libc::SCHED_BATCH, "scheduler policy");
        assert_eq!(nice, 7, "nice");
        assert_eq!(ioprio, (2 << 13) | 6, "I/O priority: best effort, level 6");
    });
}
