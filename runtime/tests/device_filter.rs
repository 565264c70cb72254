//! The cgroup v2 device filter against this kernel (root): the compiled programs pass the
//! verifier, attach to a cgroup2 directory, are enforced on a process in it (also on a
//! hybrid host whose devices controller is on v1), and `install` replaces them.
#![allow(clippy::expect_used)]

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use writ::cgroups::{bpf, device_filter, Host, Version};
use writ::plan::DeviceRule;

fn rule(allow: bool, kind: char, major: i64, minor: i64, access: &str) -> DeviceRule {
    DeviceRule {
        allow,
        kind,
        major,
        minor,
        access: access.into(),
    }
}

/// A cgroup2 directory of its own, removed on drop.
struct TestCgroup(PathBuf);

impl TestCgroup {
    fn new(tag: &str) -> TestCgroup {
        assert!(
            nix::unistd::geteuid().is_root(),
            "loading and attaching cgroup device programs needs root"
        );
        let host = Host::probe().expect("the host's cgroups");
        let v2 = host
            .hierarchies
            .iter()
            .find(|h| h.version == Version::V2)
            .expect("a cgroup2 hierarchy (pure v2 or hybrid host)");
        let dir = v2
            .mount
            .join(format!("writ-test-{tag}-{}", std::process::id()));
        std::fs::create_dir(&dir).expect("a cgroup2 directory");
        TestCgroup(dir)
    }

    /// Runs `script` in a shell that first moves itself into this cgroup.
    fn sh(&self, script: &str) -> (String, String) {
        let procs = self.0.join("cgroup.procs");
        let full = format!("echo $$ > {} && {{ {script} ; }}", procs.display());
        let out = Command::new("/bin/sh")
            .args(["-c", &full])
            .output()
            .expect("run /bin/sh");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for _ in 0..100 {
            if std::fs::remove_dir(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Block device nodes b 7:0 and b 7:1 of our own (no driver needs to be behind them: the
/// device check comes before the driver's open, which may then say ENXIO).
fn block_nodes(dir: &Path) -> (PathBuf, PathBuf) {
    let mk = |name: &str, minor| {
        let p = dir.join(name);
        nix::sys::stat::mknod(
            &p,
            nix::sys::stat::SFlag::S_IFBLK,
            nix::sys::stat::Mode::from_bits_truncate(0o600),
            nix::sys::stat::makedev(7, minor),
        )
        .expect("mknod");
        p
    };
    (mk("listed", 0), mk("unlisted", 1))
}

/// `exec 3<PATH` in a subshell: "ok" or the shell's error text.
fn open_script(path: &Path, mode: &str, tag: &str) -> String {
    format!(
        "( exec 3{mode}{} ) 2>/dev/null && echo {tag}=ok || echo {tag}=refused",
        path.display()
    )
}

#[test]
fn the_filter_is_enforced_and_replaced() {
    let cg = TestCgroup::new("devfilter");
    let nodes = tempfile::tempdir().expect("tempdir");
    let (listed, unlisted) = block_nodes(nodes.path());
    let script = [
        open_script(&listed, "<", "listed_r"),
        open_script(&listed, "<>", "listed_rw"),
        open_script(&unlisted, "<", "unlisted_r"),
        open_script(Path::new("/dev/null"), "<>", "null_rw"),
        open_script(Path::new("/dev/zero"), "<", "zero_r"),
        format!(
            "( exec 3<{} ) 2>&1 | grep -q 'not permitted' && echo unlisted_eperm",
            unlisted.display()
        ),
    ]
    .join("; ");

    // Before: nothing attached, everything opens (the block nodes may say ENXIO, which
    // the shell reports as a failed redirection too: only EPERM is checked there).
    assert!(device_filter::attached(&cg.0).unwrap().is_empty());
    let (before, _) = cg.sh(&script);
    assert!(!before.contains("unlisted_eperm"), "{before}");
    assert!(before.contains("zero_r=ok"), "{before}");

    let rules = vec![
        rule(false, 'a', -1, -1, "rwm"),
        rule(true, 'c', 1, 3, "rwm"),
        rule(true, 'b', 7, 0, "r"),
    ];
    device_filter::install(&cg.0, &rules).expect("install the filter");
    let first = device_filter::attached(&cg.0).unwrap();
    assert_eq!(first.len(), 1, "one program attached");
    let (out, _) = cg.sh(&script);
    assert!(
        out.contains("unlisted_eperm"),
        "an unlisted block device: EPERM: {out}"
    );
    assert!(
        out.contains("null_rw=ok"),
        "a listed char device opens: {out}"
    );
    assert!(
        out.contains("zero_r=refused"),
        "an unlisted char device: {out}"
    );
    // The listed block node: read passes the device check (ENXIO or success after it),
    // read-write does not.
    let (rw, _) = cg.sh(&format!(
        "( exec 3<>{} ) 2>&1; ( exec 3<{} ) 2>&1",
        listed.display(),
        listed.display()
    ));
    let lines: Vec<&str> = rw.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.contains("not permitted")),
        "rw refused: {rw}"
    );
    assert!(
        !lines.get(1).is_some_and(|l| l.contains("not permitted")),
        "r allowed: {rw}"
    );

    // Replace: one program again, a different one, and /dev/zero now opens.
    let mut more = rules.clone();
    more.push(rule(true, 'c', 1, 5, "r"));
    device_filter::install(&cg.0, &more).expect("replace the filter");
    let second = device_filter::attached(&cg.0).unwrap();
    assert_eq!(second.len(), 1, "still one program");
    assert_ne!(first, second, "a new program");
    let (out, _) = cg.sh(&script);
    assert!(
        out.contains("zero_r=ok") && out.contains("unlisted_eperm"),
        "{out}"
    );

    // Two programs attached (as another manager may leave): install leaves only its own.
    let extra = bpf::load_cgroup_device(
        &device_filter::compile(&[rule(true, 'a', -1, -1, "rwm")]).unwrap(),
        c"Apache-2.0",
        None,
    )
    .expect("load");
    let dir = std::fs::File::open(&cg.0).expect("open the cgroup");
    bpf::attach(dir.as_fd(), extra.as_fd(), None).expect("attach a second program");
    assert_eq!(device_filter::attached(&cg.0).unwrap().len(), 2);
    device_filter::install(&cg.0, &rules).expect("install over two programs");
    assert_eq!(device_filter::attached(&cg.0).unwrap().len(), 1);
    let (out, _) = cg.sh(&script);
    assert!(
        out.contains("zero_r=refused") && out.contains("unlisted_eperm"),
        "{out}"
    );
}

#[test]
fn a_directory_that_is_not_a_cgroup_is_refused_clearly() {
    let d = tempfile::tempdir().unwrap();
    let e = device_filter::install(d.path(), &[rule(false, 'a', -1, -1, "rwm")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/linux/resources/devices") && e.contains("devices"),
        "{e}"
    );
    assert!(e.contains(&d.path().display().to_string()), "{e}");
}
