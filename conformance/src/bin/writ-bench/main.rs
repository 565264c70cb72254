//! writ-bench: every cost figure of writ next to crun's and runc's, measured in one run
//! with the runtimes alternating (in each round the order rotates), as medians and as the
//! ratios writ/crun and writ/runc. conformance/README.md ("Benchmark") describes every
//! section and option.
//!
//! Figures: the lifecycle (create, start, wait for exit, delete) and `run` of `true`; the
//! floor (`unshare -m -u -i -p -n -f chroot ROOTFS /bin/true`, no runtime at all) and
//! `run`/floor; `state`; the peak RSS of every invocation (measure.rs says how and why not
//! with wait4); `exec ID /bin/true` for each runtime that has `exec`; N containers created
//! in parallel; the cost with 1, 10, 50 and 200 bind mounts and with a 1 MB and a 4 MB
//! config (slopes, and a flag when the growth is faster than linear); `list` and `state`
//! with 1,000 containers in the root; the cost of podman's default seccomp profile per `run`
//! (warm and cold root) and per `exec` (seccomp.rs); binary size and shared libraries. `--also NAME=PATH`
//! adds writ variants as columns.
//!
//! `--check` is the CI's regression check (check.rs): writ/crun on the lifecycle must not
//! exceed `--max-ratio` (0.75).
//!
//! Run as root. Everything runs at nice -20 (`--no-nice` to keep the default priority).
//! crun refuses hybrid cgroup hosts (v1 controllers plus a cgroup2 mount): `--hide-cgroup2`
//! (implied by `--check`) first moves the benchmark into a private mount namespace and
//! detaches the cgroup2 mount there, so every runtime sees a plain cgroup v1 host; the host
//! itself is not changed. `--tmpfs` puts the work directory (bundles, state roots) on a
//! tmpfs in such a namespace ([`apply_tmpfs`] says why that matters on this machine).

mod binary;
mod check;
mod exec;
mod figures;
mod lifecycle;
mod measure;
mod report;
mod scale;
mod seccomp;
mod stats;
mod subject;

use std::path::{Path, PathBuf};
use std::time::Instant;

use writ_conformance::{become_subreaper, crun, runc, Availability, Kind, Runtime};

use figures::{CONFIG_SIZES, MOUNT_COUNTS};
use measure::Mode;
use report::Meta;
use subject::Subject;

const USAGE: &str =
    "usage: writ-bench [-n ROUNDS] [--writ PATH] [--hide-cgroup2] [--tmpfs] [--no-nice] \
[--format human|markdown|json] [--sections LIST] [--exec-rounds N] [--scale-rounds N] \
[--parallel N] [--parallel-rounds N] [--many N] [--many-rounds N] [--rss-rounds N] \
[--also NAME=PATH]...
       writ-bench --check [--max-ratio R] [-n ROUNDS] [--writ PATH] [--no-nice]
sections (default all): lifecycle,exec,seccomp,parallel,mounts,config,many,binary";

const SECTIONS: [&str; 8] = [
    "lifecycle",
    "exec",
    "seccomp",
    "parallel",
    "mounts",
    "config",
    "many",
    "binary",
];

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Human,
    Markdown,
    Json,
}

/// The command line, parsed.
pub struct Args {
    n: Option<usize>,
    writ: Option<PathBuf>,
    hide_cgroup2: bool,
    tmpfs: bool,
    format: Format,
    sections: Vec<String>,
    exec_rounds: usize,
    scale_rounds: usize,
    parallel: usize,
    parallel_rounds: usize,
    many: usize,
    many_rounds: usize,
    rss_rounds: usize,
    no_nice: bool,
    also: Vec<(String, PathBuf)>,
    check: bool,
    max_ratio: f64,
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.parse().map_err(|e| format!("{flag} {v}: {e}"))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        n: None,
        writ: None,
        hide_cgroup2: false,
        tmpfs: false,
        format: Format::Human,
        sections: SECTIONS.iter().map(|s| s.to_string()).collect(),
        exec_rounds: 50,
        scale_rounds: 15,
        parallel: 50,
        parallel_rounds: 3,
        many: 1000,
        many_rounds: 10,
        rss_rounds: 5,
        no_nice: false,
        also: Vec::new(),
        check: false,
        max_ratio: 0.75,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "-n" | "--rounds" => a.n = Some(number(&flag, it.next())?),
            "--writ" => a.writ = Some(PathBuf::from(it.next().ok_or("--writ needs a path")?)),
            "--hide-cgroup2" => a.hide_cgroup2 = true,
            "--tmpfs" => a.tmpfs = true,
            "--no-nice" => a.no_nice = true,
            "--also" => {
                let v = it.next().ok_or("--also needs NAME=PATH")?;
                let (name, path) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--also {v}: NAME=PATH"))?;
                if ["writ", "crun", "runc"].contains(&name) {
                    return Err(format!("--also {v}: {name} is taken"));
                }
                a.also.push((name.to_owned(), PathBuf::from(path)));
            }
            "--format" => {
                a.format = match it.next().as_deref() {
                    Some("human") => Format::Human,
                    Some("markdown") => Format::Markdown,
                    Some("json") => Format::Json,
                    other => return Err(format!("--format {other:?}: human, markdown or json")),
                }
            }
            "--sections" => {
                let v = it.next().ok_or("--sections needs a list")?;
                a.sections = v.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = a.sections.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!(
                        "unknown section {bad:?} (known: {})",
                        SECTIONS.join(",")
                    ));
                }
            }
            "--exec-rounds" => a.exec_rounds = number(&flag, it.next())?,
            "--scale-rounds" => a.scale_rounds = number(&flag, it.next())?,
            "--parallel" => a.parallel = number(&flag, it.next())?,
            "--parallel-rounds" => a.parallel_rounds = number(&flag, it.next())?,
            "--many" => a.many = number(&flag, it.next())?,
            "--many-rounds" => a.many_rounds = number(&flag, it.next())?,
            "--rss-rounds" => a.rss_rounds = number(&flag, it.next())?,
            "--check" => a.check = true,
            "--max-ratio" => a.max_ratio = number(&flag, it.next())?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let counts = [
        a.n.unwrap_or(1),
        a.exec_rounds,
        a.scale_rounds,
        a.parallel,
        a.parallel_rounds,
        a.many,
        a.many_rounds,
        a.rss_rounds,
    ];
    if counts.contains(&0) {
        return Err("round and container counts must be at least 1".into());
    }
    Ok(a)
}

/// The writ binary: --writ, $WRIT_BIN, else the static release build
/// (target/x86_64-unknown-linux-musl/release/writ, `cargo build-static --release`), else
/// the static glibc one (`cargo build-static-gnu --release`), else target/release/writ,
/// else target/debug/writ.
fn writ_binary(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(p) = explicit {
        return p;
    }
    if std::env::var_os("WRIT_BIN").is_some() {
        return writ_conformance::writ_bin();
    }
    let debug = writ_conformance::writ_bin();
    let target = debug.parent().and_then(Path::parent);
    let release = [
        "x86_64-unknown-linux-musl/release/writ",
        "x86_64-unknown-linux-gnu/release/writ",
        "release/writ",
    ]
    .iter()
    .filter_map(|rel| target.map(|t| t.join(rel)))
    .find(|p| p.is_file());
    release.unwrap_or(debug)
}

/// Moves the benchmark into a private mount namespace (what it mounts or unmounts there
/// is not seen by the host, and goes with its last process). Once: the views that need
/// it (`--hide-cgroup2`, `--tmpfs`) share it.
fn private_mount_ns() -> Result<(), String> {
    use nix::mount::{mount, MsFlags};
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
            .map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| format!("make / rprivate: {e}"))
    })
    .clone()
}

/// `--tmpfs`: a tmpfs over the work directory (bundles, rootfs, every runtime's state
/// root) in a private mount namespace, as the state roots are on hosts whose /run is a
/// tmpfs. Why it is an option: an inode created on an ext4 without a journal (this
/// machine's /) costs a scan that grows with the inodes deleted in the last seconds
/// (`recently_deleted()` in the inode allocator), so on such a disk the figures of every
/// runtime depend on what the machine deleted just before.
fn apply_tmpfs() -> Result<String, String> {
    use nix::mount::{mount, MsFlags};
    private_mount_ns()?;
    let dir = writ_conformance::work_dir();
    mount(
        Some("tmpfs"),
        &dir,
        Some("tmpfs"),
        // No nosuid/nodev: the disk it stands in for has neither.
        MsFlags::empty(),
        Some("mode=0755"),
    )
    .map_err(|e| format!("mount tmpfs on {}: {e}", dir.display()))?;
    Ok(format!(
        "--tmpfs: bundles and state roots on a tmpfs ({} in a private mount namespace)",
        dir.display()
    ))
}

/// Private mount namespace in which the cgroup2 mounts of a hybrid host are detached.
pub fn hide_cgroup2() -> Result<Vec<PathBuf>, String> {
    use nix::mount::{umount2, MntFlags};
    private_mount_ns()?;
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

/// Hide the cgroup2 mount and say what was done (the "view" of the report).
pub fn apply_hide() -> Result<String, String> {
    let h = hide_cgroup2()?;
    Ok(if h.is_empty() {
        "--hide-cgroup2: no cgroup2 mount to hide".into()
    } else {
        format!(
            "--hide-cgroup2: cgroup2 ({}) detached in a private mount namespace, all runtimes on cgroup v1",
            h.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Run at nice -20 (inherited by every runtime process and container): on a machine
/// shared with other work, the measured processes then lose the CPU to it rarely, and a
/// loaded machine slows both sides of a ratio alike instead of adding its delays to both.
fn raise_priority() -> String {
    // SAFETY: setpriority on this process only; no memory is passed.
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -20) };
    if r == 0 {
        "at nice -20".into()
    } else {
        format!(
            "at the default priority (setpriority -20: {})",
            std::io::Error::last_os_error()
        )
    }
}

/// A progress line on stderr.
pub fn progress(msg: &str) {
    eprintln!("[writ-bench] {msg}");
}

/// The 1-minute load average, as /proc/loadavg has it.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// UTC date and time, `YYYY-MM-DD HH:MM UTC` (from `date`).
fn utc_now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "(date unknown)".into())
}

/// The command line as typed (shell-quoted where needed).
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The runtimes to compare, writ first, then crun, then runc; notes for those left out.
pub fn subjects(writ: PathBuf, kinds: &[Kind], notes: &mut Vec<String>) -> Vec<Subject> {
    let mut out = Vec::new();
    for kind in kinds {
        let avail = match kind {
            Kind::Writ => Availability::Usable(Runtime {
                kind: Kind::Writ,
                bin: writ.clone(),
            }),
            Kind::Crun => crun(),
            Kind::Runc => runc(),
        };
        match avail {
            Availability::Usable(rt) => match Subject::new(rt) {
                Ok(s) => out.push(s),
                Err(e) => notes.push(format!("{kind}: not benchmarked: {e}")),
            },
            Availability::Skipped { kind, reason } => {
                let hint = if reason.contains("hybrid") {
                    " (--hide-cgroup2 compares on a cgroup v1 view of this host)"
                } else {
                    ""
                };
                notes.push(format!("{kind}: not benchmarked: {reason}{hint}"));
            }
        }
    }
    out
}

/// Per-subject failure, recorded once; the subject is left out of later rounds.
struct Failures(Vec<Option<String>>);

impl Failures {
    fn ok(&self, i: usize) -> bool {
        self.0[i].is_none()
    }
    /// Per subject: whether it has failed.
    fn broken(&self) -> Vec<bool> {
        self.0.iter().map(Option::is_some).collect()
    }
    fn fail(&mut self, i: usize, s: &Subject, what: &str, e: String) {
        progress(&format!(
            "{}: {what} failed, left out from here on: {e}",
            s.name
        ));
        self.0[i] = Some(format!("{}: {what} failed: {e}", s.name));
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("writ-bench: {e}");
            std::process::exit(2);
        }
    };
    let niced = if args.no_nice {
        None
    } else {
        Some(raise_priority())
    };
    if args.check {
        if let Some(n) = &niced {
            progress(n);
        }
        std::process::exit(check::run(&args));
    }
    let t_start = Instant::now();
    let load_before = loadavg();
    let mut view: Vec<String> = niced.into_iter().collect();
    // The views of the host the runtimes are measured in, in this order.
    type Apply = fn() -> Result<String, String>;
    let views: [(&str, bool, Apply); 2] = [
        ("--hide-cgroup2", args.hide_cgroup2, apply_hide),
        ("--tmpfs", args.tmpfs, apply_tmpfs),
    ];
    for (flag, _, apply) in views.into_iter().filter(|v| v.1) {
        match apply() {
            Ok(v) => view.push(v),
            Err(e) => {
                eprintln!("writ-bench: {flag}: {e}");
                std::process::exit(1);
            }
        }
    }
    become_subreaper();
    let mut notes = Vec::new();
    let mut subjects = subjects(
        writ_binary(args.writ.clone()),
        &[Kind::Writ, Kind::Crun, Kind::Runc],
        &mut notes,
    );
    // Variants of writ (--also NAME=PATH): extra columns, measured in the same rounds.
    for (name, bin) in &args.also {
        let rt = Runtime {
            kind: Kind::Writ,
            bin: bin.clone(),
        };
        match Subject::new(rt) {
            Ok(mut s) => {
                s.name = name.clone();
                subjects.push(s);
            }
            Err(e) => notes.push(format!("{name}: not benchmarked: {e}")),
        }
    }
    let mut failures = Failures(vec![None; subjects.len()]);
    // Warm-up (page cache, binaries) and a check that every runtime works at all.
    for (i, s) in subjects.iter().enumerate() {
        progress(&format!(
            "{}: {} ({})",
            s.name,
            s.version,
            s.rt.bin.display()
        ));
        let probe = lifecycle::lifecycle(s, Mode::Time)
            .and_then(|_| lifecycle::run(s, Mode::Time))
            .and_then(|_| lifecycle::lifecycle(s, Mode::PeakRss));
        if let Err(e) = probe {
            failures.fail(i, s, "warm-up", e);
        }
        s.clear();
    }
    let on = |name: &str| args.sections.iter().any(|s| s == name);
    let n = args.n.unwrap_or(30);
    let floor_log = subjects
        .first()
        .map(|s| s.root.path().join("floor.stderr"))
        .unwrap_or_else(|| PathBuf::from("/dev/null"));
    let rootfs = subjects.first().map(|s| s.bundle.rootfs());
    let mut floor = Vec::new();

    if on("lifecycle") {
        let r = args.rss_rounds;
        progress(&format!(
            "lifecycle: {n} timed rounds of lifecycle + run per runtime and the floor, then {r} peak-RSS rounds"
        ));
        let k = subjects.len() + 1;
        for round in 0..n + r {
            if round % 10 == 0 {
                progress(&format!("lifecycle round {}/{}", round + 1, n + r));
            }
            let mode = if round < n { Mode::Time } else { Mode::PeakRss };
            for j in 0..k {
                let i = (round + j) % k;
                if i == subjects.len() {
                    if mode == Mode::PeakRss {
                        continue;
                    }
                    if let Some(rootfs) = &rootfs {
                        match lifecycle::floor(rootfs, &floor_log) {
                            Ok(m) => floor.extend(m.took.map(measure::ms)),
                            Err(e) => {
                                notes.push(e);
                                break;
                            }
                        }
                    }
                    continue;
                }
                let s = &subjects[i];
                if !failures.ok(i) {
                    continue;
                }
                if let Err(e) = lifecycle::lifecycle(s, mode).and_then(|_| lifecycle::run(s, mode))
                {
                    failures.fail(i, s, "lifecycle", e);
                }
            }
        }
    }

    if on("exec") {
        let mut with_exec = Vec::new();
        for (i, s) in subjects.iter().enumerate() {
            if !failures.ok(i) {
                continue;
            }
            match exec::supports_exec(&s.rt.bin) {
                Ok(()) => with_exec.push(s),
                Err(e) => notes.push(format!("exec: unavailable for {}: {e}", s.name)),
            }
        }
        progress(&format!("exec: {} rounds", args.exec_rounds));
        if let Err(e) = exec::exec_rounds(&with_exec, args.exec_rounds, args.rss_rounds, &progress)
        {
            notes.push(format!("exec: {e}"));
        }
    }

    if on("seccomp") {
        seccomp_section(&subjects, &failures, n, &mut notes);
    }

    if on("parallel") {
        progress(&format!(
            "parallel: {} containers at once, {} rounds",
            args.parallel, args.parallel_rounds
        ));
        for round in 0..args.parallel_rounds {
            for j in 0..subjects.len() {
                let i = (round + j) % subjects.len();
                if failures.ok(i) {
                    if let Err(e) = scale::parallel(&subjects[i], args.parallel) {
                        notes.push(format!("parallel: {}: {e}", subjects[i].name));
                    }
                }
            }
        }
    }

    if on("mounts") {
        progress(&format!(
            "bind mounts {MOUNT_COUNTS:?}: {} rounds",
            args.scale_rounds
        ));
        match MOUNT_COUNTS
            .iter()
            .map(|&c| scale::bind_mount_bundle(c).map(|b| (c, b)))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(bundles) => {
                let points: Vec<(String, &writ_conformance::Bundle)> = bundles
                    .iter()
                    .map(|(c, b)| (format!("mounts/{c}"), b))
                    .collect();
                scale_rounds(&subjects, &failures, args.scale_rounds, &points, &mut notes)
            }
            Err(e) => notes.push(format!("mounts: {e}")),
        }
    }

    let mut config_bytes = Vec::new();
    if on("config") {
        progress(&format!("config sizes: {} rounds", args.scale_rounds));
        match CONFIG_SIZES
            .iter()
            .map(|&(name, bytes)| scale::big_config_bundle(bytes).map(|(b, size)| (name, b, size)))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(bundles) => {
                config_bytes = bundles.iter().map(|(n, _, sz)| (*n, *sz)).collect();
                let points: Vec<(String, &writ_conformance::Bundle)> = bundles
                    .iter()
                    .map(|(name, b, _)| (format!("config/{name}"), b))
                    .collect();
                scale_rounds(&subjects, &failures, args.scale_rounds, &points, &mut notes)
            }
            Err(e) => notes.push(format!("config: {e}")),
        }
    }

    if on("many") {
        many(&subjects, &failures, &args, &mut notes);
    }

    for f in failures.0.iter().flatten() {
        notes.push(f.clone());
    }
    let meta = Meta {
        date: utc_now(),
        command: command_line(),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        load_before,
        load_after: loadavg(),
        view: view.join("; "),
        seconds: t_start.elapsed().as_secs_f64(),
    };
    let extra = figures::Extra {
        floor: &floor,
        config_bytes: &config_bytes,
        parallel: args.parallel,
        many: args.many,
        binary: on("binary"),
    };
    let report = figures::build(meta, &subjects, &extra, notes);
    match args.format {
        Format::Human => print!("{}", report.human()),
        Format::Markdown => print!("{}", report.markdown()),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report.json()).unwrap_or_default()
        ),
    }
    if failures.0.iter().any(Option::is_some) {
        std::process::exit(1);
    }
}

/// `rounds` rounds of a `run` in each point's bundle (recorded under the point's key) by
/// every subject.
fn scale_rounds(
    subjects: &[Subject],
    failures: &Failures,
    rounds: usize,
    points: &[(String, &writ_conformance::Bundle)],
    notes: &mut Vec<String>,
) {
    rotate(
        failures.broken(),
        rounds,
        points,
        notes,
        |i, (key, bundle)| scale::run_in(&subjects[i], bundle, key),
    );
}

/// `rounds` rounds in which every pair (point, subject) is measured once by `f(subject
/// index, point)`. The order of the points and, for each point, of the subjects rotates
/// from round to round, so that no point or runtime always follows the same predecessor
/// (a runtime's cgroup writes can leave kernel state warm for whoever runs next). A
/// subject whose measurement fails (the error is noted) is left out from then on, as are
/// those `broken` from the start.
fn rotate<P>(
    mut broken: Vec<bool>,
    rounds: usize,
    points: &[P],
    notes: &mut Vec<String>,
    f: impl Fn(usize, &P) -> Result<(), String>,
) {
    let k = broken.len();
    for round in 0..rounds {
        for pj in 0..points.len() {
            let point = &points[(round + pj) % points.len()];
            for j in 0..k {
                let i = (round + pj + j) % k;
                if broken[i] {
                    continue;
                }
                if let Err(e) = f(i, point) {
                    notes.push(e);
                    broken[i] = true;
                }
            }
        }
    }
}

/// The `seccomp` section (seccomp.rs): the profile converted for the bundle's process;
/// in every root one uncounted `run` with it (the warm-up) and a running container with
/// it for `exec`; then `n` rounds of every figure.
fn seccomp_section(subjects: &[Subject], failures: &Failures, n: usize, notes: &mut Vec<String>) {
    let Some(first) = subjects.first() else {
        return;
    };
    let path = seccomp::PROFILE;
    let (profile, caps) = match seccomp::load(Path::new(path), &first.bundle.config()) {
        Ok(Some(p)) => p,
        Ok(None) => {
            notes.push(format!(
                "seccomp: skipped: {path} (podman's default profile) does not exist, and no other profile is used"
            ));
            return;
        }
        Err(e) => {
            notes.push(format!("seccomp: skipped: {e}"));
            return;
        }
    };
    notes.push(profile.note(path, &caps));
    let with = seccomp::bundle(&profile.seccomp, &["true"]);
    let sleeper = seccomp::bundle(&profile.seccomp, &["sleep", "1000000"]);
    progress(&format!(
        "seccomp: warm-up, then {n} rounds of run with and without the profile, in a fresh root, and exec"
    ));
    let mut broken = failures.broken();
    let mut running = Vec::new();
    for (i, s) in subjects.iter().enumerate() {
        let mut c = subject::Ctr::new(s, "benchwarm");
        let ready = if broken[i] {
            Ok(None)
        } else {
            c.run(Mode::Time, with.path()).map(|_| c.done()).and_then(
                |()| match exec::supports_exec(&s.rt.bin) {
                    Ok(()) => exec::start(s, &sleeper).map(Some),
                    Err(e) => {
                        notes.push(format!("seccomp: exec unavailable for {}: {e}", s.name));
                        Ok(None)
                    }
                },
            )
        };
        match ready {
            Ok(c) => running.push(c),
            Err(e) => {
                notes.push(format!("seccomp: {e}"));
                broken[i] = true;
                running.push(None);
            }
        }
    }
    rotate(broken, n, &seccomp::OPS, notes, |i, op| {
        seccomp::measure(&subjects[i], *op, &with, running[i].as_ref())
            .map_err(|e| format!("seccomp: {e}"))
    });
    for c in running.into_iter().flatten() {
        if let Err(e) = exec::stop(c) {
            notes.push(format!("seccomp: {e}"));
        }
    }
}

/// `list` and `state` with `--many` created containers in every runtime's root: all roots
/// are filled first, then the measurements alternate, then everything is deleted.
fn many(subjects: &[Subject], failures: &Failures, args: &Args, notes: &mut Vec<String>) {
    let n = args.many;
    let workers = 4;
    let mut filled = Vec::new();
    for (i, s) in subjects.iter().enumerate() {
        if !failures.ok(i) {
            continue;
        }
        progress(&format!("{}: creating {n} containers", s.name));
        match scale::Populated::new(s, n, workers, &progress) {
            Ok(p) => filled.push((s, p)),
            Err(e) => {
                notes.push(format!("{n} containers: {}: {e}", s.name));
            }
        }
    }
    progress(&format!(
        "list and state with {n} containers: {} rounds",
        args.many_rounds
    ));
    let mut broken = vec![false; filled.len()];
    for round in 0..args.many_rounds + args.rss_rounds {
        let mode = if round < args.many_rounds {
            Mode::Time
        } else {
            Mode::PeakRss
        };
        for j in 0..filled.len() {
            let i = (round + j) % filled.len();
            if broken[i] {
                continue;
            }
            let (s, p) = &filled[i];
            let id = &p.ctrs[p.ctrs.len() / 2].id;
            let r = s
                .invoke(mode, id, &["list"])
                .map(|m| s.record_measured(&format!("list/{n}"), m))
                .and_then(|_| s.invoke(mode, id, &["state", id]))
                .map(|m| s.record_measured(&format!("state/{n}"), m));
            if let Err(e) = r {
                notes.push(format!("{n} containers: {e}"));
                broken[i] = true;
            }
        }
    }
    for (s, p) in filled {
        progress(&format!("{}: deleting {n} containers", s.name));
        p.clean(workers);
    }
}
