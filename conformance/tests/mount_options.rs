//! Linux mount options of the config.md table, checked by behaviour or by the mount's
//! flags in /proc/self/mountinfo inside the container.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;

use serde_json::json;
use writ_conformance::{for_each_runtime, kv_lines, Kind};
use writ_macros::verifies;

/// Per-mount-point options (per-mount field 6 plus super options) and optional fields.
fn mountinfo_entry(text: &str, point: &str) -> Option<(Vec<String>, Vec<String>)> {
    text.lines().rev().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        let f: Vec<&str> = pre.split(' ').collect();
        if f.get(4) != Some(&point) {
            return None;
        }
        let mut opts: Vec<String> = f
            .get(5)
            .unwrap_or(&"")
            .split(',')
            .map(str::to_owned)
            .collect();
        opts.extend(
            post.split(' ')
                .nth(2)
                .unwrap_or("")
                .split(',')
                .map(str::to_owned),
        );
        let optional = f[6..].iter().map(|s| s.to_string()).collect();
        Some((opts, optional))
    })
}

#[verifies(
    "config.mount_options.noexec",
    "config.mount_options.exec",
    "config.mount_options.noatime",
    "config.mount_options.strictatime",
    "config.mount_options.nosymfollow",
    "config.mount_options.nosuid",
    "config.mount_options.nodev",
    "config.mount_options.ro",
    "config.mount_options.must"
)]
#[test]
fn per_mount_flags() {
    for_each_runtime("mount-options-flags", |ctx| {
        let b = ctx.bundle();
        let dir = b.path().join("linkdir");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("target"), "followed").unwrap();
        std::os::unix::fs::symlink("target", dir.join("link")).unwrap();
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/mnt/nx", "type": "tmpfs", "source": "tmpfs", "options": ["noexec", "size=8m"]}));
            m.push(json!({"destination": "/mnt/ex", "type": "tmpfs", "source": "tmpfs", "options": ["exec", "size=8m"]}));
            m.push(json!({"destination": "/mnt/na", "type": "tmpfs", "source": "tmpfs", "options": ["noatime", "nosuid", "nodev"]}));
            m.push(json!({"destination": "/mnt/sa", "type": "tmpfs", "source": "tmpfs", "options": ["strictatime", "ro"]}));
            m.push(json!({"destination": "/mnt/ns", "source": dir, "options": ["bind", "nosymfollow"]}));
        });
        b.set_sh(
            "cp /bin/busybox /mnt/nx/true; cp /bin/busybox /mnt/ex/true; \
             if /mnt/nx/true 2>/dev/null; then echo nx=ran; else echo nx=denied; fi; \
             if /mnt/ex/true; then echo ex=ran; else echo ex=denied; fi; \
             echo nofollow=$(cat /mnt/ns/link 2>/dev/null || echo refused); \
             echo direct=$(cat /mnt/ns/target); cat /proc/self/mountinfo",
        );
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("nx").map(String::as_str),
            Some("denied"),
            "noexec: {out}"
        );
        assert_eq!(kv.get("ex").map(String::as_str), Some("ran"), "exec: {out}");
        assert_eq!(
            kv.get("nofollow").map(String::as_str),
            Some("refused"),
            "nosymfollow: {out}"
        );
        assert_eq!(
            kv.get("direct").map(String::as_str),
            Some("followed"),
            "{out}"
        );
        let has = |point: &str, opt: &str| {
            let (opts, _) =
                mountinfo_entry(&out.stdout, point).unwrap_or_else(|| panic!("{point} in {out}"));
            assert!(opts.iter().any(|o| o == opt), "{point} has {opt}: {opts:?}");
        };
        has("/mnt/nx", "noexec");
        has("/mnt/na", "noatime");
        has("/mnt/na", "nosuid");
        has("/mnt/na", "nodev");
        has("/mnt/sa", "ro");
        has("/mnt/ns", "nosymfollow");
        let (sa, _) = mountinfo_entry(&out.stdout, "/mnt/sa").unwrap();
        assert!(
            !sa.iter().any(|o| o == "relatime" || o == "noatime"),
            "strictatime: {sa:?}"
        );
    });
}

/// A host directory with a tmpfs mounted below it (unmounted by the bundle's guard).
fn dir_with_submount(b: &writ_conformance::Bundle) -> std::path::PathBuf {
    use nix::mount::{mount, MsFlags};
    let top = b.path().join("tree");
    fs::create_dir_all(top.join("sub")).unwrap();
    fs::write(top.join("top-file"), "top").unwrap();
    mount(
        Some("tmpfs"),
        &top.join("sub"),
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=1m"),
    )
    .unwrap();
    fs::write(top.join("sub/sub-file"), "sub").unwrap();
    top
}

#[verifies(
    "config.mount_options.rbind",
    "config.mount_options.rro",
    "config.mount_options.bind"
)]
#[test]
fn recursive_bind_and_rro() {
    for_each_runtime("mount-options-rro", |ctx| {
        let b = ctx.bundle();
        let tree = dir_with_submount(&b);
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/mnt/r", "source": tree, "options": ["rbind", "rro"]}));
            m.push(json!({"destination": "/mnt/b", "source": tree, "options": ["bind"]}));
        });
        b.set_sh(
            "echo sub=$(cat /mnt/r/sub/sub-file); echo plain-sub=$(ls /mnt/b/sub | wc -l); \
             if touch /mnt/r/x 2>/dev/null; then echo top-w=ok; else echo top-w=denied; fi; \
             if touch /mnt/r/sub/x 2>/dev/null; then echo sub-w=ok; else echo sub-w=denied; fi",
        );
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("sub").map(String::as_str),
            Some("sub"),
            "rbind brings the submount: {out}"
        );
        assert_eq!(
            kv.get("plain-sub").map(String::as_str),
            Some("0"),
            "bind alone does not: {out}"
        );
        assert_eq!(
            kv.get("top-w").map(String::as_str),
            Some("denied"),
            "rro top: {out}"
        );
        assert_eq!(
            kv.get("sub-w").map(String::as_str),
            Some("denied"),
            "rro applies to submounts: {out}"
        );
    });
}

#[verifies("config.mount_options.tmpcopyup")]
#[test]
fn tmpcopyup_seeds_the_tmpfs() {
    for_each_runtime("mount-options-tmpcopyup", |ctx| {
        let b = ctx.bundle();
        fs::create_dir_all(b.rootfs().join("seed/dir")).unwrap();
        fs::write(b.rootfs().join("seed/dir/file"), "seeded").unwrap();
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(
                json!({"destination": "/seed", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "size=4m"]}),
            );
        });
        b.set_sh("echo file=$(cat /seed/dir/file); echo new > /seed/new; grep ' /seed ' /proc/self/mounts");
        let out = ctx.run(&b);
        out.ok();
        assert_eq!(
            kv_lines(&out.stdout).get("file").map(String::as_str),
            Some("seeded"),
            "{out}"
        );
        assert!(
            out.stdout.contains("tmpfs /seed tmpfs"),
            "a tmpfs at /seed: {out}"
        );
        assert!(
            !b.rootfs().join("seed/new").exists(),
            "writes go to the tmpfs, not the image"
        );
    });
}

/// tmpcopyup copies what is inside the directory; the tmpfs root keeps the mode of its
/// options (default 1777) and root's ownership, so that an unprivileged user can write
/// there (`podman run --tmpfs /scratch -u 65534`): where the image has no such
/// directory (the runtime makes the mount point, 0755), and where it has one.
#[verifies("config.mount_options.tmpcopyup")]
#[test]
fn tmpcopyup_keeps_the_tmpfs_root_mode() {
    for_each_runtime("mount-options-tmpcopyup-root", |ctx| {
        use std::os::unix::fs::PermissionsExt;
        let b = ctx.bundle();
        let seeded = b.rootfs().join("seeded");
        fs::create_dir_all(seeded.join("sub")).unwrap();
        fs::write(seeded.join("sub/file"), "seeded").unwrap();
        fs::set_permissions(&seeded, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(seeded.join("sub"), fs::Permissions::from_mode(0o751)).unwrap();
        std::os::unix::fs::chown(seeded.join("sub"), Some(1000), Some(1000)).unwrap();
        b.edit(|c| {
            c["process"]["user"] = json!({"uid": 65534, "gid": 65534});
            let m = c["mounts"].as_array_mut().unwrap();
            for dest in ["/scratch", "/seeded"] {
                m.push(json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "size=4m"]}));
            }
        });
        b.set_sh(
            "for d in scratch seeded; do echo $d=$(stat -c %a:%u:%g /$d); \
             if touch /$d/new 2>/dev/null; then echo $d-write=ok; else echo $d-write=denied; fi; done; \
             echo sub=$(stat -c %a:%u:%g /seeded/sub); echo file=$(cat /seeded/sub/file)",
        );
        let out = ctx.run(&b);
        out.ok();
        let kv = kv_lines(&out.stdout);
        let get = |k: &str| kv.get(k).map(String::as_str);
        assert_eq!(
            get("scratch"),
            Some("1777:0:0"),
            "no directory in the image: {out}"
        );
        assert_eq!(get("scratch-write"), Some("ok"), "{out}");
        assert_eq!(
            get("sub"),
            Some("751:1000:1000"),
            "children copied as they are: {out}"
        );
        assert_eq!(get("file"), Some("seeded"), "{out}");
        if ctx.kind() == Kind::Runc && get("seeded") == Some("755:0:0") {
            ctx.deviation("runc 1.1 gives a tmpfs the mode of the directory it covers (even over a mode= option)");
            return;
        }
        assert_eq!(
            get("seeded"),
            Some("1777:0:0"),
            "the image's directory is 0755: {out}"
        );
        assert_eq!(get("seeded-write"), Some("ok"), "{out}");
    });
}

#[verifies("config.mount_options.shared", "config.mount_options.private")]
#[test]
fn propagation_flags() {
    for_each_runtime("mount-options-propagation", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/mnt/sh", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]}));
            m.push(json!({"destination": "/mnt/pr", "type": "tmpfs", "source": "tmpfs", "options": ["private"]}));
        });
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        out.ok();
        let (_, sh) = mountinfo_entry(&out.stdout, "/mnt/sh").unwrap_or_else(|| panic!("{out}"));
        assert!(
            sh.iter().any(|f| f.starts_with("shared:")),
            "shared: {sh:?}"
        );
        let (_, pr) = mountinfo_entry(&out.stdout, "/mnt/pr").unwrap_or_else(|| panic!("{out}"));
        assert!(
            !pr.iter()
                .any(|f| f.starts_with("shared:") || f.starts_with("master:")),
            "private: {pr:?}"
        );
    });
}

/// Checks of one mount point's options; failures are collected so every option is reported.
struct OptionChecks<'a> {
    mountinfo: &'a str,
    failures: Vec<String>,
}

impl OptionChecks<'_> {
    fn entry(&self, point: &str) -> (Vec<String>, Vec<String>) {
        mountinfo_entry(self.mountinfo, point).unwrap_or_default()
    }
    fn has(&mut self, point: &str, opt: &str, why: &str) {
        let (o, _) = self.entry(point);
        if !o.iter().any(|x| x == opt) {
            self.failures
                .push(format!("{why}: {point} lacks {opt} ({o:?})"));
        }
    }
    fn lacks(&mut self, point: &str, opt: &str, why: &str) {
        let (o, _) = self.entry(point);
        if o.is_empty() || o.iter().any(|x| x == opt) {
            self.failures
                .push(format!("{why}: {point} has {opt} or is missing ({o:?})"));
        }
    }
    fn optional(&mut self, point: &str, prefix: &str, want: bool, why: &str) {
        let (o, f) = self.entry(point);
        let got = f.iter().any(|x| x.starts_with(prefix));
        if o.is_empty() || got != want {
            self.failures
                .push(format!("{why}: {point} optional fields {f:?}"));
        }
    }
    fn finish(self, ctx: &writ_conformance::Ctx) {
        if self.failures.is_empty() {
            return;
        }
        if ctx.kind() == writ_conformance::Kind::Runc {
            for f in &self.failures {
                ctx.deviation(&format!("runc 1.1: {f}"));
            }
            return;
        }
        panic!("mount options not applied:\n{}", self.failures.join("\n"));
    }
}

#[verifies(
    "config.mount_options.async",
    "config.mount_options.sync",
    "config.mount_options.dirsync",
    "config.mount_options.lazytime",
    "config.mount_options.nolazytime",
    "config.mount_options.atime",
    "config.mount_options.diratime",
    "config.mount_options.nodiratime",
    "config.mount_options.dev",
    "config.mount_options.suid",
    "config.mount_options.exec",
    "config.mount_options.rw",
    "config.mount_options.relatime",
    "config.mount_options.nostrictatime",
    "config.mount_options.mount8",
    "config.mount_options.unbindable",
    "config.mount_options.runbindable",
    "config.mount_options.rshared",
    "config.mount_options.rprivate"
)]
#[test]
fn option_table_later_options_win() {
    for_each_runtime("mount-options-table", |ctx| {
        // Each case: options of a tmpfs; a later option undoes an earlier one (mount(8)).
        let cases: &[(&str, &[&str])] = &[
            ("sync", &["sync"]),
            ("async", &["sync", "async"]),
            ("dirsync", &["dirsync"]),
            ("lazy", &["lazytime"]),
            ("nolazy", &["lazytime", "nolazytime"]),
            ("nodira", &["nodiratime"]),
            ("dira", &["nodiratime", "diratime"]),
            ("dev", &["nodev", "dev"]),
            ("suid", &["nosuid", "suid"]),
            ("exec", &["noexec", "exec"]),
            ("rw", &["ro", "rw"]),
            ("atime", &["noatime", "atime"]),
            ("rela", &["relatime"]),
            ("nostrict", &["strictatime", "nostrictatime"]),
            ("unbind", &["unbindable"]),
            ("runbind", &["runbindable"]),
            ("rshared", &["rshared"]),
            ("rprivate", &["rshared", "rprivate"]),
        ];
        let b = ctx.bundle();
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            for (name, opts) in cases {
                let mut o: Vec<&str> = opts.to_vec();
                o.push("size=1m");
                m.push(json!({"destination": format!("/mnt/{name}"), "type": "tmpfs", "source": "tmpfs", "options": o}));
            }
        });
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        out.ok();
        let mut k = OptionChecks {
            mountinfo: &out.stdout,
            failures: Vec::new(),
        };
        k.has("/mnt/sync", "sync", "sync");
        k.lacks("/mnt/async", "sync", "async after sync");
        k.has("/mnt/dirsync", "dirsync", "dirsync");
        k.has("/mnt/lazy", "lazytime", "lazytime");
        k.lacks("/mnt/nolazy", "lazytime", "nolazytime after lazytime");
        k.has("/mnt/nodira", "nodiratime", "nodiratime");
        k.lacks("/mnt/dira", "nodiratime", "diratime after nodiratime");
        k.lacks("/mnt/dev", "nodev", "dev after nodev");
        k.lacks("/mnt/suid", "nosuid", "suid after nosuid");
        k.lacks("/mnt/exec", "noexec", "exec after noexec");
        k.has("/mnt/rw", "rw", "rw after ro");
        k.lacks("/mnt/atime", "noatime", "atime after noatime");
        k.has("/mnt/rela", "relatime", "relatime");
        k.has(
            "/mnt/nostrict",
            "relatime",
            "nostrictatime after strictatime (back to the relatime default)",
        );
        k.optional("/mnt/unbind", "unbindable", true, "unbindable");
        k.optional("/mnt/runbind", "unbindable", true, "runbindable");
        k.optional("/mnt/rshared", "shared:", true, "rshared");
        k.optional("/mnt/rprivate", "shared:", false, "rprivate after rshared");
        k.finish(ctx);
    });
}

#[verifies(
    "config.mount_options.rnoexec",
    "config.mount_options.rnodiratime",
    "config.mount_options.rnosymfollow",
    "config.mount_options.rrelatime",
    "config.mount_options.rexec",
    "config.mount_options.rsuid",
    "config.mount_options.rdev",
    "config.mount_options.rdiratime",
    "config.mount_options.rsymfollow",
    "config.mount_options.should"
)]
#[test]
fn recursive_attributes_reach_submounts() {
    for_each_runtime("mount-options-recursive", |ctx| {
        use nix::mount::{mount, MsFlags};
        let b = ctx.bundle();
        // A plain tree (for the r-set options) and a tree whose submount has every flag
        // set (for the r-clear options).
        let plain = dir_with_submount(&b);
        let flagged = b.path().join("flagged");
        fs::create_dir_all(flagged.join("sub")).unwrap();
        // MS_NOSYMFOLLOW (256) is not in nix's MsFlags.
        let fl = MsFlags::MS_NOEXEC
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV
            | MsFlags::MS_NODIRATIME
            | MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW);
        mount(
            Some("tmpfs"),
            &flagged.join("sub"),
            Some("tmpfs"),
            fl,
            Some("size=1m"),
        )
        .unwrap();
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/mnt/rset", "source": plain,
                          "options": ["rbind", "rnoexec", "rnodiratime", "rnosymfollow", "rrelatime"]}));
            m.push(json!({"destination": "/mnt/rclear", "source": flagged,
                          "options": ["rbind", "rexec", "rsuid", "rdev", "rdiratime", "rsymfollow"]}));
        });
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        out.ok();
        let mut k = OptionChecks {
            mountinfo: &out.stdout,
            failures: Vec::new(),
        };
        for flag in ["noexec", "nodiratime", "nosymfollow", "relatime"] {
            k.has("/mnt/rset/sub", flag, "r-option set on the submount");
            k.has("/mnt/rset", flag, "r-option set on the top");
        }
        for flag in ["noexec", "nosuid", "nodev", "nodiratime", "nosymfollow"] {
            k.lacks("/mnt/rclear/sub", flag, "r-option cleared on the submount");
        }
        k.finish(ctx);
    });
}

#[verifies("config.mount_options.defaults")]
#[test]
fn defaults_option() {
    for_each_runtime("mount-options-defaults", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(
                json!({"destination": "/mnt/defaults", "type": "tmpfs", "source": "tmpfs", "options": ["defaults", "size=1m"]}),
            );
        });
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        if ctx.kind() == writ_conformance::Kind::Runc && !out.success() {
            ctx.deviation("runc 1.1 hands `defaults` to the filesystem as data");
            return;
        }
        out.ok();
        // mount(8)'s defaults: rw, suid, dev, exec, async; never passed on as data.
        let mut k = OptionChecks {
            mountinfo: &out.stdout,
            failures: Vec::new(),
        };
        k.has("/mnt/defaults", "rw", "defaults");
        for flag in ["nosuid", "nodev", "noexec", "sync", "defaults"] {
            k.lacks("/mnt/defaults", flag, "defaults");
        }
        k.finish(ctx);
    });
}

#[verifies(
    "config.mount_options.silent",
    "config.mount_options.loud",
    "config.mount_options.iversion",
    "config.mount_options.noiversion",
    "config.mount_options.norelatime",
    "config.mount_options.nomand",
    "config.mount_options.may"
)]
#[test]
fn flag_options_are_not_handed_to_the_filesystem() {
    for_each_runtime("mount-options-accepted", |ctx| {
        // tmpfs refuses parameters it does not know, so a container that starts proves each
        // option became a mount flag (or was handled) instead of filesystem data.
        let b = ctx.bundle();
        let opts = [
            "silent",
            "loud",
            "iversion",
            "noiversion",
            "norelatime",
            "nomand",
        ];
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            for o in opts {
                m.push(json!({"destination": format!("/mnt/{o}"), "type": "tmpfs", "source": "tmpfs", "options": [o, "size=1m"]}));
            }
        });
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        out.ok();
        for o in opts {
            let (fields, _) = mountinfo_entry(&out.stdout, &format!("/mnt/{o}"))
                .unwrap_or_else(|| panic!("/mnt/{o}: {out}"));
            assert!(
                !fields.iter().any(|f| f == o),
                "{o} passed on as data: {fields:?}"
            );
        }
    });
}

#[verifies("config.mount_options.remount")]
#[test]
fn remount_changes_an_earlier_mount() {
    for_each_runtime("mount-options-remount", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/mnt/rm", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}));
            m.push(json!({"destination": "/mnt/rm", "type": "tmpfs", "source": "tmpfs", "options": ["remount", "ro", "size=1m"]}));
        });
        b.set_sh("grep ' /mnt/rm ' /proc/self/mounts");
        let out = ctx.run(&b);
        if ctx.kind() == writ_conformance::Kind::Runc && !out.success() {
            ctx.deviation("runc 1.1 does not remount");
            return;
        }
        out.ok();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "one mount, changed in place: {out}");
        assert!(
            lines[0]
                .split_whitespace()
                .nth(3)
                .is_some_and(|o| o.split(',').any(|x| x == "ro")),
            "ro after remount: {out}"
        );
    });
}

/// A host directory with a tmpfs mounted below it with `flags` (unmounted by the bundle's
/// guard).
fn dir_with_flagged_submount(
    b: &writ_conformance::Bundle,
    name: &str,
    flags: nix::mount::MsFlags,
) -> std::path::PathBuf {
    let top = b.path().join(name);
    fs::create_dir_all(top.join("sub")).unwrap();
    nix::mount::mount(
        Some("tmpfs"),
        &top.join("sub"),
        Some("tmpfs"),
        flags,
        Some("size=1m"),
    )
    .unwrap();
    top
}

#[verifies(
    "config.mount_options.ratime",
    "config.mount_options.rstrictatime",
    "config.mount_options.rnostrictatime",
    "config.mount_options.symfollow",
    "config.mount_options.slave"
)]
#[test]
fn recursive_atime_symfollow_and_slave() {
    for_each_runtime("mount-options-atime-slave", |ctx| {
        use nix::mount::{mount, MsFlags};
        let b = ctx.bundle();
        // Submounts with the default relatime, with noatime and with strictatime: each
        // recursive option must change what the bind would otherwise copy.
        let plain = dir_with_submount(&b);
        let noatime = dir_with_flagged_submount(&b, "noatime", MsFlags::MS_NOATIME);
        let strict = dir_with_flagged_submount(&b, "strict", MsFlags::MS_STRICTATIME);
        // A shared host mount: a bind of it that is made shared and then slave keeps only
        // its master.
        let shared = b.path().join("shared");
        fs::create_dir_all(&shared).unwrap();
        mount(
            Some("tmpfs"),
            &shared,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=1m"),
        )
        .unwrap();
        mount(
            None::<&str>,
            &shared,
            None::<&str>,
            MsFlags::MS_SHARED,
            None::<&str>,
        )
        .unwrap();
        // runc 1.1 fails the whole run with EINVAL on the options that only clear one atime
        // bit (ratime, rnostrictatime); the oracle checks the rest.
        let clear_atime = ctx.kind() != writ_conformance::Kind::Runc;
        if !clear_atime {
            ctx.deviation("runc 1.1 fails ratime and rnostrictatime with EINVAL");
        }
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/mnt/rstrict", "source": plain, "options": ["rbind", "rstrictatime"]}));
            if clear_atime {
                m.push(json!({"destination": "/mnt/ratime", "source": noatime, "options": ["rbind", "ratime"]}));
                m.push(json!({"destination": "/mnt/rnostrict", "source": strict, "options": ["rbind", "rnostrictatime"]}));
            }
            m.push(json!({"destination": "/mnt/copied", "source": noatime, "options": ["rbind"]}));
            m.push(json!({"destination": "/mnt/symf", "type": "tmpfs", "source": "tmpfs", "options": ["nosymfollow", "symfollow", "size=1m"]}));
            m.push(json!({"destination": "/mnt/sh", "source": shared, "options": ["bind", "shared"]}));
            m.push(json!({"destination": "/mnt/sl", "source": shared, "options": ["bind", "shared", "slave"]}));
        });
        b.set_args(&["cat", "/proc/self/mountinfo"]);
        let out = ctx.run(&b);
        out.ok();
        let mut k = OptionChecks {
            mountinfo: &out.stdout,
            failures: Vec::new(),
        };
        // Control: a plain rbind copies the submount's noatime.
        k.has(
            "/mnt/copied/sub",
            "noatime",
            "rbind keeps the submount's noatime",
        );
        for point in ["/mnt/rstrict", "/mnt/rstrict/sub"] {
            k.lacks(point, "relatime", "rstrictatime");
            k.lacks(point, "noatime", "rstrictatime");
        }
        if clear_atime {
            k.lacks("/mnt/ratime/sub", "noatime", "ratime");
            k.has("/mnt/rnostrict/sub", "relatime", "rnostrictatime");
        }
        k.lacks("/mnt/symf", "nosymfollow", "symfollow after nosymfollow");
        k.optional("/mnt/sh", "shared:", true, "shared bind");
        k.optional("/mnt/sl", "shared:", false, "slave after shared");
        k.optional("/mnt/sl", "master:", true, "slave after shared");
        k.finish(ctx);
    });
}

#[verifies("config.mount_options.custom", "config.mount_options.custom.mount8")]
#[test]
fn filesystem_options_reach_the_filesystem() {
    for_each_runtime("mount-options-custom", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/mnt/custom", "type": "tmpfs", "source": "tmpfs",
                "options": ["mode=0700", "size=2m", "uid=12", "gid=34"]
            }));
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/mnt/inodes", "type": "tmpfs", "source": "tmpfs",
                "options": ["nr_inodes=100"]
            }));
        });
        b.set_sh(
            "cat /proc/self/mountinfo; echo owner=$(stat -c %u:%g:%a /mnt/custom); \
             i=0; while [ $i -lt 120 ]; do touch /mnt/inodes/f$i 2>/dev/null || break; \
             i=$((i+1)); done; echo files=$i",
        );
        let out = ctx.run(&b);
        out.ok();
        let (opts, _) = mountinfo_entry(&out.stdout, "/mnt/custom")
            .unwrap_or_else(|| panic!("/mnt/custom: {out}"));
        for o in ["mode=700", "size=2048k", "uid=12", "gid=34"] {
            assert!(opts.iter().any(|x| x == o), "{o} in {opts:?}");
        }
        let (opts, _) = mountinfo_entry(&out.stdout, "/mnt/inodes")
            .unwrap_or_else(|| panic!("/mnt/inodes: {out}"));
        assert!(opts.iter().any(|x| x == "nr_inodes=100"), "{opts:?}");
        let kv = kv_lines(&out.stdout);
        assert_eq!(
            kv.get("owner").map(String::as_str),
            Some("12:34:700"),
            "{out}"
        );
        // nr_inodes=100 counts the root directory too: fewer than 100 files fit.
        let files: u32 = kv.get("files").and_then(|f| f.parse().ok()).unwrap_or(0);
        assert!(
            (90..100).contains(&files),
            "nr_inodes=100 held {files} files: {out}"
        );
    });
}
