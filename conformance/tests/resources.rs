//! Every linux.resources field on this host's layout (v1 or hybrid; a pure cgroup v2 host
//! is covered by cgroup2.rs in the VM lane): applied to its cgroup file, or create fails
//! with an error naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;
use std::path::PathBuf;

use serde_json::{json, Value};
use writ_conformance::{cgroup_mounts, for_each_runtime, Bundle, Ctx, Kind};
use writ_macros::verifies;

/// The container's directory for `controller`: in the v1 hierarchy that has it, else in
/// the cgroup2 hierarchy (cgroupsPath is `/<id>`).
fn dir_of(controller: &str, id: &str) -> Option<PathBuf> {
    let (v1, v2) = cgroup_mounts();
    v1.iter()
        .find(|(c, _)| c == controller)
        .map(|(_, m)| m.join(id))
        .or_else(|| v2.map(|m| m.join(id)))
}

/// Whether a v1 hierarchy has `controller`.
fn on_v1(controller: &str) -> bool {
    cgroup_mounts().0.iter().any(|(c, _)| c == controller)
}

fn read(dir: &std::path::Path, file: &str) -> String {
    let p = dir.join(file);
    fs::read_to_string(&p)
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|e| format!("<{}: {e}>", p.display()))
}

/// Sets the bundle's resources, at cgroupsPath `/<id>`.
fn with_resources(b: &Bundle, id: &str, resources: Value) {
    b.edit(|conf| {
        conf["linux"]["cgroupsPath"] = json!(format!("/{id}"));
        conf["linux"]["resources"] = resources;
    });
}

/// Ends the scenario as skipped on a pure cgroup v2 host (cgroup2.rs covers it there).
fn require_v1(ctx: &Ctx) {
    if writ_conformance::pure_cgroup2_root().is_some() {
        ctx.skip("this host is pure cgroup v2: cgroup2.rs checks the v2 files");
    }
}

/// Creates a container with `resources` at cgroupsPath `/<id>`, checks each
/// `(field, controller, file, want)`, and deletes it. An oracle that leaves one of
/// `oracle_misses` (field names) unapplied records it as its known deviation.
fn applied(
    ctx: &Ctx,
    resources: Value,
    want: &[(&str, &str, &str, &str)],
    oracle_misses: &[(Kind, &str, &str)],
) {
    let b = ctx.bundle();
    b.set_sh("sleep 30");
    let mut c = ctx.container(&b);
    let id = c.id.clone();
    with_resources(&b, &id, resources);
    let out = c.create();
    if let Some((_, _, why)) = oracle_misses
        .iter()
        .find(|(k, f, _)| *k == ctx.kind() && *f == "create" && !out.success())
    {
        ctx.deviation(why);
        return;
    }
    out.ok();
    let mut wrong = Vec::new();
    for (field, controller, file, expect) in want {
        let dir = dir_of(controller, &id).expect("a hierarchy for the controller");
        let got = read(&dir, file);
        if got == *expect {
            continue;
        }
        match oracle_misses
            .iter()
            .find(|(k, f, _)| *k == ctx.kind() && f == field)
        {
            Some((_, _, why)) => ctx.deviation(why),
            None => wrong.push(format!(
                "{field}: {} is {got:?}, want {expect:?}",
                dir.join(file).display()
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    c.delete_force().ok();
}

#[verifies("runtime.create.apply_config", "runtime.lifecycle.create_resources")]
#[test]
fn memory_fields_are_applied() {
    for_each_runtime("resources-memory", |ctx| {
        require_v1(ctx);
        applied(
            ctx,
            json!({"memory": {
                "limit": 67108864, "swappiness": 10, "disableOOMKiller": true,
                "kernelTCP": 16777216, "useHierarchy": true
            }}),
            &[
                ("limit", "memory", "memory.limit_in_bytes", "67108864"),
                ("swappiness", "memory", "memory.swappiness", "10"),
                (
                    "disableOOMKiller",
                    "memory",
                    "memory.oom_control",
                    "oom_kill_disable 1\nunder_oom 0\noom_kill 0",
                ),
                (
                    "kernelTCP",
                    "memory",
                    "memory.kmem.tcp.limit_in_bytes",
                    "16777216",
                ),
                ("useHierarchy", "memory", "memory.use_hierarchy", "1"),
            ],
            &[(Kind::Runc, "kernelTCP", "runc 1.1 ignores memory.kernelTCP")],
        );
    });
}

#[verifies("runtime.create.apply_config", "runtime.lifecycle.create_resources")]
#[test]
fn cpu_fields_are_applied() {
    for_each_runtime("resources-cpu", |ctx| {
        require_v1(ctx);
        applied(
            ctx,
            json!({"cpu": {
                "quota": 50000, "period": 100000, "burst": 10000,
                "realtimePeriod": 1000000, "realtimeRuntime": 10000, "idle": 1
            }}),
            &[
                ("quota", "cpu", "cpu.cfs_quota_us", "50000"),
                ("burst", "cpu", "cpu.cfs_burst_us", "10000"),
                ("realtimePeriod", "cpu", "cpu.rt_period_us", "1000000"),
                ("realtimeRuntime", "cpu", "cpu.rt_runtime_us", "10000"),
                ("idle", "cpu", "cpu.idle", "1"),
            ],
            &[
                (
                    Kind::Runc,
                    "burst",
                    "runc 1.1 does not know cpu.burst (runtime-spec 1.1)",
                ),
                (
                    Kind::Runc,
                    "idle",
                    "runc 1.1 writes cpu.idle on cgroup v2 only",
                ),
            ],
        );
    });
}

#[verifies("runtime.create.apply_config", "runtime.lifecycle.create_resources")]
#[test]
fn block_io_fields_are_applied() {
    for_each_runtime("resources-block-io", |ctx| {
        require_v1(ctx);
        let dir = dir_of("blkio", "").expect("a blkio hierarchy");
        // CFQ's weight file where the kernel has one, else BFQ's.
        let weight_file = if dir.join("blkio.weight").exists() {
            "blkio.weight"
        } else {
            "blkio.bfq.weight"
        };
        applied(
            ctx,
            json!({"blockIO": {
                "weight": 300,
                "throttleReadBpsDevice": [{"major": 7, "minor": 0, "rate": 1048576}],
                "throttleWriteIOPSDevice": [{"major": 7, "minor": 0, "rate": 300}]
            }}),
            &[
                ("weight", "blkio", weight_file, "300"),
                (
                    "throttleReadBpsDevice",
                    "blkio",
                    "blkio.throttle.read_bps_device",
                    "7:0 1048576",
                ),
                (
                    "throttleWriteIOPSDevice",
                    "blkio",
                    "blkio.throttle.write_iops_device",
                    "7:0 300",
                ),
            ],
            &[],
        );
    });
}

#[verifies("runtime.create.apply_config", "runtime.lifecycle.create_resources")]
#[test]
fn hugepage_limits_are_applied() {
    for_each_runtime("resources-hugetlb", |ctx| {
        require_v1(ctx);
        if !std::path::Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists() {
            ctx.skip("this host has no 2MB huge pages");
        }
        let file = if on_v1("hugetlb") {
            "hugetlb.2MB.limit_in_bytes"
        } else {
            "hugetlb.2MB.max"
        };
        applied(
            ctx,
            json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}),
            &[("hugepageLimits", "hugetlb", file, "4194304")],
            &[(
                Kind::Runc,
                "create",
                "runc 1.1 fails hugepageLimits on a hybrid host whose hugetlb controller is on cgroup2 only",
            )],
        );
    });
}

/// Creates a container with `resources` and expects create to fail naming `pointer`
/// (writ) — or to fail at all (oracles; one that runs it records `oracle_runs`).
fn refused(ctx: &Ctx, resources: Value, pointer: &str, also: &str, oracle_runs: &str) {
    let b = ctx.bundle();
    b.set_args(&["true"]);
    let mut c = ctx.container(&b);
    let id = c.id.clone();
    with_resources(&b, &id, resources);
    let out = c.create();
    if ctx.kind() != Kind::Writ {
        if out.success() {
            ctx.deviation(oracle_runs);
        }
        return;
    }
    out.fails();
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains(pointer) && text.contains(also),
        "names {pointer} and {also}: {out}"
    );
    c.state_out().fails();
    assert!(
        dir_of("memory", &id).is_none_or(|d| !d.exists()),
        "no cgroup left behind: {out}"
    );
}

#[verifies(
    "runtime.create.apply_failure.error",
    "runtime.create.apply_failure.nothing_created"
)]
#[test]
fn fields_this_host_cannot_apply_are_refused() {
    for_each_runtime("resources-refused", |ctx| {
        require_v1(ctx);
        let blkio = dir_of("blkio", "").expect("a blkio hierarchy");
        let memory = dir_of("memory", "").expect("a memory hierarchy");
        // (the host lacks it, resources, pointer, also named, what an oracle that runs it does)
        let cases = [
            (
                !blkio.join("blkio.leaf_weight").exists(),
                json!({"blockIO": {"leafWeight": 10}}),
                "/linux/resources/blockIO/leafWeight",
                "blkio.leaf_weight",
                "runc 1.1 ignores blockIO.leafWeight where the kernel has no blkio.leaf_weight",
            ),
            (
                !on_v1("net_cls"),
                json!({"network": {"classID": 1048577}}),
                "/linux/resources/network/classID",
                "net_cls",
                "runc 1.1 ignores network.classID without a net_cls hierarchy",
            ),
            (
                !on_v1("net_prio"),
                json!({"network": {"priorities": [{"name": "lo", "priority": 5}]}}),
                "/linux/resources/network/priorities",
                "net_prio",
                "runc 1.1 ignores network.priorities without a net_prio hierarchy",
            ),
            (
                !on_v1("rdma"),
                json!({"rdma": {"mlx5_1": {"hcaHandles": 3}}}),
                "/linux/resources/rdma",
                "rdma",
                "runc 1.1 ignores rdma without an rdma hierarchy",
            ),
            (
                // Linux 5.16+ accepts a write there and keeps no limit.
                memory.join("memory.kmem.limit_in_bytes").exists(),
                json!({"memory": {"kernel": 67108864}}),
                "/linux/resources/memory/kernel",
                "memory.kmem.limit_in_bytes",
                "runc 1.1 ignores memory.kernel",
            ),
        ];
        for (lacks, resources, pointer, also, oracle_runs) in cases {
            if lacks {
                refused(ctx, resources, pointer, also, oracle_runs);
            }
        }
    });
}

#[verifies(
    "config_linux.unified.unknown_keys",
    "config_linux.unified.enable_controllers",
    "config_linux.unified.missing_controller"
)]
#[test]
fn unified_on_a_host_with_v1_hierarchies() {
    for_each_runtime("resources-unified", |ctx| {
        require_v1(ctx);
        let (_, v2) = cgroup_mounts();
        let hugetlb_on_v2 = v2.is_some()
            && !on_v1("hugetlb")
            && std::path::Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists();
        if hugetlb_on_v2 {
            // A hybrid host with hugetlb on cgroup2: its files can be set through unified.
            applied(
                ctx,
                json!({"unified": {"hugetlb.2MB.max": "2097152"}}),
                &[("unified", "hugetlb", "hugetlb.2MB.max", "2097152")],
                &[(
                    Kind::Runc,
                    "create",
                    "runc 1.1 refuses unified on a host with cgroup v1 hierarchies",
                )],
            );
        }
        // memory is on v1 here: its cgroup2 files cannot exist.
        refused(
            ctx,
            json!({"unified": {"memory.high": "67108864"}}),
            "/linux/resources/unified/memory.high",
            "config_linux.unified.missing_controller",
            "runc 1.1 ignores unified keys of a controller mounted on v1",
        );
    });
}

#[verifies(
    "config_linux.intel_rdt.no_resctrl",
    "runtime.create.apply_failure.nothing_created"
)]
#[test]
fn intel_rdt_without_resctrl_is_an_error() {
    for_each_runtime("intel-rdt-no-resctrl", |ctx| {
        let mounted = fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .any(|l| {
                l.split_once(" - ")
                    .is_some_and(|(_, r)| r.starts_with("resctrl "))
            });
        if mounted {
            ctx.skip(
                "this host mounts resctrl (the rules are unit-tested in runtime/src/resctrl.rs)",
            );
        }
        let b = ctx.bundle();
        b.set_args(&["true"]);
        b.edit(|c| c["linux"]["intelRdt"] = json!({"closID": "gold", "l3CacheSchema": "L3:0=f"}));
        let mut c = ctx.container(&b);
        let out = c.create();
        out.fails();
        if ctx.kind() == Kind::Writ {
            assert!(
                out.text_lower().contains("/linux/intelrdt")
                    && out.text_lower().contains("resctrl"),
                "names the field and resctrl: {out}"
            );
        }
        c.state_out().fails();
    });
}
