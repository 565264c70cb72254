//! Scenarios that need a pure cgroup v2 host (no v1 hierarchy). On a hybrid or v1 host they
//! end as skipped; the cgroup2 lane (`conformance/vm/lane`, which runs this whole target)
//! runs them in a VM that is such a host.

use std::fs;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use writ_conformance::{for_each_runtime, kv_lines};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

fn read_trim(dir: &Path, file: &str) -> String {
    let p = dir.join(file);
    fs::read_to_string(&p)
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|e| format!("<{}: {e}>", p.display()))
}

/// cpu.weight for v1 cpu.shares, by the conversion crun documents for cgroup v2
/// (shares 2..262144 onto weight 1..10000).
fn weight_of_shares(shares: u64) -> u64 {
    1 + ((shares - 2) * 9999) / 262142
}

#[verifies(
    "config_linux.unified.v1_conversion",
    "config_linux.cgroups_path.absolute",
    "runtime.lifecycle.create_resources",
    "runtime.delete.resources"
)]
#[test]
fn v1_resource_fields_land_in_v2_files() {
    for_each_runtime("cgroup2-v1-conversion", |ctx| {
        let root = ctx.require_pure_cgroup2();
        let b = ctx.bundle();
        b.set_sh("sleep 60");
        let mut c = ctx.container(&b);
        let (limit, reservation, swap) = (128u64 << 20, 64u64 << 20, 256u64 << 20);
        b.edit(|conf| {
            conf["linux"]["cgroupsPath"] = json!(format!("/{}", c.id));
            conf["linux"]["resources"]["cpu"] =
                json!({"shares": 512, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"});
            conf["linux"]["resources"]["memory"] =
                json!({"limit": limit, "reservation": reservation, "swap": swap});
        });
        c.create().ok();
        let pid = c.pid.expect("pid");
        let dir = root.join(&c.id);
        assert_eq!(
            writ_conformance::cgroup2_dir_of(&root, pid).as_deref(),
            Some(dir.as_path()),
            "the process is in the cgroupsPath cgroup"
        );
        let want = [
            ("cpu.weight", weight_of_shares(512).to_string()),
            ("cpu.max", "20000 100000".to_owned()),
            ("cpuset.cpus", "0".to_owned()),
            ("cpuset.mems", "0".to_owned()),
            ("memory.max", limit.to_string()),
            ("memory.low", reservation.to_string()),
            // v1 swap is memory+swap; v2 swap.max is the swap alone.
            ("memory.swap.max", (swap - limit).to_string()),
        ];
        let got: Vec<(&str, String)> = want.iter().map(|(f, _)| (*f, read_trim(&dir, f))).collect();
        let wrong: Vec<String> = want
            .iter()
            .zip(&got)
            .filter(|((_, w), (_, g))| w != g)
            .map(|((f, w), (_, g))| format!("{f}: want {w}, got {g}"))
            .collect();
        assert!(
            wrong.is_empty(),
            "in {}: {}",
            dir.display(),
            wrong.join("; ")
        );
        c.kill("KILL").ok();
        c.wait_exit(T);
        c.delete().ok();
        assert!(!dir.exists(), "cgroup {} removed by delete", dir.display());
    });
}

#[verifies(
    "config_linux.namespaces.create",
    "config_linux.namespaces.types.supported"
)]
#[test]
fn cgroup_namespace_and_mount_show_the_container_cgroup() {
    for_each_runtime("cgroup2-namespace-mount", |ctx| {
        ctx.require_pure_cgroup2();
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .expect("namespaces")
                .push(json!({"type": "cgroup"}));
            // What engines add: the container's own cgroup at /sys/fs/cgroup, read-only.
            c["mounts"].as_array_mut().expect("mounts").push(json!({
                "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]
            }));
            c["linux"]["resources"]["pids"] = json!({"limit": 9});
        });
        b.set_sh(
            "echo self=$(cat /proc/self/cgroup); echo pids=$(cat /sys/fs/cgroup/pids.max); \
             echo fs=$(grep ' /sys/fs/cgroup ' /proc/self/mounts | cut -d' ' -f3); \
             touch /sys/fs/cgroup/x 2>/dev/null && echo write=ok || echo write=refused",
        );
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        let get = |k: &str| kv.get(k).map(String::as_str).unwrap_or("<missing>");
        assert_eq!(
            get("self"),
            "0::/",
            "the namespace is rooted at the container's cgroup: {out}"
        );
        assert_eq!(get("fs"), "cgroup2", "a cgroup2 mount: {out}");
        assert_eq!(
            get("pids"),
            "9",
            "the mount is the container's own cgroup: {out}"
        );
        assert_eq!(get("write"), "refused", "the mount is read-only: {out}");
    });
}
