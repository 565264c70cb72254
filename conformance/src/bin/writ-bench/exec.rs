//! `exec ID /bin/true` into a running container (kubelet's exec probes): one container per
//! runtime running `sleep`, N execs alternating between the runtimes.

use std::process::Command;

use writ_conformance::Bundle;

use crate::measure::Mode;
use crate::subject::{Ctr, Subject};

/// Whether `bin` has an `exec` command (`exec --help` succeeds), else why not.
pub fn supports_exec(bin: &std::path::Path) -> Result<(), String> {
    match Command::new(bin).args(["exec", "--help"]).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stderr);
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            Err(format!("`exec --help` failed: {}", first.trim()))
        }
        Err(e) => Err(format!("cannot run {}: {e}", bin.display())),
    }
}

/// `n` timed rounds of `exec ID /bin/true` then `rss_rounds` traced ones, the runtimes
/// alternating. Records `exec` and `rss/exec`.
pub fn exec_rounds(
    subjects: &[&Subject],
    n: usize,
    rss_rounds: usize,
    progress: &dyn Fn(&str),
) -> Result<(), String> {
    let bundle = Bundle::new();
    bundle.set_args(&["sleep", "1000000"]);
    let mut running = Vec::new();
    for s in subjects {
        running.push(start(s, &bundle)?);
    }
    for round in 0..n + rss_rounds {
        if round % 10 == 0 {
            progress(&format!("exec round {}/{}", round + 1, n + rss_rounds));
        }
        let mode = if round < n { Mode::Time } else { Mode::PeakRss };
        for j in 0..running.len() {
            let c = &running[(round + j) % running.len()];
            let m = c.s.invoke(mode, &c.id, &["exec", &c.id, "/bin/true"])?;
            c.s.record_measured("exec", m);
        }
    }
    running.into_iter().try_for_each(stop)
}

/// A container of `s` created and started from `bundle` (whose process keeps running).
pub fn start<'a>(s: &'a Subject, bundle: &Bundle) -> Result<Ctr<'a>, String> {
    let mut c = Ctr::new(s, "benchexec");
    s.create(Mode::Time, &mut c, bundle.path())?;
    s.invoke(Mode::Time, &c.id, &["start", &c.id])?;
    Ok(c)
}

/// Kill (SIGKILL), wait for and delete a container made by [`start`].
pub fn stop(mut c: Ctr<'_>) -> Result<(), String> {
    c.s.invoke(Mode::Time, &c.id, &["kill", &c.id, "9"])?;
    c.wait()?;
    c.s.invoke(Mode::Time, &c.id, &["delete", &c.id])?;
    c.done();
    Ok(())
}
