//! The `seccomp` section: what the seccomp filter that every engine passes costs per
//! container and per exec (config-linux.md, "Seccomp": `linux.seccomp`).
//!
//! The profile is podman's default, read at run time from [`PROFILE`] (on Debian from the
//! golang-github-containers-common package; no copy of it is kept here, and without the
//! file the section is skipped). It is converted into `linux.seccomp` the way
//! containers/common's `pkg/seccomp` (`setupSeccomp`) does on x86_64, whose native
//! architecture libseccomp names `amd64`, for the capabilities of the benchmark's process
//! (`process.capabilities.bounding` of the bundle):
//!
//! - `architectures`: copied when the profile has that list; from `archMap` the entry for
//!   `SCMP_ARCH_X86_64` with its `subArchitectures` (`SCMP_ARCH_X86`, `SCMP_ARCH_X32`).
//!   A profile with both is refused (as containers/common does).
//! - `defaultAction` and `defaultErrnoRet` copied.
//! - a rule (`syscalls[]`) is dropped when `excludes.arches` names `amd64`, when
//!   `excludes.caps` names a capability the process has, when `includes.arches` does not
//!   name `amd64`, when `includes.caps` names one it lacks, or when `includes.minKernel`
//!   is newer than the running kernel (moby's rule; containers/common has no minKernel and
//!   podman's file uses none). Each kept rule carries `names` (or `name` as a one-name
//!   list; both at once is refused), `action`, `errnoRet` and `args` (`index`, `value`,
//!   `valueTwo`, `op`).
//! - dropped: `comment`, the `includes`/`excludes` themselves, `flags`, `listenerPath`,
//!   `listenerMetadata` (none in podman's file). containers/common also accepts errno names
//!   (`errno`, `defaultErrno`) and maps them through its own table; here a numeric one is
//!   used, and a name is taken only with its `errnoRet` beside it (podman's file has both),
//!   else the conversion fails rather than guess a number.
//!
//! Figures, in the same rounds for every runtime (the order of the runtimes and of the
//! figures rotating): `run` of `true` with the profile in the runtime's own root (its first
//! container there, untimed, is the warm-up: a runtime that keeps compiled filters in its
//! root compiles only for that one), `run` of `true` without seccomp, `run` with the
//! profile in a fresh root each round (the cold figure: everything compiled every time),
//! and `exec ID /bin/true` into a running container that has the profile (kubelet's exec
//! probes under RuntimeDefault).

use std::path::Path;

use serde_json::{json, Map, Value};
use writ_conformance::Bundle;

use crate::measure::Mode;
use crate::scale::run_in;
use crate::subject::{Ctr, Subject};

/// podman's default profile on this kind of host.
pub const PROFILE: &str = "/usr/share/containers/seccomp.json";

/// libseccomp's name of the native architecture, as profiles' `arches` spell it.
const NATIVE: &str = "amd64";
/// The `archMap` entry taken for it.
const NATIVE_SCMP: &str = "SCMP_ARCH_X86_64";

/// The converted profile and what the conversion did.
#[derive(Debug)]
pub struct Converted {
    /// The `linux.seccomp` object.
    pub seccomp: Value,
    /// Rules in the profile, rules kept, syscall names in the kept rules.
    pub rules: usize,
    pub kept: usize,
    pub names: usize,
    /// Rules dropped for their arches, capabilities, minimum kernel.
    pub by_arch: usize,
    pub by_caps: usize,
    pub by_kernel: usize,
}

impl Converted {
    /// The note line: where the profile comes from and what the conversion kept.
    pub fn note(&self, path: &str, caps: &[String]) -> String {
        let s = &self.seccomp;
        let arches: Vec<&str> = s["architectures"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        format!(
            "seccomp: podman's default profile, {path}, read at run time and converted as \
             containers/common does for x86_64 (amd64) with the process's capabilities ({}) \
             and the running kernel: {} of {} rules kept ({} syscall names; dropped {} for \
             their arches, {} for capabilities, {} for minKernel), architectures {}, \
             defaultAction {} (errno {}); warm: in the runtime's own root after one uncounted \
             `run` with the profile; cold: a fresh root for every `run`",
            caps.join(" "),
            self.kept,
            self.rules,
            self.names,
            self.by_arch,
            self.by_caps,
            self.by_kernel,
            arches.join(" "),
            s["defaultAction"].as_str().unwrap_or("?"),
            s.get("defaultErrnoRet")
                .map_or_else(|| "unset".to_owned(), Value::to_string),
        )
    }
}

/// `major.minor` of a kernel release ("6.18.44-fc" → (6, 18)).
pub fn kernel_version(release: &str) -> Option<(u64, u64)> {
    let mut it = release.split(['.', '-']);
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v[key]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Why a rule does not apply here (arches, capabilities, kernel), or None when it does.
#[derive(Debug, PartialEq)]
enum Unfit {
    Arch,
    Caps,
    Kernel,
}

fn fit(
    rule: &Value,
    caps: &[impl AsRef<str>],
    kernel: (u64, u64),
) -> Result<Option<Unfit>, String> {
    let (inc, exc) = (&rule["includes"], &rule["excludes"]);
    let has = |c: &&str| caps.iter().any(|k| k.as_ref() == *c);
    if strings(exc, "arches").contains(&NATIVE) {
        return Ok(Some(Unfit::Arch));
    }
    if strings(exc, "caps").iter().any(has) {
        return Ok(Some(Unfit::Caps));
    }
    let arches = strings(inc, "arches");
    if !arches.is_empty() && !arches.contains(&NATIVE) {
        return Ok(Some(Unfit::Arch));
    }
    if !strings(inc, "caps").iter().all(has) {
        return Ok(Some(Unfit::Caps));
    }
    if let Some(min) = inc["minKernel"].as_str() {
        let v = kernel_version(min).ok_or_else(|| format!("includes.minKernel {min:?}"))?;
        if kernel < v {
            return Ok(Some(Unfit::Kernel));
        }
    }
    Ok(None)
}

/// The errno of a rule or of the profile: `ret_key` (a number), else `name_key` when it is
/// a number; a name alone is refused.
fn errno(v: &Value, ret_key: &str, name_key: &str, at: &str) -> Result<Option<Value>, String> {
    if let Some(n) = v.get(ret_key) {
        return match n.as_u64() {
            Some(n) => Ok(Some(json!(n))),
            None => Err(format!("{at}.{ret_key}: not a number: {n}")),
        };
    }
    match v.get(name_key).and_then(Value::as_str) {
        None => Ok(None),
        Some(s) => s.parse::<u64>().map(|n| Some(json!(n))).map_err(|_| {
            format!("{at}.{name_key} {s:?}: an errno name without {ret_key} is not converted")
        }),
    }
}

fn architectures(p: &Value) -> Result<Vec<Value>, String> {
    let (list, map) = (p["architectures"].as_array(), p["archMap"].as_array());
    match (list, map) {
        (Some(_), Some(_)) => Err("both architectures and archMap: use one of them".into()),
        (Some(list), None) => Ok(list.clone()),
        (None, Some(map)) => Ok(map
            .iter()
            .find(|a| a["architecture"] == NATIVE_SCMP)
            .map(|a| {
                let mut out = vec![a["architecture"].clone()];
                out.extend(
                    a["subArchitectures"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
                out
            })
            .unwrap_or_default()),
        (None, None) => Ok(Vec::new()),
    }
}

fn arg(a: &Value, at: &str) -> Result<Value, String> {
    let mut out = Map::new();
    for key in ["index", "value", "valueTwo"] {
        match &a[key] {
            Value::Null if key == "valueTwo" => {}
            v if v.is_u64() => {
                out.insert(key.into(), v.clone());
            }
            v => return Err(format!("{at}.{key}: not a number: {v}")),
        }
    }
    let op = a["op"]
        .as_str()
        .ok_or_else(|| format!("{at}.op: missing"))?;
    out.insert("op".into(), json!(op));
    Ok(Value::Object(out))
}

/// Convert a profile (podman's format) into `linux.seccomp` for an x86_64 process with
/// the bounding capabilities `caps` on a kernel of version `kernel`.
pub fn convert(
    p: &Value,
    caps: &[impl AsRef<str>],
    kernel: (u64, u64),
) -> Result<Converted, String> {
    let action = p["defaultAction"]
        .as_str()
        .ok_or("defaultAction: missing")?;
    let mut out = Map::new();
    out.insert("defaultAction".into(), json!(action));
    if let Some(e) = errno(p, "defaultErrnoRet", "defaultErrno", "")? {
        out.insert("defaultErrnoRet".into(), e);
    }
    let arches = architectures(p)?;
    if !arches.is_empty() {
        out.insert("architectures".into(), Value::Array(arches));
    }
    let rules = p["syscalls"].as_array().cloned().unwrap_or_default();
    let mut c = Converted {
        seccomp: Value::Null,
        rules: rules.len(),
        kept: 0,
        names: 0,
        by_arch: 0,
        by_caps: 0,
        by_kernel: 0,
    };
    let mut syscalls = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("syscalls[{i}]");
        match fit(rule, caps, kernel).map_err(|e| format!("{at}.{e}"))? {
            Some(Unfit::Arch) => c.by_arch += 1,
            Some(Unfit::Caps) => c.by_caps += 1,
            Some(Unfit::Kernel) => c.by_kernel += 1,
            None => {
                let names = match (rule.get("name"), rule.get("names")) {
                    (Some(_), Some(_)) => return Err(format!("{at}: both name and names")),
                    (Some(n), None) => vec![n.clone()],
                    (None, Some(Value::Array(n))) => n.clone(),
                    _ => return Err(format!("{at}: no names")),
                };
                let mut s = Map::new();
                c.names += names.len();
                s.insert("names".into(), Value::Array(names));
                let action = rule["action"]
                    .as_str()
                    .ok_or_else(|| format!("{at}.action: missing"))?;
                s.insert("action".into(), json!(action));
                if let Some(e) = errno(rule, "errnoRet", "errno", &at)? {
                    s.insert("errnoRet".into(), e);
                }
                let args = rule["args"].as_array().cloned().unwrap_or_default();
                if !args.is_empty() {
                    let args = args
                        .iter()
                        .enumerate()
                        .map(|(j, a)| arg(a, &format!("{at}.args[{j}]")))
                        .collect::<Result<Vec<_>, _>>()?;
                    s.insert("args".into(), Value::Array(args));
                }
                syscalls.push(Value::Object(s));
                c.kept += 1;
            }
        }
    }
    out.insert("syscalls".into(), Value::Array(syscalls));
    c.seccomp = Value::Object(out);
    Ok(c)
}

/// Read and convert the profile at `path` for `config`'s process on this kernel; None when
/// the file does not exist.
pub fn load(path: &Path, config: &Value) -> Result<Option<(Converted, Vec<String>)>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let profile: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let caps: Vec<String> = strings(&config["process"]["capabilities"], "bounding")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(|e| format!("/proc/sys/kernel/osrelease: {e}"))?;
    let kernel = kernel_version(release.trim())
        .ok_or_else(|| format!("kernel release {:?}", release.trim()))?;
    let c = convert(&profile, &caps, kernel).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some((c, caps)))
}

/// A bundle (the base config, valid for every runtime) running `args` with `seccomp`.
pub fn bundle(seccomp: &Value, args: &[&str]) -> Bundle {
    let b = Bundle::new();
    b.edit(|c| {
        c["process"]["args"] = json!(args);
        c["linux"]["seccomp"] = seccomp.clone();
    });
    b
}

/// One figure of a round.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// `run` with the profile in the subject's root.
    Warm,
    /// `run` without seccomp.
    Bare,
    /// `run` with the profile in a new root.
    Cold,
    /// `exec` into the subject's running container with the profile.
    Exec,
}

pub const OPS: [Op; 4] = [Op::Warm, Op::Bare, Op::Cold, Op::Exec];

/// One measurement of `op` for `s`. `with` runs `true` with the profile; `running` is
/// the subject's container with the profile (None: the runtime has no exec).
pub fn measure(
    s: &Subject,
    op: Op,
    with: &Bundle,
    running: Option<&Ctr<'_>>,
) -> Result<(), String> {
    match op {
        Op::Warm => run_in(s, with, "seccomp/warm"),
        Op::Bare => run_in(s, &s.bundle, "seccomp/bare"),
        Op::Cold => {
            let root = tempfile::Builder::new()
                .prefix("bench-cold-")
                .tempdir_in(writ_conformance::work_dir())
                .map_err(|e| format!("fresh root: {e}"))?;
            let mut c = Ctr::in_root(s, "benchcold", root.path());
            let m = c.run(Mode::Time, with.path())?;
            c.done();
            s.record_measured("seccomp/cold", m);
            Ok(())
        }
        Op::Exec => match running {
            Some(c) => {
                let m = s.invoke(Mode::Time, &c.id, &["exec", &c.id, "/bin/true"])?;
                s.record_measured("seccomp/exec", m);
                Ok(())
            }
            None => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filters of podman's format pick the rules for x86_64, the process's
    /// capabilities and the kernel, and carry errnos and argument conditions.
    #[test]
    fn conversion_keeps_the_rules_that_fit_x86_64_the_caps_and_the_kernel() {
        let p = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 38,
            "defaultErrno": "ENOSYS",
            "archMap": [
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
                {"architecture": "SCMP_ARCH_X86_64",
                 "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}
            ],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [],
                 "comment": "", "includes": {}, "excludes": {}},
                {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"arches": ["amd64", "x32"]}},
                {"names": ["breakpoint"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"arches": ["arm", "arm64"]}},
                {"names": ["bpf"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "errno": "EPERM",
                 "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
                 "excludes": {"caps": ["CAP_AUDIT_WRITE"]},
                 "args": [{"index": 0, "value": 16, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
                {"name": "personality", "action": "SCMP_ACT_ALLOW",
                 "includes": {"caps": ["CAP_AUDIT_WRITE"]},
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["clone3"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"minKernel": "5.3"}},
                {"names": ["futex_waitv"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"minKernel": "7.1"}}
            ]
        });
        let c = convert(&p, &["CAP_AUDIT_WRITE", "CAP_KILL"], (6, 18)).unwrap();
        let s = &c.seccomp;
        assert_eq!(s["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(s["defaultErrnoRet"], 38);
        assert_eq!(
            s["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        let names: Vec<&Value> = s["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["names"])
            .collect();
        assert_eq!(
            names,
            [
                &json!(["read", "write"]),
                &json!(["arch_prctl"]),
                &json!(["bpf"]),
                &json!(["personality"]),
                &json!(["clone3"])
            ]
        );
        let rules = s["syscalls"].as_array().unwrap();
        assert_eq!(rules[2]["errnoRet"], 1);
        assert_eq!(rules[2]["action"], "SCMP_ACT_ERRNO");
        assert_eq!(
            rules[3]["args"],
            json!([{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}])
        );
        assert!(rules[0].get("args").is_none() && rules[0].get("comment").is_none());
        assert_eq!((c.rules, c.kept, c.names), (9, 5, 6));
        assert_eq!((c.by_arch, c.by_caps, c.by_kernel), (1, 2, 1));
        // With CAP_SYS_ADMIN the other bpf rule is the one kept.
        let admin = convert(&p, &["CAP_SYS_ADMIN"], (5, 2)).unwrap();
        let bpf: Vec<&Value> = admin.seccomp["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["names"] == json!(["bpf"]))
            .collect();
        assert_eq!(bpf.len(), 1);
        assert_eq!(bpf[0]["action"], "SCMP_ACT_ALLOW");
        assert_eq!((admin.by_kernel, admin.kept), (2, 4));
    }

    #[test]
    fn profiles_that_cannot_be_converted_faithfully_are_refused() {
        let both = json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
                          "archMap": [], "syscalls": []});
        assert!(convert(&both, &[""; 0], (6, 1)).is_err());
        let name_only = json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errno": "EPERM"}]});
        let e = convert(&name_only, &[""; 0], (6, 1)).unwrap_err();
        assert!(e.contains("syscalls[0].errno"), "{e}");
        let numeric = json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "38",
                             "syscalls": [{"name": "bpf", "names": ["bpf"], "action": "SCMP_ACT_ALLOW"}]});
        assert!(convert(&numeric, &[""; 0], (6, 1))
            .unwrap_err()
            .contains("both name and names"));
        // A missing profile is no profile (the section is skipped); a present one is
        // converted for the capabilities of the config's process.
        let config = json!({"process": {"capabilities": {"bounding": ["CAP_SYS_ADMIN"]}}});
        assert!(load(Path::new("/nonexistent/seccomp.json"), &config)
            .unwrap()
            .is_none());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("seccomp.json");
        let p = json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]});
        std::fs::write(&file, p.to_string()).unwrap();
        let (c, caps) = load(&file, &config).unwrap().unwrap();
        assert_eq!((caps, c.kept), (vec!["CAP_SYS_ADMIN".to_string()], 1));
        std::fs::write(&file, "{").unwrap();
        assert!(load(&file, &config).is_err());
        assert_eq!(kernel_version("6.18.44-fc-v1045"), Some((6, 18)));
        assert_eq!(kernel_version("5.4"), Some((5, 4)));
        assert_eq!(kernel_version("x"), None);
    }
}
