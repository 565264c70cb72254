//! What container engines rely on beyond runtime.md: --no-pivot, JSON logs, calls with an
//! empty environment, list, kill --all, run --detach, sysctl.

use std::fs;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use writ_conformance::{for_each_runtime, kv_lines, pid_alive, Invoke};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

#[verifies("runtime.create.new_container")]
#[test]
fn no_pivot_creates_a_working_container() {
    for_each_runtime("no-pivot", |ctx| {
        let b = ctx.bundle();
        b.set_sh("echo inside; ls /; cat /proc/self/mountinfo | wc -l");
        let mut c = ctx.container(&b);
        c.create_with(writ_conformance::CreateOpts {
            extra_args: vec!["--no-pivot".into()],
            ..Default::default()
        })
        .ok();
        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0), "{}{}", c.stdout(), c.stderr());
        let out = c.stdout();
        assert!(out.contains("inside") && out.contains("bin"), "{out}");
        assert!(!out.contains("work"), "the host's / is not visible: {out}");
    });
}

#[test]
fn json_log_format() {
    for_each_runtime("log-json", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["/no/such/program"]);
        let log = b.path().join("runtime-log.json");
        let c = ctx.container(&b);
        let bundle = b.path().to_str().unwrap();
        let out = ctx.cmd(&[
            "--log",
            log.to_str().unwrap(),
            "--log-format",
            "json",
            "create",
            "--bundle",
            bundle,
            &c.id,
        ]);
        assert!(!out.success(), "{out}");
        let text = fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l:?}"))
            })
            .collect();
        assert!(!lines.is_empty(), "the error is logged to --log: {out}");
        let err = lines
            .iter()
            .find(|v| v["level"] == "error")
            .unwrap_or_else(|| panic!("an error line in {text}"));
        assert!(err["msg"].as_str().is_some_and(|m| !m.is_empty()), "{err}");
        assert!(err["time"].is_string(), "{err}");
        assert!(
            err["msg"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                .contains("no such file or directory")
                || err["msg"]
                    .as_str()
                    .unwrap_or("")
                    .contains("executable file not found"),
            "the logged message names the cause (engines map it to exit 127): {err}"
        );
    });
}

#[test]
fn calls_with_an_empty_environment() {
    for_each_runtime("empty-env", |ctx| {
        let b = ctx.bundle();
        b.set_sh("sleep 30");
        let mut c = ctx.container(&b);
        c.create().ok();
        let bare = |args: &[&str]| {
            ctx.cmd_with(
                args,
                Invoke {
                    env_clear: true,
                    ..Default::default()
                },
            )
        };
        bare(&["start", &c.id]).ok();
        bare(&["state", &c.id]).ok();
        bare(&["kill", &c.id, "9"]).ok();
        c.wait_exit(T);
        bare(&["delete", "--force", &c.id]).ok();
        c.state_out().fails();
    });
}

#[test]
fn list_shows_containers() {
    for_each_runtime("list", |ctx| {
        let b = ctx.bundle();
        b.set_sh("sleep 30");
        let mut c = ctx.container(&b);
        c.create().ok();
        let q = ctx.cmd(&["list", "-q"]);
        q.ok();
        assert!(q.stdout.lines().any(|l| l.trim() == c.id), "{q}");
        let j = ctx.cmd(&["list", "--format", "json"]);
        j.ok();
        let v: Value =
            serde_json::from_str(&j.stdout).unwrap_or_else(|e| panic!("list json ({e}): {j}"));
        let entry = v
            .as_array()
            .and_then(|a| a.iter().find(|e| e["id"] == c.id.as_str()))
            .unwrap_or_else(|| panic!("{} in {v}", c.id));
        assert_eq!(entry["status"], "created", "{entry}");
        assert_eq!(entry["pid"].as_i64(), c.pid.map(i64::from), "{entry}");
    });
}

#[verifies("runtime.kill.signal")]
#[test]
fn kill_all_reaches_every_process() {
    for_each_runtime("kill-all", |ctx| {
        let b = ctx.bundle();
        b.set_sh("sleep 30 & sleep 30 & echo ready; wait");
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        let deadline = Instant::now() + T;
        while !c.stdout().contains("ready") {
            assert!(Instant::now() < deadline, "container did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        let pid = c.pid.expect("pid");
        let children: Vec<i32> = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        assert_eq!(children.len(), 2, "two sleeps under the init");
        ctx.cmd(&["kill", "--all", &c.id, "KILL"]).ok();
        c.wait_exit(T);
        let deadline = Instant::now() + T;
        while children.iter().any(|p| pid_alive(*p)) {
            assert!(
                Instant::now() < deadline,
                "kill --all left {children:?} alive"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    });
}

#[test]
fn run_detach() {
    for_each_runtime("run-detach", |ctx| {
        let b = ctx.bundle();
        b.set_sh("sleep 30");
        let mut c = ctx.container(&b);
        let out = c.run(&["--detach"]);
        out.ok();
        assert!(
            out.elapsed < Duration::from_secs(10),
            "run --detach returns at once: {out}"
        );
        assert_eq!(c.status(), "running");
        c.pid = c.state()["pid"].as_i64().map(|p| p as i32);
        c.kill("KILL").ok();
        c.wait_exit(T);
        c.delete().ok();
    });
}

#[verifies("runtime.create.apply_config")]
#[test]
fn sysctl_applied() {
    for_each_runtime("sysctl", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["sysctl"] =
                json!({"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"})
        });
        b.set_sh("echo fwd=$(cat /proc/sys/net/ipv4/ip_forward); echo shm=$(cat /proc/sys/kernel/shm_rmid_forced)");
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(kv.get("fwd").map(String::as_str), Some("1"), "{out}");
        assert_eq!(kv.get("shm").map(String::as_str), Some("1"), "{out}");
        // The host keeps its own values (the namespaces are the container's).
        let host = fs::read_to_string("/proc/sys/kernel/shm_rmid_forced").unwrap_or_default();
        assert_eq!(host.trim(), "0", "host ipc sysctl untouched");
    });
}

/// The optional fields (shared:N, master:N, unbindable) of the / line of a mountinfo dump.
fn root_propagation_fields(mountinfo: &str) -> Option<Vec<String>> {
    let root = mountinfo
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))?;
    let pre = root.split(" - ").next().unwrap_or("");
    Some(pre.split(' ').skip(6).map(str::to_owned).collect())
}

#[verifies("runtime.create.apply_config")]
#[test]
fn rootfs_propagation_shared() {
    for_each_runtime("rootfs-propagation", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["linux"]["rootfsPropagation"] = json!("shared"));
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        out.ok();
        let root =
            root_propagation_fields(&out.stdout).unwrap_or_else(|| panic!("/ in mountinfo: {out}"));
        let shared = root.iter().any(|f| f.starts_with("shared:"));
        if ctx.kind() == writ_conformance::Kind::Runc && !shared {
            ctx.deviation(
                "runc 1.1 leaves the container's / private with rootfsPropagation shared",
            );
            return;
        }
        assert!(shared, "/ is shared: {root:?}");
    });
}

/// An unbindable rootfs: the rootfs is bind-mounted onto itself before the propagation
/// is applied (an unbindable / could not be), and every mount of the container is
/// unbindable after pivot_root.
#[verifies("runtime.create.apply_config")]
#[test]
fn rootfs_propagation_unbindable() {
    for_each_runtime("rootfs-propagation-unbindable", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["linux"]["rootfsPropagation"] = json!("unbindable"));
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        if ctx.kind() == writ_conformance::Kind::Runc && !out.success() {
            ctx.deviation(
                "runc 1.1 makes / unbindable before bind-mounting the rootfs onto itself, \
                 which then fails (EINVAL)",
            );
            return;
        }
        out.ok();
        let fields =
            root_propagation_fields(&out.stdout).unwrap_or_else(|| panic!("/ in mountinfo: {out}"));
        assert_eq!(fields, ["unbindable"], "/ is unbindable only: {out}");
        let proc_line = out
            .stdout
            .lines()
            .find(|l| l.split(' ').nth(4) == Some("/proc"))
            .unwrap_or_else(|| panic!("/proc in mountinfo: {out}"));
        assert!(
            proc_line.contains(" unbindable "),
            "recursive: /proc is unbindable too: {proc_line}"
        );
    });
}

/// runc's recursive values (containerd's CRI writes "rslave" for HostToContainer hostPath
/// propagation): outside the schema's enum, but accepted, and / becomes a slave.
#[verifies("runtime.create.apply_config")]
#[test]
fn rootfs_propagation_rslave() {
    for_each_runtime("rootfs-propagation-rslave", |ctx| {
        use nix::mount::{mount, MsFlags};
        let b = ctx.bundle();
        // The host's / here is private, and a slave of a private mount is just private: make
        // the rootfs a shared mount on the host (the bundle's drop unmounts it), so that the
        // container's / must end up a slave of exactly that peer group.
        let rootfs = b.rootfs();
        mount(
            Some(&rootfs),
            &rootfs,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .unwrap();
        mount(
            None::<&str>,
            &rootfs,
            None::<&str>,
            MsFlags::MS_SHARED,
            None::<&str>,
        )
        .unwrap();
        let host_info = fs::read_to_string("/proc/self/mountinfo").unwrap();
        let peer_group = host_info
            .lines()
            .rfind(|l| l.split(' ').nth(4) == rootfs.to_str())
            .and_then(|l| {
                l.split(" - ")
                    .next()
                    .unwrap_or("")
                    .split(' ')
                    .skip(6)
                    .find_map(|f| f.strip_prefix("shared:"))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("the host rootfs mount is shared: {host_info}"));
        b.edit(|c| c["linux"]["rootfsPropagation"] = json!("rslave"));
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        out.ok();
        let optional =
            root_propagation_fields(&out.stdout).unwrap_or_else(|| panic!("/ in mountinfo: {out}"));
        assert!(
            optional.contains(&format!("master:{peer_group}")),
            "/ is a slave of the host rootfs (peer group {peer_group}): {optional:?}"
        );
        assert!(
            !optional.iter().any(|f| f.starts_with("shared:")),
            "/ is not shared: {optional:?}"
        );
    });
}

#[test]
fn no_new_keyring_flag() {
    for_each_runtime("no-new-keyring", |ctx| {
        let b = ctx.bundle();
        b.set_sh("echo ran");
        let mut c = ctx.container(&b);
        c.create_with(writ_conformance::CreateOpts {
            extra_args: vec!["--no-new-keyring".into()],
            ..Default::default()
        })
        .ok();
        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0));
        assert!(c.stdout().contains("ran"));
    });
}
