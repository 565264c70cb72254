//! How the cost grows: many containers at once, many bind mounts, a large config, and
//! `list`/`state` with a full state root.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Instant;

use serde_json::json;
use writ_conformance::Bundle;

use crate::measure::{ms, Mode};
use crate::subject::{Ctr, Subject};

/// One container's whole life as the parallel test runs it: create, start, wait, delete.
fn create_start_delete(s: &Subject) -> Result<(), String> {
    let mut c = Ctr::new(s, "benchpar");
    s.create(Mode::Time, &mut c, s.bundle.path())?;
    s.invoke(Mode::Time, &c.id, &["start", &c.id])?;
    c.wait()?;
    s.invoke(Mode::Time, &c.id, &["delete", &c.id])?;
    c.done();
    Ok(())
}

/// `n` containers, each created, started, waited for and deleted by its own thread, all
/// released at once. Records `parallel` (wall ms from release to the last delete).
pub fn parallel(s: &Subject, n: usize) -> Result<(), String> {
    let barrier = Barrier::new(n + 1);
    let errors = Mutex::new(Vec::new());
    let took = std::thread::scope(|scope| {
        for _ in 0..n {
            scope.spawn(|| {
                barrier.wait();
                if let Err(e) = create_start_delete(s) {
                    errors.lock().unwrap_or_else(|e| e.into_inner()).push(e);
                }
            });
        }
        barrier.wait();
        let t0 = Instant::now();
        // The scope joins every thread before returning.
        t0
    })
    .elapsed();
    let errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = errors.first() {
        return Err(format!("{} of {n} failed; first: {e}", errors.len()));
    }
    s.record("parallel", ms(took));
    Ok(())
}

/// A bundle running `true` with `n` extra bind mounts of one host directory
/// (`/mnt/b0` ... in the container; the mount points exist in the rootfs).
pub fn bind_mount_bundle(n: usize) -> Result<Bundle, String> {
    let b = Bundle::new();
    let src = b.path().join("volume");
    std::fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    for i in 0..n {
        let d = b.rootfs().join(format!("mnt/b{i}"));
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let src = src.to_string_lossy().into_owned();
    b.edit(|c| {
        c["process"]["args"] = json!(["true"]);
        let mut mounts = c["mounts"].as_array().cloned().unwrap_or_default();
        for i in 0..n {
            mounts.push(json!({
                "destination": format!("/mnt/b{i}"),
                "type": "bind",
                "source": src,
                "options": ["bind"]
            }));
        }
        c["mounts"] = json!(mounts);
    });
    Ok(b)
}

/// A bundle running `true` whose config.json is padded to about `bytes` with annotations
/// (1,000-byte values); returns it and the config's real size in bytes.
pub fn big_config_bundle(bytes: usize) -> Result<(Bundle, u64), String> {
    let b = Bundle::new();
    b.edit(|c| {
        c["process"]["args"] = json!(["true"]);
        let value = "x".repeat(1000);
        let mut ann = serde_json::Map::new();
        for i in 0..bytes / 1030 {
            ann.insert(format!("org.example.bench.pad{i}"), json!(value));
        }
        c["annotations"] = serde_json::Value::Object(ann);
    });
    let size = std::fs::metadata(b.path().join("config.json"))
        .map_err(|e| format!("config.json: {e}"))?
        .len();
    Ok((b, size))
}

/// `run` of `true` in `bundle`, recorded under `key`.
pub fn run_in(s: &Subject, bundle: &Bundle, key: &str) -> Result<(), String> {
    let mut c = Ctr::new(s, "benchscale");
    let m = c.run(Mode::Time, bundle.path())?;
    c.done();
    s.record_measured(key, m);
    Ok(())
}

/// `n` created (never started) containers in a subject's root, made by `workers` threads;
/// deleted with `delete --force` by [`Populated::clean`] (or on drop, one by one).
pub struct Populated<'a> {
    pub ctrs: Vec<Ctr<'a>>,
}

impl<'a> Populated<'a> {
    pub fn new(
        s: &'a Subject,
        n: usize,
        workers: usize,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<Populated<'a>, String> {
        let next = AtomicUsize::new(0);
        let made = Mutex::new(Vec::with_capacity(n));
        let failure = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        break;
                    }
                    if i > 0 && i.is_multiple_of(250) {
                        progress(&format!("{}: {i}/{n} created", s.name));
                    }
                    let mut c = Ctr::new(s, "benchmany");
                    let r = s.create(Mode::Time, &mut c, s.bundle.path());
                    made.lock().unwrap_or_else(|e| e.into_inner()).push(c);
                    if let Err(e) = r {
                        *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                    }
                });
            }
        });
        let p = Populated {
            ctrs: made.into_inner().unwrap_or_else(|e| e.into_inner()),
        };
        match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(p),
        }
    }

    /// Delete every container (`delete --force`), `workers` at a time.
    pub fn clean(self, workers: usize) {
        let ctrs = Mutex::new(self.ctrs);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let c = ctrs.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    // Drop: delete --force, SIGKILL and reap the init.
                    match c {
                        Some(c) => drop(c),
                        None => break,
                    }
                });
            }
        });
    }
}
