//! Root filesystem and mounts: tmpfs, bind, ro, readonly root, masked and readonly paths,
//! and symlinks inside the rootfs that must not take a mount or device outside it.

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use serde_json::json;
use writ_conformance::{for_each_runtime, host_mount_points, kv_lines, work_dir, Kind};
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

/// A directory outside every bundle, standing for a host path a malicious image points at.
fn host_target(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("host-{tag}-"))
        .tempdir_in(work_dir())
        .unwrap()
}

#[test]
fn symlink_mount_destination_stays_in_rootfs() {
    for_each_runtime("symlink-mount-escape", |ctx| {
        let host = host_target("mnt");
        let outside = host.path().join("victim"); // does not exist on the host
        let b = ctx.bundle();
        // rootfs/escape -> <absolute host path>; the mount destination goes through it.
        std::os::unix::fs::symlink(&outside, b.rootfs().join("escape")).unwrap();
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/escape/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]
            }));
        });
        b.set_sh(
            "echo marker > /escape/sub/marker && echo wrote=yes; grep tmpfs /proc/self/mounts",
        );
        let out = ctx.run(&b);
        // The destination is resolved inside the rootfs (as if the rootfs were /); never on the host path.
        assert!(
            !outside.exists(),
            "the runtime created {} on the host: {out}",
            outside.display()
        );
        let after = host_mount_points();
        assert!(
            after.iter().filter(|p| p.starts_with(host.path())).count() == 0,
            "host mount leaked"
        );
        out.ok();
        assert!(out.stdout.contains("wrote=yes"), "{out}");
        let inside = b.rootfs().join(outside.strip_prefix("/").unwrap());
        assert!(
            inside.join("sub").is_dir(),
            "destination resolved inside the rootfs: {out}"
        );
    });
}

#[test]
fn symlink_bind_mount_file_stays_in_rootfs() {
    for_each_runtime("symlink-bind-escape", |ctx| {
        let host = host_target("bind");
        let victim = host.path().join("victim-file");
        fs::write(&victim, "precious").unwrap();
        let b = ctx.bundle();
        let src = b.path().join("payload");
        fs::write(&src, "payload").unwrap();
        // rootfs/etc/conf -> <host file>; a bind of a file onto /etc/conf must not reach it.
        std::os::unix::fs::symlink(&victim, b.rootfs().join("etc/conf")).unwrap();
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/etc/conf", "source": src, "options": ["bind", "rw"]
            }));
        });
        b.set_sh("echo overwritten > /etc/conf; cat /etc/conf");
        let out = ctx.run(&b);
        out.ok();
        assert!(
            out.stdout.contains("overwritten"),
            "the bind mount is in place: {out}"
        );
        assert_eq!(
            fs::read_to_string(&src).unwrap(),
            "overwritten\n",
            "the bind source was written: {out}"
        );
        assert_eq!(
            fs::read_to_string(&victim).unwrap(),
            "precious",
            "host file changed through a symlink: {out}"
        );
        assert_eq!(
            fs::read_dir(host.path()).unwrap().count(),
            1,
            "nothing created next to the host file"
        );
    });
}

#[test]
fn symlink_masked_path_stays_in_rootfs() {
    for_each_runtime("symlink-masked-escape", |ctx| {
        let host = host_target("mask");
        let victim = host.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let b = ctx.bundle();
        std::os::unix::fs::symlink(&victim, b.rootfs().join("masked-link")).unwrap();
        std::os::unix::fs::symlink(host.path(), b.rootfs().join("ro-link")).unwrap();
        b.edit(|c| {
            c["linux"]["maskedPaths"]
                .as_array_mut()
                .unwrap()
                .push(json!("/masked-link"));
            c["linux"]["readonlyPaths"]
                .as_array_mut()
                .unwrap()
                .push(json!("/ro-link"));
        });
        b.set_sh("echo ran");
        let mode_before = fs::metadata(host.path()).unwrap().permissions().mode();
        let before = host_mount_points();
        let out = ctx.run(&b);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious", "{out}");
        let after = host_mount_points();
        let leaked: Vec<_> = after
            .iter()
            .filter(|p| p.starts_with(host.path()) && !before.contains(p))
            .collect();
        assert!(leaked.is_empty(), "mounts on host paths: {leaked:?}");
        let mode_after = fs::metadata(host.path()).unwrap().permissions().mode();
        assert_eq!(mode_before, mode_after, "host dir mode untouched");
        assert_eq!(
            fs::read_dir(host.path()).unwrap().count(),
            1,
            "nothing created in the host dir"
        );
        out.ok();
        assert!(out.stdout.contains("ran"), "{out}");
    });
}

#[test]
fn symlink_device_path_stays_in_rootfs() {
    for_each_runtime("symlink-device-escape", |ctx| {
        let host = host_target("dev");
        let b = ctx.bundle();
        // No /dev tmpfs: rootfs/dev is a symlink to a host directory; a configured device
        // must not be created there.
        fs::remove_dir(b.rootfs().join("dev")).unwrap();
        std::os::unix::fs::symlink(host.path(), b.rootfs().join("dev")).unwrap();
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.retain(|m| !m["destination"].as_str().unwrap_or("").starts_with("/dev"));
            c["linux"]["devices"] = json!([{
                "path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0
            }]);
            c["linux"]["resources"]["devices"] =
                json!([{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]);
        });
        b.set_sh("ls -l /dev/mynull; echo data > /dev/mynull && echo devwrite=ok");
        let out = ctx.run(&b);
        let entries: Vec<String> = fs::read_dir(host.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !entries.iter().any(|e| e == "mynull"),
            "the configured device was created on the host through a rootfs symlink: {entries:?} {out}"
        );
        if ctx.kind() == Kind::Runc && !entries.is_empty() {
            // runc 1.1 makes the /dev/fd, stdin, stdout, stderr and ptmx links with a plain
            // join of rootfs and path, following a /dev symlink out of the rootfs.
            ctx.deviation(&format!(
                "runc 1.1 creates /dev links through a rootfs symlink on the host: {entries:?}"
            ));
        } else {
            assert!(
                entries.is_empty(),
                "files created on the host through a rootfs symlink: {entries:?} {out}"
            );
        }
        out.ok();
        assert!(
            out.stdout.contains("devwrite=ok"),
            "the device works inside: {out}"
        );
        let inside = b
            .rootfs()
            .join(host.path().strip_prefix("/").unwrap())
            .join("mynull");
        let ft = fs::symlink_metadata(&inside).map(|m| m.file_type());
        assert!(
            ft.as_ref().is_ok_and(|t| t.is_char_device() || t.is_file()),
            "device resolved inside the rootfs ({}): {ft:?} {out}",
            inside.display()
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
