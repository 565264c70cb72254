//! The starter config that `writ spec` writes: the same content as `runc spec`
//! (and `runc spec --rootless`), with this crate's `ociVersion`.

use crate::{
    IdMapping, Linux, LinuxCapabilities, LinuxDeviceCgroup, LinuxNamespace, LinuxNamespaceType,
    LinuxResources, Mount, Process, Rlimit, Root, Spec, User,
};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn mount(destination: &str, kind: &str, source: &str, options: &[&str]) -> Mount {
    Mount {
        destination: destination.to_owned(),
        type_: Some(kind.to_owned()),
        source: Some(source.to_owned()),
        options: if options.is_empty() {
            None
        } else {
            Some(strings(options))
        },
        ..Mount::default()
    }
}

fn namespace(kind: LinuxNamespaceType) -> LinuxNamespace {
    LinuxNamespace {
        type_: kind,
        path: None,
        extra: Default::default(),
    }
}

/// The starter config. `rootless` gives the variant for an unprivileged user whose ids are
/// `uid`/`gid` on the host (a user namespace mapping them to root, no network namespace,
/// `/sys` bind-mounted, no cgroup device rules).
pub fn starter_config(rootless: bool, uid: u32, gid: u32) -> Spec {
    let caps = strings(&["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let process = Process {
        terminal: Some(true),
        user: Some(User {
            uid: Some(0),
            gid: Some(0),
            ..User::default()
        }),
        args: Some(strings(&["sh"])),
        env: Some(strings(&[
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
        ])),
        cwd: "/".to_owned(),
        capabilities: Some(LinuxCapabilities {
            bounding: Some(caps.clone()),
            effective: Some(caps.clone()),
            permitted: Some(caps.clone()),
            ambient: Some(caps),
            ..LinuxCapabilities::default()
        }),
        rlimits: Some(vec![Rlimit {
            type_: "RLIMIT_NOFILE".to_owned(),
            hard: 1024,
            soft: 1024,
            extra: Default::default(),
        }]),
        no_new_privileges: Some(true),
        ..Process::default()
    };
    let devpts: &[&str] = if rootless {
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
        ]
    } else {
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ]
    };
    let sys = if rootless {
        mount(
            "/sys",
            "none",
            "/sys",
            &["rbind", "nosuid", "noexec", "nodev", "ro"],
        )
    } else {
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        )
    };
    let mounts = vec![
        mount("/proc", "proc", "proc", &[]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount("/dev/pts", "devpts", "devpts", devpts),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        sys,
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", "ro"],
        ),
    ];
    let mut namespaces = vec![namespace(LinuxNamespaceType::Pid)];
    if !rootless {
        namespaces.push(namespace(LinuxNamespaceType::Network));
    }
    namespaces.extend([
        namespace(LinuxNamespaceType::Ipc),
        namespace(LinuxNamespaceType::Uts),
        namespace(LinuxNamespaceType::Mount),
    ]);
    if rootless {
        namespaces.push(namespace(LinuxNamespaceType::User));
    }
    let map = |host: u32| {
        Some(vec![IdMapping {
            container_id: 0,
            host_id: host,
            size: 1,
            extra: Default::default(),
        }])
    };
    let linux = Linux {
        resources: if rootless {
            None
        } else {
            Some(LinuxResources {
                devices: Some(vec![LinuxDeviceCgroup {
                    allow: false,
                    access: Some("rwm".to_owned()),
                    ..LinuxDeviceCgroup::default()
                }]),
                ..LinuxResources::default()
            })
        },
        uid_mappings: if rootless { map(uid) } else { None },
        gid_mappings: if rootless { map(gid) } else { None },
        namespaces: Some(namespaces),
        masked_paths: Some(strings(&[
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/sys/firmware",
            "/proc/scsi",
        ])),
        readonly_paths: Some(strings(&[
            "/proc/bus",
            "/proc/fs",
            "/proc/irq",
            "/proc/sys",
            "/proc/sysrq-trigger",
        ])),
        ..Linux::default()
    };
    Spec {
        process: Some(process),
        root: Some(Root {
            path: "rootfs".to_owned(),
            readonly: Some(true),
            extra: Default::default(),
        }),
        hostname: Some("writ".to_owned()),
        mounts: Some(mounts),
        linux: Some(linux),
        ..Spec::with_version()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_configs_are_valid() {
        for rootless in [false, true] {
            let spec = starter_config(rootless, 1000, 1000);
            assert_eq!(spec.validate(), vec![], "rootless={rootless}");
        }
    }
}
