//! Process settings beyond the basics: personality, ioPriority, scheduler,
//! execCPUAffinity, seccomp, and a clear error for an LSM profile the host cannot apply.

use serde_json::json;
use writ_conformance::{for_each_runtime, kv_lines, Ctx, Kind, Out};
use writ_macros::verifies;

/// runc 1.1 predates some settings and silently ignores them; the oracle records that.
fn runc_ignores(ctx: &Ctx, what: &str, ok: bool, out: &Out) -> bool {
    if !ok && ctx.kind() == Kind::Runc {
        ctx.deviation(&format!("runc 1.1 does not apply {what}"));
        return true;
    }
    assert!(ok, "{what} applied: {out}");
    false
}

#[verifies("runtime.create.apply_config")]
#[test]
fn personality_linux32() {
    for_each_runtime("personality", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["linux"]["personality"] = json!({"domain": "LINUX32"}));
        b.set_sh("echo machine=$(uname -m)");
        let out = ctx.run(&b);
        out.ok();
        let m = kv_lines(&out.stdout)
            .get("machine")
            .cloned()
            .unwrap_or_default();
        runc_ignores(
            ctx,
            "linux.personality",
            m == "i686" || m == "armv8l" || m == "armv7l",
            &out,
        );
    });
}

#[verifies("runtime.create.process_props")]
#[test]
fn io_priority() {
    for_each_runtime("io-priority", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 6}));
        b.set_sh("ionice -p $$");
        let out = ctx.run(&b);
        out.ok();
        let line = out.stdout.trim().to_lowercase();
        runc_ignores(
            ctx,
            "process.ioPriority",
            line.contains("best") && line.contains('6'),
            &out,
        );
    });
}

#[verifies("runtime.create.process_props")]
#[test]
fn scheduler_policy_and_nice() {
    for_each_runtime("scheduler", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 5}));
        b.set_args(&["cat", "/proc/self/stat"]);
        let out = ctx.run(&b);
        out.ok();
        // Fields after the command name: state is field 3; nice is 19, policy 41.
        let rest = out.stdout.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        let nice = f.get(16).copied().unwrap_or("");
        let policy = f.get(38).copied().unwrap_or("");
        runc_ignores(ctx, "process.scheduler", nice == "5" && policy == "3", &out);
    });
}

#[verifies(
    "config.process.exec_cpu_affinity.final_unset",
    "runtime.create.process_props"
)]
#[test]
fn exec_cpu_affinity() {
    for_each_runtime("exec-cpu-affinity", |ctx| {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let last = cpus - 1;
        let b = ctx.bundle();
        b.edit(|c| {
            c["process"]["execCPUAffinity"] = json!({"initial": "0", "final": last.to_string()})
        });
        b.set_sh("taskset -p $$");
        let out = ctx.run(&b);
        out.ok();
        let mask = out
            .stdout
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or("")
            .to_owned();
        let want = format!("{:x}", 1u64 << last);
        if runc_ignores(ctx, "process.execCPUAffinity", mask == want, &out) {
            return;
        }
        // Without a final list, the process keeps the affinity it got (all CPUs here).
        let b = ctx.bundle();
        b.edit(|c| c["process"]["execCPUAffinity"] = json!({"initial": "0"}));
        b.set_sh("taskset -p $$");
        let out = ctx.run(&b);
        out.ok();
        let mask = out
            .stdout
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or("")
            .to_owned();
        let all = format!("{:x}", (1u64 << cpus) - 1);
        assert!(
            mask == all || mask == "1",
            "affinity without final: {mask} ({out})"
        );
    });
}

/// (That a profile without `defaultAction` or a rule without `action` is refused is proven
/// by `spec/tests/schema_ids.rs`.)
#[verifies("runtime.create.apply_config")]
#[test]
fn seccomp_rule_applied() {
    for_each_runtime("seccomp", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["seccomp"] = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                "syscalls": [
                    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                    {"names": ["unshare"], "action": "SCMP_ACT_ERRNO"}
                ]
            })
        });
        b.set_sh(
            "grep '^Seccomp:' /proc/self/status; if mkdir /tmp/d 2>/tmp/err; then echo mkdir=ok; else echo mkdir=$(cat /tmp/err); fi; \
             echo touch=$(touch /tmp/f && echo ok)",
        );
        // Twice in the same root: writ's second container loads the program it kept
        // from the first (runtime/src/seccomp/cache.rs).
        for round in ["first", "second"] {
            let out = ctx.run(&b);
            out.ok();
            assert!(
                out.stdout.contains("Seccomp:\t2"),
                "{round}: filter mode: {out}"
            );
            let kv = kv_lines(&out.stdout);
            let mkdir = kv.get("mkdir").cloned().unwrap_or_default();
            assert!(
                mkdir.contains("Operation not permitted"),
                "{round}: mkdir gets errnoRet 1 (EPERM): {out}"
            );
            assert_eq!(
                kv.get("touch").map(String::as_str),
                Some("ok"),
                "{round}: other syscalls allowed: {out}"
            );
        }
    });
}

#[verifies(
    "runtime.warnings.continue",
    "config_linux.seccomp.syscalls.names.required"
)]
#[test]
fn seccomp_unknown_syscall_is_skipped_with_a_warning() {
    for_each_runtime("seccomp-unknown", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| {
            c["linux"]["seccomp"] = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {"names": ["no_such_syscall_writ", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
                ]
            })
        });
        b.set_sh("if mkdir /tmp/d 2>/dev/null; then echo mkdir=ok; else echo mkdir=denied; fi");
        // Twice in the same root: writ's second container has its program from the cache,
        // and still warns.
        for round in ["first", "second"] {
            let _ = std::fs::remove_file(b.path().join("runtime.log"));
            let (out, text) = ctx.run_logged(&b);
            out.ok();
            assert_eq!(
                kv_lines(&out.stdout).get("mkdir").map(String::as_str),
                Some("denied"),
                "{round}: the known syscalls' rule is applied: {out}"
            );
            let warned = writ_conformance::json_log_warns(&text, "no_such_syscall_writ");
            if ctx.kind() == Kind::Runc && !warned {
                ctx.deviation("runc 1.1.5 skips an unknown syscall name without a warning");
                return;
            }
            assert!(
                warned,
                "{round}: a json warning names the unknown syscall: {text:?}"
            );
        }
    });
}

#[verifies(
    "runtime.create.apply_failure.error",
    "runtime.create.apply_failure.nothing_created"
)]
#[test]
fn apparmor_profile_without_apparmor_fails() {
    for_each_runtime("apparmor-absent", |ctx| {
        if std::path::Path::new("/sys/kernel/security/apparmor").exists() {
            // Not this scenario's host: AppArmor is active, the profile name would be used.
            ctx.skip("AppArmor is active on this host; the scenario needs a host without it");
        }
        let b = ctx.bundle();
        b.set_args(&["true"]);
        ctx.run(&b).ok(); // control: fine without the profile
        let b = ctx.bundle();
        b.edit(|c| c["process"]["apparmorProfile"] = json!("writ-conformance-profile"));
        b.set_args(&["true"]);
        let mut c = ctx.container(&b);
        let out = c.create();
        if ctx.kind() == Kind::Runc && out.success() {
            ctx.deviation("runc 1.1 ignores apparmorProfile when AppArmor is not enabled");
            return;
        }
        out.fails();
        assert!(
            out.text_lower().contains("apparmor"),
            "the error names AppArmor: {out}"
        );
        c.state_out().fails();
    });
}

#[verifies("runtime.create.apply_config")]
#[test]
fn memory_policy_is_the_process_policy() {
    for_each_runtime("memory-policy", |ctx| {
        let b = ctx.bundle();
        b.edit(|c| c["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "0"}));
        // A mapping without a policy of its own shows the task's (numa_maps, NUMA kernels).
        b.set_sh("head -n1 /proc/self/numa_maps");
        let out = ctx.run(&b);
        out.ok();
        if runc_ignores(
            ctx,
            "linux.memoryPolicy",
            out.stdout.contains(" bind:0 "),
            &out,
        ) {
            return;
        }
        // A node the host does not have: create fails naming the field.
        let b = ctx.bundle();
        b.edit(|c| c["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "1000"}));
        b.set_args(&["true"]);
        let out = ctx.run(&b);
        out.fails();
        if ctx.kind() == Kind::Writ {
            assert!(
                out.text_lower().contains("/linux/memorypolicy"),
                "names the field: {out}"
            );
        }
    });
}
