//! The block IO controller (config-linux.md#block-io): `blkio` on cgroup v1, `io` on
//! cgroup v2. Weights, leaf weights, per-device weights and the four throttles.
//!
//! v1: the weights go to `blkio.weight` / `blkio.weight_device` (CFQ) or, on kernels
//! without CFQ (Linux 5.0+), to BFQ's `blkio.bfq.weight` / `blkio.bfq.weight_device`;
//! leaf weights to `blkio.leaf_weight` / `blkio.leaf_weight_device`, which only CFQ
//! kernels have (elsewhere the field is an error naming the missing file); throttles to
//! `blkio.throttle.*_device`, one `major:minor rate` line each.
//!
//! v2 (the conversions crun documents): a weight goes to `io.bfq.weight` as it is, or,
//! without BFQ, to `io.weight` converted linearly from 10..1000 onto 1..10000; the
//! throttles become `io.max` lines (`rbps=`, `wbps=`, `riops=`, `wiops=`). cgroup v2 has
//! no leaf weights: a leafWeight is an error there.

use std::path::Path;

use super::controller::{first_set, Controller};
use super::fs::{has, write};
use super::CgroupError;
use crate::plan::ResourcesPlan;

const BLOCK_IO: &str = "/linux/resources/blockIO";
const WEIGHT: &str = "/linux/resources/blockIO/weight";
const LEAF_WEIGHT: &str = "/linux/resources/blockIO/leafWeight";
const WEIGHT_DEVICE: &str = "/linux/resources/blockIO/weightDevice";

/// `blkio` (v2: `io`).
pub struct Blkio;

/// The throttle lists: config name, v1 file, v2 `io.max` key.
const THROTTLES: [(&str, &str, &str); 4] = [
    (
        "throttleReadBpsDevice",
        "blkio.throttle.read_bps_device",
        "rbps",
    ),
    (
        "throttleWriteBpsDevice",
        "blkio.throttle.write_bps_device",
        "wbps",
    ),
    (
        "throttleReadIOPSDevice",
        "blkio.throttle.read_iops_device",
        "riops",
    ),
    (
        "throttleWriteIOPSDevice",
        "blkio.throttle.write_iops_device",
        "wiops",
    ),
];

fn list(v: &Option<Vec<writ_spec::LinuxThrottleDevice>>) -> &[writ_spec::LinuxThrottleDevice] {
    v.as_deref().unwrap_or(&[])
}

fn throttles(b: &writ_spec::LinuxBlockIo) -> [&[writ_spec::LinuxThrottleDevice]; 4] {
    [
        list(&b.throttle_read_bps_device),
        list(&b.throttle_write_bps_device),
        list(&b.throttle_read_iops_device),
        list(&b.throttle_write_iops_device),
    ]
}

/// A blkio weight (10..1000) on io.weight's scale (1..10000), as crun converts.
pub fn weight_to_io_weight(w: u16) -> u64 {
    let w = u64::from(w.clamp(10, 1000));
    1 + (w - 10) * 9999 / 990
}

/// One throttle entry, ready to write.
struct Throttle {
    /// Its JSON pointer.
    field: String,
    v1_file: &'static str,
    /// Its key in v2's io.max.
    v2_key: &'static str,
    /// "major:minor".
    device: String,
    rate: u64,
}

/// Every throttle entry, in config order.
fn throttle_lines(b: &writ_spec::LinuxBlockIo) -> Result<Vec<Throttle>, CgroupError> {
    let mut out = Vec::new();
    for ((name, v1_file, v2_key), list) in THROTTLES.iter().zip(throttles(b)) {
        for (i, d) in list.iter().enumerate() {
            let field = format!("{BLOCK_IO}/{name}/{i}");
            let Some(rate) = d.rate else {
                return Err(CgroupError::Value {
                    field: format!("{field}/rate"),
                    controller: "blkio",
                    reason:
                        "a throttle entry needs its rate [config_linux.block_io.throttle_bps.rate]"
                            .into(),
                });
            };
            out.push(Throttle {
                field,
                v1_file,
                v2_key,
                device: format!("{}:{}", d.major, d.minor),
                rate,
            });
        }
    }
    Ok(out)
}

fn weight_devices(b: &writ_spec::LinuxBlockIo) -> &[writ_spec::LinuxWeightDevice] {
    b.weight_device.as_deref().unwrap_or(&[])
}

impl Controller for Blkio {
    fn name(&self) -> &'static str {
        "blkio"
    }

    fn v2_name(&self) -> Option<&'static str> {
        Some("io")
    }

    fn requested(&self, r: &ResourcesPlan) -> Option<&'static str> {
        let b = &r.block_io;
        first_set(&[
            (b.weight.is_some(), WEIGHT),
            (b.leaf_weight.is_some(), LEAF_WEIGHT),
            (!weight_devices(b).is_empty(), WEIGHT_DEVICE),
            (throttles(b).iter().any(|l| !l.is_empty()), BLOCK_IO),
        ])
    }

    fn apply_v1(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        let b = &r.block_io;
        let w = |field: &str, file: &str, v: String| write("blkio", field, dir, file, &v);
        // CFQ's files where the kernel has them, else BFQ's.
        let (weight_file, weight_device_file) = if has(dir, "blkio.weight") {
            ("blkio.weight", "blkio.weight_device")
        } else {
            ("blkio.bfq.weight", "blkio.bfq.weight_device")
        };
        if let Some(v) = b.weight {
            w(WEIGHT, weight_file, v.to_string())?;
        }
        if let Some(v) = b.leaf_weight {
            w(LEAF_WEIGHT, "blkio.leaf_weight", v.to_string())?;
        }
        for (i, d) in weight_devices(b).iter().enumerate() {
            let dev = format!("{}:{}", d.major, d.minor);
            if let Some(v) = d.weight {
                w(
                    &format!("{WEIGHT_DEVICE}/{i}/weight"),
                    weight_device_file,
                    format!("{dev} {v}"),
                )?;
            }
            if let Some(v) = d.leaf_weight {
                let field = format!("{WEIGHT_DEVICE}/{i}/leafWeight");
                w(&field, "blkio.leaf_weight_device", format!("{dev} {v}"))?;
            }
        }
        for t in throttle_lines(b)? {
            w(&t.field, t.v1_file, format!("{} {}", t.device, t.rate))?;
        }
        Ok(())
    }

    #[writ_macros::requirement(
        "config_linux.unified.v1_conversion",
        "config_linux.unified.v1_conversion.error"
    )]
    fn apply_v2(&self, dir: &Path, r: &ResourcesPlan) -> Result<(), CgroupError> {
        let b = &r.block_io;
        let no_leaf =
            |field: String| CgroupError::not_on_v2(field, "blkio", "cgroup v2 has no leaf weights");
        if b.leaf_weight.is_some() {
            return Err(no_leaf(LEAF_WEIGHT.into()));
        }
        if let Some(i) = weight_devices(b)
            .iter()
            .position(|d| d.leaf_weight.is_some())
        {
            return Err(no_leaf(format!("{WEIGHT_DEVICE}/{i}/leafWeight")));
        }
        let lines = throttle_lines(b)?;
        let w = |field: &str, file: &str, v: String| write("blkio", field, dir, file, &v);
        // BFQ takes the v1 scale as it is; io.weight (blk-iocost) is converted.
        let bfq = has(dir, "io.bfq.weight");
        let weight = |v: u16| -> (&str, String) {
            if bfq {
                ("io.bfq.weight", v.to_string())
            } else {
                ("io.weight", weight_to_io_weight(v).to_string())
            }
        };
        if let Some(v) = b.weight {
            let (file, value) = weight(v);
            w(WEIGHT, file, value)?;
        }
        for (i, d) in weight_devices(b).iter().enumerate() {
            if let Some(v) = d.weight {
                let (file, value) = weight(v);
                let line = format!("{}:{} {value}", d.major, d.minor);
                w(&format!("{WEIGHT_DEVICE}/{i}/weight"), file, line)?;
            }
        }
        for t in lines {
            w(
                &t.field,
                "io.max",
                format!("{} {}={}", t.device, t.v2_key, t.rate),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};
    use serde_json::json;

    fn plan(b: serde_json::Value) -> ResourcesPlan {
        ResourcesPlan {
            block_io: serde_json::from_value(b).unwrap(),
            ..Default::default()
        }
    }

    #[test]
    fn weights_convert_linearly() {
        assert_eq!(weight_to_io_weight(10), 1);
        assert_eq!(weight_to_io_weight(1000), 10_000);
        assert_eq!(weight_to_io_weight(500), 4950);
        assert_eq!(weight_to_io_weight(1), 1, "clamped to the v1 range");
    }

    #[test]
    fn v1_uses_cfq_files_else_bfq_and_writes_throttles() {
        let throttle = json!({
            "weight": 300,
            "weightDevice": [{"major": 8, "minor": 0, "weight": 500}],
            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
            "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]
        });
        let r = plan(throttle);
        assert_eq!(Blkio.requested(&r), Some(WEIGHT));
        let d = files(&[
            "blkio.bfq.weight",
            "blkio.bfq.weight_device",
            "blkio.throttle.read_bps_device",
            "blkio.throttle.write_iops_device",
        ]);
        Blkio.apply_v1(d.path(), &r).unwrap();
        assert_eq!(read(&d, "blkio.bfq.weight"), "300");
        assert_eq!(read(&d, "blkio.bfq.weight_device"), "8:0 500");
        assert_eq!(read(&d, "blkio.throttle.read_bps_device"), "8:0 1048576");
        assert_eq!(read(&d, "blkio.throttle.write_iops_device"), "8:16 300");
        let cfq = files(&[
            "blkio.weight",
            "blkio.weight_device",
            "blkio.throttle.read_bps_device",
            "blkio.throttle.write_iops_device",
        ]);
        Blkio.apply_v1(cfq.path(), &r).unwrap();
        assert_eq!(read(&cfq, "blkio.weight"), "300");
        assert_eq!(read(&cfq, "blkio.weight_device"), "8:0 500");
    }

    #[test]
    fn v1_leaf_weight_without_cfq_names_the_missing_file() {
        let d = files(&["blkio.bfq.weight"]);
        let e = Blkio
            .apply_v1(d.path(), &plan(json!({"leafWeight": 10})))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(LEAF_WEIGHT) && e.contains("blkio.leaf_weight"),
            "{e}"
        );
        assert!(
            e.contains("does not exist") && e.contains("blkio controller"),
            "{e}"
        );
        let e = Blkio
            .apply_v1(
                d.path(),
                &plan(json!({"weightDevice": [{"major": 8, "minor": 0, "leafWeight": 10}]})),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/linux/resources/blockIO/weightDevice/0/leafWeight"),
            "{e}"
        );
    }

    #[test]
    fn v2_prefers_bfq_then_converts_for_io_weight_and_writes_io_max() {
        let r = plan(json!({
            "weight": 500,
            "weightDevice": [{"major": 8, "minor": 0, "weight": 100}],
            "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}]
        }));
        let d = files(&["io.bfq.weight", "io.max"]);
        Blkio.apply_v2(d.path(), &r).unwrap();
        // Each write replaces a test file's text: the per-device line came last.
        assert_eq!(read(&d, "io.bfq.weight"), "8:0 100");
        assert_eq!(read(&d, "io.max"), "8:16 wbps=2097152");
        let d = files(&["io.weight", "io.max"]);
        let only_weight = plan(json!({"weight": 500}));
        Blkio.apply_v2(d.path(), &only_weight).unwrap();
        assert_eq!(read(&d, "io.weight"), "4950");
        Blkio.apply_v2(d.path(), &r).unwrap();
        assert_eq!(read(&d, "io.weight"), "8:0 910");
    }

    #[writ_macros::verifies("config_linux.unified.v1_conversion.error")]
    #[test]
    fn v2_refuses_leaf_weights() {
        let d = files(&["io.weight"]);
        for (b, field) in [
            (
                json!({"weight": 500, "leafWeight": 10}),
                LEAF_WEIGHT.to_string(),
            ),
            (
                json!({"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 1}, {"major": 8, "minor": 1, "leafWeight": 10}]}),
                format!("{WEIGHT_DEVICE}/1/leafWeight"),
            ),
        ] {
            let e = Blkio.apply_v2(d.path(), &plan(b)).unwrap_err().to_string();
            assert!(e.starts_with(&field) && e.contains("leaf weights"), "{e}");
            assert_eq!(
                read(&d, "io.weight"),
                "",
                "nothing written before the refusal"
            );
        }
    }

    #[test]
    fn a_throttle_without_rate_is_an_error() {
        let d = files(&["io.max"]);
        let r = plan(json!({"throttleReadIOPSDevice": [{"major": 8, "minor": 0}]}));
        assert_eq!(Blkio.requested(&r), Some(BLOCK_IO));
        let e = Blkio.apply_v2(d.path(), &r).unwrap_err().to_string();
        assert!(
            e.contains("/linux/resources/blockIO/throttleReadIOPSDevice/0/rate"),
            "{e}"
        );
    }
}
