//! `linux.resources`: memory, cpu, blockIO, rdma.

use serde_json::Value;
use writ_macros::requirement;

use super::{has, items, object, Findings, Ptr};
use crate::validation::integer;

pub(super) fn check(linux: &Value, at: &Ptr, f: &mut Findings) {
    let Some(res) = object(linux, "resources") else {
        return;
    };
    let at = at.key("resources");
    kernel_memory(res, &at, f);
    cpu_quota_burst(res, &at, f);
    if let Some(bio) = object(res, "blockIO") {
        let at = at.key("blockIO");
        weight_device(bio, &at, f);
        throttle_rate(bio, &at, f);
    }
    rdma_limits(res, &at, f);
}

#[requirement(
    "config_linux.memory.kernel.discouraged",
    "config_linux.memory.kernel_tcp.discouraged"
)]
fn kernel_memory(res: &Value, at: &Ptr, f: &mut Findings) {
    let Some(mem) = object(res, "memory") else {
        return;
    };
    for (key, id) in [
        ("kernel", "config_linux.memory.kernel.discouraged"),
        ("kernelTCP", "config_linux.memory.kernel_tcp.discouraged"),
    ] {
        if has(mem, key) {
            f.report(
                id,
                &at.key("memory").key(key),
                format!("memory.{key} is set; kernel memory limits are discouraged (cgroup v2 has none)"),
            );
        }
    }
}

/// writ takes up the MAY of both sentences: a burst above a positive quota is an error.
#[requirement(
    "config_linux.cpu.quota.not_below_burst",
    "config_linux.cpu.quota.not_below_burst.error",
    "config_linux.cpu.burst.not_above_quota",
    "config_linux.cpu.burst.not_above_quota.error"
)]
fn cpu_quota_burst(res: &Value, at: &Ptr, f: &mut Findings) {
    let Some(cpu) = object(res, "cpu") else {
        return;
    };
    let (Some(quota), Some(burst)) = (
        cpu.get("quota").and_then(integer),
        cpu.get("burst").and_then(integer),
    ) else {
        return;
    };
    if quota > 0 && burst > quota {
        let at = at.key("cpu");
        f.report(
            "config_linux.cpu.quota.not_below_burst",
            &at.key("quota"),
            format!("cpu quota {quota} is smaller than the burst {burst}"),
        );
        f.report(
            "config_linux.cpu.burst.not_above_quota",
            &at.key("burst"),
            format!("cpu burst {burst} is larger than the quota {quota}"),
        );
    }
}

#[requirement("config_linux.block_io.weight_device.weight_or_leaf")]
fn weight_device(bio: &Value, at: &Ptr, f: &mut Findings) {
    for (i, d) in items(bio, "weightDevice") {
        if d.is_object() && !has(d, "weight") && !has(d, "leafWeight") {
            f.report(
                "config_linux.block_io.weight_device.weight_or_leaf",
                &at.key("weightDevice").idx(i),
                "weightDevice entry sets neither weight nor leafWeight".to_owned(),
            );
        }
    }
}

#[requirement(
    "config_linux.block_io.throttle_bps.rate",
    "config_linux.block_io.throttle_iops.rate"
)]
fn throttle_rate(bio: &Value, at: &Ptr, f: &mut Findings) {
    for (key, id) in [
        (
            "throttleReadBpsDevice",
            "config_linux.block_io.throttle_bps.rate",
        ),
        (
            "throttleWriteBpsDevice",
            "config_linux.block_io.throttle_bps.rate",
        ),
        (
            "throttleReadIOPSDevice",
            "config_linux.block_io.throttle_iops.rate",
        ),
        (
            "throttleWriteIOPSDevice",
            "config_linux.block_io.throttle_iops.rate",
        ),
    ] {
        for (i, d) in items(bio, key) {
            if d.is_object() && !has(d, "rate") {
                f.report(
                    id,
                    &at.key(key).idx(i).key("rate"),
                    format!("{key} entry has no rate"),
                );
            }
        }
    }
}

#[requirement("config_linux.rdma.handles_or_objects")]
fn rdma_limits(res: &Value, at: &Ptr, f: &mut Findings) {
    let Some(rdma) = res.get("rdma").and_then(Value::as_object) else {
        return;
    };
    for (device, limit) in rdma {
        if limit.is_object() && !has(limit, "hcaHandles") && !has(limit, "hcaObjects") {
            f.report(
                "config_linux.rdma.handles_or_objects",
                &at.key("rdma").key(device),
                format!("rdma entry {device:?} sets neither hcaHandles nor hcaObjects"),
            );
        }
    }
}
