//! The plan of whole configs, without root and without touching the host: the host's
//! facts are a value, and paths are never looked at.

use super::*;
use serde_json::json;

/// A bundle path that is never touched.
const B: &str = "/bundle";

/// A host without LSMs on which every path but ones ending in "missing" is a directory.
fn host() -> HostFacts {
    HostFacts {
        is_dir: |p| !p.ends_with("missing"),
        ..HostFacts::default()
    }
}

fn base() -> serde_json::Value {
    json!({
        "ociVersion": writ_spec::OCI_VERSION,
        "root": {"path": "rootfs"},
        "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
        "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}
    })
}

fn build_json(v: serde_json::Value) -> Result<ContainerPlan, PlanError> {
    from_config(&serde_json::to_vec(&v).unwrap(), Path::new(B), &host())
}

/// The error's JSON pointer and its text.
fn err_of(v: serde_json::Value) -> String {
    let e = build_json(v).unwrap_err();
    format!("{} {e}", e.pointer().unwrap_or("(none)"))
}

/// A change to a config, for table-driven tests.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn runc_recursive_rootfs_propagation_values_map_to_recursive_flags() {
    for (value, flag) in [
        ("rprivate", libc::MS_PRIVATE),
        ("rshared", libc::MS_SHARED),
        ("rslave", libc::MS_SLAVE),
        ("runbindable", libc::MS_UNBINDABLE),
    ] {
        let mut v = base();
        v["linux"]["rootfsPropagation"] = json!(value);
        let p = build_json(v).unwrap();
        assert_eq!(p.rootfs_propagation, Some(flag | libc::MS_REC), "{value}");
    }
}

#[test]
fn minimal_config_builds() {
    let p = build_json(base()).unwrap();
    assert_eq!(p.rootfs, Path::new(B).join("rootfs"));
    assert_eq!(p.process.args, vec!["sh"]);
    assert!(p
        .namespace(NamespaceKind::Pid)
        .is_some_and(|n| n.path.is_none()));
    assert!(p.namespace(NamespaceKind::Network).is_none());
    assert!(!p.terminal);
}

#[writ_macros::verifies("config_linux.devices.major_minor.required")]
#[test]
fn podman_device_file_mode_with_type_bits_is_accepted() {
    let mut v = base();
    v["linux"]["devices"] =
        json!([{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 8630}]);
    let p = build_json(v).unwrap();
    assert_eq!(p.devices[0].mode, 0o666);
    assert_eq!(p.devices[0].kind, libc::S_IFCHR);
    let mut v = base();
    v["linux"]["devices"] = json!([{"type": "c", "path": "/dev/x"}]);
    assert!(err_of(v).contains("/linux/devices/0/major"));
}

#[writ_macros::verifies(
    "config.process.cwd.absolute",
    "config.process.args.non_empty",
    "config.process.rlimits.duplicate",
    "config.process.rlimits.type.unknown",
    "config_linux.namespaces.duplicate_type",
    "config_linux.masked_paths.absolute",
    "config_linux.readonly_paths.absolute",
    "config.hooks.prestart.path.absolute",
    "config.mount_options.idmap.no_userns_error",
    "config.process.io_priority.priority.required"
)]
#[test]
fn bad_input_is_rejected_with_its_pointer() {
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| v["process"]["args"] = json!([])),
            "/process/args",
        ),
        (
            Box::new(|v| v["process"]["cwd"] = json!("rel")),
            "/process/cwd",
        ),
        (
            Box::new(|v| v["root"]["path"] = json!("missing")),
            "/root/path",
        ),
        (Box::new(|v| v["hostname"] = json!("h")), "/hostname"),
        (
            Box::new(|v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "mount"}])),
            "/linux/namespaces/1/type",
        ),
        (
            Box::new(|v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "user"}])),
            "/linux/uidMappings",
        ),
        (
            Box::new(|v| {
                v["process"]["rlimits"] = json!([
                    {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2},
                    {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2}
                ])
            }),
            "/process/rlimits/1/type",
        ),
        (
            Box::new(|v| {
                v["process"]["rlimits"] = json!([{"type": "RLIMIT_NOPE", "soft": 1, "hard": 2}])
            }),
            "/process/rlimits/0/type",
        ),
        (
            Box::new(|v| {
                v["process"]["rlimits"] = json!([{"type": "RLIMIT_CORE", "soft": 3, "hard": 2}])
            }),
            "/process/rlimits/0",
        ),
        (
            Box::new(|v| v["linux"]["maskedPaths"] = json!(["proc/kcore"])),
            "/linux/maskedPaths/0",
        ),
        (
            Box::new(|v| v["linux"]["readonlyPaths"] = json!(["x"])),
            "/linux/readonlyPaths/0",
        ),
        (
            Box::new(|v| v["linux"]["sysctl"] = json!({"../x": "1"})),
            "/linux/sysctl/../x",
        ),
        (
            Box::new(|v| {
                v["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 9})
            }),
            "/process/ioPriority/priority",
        ),
        (
            Box::new(|v| v["process"]["execCPUAffinity"] = json!({"initial": "3-1"})),
            "/process/execCPUAffinity/initial",
        ),
        (
            Box::new(|v| v["hooks"] = json!({"prestart": [{"path": "rel"}]})),
            "/hooks/prestart/0/path",
        ),
        (
            Box::new(|v| v["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 1}})),
            "/linux/timeOffsets",
        ),
        (
            Box::new(|v| {
                v["mounts"] =
                    json!([{"destination": "/x", "source": "/y", "options": ["bind", "idmap"]}])
            }),
            "/mounts/0",
        ),
    ];
    for (edit, ptr) in cases {
        let mut v = base();
        edit(&mut v);
        let e = err_of(v.clone());
        assert!(
            e.starts_with(ptr),
            "expected an error at {ptr}, got {e:?} for {v}"
        );
    }
}

#[writ_macros::verifies(
    "config.process.capabilities.unknown_warn",
    "config.process.capabilities.ungrantable_ok"
)]
#[test]
fn unknown_capabilities_are_warnings() {
    let mut v = base();
    v["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN", "CAP_NOT_A_CAP"],
        "effective": ["CAP_CHOWN"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"]
    });
    // The name Linux does not define is a warning of the rule set create logs...
    let findings = writ_spec::validate_config_value(&v);
    let w: Vec<_> = findings
        .iter()
        .filter(|f| f.requirement == "config.process.capabilities.unknown_warn")
        .collect();
    assert_eq!(w.len(), 1, "{findings:?}");
    assert_eq!(w[0].pointer, "/process/capabilities/bounding/1");
    assert_eq!(w[0].severity, writ_spec::Severity::Warning);
    assert!(w[0].message.contains("CAP_NOT_A_CAP"));
    assert!(findings.iter().all(|f| !f.is_error()), "{findings:?}");
    // ... and the container is still planned, without it, the warning among the
    // findings create logs as warnings.
    let p = build_json(v).unwrap();
    let caps = p.process.capabilities.unwrap();
    assert_eq!(caps.bounding, 1);
    assert_eq!(caps.permitted, 1 | (1 << 5));
    assert_eq!(caps.inheritable, 0);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let logged: Vec<_> = p.findings.iter().filter(|f| f.logged_as_warning).collect();
    assert_eq!(logged.len(), 1, "{:?}", p.findings);
    assert!(logged[0].line.contains("CAP_NOT_A_CAP"), "{:?}", logged[0]);
}

#[writ_macros::verifies("config_linux.namespaces.inherit", "config_linux.namespaces.path.join")]
#[test]
fn mount_and_uts_namespaces_may_be_inherited_or_joined() {
    // No mount namespace (inherited), or one joined by path; a hostname in a joined uts
    // namespace.
    for ns in [
        json!([{"type": "pid"}]),
        json!([{"type": "mount", "path": "/proc/1/ns/mnt"}]),
    ] {
        let mut v = base();
        v["linux"]["namespaces"] = ns;
        build_json(v).unwrap();
    }
    let mut v = base();
    v["hostname"] = json!("box");
    v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts", "path": "/run/uts"}]);
    assert_eq!(build_json(v).unwrap().hostname.as_deref(), Some("box"));
}

#[test]
fn namespaces_hooks_and_resources_are_planned() {
    let mut v = base();
    v["hostname"] = json!("box");
    v["linux"]["namespaces"] = json!([
        {"type": "mount"}, {"type": "uts"}, {"type": "network", "path": "/run/netns/x"},
        {"type": "user"}, {"type": "time"}
    ]);
    v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 10}]);
    v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 10}]);
    v["linux"]["timeOffsets"] = json!({"boottime": {"secs": 5, "nanosecs": 7}});
    v["linux"]["rootfsPropagation"] = json!("slave");
    v["linux"]["cgroupsPath"] = json!("/a/b");
    v["linux"]["resources"] =
        json!({"memory": {"limit": 1000}, "pids": {"limit": 0}, "cpu": {"shares": 2}});
    v["hooks"] = json!({"createRuntime": [{"path": "/bin/true", "args": ["true"], "timeout": 3}]});
    v["annotations"] = json!({"k": "v"});
    v["process"]["terminal"] = json!(true);
    let p = build_json(v).unwrap();
    assert_eq!(p.hostname.as_deref(), Some("box"));
    assert_eq!(
        p.namespace(NamespaceKind::Network).unwrap().path.as_deref(),
        Some(std::path::Path::new("/run/netns/x"))
    );
    assert_eq!(p.uid_mappings[0].host_id, 1000);
    assert_eq!(p.time_offsets[0].clock, "boottime");
    assert_eq!(p.time_offsets[0].nanosecs, 7);
    assert_eq!(p.rootfs_propagation, Some(libc::MS_SLAVE | libc::MS_REC));
    assert_eq!(p.cgroups_path.as_deref(), Some("/a/b"));
    assert_eq!(p.resources.memory.limit, Some(1000));
    assert_eq!(p.resources.pids_limit, Some(0));
    assert_eq!(p.hooks.create_runtime[0].timeout, Some(3));
    assert_eq!(p.annotations.get("k").map(String::as_str), Some("v"));
    assert!(p.terminal);
}

#[writ_macros::verifies(
    "config_linux.seccomp.default_errno.unsupported",
    "config_linux.seccomp.syscalls.errno.unsupported",
    "config_linux.seccomp.syscalls.names.non_empty"
)]
#[test]
fn bad_seccomp_profiles_are_rejected() {
    let bad = [
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}),
            "/linux/seccomp/defaultErrnoRet",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}),
            "/linux/seccomp/syscalls/0/names",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}),
            "/linux/seccomp/syscalls/0/errnoRet",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/l.sock"}),
            "/linux/seccomp/listenerPath",
        ),
    ];
    for (profile, ptr) in bad {
        let mut v = base();
        v["linux"]["seccomp"] = profile.clone();
        let e = err_of(v);
        assert!(e.starts_with(ptr), "{profile}: {e}");
    }
    let mut v = base();
    v["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38});
    assert!(build_json(v).unwrap().seccomp.is_some());
}

#[test]
fn lsm_labels_and_unknown_capabilities_follow_the_host_facts() {
    let mut v = base();
    v["process"]["apparmorProfile"] = json!("p");
    let data = serde_json::to_vec(&v).unwrap();
    let e = from_config(&data, Path::new(B), &host()).unwrap_err();
    assert!(
        e.to_string().starts_with("/process/apparmorProfile: "),
        "{e}"
    );
    let aa = HostFacts {
        apparmor: true,
        ..host()
    };
    assert!(from_config(&data, Path::new(B), &aa).is_ok());
    // CAP_BPF (39) on a kernel that stops at 38 is only a warning.
    let mut v = base();
    v["process"]["capabilities"] = json!({"bounding": ["CAP_BPF", "CAP_CHOWN"]});
    let old = HostFacts {
        cap_last_cap: 38,
        ..host()
    };
    let p = from_config(&serde_json::to_vec(&v).unwrap(), Path::new(B), &old).unwrap();
    assert_eq!(p.process.capabilities.map(|c| c.bounding), Some(1));
    assert_eq!(p.warnings.len(), 1);
}

#[test]
fn mounts_are_planned_in_order_with_bind_sources_at_the_bundle() {
    let mut v = base();
    v["mounts"] = json!([
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/data", "type": "bind", "source": "data", "options": ["ro"]},
        {"destination": "/cg", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid"]}
    ]);
    let p = build_json(v).unwrap();
    let dests: Vec<&str> = p.mounts.iter().map(|m| m.destination.as_str()).collect();
    assert_eq!(dests, ["/proc", "/data", "/cg"]);
    assert!(!p.mounts[0].bind);
    assert_eq!(p.mounts[0].source.as_deref(), Some("proc"));
    assert!(p.mounts[1].bind && !p.mounts[1].recursive_bind);
    assert_eq!(p.mounts[1].source.as_deref(), Some("/bundle/data"));
    assert_eq!(p.mounts[1].bind_attr.set, libc::MOUNT_ATTR_RDONLY);
    assert!(p.mounts[2].is_cgroup());
    assert_eq!(p.mounts[2].flags, libc::MS_RDONLY | libc::MS_NOSUID);
}

#[writ_macros::verifies("config.mount_options.idmap.userns_fallback")]
#[test]
fn an_idmapped_mount_uses_the_user_namespace_mappings_when_it_has_none() {
    let idmapped = json!([{"destination": "/x", "source": "/y", "options": ["rbind", "ridmap"]}]);
    let mut v = base();
    v["mounts"] = idmapped.clone();
    assert!(err_of(v).starts_with("/mounts/0 /mounts/0: an idmapped mount needs"));
    let mut v = base();
    v["mounts"] = idmapped;
    v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "user"}]);
    v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
    v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
    let p = build_json(v).unwrap();
    let idm = p.mounts[0].idmap.as_ref().unwrap();
    assert!(idm.recursive && idm.uid.is_empty() && idm.gid.is_empty());
}

#[test]
fn device_nodes_are_planned_with_their_kind_and_numbers() {
    let mut v = base();
    v["linux"]["devices"] = json!([
        {"type": "u", "path": "/dev/u", "major": 4, "minor": 64, "uid": 5, "gid": 6},
        {"type": "b", "path": "/dev/b", "major": 8, "minor": 0, "fileMode": 0o600},
        {"type": "p", "path": "/dev/p"}
    ]);
    let p = build_json(v).unwrap();
    let kinds: Vec<u32> = p.devices.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, [libc::S_IFCHR, libc::S_IFBLK, libc::S_IFIFO]);
    assert_eq!((p.devices[0].major, p.devices[0].minor), (4, 64));
    assert_eq!((p.devices[0].uid, p.devices[0].gid), (5, 6));
    assert_eq!(p.devices[0].mode, 0o666);
    assert_eq!(p.devices[1].mode, 0o600);
    assert_eq!((p.devices[2].major, p.devices[2].minor), (0, 0));
    for (dev, ptr) in [
        (
            json!({"type": "c", "path": "/dev/x", "major": -1, "minor": 0}),
            "/linux/devices/0/major",
        ),
        (
            json!({"type": "c", "path": "dev/x", "major": 1, "minor": 0}),
            "/linux/devices/0/path",
        ),
    ] {
        let mut v = base();
        v["linux"]["devices"] = json!([dev]);
        let e = err_of(v);
        assert!(e.starts_with(ptr), "{e}");
    }
}
