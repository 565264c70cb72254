//! Harness for lifecycle scenario tests against any OCI runtime binary.
//!
//! The harness speaks runc's command line (`--root DIR create/start/state/kill/delete/run`),
//! so the same scenario runs against writ and, when installed, against runc (the oracle that
//! proves the scenario itself) and crun (skipped with a printed reason where it refuses the
//! host). Everything a scenario creates is owned by a guard that cleans up on drop, also
//! while a failed assertion unwinds: containers are force-deleted and killed, leftover mounts
//! under the bundle are detached, cgroups named after the container are removed and the
//! state root and bundle directories are deleted.
//!
//! Scenarios are written as `for_each_runtime("name", |ctx| { ... })`; every runtime runs,
//! the result per runtime is printed (and appended to `target/conformance-report.txt`) and
//! the test fails if any runtime that ran failed. Known, deliberate deviations of an oracle
//! from the spec are recorded with [`Ctx::deviation`] instead of failing it.
// The harness of the scenario tests (not published): a failing `expect` is a failing
// scenario, and its items are documented where a scenario author needs it.
#![allow(missing_docs, clippy::expect_used)]

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use serde_json;

/// How long a single runtime command may take before the harness kills it (times
/// [`time_scale`]).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The factor applied to every timeout of the harness: `$WRIT_CONFORMANCE_TIME_SCALE`
/// (a positive integer), default 1. The pure cgroup v2 lane (`conformance/vm/`) runs under
/// an emulated CPU, 10-30x slower than the host, and sets it.
pub fn time_scale() -> u32 {
    static SCALE: OnceLock<u32> = OnceLock::new();
    *SCALE.get_or_init(|| {
        std::env::var("WRIT_CONFORMANCE_TIME_SCALE")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(1)
    })
}

/// `d` times [`time_scale`]: for a scenario's own deadlines (the harness's waits and command
/// timeouts are scaled already).
pub fn scaled(d: Duration) -> Duration {
    d * time_scale()
}

/// Which implementation a runtime binary is; decides the known deviations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Writ,
    Runc,
    Crun,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Writ => "writ",
            Kind::Runc => "runc",
            Kind::Crun => "crun",
        })
    }
}

/// A runtime binary under test.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub kind: Kind,
    pub bin: PathBuf,
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind, self.bin.display())
    }
}

/// Whether a runtime can be used on this host.
#[derive(Debug, Clone)]
pub enum Availability {
    Usable(Runtime),
    /// Not installed or refuses this host; the reason is printed.
    Skipped {
        kind: Kind,
        reason: String,
    },
}

fn workspace_target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.join("target"))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// The writ binary: `$WRIT_BIN`, else `<target>/debug/writ` (`cargo build -p writ-cli`).
pub fn writ_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("WRIT_BIN") {
        return PathBuf::from(bin);
    }
    workspace_target_dir().join("debug").join("writ")
}

/// An executable named `name` on PATH or in the usual system directories.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    for extra in [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ] {
        dirs.push(PathBuf::from(extra));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| {
        p.is_file()
            && fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
    })
}

/// writ, always (a missing binary makes every scenario fail, never skip).
pub fn writ() -> Runtime {
    let bin = writ_bin();
    static WARNED: OnceLock<()> = OnceLock::new();
    WARNED.get_or_init(|| {
        if std::env::var_os("WRIT_BIN").is_none() {
            if let Some(note) = staleness(&bin) {
                println!("[conformance] note: {note}");
            }
        }
    });
    Runtime {
        kind: Kind::Writ,
        bin,
    }
}

/// A note when the writ binary is missing or older than a source file of the runtime
/// (`cargo test -p writ-conformance` does not build it; `cargo test --workspace` does).
fn staleness(bin: &Path) -> Option<String> {
    let built = match fs::metadata(bin).and_then(|m| m.modified()) {
        Ok(t) => t,
        Err(_) => {
            return Some(format!(
                "{} is missing: run `cargo build -p writ-cli` first",
                bin.display()
            ))
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let mut stack = vec![
        root.join("runtime").join("src"),
        root.join("cli").join("src"),
    ];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > built)
            {
                return Some(format!(
                    "{} is older than {}: run `cargo build -p writ-cli` to test the current sources",
                    bin.display(),
                    p.display()
                ));
            }
        }
    }
    None
}

/// runc when installed (`$RUNC_BIN` or PATH).
pub fn runc() -> Availability {
    let bin = std::env::var_os("RUNC_BIN")
        .map(PathBuf::from)
        .or_else(|| find_in_path("runc"));
    match bin {
        Some(bin) => Availability::Usable(Runtime {
            kind: Kind::Runc,
            bin,
        }),
        None => Availability::Skipped {
            kind: Kind::Runc,
            reason: "runc is not installed".into(),
        },
    }
}

/// crun when installed and willing to run a container on this host. crun refuses hybrid
/// cgroup hosts ("cgroups in hybrid mode not supported"); a probe container detects that.
pub fn crun() -> Availability {
    static PROBE: OnceLock<Availability> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let bin = std::env::var_os("CRUN_BIN")
                .map(PathBuf::from)
                .or_else(|| find_in_path("crun"));
            let Some(bin) = bin else {
                return Availability::Skipped {
                    kind: Kind::Crun,
                    reason: "crun is not installed".into(),
                };
            };
            let rt = Runtime {
                kind: Kind::Crun,
                bin,
            };
            let ctx = Ctx::new(rt.clone(), "crun-probe");
            let bundle = ctx.bundle();
            bundle.set_args(&["true"]);
            let out = ctx.run(&bundle);
            if out.success() {
                Availability::Usable(rt)
            } else {
                Availability::Skipped {
                    kind: Kind::Crun,
                    reason: format!(
                        "crun cannot run a container on this host: {}",
                        out.stderr.trim()
                    ),
                }
            }
        })
        .clone()
}

/// The runtimes each scenario runs against: writ, then runc and crun as oracles, unless
/// `$WRIT_CONFORMANCE_ONLY_WRIT` is set (CI's second pass over the shipped static binary:
/// the oracles already ran in the first).
pub fn runtimes() -> Vec<Availability> {
    let mut all = vec![Availability::Usable(writ())];
    if std::env::var_os("WRIT_CONFORMANCE_ONLY_WRIT").is_some() {
        all.extend([Kind::Runc, Kind::Crun].map(|kind| Availability::Skipped {
            kind,
            reason: "WRIT_CONFORMANCE_ONLY_WRIT is set".into(),
        }));
    } else {
        all.extend([runc(), crun()]);
    }
    all
}

// ---------------------------------------------------------------------------------------
// Work directory, busybox rootfs
// ---------------------------------------------------------------------------------------

/// Directory under which bundles and state roots are made (same filesystem as the
/// cached busybox binary so it can be hard-linked into each rootfs).
pub fn work_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os("WRIT_CONFORMANCE_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("writ-conformance"));
        fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create work dir {}: {e}", dir.display()));
        dir
    })
    .clone()
}

/// Where busybox-static lives (`$BUSYBOX` or /bin/busybox).
pub fn busybox_source() -> PathBuf {
    std::env::var_os("BUSYBOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/bin/busybox"))
}

struct BusyboxCache {
    binary: PathBuf,
    applets: Vec<String>,
}

fn busybox_cache() -> &'static BusyboxCache {
    static CACHE: OnceLock<BusyboxCache> = OnceLock::new();
    CACHE.get_or_init(|| {
        let src = busybox_source();
        let applets = list_applets(&src).unwrap_or_else(|e| panic!("{e}"));
        // One copy per busybox version (size and mtime), shared by all test processes;
        // written under a private name and renamed into place atomically.
        let md = fs::metadata(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let mtime = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let binary = work_dir().join(format!(
            "busybox-{}-{}",
            md.len(),
            mtime.map(|d| d.as_secs()).unwrap_or(0)
        ));
        if !binary.exists() {
            let tmp = work_dir().join(format!("busybox.tmp.{}", std::process::id()));
            fs::copy(&src, &tmp)
                .unwrap_or_else(|e| panic!("copy {} to {}: {e}", src.display(), tmp.display()));
            fs::rename(&tmp, &binary).unwrap_or_else(|e| panic!("rename {}: {e}", tmp.display()));
        }
        BusyboxCache { binary, applets }
    })
}

/// `busybox --list-full`: applet paths relative to `/` (e.g. `bin/sh`, `usr/bin/awk`).
pub fn list_applets(busybox: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| {
            format!(
                "cannot run {} --list-full (install busybox-static): {e}",
                busybox.display()
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "{} --list-full failed: {}",
            busybox.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(".."))
        .map(str::to_owned)
        .collect())
}

/// Fill `rootfs` with a busybox userland: `/bin/busybox` plus one symlink per applet
/// (like `busybox --install -s`), mount point directories and a minimal /etc.
pub fn populate_rootfs(rootfs: &Path, busybox: &Path, applets: &[String]) -> std::io::Result<()> {
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "proc", "dev", "sys", "tmp", "etc", "root", "run",
        "mnt", "var",
    ] {
        fs::create_dir_all(rootfs.join(d))?;
    }
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777))?;
    let target = rootfs.join("bin/busybox");
    if fs::hard_link(busybox, &target).is_err() {
        fs::copy(busybox, &target)?;
    }
    for applet in applets {
        let link = rootfs.join(applet);
        if link == target || link.exists() {
            continue;
        }
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink("/bin/busybox", &link)?;
    }
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    )?;
    fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
    )?;
    Ok(())
}

/// The base config (the shape `runc spec` produces, with our own values): no terminal,
/// a writable root, the usual mounts, pid/net/ipc/uts/mount namespaces, masked and
/// readonly paths.
pub fn base_config(hostname: &str) -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": caps.clone(),
                "effective": caps.clone(),
                "permitted": caps.clone(),
                "ambient": caps
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": hostname,
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

// ---------------------------------------------------------------------------------------
// Subreaper, unique ids
// ---------------------------------------------------------------------------------------

/// Make the test process a child subreaper (like conmon and containerd's shim), so a
/// container stays our descendant after `create` exits and we can wait for it.
pub fn become_subreaper() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) only sets a flag on this process.
        let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        assert_eq!(
            rc,
            0,
            "prctl(PR_SET_CHILD_SUBREAPER): {}",
            std::io::Error::last_os_error()
        );
    });
}

/// A container id unique across processes and calls.
pub fn unique_id(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect();
    format!("wc-{tag}-{}-{n}", std::process::id())
}

// ---------------------------------------------------------------------------------------
// Command output
// ---------------------------------------------------------------------------------------

/// What a runtime command did.
#[derive(Debug, Clone)]
pub struct Out {
    pub argv: Vec<String>,
    /// Exit code; `None` when killed by a signal or timed out.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
}

impl Out {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
    /// Panics (with the whole output) unless the command exited 0.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert!(self.success(), "command failed: {self}");
        self
    }
    /// Panics unless the command failed (non-zero exit) and said something on stderr/stdout.
    #[track_caller]
    pub fn fails(&self) -> &Self {
        assert!(!self.timed_out, "command timed out: {self}");
        assert!(
            self.code.is_some_and(|c| c != 0),
            "command should have failed: {self}"
        );
        assert!(
            !(self.stderr.trim().is_empty() && self.stdout.trim().is_empty()),
            "command failed without an error message: {self}"
        );
        self
    }
    /// All text output, lower-cased (for error text checks).
    pub fn text_lower(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr).to_lowercase()
    }
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exit={:?}{} ({:?})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.argv.join(" "),
            self.code,
            if self.timed_out { " TIMED OUT" } else { "" },
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }
}

fn read_lossy(p: &Path) -> String {
    fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Options for one runtime invocation.
#[derive(Default)]
pub struct Invoke<'a> {
    pub stdin: Option<Stdio>,
    /// Files that receive stdout/stderr (the container inherits them on create/run).
    pub stdout_file: Option<&'a Path>,
    pub stderr_file: Option<&'a Path>,
    /// Extra fds to pass as 3, 4, ... (for --preserve-fds).
    pub extra_fds: Vec<OwnedFd>,
    pub timeout: Option<Duration>,
    /// Run with an empty environment (as engines call kill and delete).
    pub env_clear: bool,
}

static SPAWN_LOCK: Mutex<()> = Mutex::new(());

/// Run `bin args...`, output to files, with a timeout.
pub fn invoke(bin: &Path, args: &[&OsStr], opts: Invoke<'_>) -> Out {
    let scratch = tempfile::Builder::new()
        .prefix("out")
        .tempdir_in(work_dir())
        .expect("scratch dir for command output");
    let out_path = opts
        .stdout_file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| scratch.path().join("stdout"));
    let err_path = opts
        .stderr_file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| scratch.path().join("stderr"));
    let open = |p: &Path| {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap_or_else(|e| panic!("open {}: {e}", p.display()))
    };
    let (out_file, err_file) = (open(&out_path), open(&err_path));
    let out_start = out_file.metadata().map(|m| m.len()).unwrap_or(0) as usize;
    let err_start = err_file.metadata().map(|m| m.len()).unwrap_or(0) as usize;
    let mut cmd = Command::new(bin);
    if opts.env_clear {
        cmd.env_clear();
    }
    cmd.args(args)
        .stdout(out_file)
        .stderr(err_file)
        .stdin(opts.stdin.unwrap_or_else(Stdio::null));
    let argv: Vec<String> = std::iter::once(bin.as_os_str())
        .chain(args.iter().copied())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let extra: Vec<i32> = opts.extra_fds.iter().map(|f| f.as_raw_fd()).collect();
    if !extra.is_empty() {
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec we only call dup2/fcntl (async-signal-safe) on fds
        // that are owned by `opts.extra_fds`, alive until after spawn returns.
        unsafe {
            cmd.pre_exec(move || {
                // Move the sources out of the way first so that dup2 to 3.. cannot clobber them.
                let mut tmp = Vec::with_capacity(extra.len());
                for fd in &extra {
                    let t = libc::fcntl(*fd, libc::F_DUPFD, 100);
                    if t < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    tmp.push(t);
                }
                for (i, t) in tmp.iter().enumerate() {
                    if libc::dup2(*t, 3 + i as i32) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(*t);
                }
                Ok(())
            });
        }
    }
    let start = Instant::now();
    // Spawning while another thread holds fds it is about to pass would leak them into our
    // child; serialise spawns that pass extra fds with plain ones.
    let child = {
        let _g = SPAWN_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        cmd.spawn()
    };
    drop(opts.extra_fds);
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Out {
                argv,
                code: Some(-1),
                stdout: String::new(),
                stderr: format!("cannot execute {}: {e}", bin.display()),
                elapsed: start.elapsed(),
                timed_out: false,
            }
        }
    };
    let timeout = scaled(opts.timeout.unwrap_or(COMMAND_TIMEOUT));
    let mut timed_out = false;
    let status: Option<ExitStatus> = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {}
            Err(_) => break None,
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_micros(500));
    };
    let elapsed = start.elapsed();
    let stdout = read_lossy(&out_path);
    let stderr = read_lossy(&err_path);
    Out {
        argv,
        code: status.and_then(|s| s.code()),
        stdout: stdout.get(out_start..).unwrap_or("").to_owned(),
        stderr: stderr.get(err_start..).unwrap_or("").to_owned(),
        elapsed,
        timed_out,
    }
}

// ---------------------------------------------------------------------------------------
// Context, bundles, containers
// ---------------------------------------------------------------------------------------

/// One scenario run against one runtime: owns the runtime's `--root` state directory.
pub struct Ctx {
    pub rt: Runtime,
    pub scenario: String,
    root: tempfile::TempDir,
    deviations: Mutex<Vec<String>>,
}

impl Ctx {
    pub fn new(rt: Runtime, scenario: &str) -> Ctx {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the conformance scenarios create real containers and must run as root"
        );
        become_subreaper();
        let root = tempfile::Builder::new()
            .prefix("root-")
            .tempdir_in(work_dir())
            .expect("state root tempdir");
        Ctx {
            rt,
            scenario: scenario.to_owned(),
            root,
            deviations: Mutex::new(Vec::new()),
        }
    }

    pub fn kind(&self) -> Kind {
        self.rt.kind
    }

    /// The `--root` directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Record a known deviation of this runtime from the spec (only for oracles).
    pub fn deviation(&self, what: &str) {
        assert!(self.rt.kind != Kind::Writ, "writ may not deviate: {what}");
        println!("    [{}] known deviation: {what}", self.rt.kind);
        self.deviations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what.to_owned());
    }

    /// End this scenario as skipped for an environmental reason (an engine that drives the
    /// runtime is not installed). Never for a missing writ feature.
    pub fn skip(&self, reason: &str) -> ! {
        std::panic::resume_unwind(Box::new(SkipScenario(reason.to_owned())))
    }

    /// The cgroup2 mount of a pure cgroup v2 host; ends the scenario as skipped on a hybrid
    /// or v1 host (such scenarios run in the cgroup2 lane, `conformance/vm/lane`).
    pub fn require_pure_cgroup2(&self) -> PathBuf {
        pure_cgroup2_root().unwrap_or_else(|| {
            self.skip(
                "needs a pure cgroup v2 host (this one has cgroup v1 hierarchies); \
                 run by the cgroup2 lane, conformance/vm/lane",
            )
        })
    }

    pub fn deviations(&self) -> Vec<String> {
        self.deviations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `<runtime> --root <root> args...`
    pub fn cmd(&self, args: &[&str]) -> Out {
        self.cmd_with(args, Invoke::default())
    }

    pub fn cmd_with(&self, args: &[&str], opts: Invoke<'_>) -> Out {
        let mut full: Vec<&OsStr> = vec![OsStr::new("--root"), self.root.path().as_os_str()];
        full.extend(args.iter().map(OsStr::new));
        invoke(&self.rt.bin, &full, opts)
    }

    /// A fresh bundle with a busybox rootfs and the base config.
    pub fn bundle(&self) -> Bundle {
        Bundle::new()
    }

    /// A container guard (nothing is created yet).
    pub fn container<'a>(&'a self, bundle: &'a Bundle) -> Container<'a> {
        Container {
            ctx: self,
            bundle,
            id: unique_id(&self.scenario),
            pid: None,
            touched: false,
        }
    }

    /// A container whose program (`true`) has run and exited 0: `stopped`.
    #[track_caller]
    pub fn stopped<'a>(&'a self, bundle: &'a Bundle) -> Container<'a> {
        bundle.set_args(&["true"]);
        let mut c = self.container(bundle);
        c.create().ok();
        c.start().ok();
        let code = c.wait_exit(Duration::from_secs(10));
        assert_eq!(code, Some(0), "`true` exited 0");
        c
    }

    /// `run` the bundle in the foreground under a fresh id; returns the runtime's
    /// output (which includes the container's stdout/stderr).
    pub fn run(&self, bundle: &Bundle) -> Out {
        let mut c = self.container(bundle);
        c.run(&[])
    }

    /// `--log-format json --log <bundle>/runtime.log run` of the bundle in the
    /// foreground (which deletes the container) under a fresh id; returns the output and
    /// the log's text.
    pub fn run_logged(&self, bundle: &Bundle) -> (Out, String) {
        let log = bundle.path().join("runtime.log");
        let (bundle_s, log_s) = (
            bundle.path().to_string_lossy().into_owned(),
            log.to_string_lossy().into_owned(),
        );
        let id = unique_id(&self.scenario);
        let args = [
            "--log-format",
            "json",
            "--log",
            &log_s,
            "run",
            "--bundle",
            &bundle_s,
            &id,
        ];
        let out = self.cmd_with(&args, Invoke::default());
        (out, fs::read_to_string(&log).unwrap_or_default())
    }
}

/// Whether a `--log-format json` log has a warning whose message contains `needle`.
pub fn json_log_warns(log: &str, needle: &str) -> bool {
    log.lines().any(|l| {
        serde_json::from_str::<Value>(l).is_ok_and(|v| {
            v["level"] == "warning" && v["msg"].as_str().is_some_and(|m| m.contains(needle))
        })
    })
}

/// A bundle directory: `config.json` + `rootfs/`, removed on drop.
pub struct Bundle {
    dir: tempfile::TempDir,
    pub config: Mutex<Value>,
}

impl Bundle {
    pub fn new() -> Bundle {
        let dir = tempfile::Builder::new()
            .prefix("bundle-")
            .tempdir_in(work_dir())
            .expect("bundle tempdir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod bundle");
        let cache = busybox_cache();
        let rootfs = dir.path().join("rootfs");
        populate_rootfs(&rootfs, &cache.binary, &cache.applets)
            .unwrap_or_else(|e| panic!("populate rootfs {}: {e}", rootfs.display()));
        let host: String = dir
            .path()
            .file_name()
            .map(|n| {
                n.to_string_lossy()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect()
            })
            .unwrap_or_default();
        let b = Bundle {
            dir,
            config: Mutex::new(base_config(&format!("wc{}", &host[..host.len().min(20)]))),
        };
        b.write_config();
        b
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }

    /// Change the config (then written to config.json).
    pub fn edit(&self, f: impl FnOnce(&mut Value)) {
        {
            let mut c = self.config.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut c);
        }
        self.write_config();
    }

    pub fn config(&self) -> Value {
        self.config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn write_config(&self) {
        let c = self.config();
        let text = serde_json::to_vec_pretty(&c).expect("serialize config");
        fs::write(self.dir.path().join("config.json"), text).expect("write config.json");
    }

    /// `process.args`.
    pub fn set_args(&self, args: &[&str]) {
        self.edit(|c| c["process"]["args"] = json!(args));
    }

    /// `process.args = ["sh", "-c", script]`.
    pub fn set_sh(&self, script: &str) {
        self.set_args(&["sh", "-c", script]);
    }
}

impl Default for Bundle {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        umount_under(self.dir.path());
    }
}

/// Detach every mount at or below `dir` in our mount namespace (deepest first).
pub fn umount_under(dir: &Path) {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mountinfo)
        .filter(|p| p.starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    for p in points {
        let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
    }
}

fn unescape_mountinfo(s: &str) -> PathBuf {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}

/// Mount points (as seen in this mount namespace).
pub fn host_mount_points() -> Vec<PathBuf> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mountinfo)
        .collect()
}

/// Options for `create`.
#[derive(Default)]
pub struct CreateOpts<'a> {
    pub pid_file: Option<&'a Path>,
    pub console_socket: Option<&'a Path>,
    /// Fds passed to the runtime as 3, 4, ...
    pub preserve_fds: Vec<OwnedFd>,
    /// The `--preserve-fds` value; defaults to `preserve_fds.len()`.
    pub preserve_count: Option<usize>,
    pub extra_args: Vec<String>,
    /// Global options, given before `create` (`--log FILE --log-format json`).
    pub globals: Vec<String>,
}

/// A container id on one runtime; on drop it is force-deleted, its process killed and
/// reaped, and cgroups named after it removed.
pub struct Container<'a> {
    pub ctx: &'a Ctx,
    pub bundle: &'a Bundle,
    pub id: String,
    /// Host pid from the pid file, once created.
    pub pid: Option<i32>,
    touched: bool,
}

impl<'a> Container<'a> {
    fn io_path(&self, name: &str) -> PathBuf {
        self.bundle.path().join(format!("{}.{name}", self.id))
    }

    /// Where the container's stdout (inherited from create) is written.
    pub fn stdout_path(&self) -> PathBuf {
        self.io_path("stdout")
    }
    pub fn stderr_path(&self) -> PathBuf {
        self.io_path("stderr")
    }
    pub fn pid_file_path(&self) -> PathBuf {
        self.io_path("pid")
    }

    /// The container's stdout so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout_path())
    }
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr_path())
    }

    /// `create --bundle B --pid-file <bundle>/<id>.pid ID`, stdio to files.
    pub fn create(&mut self) -> Out {
        self.create_with(CreateOpts::default())
    }

    pub fn create_with(&mut self, opts: CreateOpts<'_>) -> Out {
        self.touched = true;
        let default_pid = self.pid_file_path();
        let pid_file = opts.pid_file.unwrap_or(&default_pid).to_path_buf();
        let bundle = self.bundle.path().to_string_lossy().into_owned();
        let pid_s = pid_file.to_string_lossy().into_owned();
        let mut args: Vec<String> = opts.globals;
        args.extend([
            "create".into(),
            "--bundle".into(),
            bundle,
            "--pid-file".into(),
            pid_s,
        ]);
        if let Some(s) = opts.console_socket {
            args.push("--console-socket".into());
            args.push(s.to_string_lossy().into_owned());
        }
        let count = opts.preserve_count.unwrap_or(opts.preserve_fds.len());
        if count > 0 {
            args.push("--preserve-fds".into());
            args.push(count.to_string());
        }
        args.extend(opts.extra_args);
        args.push(self.id.clone());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (so, se) = (self.stdout_path(), self.stderr_path());
        let out = self.ctx.cmd_with(
            &argv,
            Invoke {
                stdout_file: Some(&so),
                stderr_file: Some(&se),
                extra_fds: opts.preserve_fds,
                ..Default::default()
            },
        );
        if out.success() {
            self.pid = fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok());
        }
        out
    }

    pub fn start(&self) -> Out {
        self.ctx.cmd(&["start", &self.id])
    }

    /// `state ID` (raw).
    pub fn state_out(&self) -> Out {
        self.ctx.cmd(&["state", &self.id])
    }

    /// `state ID` parsed; panics if the command fails or the JSON is invalid.
    #[track_caller]
    pub fn state(&self) -> Value {
        let out = self.state_out();
        out.ok();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("state output is not JSON ({e}): {out}"))
    }

    /// The `status` field of `state`.
    #[track_caller]
    pub fn status(&self) -> String {
        self.state()["status"]
            .as_str()
            .unwrap_or("<missing status>")
            .to_owned()
    }

    pub fn kill(&self, signal: &str) -> Out {
        self.ctx.cmd(&["kill", &self.id, signal])
    }

    pub fn delete(&self) -> Out {
        self.ctx.cmd(&["delete", &self.id])
    }

    pub fn delete_force(&self) -> Out {
        self.ctx.cmd(&["delete", "--force", &self.id])
    }

    /// `exec FLAGS... ID CMD...` (runc's exec) in the foreground.
    pub fn exec(&self, flags: &[&str], cmd: &[&str]) -> Out {
        self.exec_with(flags, cmd, Invoke::default())
    }

    /// `exec FLAGS... ID CMD...` with invocation options (extra fds, timeout).
    pub fn exec_with(&self, flags: &[&str], cmd: &[&str], opts: Invoke<'_>) -> Out {
        let mut args = vec!["exec"];
        args.extend_from_slice(flags);
        args.push(&self.id);
        args.extend_from_slice(cmd);
        self.ctx.cmd_with(&args, opts)
    }

    /// `run --bundle B ID` in the foreground; the container's stdio is the command's.
    pub fn run(&mut self, extra: &[&str]) -> Out {
        self.touched = true;
        let bundle = self.bundle.path().to_string_lossy().into_owned();
        let mut args: Vec<&str> = vec!["run", "--bundle", &bundle];
        args.extend_from_slice(extra);
        args.push(&self.id);
        let (so, se) = (self.stdout_path(), self.stderr_path());
        self.ctx.cmd_with(
            &args,
            Invoke {
                stdout_file: Some(&so),
                stderr_file: Some(&se),
                ..Default::default()
            },
        )
    }

    /// Wait until the container's process exits (it is our descendant: we are a subreaper).
    /// Returns the exit code (128+signal when killed), or None if it could not be reaped by
    /// us (then we wait for it to disappear).
    #[track_caller]
    pub fn wait_exit(&self, timeout: Duration) -> Option<i32> {
        let pid = self
            .pid
            .expect("container has no pid (create failed or no pid file)");
        wait_pid(pid, timeout).unwrap_or_else(|e| panic!("container {} (pid {pid}): {e}", self.id))
    }

    /// Poll `state` until status is `want` (or timeout).
    #[track_caller]
    pub fn wait_status(&self, want: &str, timeout: Duration) {
        let timeout = scaled(timeout);
        let start = Instant::now();
        loop {
            let st = self.status();
            if st == want {
                return;
            }
            assert!(
                start.elapsed() < timeout,
                "container {} stayed {st}, expected {want}",
                self.id
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Wait for `pid` to exit: waitpid when it is our child, else poll /proc.
pub fn wait_pid(pid: i32, timeout: Duration) -> Result<Option<i32>, String> {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let timeout = scaled(timeout);
    let start = Instant::now();
    let np = nix::unistd::Pid::from_raw(pid);
    loop {
        match waitpid(np, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Some(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(Some(128 + sig as i32)),
            Ok(_) => {}
            Err(nix::errno::Errno::ECHILD) => {
                // Not our child: wait until it is gone or a zombie.
                let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let state = stat
                    .rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().next());
                if matches!(state, None | Some("Z") | Some("X")) {
                    return Ok(None);
                }
            }
            Err(e) => return Err(format!("waitpid: {e}")),
        }
        if start.elapsed() > timeout {
            return Err(format!("did not exit within {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether a process exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, r)| r.split_whitespace().next());
    matches!(state, Some(s) if s != "Z" && s != "X")
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        // Anything that may have made a container: create/run through this guard, or a
        // scenario that invoked the runtime itself and recorded the pid.
        if !self.touched && self.pid.is_none() {
            return;
        }
        let _ = self.ctx.cmd(&["delete", "--force", &self.id]);
        if let Some(pid) = self.pid {
            if pid_alive(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = wait_pid(pid, Duration::from_secs(5));
        }
        remove_cgroups_named(&self.id);
        umount_under(self.bundle.path());
    }
}

/// cgroup directories named `id` directly under any cgroup mount.
pub fn cgroup_dirs_named(id: &str) -> Vec<std::path::PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let fs = post.split(' ').next()?;
            if fs != "cgroup" && fs != "cgroup2" {
                return None;
            }
            Some(std::path::PathBuf::from(pre.split(' ').nth(4)?).join(id))
        })
        .filter(|p| p.exists())
        .collect()
}

/// Kill the processes in, and remove, cgroup directories named after a container id
/// (any hierarchy; directly under the mount or under our own cgroup).
pub fn remove_cgroups_named(id: &str) {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    for line in info.lines() {
        let Some((_, post)) = line.split_once(" - ") else {
            continue;
        };
        let fstype = post.split(' ').next().unwrap_or("");
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        let Some(mnt) = line.split(' ').nth(4).map(unescape_mountinfo) else {
            continue;
        };
        // Directly under the mount (runc, crun, an absolute cgroupsPath), under writ's
        // default parent, or under our own cgroup.
        let mut candidates = vec![mnt.join(id), mnt.join("writ").join(id)];
        for l in own.lines() {
            if let Some(path) = l.splitn(3, ':').nth(2) {
                candidates.push(mnt.join(path.trim_start_matches('/')).join(id));
            }
        }
        for dir in candidates {
            if dir.is_dir() {
                remove_cgroup_tree(&dir);
            }
        }
    }
}

/// The host's cgroup hierarchies: the mount point of each v1 controller, and the cgroup2
/// mount (the first one).
pub fn cgroup_mounts() -> (Vec<(String, PathBuf)>, Option<PathBuf>) {
    const V1: &[&str] = &[
        "memory",
        "pids",
        "cpu",
        "cpuacct",
        "devices",
        "freezer",
        "blkio",
        "cpuset",
        "hugetlb",
        "net_cls",
        "net_prio",
        "rdma",
        "perf_event",
        "misc",
    ];
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut v1 = Vec::new();
    let mut v2 = None;
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let Some(mnt) = pre.split(' ').nth(4).map(unescape_mountinfo) else {
            continue;
        };
        let mut f = post.split(' ');
        match f.next() {
            Some("cgroup") => {
                let opts = f.nth(1).unwrap_or("");
                for o in opts.split(',').filter(|o| V1.contains(o)) {
                    v1.push((o.to_owned(), mnt.clone()));
                }
            }
            Some("cgroup2") if v2.is_none() => v2 = Some(mnt),
            _ => {}
        }
    }
    (v1, v2)
}

/// The cgroup2 mount when the host is pure cgroup v2 (a cgroup2 mount at /sys/fs/cgroup and
/// no cgroup v1 hierarchy), else None (a hybrid or v1 host).
pub fn pure_cgroup2_root() -> Option<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut root = None;
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        match post.split(' ').next() {
            Some("cgroup") => return None,
            Some("cgroup2") => {
                let mnt = pre.split(' ').nth(4).map(unescape_mountinfo);
                if mnt.as_deref() == Some(Path::new("/sys/fs/cgroup")) {
                    root = mnt;
                }
            }
            _ => {}
        }
    }
    root
}

/// The cgroup2 directory of a process (its `0::` line of /proc/PID/cgroup under `root`).
pub fn cgroup2_dir_of(root: &Path, pid: i32) -> Option<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    Some(root.join(path.trim().trim_start_matches('/')))
}

fn remove_cgroup_tree(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_cgroup_tree(&e.path());
            }
        }
    }
    for _ in 0..50 {
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        for p in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        if fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------
// Console socket
// ---------------------------------------------------------------------------------------

/// What the runtime sent to the console socket.
pub struct ConsoleReceived {
    pub payload: Vec<u8>,
    pub fds: Vec<OwnedFd>,
    /// How many sendmsg calls delivered something (the contract asks for one).
    pub messages: usize,
}

/// A unix socket listener that receives the pty master (SCM_RIGHTS) on a thread.
pub struct ConsoleSocket {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
    handle: Option<std::thread::JoinHandle<Result<ConsoleReceived, String>>>,
}

impl ConsoleSocket {
    pub fn listen() -> ConsoleSocket {
        let dir = tempfile::Builder::new()
            .prefix("console-")
            .tempdir_in(work_dir())
            .expect("tempdir");
        let path = dir.path().join("console.sock");
        let listener = UnixListener::bind(&path).expect("bind console socket");
        let handle = std::thread::spawn(move || receive_console(listener));
        ConsoleSocket {
            path,
            _dir: dir,
            handle: Some(handle),
        }
    }

    /// Wait for the runtime's message (the accept thread gives up after 30 s, scaled).
    pub fn receive(mut self) -> Result<ConsoleReceived, String> {
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| "console receiver panicked".to_owned())?,
            None => Err("already received".into()),
        }
    }
}

fn receive_console(listener: UnixListener) -> Result<ConsoleReceived, String> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if start.elapsed() > scaled(COMMAND_TIMEOUT) {
                    return Err("no connection to the console socket".into());
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    };
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(scaled(COMMAND_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let mut received = ConsoleReceived {
        payload: Vec::new(),
        fds: Vec::new(),
        messages: 0,
    };
    loop {
        let mut buf = [0u8; 4096];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 4]);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(|e| format!("recvmsg: {e}"))?;
        let n = msg.bytes;
        let mut got_fd = false;
        for c in msg.cmsgs().map_err(|e| format!("cmsgs: {e}"))? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                for fd in fds {
                    // SAFETY: the kernel just installed this fd in our table for us.
                    received.fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                    got_fd = true;
                }
            }
        }
        if n == 0 && !got_fd {
            break; // peer closed
        }
        received.messages += 1;
        received.payload.extend_from_slice(&buf[..n]);
        if got_fd {
            break;
        }
    }
    Ok(received)
}

// ---------------------------------------------------------------------------------------
// Running a scenario against every runtime
// ---------------------------------------------------------------------------------------

/// Unwinding payload of [`Ctx::skip`].
pub struct SkipScenario(pub String);

/// Result of one scenario on one runtime.
#[derive(Debug, Clone)]
pub enum Outcome {
    Pass { deviations: Vec<String> },
    Fail(String),
    Skipped(String),
}

fn report_line(scenario: &str, rt: &str, outcome: &Outcome) {
    let (res, detail) = match outcome {
        Outcome::Pass { deviations } if deviations.is_empty() => ("PASS", String::new()),
        Outcome::Pass { deviations } => (
            "PASS",
            format!("known deviations: {}", deviations.join("; ")),
        ),
        Outcome::Fail(m) => {
            let first = m.lines().next().unwrap_or("").to_owned();
            // For a failed command, the runtime's own error line says the most.
            let err = m
                .split_once("--- stderr ---")
                .and_then(|(_, e)| e.lines().map(str::trim).find(|l| !l.is_empty()));
            match err {
                Some(e) => ("FAIL", format!("{first} | stderr: {e}")),
                None => ("FAIL", first),
            }
        }
        Outcome::Skipped(r) => ("SKIP", r.clone()),
    };
    let scenario = match lane() {
        Some(lane) => format!("{scenario}@{lane}"),
        None => scenario.to_owned(),
    };
    // Written to the stderr handle directly (not eprintln!) so that libtest's output capture
    // does not hide it: the run shows which runtime ran each scenario.
    let line = format!("[conformance] {scenario:<28} runtime={rt:<40} {res} {detail}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Ok(mut f) = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(report_path())
    {
        let _ = writeln!(f, "{scenario}\t{rt}\t{res}\t{detail}");
    }
}

/// Where scenario results are appended: `$WRIT_CONFORMANCE_REPORT`, else
/// `<target>/conformance-report.txt`.
pub fn report_path() -> PathBuf {
    match std::env::var_os("WRIT_CONFORMANCE_REPORT") {
        Some(p) => PathBuf::from(p),
        None => workspace_target_dir().join("conformance-report.txt"),
    }
}

/// The lane the scenarios run in (`$WRIT_CONFORMANCE_LANE`, e.g. `cgroup2` in the pure
/// cgroup v2 VM): reported as `scenario@lane`, so that the matrix keeps both hosts apart.
pub fn lane() -> Option<String> {
    std::env::var("WRIT_CONFORMANCE_LANE")
        .ok()
        .filter(|l| !l.trim().is_empty())
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "panic".into()
    }
}

/// Run `scenario` against writ, runc (when installed) and crun (when usable); print which
/// runtime ran and its result; panic at the end if any runtime that ran failed.
pub fn for_each_runtime(name: &str, scenario: impl Fn(&Ctx)) {
    for_each_of(runtimes(), name, scenario)
}

/// [`for_each_runtime`] on a pure cgroup v1 host: every call of a runtime runs with the
/// host's cgroup2 mount detached in a private mount namespace of its own (`v1_only`), the
/// view writ-bench's `--hide-cgroup2` gives. Skipped on a host without v1 hierarchies.
pub fn for_each_runtime_on_v1_only(name: &str, scenario: impl Fn(&Ctx)) {
    let (v1, v2) = cgroup_mounts();
    let all = runtimes()
        .into_iter()
        .map(|a| match a {
            Availability::Usable(rt) if v1.is_empty() => Availability::Skipped {
                kind: rt.kind,
                reason: "no cgroup v1 hierarchy on this host".into(),
            },
            Availability::Usable(rt) => match &v2 {
                Some(v2) => Availability::Usable(v1_only(&rt, v2)),
                None => Availability::Usable(rt),
            },
            skipped => skipped,
        })
        .collect();
    for_each_of(all, name, scenario)
}

/// A script that runs `rt` with the cgroup2 mount `v2` detached: `unshare --mount` (private
/// propagation: the host keeps its mount), `umount -l`, then the runtime itself, which
/// keeps the script's pid (each step execs the next).
fn v1_only(rt: &Runtime, v2: &Path) -> Runtime {
    let script = work_dir().join(format!("v1-only-{}", rt.kind));
    let text = format!(
        "#!/bin/sh\nexec unshare --mount --propagation private /bin/sh -c \
         'umount -l \"$1\" && shift && exec \"$@\"' sh '{}' '{}' \"$@\"\n",
        v2.display(),
        rt.bin.display()
    );
    let tmp = script.with_extension(unique_id("tmp"));
    fs::write(&tmp, text).expect("write the v1-only wrapper");
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).expect("chmod the wrapper");
    fs::rename(&tmp, &script).expect("place the v1-only wrapper");
    Runtime {
        kind: rt.kind,
        bin: script,
    }
}

fn for_each_of(all: Vec<Availability>, name: &str, scenario: impl Fn(&Ctx)) {
    let mut failures = Vec::new();
    let mut writ_failed = false;
    for avail in all {
        let kind = match &avail {
            Availability::Skipped { kind, .. } => *kind,
            Availability::Usable(rt) => rt.kind,
        };
        let (label, outcome) = match avail {
            Availability::Skipped { kind, reason } => (kind.to_string(), Outcome::Skipped(reason)),
            Availability::Usable(rt) => {
                let label = rt.to_string();
                let ctx = Ctx::new(rt, name);
                let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scenario(&ctx)));
                let outcome = match res {
                    Ok(()) => Outcome::Pass {
                        deviations: ctx.deviations(),
                    },
                    Err(p) => match p.downcast::<SkipScenario>() {
                        Ok(skip) => Outcome::Skipped(skip.0),
                        Err(p) => Outcome::Fail(panic_message(&*p)),
                    },
                };
                (label, outcome)
            }
        };
        report_line(name, &label, &outcome);
        if kind == Kind::Writ {
            // What counts for the requirements a #[verifies] test names is writ's outcome.
            writ_failed = matches!(outcome, Outcome::Fail(_));
            writ_macros::results::record_subject(match &outcome {
                Outcome::Pass { .. } => writ_macros::results::Outcome::Pass,
                Outcome::Fail(m) => writ_macros::results::Outcome::Fail(m.clone()),
                Outcome::Skipped(r) => writ_macros::results::Outcome::Skip(r.clone()),
            });
        }
        if let Outcome::Fail(m) = outcome {
            failures.push(format!("[{label}] {m}"));
        }
    }
    if !failures.is_empty() && !writ_failed {
        writ_macros::results::excuse_panic("only an oracle failed the scenario");
    }
    assert!(
        failures.is_empty(),
        "scenario {name} failed on:\n{}",
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------
// Helpers for scenarios
// ---------------------------------------------------------------------------------------

/// The namespace link (`/proc/self/ns/<name>` target, e.g. `net:[4026531840]`) of a process.
pub fn ns_link(pid: &str, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Parse `key=value` lines printed by a container script.
pub fn kv_lines(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Capability names to bit numbers (the ones scenarios use).
pub fn cap_bit(name: &str) -> Option<u32> {
    const CAPS: &[&str] = &[
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ];
    CAPS.iter().position(|c| *c == name).map(|p| p as u32)
}

/// Bit mask of capability names.
pub fn cap_mask(names: &[&str]) -> u64 {
    names
        .iter()
        .map(|n| 1u64 << cap_bit(n).unwrap_or_else(|| panic!("unknown capability {n}")))
        .fold(0, |a, b| a | b)
}

// ---------------------------------------------------------------------------------------
// containerd shims
// ---------------------------------------------------------------------------------------

/// Start a private containerd: `config` (TOML) written to `dir/config.toml`, its output to
/// `dir/daemon.log`.
pub fn spawn_containerd(
    bin: &Path,
    dir: &Path,
    config: &str,
) -> Result<std::process::Child, String> {
    fs::write(dir.join("config.toml"), config).map_err(|e| e.to_string())?;
    let log = fs::File::create(dir.join("daemon.log")).map_err(|e| e.to_string())?;
    Command::new(bin)
        .arg("--config")
        .arg(dir.join("config.toml"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("start containerd: {e}"))
}

/// End the containerd shims of the daemon at `address` that were re-parented to us (a
/// subreaper) when the daemon went: SIGKILL the live ones whose command line names the
/// address, reap them and the ones that already exited (zombies have no cmdline; their
/// comm tells).
pub fn end_shims(address: &Path) {
    let sock = address.to_string_lossy().into_owned();
    let mine = std::process::id().to_string();
    let Ok(procs) = fs::read_dir("/proc") else {
        return;
    };
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
        let cmdline =
            String::from_utf8_lossy(&fs::read(p.path().join("cmdline")).unwrap_or_default())
                .into_owned();
        let zombie = field("State:").starts_with('Z');
        if cmdline.contains(&sock) || zombie {
            if !zombie {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = wait_pid(pid, Duration::from_secs(5));
        }
    }
}
