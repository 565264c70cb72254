//! The spec's prose rules (`check = "validate"` requirements that apply to Linux): for each,
//! a config that breaks it is reported at the right JSON pointer with the requirement id,
//! and a config that keeps it passes. Mandatory rules come out of `validate_config_value` as
//! errors; recommendations as warnings (and out of `rules::advisories`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use serde_json::{json, Value};
use writ_macros::verifies;
use writ_spec::{rules, validate_config_value, Severity, ViolationKind};

/// A small config that keeps every rule.
fn base() -> Value {
    json!({
        "ociVersion": "1.3.0",
        "root": {"path": "rootfs"},
        "process": {
            "cwd": "/",
            "args": ["sh"],
            "user": {"uid": 0, "gid": 0}
        },
        "linux": {}
    })
}

/// Sets the value at `pointer`, creating missing objects on the way.
fn set(doc: &mut Value, pointer: &str, new: Value) {
    let mut cur = doc;
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        let last = i + 1 == tokens.len();
        cur = match cur {
            Value::Object(m) => {
                if last {
                    m.insert(t.clone(), new);
                    return;
                }
                m.entry(t.clone()).or_insert_with(|| json!({}))
            }
            Value::Array(a) => {
                let i: usize = t.parse().unwrap();
                if last {
                    a[i] = new;
                    return;
                }
                &mut a[i]
            }
            other => panic!("cannot descend into {other}"),
        };
    }
}

fn remove(doc: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    doc.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
}

fn with(changes: &[(&str, Value)]) -> Value {
    let mut doc = base();
    for (p, v) in changes {
        set(&mut doc, p, v.clone());
    }
    doc
}

fn found(v: &[writ_spec::Violation]) -> Vec<(String, &'static str)> {
    v.iter()
        .map(|v| (v.pointer.clone(), v.requirement))
        .collect()
}

/// `doc` breaks exactly the mandatory rule `id`, at `pointer` (and no recommendation).
#[track_caller]
fn rejected(doc: &Value, pointer: &str, id: &'static str) {
    let v = validate_config_value(doc);
    assert_eq!(found(&v), [(pointer.to_owned(), id)], "{doc}\n{v:#?}");
    assert_eq!(v[0].kind, ViolationKind::Rule);
    assert_eq!(v[0].severity, Severity::Error);
    assert!(!v[0].message.is_empty());
    assert!(v[0].to_string().ends_with(&format!("[{id}]")), "{}", v[0]);
    assert_eq!(rules::advisories(doc), [], "{doc}");
}

/// `doc` keeps every mandatory rule and departs from exactly the recommendation `id`.
#[track_caller]
fn advised(doc: &Value, pointer: &str, id: &'static str) {
    let v = validate_config_value(doc);
    assert_eq!(found(&v), [(pointer.to_owned(), id)], "{doc}\n{v:#?}");
    assert_eq!(v[0].severity, Severity::Warning, "{doc}");
    assert!(v[0].to_string().starts_with("warning: "), "{}", v[0]);
    let a = rules::advisories(doc);
    assert_eq!(a, v, "{doc}");
    assert_eq!(a[0].kind, ViolationKind::Rule);
}

/// `doc` keeps every rule, mandatory or not, and the schema.
#[track_caller]
fn clean(doc: &Value) {
    assert_eq!(validate_config_value(doc), [], "{doc}");
    assert_eq!(rules::advisories(doc), [], "{doc}");
}

#[test]
fn the_base_config_is_clean() {
    clean(&base());
}

#[verifies("config.oci_version.semver")]
#[test]
fn oci_version_is_semver() {
    for good in ["1.3.0", "1.0.2-dev", "1.2.0-rc.1+build.5"] {
        clean(&with(&[("/ociVersion", json!(good))]));
    }
    for bad in ["1.3", "v1.3.0", "01.3.0", "1.3.0-", "1.3.0-01", "latest"] {
        rejected(
            &with(&[("/ociVersion", json!(bad))]),
            "/ociVersion",
            "config.oci_version.semver",
        );
    }
}

#[verifies("config.root.required")]
#[test]
fn root_is_required_on_linux() {
    let mut doc = base();
    remove(&mut doc, "/root");
    rejected(&doc, "/root", "config.root.required");
    // null is a type error for the schema and, read as absent, breaks the rule too.
    let v = validate_config_value(&with(&[("/root", Value::Null)]));
    assert_eq!(
        found(&v),
        [
            ("/root".to_owned(), "config.valid_values.error"),
            ("/root".to_owned(), "config.root.required")
        ]
    );
}

#[verifies("config.root.path.conventional")]
#[test]
fn root_path_should_be_rootfs() {
    advised(
        &with(&[("/root/path", json!("/var/lib/x/merged"))]),
        "/root/path",
        "config.root.path.conventional",
    );
    clean(&with(&[("/root/path", json!("rootfs"))]));
}

#[verifies("config.mounts.destination.absolute_linux")]
#[test]
fn mount_destination_should_be_absolute() {
    advised(
        &with(&[(
            "/mounts",
            json!([{"destination": "/proc", "type": "proc", "source": "proc"},
                   {"destination": "tmp", "type": "tmpfs", "source": "tmpfs"}]),
        )]),
        "/mounts/1/destination",
        "config.mounts.destination.absolute_linux",
    );
}

fn idmapped(uid: bool, gid: bool, options: &[&str]) -> Value {
    let mut m =
        json!({"destination": "/data", "source": "/srv", "type": "bind", "options": options});
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    if uid {
        m["uidMappings"] = map.clone();
    }
    if gid {
        m["gidMappings"] = map;
    }
    with(&[("/mounts", json!([m]))])
}

#[verifies(
    "config.mounts.uid_mappings.with_gid",
    "config.mounts.gid_mappings.with_uid"
)]
#[test]
fn mount_mappings_come_in_pairs() {
    rejected(
        &idmapped(true, false, &["rbind", "idmap"]),
        "/mounts/0/gidMappings",
        "config.mounts.uid_mappings.with_gid",
    );
    rejected(
        &idmapped(false, true, &["rbind", "ridmap"]),
        "/mounts/0/uidMappings",
        "config.mounts.gid_mappings.with_uid",
    );
    clean(&idmapped(true, true, &["rbind", "idmap"]));
    clean(&idmapped(false, false, &["rbind"]));
}

#[verifies(
    "config.mounts.uid_mappings.idmap_option",
    "config.mounts.gid_mappings.idmap_option"
)]
#[test]
fn mount_mappings_should_name_idmap() {
    let doc = idmapped(true, true, &["rbind"]);
    assert!(validate_config_value(&doc).iter().all(|v| !v.is_error()));
    assert_eq!(rules::advisories(&doc), validate_config_value(&doc));
    assert_eq!(
        found(&rules::advisories(&doc)),
        [
            (
                "/mounts/0/options".to_owned(),
                "config.mounts.uid_mappings.idmap_option"
            ),
            (
                "/mounts/0/options".to_owned(),
                "config.mounts.gid_mappings.idmap_option"
            ),
        ]
    );
    clean(&idmapped(true, true, &["rbind", "ridmap"]));
}

#[verifies("config.process.cwd.absolute")]
#[test]
fn cwd_is_absolute() {
    rejected(
        &with(&[("/process/cwd", json!("home/user"))]),
        "/process/cwd",
        "config.process.cwd.absolute",
    );
    clean(&with(&[("/process/cwd", json!("/home/user"))]));
}

#[verifies("config.process.args.non_empty")]
#[test]
fn args_has_a_program() {
    rejected(
        &with(&[("/process/args", json!([]))]),
        "/process/args",
        "config.process.args.non_empty",
    );
    let mut doc = base();
    remove(&mut doc, "/process/args");
    rejected(&doc, "/process/args", "config.process.args.non_empty");
    // Without a process there is nothing to run yet (process is only needed by start).
    let mut doc = base();
    remove(&mut doc, "/process");
    clean(&doc);
}

#[verifies("config.process.rlimits.duplicate")]
#[test]
fn rlimit_types_are_unique() {
    rejected(
        &with(&[(
            "/process/rlimits",
            json!([{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024},
                   {"type": "RLIMIT_NPROC", "soft": 10, "hard": 10},
                   {"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10}]),
        )]),
        "/process/rlimits/2/type",
        "config.process.rlimits.duplicate",
    );
    clean(&with(&[(
        "/process/rlimits",
        json!([{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024},
               {"type": "RLIMIT_NPROC", "soft": 10, "hard": 10}]),
    )]));
}

#[verifies("config.process.io_priority.priority.required")]
#[test]
fn io_priority_has_a_level() {
    rejected(
        &with(&[("/process/ioPriority", json!({"class": "IOPRIO_CLASS_BE"}))]),
        "/process/ioPriority/priority",
        "config.process.io_priority.priority.required",
    );
    clean(&with(&[(
        "/process/ioPriority",
        json!({"class": "IOPRIO_CLASS_BE", "priority": 4}),
    )]));
}

#[verifies("config.process.user.uid.required", "config.process.user.gid.required")]
#[test]
fn user_has_uid_and_gid() {
    rejected(
        &with(&[("/process/user", json!({"gid": 0}))]),
        "/process/user/uid",
        "config.process.user.uid.required",
    );
    rejected(
        &with(&[("/process/user", json!({"uid": 0, "umask": 18}))]),
        "/process/user/gid",
        "config.process.user.gid.required",
    );
}

#[verifies(
    "config.hooks.prestart.path.absolute",
    "config.hooks.create_runtime.path.absolute"
)]
#[test]
fn hook_paths_are_absolute() {
    rejected(
        &with(&[("/hooks/prestart", json!([{"path": "bin/hook"}]))]),
        "/hooks/prestart/0/path",
        "config.hooks.prestart.path.absolute",
    );
    for kind in [
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ] {
        rejected(
            &with(&[(
                &format!("/hooks/{kind}"),
                json!([{"path": "/bin/true"}, {"path": "hook", "args": ["hook"]}]),
            )]),
            &format!("/hooks/{kind}/1/path"),
            "config.hooks.create_runtime.path.absolute",
        );
        clean(&with(&[(
            &format!("/hooks/{kind}"),
            json!([{"path": "/bin/true"}]),
        )]));
    }
}

#[verifies("config.annotations.key_non_empty")]
#[test]
fn annotation_keys_are_not_empty() {
    rejected(
        &with(&[("/annotations", json!({"": "x", "com.example.a": "b"}))]),
        "/annotations/",
        "config.annotations.key_non_empty",
    );
}

#[verifies("config.annotations.key_reverse_domain")]
#[test]
fn annotation_keys_should_be_reverse_domain() {
    advised(
        &with(&[("/annotations", json!({"mykey": "x"}))]),
        "/annotations/mykey",
        "config.annotations.key_reverse_domain",
    );
    advised(
        &with(&[("/annotations", json!({"kubernetes.io/config.seen": "x"}))]),
        "/annotations/kubernetes.io~1config.seen",
        "config.annotations.key_reverse_domain",
    );
    clean(&with(&[(
        "/annotations",
        json!({"com.example.key": "", "io.podman.annotations.init": "FALSE"}),
    )]));
}

#[verifies(
    "config.annotations.reserved_namespace",
    "config.annotations.reserved_keys"
)]
#[test]
fn oci_namespace_keys_are_only_the_defined_ones() {
    for key in [
        "org.opencontainers.foo",
        "org.opencontainers.image.title",
        "org.opencontainers",
    ] {
        // The config breaks a MUST NOT, but a runtime never refuses an annotation key
        // (config.annotations.unknown_keys): a warning that says so.
        let v = validate_config_value(&with(&[("/annotations", json!({ key: "x" }))]));
        assert_eq!(
            found(&v),
            [(
                format!("/annotations/{key}"),
                "config.annotations.reserved_namespace"
            )]
        );
        assert_eq!(v[0].severity, Severity::Warning);
        let note = v[0].note.as_deref().unwrap_or_default();
        assert!(note.contains("config.annotations.unknown_keys"), "{note}");
    }
    // Outside the namespace, and the defined keys with valid values, are fine.
    clean(&with(&[(
        "/annotations",
        json!({
            "org.opencontainersx.key": "x",
            "org.opencontainers.image.os": "linux",
            "org.opencontainers.image.os.version": "",
            "org.opencontainers.image.os.features": "",
            "org.opencontainers.image.architecture": "amd64",
            "org.opencontainers.image.variant": "v8",
            "org.opencontainers.image.author": "someone",
            "org.opencontainers.image.created": "2026-11-28T23:31:36.046419326Z",
            "org.opencontainers.image.stopSignal": "SIGTERM"
        }),
    )]));
}

#[verifies(
    "config.annotations.image_os.value",
    "config.annotations.image_architecture.value"
)]
#[test]
fn image_os_and_architecture_are_named() {
    rejected(
        &with(&[("/annotations", json!({"org.opencontainers.image.os": ""}))]),
        "/annotations/org.opencontainers.image.os",
        "config.annotations.image_os.value",
    );
    rejected(
        &with(&[(
            "/annotations",
            json!({"org.opencontainers.image.architecture": ""}),
        )]),
        "/annotations/org.opencontainers.image.architecture",
        "config.annotations.image_architecture.value",
    );
}

#[verifies("config.annotations.image_created.value")]
#[test]
fn image_created_is_a_timestamp() {
    rejected(
        &with(&[(
            "/annotations",
            json!({"org.opencontainers.image.created": "yesterday"}),
        )]),
        "/annotations/org.opencontainers.image.created",
        "config.annotations.image_created.value",
    );
    clean(&with(&[(
        "/annotations",
        json!({"org.opencontainers.image.created": "1996-12-19T16:39:57-08:00"}),
    )]));
}

#[verifies("config.annotations.image_stop_signal.value")]
#[test]
fn image_stop_signal_is_a_signal() {
    rejected(
        &with(&[(
            "/annotations",
            json!({"org.opencontainers.image.stopSignal": "SIGNOPE"}),
        )]),
        "/annotations/org.opencontainers.image.stopSignal",
        "config.annotations.image_stop_signal.value",
    );
    // podman writes the number.
    for ok in ["15", "SIGRTMIN+3", "SIGKILL"] {
        clean(&with(&[(
            "/annotations",
            json!({"org.opencontainers.image.stopSignal": ok}),
        )]));
    }
}

#[verifies("config.valid_values.error")]
#[test]
fn every_invalid_value_is_reported_with_schema_violations_first() {
    let doc = with(&[
        ("/ociVersion", json!("1")),
        ("/process/cwd", json!("rel")),
        ("/process/user/uid", json!(-1)),
        ("/linux/maskedPaths", json!(["proc/kcore"])),
        (
            "/linux/namespaces",
            json!([{"type": "pid"}, {"type": "pid"}]),
        ),
    ]);
    let v = validate_config_value(&doc);
    assert_eq!(
        found(&v),
        [
            ("/process/user/uid".to_owned(), "config.valid_values.error"),
            ("/ociVersion".to_owned(), "config.oci_version.semver"),
            ("/process/cwd".to_owned(), "config.process.cwd.absolute"),
            (
                "/linux/namespaces/1/type".to_owned(),
                "config_linux.namespaces.duplicate_type"
            ),
            (
                "/linux/maskedPaths/0".to_owned(),
                "config_linux.masked_paths.absolute"
            ),
        ],
        "{v:#?}"
    );
    // The typed config reports the same.
    let spec: writ_spec::Spec = serde_json::from_value(with(&[
        ("/process/cwd", json!("rel")),
        ("/linux/maskedPaths", json!(["proc/kcore"])),
    ]))
    .unwrap();
    assert_eq!(
        found(&spec.validate()),
        [
            ("/process/cwd".to_owned(), "config.process.cwd.absolute"),
            (
                "/linux/maskedPaths/0".to_owned(),
                "config_linux.masked_paths.absolute"
            ),
        ]
    );
    // A document that is not an object: only the schema speaks.
    assert!(rules::check(&json!([1])).is_empty());
}

#[verifies("config_linux.namespaces.path.absolute")]
#[test]
fn namespace_paths_are_absolute() {
    rejected(
        &with(&[(
            "/linux/namespaces",
            json!([{"type": "pid"}, {"type": "network", "path": "proc/1/ns/net"}]),
        )]),
        "/linux/namespaces/1/path",
        "config_linux.namespaces.path.absolute",
    );
    clean(&with(&[(
        "/linux/namespaces",
        json!([{"type": "network", "path": "/var/run/netns/x"}]),
    )]));
}

#[verifies("config_linux.namespaces.duplicate_type")]
#[test]
fn namespace_types_are_unique() {
    rejected(
        &with(&[(
            "/linux/namespaces",
            json!([{"type": "pid"}, {"type": "mount"}, {"type": "mount", "path": "/proc/1/ns/mnt"}]),
        )]),
        "/linux/namespaces/2/type",
        "config_linux.namespaces.duplicate_type",
    );
    clean(&with(&[(
        "/linux/namespaces",
        json!([{"type": "pid"}, {"type": "mount"}, {"type": "uts"}]),
    )]));
}

#[verifies("config_linux.devices.major_minor.required")]
#[test]
fn device_numbers_are_required_except_for_fifos() {
    for ty in ["c", "b", "u"] {
        rejected(
            &with(&[(
                "/linux/devices",
                json!([{"path": "/dev/x", "type": ty, "major": 1}]),
            )]),
            "/linux/devices/0/minor",
            "config_linux.devices.major_minor.required",
        );
    }
    rejected(
        &with(&[(
            "/linux/devices",
            json!([{"path": "/dev/x", "type": "c", "minor": 1}]),
        )]),
        "/linux/devices/0/major",
        "config_linux.devices.major_minor.required",
    );
    clean(&with(&[(
        "/linux/devices",
        json!([{"path": "/dev/fifo", "type": "p"}, {"path": "/dev/null", "type": "c", "major": 1, "minor": 3}]),
    )]));
}

#[verifies("config_linux.devices.unique")]
#[test]
fn devices_should_not_repeat() {
    advised(
        &with(&[(
            "/linux/devices",
            json!([{"path": "/dev/null", "type": "c", "major": 1, "minor": 3},
                   {"path": "/dev/zero", "type": "c", "major": 1, "minor": 5},
                   {"path": "/dev/null2", "type": "c", "major": 1, "minor": 3}]),
        )]),
        "/linux/devices/2",
        "config_linux.devices.unique",
    );
    // Same numbers, different type: different devices.
    clean(&with(&[(
        "/linux/devices",
        json!([{"path": "/dev/a", "type": "c", "major": 7, "minor": 0},
               {"path": "/dev/b", "type": "b", "major": 7, "minor": 0}]),
    )]));
}

#[verifies("config_linux.cgroups_path.form")]
#[test]
fn cgroups_path_is_a_path() {
    for bad in ["", "a\u{0}b"] {
        rejected(
            &with(&[("/linux/cgroupsPath", json!(bad))]),
            "/linux/cgroupsPath",
            "config_linux.cgroups_path.form",
        );
    }
    for good in [
        "/writ/c1",
        "writ/c1",
        "machine.slice:libpod:abc",
        "/libpod_parent/libpod-a9194",
    ] {
        clean(&with(&[("/linux/cgroupsPath", json!(good))]));
    }
}

#[verifies(
    "config_linux.memory.kernel.discouraged",
    "config_linux.memory.kernel_tcp.discouraged"
)]
#[test]
fn kernel_memory_limits_are_discouraged() {
    advised(
        &with(&[(
            "/linux/resources/memory",
            json!({"limit": 1048576, "kernel": 1048576}),
        )]),
        "/linux/resources/memory/kernel",
        "config_linux.memory.kernel.discouraged",
    );
    advised(
        &with(&[("/linux/resources/memory", json!({"kernelTCP": 1048576}))]),
        "/linux/resources/memory/kernelTCP",
        "config_linux.memory.kernel_tcp.discouraged",
    );
    clean(&with(&[(
        "/linux/resources/memory",
        json!({"limit": 1048576, "swap": 2097152}),
    )]));
}

#[verifies(
    "config_linux.cpu.quota.not_below_burst",
    "config_linux.cpu.quota.not_below_burst.error",
    "config_linux.cpu.burst.not_above_quota",
    "config_linux.cpu.burst.not_above_quota.error"
)]
#[test]
fn cpu_burst_does_not_exceed_a_positive_quota() {
    let doc = with(&[(
        "/linux/resources/cpu",
        json!({"quota": 50000, "burst": 60000, "period": 100000}),
    )]);
    assert_eq!(
        found(&validate_config_value(&doc)),
        [
            (
                "/linux/resources/cpu/quota".to_owned(),
                "config_linux.cpu.quota.not_below_burst"
            ),
            (
                "/linux/resources/cpu/burst".to_owned(),
                "config_linux.cpu.burst.not_above_quota"
            ),
        ]
    );
    for ok in [
        json!({"quota": 50000, "burst": 50000}),
        json!({"quota": -1, "burst": 60000}),
        json!({"burst": 60000}),
        json!({"quota": 50000}),
    ] {
        clean(&with(&[("/linux/resources/cpu", ok)]));
    }
}

#[verifies("config_linux.block_io.weight_device.weight_or_leaf")]
#[test]
fn weight_device_sets_a_weight() {
    rejected(
        &with(&[(
            "/linux/resources/blockIO/weightDevice",
            json!([{"major": 8, "minor": 0, "weight": 500}, {"major": 8, "minor": 16}]),
        )]),
        "/linux/resources/blockIO/weightDevice/1",
        "config_linux.block_io.weight_device.weight_or_leaf",
    );
    clean(&with(&[(
        "/linux/resources/blockIO/weightDevice",
        json!([{"major": 8, "minor": 0, "leafWeight": 300}]),
    )]));
}

#[verifies(
    "config_linux.block_io.throttle_bps.rate",
    "config_linux.block_io.throttle_iops.rate"
)]
#[test]
fn throttles_give_a_rate() {
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
        rejected(
            &with(&[(
                &format!("/linux/resources/blockIO/{key}"),
                json!([{"major": 8, "minor": 0}]),
            )]),
            &format!("/linux/resources/blockIO/{key}/0/rate"),
            id,
        );
        clean(&with(&[(
            &format!("/linux/resources/blockIO/{key}"),
            json!([{"major": 8, "minor": 0, "rate": 600}]),
        )]));
    }
}

#[verifies("config_linux.rdma.handles_or_objects")]
#[test]
fn rdma_entries_set_a_limit() {
    rejected(
        &with(&[(
            "/linux/resources/rdma",
            json!({"mlx5_1": {"hcaHandles": 3}, "mlx4_0": {}}),
        )]),
        "/linux/resources/rdma/mlx4_0",
        "config_linux.rdma.handles_or_objects",
    );
    clean(&with(&[(
        "/linux/resources/rdma",
        json!({"mlx5_1": {"hcaObjects": 10000}}),
    )]));
}

#[verifies(
    "config_linux.intel_rdt.l3_cache_schema.prefix",
    "config_linux.intel_rdt.l3_cache_schema.one_line"
)]
#[test]
fn l3_cache_schema_should_be_one_l3_line() {
    advised(
        &with(&[("/linux/intelRdt", json!({"l3CacheSchema": "0=7f0;1=1f"}))]),
        "/linux/intelRdt/l3CacheSchema",
        "config_linux.intel_rdt.l3_cache_schema.prefix",
    );
    advised(
        &with(&[(
            "/linux/intelRdt",
            json!({"l3CacheSchema": "L3:0=7f0;1=1f\nMB:0=20"}),
        )]),
        "/linux/intelRdt/l3CacheSchema",
        "config_linux.intel_rdt.l3_cache_schema.one_line",
    );
    clean(&with(&[(
        "/linux/intelRdt",
        json!({"closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0;1=1f"}),
    )]));
}

#[verifies("config_linux.intel_rdt.schemata.one_line")]
#[test]
fn schemata_elements_are_single_lines() {
    rejected(
        &with(&[(
            "/linux/intelRdt",
            json!({"schemata": ["L3:0=ff", "MB:0=20\nL2:0=f"]}),
        )]),
        "/linux/intelRdt/schemata/1",
        "config_linux.intel_rdt.schemata.one_line",
    );
    clean(&with(&[(
        "/linux/intelRdt",
        json!({"schemata": ["L3:0=ff", "MB:0=20"]}),
    )]));
}

#[verifies("config_linux.memory_policy.mode.required")]
#[test]
fn memory_policy_names_a_mode() {
    rejected(
        &with(&[("/linux/memoryPolicy", json!({"nodes": "0-3"}))]),
        "/linux/memoryPolicy/mode",
        "config_linux.memory_policy.mode.required",
    );
    clean(&with(&[(
        "/linux/memoryPolicy",
        json!({"mode": "MPOL_INTERLEAVE", "nodes": "0-3"}),
    )]));
}

#[verifies("config_linux.seccomp.default_errno.unsupported")]
#[test]
fn default_errno_needs_an_errno_action() {
    rejected(
        &with(&[(
            "/linux/seccomp",
            json!({"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 1}),
        )]),
        "/linux/seccomp/defaultErrnoRet",
        "config_linux.seccomp.default_errno.unsupported",
    );
    for action in ["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"] {
        clean(&with(&[(
            "/linux/seccomp",
            json!({"defaultAction": action, "defaultErrnoRet": 38}),
        )]));
    }
}

#[verifies("config_linux.seccomp.syscalls.errno.unsupported")]
#[test]
fn syscall_errno_needs_an_errno_action() {
    rejected(
        &with(&[(
            "/linux/seccomp",
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                {"names": ["reboot"], "action": "SCMP_ACT_KILL_PROCESS", "errnoRet": 1}
            ]}),
        )]),
        "/linux/seccomp/syscalls/1/errnoRet",
        "config_linux.seccomp.syscalls.errno.unsupported",
    );
}

#[verifies("config_linux.seccomp.listener_metadata.needs_path")]
#[test]
fn listener_metadata_needs_a_listener() {
    rejected(
        &with(&[(
            "/linux/seccomp",
            json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"}),
        )]),
        "/linux/seccomp/listenerMetadata",
        "config_linux.seccomp.listener_metadata.needs_path",
    );
    clean(&with(&[(
        "/linux/seccomp",
        json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock", "listenerMetadata": "x"}),
    )]));
}

#[verifies(
    "config_linux.masked_paths.absolute",
    "config_linux.readonly_paths.absolute"
)]
#[test]
fn masked_and_readonly_paths_are_absolute() {
    rejected(
        &with(&[("/linux/maskedPaths", json!(["/proc/kcore", "proc/keys"]))]),
        "/linux/maskedPaths/1",
        "config_linux.masked_paths.absolute",
    );
    rejected(
        &with(&[("/linux/readonlyPaths", json!(["proc/sys", "/proc/bus"]))]),
        "/linux/readonlyPaths/0",
        "config_linux.readonly_paths.absolute",
    );
    clean(&with(&[
        ("/linux/maskedPaths", json!(["/proc/kcore"])),
        ("/linux/readonlyPaths", json!(["/proc/sys"])),
    ]));
}

#[verifies("config_linux.personality.domain.required")]
#[test]
fn personality_names_a_domain() {
    rejected(
        &with(&[("/linux/personality", json!({"flags": []}))]),
        "/linux/personality/domain",
        "config_linux.personality.domain.required",
    );
    clean(&with(&[(
        "/linux/personality",
        json!({"domain": "LINUX32"}),
    )]));
}

/// The configs real engines write keep every mandatory rule; the recommendations they
/// depart from are the known ones (podman's absolute root path).
#[test]
fn real_engine_configs_keep_the_rules() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(rules::check(&doc), [], "{name}");
        let advice = found(&rules::advisories(&doc));
        let expected = if name.starts_with("podman") {
            vec![("/root/path".to_owned(), "config.root.path.conventional")]
        } else {
            vec![]
        };
        assert_eq!(advice, expected, "{name}");
        seen += 1;
    }
    assert!(seen >= 5);
}
