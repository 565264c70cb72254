//! A runtime under benchmark: its binary, a private `--root`, a bundle running `true`,
//! and the samples measured for it; container operations that clean up on failure.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use writ_conformance::{unique_id, Bundle, Runtime};

use crate::measure::{kill_and_reap, measure, ms, wait_exit, Measured, Mode};

/// How long a container running `true` may take to exit after `start`.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Subject {
    /// "writ", "crun" or "runc": the column name.
    pub name: String,
    pub rt: Runtime,
    /// First line of `--version`.
    pub version: String,
    pub root: tempfile::TempDir,
    /// A busybox bundle whose process is `true`.
    pub bundle: Bundle,
    /// Samples by key: times in ms, `rss/...` in KiB.
    samples: Mutex<BTreeMap<String, Vec<f64>>>,
}

impl Subject {
    pub fn new(rt: Runtime) -> Result<Subject, String> {
        let bundle = Bundle::new();
        bundle.set_args(&["true"]);
        let root = tempfile::Builder::new()
            .prefix("bench-root-")
            .tempdir_in(writ_conformance::work_dir())
            .map_err(|e| format!("state root: {e}"))?;
        let version = Command::new(&rt.bin)
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        Ok(Subject {
            name: rt.kind.to_string(),
            rt,
            version,
            root,
            bundle,
            samples: Mutex::new(BTreeMap::new()),
        })
    }

    /// `BIN --root ROOT args...`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_in(self.root.path(), args)
    }

    /// `BIN --root root args...`: another state root than the subject's own.
    fn cmd_in(&self, root: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(&self.rt.bin);
        c.arg("--root").arg(root).args(args);
        c
    }

    /// Run one command about container `id` and measure it.
    pub fn invoke(&self, mode: Mode, id: &str, args: &[&str]) -> Result<Measured, String> {
        self.invoke_in(self.root.path(), mode, id, args)
    }

    /// [`Subject::invoke`] with the state root `root` (its stderr is kept there).
    fn invoke_in(
        &self,
        root: &Path,
        mode: Mode,
        id: &str,
        args: &[&str],
    ) -> Result<Measured, String> {
        let log = root.join(format!("{id}.stderr"));
        let r = measure(mode, &mut self.cmd_in(root, args), &log)
            .map_err(|e| format!("{}: {e}", self.name));
        if r.is_ok() {
            let _ = std::fs::remove_file(&log);
        }
        r
    }

    pub fn record(&self, key: &str, v: f64) {
        let mut s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        s.entry(key.to_owned()).or_default().push(v);
    }

    /// Record a measured invocation: its time under `key`, its peak RSS under `rss/key`
    /// (and `reexec/key` when the runtime executed another image after its start).
    pub fn record_measured(&self, key: &str, m: Measured) {
        if let Some(t) = m.took {
            self.record(key, ms(t));
        }
        if let Some(kib) = m.rss_kib {
            self.record(&format!("rss/{key}"), kib as f64);
        }
        if m.execs > 1 {
            self.record(&format!("reexec/{key}"), f64::from(m.execs - 1));
        }
    }

    /// Forget every sample (after the warm-up).
    pub fn clear(&self) {
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn keys(&self) -> Vec<String> {
        let s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        s.keys().cloned().collect()
    }

    pub fn samples(&self, key: &str) -> Vec<f64> {
        let s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        s.get(key).cloned().unwrap_or_default()
    }

    /// `create --bundle B --pid-file P ID`: the measurement and the container's pid.
    pub fn create(&self, mode: Mode, c: &mut Ctr<'_>, bundle: &Path) -> Result<Measured, String> {
        let pid_file = self.root.path().join(format!("{}.pid", c.id));
        let b = bundle.to_string_lossy();
        let p = pid_file.to_string_lossy();
        c.touched = true;
        let m = self.invoke(
            mode,
            &c.id,
            &["create", "--bundle", &b, "--pid-file", &p, &c.id],
        )?;
        let text = std::fs::read_to_string(&pid_file)
            .map_err(|e| format!("{}: pid file {}: {e}", self.name, pid_file.display()))?;
        let _ = std::fs::remove_file(&pid_file);
        c.pid = Some(
            text.trim()
                .parse()
                .map_err(|e| format!("{}: pid file {text:?}: {e}", self.name))?,
        );
        Ok(m)
    }
}

/// One container of a subject: `delete --force`, SIGKILL and reap on drop unless it was
/// deleted cleanly ([`Ctr::done`]).
pub struct Ctr<'a> {
    pub s: &'a Subject,
    pub id: String,
    pub pid: Option<i32>,
    /// The state root it lives in (the subject's own unless [`Ctr::in_root`]).
    root: &'a Path,
    touched: bool,
}

impl<'a> Ctr<'a> {
    pub fn new(s: &'a Subject, tag: &str) -> Ctr<'a> {
        Ctr::in_root(s, tag, s.root.path())
    }

    /// A container of `s` in the state root `root` instead of the subject's own.
    pub fn in_root(s: &'a Subject, tag: &str, root: &'a Path) -> Ctr<'a> {
        Ctr {
            s,
            id: unique_id(tag),
            pid: None,
            root,
            touched: false,
        }
    }

    /// `run --bundle B ID`.
    pub fn run(&mut self, mode: Mode, bundle: &Path) -> Result<Measured, String> {
        let b = bundle.to_string_lossy();
        self.touched = true;
        self.s.invoke_in(
            self.root,
            mode,
            &self.id,
            &["run", "--bundle", &b, &self.id],
        )
    }

    /// Wait for the container's process to exit: the wait and the init's peak RSS.
    pub fn wait(&mut self) -> Result<(Duration, Option<u64>), String> {
        let pid = self
            .pid
            .ok_or_else(|| format!("{}: no pid to wait for", self.s.name))?;
        let t = Instant::now();
        let rss = wait_exit(pid, EXIT_TIMEOUT).map_err(|e| format!("{}: {e}", self.s.name))?;
        let took = t.elapsed();
        // Exited (and reaped when it was ours): never signal that pid again.
        self.pid = None;
        Ok((took, rss))
    }

    /// The container is gone; nothing to clean up.
    pub fn done(mut self) {
        self.touched = false;
        self.pid = None;
    }
}

impl Drop for Ctr<'_> {
    fn drop(&mut self) {
        if self.touched {
            let _ = self.s.invoke_in(
                self.root,
                Mode::Time,
                &self.id,
                &["delete", "--force", &self.id],
            );
        }
        if let Some(pid) = self.pid {
            kill_and_reap(pid);
        }
    }
}
