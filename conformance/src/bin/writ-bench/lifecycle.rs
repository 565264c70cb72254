//! The per-container cost: a lifecycle (create, start, wait for exit, delete), a `state`
//! of the created container (timed apart, not part of the lifecycle), a `run` of `true`,
//! and the floor: the same namespaces and a chroot without any runtime.

use std::path::Path;
use std::process::Command;

use crate::measure::{measure, ms, Measured, Mode};
use crate::subject::{Ctr, Subject};

/// create, state, start, wait, delete. Records `create`, `state`, `start`, `delete`
/// (times or peak RSS, by `mode`); in timed mode also `wait` and `lifecycle` (create +
/// start + wait + delete, returned in ms); `rss/init` when the container's process was
/// ours to reap.
pub fn lifecycle(s: &Subject, mode: Mode) -> Result<f64, String> {
    let mut c = Ctr::new(s, "bench");
    let create = s.create(mode, &mut c, s.bundle.path())?;
    let state = s.invoke(mode, &c.id, &["state", &c.id])?;
    let start = s.invoke(mode, &c.id, &["start", &c.id])?;
    let (wait, init_rss) = c.wait()?;
    let delete = s.invoke(mode, &c.id, &["delete", &c.id])?;
    c.done();
    for (key, m) in [
        ("create", create),
        ("state", state),
        ("start", start),
        ("delete", delete),
    ] {
        s.record_measured(key, m);
    }
    if let Some(kib) = init_rss {
        s.record("rss/init", kib as f64);
    }
    let total = [create.took, start.took, Some(wait), delete.took]
        .into_iter()
        .map(|t| t.map(ms))
        .sum::<Option<f64>>();
    match total {
        Some(total) if mode == Mode::Time => {
            s.record("wait", ms(wait));
            s.record("lifecycle", total);
            Ok(total)
        }
        _ => Ok(0.0),
    }
}

/// `run --bundle B ID` of `true` in the subject's bundle. Records `run` (time or RSS).
pub fn run(s: &Subject, mode: Mode) -> Result<(), String> {
    let mut c = Ctr::new(s, "benchrun");
    let m = c.run(mode, s.bundle.path())?;
    c.done();
    s.record_measured("run", m);
    Ok(())
}

/// The floor: `unshare -m -u -i -p -n -f chroot ROOTFS /bin/true` (util-linux), what any
/// runtime must at least do for this bundle's namespaces and root.
pub fn floor(rootfs: &Path, err_log: &Path) -> Result<Measured, String> {
    let mut c = Command::new("unshare");
    c.args(["-m", "-u", "-i", "-p", "-n", "-f", "chroot"])
        .arg(rootfs)
        .arg("/bin/true");
    measure(Mode::Time, &mut c, err_log).map_err(|e| format!("floor: {e}"))
}

pub const FLOOR_COMMAND: &str = "unshare -m -u -i -p -n -f chroot ROOTFS /bin/true";
