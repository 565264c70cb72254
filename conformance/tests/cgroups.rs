//! Cgroups on this host's layout (v1, v2 or hybrid): cgroupsPath honoured, memory, pids
//! and cpu limits applied, the cgroup removed at delete.

use std::fs;
use std::path::PathBuf;

use serde_json::json;
use writ_conformance::for_each_runtime;
use writ_macros::verifies;

fn read_trim(p: PathBuf) -> String {
    fs::read_to_string(&p)
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|e| format!("<{}: {e}>", p.display()))
}

#[verifies(
    "config_linux.cgroups_path.absolute",
    "runtime.lifecycle.create_resources",
    "runtime.delete.resources"
)]
#[test]
fn cgroups_path_and_limits() {
    for_each_runtime("cgroups", |ctx| {
        let (v1, v2) = writ_conformance::cgroup_mounts();
        let b = ctx.bundle();
        b.set_sh("cat /proc/self/cgroup; sleep 30");
        let mut c = ctx.container(&b);
        // An absolute path named after the id, so the harness's cleanup finds it too.
        let cg = format!("/{}", c.id);
        b.edit(|conf| {
            conf["linux"]["cgroupsPath"] = json!(cg);
            conf["linux"]["resources"]["memory"] = json!({"limit": 67108864});
            conf["linux"]["resources"]["pids"] = json!({"limit": 64});
            conf["linux"]["resources"]["cpu"] =
                json!({"shares": 512, "quota": 50000, "period": 100000});
        });
        c.create().ok();
        let pid = c.pid.expect("pid").to_string();
        let mut dirs = Vec::new();
        let holds_init = |dir: &std::path::Path| {
            assert!(
                read_trim(dir.join("cgroup.procs"))
                    .lines()
                    .any(|l| l == pid),
                "process {pid} in {}",
                dir.display()
            );
        };
        if v1.is_empty() {
            let root = v2.clone().expect("a cgroup2 mount");
            let dir = root.join(c.id.as_str());
            assert_eq!(read_trim(dir.join("memory.max")), "67108864");
            assert_eq!(read_trim(dir.join("pids.max")), "64");
            assert_eq!(read_trim(dir.join("cpu.max")), "50000 100000");
            holds_init(&dir);
            dirs.push(dir);
        } else {
            for (ctrl, mnt) in &v1 {
                let dir = mnt.join(c.id.as_str());
                match ctrl.as_str() {
                    "memory" => {
                        assert_eq!(read_trim(dir.join("memory.limit_in_bytes")), "67108864")
                    }
                    "pids" => assert_eq!(read_trim(dir.join("pids.max")), "64"),
                    "cpu" => {
                        assert_eq!(read_trim(dir.join("cpu.shares")), "512");
                        assert_eq!(read_trim(dir.join("cpu.cfs_quota_us")), "50000");
                        assert_eq!(read_trim(dir.join("cpu.cfs_period_us")), "100000");
                    }
                    _ => {}
                }
                // In every v1 hierarchy (writ's init joins them by itself: cgroups::join).
                holds_init(&dir);
                if ["memory", "pids", "cpu"].contains(&ctrl.as_str()) {
                    dirs.push(dir);
                }
            }
        }
        c.start().ok();
        c.wait_status("running", std::time::Duration::from_secs(10));
        c.kill("KILL").ok();
        c.wait_exit(std::time::Duration::from_secs(10));
        c.delete().ok();
        for d in &dirs {
            assert!(!d.exists(), "cgroup {} removed by delete", d.display());
        }
    });
}

#[verifies("runtime.lifecycle.create_resources")]
#[test]
fn pids_limit_is_enforced() {
    for_each_runtime("cgroups-pids-limit", |ctx| {
        let b = ctx.bundle();
        b.edit(|conf| conf["linux"]["resources"]["pids"] = json!({"limit": 3}));
        // sh plus two sleeps fill the limit; the third fork fails.
        b.set_sh("sleep 3 & sleep 3 & sleep 3 & sleep 3 & echo all-forked");
        let out = ctx.run(&b);
        assert!(
            !out.stdout.contains("all-forked"),
            "pids limit 3 did not stop the fourth process: {out}"
        );
        assert!(
            out.stderr.contains("fork"),
            "the shell reports the failed fork: {out}"
        );
    });
}

#[verifies("config_linux.pids.zero_limit")]
#[test]
fn pids_limit_zero_is_a_limit() {
    for_each_runtime("cgroups-pids-zero", |ctx| {
        // The subshell needs a fork: with limit 0 it fails; the shell itself runs already.
        let script = "echo started; (echo forked); echo end";
        // Control: a limit with room lets the subshell run.
        let b = ctx.bundle();
        b.edit(|conf| conf["linux"]["resources"]["pids"] = json!({"limit": 16}));
        b.set_sh(script);
        let out = ctx.run(&b);
        out.ok();
        assert!(out.stdout.contains("forked"), "limit 16: {out}");

        let b = ctx.bundle();
        b.edit(|conf| conf["linux"]["resources"]["pids"] = json!({"limit": 0}));
        b.set_sh(script);
        let out = ctx.run(&b);
        if out.stdout.contains("forked") {
            match ctx.kind() {
                writ_conformance::Kind::Runc => {
                    ctx.deviation("runc 1.1 treats a pids limit of 0 as unlimited");
                    return;
                }
                // Seen on the pure cgroup v2 lane (crun refuses the hybrid host).
                writ_conformance::Kind::Crun => {
                    ctx.deviation("crun 1.8 treats a pids limit of 0 as unlimited");
                    return;
                }
                writ_conformance::Kind::Writ => {}
            }
        }
        assert!(out.stdout.contains("started"), "the process ran: {out}");
        assert!(
            !out.stdout.contains("forked"),
            "pids limit 0 let the shell fork: {out}"
        );
    });
}

#[verifies("config_linux.cgroups_path.invalid")]
#[test]
fn cgroups_path_climbing_out_is_refused() {
    for_each_runtime("cgroups-path-dotdot", |ctx| {
        let b = ctx.bundle();
        b.set_args(&["true"]);
        let mut c = ctx.container(&b);
        let path = format!("/{}/../../{}", c.id, c.id);
        b.edit(|conf| conf["linux"]["cgroupsPath"] = json!(path));
        let out = c.create();
        if ctx.kind() == writ_conformance::Kind::Runc && out.success() {
            ctx.deviation("runc 1.1 cleans `..` out of cgroupsPath");
            return;
        }
        out.fails();
        assert!(out.text_lower().contains(".."), "the error says why: {out}");
        c.state_out().fails();
        assert!(
            !ctx.root().join(&c.id).exists(),
            "nothing left for {}",
            c.id
        );
    });
}

#[verifies("config_linux.cgroups_path.stable")]
#[test]
fn same_cgroups_path_same_cgroup() {
    for_each_runtime("cgroups-path-stable", |ctx| {
        let path = format!("/{}", writ_conformance::unique_id("stable"));
        let mut seen = Vec::new();
        for _ in 0..2 {
            let b = ctx.bundle();
            b.edit(|c| c["linux"]["cgroupsPath"] = json!(path));
            b.set_sh("grep -E ':(memory|pids):' /proc/self/cgroup || cat /proc/self/cgroup");
            let out = ctx.run(&b);
            out.ok();
            seen.push(out.stdout.clone());
        }
        writ_conformance::remove_cgroups_named(path.trim_start_matches('/'));
        assert_eq!(seen[0], seen[1], "same cgroupsPath, same cgroup");
        assert!(
            seen[0].contains(path.as_str()),
            "the cgroup is named by cgroupsPath: {}",
            seen[0]
        );
    });
}
