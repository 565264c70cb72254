//! podman (with conmon) drives the runtime unchanged: `podman --runtime <bin> run --rootfs`
//! with a private storage root, so the host's podman state is not touched.
//!
//! Runs for every runtime like the other scenarios; when podman is not installed every
//! runtime is reported as skipped (an engine is missing, not a writ feature).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use writ_conformance::{
    for_each_runtime, invoke, umount_under, work_dir, Bundle, Ctx, Invoke, Out,
};
use writ_macros::verifies;

struct Podman {
    bin: PathBuf,
    runtime: PathBuf,
    dir: tempfile::TempDir,
}

impl Podman {
    fn new(ctx: &Ctx) -> Option<Podman> {
        let bin = ["/usr/bin/podman", "/usr/local/bin/podman"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())?;
        let dir = tempfile::Builder::new()
            .prefix("podman-")
            .tempdir_in(work_dir())
            .unwrap();
        Some(Podman {
            bin,
            runtime: ctx.rt.bin.clone(),
            dir,
        })
    }

    fn cmd(&self, args: &[&str]) -> Out {
        let root = self.dir.path().join("root");
        let runroot = self.dir.path().join("run");
        let mut full: Vec<&OsStr> = vec![
            OsStr::new("--root"),
            root.as_os_str(),
            OsStr::new("--runroot"),
            runroot.as_os_str(),
            OsStr::new("--runtime"),
            self.runtime.as_os_str(),
        ];
        full.extend(args.iter().map(OsStr::new));
        invoke(
            &self.bin,
            &full,
            Invoke {
                timeout: Some(Duration::from_secs(60)),
                ..Default::default()
            },
        )
    }

    /// `podman run` with the options this host needs (no network, rlimits it can grant)
    /// on the bundle's busybox rootfs.
    fn run(&self, rootfs: &Path, extra: &[&str], cmd: &[&str]) -> Out {
        let rootfs = rootfs.to_str().unwrap();
        let mut args = vec![
            "run",
            "--network",
            "none",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--rootfs", rootfs]);
        args.extend_from_slice(cmd);
        self.cmd(&args)
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cmd(&["rm", "--all", "--force", "--time", "0"]);
        // conmon runs `podman container cleanup` when a container exits; that process
        // works on this storage root too and may mount it again. Wait for every process
        // naming our directory to finish, then detach what is mounted below it.
        let dir = self.dir.path().to_string_lossy().into_owned();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline && processes_naming(&dir) {
            std::thread::sleep(Duration::from_millis(20));
        }
        umount_under(self.dir.path());
    }
}

/// Whether a live process has `needle` on its command line.
fn processes_naming(needle: &str) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|p| {
        p.file_name().to_string_lossy().parse::<u32>().is_ok()
            && writ_conformance::pid_alive(p.file_name().to_string_lossy().parse().unwrap_or(0))
            && std::fs::read(p.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
    })
}

/// Runs `f` with podman, or records that podman is not installed.
fn with_podman(ctx: &Ctx, f: impl FnOnce(&Podman, &Bundle)) {
    let Some(p) = Podman::new(ctx) else {
        ctx.skip("podman is not installed");
    };
    let b = ctx.bundle();
    f(&p, &b);
}

#[verifies("runtime.lifecycle.run_program", "runtime.lifecycle.process_exit")]
#[test]
fn podman_run_output_and_exit_code() {
    for_each_runtime("podman-run", |ctx| {
        with_podman(ctx, |p, b| {
            let out = p.run(
                &b.rootfs(),
                &["--rm"],
                &["sh", "-c", "echo hello-from-podman; id -u; exit 3"],
            );
            assert_eq!(
                out.code,
                Some(3),
                "container exit status through conmon: {out}"
            );
            assert!(out.stdout.contains("hello-from-podman"), "{out}");
        });
    });
}

#[verifies("runtime.create.apply_failure.error")]
#[test]
fn podman_missing_executable_is_127() {
    for_each_runtime("podman-missing-exe", |ctx| {
        with_podman(ctx, |p, b| {
            let out = p.run(&b.rootfs(), &["--rm"], &["/no/such/program"]);
            assert_eq!(
                out.code,
                Some(127),
                "podman maps the runtime's error text to 127: {out}"
            );
        });
    });
}

#[test]
fn podman_terminal() {
    for_each_runtime("podman-tty", |ctx| {
        with_podman(ctx, |p, b| {
            let out = p.run(
                &b.rootfs(),
                &["--rm", "-t"],
                &["sh", "-c", "tty; echo tty-done"],
            );
            out.ok();
            assert!(
                out.stdout.contains("/dev/pts/") && out.stdout.contains("tty-done"),
                "{out}"
            );
        });
    });
}

#[verifies("runtime.kill.signal", "runtime.delete.resources")]
#[test]
fn podman_detached_stop_rm() {
    for_each_runtime("podman-stop", |ctx| {
        with_podman(ctx, |p, b| {
            let name = writ_conformance::unique_id("pod");
            let script = "trap 'exit 0' TERM; while :; do sleep 0.1; done";
            p.run(&b.rootfs(), &["-d", "--name", &name], &["sh", "-c", script])
                .ok();
            let st = p.cmd(&["inspect", &name, "--format", "{{.State.Status}}"]);
            st.ok();
            assert_eq!(st.stdout.trim(), "running", "{st}");
            p.cmd(&["stop", "-t", "5", &name]).ok();
            let st = p.cmd(&[
                "inspect",
                &name,
                "--format",
                "{{.State.Status}} {{.State.ExitCode}}",
            ]);
            st.ok();
            assert_eq!(
                st.stdout.trim(),
                "exited 0",
                "SIGTERM reached the process: {st}"
            );
            p.cmd(&["rm", &name]).ok();
        });
    });
}

/// Lines the container logged so far (conmon's log, through `podman logs`).
fn logged(p: &Podman, name: &str) -> usize {
    p.cmd(&["logs", name]).stdout.lines().count()
}

#[test]
fn podman_pause_unpause() {
    for_each_runtime("podman-pause", |ctx| {
        with_podman(ctx, |p, b| {
            let name = writ_conformance::unique_id("podp");
            let script = "trap 'exit 0' TERM; while :; do echo tick; sleep 0.05; done";
            p.run(&b.rootfs(), &["-d", "--name", &name], &["sh", "-c", script])
                .ok();
            let status = |want: &str| {
                let st = p.cmd(&["inspect", &name, "--format", "{{.State.Status}}"]);
                st.ok();
                assert_eq!(st.stdout.trim(), want, "{st}");
            };
            status("running");
            p.cmd(&["pause", &name]).ok();
            status("paused");
            let before = logged(p, &name);
            std::thread::sleep(Duration::from_millis(400));
            assert_eq!(logged(p, &name), before, "a paused container kept logging");
            p.cmd(&["unpause", &name]).ok();
            status("running");
            std::thread::sleep(Duration::from_millis(400));
            assert!(logged(p, &name) > before, "the container runs again");
            p.cmd(&["stop", "-t", "5", &name]).ok();
            p.cmd(&["rm", &name]).ok();
        });
    });
}

#[test]
fn podman_update_changes_a_running_container() {
    for_each_runtime("podman-update", |ctx| {
        with_podman(ctx, |p, b| {
            let name = writ_conformance::unique_id("podu");
            let script = "trap 'exit 0' TERM; while :; do sleep 0.1; done";
            p.run(
                &b.rootfs(),
                &["-d", "--name", &name, "--memory", "64m"],
                &["sh", "-c", script],
            )
            .ok();
            p.cmd(&["update", "--memory", "96m", "--cpu-shares", "512", &name])
                .ok();
            // The cgroup (podman 4.3's inspect keeps showing the limit of the run).
            let pid = p.cmd(&["inspect", &name, "--format", "{{.State.Pid}}"]);
            let pid: i32 = pid.stdout.trim().parse().unwrap_or(0);
            let (v1, v2) = writ_conformance::cgroup_mounts();
            let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
            let (dir, file) = match v1.iter().find(|(c, _)| c == "memory") {
                Some((_, mnt)) => {
                    let line = cg.lines().find(|l| l.split(':').nth(1) == Some("memory"));
                    let rel = line.unwrap().splitn(3, ':').nth(2).unwrap();
                    (
                        mnt.join(rel.trim_start_matches('/')),
                        "memory.limit_in_bytes",
                    )
                }
                None => {
                    let line = cg.lines().find(|l| l.starts_with("0::")).unwrap();
                    (
                        v2.unwrap().join(line.trim_start_matches("0::/")),
                        "memory.max",
                    )
                }
            };
            let limit = std::fs::read_to_string(dir.join(file)).unwrap();
            assert_eq!(limit.trim(), (96u64 << 20).to_string(), "{}", dir.display());
            p.cmd(&["stop", "-t", "5", &name]).ok();
            p.cmd(&["rm", &name]).ok();
        });
    });
}
