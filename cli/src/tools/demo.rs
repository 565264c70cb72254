//! `writ demo`: runs a container end to end on an embedded default and prints the
//! coverage summary.
//!
//! It builds a busybox root filesystem itself (from busybox-static, `/bin/busybox`) in a
//! fresh directory under the temp dir, writes a config.json for it, runs the container
//! with this very binary (`<current exe> --root <tmp>/state run --bundle <tmp>/bundle
//! <id>`, stdio inherited so the container's output appears here), prints the summary of
//! `writ coverage`, and removes everything it made.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;

/// The script the demo container runs.
const DEMO_SCRIPT: &str = r#"echo '$ uname -a'; uname -a; echo '$ id'; id; echo '$ hostname'; hostname; echo '$ ls /'; ls /; echo '$ grep -E "^(CapEff|NSpid)" /proc/self/status'; grep -E '^(CapEff|NSpid)' /proc/self/status"#;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// busybox-static binary to build the root filesystem from.
    #[arg(long, value_name = "PATH")]
    pub busybox: Option<PathBuf>,
    /// Keep the temporary bundle and state directory (their path is printed).
    #[arg(long)]
    pub keep: bool,
    /// Skip the coverage summary.
    #[arg(long)]
    pub no_coverage: bool,
}

/// What went wrong while preparing or running the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("busybox-static is needed to build the demo root filesystem and {path} is missing (apt-get install busybox-static, or pass --busybox PATH)")]
    NoBusybox { path: PathBuf },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("`{busybox} --list-full` failed: {reason}")]
    Applets { busybox: PathBuf, reason: String },
    #[error("cannot find the writ binary itself: {0}")]
    SelfExe(io::Error),
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> DemoError {
    let path = path.to_path_buf();
    move |source| DemoError::Io { what, path, source }
}

/// A directory removed (with anything mounted below it detached) on drop.
struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    fn new() -> Result<TempDir, DemoError> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = base.join(format!("writ-demo-{}-{nanos:08x}", std::process::id()));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(io_err("create", &path))?;
        Ok(TempDir { path, keep: false })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        // Mounts are made in the container's own mount namespace; nothing should be left
        // below the bundle, but detach whatever is before removing the tree.
        if let Ok(info) = fs::read_to_string("/proc/self/mountinfo") {
            let mut points: Vec<&str> = info
                .lines()
                .filter_map(|l| l.split(' ').nth(4))
                .filter(|p| Path::new(p).starts_with(&self.path))
                .collect();
            points.sort_by_key(|p| std::cmp::Reverse(p.len()));
            for p in points {
                let _ = nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Applet paths relative to `/` from `busybox --list-full`.
fn applets(busybox: &Path) -> Result<Vec<String>, DemoError> {
    let out = Command::new(busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| DemoError::Applets {
            busybox: busybox.to_path_buf(),
            reason: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(DemoError::Applets {
            busybox: busybox.to_path_buf(),
            reason: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(".."))
        .map(str::to_owned)
        .collect())
}

/// `rootfs/bin/busybox` + one symlink per applet, mount point directories, a minimal /etc.
fn build_rootfs(rootfs: &Path, busybox: &Path) -> Result<usize, DemoError> {
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "proc", "dev", "sys", "tmp", "etc", "root", "run",
    ] {
        let p = rootfs.join(d);
        fs::create_dir_all(&p).map_err(io_err("create", &p))?;
    }
    let tmp = rootfs.join("tmp");
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777)).map_err(io_err("chmod", &tmp))?;
    let target = rootfs.join("bin/busybox");
    fs::copy(busybox, &target).map_err(io_err("copy busybox to", &target))?;
    let list = applets(busybox)?;
    let mut n = 0;
    for applet in &list {
        let link = rootfs.join(applet);
        if link == target || link.symlink_metadata().is_ok() {
            continue;
        }
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent).map_err(io_err("create", parent))?;
        }
        std::os::unix::fs::symlink("/bin/busybox", &link).map_err(io_err("symlink", &link))?;
        n += 1;
    }
    let files = [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
        ),
        ("etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"),
        ("etc/hostname", "writ-demo\n"),
    ];
    for (name, text) in files {
        let p = rootfs.join(name);
        fs::write(&p, text).map_err(io_err("write", &p))?;
    }
    Ok(n)
}

/// The demo's config.json: `writ spec`'s starter config running the demo script.
fn demo_config(hostname: &str) -> serde_json::Value {
    // The same starter config as `writ spec`, made to run the demo script on a read-only
    // root with a writable /tmp.
    let spec = writ_spec::example::starter_config(false, 0, 0);
    let mut c = serde_json::to_value(&spec).unwrap_or_default();
    c["process"]["terminal"] = false.into();
    c["process"]["args"] = serde_json::json!(["sh", "-c", DEMO_SCRIPT]);
    c["root"]["readonly"] = true.into();
    c["hostname"] = hostname.into();
    if let Some(mounts) = c["mounts"].as_array_mut() {
        mounts.push(
            serde_json::json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
            "options": ["nosuid", "nodev", "size=16m"]}),
        );
    }
    c
}

fn coverage_summary() -> i32 {
    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: super::coverage::CoverageArgs,
    }
    match Wrap::try_parse_from(["coverage", "--format", "table", "--summary"]) {
        Ok(w) => super::coverage::run(w.args),
        Err(e) => {
            eprintln!("writ demo: cannot ask for the coverage summary: {e}");
            1
        }
    }
}

fn demo(args: &DemoArgs) -> Result<i32, DemoError> {
    let busybox = args
        .busybox
        .clone()
        .unwrap_or_else(|| PathBuf::from("/bin/busybox"));
    if !busybox.is_file() {
        return Err(DemoError::NoBusybox { path: busybox });
    }
    let me = std::env::current_exe().map_err(DemoError::SelfExe)?;
    let mut tmp = TempDir::new()?;
    tmp.keep = args.keep;
    let bundle = tmp.path.join("bundle");
    let state = tmp.path.join("state");
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&state)
        .map_err(io_err("create", &state))?;
    fs::DirBuilder::new()
        .mode(0o755)
        .create(&bundle)
        .map_err(io_err("create", &bundle))?;
    let n = build_rootfs(&bundle.join("rootfs"), &busybox)?;
    let config = bundle.join("config.json");
    let text = serde_json::to_vec_pretty(&demo_config("writ-demo")).unwrap_or_default();
    fs::write(&config, text).map_err(io_err("write", &config))?;
    let id = format!("writ-demo-{}", std::process::id());

    println!("== writ demo ==");
    println!(
        "bundle: {} (busybox root filesystem, {n} applets)",
        bundle.display()
    );
    println!(
        "running: {} --root {} run --bundle {} {id}",
        me.display(),
        state.display(),
        bundle.display()
    );
    println!("-- container output --");
    let status = Command::new(&me)
        .arg("--root")
        .arg(&state)
        .arg("run")
        .arg("--bundle")
        .arg(&bundle)
        .arg(&id)
        .status()
        .map_err(io_err("run", &me))?;
    let code = status.code().unwrap_or(128);
    println!("-- container exited with status {code} --");
    // Make sure nothing stays behind whatever run did.
    let _ = Command::new(&me)
        .arg("--root")
        .arg(&state)
        .args(["delete", "--force", &id])
        .stderr(std::process::Stdio::null())
        .status();

    let mut rc = code;
    if !args.no_coverage {
        println!();
        println!("== requirement coverage (writ coverage --summary) ==");
        let c = coverage_summary();
        if rc == 0 {
            rc = c;
        }
    }
    if args.keep {
        println!("kept {}", tmp.path.display());
    }
    Ok(rc)
}

pub fn run(args: DemoArgs) -> i32 {
    match demo(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("writ demo: {e}");
            1
        }
    }
}
