//! `update` (runc's command; the spec has no such operation) against writ and runc as the
//! oracle, driven by writ's resource catalogue (`writ resources --format json`): every
//! "live" field is changed on a running container and read back from the cgroup file the
//! catalogue names for this host's layout (v1 and hybrid here, cgroup v2 in the VM lane);
//! every "recreate" field is refused, naming the field. The oracles' update (runc's,
//! crun's) silently ignores the fields it does not carry: recorded as their deviations.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use writ_conformance::{cgroup_mounts, for_each_runtime, Bundle, Container, Ctx, Kind};
use writ_macros::verifies;

const T: Duration = Duration::from_secs(10);

/// The catalogue, from the writ under test.
fn catalogue() -> Vec<Value> {
    let out = std::process::Command::new(writ_conformance::writ_bin())
        .args(["resources", "--format", "json"])
        .output()
        .expect("writ resources");
    assert!(out.status.success(), "writ resources failed");
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("catalogue JSON")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A running container (`sleep`) with its cgroup directly under the root of every
/// hierarchy (where the real-time budget is).
fn sleeper<'a>(ctx: &'a Ctx, b: &'a Bundle) -> Container<'a> {
    b.set_args(&["sleep", "600"]);
    let mut c = ctx.container(b);
    let cg = format!("/{}", c.id);
    b.edit(|conf| conf["linux"]["cgroupsPath"] = json!(cg));
    c.create().ok();
    c.start().ok();
    c.wait_status("running", T);
    c
}

/// The container's directory in the hierarchy of `controller`: its v1 hierarchy when the
/// host mounts one, else cgroup2. Returns (is v1, directory).
fn cgroup_dir(pid: i32, controller: &str) -> (bool, PathBuf) {
    let (v1, v2) = cgroup_mounts();
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let path_in = |pred: &dyn Fn(&str) -> bool| {
        own.lines().find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
            pred(ctrls).then(|| path.trim_start_matches('/').to_string())
        })
    };
    if let Some((_, mnt)) = v1.iter().find(|(c, _)| c == controller) {
        let rel = path_in(&|ctrls| ctrls.split(',').any(|c| c == controller)).unwrap_or_default();
        return (true, mnt.join(rel));
    }
    let mnt = v2.expect("a cgroup2 mount when no v1 hierarchy has the controller");
    (
        false,
        mnt.join(path_in(&|ctrls| ctrls.is_empty()).unwrap_or_default()),
    )
}

/// Whether `text` has a line or a word equal to one of `reads`.
fn shows(text: &str, reads: &[String]) -> bool {
    reads
        .iter()
        .any(|r| text.lines().any(|l| l.trim() == r) || text.split_whitespace().any(|w| w == r))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Runs `update -r FILE ID` with `patch`.
fn update_with(ctx: &Ctx, c: &Container<'_>, patch: &Value) -> writ_conformance::Out {
    let file = c.stdout_path().with_extension("update.json");
    std::fs::write(&file, patch.to_string()).expect("patch file");
    let f = file.to_string_lossy().into_owned();
    ctx.cmd(&["update", "-r", &f, &c.id])
}

/// The controller whose hierarchy shows a proof's file (the name up to the first dot):
/// the v1 file's, or the v2 file's, whichever this host mounts on a v1 hierarchy, else
/// the v2 file's (on cgroup2).
fn controller_of(f: &Value) -> String {
    let first = |layout: &str| {
        let files = strings(&f["proof"][layout]["files"]);
        let file = files.into_iter().next().unwrap_or_default();
        file.split('.').next().unwrap_or_default().to_string()
    };
    let (v1, _) = cgroup_mounts();
    let on_v1 = |c: &String| !c.is_empty() && v1.iter().any(|(m, _)| m == c);
    let (a, b) = (first("v1"), first("v2"));
    [a.clone(), b.clone()]
        .into_iter()
        .find(on_v1)
        .unwrap_or(if b.is_empty() { a } else { b })
}

#[test]
fn update_changes_every_live_field_on_a_running_container() {
    for_each_runtime("update-live-fields", |ctx| {
        // One container takes every patch in turn: each proof's patch sets everything its
        // file shows (a quota with its period, a swap with its limit).
        let b = ctx.bundle();
        let c = sleeper(ctx, &b);
        let pid = c.pid.expect("pid");
        let mut failures = Vec::new();
        for f in catalogue() {
            let pointer = f["pointer"].as_str().unwrap_or_default().to_string();
            if f["update"] != "live" || !pointer.starts_with("/linux/resources/") {
                continue;
            }
            if f["proof"]["v1"].is_null() {
                continue; // proven by its own scenario
            }
            let patch: Value = serde_json::from_str(f["proof"]["patch"].as_str().unwrap_or("{}"))
                .expect("patch JSON");
            let controller = controller_of(&f);
            let (is_v1, dir) = cgroup_dir(pid, &controller);
            let layout = if is_v1 { "v1" } else { "v2" };
            let reads = strings(&f["proof"][layout]["reads"]);
            let files = strings(&f["proof"][layout]["files"]);
            let out = update_with(ctx, &c, &patch);
            let oracle = ctx.kind() != Kind::Writ;
            if reads.is_empty() {
                // This layout has no such file: refused, naming the field.
                let named = out.text_lower().contains(&pointer.to_lowercase());
                if oracle && out.success() {
                    ctx.deviation(&format!("update ignores {pointer} on {layout}"));
                } else if out.success() || !(named || oracle) {
                    failures.push(format!(
                        "{pointer} ({layout}): not refused naming it: {out}"
                    ));
                }
                continue;
            }
            if !out.success() {
                failures.push(format!("{pointer} ({layout}): update failed: {out}"));
                continue;
            }
            let file = files.iter().map(|n| dir.join(n)).find(|p| p.exists());
            let Some(file) = file else {
                failures.push(format!("{pointer}: none of {files:?} in {}", dir.display()));
                continue;
            };
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if oracle && !shows(&text, &reads) {
                ctx.deviation(&format!("update ignores {pointer}"));
            } else if !shows(&text, &reads) {
                failures.push(format!(
                    "{pointer}: {} holds {:?}, expected one of {reads:?}",
                    file.display(),
                    text.trim()
                ));
            }
            assert_eq!(
                c.status(),
                "running",
                "{pointer}: the container kept running"
            );
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

#[test]
fn update_refuses_every_recreate_field_naming_it() {
    for_each_runtime("update-recreate-fields", |ctx| {
        let b = ctx.bundle();
        let c = sleeper(ctx, &b);
        let mut failures = Vec::new();
        for f in catalogue() {
            let pointer = f["pointer"].as_str().unwrap_or_default().to_string();
            if f["update"] != "recreate" || !pointer.starts_with("/linux/resources/") {
                continue;
            }
            let patch: Value = serde_json::from_str(f["proof"]["patch"].as_str().unwrap_or("{}"))
                .expect("patch JSON");
            let out = update_with(ctx, &c, &patch);
            if out.success() && ctx.kind() != Kind::Writ {
                ctx.deviation(&format!("update ignores {pointer}"));
                continue;
            }
            let text = out.text_lower();
            if out.success() || !text.contains(&pointer.to_lowercase()) {
                failures.push(format!("{pointer}: not refused naming it: {out}"));
            } else if ctx.kind() == Kind::Writ && !text.contains("create a new one") {
                failures.push(format!("{pointer}: the refusal does not say why: {out}"));
            }
        }
        // runc's --l3-cache-schema / --mem-bw-schema need resctrl, which this host lacks.
        for flag in ["--l3-cache-schema=L3:0=f", "--mem-bw-schema=MB:0=50"] {
            let out = ctx.cmd(&["update", flag, &c.id]);
            if out.success() {
                failures.push(format!("{flag}: accepted without resctrl: {out}"));
            }
        }
        assert_eq!(c.status(), "running");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

/// The stored state: a later update sees what an earlier one set (v2 stores swap as a
/// difference to the limit, so the second update must know the first one's limit).
#[test]
fn a_later_update_sees_an_earlier_one() {
    for_each_runtime("update-stored", |ctx| {
        let b = ctx.bundle();
        let c = sleeper(ctx, &b);
        let (is_v1, dir) = cgroup_dir(c.pid.expect("pid"), "memory");
        update_with(ctx, &c, &json!({"memory": {"limit": 64 << 20}})).ok();
        let swap = update_with(ctx, &c, &json!({"memory": {"swap": 128 << 20}}));
        if !swap.success() && !is_v1 && ctx.kind() == Kind::Runc {
            // "unable to set swap limit without memory limit"
            ctx.deviation("runc's update forgets the limit an earlier update set (a swap alone is refused on cgroup v2)");
            return;
        }
        swap.ok();
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        if is_v1 {
            assert_eq!(read("memory.limit_in_bytes").trim(), "67108864");
            assert_eq!(read("memory.memsw.limit_in_bytes").trim(), "134217728");
        } else {
            assert_eq!(read("memory.max").trim(), "67108864");
            assert_eq!(read("memory.swap.max").trim(), "67108864");
        }
        // The pids limit, then the memory again: the pids limit stays.
        update_with(ctx, &c, &json!({"pids": {"limit": 33}})).ok();
        update_with(
            ctx,
            &c,
            &json!({"memory": {"limit": 96 << 20, "swap": 128 << 20}}),
        )
        .ok();
        let (_, pids) = cgroup_dir(c.pid.expect("pid"), "pids");
        let max = std::fs::read_to_string(pids.join("pids.max")).unwrap_or_default();
        assert_eq!(max.trim(), "33");
    });
}

#[verifies(
    "config_linux.memory.check_before_update",
    "config_linux.memory.check_before_update.reject"
)]
#[test]
fn update_check_before_update_refuses_a_limit_below_usage() {
    for_each_runtime("update-check-before-update", |ctx| {
        let b = ctx.bundle();
        // 24 MiB in a tmpfs file, charged to the container's memory cgroup.
        b.set_sh(
            "dd if=/dev/zero of=/dev/shm/fill bs=1M count=24 2>/dev/null; echo filled; sleep 600",
        );
        let mut c = ctx.container(&b);
        c.create().ok();
        c.start().ok();
        let deadline = std::time::Instant::now() + writ_conformance::scaled(T);
        while !c.stdout().contains("filled") {
            assert!(
                std::time::Instant::now() < deadline,
                "the container did not fill"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let (_, dir) = cgroup_dir(c.pid.expect("pid"), "memory");
        let low = json!({"memory": {"limit": 8 << 20, "checkBeforeUpdate": true}});
        let out = update_with(ctx, &c, &low);
        if out.success() && ctx.kind() != Kind::Writ {
            // The limit took: the container may be OOM-killed now.
            ctx.deviation("checkBeforeUpdate is ignored: a limit below the usage is applied");
            return;
        } else {
            out.fails();
            assert!(out.text_lower().contains("usage"), "says why: {out}");
        }
        let high = json!({"memory": {"limit": 256 << 20, "checkBeforeUpdate": true}});
        update_with(ctx, &c, &high).ok();
        let v1 = dir.join("memory.limit_in_bytes");
        let file = if v1.exists() {
            v1
        } else {
            dir.join("memory.max")
        };
        assert_eq!(
            std::fs::read_to_string(file).unwrap_or_default().trim(),
            (256u64 << 20).to_string()
        );
    });
}

#[test]
fn update_of_a_stopped_container_fails() {
    for_each_runtime("update-stopped", |ctx| {
        let b = ctx.bundle();
        let c = ctx.stopped(&b);
        let out = update_with(ctx, &c, &json!({"pids": {"limit": 10}}));
        if out.success() && ctx.kind() == Kind::Crun {
            ctx.deviation("crun updates a stopped container without an error");
        } else {
            out.fails();
        }
        ctx.cmd(&["update", "--pids-limit", "10", "no-such-container-upd"])
            .fails();
        assert_eq!(c.status(), "stopped");
    });
}
