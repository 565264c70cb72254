//! The command line as a person and an engine meet it: help, runc's spellings, the commands
//! writ does not have yet, errors in logrus style, what a non-root caller is told.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

fn writ(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `Commands:` section of `writ --help`: (name, description).
fn commands() -> Vec<(String, String)> {
    let help = text(&writ(&["--help"]));
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let l = l.trim();
            let (name, about) = l.split_once(' ').unwrap_or((l, ""));
            (name.to_owned(), about.trim().to_owned())
        })
        .collect()
}

#[test]
fn every_command_has_a_description() {
    let cmds = commands();
    assert!(cmds.len() >= 20, "{cmds:?}");
    for (name, about) in &cmds {
        assert!(
            !about.is_empty(),
            "`writ {name}` has no description in writ --help"
        );
    }
    for runc in [
        "create",
        "start",
        "state",
        "kill",
        "delete",
        "run",
        "list",
        "ps",
        "spec",
        "exec",
        "pause",
        "resume",
        "update",
        "events",
        "checkpoint",
        "restore",
        "features",
    ] {
        assert!(
            cmds.iter().any(|(n, _)| n == runc),
            "runc's `{runc}` is not in writ --help"
        );
    }
}

#[test]
fn global_options_are_listed_once_under_their_own_heading() {
    let help = text(&writ(&["--help"]));
    assert_eq!(help.matches("--root <DIR>").count(), 1, "{help}");
    assert!(
        help.contains("Global options (before the command):"),
        "{help}"
    );
    for cmd in [
        "create", "start", "state", "kill", "delete", "run", "ps", "spec", "validate",
    ] {
        let h = text(&writ(&[cmd, "--help"]));
        for global in [
            "--root <",
            "--log <",
            "--log-format",
            "--debug",
            "--systemd-cgroup",
            "--criu",
        ] {
            assert!(
                !h.contains(global),
                "`writ {cmd} --help` lists the global {global}:\n{h}"
            );
        }
    }
}

#[test]
fn help_says_what_an_option_does_not_how_it_is_built() {
    let spec = text(&writ(&["spec", "--help"]));
    assert!(spec.contains("--rootless"), "{spec}");
    for note in ["clap", "same id", "Typed like", "compatibility)"] {
        assert!(
            !spec.contains(note),
            "implementation note {note:?} in:\n{spec}"
        );
    }
}

#[test]
fn commands_writ_does_not_have_yet_say_so_and_exit_1() {
    for args in [
        &["checkpoint", "--image-path", "/tmp/x", "c1"][..],
        &["restore", "c1"],
    ] {
        let o = writ(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        let t = text(&o);
        assert!(
            t.contains(&format!("msg=\"{}: not implemented in writ yet", args[0])),
            "{args:?}: {t}"
        );
        assert!(!t.contains("similar"), "{args:?}: {t}");
    }
}

#[test]
fn runc_spellings_are_accepted() {
    // Global options runc has; `--rootless` with or without a value.
    for globals in [
        &["--criu", "/usr/sbin/criu"][..],
        &["--rootless"],
        &["--rootless", "false"],
        &["--rootless=auto"],
    ] {
        let mut args = vec!["--root", "/nonexistent/writ-root"];
        args.extend_from_slice(globals);
        args.extend(["list"]);
        let o = writ(&args);
        assert!(
            !text(&o).contains("unexpected argument"),
            "{args:?}: {}",
            text(&o)
        );
    }
    // `ps ID aux` (bare ps options, as runc takes them), and after `--`.
    for args in [
        &["ps", "c1", "aux"][..],
        &["ps", "c1", "-ef"],
        &["ps", "c1", "--", "-o", "pid"],
    ] {
        let mut full = vec!["--root", "/nonexistent/writ-root"];
        full.extend_from_slice(args);
        let o = writ(&full);
        let t = text(&o);
        assert!(!t.contains("unexpected argument"), "{args:?}: {t}");
        assert!(
            t.contains("c1"),
            "{args:?}: the error names the container: {t}"
        );
    }
    let run = text(&writ(&["run", "--help"]));
    assert!(run.contains("--no-subreaper"), "{run}");
}

#[test]
fn errors_on_stderr_are_logrus_lines() {
    let o = writ(&["--root", "/nonexistent/writ-root", "state", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let line = err.lines().next().unwrap_or_default();
    assert!(line.starts_with("time=\""), "{err}");
    assert!(line.contains("\" level=error msg=\"state: "), "{err}");
}

#[test]
fn a_caller_without_root_is_told_that_root_is_needed() {
    if !rustix::process::geteuid().is_root() {
        // Only root can become another user for this test.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("state");
    for cmd in [
        &["create", "--bundle", "/tmp", "c1"][..],
        &["run", "c1"],
        &["start", "c1"],
        &["kill", "c1"],
        &["delete", "c1"],
    ] {
        let mut args = vec!["--root", root.to_str().unwrap()];
        args.extend_from_slice(cmd);
        let o = Command::new(env!("CARGO_BIN_EXE_writ"))
            .args(&args)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{cmd:?}");
        let t = text(&o);
        assert!(
            t.contains("writ needs root to manage containers"),
            "{cmd:?}: {t}"
        );
        assert!(!t.contains("permission denied"), "{cmd:?}: {t}");
    }
}

/// A process told it is the re-exec'd one (the protection's variable) whose binary is not
/// a sealed view refuses, on every command that forks into a container, once: it never
/// re-execs again (writ checks before parsing the command line and the command checks
/// again; the second check must not start the re-exec the first one consumed).
#[test]
fn a_false_claim_of_being_sealed_is_refused_without_a_loop() {
    let root = tempfile::tempdir().unwrap();
    for cmd in [
        vec!["create", "--bundle", "/nonexistent", "c1"],
        vec!["run", "--bundle", "/nonexistent", "c1"],
        vec!["exec", "c1", "true"],
    ] {
        let mut args = vec!["--root", root.path().to_str().unwrap()];
        args.extend(cmd.iter().copied());
        let o = Command::new(env!("CARGO_BIN_EXE_writ"))
            .args(&args)
            .env("_WRIT_EXESEAL", "1")
            .output()
            .unwrap();
        let t = text(&o);
        assert!(!o.status.success(), "{cmd:?}: {t}");
        assert!(
            t.contains("after the re-exec, /proc/self/exe is still writable"),
            "{cmd:?}: {t}"
        );
    }
}
