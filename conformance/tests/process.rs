//! The container process: user and groups, capabilities, rlimits, env/cwd,
//! noNewPrivileges, stdio and fds, pid file, console socket.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::collections::BTreeMap;
use std::fs;
use std::io::{Seek, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use serde_json::json;
use writ_conformance::{cap_mask, for_each_runtime, kv_lines, ConsoleSocket, CreateOpts};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

/// Lines `Key:\tvalue` of a /proc/<pid>/status dump.
fn status_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            (
                k.trim().to_owned(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

fn hex(v: &str) -> u64 {
    u64::from_str_radix(v.trim(), 16).unwrap_or_else(|e| panic!("not hex {v:?}: {e}"))
}

#[verifies("runtime.create.process_props", "runtime.lifecycle.create_env")]
#[test]
fn user_uid_gid_additional_gids_umask() {
    for_each_runtime("user-groups", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["process"]["user"] =
                json!({"uid": 1000, "gid": 1001, "additionalGids": [2000, 3000], "umask": 23});
        });
        b.set_sh("cat /proc/self/status; echo umask=$(umask); echo id=$(id)");
        let out = ctx.run(&b);
        out.ok();
        let f = status_fields(&out.stdout);
        assert_eq!(
            f.get("Uid").map(String::as_str),
            Some("1000 1000 1000 1000"),
            "{out}"
        );
        assert_eq!(
            f.get("Gid").map(String::as_str),
            Some("1001 1001 1001 1001"),
            "{out}"
        );
        let mut groups: Vec<&str> = f
            .get("Groups")
            .map(|g| g.split_whitespace().collect())
            .unwrap_or_default();
        groups.sort();
        assert_eq!(
            groups,
            vec!["2000", "3000"],
            "supplementary groups exactly additionalGids: {out}"
        );
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("umask").map(String::as_str),
            Some("0027"),
            "umask 0o027: {out}"
        );
        assert!(out.stdout.contains("uid=1000"), "id: {out}");
    });
}

#[verifies("runtime.create.process_props")]
#[test]
fn capabilities_all_sets() {
    for_each_runtime("capabilities", |ctx| {
        // As root the kernel recomputes permitted/effective from the bounding set at exec;
        // a non-root user with ambient capabilities shows each set as configured.
        let b = ctx.bundle();
        b.edit(|c| {
            c["process"]["user"] = json!({"uid": 1000, "gid": 1000});
            c["process"]["capabilities"] = json!({
                "bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"],
                "permitted": ["CAP_CHOWN", "CAP_NET_RAW"],
                "effective": ["CAP_NET_RAW"],
                "inheritable": ["CAP_NET_RAW"],
                "ambient": ["CAP_NET_RAW"]
            });
        });
        b.set_args(&["cat", "/proc/self/status"]);
        let out = ctx.run(&b);
        out.ok();
        let f = status_fields(&out.stdout);
        let get = |k: &str| hex(f.get(k).unwrap_or_else(|| panic!("{k} missing: {out}")));
        assert_eq!(
            get("CapBnd"),
            cap_mask(&["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"]),
            "bounding: {out}"
        );
        assert_eq!(
            get("CapInh"),
            cap_mask(&["CAP_NET_RAW"]),
            "inheritable: {out}"
        );
        assert_eq!(get("CapAmb"), cap_mask(&["CAP_NET_RAW"]), "ambient: {out}");
        assert_eq!(
            get("CapPrm"),
            cap_mask(&["CAP_NET_RAW"]),
            "permitted after exec: {out}"
        );
        assert_eq!(
            get("CapEff"),
            cap_mask(&["CAP_NET_RAW"]),
            "effective after exec: {out}"
        );

        // Root: permitted/effective are the bounding set.
        let b = ctx.bundle();
        let set = json!(["CAP_CHOWN", "CAP_SETUID"]);
        b.edit(|c| {
            c["process"]["capabilities"] =
                json!({"bounding": set, "permitted": set, "effective": set, "inheritable": [], "ambient": []});
        });
        b.set_args(&["cat", "/proc/self/status"]);
        let out = ctx.run(&b);
        out.ok();
        let f = status_fields(&out.stdout);
        let get = |k: &str| hex(f.get(k).unwrap_or_else(|| panic!("{k} missing: {out}")));
        let want = cap_mask(&["CAP_CHOWN", "CAP_SETUID"]);
        assert_eq!(get("CapBnd"), want, "{out}");
        assert_eq!(get("CapPrm"), want, "{out}");
        assert_eq!(get("CapEff"), want, "{out}");
        assert_eq!(get("CapInh"), 0, "{out}");
        assert_eq!(get("CapAmb"), 0, "{out}");
    });
}

#[verifies(
    "config.process.rlimits.soft.applied",
    "config.process.rlimits.hard.applied",
    "config.process.rlimits.type.getrlimit",
    "runtime.create.process_props"
)]
#[test]
fn rlimits_lowered() {
    for_each_runtime("rlimits", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["process"]["rlimits"] = json!([
                {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
                {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600}
            ]);
        });
        b.set_args(&["cat", "/proc/self/limits"]);
        let out = ctx.run(&b);
        out.ok();
        let line = |name: &str| -> Vec<String> {
            let l = out
                .stdout
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{name}: {out}"));
            l[name.len()..]
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(&line("Max open files")[..2], ["100", "200"], "{out}");
        assert_eq!(&line("Max core file size")[..2], ["0", "0"], "{out}");
        assert_eq!(&line("Max processes")[..2], ["500", "600"], "{out}");
    });
}

#[verifies("runtime.start.run_program", "runtime.create.process_props")]
#[test]
fn env_cwd_args_no_new_privileges() {
    for_each_runtime("env-cwd-nnp", |ctx| {
        let b = ctx.bundle();
        fs::create_dir_all(b.rootfs().join("work/dir")).unwrap();
        b.edit(|c| {
            c["process"]["env"] = json!(["PATH=/bin:/usr/bin", "FOO=bar baz", "EMPTY="]);
            c["process"]["cwd"] = json!("/work/dir");
            c["process"]["noNewPrivileges"] = json!(true);
        });
        b.set_args(&[
            "sh",
            "-c",
            "echo pwd=$(pwd); echo foo=$FOO; echo arg1=$1; echo nnp=$(grep NoNewPrivs /proc/self/status | tr -d ' \\t' | cut -d: -f2); env",
            "argv0",
            "first arg",
        ]);
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("pwd").map(String::as_str),
            Some("/work/dir"),
            "{out}"
        );
        assert_eq!(kv.get("foo").map(String::as_str), Some("bar baz"), "{out}");
        assert_eq!(
            kv.get("arg1").map(String::as_str),
            Some("first arg"),
            "{out}"
        );
        assert_eq!(kv.get("nnp").map(String::as_str), Some("1"), "{out}");
        assert!(
            out.stdout.lines().any(|l| l == "EMPTY="),
            "empty env var kept: {out}"
        );

        let b = ctx.bundle();
        b.edit(|c| c["process"]["noNewPrivileges"] = json!(false));
        b.set_sh("echo nnp=$(grep NoNewPrivs /proc/self/status | tr -d ' \\t' | cut -d: -f2)");
        let out = ctx.run(&b);
        out.ok();
        assert_eq!(
            kv_lines(&out.stdout).get("nnp").map(String::as_str),
            Some("0"),
            "{out}"
        );
    });
}

fn memfd_with(text: &str) -> OwnedFd {
    let mut f = tempfile::tempfile_in(writ_conformance::work_dir()).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.rewind().unwrap();
    OwnedFd::from(f)
}

#[verifies("runtime_linux.fds.extra")]
#[test]
fn preserve_fds_and_stray_fds_closed() {
    for_each_runtime("preserve-fds", |ctx| {
        let b = ctx.bundle();
        b.set_sh(
            "for f in 3 4 5 6 7 8 9 10; do [ -e /proc/self/fd/$f ] && echo open=$f; done; echo fd3=$(cat <&3)",
        );
        let mut c = ctx.container(&b);
        // Two fds handed to the runtime, only one preserved: fd 4 must be closed inside.
        c.create_with(CreateOpts {
            preserve_fds: vec![memfd_with("third"), memfd_with("fourth")],
            preserve_count: Some(1),
            ..Default::default()
        })
        .ok();
        c.start().ok();
        assert_eq!(
            c.wait_exit(T),
            Some(0),
            "container output: {}{}",
            c.stdout(),
            c.stderr()
        );
        let out = c.stdout();
        let open: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("open="))
            .collect();
        assert_eq!(open, vec!["3"], "only preserved fd 3 besides stdio: {out}");
        assert!(
            out.contains("fd3=third"),
            "fd 3 is the preserved file: {out}"
        );

        // Without --preserve-fds, nothing but stdio is inherited.
        let b = ctx.bundle();
        b.set_sh("for f in 3 4 5 6 7 8 9 10; do [ -e /proc/self/fd/$f ] && echo open=$f; done; echo done");
        let mut c = ctx.container(&b);
        c.create_with(CreateOpts {
            preserve_fds: vec![memfd_with("x")],
            preserve_count: Some(0),
            ..Default::default()
        })
        .ok();
        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0));
        let out = c.stdout();
        assert!(
            out.contains("done") && !out.contains("open="),
            "no stray fds: {out}"
        );
    });
}

#[test]
fn stdio_is_the_callers() {
    for_each_runtime("stdio", |ctx| {
        let b = ctx.bundle();
        b.set_sh("read line; echo got=$line; echo to-err >&2");
        let mut input = tempfile::tempfile_in(writ_conformance::work_dir()).unwrap();
        input.write_all(b"hello-stdin\n").unwrap();
        input.rewind().unwrap();
        let mut c = ctx.container(&b);
        let bundle = b.path().to_str().unwrap().to_owned();
        let pidf = c.pid_file_path();
        let (so, se) = (c.stdout_path(), c.stderr_path());
        let out = ctx.cmd_with(
            &[
                "create",
                "--bundle",
                &bundle,
                "--pid-file",
                pidf.to_str().unwrap(),
                &c.id,
            ],
            writ_conformance::Invoke {
                stdin: Some(std::process::Stdio::from(input)),
                stdout_file: Some(&so),
                stderr_file: Some(&se),
                ..Default::default()
            },
        );
        out.ok();
        c.pid = fs::read_to_string(&pidf)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0));
        assert!(
            c.stdout().contains("got=hello-stdin"),
            "stdin/stdout: {}",
            c.stdout()
        );
        assert!(c.stderr().contains("to-err"), "stderr: {}", c.stderr());
    });
}

#[verifies("runtime.state.pid.required")]
#[test]
fn pid_file_holds_host_pid() {
    for_each_runtime("pid-file", |ctx| {
        let b = ctx.bundle();
        b.set_sh("sleep 30");
        let mut c = ctx.container(&b);
        let pidf = b.path().join("custom.pid");
        c.create_with(CreateOpts {
            pid_file: Some(&pidf),
            ..Default::default()
        })
        .ok();
        let text = fs::read_to_string(&pidf).expect("pid file exists after create");
        let pid: i32 = text
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("pid file {text:?}: {e}"));
        c.pid = Some(pid);
        assert_eq!(c.state()["pid"].as_i64(), Some(pid as i64));
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(!cmdline.is_empty(), "pid {pid} is a live host process");
        c.start().ok();
        c.wait_status("running", T);
        let cmdline =
            String::from_utf8_lossy(&fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default())
                .replace('\0', " ");
        assert!(
            cmdline.contains("sleep 30"),
            "pid file pid is the user process after start: {cmdline:?}"
        );
    });
}

fn read_pty(master: &OwnedFd, until: &str, timeout: Duration) -> String {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut out = Vec::new();
    let start = Instant::now();
    while start.elapsed() < timeout {
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        let n = poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0);
        if n == 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        match nix::unistd::read(master.as_fd(), &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
        if String::from_utf8_lossy(&out).contains(until) {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `create` with a console socket; returns what the socket received.
fn create_with_console(c: &mut writ_conformance::Container) -> writ_conformance::ConsoleReceived {
    let sock = ConsoleSocket::listen();
    let path = sock.path.clone();
    c.create_with(CreateOpts {
        console_socket: Some(&path),
        ..Default::default()
    })
    .ok();
    sock.receive().expect("console socket message")
}

#[test]
fn console_socket_receives_pty_master() {
    for_each_runtime("console-socket", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["process"]["terminal"] = json!(true);
            c["process"]["consoleSize"] = json!({"height": 30, "width": 100});
        });
        b.set_sh("echo tty=$(tty); echo size=$(stty size); echo end-of-output");
        let mut c = ctx.container(&b);
        let got = create_with_console(&mut c);
        assert_eq!(got.fds.len(), 1, "exactly one fd over SCM_RIGHTS");
        assert!(
            !got.payload.is_empty(),
            "the message carrying the fd has a non-empty payload"
        );
        assert_eq!(got.messages, 1, "one sendmsg");
        let master = &got.fds[0];
        // It is a pty master: TIOCGPTN answers.
        let mut n: libc::c_uint = 0;
        // SAFETY: TIOCGPTN writes one c_uint into `n`.
        let rc = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) };
        assert_eq!(rc, 0, "received fd is a pty master");
        c.start().ok();
        let text = read_pty(master, "end-of-output", T);
        assert!(
            text.contains("tty=/dev/pts/"),
            "the process's stdio is the pty: {text:?}"
        );
        assert!(
            text.contains("size=30 100"),
            "consoleSize applied: {text:?}"
        );
        assert_eq!(c.wait_exit(T), Some(0));
    });
}

#[verifies(
    "config.process.capabilities.unknown_warn",
    "config.process.capabilities.ungrantable_ok"
)]
#[test]
fn unknown_capability_is_not_fatal() {
    for_each_runtime("capability-unknown", |ctx| {
        let b = ctx.bundle();
        let set = json!(["CAP_CHOWN", "CAP_WRIT_NO_SUCH_CAPABILITY"]);
        b.edit(|c| {
            c["process"]["capabilities"] =
                json!({"bounding": set, "permitted": set, "effective": set});
        });
        b.set_sh("grep CapBnd /proc/self/status");
        let out = ctx.run(&b);
        out.ok();
        let bnd = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("CapBnd:"))
            .unwrap_or_else(|| panic!("{out}"));
        assert_eq!(
            hex(bnd),
            cap_mask(&["CAP_CHOWN"]),
            "known capabilities applied: {out}"
        );
        assert!(
            out.stderr
                .to_lowercase()
                .contains("cap_writ_no_such_capability"),
            "a warning names the unknown capability: {out}"
        );
    });
}

#[verifies(
    "config.process.oom_score_adj.set",
    "config.process.oom_score_adj.unset"
)]
#[test]
fn oom_score_adj() {
    for_each_runtime("oom-score-adj", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["process"]["oomScoreAdj"] = json!(500));
        b.set_args(&["cat", "/proc/self/oom_score_adj"]);
        let out = ctx.run(&b);
        out.ok();
        assert_eq!(out.stdout.trim(), "500", "{out}");

        // Unset: inherited from the caller of the runtime.
        let ours = fs::read_to_string("/proc/self/oom_score_adj").unwrap();
        let b = ctx.bundle();
        b.set_args(&["cat", "/proc/self/oom_score_adj"]);
        let out = ctx.run(&b);
        out.ok();
        assert_eq!(
            out.stdout.trim(),
            ours.trim(),
            "inherited oom_score_adj: {out}"
        );
    });
}

#[verifies("config.process.console_size.ignored")]
#[test]
fn console_size_without_terminal_is_ignored() {
    for_each_runtime("console-size-no-terminal", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["process"]["terminal"] = json!(false);
            c["process"]["consoleSize"] = json!({"height": 30, "width": 100});
        });
        b.set_sh("if [ -t 1 ]; then echo stdout=tty; else echo stdout=not-a-tty; fi");
        let out = ctx.run(&b);
        out.ok();
        assert_eq!(
            kv_lines(&out.stdout).get("stdout").map(String::as_str),
            Some("not-a-tty"),
            "{out}"
        );
    });
}

#[verifies(
    "config.process.capabilities.unknown_warn",
    "config.process.capabilities.ungrantable_ok"
)]
#[test]
fn ungrantable_capability_is_a_warning() {
    for_each_runtime("capability-ungrantable", |ctx| {
        let own = fs::read_to_string("/proc/self/status").unwrap();
        let bnd = status_fields(&own)
            .get("CapBnd")
            .map(|v| hex(v))
            .unwrap_or(0);
        if bnd & cap_mask(&["CAP_SYS_RESOURCE"]) != 0 {
            ctx.skip("this host's root holds CAP_SYS_RESOURCE: nothing is ungrantable here");
        }
        let b = ctx.bundle();
        let set = json!(["CAP_CHOWN", "CAP_SYS_RESOURCE"]);
        b.edit(|c| {
            c["process"]["capabilities"] = json!({
                "bounding": set, "permitted": set, "effective": set, "inheritable": set
            });
        });
        b.set_sh("grep -E '^Cap(Bnd|Eff|Prm|Inh)' /proc/self/status");
        let (out, text) = ctx.run_logged(&b);
        if ctx.kind() == writ_conformance::Kind::Runc && !out.success() {
            ctx.deviation("runc 1.1 fails create when a capability cannot be granted (\"unable to apply caps: operation not permitted\")");
            return;
        }
        out.ok();
        let got = status_fields(&out.stdout);
        for set in ["CapBnd", "CapEff", "CapPrm", "CapInh"] {
            assert_eq!(
                got.get(set).map(|v| hex(v)),
                Some(cap_mask(&["CAP_CHOWN"])),
                "{set}: the grantable capability only: {out}"
            );
        }
        let warned = writ_conformance::json_log_warns(&text, "CAP_SYS_RESOURCE");
        assert!(warned, "a json warning names CAP_SYS_RESOURCE: {text:?}");
    });
}

/// With a terminal and no mount namespace of the container's own, the pty is still
/// bound onto /dev/console (in writ: in the rootfs clone the init enters).
#[verifies("config_linux.namespaces.inherit")]
#[test]
fn terminal_without_a_mount_namespace() {
    for_each_runtime("console-no-mount-namespace", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["process"]["terminal"] = json!(true);
            c["linux"]["namespaces"] =
                json!([{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}]);
            let linux = c["linux"].as_object_mut().unwrap();
            linux.remove("maskedPaths");
            linux.remove("readonlyPaths");
        });
        b.set_sh("echo tty=$(tty); echo console=$(stat -c %t:%T /dev/console); echo stdin=$(stat -L -c %t:%T /proc/self/fd/0); echo end-of-output");
        let mut c = ctx.container(&b);
        let got = create_with_console(&mut c);
        c.start().ok();
        let text = read_pty(&got.fds[0], "end-of-output", T);
        assert_eq!(c.wait_exit(T), Some(0), "{text}");
        let kv = kv_lines(&text);
        assert!(
            kv.get("tty").is_some_and(|t| t.starts_with("/dev/pts/")),
            "stdio is the pty: {text:?}"
        );
        assert!(
            kv.get("console").is_some_and(|v| v.starts_with("88:")),
            "/dev/console is a pty: {text:?}"
        );
        assert_eq!(
            kv.get("console"),
            kv.get("stdin"),
            "/dev/console is the pty: {text:?}"
        );
    });
}
