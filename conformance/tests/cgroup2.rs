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

/// The files of `dir` whose text is not the one wanted, as "file: want W, got G".
fn wrong_files(dir: &Path, want: &[(&str, String)]) -> Vec<String> {
    want.iter()
        .map(|(f, w)| (f, w, read_trim(dir, f)))
        .filter(|(_, w, got)| *w != got)
        .map(|(f, w, got)| format!("{f}: want {w:?}, got {got:?}"))
        .collect()
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
        let wrong = wrong_files(&dir, &want);
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

/// A block device of this host as "major:minor", if it has one (the VM may have none).
fn some_block_device() -> Option<String> {
    fs::read_dir("/sys/block")
        .ok()?
        .flatten()
        .find_map(|e| fs::read_to_string(e.path().join("dev")).ok())
        .map(|s| s.trim().to_owned())
}

#[verifies(
    "config_linux.unified.v1_conversion",
    "config_linux.unified.enable_controllers",
    "config_linux.unified.unknown_keys",
    "config_linux.cgroups_path.extra_controllers",
    "runtime.create.apply_config"
)]
#[test]
fn every_v2_resource_lands_in_its_file() {
    for_each_runtime("cgroup2-resources", |ctx| {
        let root = ctx.require_pure_cgroup2();
        let b = ctx.bundle();
        b.set_sh("sleep 60");
        let mut c = ctx.container(&b);
        let dev = some_block_device();
        let huge = Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists();
        b.edit(|conf| {
            conf["linux"]["cgroupsPath"] = json!(format!("/{}", c.id));
            let r = &mut conf["linux"]["resources"];
            r["cpu"] = json!({"quota": 50000, "period": 100000, "burst": 10000, "idle": 1});
            r["blockIO"] = json!({"weight": 500});
            if let Some(d) = &dev {
                let (major, minor) = d.split_once(':').expect("major:minor");
                let (major, minor): (i64, i64) = (major.parse().unwrap(), minor.parse().unwrap());
                r["blockIO"]["throttleReadBpsDevice"] =
                    json!([{"major": major, "minor": minor, "rate": 1048576}]);
            }
            if huge {
                r["hugepageLimits"] = json!([{"pageSize": "2MB", "limit": 4194304}]);
            }
            // Written as given, after everything else: unified has the last word.
            r["unified"] = json!({"memory.high": "50331648", "pids.max": "77"});
            r["pids"] = json!({"limit": 99});
        });
        c.create().ok();
        let dir = root.join(&c.id);
        let mut want: Vec<(&str, String)> = vec![
            ("cpu.max", "50000 100000".into()),
            ("cpu.max.burst", "10000".into()),
            ("cpu.idle", "1".into()),
            ("memory.high", "50331648".into()),
            ("pids.max", "77".into()),
        ];
        // BFQ's weight as it is where the kernel has BFQ, else io.weight converted.
        if dir.join("io.bfq.weight").exists() {
            want.push(("io.bfq.weight", "default 500".into()));
        } else {
            want.push(("io.weight", "default 4950".into()));
        }
        if let Some(d) = &dev {
            want.push((
                "io.max",
                format!("{d} rbps=1048576 wbps=max riops=max wiops=max"),
            ));
        }
        if huge {
            want.push(("hugetlb.2MB.max", "4194304".into()));
        }
        let mut wrong = wrong_files(&dir, &want);
        // Without a memory limit the memory controller is enabled all the same, so engines
        // find memory.current and memory.stat for their statistics.
        if !dir.join("memory.current").exists() {
            wrong.push("memory.current: missing (memory controller not enabled)".into());
        }
        let known = |w: &str| match ctx.kind() {
            writ_conformance::Kind::Runc if w.starts_with("cpu.max.burst") => {
                Some("runc 1.1 does not know cpu.burst (runtime-spec 1.1)")
            }
            writ_conformance::Kind::Runc if w.starts_with("cpu.idle") => {
                Some("runc 1.1 ignores cpu.idle")
            }
            writ_conformance::Kind::Crun if w.starts_with("cpu.max.burst") => {
                Some("crun 1.8 ignores cpu.burst")
            }
            _ => None,
        };
        for w in wrong.iter().filter_map(|w| known(w)) {
            ctx.deviation(w);
        }
        wrong.retain(|w| known(w).is_none());
        assert!(
            wrong.is_empty(),
            "in {}: {}",
            dir.display(),
            wrong.join("; ")
        );
        c.kill("KILL").ok();
        c.wait_exit(T);
        c.delete().ok();
    });
}

#[verifies(
    "config_linux.unified.v1_conversion.error",
    "config_linux.unified.missing_controller",
    "runtime.create.apply_failure.error",
    "runtime.create.apply_failure.nothing_created"
)]
#[test]
fn v1_fields_without_a_v2_equivalent_are_refused() {
    for_each_runtime("cgroup2-refused", |ctx| {
        let root = ctx.require_pure_cgroup2();
        for (resources, pointer) in [
            (
                json!({"memory": {"swappiness": 10}}),
                "/linux/resources/memory/swappiness",
            ),
            (
                json!({"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}}),
                "/linux/resources/cpu/realtimeRuntime",
            ),
            (
                json!({"blockIO": {"leafWeight": 10}}),
                "/linux/resources/blockIO/leafWeight",
            ),
            (
                json!({"network": {"classID": 1048577}}),
                "/linux/resources/network/classID",
            ),
            (
                json!({"unified": {"nosuchcontroller.max": "1"}}),
                "/linux/resources/unified/nosuchcontroller.max",
            ),
        ] {
            let b = ctx.bundle();
            b.set_args(&["true"]);
            let mut c = ctx.container(&b);
            b.edit(|conf| {
                conf["linux"]["cgroupsPath"] = json!(format!("/{}", c.id));
                conf["linux"]["resources"] = resources;
            });
            let out = c.create();
            if ctx.kind() != writ_conformance::Kind::Writ {
                if out.success() {
                    ctx.deviation(&format!(
                        "{} 1.x runs {pointer} on cgroup v2 (ignored)",
                        ctx.kind()
                    ));
                    c.delete_force();
                }
                continue;
            }
            out.fails();
            let text = format!("{}{}", out.stdout, out.stderr);
            assert!(
                text.contains(pointer) && text.contains("cgroup v2"),
                "names {pointer} and the host: {out}"
            );
            assert!(!root.join(&c.id).exists(), "no cgroup left behind: {out}");
        }
    });
}
