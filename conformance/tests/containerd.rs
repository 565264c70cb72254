//! containerd (ctr + the runc shim v2) drives the runtime unchanged: a private containerd
//! daemon per scenario (own root, state and socket), `ctr run --rootfs --runc-binary <bin>`.
//!
//! When containerd or ctr is not installed every runtime is reported as skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use writ_conformance::{
    for_each_runtime, invoke, umount_under, work_dir, Bundle, Ctx, Invoke, Out,
};
use writ_macros::verifies;

struct Containerd {
    ctr: PathBuf,
    runtime: PathBuf,
    dir: tempfile::TempDir,
    daemon: Child,
}

fn find(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

impl Containerd {
    fn start(ctx: &Ctx) -> Result<Containerd, String> {
        let daemon_bin = find("containerd").ok_or("containerd is not installed")?;
        let ctr = find("ctr").ok_or("ctr is not installed")?;
        let dir = tempfile::Builder::new()
            .prefix("ctrd-")
            .tempdir_in(work_dir())
            .map_err(|e| e.to_string())?;
        let d = dir.path();
        let config = format!(
            "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{sock}\"\n[ttrpc]\n  address = \"{sock}.ttrpc\"\n",
            root = d.join("root").display(),
            state = d.join("state").display(),
            sock = d.join("c.sock").display()
        );
        fs::write(d.join("config.toml"), config).map_err(|e| e.to_string())?;
        let log = fs::File::create(d.join("daemon.log")).map_err(|e| e.to_string())?;
        let daemon = Command::new(daemon_bin)
            .arg("--config")
            .arg(d.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("start containerd: {e}"))?;
        let c = Containerd {
            ctr,
            runtime: ctx.rt.bin.clone(),
            dir,
            daemon,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if c.dir.path().join("c.sock").exists() && c.ctr(&["version"]).success() {
                return Ok(c);
            }
            if Instant::now() > deadline {
                let log = fs::read_to_string(c.dir.path().join("daemon.log")).unwrap_or_default();
                panic!("private containerd did not come up: {log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ctr(&self, args: &[&str]) -> Out {
        let sock = self.dir.path().join("c.sock");
        let mut full: Vec<&std::ffi::OsStr> = vec!["--address".as_ref(), sock.as_os_str()];
        full.extend(args.iter().map(std::ffi::OsStr::new));
        invoke(
            &self.ctr,
            &full,
            Invoke {
                timeout: Some(Duration::from_secs(60)),
                ..Default::default()
            },
        )
    }

    fn run(&self, rootfs: &Path, extra: &[&str], id: &str, cmd: &[&str]) -> Out {
        let rt = self.runtime.to_str().unwrap();
        let rootfs = rootfs.to_str().unwrap();
        // `--rootfs` is a switch: the rootfs directory takes the place of the image ref.
        let mut args = vec!["run", "--runc-binary", rt];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--rootfs", rootfs, id]);
        args.extend_from_slice(cmd);
        self.ctr(&args)
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // Shims are re-parented to us (a subreaper): end the live ones of this daemon and
        // reap the ones that already exited (zombies have no cmdline; their comm tells).
        let sock = self
            .dir
            .path()
            .join("c.sock")
            .to_string_lossy()
            .into_owned();
        let mine = std::process::id().to_string();
        if let Ok(procs) = fs::read_dir("/proc") {
            for p in procs.flatten() {
                let Ok(pid) = p.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let status = fs::read_to_string(p.path().join("status")).unwrap_or_default();
                let field = |k: &str| {
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix(k))
                        .map(str::trim)
                        .unwrap_or("")
                        .to_owned()
                };
                if field("PPid:") != mine || !field("Name:").starts_with("containerd-shim") {
                    continue;
                }
                let cmdline = String::from_utf8_lossy(
                    &fs::read(p.path().join("cmdline")).unwrap_or_default(),
                )
                .into_owned();
                let zombie = field("State:").starts_with('Z');
                if cmdline.contains(&sock) || zombie {
                    if !zombie {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                    let _ = writ_conformance::wait_pid(pid, Duration::from_secs(5));
                }
            }
        }
        umount_under(self.dir.path());
    }
}

fn with_containerd(ctx: &Ctx, f: impl FnOnce(&Containerd, &Bundle)) {
    let c = match Containerd::start(ctx) {
        Ok(c) => c,
        Err(reason) => ctx.skip(&reason),
    };
    let b = ctx.bundle();
    f(&c, &b);
}

#[verifies("runtime.lifecycle.run_program", "runtime.lifecycle.process_exit")]
#[test]
fn containerd_run_output_and_exit_code() {
    for_each_runtime("containerd-run", |ctx| {
        with_containerd(ctx, |c, b| {
            let id = writ_conformance::unique_id("ctr");
            let out = c.run(
                &b.rootfs(),
                &["--rm"],
                &id,
                &["/bin/sh", "-c", "echo hello-ctr; exit 4"],
            );
            assert_eq!(
                out.code,
                Some(4),
                "task exit status through the shim: {out}"
            );
            assert!(out.stdout.contains("hello-ctr"), "{out}");
        });
    });
}

#[verifies(
    "runtime.kill.signal",
    "runtime.delete.resources",
    "runtime.state_op.returns_state"
)]
#[test]
fn containerd_detached_kill_delete() {
    for_each_runtime("containerd-kill", |ctx| {
        with_containerd(ctx, |c, b| {
            let id = sleeper(c, b, "ctrd");
            let ls = c.ctr(&["task", "ls"]);
            ls.ok();
            assert!(
                ls.stdout
                    .lines()
                    .any(|l| l.starts_with(&id) && l.contains("RUNNING")),
                "{ls}"
            );
            c.ctr(&["task", "kill", &id]).ok();
            // SIGTERM reached the process.
            wait_task(c, &id, "STOPPED");
            c.ctr(&["task", "rm", &id]).ok();
            c.ctr(&["container", "rm", &id]).ok();
            let ls = c.ctr(&["container", "ls", "-q"]);
            assert!(!ls.stdout.contains(&id), "{ls}");
        });
    });
}

#[verifies("runtime.create.apply_failure.error")]
#[test]
fn containerd_missing_executable() {
    for_each_runtime("containerd-missing-exe", |ctx| {
        with_containerd(ctx, |c, b| {
            let id = writ_conformance::unique_id("ctrm");
            let out = c.run(&b.rootfs(), &["--rm"], &id, &["/no/such/program"]);
            assert!(!out.success(), "{out}");
            let text = out.text_lower();
            assert!(
                text.contains("no such file or directory")
                    || text.contains("executable file not found"),
                "the runtime's error reaches the client through the shim's log: {out}"
            );
            let _ = c.ctr(&["container", "rm", &id]);
        });
    });
}

/// A detached task that runs until SIGTERM; returns its id.
fn sleeper(c: &Containerd, b: &Bundle, tag: &str) -> String {
    let id = writ_conformance::unique_id(tag);
    let script = "trap 'exit 0' TERM; while :; do sleep 0.1; done";
    c.run(&b.rootfs(), &["-d"], &id, &["/bin/sh", "-c", script])
        .ok();
    id
}

/// Waits until `ctr task ls` shows the task with `status`.
fn wait_task(c: &Containerd, id: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ls = c.ctr(&["task", "ls"]);
        if ls
            .stdout
            .lines()
            .any(|l| l.starts_with(id) && l.contains(status))
        {
            return;
        }
        assert!(Instant::now() < deadline, "task never {status}: {ls}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn containerd_pause_resume_and_metrics() {
    for_each_runtime("containerd-pause-metrics", |ctx| {
        with_containerd(ctx, |c, b| {
            let id = sleeper(c, b, "ctrp");
            wait_task(c, &id, "RUNNING");
            c.ctr(&["task", "pause", &id]).ok();
            wait_task(c, &id, "PAUSED");
            c.ctr(&["task", "resume", &id]).ok();
            wait_task(c, &id, "RUNNING");
            // The shim reads the container's cgroup for the metrics.
            let m = c.ctr(&["task", "metrics", "--format", "json", &id]);
            m.ok();
            let v: serde_json::Value = serde_json::from_str(&m.stdout)
                .unwrap_or_else(|e| panic!("metrics are not JSON ({e}): {m}"));
            let text = v.to_string();
            assert!(
                text.contains("\"pids\"") && text.contains("\"memory\""),
                "memory and pids metrics: {m}"
            );
            c.ctr(&["task", "kill", &id]).ok();
            wait_task(c, &id, "STOPPED");
            c.ctr(&["task", "rm", &id]).ok();
            c.ctr(&["container", "rm", &id]).ok();
        });
    });
}
