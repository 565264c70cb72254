//! Root filesystem and mounts: tmpfs, bind, ro, readonly root, masked and readonly paths.
//! Symlinks in the rootfs that must not take a mount or device outside it are in
//! `security.rs` (CVE-2021-30465, CVE-2025-31133).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;

use serde_json::json;
use writ_conformance::{for_each_runtime, kv_lines, Kind};
use writ_macros::verifies;

/// Fields of the /proc/self/mounts line whose mount point is `dest`, if mounted.
fn mount_line<'a>(mounts: &'a str, dest: &str) -> Option<Vec<&'a str>> {
    mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .rfind(|f| f.get(1) == Some(&dest))
}

fn opts_of(fields: &[&str]) -> Vec<String> {
    fields
        .get(3)
        .map(|o| o.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

#[verifies(
    "config.mount_options.bind",
    "config.mount_options.rbind",
    "config.mount_options.ro",
    "config.mount_options.rw",
    "config.mount_options.nosuid",
    "config.mount_options.nodev",
    "config.mount_options.unknown_as_data",
    "config.mounts.order",
    "runtime.create.apply_config",
    "runtime.lifecycle.create_env"
)]
#[test]
fn tmpfs_bind_and_ro_mounts() {
    for_each_runtime("mounts", |ctx| {
        let b = ctx.bundle();
        let shared = b.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::write(shared.join("hello"), "from-host").unwrap();
        let ro = b.path().join("rodir");
        fs::create_dir(&ro).unwrap();
        fs::write(ro.join("file"), "ro-content").unwrap();
        let single = b.path().join("single-file");
        fs::write(&single, "just-a-file").unwrap();
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs",
                          "options": ["nosuid", "nodev", "size=1m", "mode=700"]}));
            m.push(json!({"destination": "/mnt/b", "type": "bind", "source": shared, "options": ["rbind", "rw"]}));
            m.push(json!({"destination": "/mnt/ro", "source": ro, "options": ["bind", "ro"]}));
            m.push(json!({"destination": "/etc/single", "source": single, "options": ["bind"]}));
            // Order: the second mount lies inside the first, so it only shows when done after it.
            m.push(json!({"destination": "/mnt/o", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}));
            m.push(json!({"destination": "/mnt/o/inner", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m"]}));
        });
        b.set_sh(
            "cat /proc/self/mounts; echo t-mode=$(stat -c %a /mnt/t); echo hello=$(cat /mnt/b/hello); \
             echo written > /mnt/b/out; echo ro=$(cat /mnt/ro/file); \
             if touch /mnt/ro/new 2>/dev/null; then echo ro-write=ok; else echo ro-write=denied; fi; \
             echo single=$(cat /etc/single); echo t-write=$(echo x > /mnt/t/f && cat /mnt/t/f)",
        );
        let out = ctx.run(&b);
        out.ok();
        let t =
            mount_line(&out.stdout, "/mnt/t").unwrap_or_else(|| panic!("tmpfs at /mnt/t: {out}"));
        assert_eq!(t[2], "tmpfs");
        let o = opts_of(&t);
        assert!(
            o.contains(&"nosuid".into()) && o.contains(&"nodev".into()),
            "tmpfs options {o:?}"
        );
        assert!(
            o.iter().any(|x| x == "size=1024k"),
            "tmpfs size option {o:?}"
        );
        let kv = kv_lines(&out.stdout);
        assert_eq!(kv.get("t-mode").map(String::as_str), Some("700"), "{out}");
        assert_eq!(kv.get("t-write").map(String::as_str), Some("x"), "{out}");
        assert_eq!(
            kv.get("hello").map(String::as_str),
            Some("from-host"),
            "bind mount: {out}"
        );
        assert_eq!(
            fs::read_to_string(shared.join("out")).unwrap_or_default(),
            "written\n",
            "rw bind writes to host"
        );
        assert_eq!(
            kv.get("ro").map(String::as_str),
            Some("ro-content"),
            "{out}"
        );
        assert_eq!(
            kv.get("ro-write").map(String::as_str),
            Some("denied"),
            "ro bind: {out}"
        );
        let r =
            mount_line(&out.stdout, "/mnt/ro").unwrap_or_else(|| panic!("bind at /mnt/ro: {out}"));
        assert!(opts_of(&r).contains(&"ro".into()), "ro option: {r:?}");
        assert!(!ro.join("new").exists());
        assert_eq!(
            kv.get("single").map(String::as_str),
            Some("just-a-file"),
            "file bind mount: {out}"
        );
    });
}

#[verifies("config.root.readonly")]
#[test]
fn readonly_root() {
    for_each_runtime("readonly-root", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["root"]["readonly"] = json!(true));
        b.set_sh(
            "if touch /newfile 2>/dev/null; then echo root-write=ok; else echo root-write=denied; fi; \
             echo shm=$(echo y > /dev/shm/f && cat /dev/shm/f); grep ' / ' /proc/self/mounts",
        );
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("root-write").map(String::as_str),
            Some("denied"),
            "{out}"
        );
        assert_eq!(
            kv.get("shm").map(String::as_str),
            Some("y"),
            "mounts on top stay writable: {out}"
        );
        let root = mount_line(&out.stdout, "/").unwrap_or_else(|| panic!("/ in mounts: {out}"));
        assert!(
            opts_of(&root).contains(&"ro".into()),
            "root mounted ro: {root:?}"
        );
        assert!(!b.rootfs().join("newfile").exists());
    });
}

#[verifies("runtime.create.apply_config")]
#[test]
fn masked_and_readonly_paths() {
    for_each_runtime("masked-readonly-paths", |ctx| {
        let b = ctx.bundle();
        let r = b.rootfs();
        fs::write(r.join("secret.txt"), "top-secret").unwrap();
        fs::create_dir(r.join("secretdir")).unwrap();
        fs::write(r.join("secretdir/inner"), "hidden").unwrap();
        fs::create_dir(r.join("data")).unwrap();
        fs::write(r.join("data/f"), "data-content").unwrap();
        b.edit(|c| {
            let masked = c["linux"]["maskedPaths"].as_array_mut().unwrap();
            masked.push(json!("/secret.txt"));
            masked.push(json!("/secretdir"));
            masked.push(json!("/does/not/exist"));
            let ro = c["linux"]["readonlyPaths"].as_array_mut().unwrap();
            ro.push(json!("/data"));
            ro.push(json!("/does/not/exist/either"));
        });
        b.set_sh(
            "echo secret=$(cat /secret.txt); echo secretdir=$(ls /secretdir | wc -l); \
             echo timer=$(wc -c < /proc/timer_list); \
             echo data=$(cat /data/f); \
             if touch /data/new 2>/dev/null; then echo data-write=ok; else echo data-write=denied; fi; \
             if echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null; then echo sys-write=ok; else echo sys-write=denied; fi",
        );
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("secret").map(String::as_str),
            Some(""),
            "masked file reads empty: {out}"
        );
        assert_eq!(
            kv.get("secretdir").map(String::as_str),
            Some("0"),
            "masked dir is empty: {out}"
        );
        assert_eq!(
            kv.get("timer").map(String::as_str),
            Some("0"),
            "masked /proc/timer_list: {out}"
        );
        assert_eq!(
            kv.get("data").map(String::as_str),
            Some("data-content"),
            "readonly path readable: {out}"
        );
        assert_eq!(
            kv.get("data-write").map(String::as_str),
            Some("denied"),
            "readonly path: {out}"
        );
        assert_eq!(
            kv.get("sys-write").map(String::as_str),
            Some("denied"),
            "readonly /proc/sys: {out}"
        );
        assert_eq!(
            fs::read_to_string(r.join("secret.txt")).unwrap(),
            "top-secret",
            "host file untouched"
        );
    });
}

#[verifies(
    "config_linux.default_filesystems.available",
    "config_linux.default_devices.supply",
    "runtime_linux.dev_symlinks"
)]
#[test]
fn default_filesystems_and_devices() {
    for_each_runtime("default-fs-devices", |ctx| {
        let b = ctx.bundle();
        b.set_sh(
            "cat /proc/self/mounts; for d in null zero full random urandom tty ptmx; do \
             echo dev-$d=$(stat -L -c %F /dev/$d); done; echo zero=$(head -c 4 /dev/zero | wc -c); \
             echo null=$(echo x > /dev/null && echo ok); \\
             for l in fd stdin stdout stderr; do echo link-$l=$(readlink /dev/$l); done",
        );
        let out = ctx.run(&b);
        out.ok();
        for (dest, fstype) in [
            ("/proc", "proc"),
            ("/sys", "sysfs"),
            ("/dev/pts", "devpts"),
            ("/dev/shm", "tmpfs"),
        ] {
            let l = mount_line(&out.stdout, dest)
                .unwrap_or_else(|| panic!("{dest} not mounted: {out}"));
            assert_eq!(l[2], fstype, "{dest}: {l:?}");
        }
        let kv = kv_lines(&out.stdout);
        for d in ["null", "zero", "full", "random", "urandom", "tty", "ptmx"] {
            assert_eq!(
                kv.get(&format!("dev-{d}")).map(String::as_str),
                Some("character special file"),
                "/dev/{d}: {out}"
            );
        }
        assert_eq!(kv.get("zero").map(String::as_str), Some("4"), "{out}");
        assert_eq!(kv.get("null").map(String::as_str), Some("ok"), "{out}");
        for (l, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            assert_eq!(
                kv.get(&format!("link-{l}")).map(String::as_str),
                Some(target),
                "/dev/{l}: {out}"
            );
        }
    });
}

#[verifies(
    "config_linux.devices.available",
    "config_linux.devices.path.anywhere",
    "config_linux.devices.how"
)]
#[test]
fn configured_devices() {
    for_each_runtime("devices", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["devices"] = json!([
                {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0},
                {"path": "/opt/devs/myzero", "type": "c", "major": 1, "minor": 5, "fileMode": 420, "uid": 0, "gid": 0}
            ]);
            c["linux"]["resources"]["devices"] = json!([
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"}
            ]);
        });
        b.set_sh(
            "echo mynull=$(stat -c '%F %t:%T' /dev/mynull); echo myzero=$(stat -c '%F %t:%T' /opt/devs/myzero); \
             echo w=$(echo x > /dev/mynull && echo ok); echo r=$(head -c 3 /opt/devs/myzero | wc -c)",
        );
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("mynull").map(String::as_str),
            Some("character special file 1:3"),
            "{out}"
        );
        assert_eq!(
            kv.get("myzero").map(String::as_str),
            Some("character special file 1:5"),
            "{out}"
        );
        assert_eq!(kv.get("w").map(String::as_str), Some("ok"), "{out}");
        assert_eq!(kv.get("r").map(String::as_str), Some("3"), "{out}");
    });
}

#[verifies("config_linux.devices.path.conflict")]
#[test]
fn device_path_taken_by_a_file_fails() {
    for_each_runtime("device-path-conflict", |ctx| {
        let b = ctx.bundle();
        fs::create_dir_all(b.rootfs().join("opt/devs")).unwrap();
        fs::write(b.rootfs().join("opt/devs/taken"), "a regular file").unwrap();
        b.edit(|c| {
            c["linux"]["devices"] = json!([
                {"path": "/opt/devs/taken", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0}
            ]);
        });
        b.set_args(&["true"]);
        let mut c = ctx.container(&b);
        let out = c.create();
        if ctx.kind() == Kind::Runc && out.success() {
            ctx.deviation("runc 1.1 replaces a file at a device path");
            return;
        }
        out.fails();
        c.state_out().fails();
        assert_eq!(
            fs::read_to_string(b.rootfs().join("opt/devs/taken")).unwrap(),
            "a regular file"
        );
    });
}

#[verifies(
    "config.mount_options.idmap",
    "config.mount_options.idmap.mapped",
    "config.mount_options.idmap.userns_fallback",
    "config.mount_options.idmap.mount_setattr",
    "config.mount_options.idmap.not_passed"
)]
#[test]
fn idmapped_bind_mount() {
    for_each_runtime("mount-idmap", |ctx| {
        let b = ctx.bundle();
        let dir = b.path().join("owned-by-root");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("file"), "x").unwrap();
        b.edit(|c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "user"}));
            c["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/mnt/idm", "source": dir, "options": ["bind", "idmap"]}));
            m.push(json!({"destination": "/mnt/plain", "source": dir, "options": ["bind"]}));
        });
        b.set_sh(
            "echo idm=$(stat -c %u:%g /mnt/idm/file); echo plain=$(stat -c %u:%g /mnt/plain/file)",
        );
        let out = ctx.run(&b);
        let kv = kv_lines(&out.stdout);
        if ctx.kind() == Kind::Runc
            && (!out.success() || kv.get("idm").map(String::as_str) != Some("0:0"))
        {
            ctx.deviation("runc 1.1 has no idmapped mounts");
            return;
        }
        out.ok();
        assert_eq!(
            kv.get("plain").map(String::as_str),
            Some("65534:65534"),
            "unmapped owner without idmap: {out}"
        );
        assert_eq!(
            kv.get("idm").map(String::as_str),
            Some("0:0"),
            "host root's file is root's through the idmapped mount: {out}"
        );
    });
}

#[verifies(
    "config.mounts.destination.relative_allowed",
    "config.mounts.destination.relative_to_root"
)]
#[test]
fn relative_mount_destination() {
    for_each_runtime("mount-relative-destination", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(
                json!({"destination": "mnt/rel", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}),
            );
        });
        b.set_sh("grep ' /mnt/rel ' /proc/self/mounts");
        let out = ctx.run(&b);
        if ctx.kind() == Kind::Runc && !out.success() {
            ctx.deviation("runc 1.1 refuses relative mount destinations");
            return;
        }
        out.ok();
        assert!(
            out.stdout.contains("tmpfs /mnt/rel tmpfs"),
            "relative destination taken from /: {out}"
        );
    });
}

/// A host directory owned by root with a file, and a tmpfs submount with a file (unmounted
/// by the bundle's guard).
fn tree_with_submount(b: &writ_conformance::Bundle, name: &str) -> std::path::PathBuf {
    let top = b.path().join(name);
    fs::create_dir_all(top.join("sub")).unwrap();
    fs::write(top.join("file"), "top").unwrap();
    nix::mount::mount(
        Some("tmpfs"),
        &top.join("sub"),
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        Some("size=1m"),
    )
    .unwrap();
    fs::write(top.join("sub/file"), "sub").unwrap();
    top
}

#[verifies(
    "config.mount_options.idmap.mount_mappings",
    "config.mount_options.idmap.no_mapping_error",
    "config.mount_options.ridmap",
    "config.mount_options.ridmap.mapped",
    "config.mount_options.ridmap.mount_mappings",
    "config.mount_options.ridmap.userns_fallback",
    "config.mount_options.ridmap.no_mapping_error",
    "config.mount_options.ridmap.no_userns_error",
    "config.mount_options.ridmap.mount_setattr",
    "config.mounts.uid_mappings.mount_setattr",
    "config.mounts.gid_mappings.mount_setattr"
)]
#[test]
fn idmap_and_ridmap_with_mount_mappings() {
    for_each_runtime("mount-ridmap", |ctx| {
        // Without a user namespace: the mounts' own mappings (host 0 shows as 1234:4321).
        let b = ctx.bundle();
        let tree = tree_with_submount(&b, "tree");
        let maps = |opts: &[&str], dest: &str| {
            json!({"destination": dest, "source": tree, "options": opts,
                   "uidMappings": [{"containerID": 0, "hostID": 1234, "size": 1}],
                   "gidMappings": [{"containerID": 0, "hostID": 4321, "size": 1}]})
        };
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(maps(&["rbind", "ridmap"], "/mnt/r"));
            m.push(maps(&["rbind", "idmap"], "/mnt/i"));
            m.push(json!({"destination": "/mnt/plain", "source": tree, "options": ["rbind"]}));
        });
        b.set_sh(
            "for d in r i plain; do echo $d=$(stat -c %u:%g /mnt/$d/file); \
             echo $d-sub=$(stat -c %u:%g /mnt/$d/sub/file); done",
        );
        let out = ctx.run(&b);
        let kv = kv_lines(&out.stdout);
        if ctx.kind() == Kind::Runc
            && (!out.success() || kv.get("r").map(String::as_str) != Some("1234:4321"))
        {
            ctx.deviation("runc 1.1 has no idmapped mounts");
            return;
        }
        out.ok();
        let got = |k: &str| kv.get(k).map(String::as_str);
        assert_eq!(got("plain"), Some("0:0"), "control: {out}");
        assert_eq!(got("plain-sub"), Some("0:0"), "control: {out}");
        assert_eq!(got("r"), Some("1234:4321"), "ridmap, own mappings: {out}");
        assert_eq!(
            got("r-sub"),
            Some("1234:4321"),
            "ridmap maps the submount too: {out}"
        );
        assert_eq!(got("i"), Some("1234:4321"), "idmap, own mappings: {out}");
        assert_eq!(
            got("i-sub"),
            Some("0:0"),
            "idmap leaves the submount alone: {out}"
        );

        // In a user namespace, ridmap without own mappings uses the container's.
        let b = ctx.bundle();
        let tree = tree_with_submount(&b, "tree");
        b.edit(|c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "user"}));
            c["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["mounts"].as_array_mut().unwrap().push(
                json!({"destination": "/mnt/r", "source": tree, "options": ["rbind", "ridmap"]}),
            );
        });
        b.set_sh(
            "echo r=$(stat -c %u:%g /mnt/r/file); echo r-sub=$(stat -c %u:%g /mnt/r/sub/file)",
        );
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(kv.get("r").map(String::as_str), Some("0:0"), "{out}");
        assert_eq!(kv.get("r-sub").map(String::as_str), Some("0:0"), "{out}");

        // Neither own mappings nor a user namespace: an error, for idmap and ridmap.
        for opt in ["idmap", "ridmap"] {
            let b = ctx.bundle();
            let tree = tree_with_submount(&b, "tree");
            b.set_args(&["true"]);
            b.edit(|c| {
                c["mounts"].as_array_mut().unwrap().push(
                    json!({"destination": "/mnt/r", "source": tree, "options": ["rbind", opt]}),
                );
            });
            let mut c = ctx.container(&b);
            c.create().fails();
            c.state_out().fails();
        }
    });
}
