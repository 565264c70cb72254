//! Namespaces (new and joined by path), user namespace mappings, hostname and domainname.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use serde_json::json;
use writ_conformance::{for_each_runtime, kv_lines, ns_link, Kind};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

const NS_SCRIPT: &str =
    "for n in ipc mnt net pid uts cgroup user time; do echo $n=$(readlink /proc/self/ns/$n); done";

/// The /proc/self/ns names of the config namespace types.
fn ns_file(kind: &str) -> &str {
    match kind {
        "network" => "net",
        "mount" => "mnt",
        other => other,
    }
}

#[verifies(
    "config_linux.namespaces.create",
    "config_linux.namespaces.inherit",
    "config_linux.namespaces.types.supported"
)]
#[test]
fn new_namespaces_differ_from_host() {
    for_each_runtime("namespaces-new", |ctx| {
        // The base config asks for pid, network, ipc, uts, mount; add cgroup. user and time stay shared.
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["namespaces"] =
                json!([{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}]);
        });
        b.set_sh(NS_SCRIPT);
        let out = ctx.run(&b);
        out.ok();
        let inside = kv_lines(&out.stdout);
        for kind in ["pid", "network", "ipc", "uts", "mount", "cgroup"] {
            let n = ns_file(kind);
            let host = ns_link("self", n);
            let got = inside
                .get(n)
                .unwrap_or_else(|| panic!("{n} missing: {out}"));
            assert!(
                got.starts_with(&format!("{n}:[")),
                "{n} link inside: {got:?}"
            );
            assert_ne!(got, &host, "{kind} namespace must be new: {out}");
        }
        for n in ["user", "time"] {
            let host = ns_link("self", n);
            assert_eq!(
                inside.get(n),
                Some(&host),
                "{n} namespace not requested, so shared: {out}"
            );
        }

        // Without a namespace entry the container shares the runtime's namespace.
        let b = ctx.bundle();
        b.edit(|c| c["linux"]["namespaces"] = json!([{"type": "pid"}, {"type": "mount"}]));
        b.edit(|c| {
            // sysfs cannot be mounted in the host network namespace without a new one; drop it.
            let mounts = c["mounts"].as_array_mut().unwrap();
            mounts.retain(|m| m["destination"] != "/sys");
            c["hostname"] = serde_json::Value::Null;
            c.as_object_mut().unwrap().remove("hostname");
        });
        b.set_sh(NS_SCRIPT);
        let out = ctx.run(&b);
        out.ok();
        let inside = kv_lines(&out.stdout);
        for n in ["net", "ipc", "uts", "cgroup", "user"] {
            assert_eq!(
                inside.get(n),
                Some(&ns_link("self", n)),
                "{n} shared with the host: {out}"
            );
        }
    });
}

#[verifies(
    "config_linux.namespaces.types.supported",
    "config_linux.namespaces.create"
)]
#[test]
fn time_namespace_with_offsets() {
    for_each_runtime("namespace-time", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "time"}));
            c["linux"]["timeOffsets"] = json!({
                "monotonic": {"secs": 86400, "nanosecs": 0},
                "boottime": {"secs": 172800, "nanosecs": 0}
            });
        });
        // /proc/uptime follows CLOCK_BOOTTIME; /proc/self/timens_offsets lists both offsets.
        b.set_sh(
            "echo time=$(readlink /proc/self/ns/time); echo up=$(cut -d. -f1 /proc/uptime); \
             while read clock secs nsecs; do echo off-$clock=$secs; done < /proc/self/timens_offsets",
        );
        let out = ctx.run(&b);
        if ctx.kind() == Kind::Runc && !out.success() {
            ctx.deviation("runc 1.1 does not know the time namespace");
            return;
        }
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_ne!(
            kv.get("time"),
            Some(&ns_link("self", "time")),
            "new time namespace: {out}"
        );
        let host_up: u64 = std::fs::read_to_string("/proc/uptime")
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let up: u64 = kv
            .get("up")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("uptime: {out}"));
        assert!(
            up >= host_up + 172000,
            "boottime offset of two days applied: inside {up}, host {host_up} ({out})"
        );
        assert_eq!(
            kv.get("off-monotonic").map(String::as_str),
            Some("86400"),
            "{out}"
        );
        assert_eq!(
            kv.get("off-boottime").map(String::as_str),
            Some("172800"),
            "{out}"
        );
    });
}

#[verifies(
    "config_linux.namespaces.types.supported",
    "config_linux.id_mappings.no_chown"
)]
#[test]
fn user_namespace_with_mappings() {
    for_each_runtime("namespace-user", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "user"}));
            c["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
        });
        b.set_sh("echo user=$(readlink /proc/self/ns/user); echo uidmap=$(cat /proc/self/uid_map); echo gidmap=$(cat /proc/self/gid_map); echo id=$(id -u)");
        // Owners (host view) of the rootfs and some of its files: the mapping must not be
        // made to work by chowning them.
        let owned = ["", "bin", "bin/busybox", "etc", "etc/passwd", "tmp"];
        let owners = || {
            owned
                .iter()
                .map(|p| {
                    let m = std::fs::symlink_metadata(b.rootfs().join(p)).unwrap();
                    (p.to_string(), m.uid(), m.gid())
                })
                .collect::<Vec<_>>()
        };
        let before = owners();
        let mut c = ctx.container(&b);
        c.create().ok();
        let pid = c.pid.expect("pid");
        // From the host the process runs as the mapped ids.
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let uid_line = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .unwrap_or("")
            .to_owned();
        c.start().ok();
        assert_eq!(c.wait_exit(T), Some(0), "{}{}", c.stdout(), c.stderr());
        let out = c.stdout();
        let kv = kv_lines(&out);
        assert_ne!(
            kv.get("user"),
            Some(&ns_link("self", "user")),
            "new user namespace: {out}"
        );
        let words =
            |s: Option<&String>| s.map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "));
        assert_eq!(
            words(kv.get("uidmap")).as_deref(),
            Some("0 100000 65536"),
            "{out}"
        );
        assert_eq!(
            words(kv.get("gidmap")).as_deref(),
            Some("0 200000 65536"),
            "{out}"
        );
        assert_eq!(
            kv.get("id").map(String::as_str),
            Some("0"),
            "root inside: {out}"
        );
        assert!(
            uid_line.contains("100000"),
            "host sees the mapped uid: {uid_line}"
        );
        assert_eq!(owners(), before, "rootfs owners after the run");
    });
}

#[verifies("config_linux.namespaces.path.join")]
#[test]
fn join_namespace_by_path() {
    for_each_runtime("namespace-join", |ctx| {
        // A first container holds net, ipc and uts namespaces; a second joins them by path.
        let b1 = ctx.bundle();
        b1.set_sh("hostname > /dev/null; sleep 30");
        let mut c1 = ctx.container(&b1);
        c1.create().ok();
        let pid = c1.pid.expect("pid").to_string();
        let b2 = ctx.bundle();
        b2.edit(|c| {
            c["linux"]["namespaces"] = json!([
                {"type": "pid"},
                {"type": "mount"},
                {"type": "network", "path": format!("/proc/{pid}/ns/net")},
                {"type": "ipc", "path": format!("/proc/{pid}/ns/ipc")},
                {"type": "uts", "path": format!("/proc/{pid}/ns/uts")}
            ]);
            c.as_object_mut().unwrap().remove("hostname");
        });
        b2.set_sh("for n in net ipc uts pid; do echo $n=$(readlink /proc/self/ns/$n); done; echo host=$(hostname)");
        let out = ctx.run(&b2);
        out.ok();
        let kv = kv_lines(&out.stdout);
        for n in ["net", "ipc", "uts"] {
            assert_eq!(
                kv.get(n),
                Some(&ns_link(&pid, n)),
                "{n} joined by path: {out}"
            );
        }
        assert_ne!(
            kv.get("pid"),
            Some(&ns_link(&pid, "pid")),
            "pid namespace is new: {out}"
        );
        let h1 = b1.config()["hostname"].as_str().unwrap().to_owned();
        assert_eq!(
            kv.get("host"),
            Some(&h1),
            "hostname of the joined uts namespace: {out}"
        );
    });
}

#[verifies("runtime.create.apply_config")]
#[test]
fn hostname_and_domainname() {
    for_each_runtime("hostname", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["hostname"] = json!("writ-test-host");
            c["domainname"] = json!("writ.example");
        });
        b.set_sh("echo host=$(hostname); echo domain=$(cat /proc/sys/kernel/domainname)");
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("host").map(String::as_str),
            Some("writ-test-host"),
            "{out}"
        );
        let domain = kv.get("domain").map(String::as_str);
        if ctx.kind() == Kind::Runc && domain != Some("writ.example") {
            ctx.deviation("runc 1.1 ignores domainname");
            return;
        }
        assert_eq!(domain, Some("writ.example"), "{out}");
        // The host keeps its own hostname.
        assert_ne!(
            nix::unistd::gethostname().unwrap().to_string_lossy(),
            "writ-test-host"
        );
    });
}

#[verifies("config_linux.namespaces.path.type_mismatch")]
#[test]
fn namespace_path_of_wrong_type_fails() {
    for_each_runtime("namespace-type-mismatch", |ctx| {
        let b1 = ctx.bundle();
        b1.set_sh("sleep 30");
        let mut c1 = ctx.container(&b1);
        c1.create().ok();
        let pid = c1.pid.expect("pid");
        let b2 = ctx.bundle();
        b2.edit(|c| {
            // A network entry whose path is an ipc namespace.
            c["linux"]["namespaces"] = json!([
                {"type": "pid"}, {"type": "mount"}, {"type": "uts"},
                {"type": "network", "path": format!("/proc/{pid}/ns/ipc")}
            ]);
        });
        b2.set_sh("echo should-not-run");
        let mut c2 = ctx.container(&b2);
        let out = c2.create();
        out.fails();
        assert!(!c2.stdout().contains("should-not-run"));
    });
}

/// Mount points under `dir` in the mount table of `/proc/<pid>/mountinfo`.
fn mounts_under(pid: &str, dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| std::path::Path::new(p).starts_with(dir))
        .map(str::to_owned)
        .collect()
}

/// A process in a mount namespace of its own (a private copy of ours, as
/// `unshare --mount` makes one), killed and reaped on drop.
struct MountNsHolder(std::process::Child);

impl MountNsHolder {
    fn spawn() -> MountNsHolder {
        let child = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sleep", "60"])
            .spawn()
            .expect("unshare (util-linux)");
        let h = MountNsHolder(child);
        let deadline = std::time::Instant::now() + writ_conformance::scaled(T);
        while ns_link(&h.pid(), "mnt") == ns_link("self", "mnt")
            || ns_link(&h.pid(), "mnt").is_empty()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "unshare --mount did not get going"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        h
    }

    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for MountNsHolder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The base config without a mount namespace, or with `mount` as given; masked and
/// read-only paths left out (runc 1.1 refuses them without a mount namespace of the
/// container's own). The script prints the mount namespace and a file of the rootfs.
fn shared_mount_ns_bundle(
    ctx: &writ_conformance::Ctx,
    mount: Option<serde_json::Value>,
) -> writ_conformance::Bundle {
    let b = ctx.bundle();
    std::fs::write(b.rootfs().join("marker"), "in-rootfs").unwrap();
    b.edit(|c| {
        let mut ns = vec![
            json!({"type": "pid"}),
            json!({"type": "network"}),
            json!({"type": "ipc"}),
            json!({"type": "uts"}),
        ];
        ns.extend(mount);
        c["linux"]["namespaces"] = json!(ns);
        let linux = c["linux"].as_object_mut().unwrap();
        linux.remove("maskedPaths");
        linux.remove("readonlyPaths");
    });
    b.set_sh("echo mnt=$(readlink /proc/self/ns/mnt); echo marker=$(cat /marker); if [ -r /proc/self/status ]; then echo proc=yes; fi");
    b
}

/// What the script of [`shared_mount_ns_bundle`] printed: the mount namespace `mnt`,
/// the rootfs as its root, /proc mounted.
fn check_shared_mount_ns_run(out: &writ_conformance::Out, mnt: &str) {
    let kv = kv_lines(&out.stdout);
    let get = |k: &str| kv.get(k).map(String::as_str);
    assert_eq!(get("mnt"), Some(mnt), "the mount namespace: {out}");
    assert_eq!(
        get("marker"),
        Some("in-rootfs"),
        "its root is the rootfs: {out}"
    );
    assert_eq!(get("proc"), Some("yes"), "/proc is mounted: {out}");
}

#[verifies("config_linux.namespaces.inherit")]
#[test]
fn mount_namespace_left_out_is_inherited() {
    for_each_runtime("namespace-mount-inherited", |ctx| {
        let b = shared_mount_ns_bundle(ctx, None);
        // The guard (which unmounts what is left under the bundle) lives until the end.
        let mut c = ctx.container(&b);
        let out = c.run(&[]);
        out.ok();
        check_shared_mount_ns_run(&out, &ns_link("self", "mnt"));
        // The runtime's (here: the test's) mount table keeps nothing of the container.
        let left: Vec<_> = writ_conformance::host_mount_points()
            .into_iter()
            .filter(|p| p.starts_with(b.path()))
            .collect();
        if ctx.kind() == Kind::Runc && !left.is_empty() {
            ctx.deviation(
                "runc 1.1 leaves the container's mounts in the runtime's mount namespace",
            );
            return;
        }
        assert!(
            left.is_empty(),
            "mounts left in the runtime's namespace: {left:?}"
        );
    });
}

#[verifies("config_linux.namespaces.path.join")]
#[test]
fn join_mount_namespace_by_path() {
    for_each_runtime("namespace-mount-join", |ctx| {
        let holder = MountNsHolder::spawn();
        let hp = holder.pid();
        let b = shared_mount_ns_bundle(
            ctx,
            Some(json!({"type": "mount", "path": format!("/proc/{hp}/ns/mnt")})),
        );
        // A file outside the rootfs: the holder sees it as long as its root is its own.
        std::fs::write(b.path().join("outside"), "x").unwrap();
        let outside = format!("/proc/{hp}/root{}", b.path().join("outside").display());
        assert!(std::path::Path::new(&outside).exists());
        let out = ctx.run(&b);
        out.ok();
        check_shared_mount_ns_run(&out, &ns_link(&hp, "mnt"));
        // The namespace's other processes keep their root, and its mount table keeps
        // nothing of the container.
        let kept_root = std::path::Path::new(&outside).exists();
        if ctx.kind() == Kind::Runc && !kept_root {
            ctx.deviation("runc 1.1 pivot_roots in the joined mount namespace: every process in it gets the container's rootfs as its root");
            return;
        }
        assert!(kept_root, "the holder's root was changed: {out}");
        let left = mounts_under(&hp, b.path());
        assert!(
            left.is_empty(),
            "mounts left in the joined namespace: {left:?}"
        );
    });
}

#[verifies("config_linux.namespaces.path.join", "runtime.create.apply_config")]
#[test]
fn hostname_in_a_joined_uts_namespace() {
    for_each_runtime("namespace-uts-join-hostname", |ctx| {
        let b1 = ctx.bundle();
        b1.set_sh("sleep 30");
        let mut c1 = ctx.container(&b1);
        c1.create().ok();
        let pid = c1.pid.expect("pid").to_string();
        let b2 = ctx.bundle();
        b2.edit(|c| {
            c["hostname"] = json!("writ-joined-uts");
            c["linux"]["namespaces"] = json!([
                {"type": "pid"}, {"type": "mount"}, {"type": "network"}, {"type": "ipc"},
                {"type": "uts", "path": format!("/proc/{pid}/ns/uts")}
            ]);
        });
        b2.set_sh("echo uts=$(readlink /proc/self/ns/uts); echo host=$(hostname)");
        let out = ctx.run(&b2);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(kv.get("uts"), Some(&ns_link(&pid, "uts")), "joined: {out}");
        assert_eq!(
            kv.get("host").map(String::as_str),
            Some("writ-joined-uts"),
            "{out}"
        );
        // Set in the joined namespace, which the first container sees too; not on the host.
        let seen = std::process::Command::new("nsenter")
            .args(["-t", &pid, "-u", "hostname"])
            .output()
            .expect("nsenter");
        assert_eq!(
            String::from_utf8_lossy(&seen.stdout).trim(),
            "writ-joined-uts"
        );
        assert_ne!(
            nix::unistd::gethostname().unwrap().to_string_lossy(),
            "writ-joined-uts"
        );
    });
}
