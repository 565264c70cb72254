//! Regression scenarios for the container-escape classes runtimes have had: each test
//! name carries the CVE id whose class it proves closed. runc 1.1.5 (the oracle here)
//! predates several fixes; where it is vulnerable, that is recorded as its known
//! deviation, and the scenario still fails writ on the same check.
//!
//! - CVE-2019-5736: the runtime binary is writable through `/proc/<pid>/exe` of a process
//!   running it (here: a sibling container sharing the init's pid namespace).
//! - CVE-2024-21626: a host fd leaked into the container's init (reachable through
//!   `/proc/<pid>/fd/N`, or as `process.cwd = /proc/self/fd/N`).
//! - CVE-2021-30465: a mount destination swapped for a symlink (racing or not) takes the
//!   mount out of the rootfs.
//! - CVE-2025-31133: masked paths masked with the container's own /dev/null (which the
//!   image or a mount can replace), or through a symlinked masked path.
//! - CVE-2025-52565: the pty bound onto a /dev/console that is a symlink.
//! - CVE-2025-52881: procfs writes (sysctls) redirected by mounts inside the container.
//! - CVE-2022-29162: inheritable capabilities the config did not ask for.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use writ_conformance::{
    cap_bit, for_each_runtime, host_mount_points, kv_lines, work_dir, ConsoleSocket, CreateOpts,
    Ctx, Kind, Runtime,
};
use writ_macros::verifies;

/// A scenario's own deadline (stretched where the harness runs slowly, see `scaled`).
fn t() -> Duration {
    writ_conformance::scaled(Duration::from_secs(10))
}

/// A directory outside every bundle, standing for a host path a malicious image points at.
fn host_target(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("host-{tag}-"))
        .tempdir_in(work_dir())
        .unwrap()
}

#[track_caller]
fn wait_for(path: &Path, what: &str) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < t(), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The pid of a host process in the innermost pid namespace it is in (NSpid's last field).
fn inner_pid(host_pid: i32) -> i32 {
    let status = fs::read_to_string(format!("/proc/{host_pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no NSpid for {host_pid}: {status}"))
}

/// Adds a capability to every set of the config's process.
fn grant(b: &writ_conformance::Bundle, cap: &str) {
    b.edit(|c| {
        for set in ["bounding", "effective", "permitted"] {
            c["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push(json!(cap));
        }
    });
}

/// Replaces the config's pid namespace with the one of `pid` (joined by path).
fn join_pid_ns_of(b: &writ_conformance::Bundle, pid: i32) {
    b.edit(|c| {
        for ns in c["linux"]["namespaces"].as_array_mut().unwrap() {
            if ns["type"] == "pid" {
                ns["path"] = json!(format!("/proc/{pid}/ns/pid"));
            }
        }
    });
}

/// A private copy of the runtime binary (so that no other test's process keeps it busy)
/// and a context that drives it.
fn private_runtime(ctx: &Ctx) -> (tempfile::TempDir, Ctx) {
    let dir = tempfile::Builder::new()
        .prefix("bin-")
        .tempdir_in(work_dir())
        .unwrap();
    let name = ctx.rt.bin.file_name().unwrap();
    let bin = dir.path().join(name);
    fs::copy(&ctx.rt.bin, &bin).unwrap();
    let rt = Runtime {
        kind: ctx.kind(),
        bin,
    };
    (dir, Ctx::new(rt, &ctx.scenario))
}

/// What identifies a file's content having been written: size, mtime, ctime, first bytes.
fn fingerprint(p: &Path) -> (u64, i64, i64, i64, Vec<u8>) {
    let m = fs::metadata(p).unwrap();
    let mut head = fs::read(p).unwrap();
    head.truncate(64);
    (m.len(), m.mtime(), m.mtime_nsec(), m.ctime_nsec(), head)
}

/// Whether any process runs `bin` (an unprotected binary is ETXTBSY until none does).
fn anyone_runs(bin: &Path) -> bool {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .any(|e| fs::read_link(e.path().join("exe")).is_ok_and(|x| x == bin))
}

/// The attacker's script: waits for the victim's pid, holds `/proc/<victim>/exe` open,
/// tries to write it through that fd while the victim is created and again once it has
/// started (rewriting the first byte with itself: a vulnerable binary is left intact).
const EXE_ATTACKER: &str = r#"
while [ ! -s /tmp/victim ]; do sleep 0.02; done
v=$(cat /tmp/victim); r=/tmp/report
if (exec 3</proc/$v/exe) 2>/dev/null; then
  exec 3</proc/$v/exe
  echo held=yes >> $r
  printf '\177' | dd of=/proc/self/fd/3 bs=1 count=1 conv=notrunc 2>>$r.err; echo w1=$? >> $r
else
  echo held=no >> $r
fi
touch /tmp/phase1
while [ ! -e /tmp/started ]; do sleep 0.02; done
if [ -e /proc/self/fd/3 ]; then
  printf '\177' | dd of=/proc/self/fd/3 bs=1 count=1 conv=notrunc 2>>$r.err; echo w2=$? >> $r
fi
touch /tmp/phase2
sleep 30
"#;

#[verifies(
    "config_linux.namespaces.path.join",
    "runtime.start.run_program",
    "runtime.lifecycle.run_program"
)]
#[test]
fn cve_2019_5736_runtime_binary_not_writable_from_a_sibling() {
    for_each_runtime("cve-2019-5736-exe", |ctx| {
        let (_bin_dir, pctx) = private_runtime(ctx);
        let bin = pctx.rt.bin.clone();
        let before = fingerprint(&bin);
        // A: the attacker, granted CAP_SYS_PTRACE (non-dumpability alone does not stop it).
        let a = pctx.bundle();
        grant(&a, "CAP_SYS_PTRACE");
        a.set_sh(EXE_ATTACKER);
        let mut ca = pctx.container(&a);
        ca.create().ok();
        ca.start().ok();
        let apid = ca.pid.unwrap();
        // B: the victim, in A's pid namespace, left created, then started.
        let b = pctx.bundle();
        join_pid_ns_of(&b, apid);
        b.set_args(&["sleep", "30"]);
        let mut cb = pctx.container(&b);
        cb.create().ok();
        let bpid = cb.pid.unwrap();
        fs::write(a.rootfs().join("tmp/victim"), inner_pid(bpid).to_string()).unwrap();
        wait_for(&a.rootfs().join("tmp/phase1"), "the attacker's first try");
        cb.start().ok();
        let start = Instant::now();
        while anyone_runs(&bin) && start.elapsed() < t() {
            std::thread::sleep(Duration::from_millis(10));
        }
        fs::write(a.rootfs().join("tmp/started"), "").unwrap();
        wait_for(&a.rootfs().join("tmp/phase2"), "the attacker's second try");
        let report = fs::read_to_string(a.rootfs().join("tmp/report")).unwrap_or_default();
        let errors = fs::read_to_string(a.rootfs().join("tmp/report.err")).unwrap_or_default();
        let kv = kv_lines(&report);
        assert_eq!(
            fingerprint(&bin),
            before,
            "the runtime binary was written from a container: {report} {errors}"
        );
        assert_eq!(
            kv.get("held").map(String::as_str),
            Some("yes"),
            "a sibling with CAP_SYS_PTRACE opens /proc/<init>/exe (the premise): {report}"
        );
        for w in ["w1", "w2"] {
            assert!(
                kv.get(w).is_some_and(|rc| rc != "0"),
                "writing the held exe ({w}) must fail: {report} {errors}"
            );
        }
        if ctx.kind() == Kind::Writ {
            assert!(
                errors.to_lowercase().contains("read-only file system"),
                "writ's exe is a read-only view (EROFS), not merely busy: {errors}"
            );
        }
    });
}

/// The inspector's script: what of the victim's init can it reach? Each line `key=value`.
/// Listing /proc/<pid>/fd needs only file permissions; following an entry (readlink,
/// open, walking through it) needs ptrace access, which non-dumpability denies.
fn inspector(marker: &Path) -> String {
    format!(
        r#"
while [ ! -s /tmp/victim ]; do sleep 0.02; done
v=$(cat /tmp/victim); r=/tmp/report; n=0; ok=0
for f in /proc/$v/fd/*; do
  n=$((n+1))
  if l=$(readlink $f 2>/dev/null); then ok=$((ok+1)); echo "fd=$f:$l" >> $r; fi
  [ -d "$f" ] && echo "dirfd=$f:$l" >> $r
  [ -e "$f/../../../../../../../../..{m}" ] && echo "escape=$f" >> $r
done
[ -e /proc/$v/root{m} ] && echo escape=root >> $r
[ -e /proc/$v/cwd/../../../../../../../..{m} ] && echo escape=cwd >> $r
echo fds=$n >> $r; echo readable=$ok >> $r; echo done=yes >> $r
touch /tmp/phase1
sleep 30
"#,
        m = marker.display()
    )
}

#[verifies("config_linux.namespaces.path.join", "runtime_linux.fds.extra")]
#[test]
fn cve_2024_21626_no_host_fd_reachable_from_a_sibling() {
    for_each_runtime("cve-2024-21626-fds", |ctx| {
        let host = host_target("fds");
        let marker = host.path().join("host-marker");
        fs::write(&marker, "host").unwrap();
        // A owns the pid namespace and inspects without CAP_SYS_PTRACE; C joins it and
        // inspects with CAP_SYS_PTRACE; B, the victim, joins it and stays created.
        let a = ctx.bundle();
        a.set_sh(&inspector(&marker));
        let mut ca = ctx.container(&a);
        ca.create().ok();
        ca.start().ok();
        let apid = ca.pid.unwrap();
        let c = ctx.bundle();
        grant(&c, "CAP_SYS_PTRACE");
        join_pid_ns_of(&c, apid);
        c.set_sh(&inspector(&marker));
        let mut cc = ctx.container(&c);
        cc.create().ok();
        cc.start().ok();
        let b = ctx.bundle();
        join_pid_ns_of(&b, apid);
        b.set_args(&["sleep", "30"]);
        let mut cb = ctx.container(&b);
        cb.create().ok();
        let v = inner_pid(cb.pid.unwrap()).to_string();
        for x in [&a, &c] {
            fs::write(x.rootfs().join("tmp/victim"), &v).unwrap();
        }
        for x in [&a, &c] {
            wait_for(&x.rootfs().join("tmp/phase1"), "the inspection");
        }
        let plain = fs::read_to_string(a.rootfs().join("tmp/report")).unwrap();
        let ptrace = fs::read_to_string(c.rootfs().join("tmp/report")).unwrap();
        let (pk, tk) = (kv_lines(&plain), kv_lines(&ptrace));
        assert_eq!(pk.get("done").map(String::as_str), Some("yes"), "{plain}");
        assert_eq!(tk.get("done").map(String::as_str), Some("yes"), "{ptrace}");
        let num = |kv: &std::collections::BTreeMap<String, String>, k: &str| {
            kv.get(k).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
        };
        assert!(num(&pk, "fds") >= 3, "the victim's fds are listed: {plain}");
        assert_eq!(
            num(&pk, "readable"),
            0,
            "without CAP_SYS_PTRACE a sibling cannot follow the created init's fds (non-dumpable): {plain}"
        );
        assert!(
            num(&tk, "readable") >= 3,
            "with CAP_SYS_PTRACE it can (the premise): {ptrace}"
        );
        for report in [&plain, &ptrace] {
            assert!(
                !report.contains("escape="),
                "a host path is reachable through the created init: {report}"
            );
            let dirs: Vec<&str> = report.lines().filter(|l| l.starts_with("dirfd=")).collect();
            if ctx.kind() == Kind::Runc && !dirs.is_empty() {
                ctx.deviation(&format!(
                    "runc 1.1.5's created init holds directory fds: {dirs:?}"
                ));
            } else {
                assert!(
                    dirs.is_empty(),
                    "the created init holds directory fds: {report}"
                );
            }
        }
    });
}

#[verifies(
    "runtime.create.apply_failure.error",
    "runtime.create.apply_failure.nothing_created"
)]
#[test]
fn cve_2024_21626_cwd_in_proc_self_fd_stays_in_the_container() {
    for_each_runtime("cve-2024-21626-cwd", |ctx| {
        let host = host_target("cwd");
        let marker = host.path().join("host-marker");
        fs::write(&marker, "host").unwrap();
        let mut escaped = Vec::new();
        for n in 3..=9 {
            let b = ctx.bundle();
            b.edit(|c| c["process"]["cwd"] = json!(format!("/proc/self/fd/{n}")));
            b.set_sh(&format!(
                "if [ -e ../../../../../../../../..{m} ]; then echo ESCAPED; fi; echo ran",
                m = marker.display()
            ));
            let out = ctx.run(&b);
            if out.success() {
                assert!(out.stdout.contains("ran"), "{out}");
                if out.stdout.contains("ESCAPED") {
                    escaped.push(n);
                }
            } else {
                out.fails();
                assert!(
                    !out.stdout.contains("ran"),
                    "a failed create ran the process: {out}"
                );
            }
        }
        if ctx.kind() == Kind::Runc && !escaped.is_empty() {
            ctx.deviation(&format!(
                "runc 1.1.5 is vulnerable to CVE-2024-21626: cwd /proc/self/fd/{escaped:?} is on the host"
            ));
        } else {
            assert!(
                escaped.is_empty(),
                "cwd /proc/self/fd/{escaped:?} put the container's process on the host"
            );
        }
    });
}

#[verifies("runtime.create.apply_config", "config.mounts.order")]
#[test]
fn cve_2021_30465_racing_symlink_mount_destination_stays_in_rootfs() {
    for_each_runtime("cve-2021-30465-race", |ctx| {
        let host = host_target("race");
        let b = ctx.bundle();
        let dir = b.rootfs().join("race");
        let link = b.rootfs().join("race-swap");
        fs::create_dir(&dir).unwrap();
        std::os::unix::fs::symlink(host.path(), &link).unwrap();
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/race/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]
            }));
        });
        b.set_args(&["true"]);
        // Swap the directory and the symlink to the host, as fast as possible, while
        // containers are made with a mount through that path.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let stop = stop.clone();
            let (d, l) = (
                std::ffi::CString::new(dir.to_str().unwrap()).unwrap(),
                std::ffi::CString::new(link.to_str().unwrap()).unwrap(),
            );
            std::thread::spawn(move || {
                let mut swaps = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // SAFETY: renameat2(RENAME_EXCHANGE) of two paths we own.
                    let rc = unsafe {
                        libc::syscall(
                            libc::SYS_renameat2,
                            libc::AT_FDCWD,
                            d.as_ptr(),
                            libc::AT_FDCWD,
                            l.as_ptr(),
                            libc::RENAME_EXCHANGE,
                        )
                    };
                    if rc == 0 {
                        swaps += 1;
                    }
                }
                swaps
            })
        };
        let before = host_mount_points();
        let mut outs = Vec::new();
        for _ in 0..12 {
            outs.push(ctx.run(&b));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let swaps = swapper.join().unwrap();
        assert!(swaps > 100, "the race ran ({swaps} swaps)");
        let leaked: Vec<_> = host_mount_points()
            .into_iter()
            .filter(|p| p.starts_with(host.path()) && !before.contains(p))
            .collect();
        assert!(leaked.is_empty(), "mounts on host paths: {leaked:?}");
        let entries: Vec<_> = fs::read_dir(host.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        if ctx.kind() == Kind::Runc && !entries.is_empty() {
            // Its mount stays in the rootfs; the directory it makes for the mount does not.
            ctx.deviation(&format!(
                "runc 1.1.5 creates the mount destination on the host through a racing symlink: {entries:?}"
            ));
        } else {
            assert!(
                entries.is_empty(),
                "created on the host through the swapped symlink: {entries:?}"
            );
        }
        assert!(
            outs.iter().any(|o| o.success()),
            "some container ran: {}",
            outs[0]
        );
    });
}

#[verifies("runtime.create.apply_config", "config.mounts.order")]
#[test]
fn cve_2021_30465_symlink_mount_destination_stays_in_rootfs() {
    for_each_runtime("cve-2021-30465-mount", |ctx| {
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

#[verifies("runtime.create.apply_config")]
#[test]
fn cve_2021_30465_symlink_bind_mount_file_stays_in_rootfs() {
    for_each_runtime("cve-2021-30465-bind", |ctx| {
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

#[verifies("config_linux.devices.available", "config_linux.devices.path.anywhere")]
#[test]
fn cve_2021_30465_symlink_device_path_stays_in_rootfs() {
    for_each_runtime("cve-2021-30465-device", |ctx| {
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

#[verifies("config_linux.masked_paths.absolute", "runtime.create.apply_config")]
#[test]
fn cve_2025_31133_symlink_masked_path_stays_in_rootfs() {
    for_each_runtime("cve-2025-31133-symlink", |ctx| {
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

#[verifies(
    "config_linux.default_devices.supply",
    "config_linux.devices.path.conflict",
    "runtime.create.apply_config"
)]
#[test]
fn cve_2025_31133_masked_file_gets_the_real_null_device() {
    for_each_runtime("cve-2025-31133-null", |ctx| {
        // Three ways the container's /dev/null is not the null device when masking
        // happens: a bind mount over it, or (no /dev tmpfs) the image's /dev/null being a
        // regular file or a symlink to a file. A masked file must read as the real null
        // device, never as what the container put at /dev/null.
        for variant in ["bind", "file", "symlink"] {
            let b = ctx.bundle();
            fs::write(b.rootfs().join("etc/secret"), "SECRET").unwrap();
            fs::write(b.rootfs().join("fake"), "NOT-NULL").unwrap();
            b.edit(|c| {
                c["linux"]["maskedPaths"] = json!(["/etc/secret"]);
                let m = c["mounts"].as_array_mut().unwrap();
                if variant == "bind" {
                    m.push(json!({
                        "destination": "/dev/null", "source": b.rootfs().join("fake"), "options": ["bind", "rw"]
                    }));
                } else {
                    m.retain(|m| m["destination"] != "/dev");
                }
            });
            match variant {
                "file" => fs::write(b.rootfs().join("dev/null"), "NOT-NULL").unwrap(),
                "symlink" => {
                    std::os::unix::fs::symlink("/fake", b.rootfs().join("dev/null")).unwrap()
                }
                _ => {}
            }
            // Into a file: where stdout goes can depend on the container's /dev/null too.
            b.set_sh(
                "{ echo secret=[$(cat /etc/secret)]; echo dev=$(stat -c %t:%T /etc/secret); } > /result",
            );
            let out = ctx.run(&b);
            let result = fs::read_to_string(b.rootfs().join("result")).unwrap_or_default();
            if !out.success() {
                // Refusing such a /dev/null is safe.
                out.fails();
                assert!(result.is_empty(), "{variant}: {out}");
                continue;
            }
            let kv = kv_lines(&result);
            let masked = kv.get("secret").map(String::as_str) == Some("[]")
                && kv.get("dev").map(String::as_str) == Some("1:3");
            if ctx.kind() == Kind::Runc && !masked {
                ctx.deviation(&format!(
                    "runc 1.1.5 masks with the container's /dev/null ({variant}; CVE-2025-31133): {}",
                    result.trim().replace('\n', " ")
                ));
                continue;
            }
            assert!(
                masked,
                "{variant}: the masked file is not the null device: {result} {out}"
            );
            assert_eq!(
                fs::read_to_string(b.rootfs().join("fake")).unwrap(),
                "NOT-NULL",
                "{variant}"
            );
        }
    });
}

#[verifies("config_linux.default_devices.supply")]
#[test]
fn cve_2025_52565_dev_console_symlink_is_not_followed() {
    for_each_runtime("cve-2025-52565-console", |ctx| {
        let b = ctx.bundle();
        // No /dev tmpfs: the image's /dev/console is a symlink to a file of the image.
        fs::write(b.rootfs().join("victim"), "VICTIM").unwrap();
        std::os::unix::fs::symlink("/victim", b.rootfs().join("dev/console")).unwrap();
        b.edit(|c| {
            c["mounts"]
                .as_array_mut()
                .unwrap()
                .retain(|m| m["destination"] != "/dev");
            c["process"]["terminal"] = json!(true);
        });
        b.set_sh(
            "r=/result; grep -c ' /victim ' /proc/self/mountinfo > $r.mounts; \
             stat -c %F /victim > $r.victim; stat -c %F:%t /dev/console > $r.console; \
             readlink /dev/console > $r.link; echo done > $r.done",
        );
        let sock = ConsoleSocket::listen();
        let mut c = ctx.container(&b);
        let path = sock.path.clone();
        let out = c.create_with(CreateOpts {
            console_socket: Some(&path),
            ..Default::default()
        });
        if !out.success() {
            out.fails();
            assert!(
                fs::read_to_string(b.rootfs().join("victim")).unwrap() == "VICTIM",
                "{out}"
            );
            return;
        }
        let got = sock.receive().expect("console socket message");
        assert_eq!(got.fds.len(), 1);
        c.start().ok();
        wait_for(&b.rootfs().join("result.done"), "the container's report");
        let read = |n: &str| {
            fs::read_to_string(b.rootfs().join(format!("result.{n}")))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let (mounts, victim, console, link) = (
            read("mounts"),
            read("victim"),
            read("console"),
            read("link"),
        );
        let followed = mounts != "0" || victim != "regular file";
        if ctx.kind() == Kind::Runc && followed {
            ctx.deviation(&format!(
                "runc 1.1.5 binds the pty onto the target of a /dev/console symlink (CVE-2025-52565): mounts={mounts} victim={victim:?}"
            ));
            return;
        }
        assert_eq!(mounts, "0", "the pty was mounted onto the symlink's target");
        assert_eq!(victim, "regular file", "the symlink's target is untouched");
        assert_eq!(link, "", "/dev/console is no longer a symlink");
        // A pty slave: a character device with the pts major (136 = 0x88).
        assert_eq!(
            console, "character special file:88",
            "/dev/console is the pty"
        );
        assert_eq!(
            fs::read_to_string(b.rootfs().join("victim")).unwrap(),
            "VICTIM"
        );
    });
}

/// The value of a sysctl in the network namespace of `pid` (read from a thread that joins it).
fn sysctl_in_netns_of(pid: i32, key: &str) -> String {
    let ns = fs::File::open(format!("/proc/{pid}/ns/net")).unwrap();
    let path = PathBuf::from("/proc/sys").join(key.replace('.', "/"));
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        fs::read_to_string(path).unwrap().trim().to_string()
    })
    .join()
    .unwrap()
}

#[verifies("runtime.create.apply_config", "runtime.lifecycle.create_env")]
#[test]
fn cve_2025_52881_sysctl_not_redirected_by_a_mount() {
    for_each_runtime("cve-2025-52881-sysctl", |ctx| {
        let b = ctx.bundle();
        // A mount in the container puts a file of the bundle where the sysctl's procfs
        // file would be: the sysctl must reach the container's network namespace anyway.
        let fake = b.path().join("fake-ipv4");
        fs::create_dir(&fake).unwrap();
        fs::write(fake.join("ip_forward"), "0\n").unwrap();
        b.edit(|c| {
            c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/proc/sys/net/ipv4", "source": fake, "options": ["bind", "rw"]
            }));
            c["linux"]["readonlyPaths"] = json!([]);
        });
        b.set_args(&["sleep", "30"]);
        let mut c = ctx.container(&b);
        let out = c.create();
        if ctx.kind() == Kind::Runc && !out.success() {
            // runc refuses mounts into /proc that are not procfs.
            out.fails();
            return;
        }
        out.ok();
        let pid = c.pid.unwrap();
        assert_eq!(
            fs::read_to_string(fake.join("ip_forward")).unwrap(),
            "0\n",
            "the sysctl was written into the file a mount put over /proc/sys"
        );
        assert_eq!(
            sysctl_in_netns_of(pid, "net.ipv4.ip_forward"),
            "1",
            "the sysctl reached the container's network namespace"
        );
    });
}

/// Capability sets of a container's process (hex masks from /proc/self/status).
fn cap_sets(b: &writ_conformance::Bundle, ctx: &Ctx) -> std::collections::BTreeMap<String, u64> {
    b.set_sh("grep ^Cap /proc/self/status");
    let out = ctx.run(b);
    out.ok();
    out.stdout
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            (
                k.trim().to_string(),
                u64::from_str_radix(v.trim(), 16).unwrap(),
            )
        })
        .collect()
}

#[verifies("runtime.create.process_props", "runtime.start.run_program")]
#[test]
fn cve_2022_29162_no_inheritable_capabilities_beyond_the_config() {
    for_each_runtime("cve-2022-29162-caps", |ctx| {
        // The base config asks for ambient capabilities but no inheritable ones: the
        // process gets an empty inheritable set (and so no ambient ones, which need it).
        let b = ctx.bundle();
        assert!(b.config()["process"]["capabilities"]
            .get("inheritable")
            .is_none());
        let caps = cap_sets(&b, ctx);
        assert_eq!(caps["CapInh"], 0, "inheritable set: {caps:?}");
        assert_eq!(
            caps["CapAmb"], 0,
            "ambient set without inheritable: {caps:?}"
        );
        // A non-root user with one inheritable capability gets exactly that one.
        let b = ctx.bundle();
        b.edit(|c| {
            c["process"]["user"] = json!({"uid": 1000, "gid": 1000});
            c["process"]["capabilities"]["inheritable"] = json!(["CAP_KILL"]);
            c["process"]["capabilities"]["ambient"] = json!([]);
        });
        let caps = cap_sets(&b, ctx);
        let kill = 1u64 << cap_bit("CAP_KILL").unwrap();
        assert_eq!(caps["CapInh"], kill, "inheritable set: {caps:?}");
        assert_eq!(caps["CapAmb"], 0, "{caps:?}");
    });
}
