//! On a pure cgroup v1 host (here: this host with its cgroup2 mount detached around every
//! runtime call, as writ-bench's `--hide-cgroup2` does) create makes the cgroup after the
//! clone, and writ's init makes its namespaces and its first mounts meanwhile
//! (runtime/src/spawn.rs `early_setup`). Whatever it did before, the container's process,
//! its createContainer hooks and whatever a mount that may open a device does happen in
//! the container's cgroup, in every hierarchy; a create that fails leaves nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;

use serde_json::json;
use writ_conformance::{cgroup_mounts, for_each_runtime_on_v1_only, ns_link, Kind};
use writ_macros::verifies;

/// The `/proc/<pid>/cgroup` lines of the v1 hierarchies (`N:controllers:path`) as
/// (controllers, path).
fn v1_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let (_, ctrl, path) = (it.next()?, it.next()?, it.next()?);
            (!ctrl.is_empty()).then(|| (ctrl.to_owned(), path.to_owned()))
        })
        .collect()
}

#[verifies(
    "config_linux.namespaces.create",
    "config_linux.cgroups_path.absolute",
    "runtime.lifecycle.create_resources",
    "config.hooks.create_container.container_ns"
)]
#[test]
fn a_pure_v1_host_puts_everything_in_the_cgroup() {
    for_each_runtime_on_v1_only("v1-only-cgroup", |ctx| {
        // Without and with a cgroup mount (which writ's init makes only in the cgroup).
        for cgroup_mount in [false, true] {
            in_the_cgroup(ctx, cgroup_mount);
        }
    });
}

fn in_the_cgroup(ctx: &writ_conformance::Ctx, cgroup_mount: bool) {
    let (v1, _) = cgroup_mounts();
    let b = ctx.bundle();
    let mut c = ctx.container(&b);
    let cg = format!("/{}", c.id);
    let hook_out = b.path().join("hook-cgroup");
    b.set_sh(
        "cat /proc/self/cgroup; echo host=$(hostname); readlink /proc/self/ns/net; \
         grep Cpus_allowed_list /proc/self/status",
    );
    b.edit(|conf| {
        conf["linux"]["cgroupsPath"] = json!(cg);
        conf["hostname"] = json!("v1only");
        if cgroup_mount {
            conf["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]
            }));
        }
        conf["hooks"] = json!({"createContainer": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("cat /proc/self/cgroup > {}", hook_out.display())]
        }]});
    });
    let what = format!("(cgroup mount: {cgroup_mount})");
    c.run(&[]).ok();
    let text = c.stdout();
    let lines = v1_lines(&text);
    for (ctrl, _) in &v1 {
        let found = lines.iter().find(|(c, _)| {
            c.split(',')
                .any(|x| x == ctrl || x == format!("name={ctrl}"))
        });
        let (_, path) = found.unwrap_or_else(|| panic!("{what} no {ctrl} line in:\n{text}"));
        assert_eq!(path, &cg, "{what} the process's {ctrl} cgroup:\n{text}");
    }
    assert!(text.contains("host=v1only"), "{what} hostname:\n{text}");
    let net = text
        .lines()
        .find(|l| l.starts_with("net:"))
        .expect("net ns");
    assert_ne!(
        net,
        ns_link("self", "net"),
        "{what} a network namespace of its own"
    );
    // writ moves its init to another CPU while it sets up (spawn::move_beside), and the
    // init gives the affinity back: the container's is the caller's.
    let cpus = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Cpus_allowed_list"))
            .map(str::to_owned)
    };
    let ours = cpus(&fs::read_to_string("/proc/self/status").unwrap());
    assert_eq!(
        cpus(&text),
        ours,
        "{what} the process's CPU affinity:\n{text}"
    );
    let hook = fs::read_to_string(&hook_out).expect("the createContainer hook ran");
    for (ctrl, path) in v1_lines(&hook) {
        if v1.iter().any(|(c, _)| ctrl.split(',').any(|x| x == c)) {
            assert_eq!(path, cg, "{what} the hook's {ctrl} cgroup:\n{hook}");
        }
    }
}

#[verifies(
    "runtime.create.apply_failure.error",
    "runtime.create.apply_failure.nothing_created"
)]
#[test]
fn a_failed_create_on_a_pure_v1_host_leaves_nothing() {
    for_each_runtime_on_v1_only("v1-only-failed-create", |ctx| {
        let (v1, _) = cgroup_mounts();
        let b = ctx.bundle();
        let mut c = ctx.container(&b);
        let cg = format!("/{}", c.id);
        b.edit(|conf| {
            conf["linux"]["cgroupsPath"] = json!(cg);
            // Needs a device: writ's init makes it after entering the cgroup; it fails.
            conf["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/mnt/disk", "type": "ext4",
                "source": "/dev/writ-no-such-device"
            }));
        });
        let out = c.create();
        assert!(!out.success(), "create must fail: {out:?}");
        if ctx.kind() == Kind::Writ {
            assert!(
                out.stderr.contains("/mnt/disk"),
                "the error names the mount: {}",
                out.stderr
            );
        }
        for (ctrl, mnt) in &v1 {
            let dir = mnt.join(c.id.as_str());
            assert!(!dir.exists(), "{ctrl}: {} left behind", dir.display());
        }
        assert!(!ctx.cmd(&["state", &c.id]).success(), "no state left");
    });
}
