//! writ-bench: N sequential container lifecycles (create, start, wait for exit, delete)
//! and N `run`s with writ, runc and crun (when installed and usable on this host),
//! alternating the runtimes inside each round, then medians and the ratios writ/crun
//! and writ/runc.
//!
//! Usage: writ-bench [-n N] [--writ PATH] [--baseline PATH] [--hide-cgroup2]   (run as
//! root; a release build of writ is recommended: `cargo build --release -p writ-cli`)
//!
//! `--baseline PATH` benchmarks a second writ binary (another build, say main's) in the
//! same rounds, labelled `base`, and prints the ratio writ/base: a change is compared with
//! what it changes under the same load.
//!
//! crun refuses hybrid cgroup hosts (v1 controllers plus a cgroup2 mount). With
//! `--hide-cgroup2` the benchmark first moves itself into a private mount namespace and
//! detaches the cgroup2 mount there (/sys/fs/cgroup/unified), so every runtime, crun
//! included, sees a plain cgroup v1 host; the host itself is not changed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use writ_conformance::{
    become_subreaper, crun, runc, unique_id, wait_pid, Availability, Bundle, Kind, Runtime,
};

struct Args {
    n: usize,
    writ: Option<PathBuf>,
    baseline: Option<PathBuf>,
    hide_cgroup2: bool,
}

const USAGE: &str = "usage: writ-bench [-n N] [--writ PATH] [--baseline PATH] [--hide-cgroup2]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        n: 50,
        writ: None,
        baseline: None,
        hide_cgroup2: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" | "--iterations" => {
                let v = it.next().ok_or("-n needs a number")?;
                args.n = v.parse().map_err(|e| format!("-n {v}: {e}"))?;
                if args.n == 0 {
                    return Err("-n must be at least 1".into());
                }
            }
            "--writ" => args.writ = Some(PathBuf::from(it.next().ok_or("--writ needs a path")?)),
            "--baseline" => {
                args.baseline = Some(PathBuf::from(it.next().ok_or("--baseline needs a path")?))
            }
            "--hide-cgroup2" => args.hide_cgroup2 = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} ({USAGE})")),
        }
    }
    Ok(args)
}

/// The writ binary: --writ, $WRIT_BIN, else target/release/writ, else target/debug/writ.
fn writ_binary(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(p) = explicit {
        return p;
    }
    if std::env::var_os("WRIT_BIN").is_some() {
        return writ_conformance::writ_bin();
    }
    let debug = writ_conformance::writ_bin();
    let release = debug
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join("release").join("writ"));
    match release {
        Some(r) if r.is_file() => r,
        _ => debug,
    }
}

struct Subject {
    /// The name in the tables: the runtime's kind, or `base` for the baseline writ.
    label: String,
    rt: Runtime,
    root: tempfile::TempDir,
    bundle: Bundle,
    lifecycle: Vec<Duration>,
    /// create, start, wait, delete of each lifecycle.
    phases: [Vec<Duration>; 4],
    run: Vec<Duration>,
}

fn rt_cmd(s: &Subject, args: &[&str]) -> Command {
    let mut c = Command::new(&s.rt.bin);
    c.arg("--root").arg(s.root.path()).args(args);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn check(
    what: &str,
    s: &Subject,
    st: std::io::Result<std::process::ExitStatus>,
) -> Result<(), String> {
    match st {
        Ok(st) if st.success() => Ok(()),
        Ok(st) => Err(format!("{} {what} failed: {st}", s.rt)),
        Err(e) => Err(format!("{} {what}: {e}", s.rt)),
    }
}

/// create, start, wait for the process to exit, delete; the total and each phase.
fn lifecycle(s: &Subject) -> Result<(Duration, [Duration; 4]), String> {
    let id = unique_id("bench");
    let bundle = s.bundle.path().to_string_lossy().into_owned();
    let pid_file = s.root.path().join(format!("{id}.pid"));
    let pid_s = pid_file.to_string_lossy().into_owned();
    let t0 = Instant::now();
    check(
        "create",
        s,
        rt_cmd(
            s,
            &["create", "--bundle", &bundle, "--pid-file", &pid_s, &id],
        )
        .status(),
    )?;
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .map_err(|e| format!("{} pid file: {e}", s.rt))?
        .trim()
        .parse()
        .map_err(|e| format!("{} pid file: {e}", s.rt))?;
    let t1 = Instant::now();
    check("start", s, rt_cmd(s, &["start", &id]).status())?;
    let t2 = Instant::now();
    wait_pid(pid, Duration::from_secs(30)).map_err(|e| format!("{} wait: {e}", s.rt))?;
    let t3 = Instant::now();
    check("delete", s, rt_cmd(s, &["delete", &id]).status())?;
    let t4 = Instant::now();
    let _ = std::fs::remove_file(&pid_file);
    Ok((t4 - t0, [t1 - t0, t2 - t1, t3 - t2, t4 - t3]))
}

fn run_once(s: &Subject) -> Result<Duration, String> {
    let id = unique_id("benchrun");
    let bundle = s.bundle.path().to_string_lossy().into_owned();
    let t0 = Instant::now();
    check(
        "run",
        s,
        rt_cmd(s, &["run", "--bundle", &bundle, &id]).status(),
    )?;
    let took = t0.elapsed();
    // run leaves a stopped container only on failure; make sure nothing stays.
    let _ = rt_cmd(s, &["delete", "--force", &id]).status();
    Ok(took)
}

/// Private mount namespace in which the cgroup2 mounts of a hybrid host are detached.
fn hide_cgroup2() -> Result<Vec<PathBuf>, String> {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("make / rprivate: {e}"))?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let mut hidden = Vec::new();
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        if post.split(' ').next() != Some("cgroup2") {
            continue;
        }
        let point = PathBuf::from(pre.split(' ').nth(4).unwrap_or(""));
        if point == Path::new("/sys/fs/cgroup") {
            return Err("this is a pure cgroup v2 host; nothing to hide".into());
        }
        umount2(&point, MntFlags::MNT_DETACH)
            .map_err(|e| format!("umount {}: {e}", point.display()))?;
        hidden.push(point);
    }
    Ok(hidden)
}

fn median(v: &[Duration]) -> Option<Duration> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort();
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("writ-bench: {e}");
            std::process::exit(2);
        }
    };
    if args.hide_cgroup2 {
        match hide_cgroup2() {
            Ok(h) if h.is_empty() => println!("--hide-cgroup2: no cgroup2 mount to hide"),
            Ok(h) => println!(
                "--hide-cgroup2: private mount namespace, detached {}; all runtimes see a cgroup v1 host",
                h.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
            Err(e) => {
                eprintln!("writ-bench: --hide-cgroup2: {e}");
                std::process::exit(1);
            }
        }
    }
    become_subreaper();
    let writ = Runtime {
        kind: Kind::Writ,
        bin: writ_binary(args.writ),
    };
    let mut subjects = Vec::new();
    let mut notes = Vec::new();
    let mut candidates = vec![(None, Availability::Usable(writ))];
    if let Some(bin) = args.baseline {
        if !bin.is_file() {
            eprintln!("writ-bench: --baseline {}: no such file", bin.display());
            std::process::exit(2);
        }
        let base = Runtime {
            kind: Kind::Writ,
            bin,
        };
        candidates.push((Some("base"), Availability::Usable(base)));
    }
    candidates.push((None, runc()));
    candidates.push((None, crun()));
    for (label, avail) in candidates {
        match avail {
            Availability::Usable(rt) => {
                let bundle = Bundle::new();
                bundle.set_args(&["true"]);
                let root = tempfile::Builder::new()
                    .prefix("bench-root-")
                    .tempdir_in(writ_conformance::work_dir())
                    .unwrap_or_else(|e| {
                        eprintln!("writ-bench: state root: {e}");
                        std::process::exit(1)
                    });
                subjects.push(Subject {
                    label: label.map_or_else(|| rt.kind.to_string(), str::to_string),
                    rt,
                    root,
                    bundle,
                    lifecycle: Vec::new(),
                    phases: Default::default(),
                    run: Vec::new(),
                });
            }
            Availability::Skipped { kind, reason } => {
                println!("{kind}: not benchmarked: {reason}");
                notes.push((kind, reason));
            }
        }
    }
    for s in &subjects {
        println!("{}: benchmarked ({})", s.label, s.rt);
    }
    // Warm-up (page cache, binaries) and a check that every runtime works at all.
    let mut failed = vec![false; subjects.len()];
    for (i, s) in subjects.iter().enumerate() {
        if let Err(e) = lifecycle(s).and_then(|_| run_once(s)) {
            println!("{}: excluded, warm-up failed: {e}", s.rt);
            failed[i] = true;
        }
    }
    println!("{} rounds; in each round every runtime does one lifecycle (create, start, wait, delete) and one run", args.n);
    let k = subjects.len();
    for round in 0..args.n {
        // Alternate: rotate which runtime goes first in each round.
        for j in 0..k {
            let i = (round + j) % k;
            if failed[i] {
                continue;
            }
            match lifecycle(&subjects[i]) {
                Ok((d, phases)) => {
                    subjects[i].lifecycle.push(d);
                    for (v, p) in subjects[i].phases.iter_mut().zip(phases) {
                        v.push(p);
                    }
                }
                Err(e) => {
                    println!("{e}");
                    failed[i] = true;
                    continue;
                }
            }
            match run_once(&subjects[i]) {
                Ok(d) => subjects[i].run.push(d),
                Err(e) => {
                    println!("{e}");
                    failed[i] = true;
                }
            }
        }
    }

    println!();
    println!(
        "{:<6} {:>8} {:>22} {:>16}",
        "", "samples", "lifecycle median ms", "run median ms"
    );
    let mut med = std::collections::BTreeMap::new();
    for s in &subjects {
        let (l, r) = (median(&s.lifecycle), median(&s.run));
        let fmt = |d: Option<Duration>| {
            d.map(|d| format!("{:.1}", ms(d)))
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "{:<6} {:>8} {:>22} {:>16}",
            s.label,
            s.lifecycle.len(),
            fmt(l),
            fmt(r)
        );
        med.insert(s.label.clone(), (l, r));
    }
    println!();
    println!(
        "{:<6} {:>10} {:>10} {:>10} {:>10}   (lifecycle phases, median ms)",
        "", "create", "start", "wait", "delete"
    );
    for s in &subjects {
        let p: Vec<String> = s
            .phases
            .iter()
            .map(|v| {
                median(v)
                    .map(|d| format!("{:.1}", ms(d)))
                    .unwrap_or_else(|| "-".into())
            })
            .collect();
        println!(
            "{:<6} {:>10} {:>10} {:>10} {:>10}",
            s.label, p[0], p[1], p[2], p[3]
        );
    }
    println!();
    let writ_m = med.get("writ").copied();
    if let (Some((Some(wl), Some(wr))), Some((Some(bl), Some(br)))) = (writ_m, med.get("base")) {
        println!(
            "writ/base: lifecycle {:.2}, run {:.2}   (below 1.00 means this writ is faster than the baseline)",
            ms(wl) / ms(*bl),
            ms(wr) / ms(*br)
        );
    }
    for other in ["crun", "runc"] {
        match (writ_m, med.get(other)) {
            (Some((Some(wl), Some(wr))), Some((Some(ol), Some(or)))) => println!(
                "writ/{other}: lifecycle {:.2}, run {:.2}   (below 1.00 means writ is faster)",
                ms(wl) / ms(*ol),
                ms(wr) / ms(*or)
            ),
            (_, None) => {
                let why = notes
                    .iter()
                    .find(|(k, _)| k.to_string() == other)
                    .map(|(_, r)| r.clone())
                    .unwrap_or_else(|| "not run".into());
                let hint = if why.contains("hybrid") {
                    "; --hide-cgroup2 compares on a v1 view of this host"
                } else {
                    ""
                };
                println!("writ/{other}: unavailable ({why}){hint}");
            }
            _ => println!("writ/{other}: unavailable (no samples for one of them)"),
        }
    }
    if failed.iter().any(|f| *f) {
        std::process::exit(1);
    }
}
