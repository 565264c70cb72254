//! The user process's attributes (config.md#process, config-linux.md): user and groups,
//! capabilities, rlimits, noNewPrivileges, oomScoreAdj, LSM labels, ioPriority, scheduler,
//! CPU affinity, and the final execve.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::plan::{CapsPlan, ProcessPlan, RlimitPlan};
use crate::sys::{self, Context, Errno, SysError};

/// Why the process's attributes could not be set, or its program not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ProcessError {
    /// A system call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// No program to run (process.args is empty).
    #[error("process.args is empty")]
    NoArgs,
    /// args[0] is not found in $PATH (engines look for this text).
    #[error("exec: {0:?}: executable file not found in $PATH")]
    NotInPath(String),
    /// An argument, environment entry or path cannot be passed to execve.
    #[error("{0:?} contains NUL")]
    Nul(String),
}

/// Sets every rlimit of the config; a failure names the limit.
#[writ_macros::requirement(
    "config.process.rlimits.soft.applied",
    "config.process.rlimits.hard.applied"
)]
pub fn set_rlimits(limits: &[RlimitPlan]) -> Result<(), SysError> {
    for r in limits {
        let lim = libc::rlimit {
            rlim_cur: r.soft,
            rlim_max: r.hard,
        };
        // SAFETY: setrlimit with a valid struct; affects only this process.
        let rc = unsafe { libc::setrlimit(r.resource as _, &lim) };
        if rc != 0 {
            let e = Errno::last();
            let hint = if e == Errno::EPERM {
                " (raising a hard limit above the current one needs CAP_SYS_RESOURCE)"
            } else {
                ""
            };
            let what = format!(
                "setting rlimit {} to soft {} hard {}",
                r.name, r.soft, r.hard
            );
            return Err(SysError::new(what, e).hint(hint));
        }
    }
    Ok(())
}

/// Writes /proc/self/oom_score_adj.
#[writ_macros::requirement("config.process.oom_score_adj.set")]
pub fn set_oom_score_adj(v: i32) -> Result<(), SysError> {
    sys::write_file(
        Path::new("/proc/self/oom_score_adj"),
        v.to_string().as_bytes(),
    )
    .with_ctx(|| format!("setting oomScoreAdj {v}"))
}

/// process.ioPriority.
pub fn set_io_priority(class: u32, level: u32) -> Result<(), SysError> {
    sys::ioprio_set(class, level).ctx("setting ioPriority")
}

/// process.scheduler.
pub fn set_scheduler(s: &crate::plan::SchedPlan) -> Result<(), SysError> {
    let attr = sys::SchedAttr {
        sched_policy: s.policy,
        sched_flags: s.flags,
        sched_nice: s.nice,
        sched_priority: s.priority,
        sched_runtime: s.runtime,
        sched_deadline: s.deadline,
        sched_period: s.period,
        ..Default::default()
    };
    sys::sched_setattr(&attr).ctx("setting scheduler")
}

/// CPU affinity of the calling process.
pub fn set_affinity(cpus: &[usize], which: &str) -> Result<(), SysError> {
    let mut set = nix::sched::CpuSet::new();
    for c in cpus {
        set.set(*c)
            .with_ctx(|| format!("execCPUAffinity.{which}: cpu {c}"))?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
        .with_ctx(|| format!("setting execCPUAffinity.{which}"))
}

/// personality(2).
pub fn set_personality(p: u64) -> Result<(), SysError> {
    // SAFETY: personality only changes this process's execution domain.
    let r = unsafe { libc::personality(p as libc::c_ulong) };
    if r < 0 {
        return Err(SysError::new("setting personality", Errno::last()));
    }
    Ok(())
}

/// Sets the LSM labels the exec'd program gets (written just before execve), for the
/// container's process and an exec'd one alike.
pub fn set_exec_labels(p: &ProcessPlan) -> Result<(), SysError> {
    set_exec_labels_in(Path::new("/proc/self"), p)
}

/// [`set_exec_labels`] through the `attr` files under `proc_self` (`/proc/self`; a
/// directory standing for it in tests, as this host has neither AppArmor nor SELinux).
/// AppArmor's own `attr/apparmor/exec` is preferred to the shared `attr/exec` (Linux
/// 5.8+ with several LSMs).
pub(crate) fn set_exec_labels_in(proc_self: &Path, p: &ProcessPlan) -> Result<(), SysError> {
    let attr = proc_self.join("attr");
    if let Some(prof) = &p.apparmor_profile {
        let text = format!("exec {prof}");
        let r = sys::write_file(&attr.join("apparmor/exec"), text.as_bytes())
            .or_else(|_| sys::write_file(&attr.join("exec"), text.as_bytes()));
        r.with_ctx(|| format!("applying apparmor profile {prof}"))?;
    }
    if let Some(l) = &p.selinux_label {
        sys::write_file(&attr.join("exec"), l.as_bytes())
            .with_ctx(|| format!("applying selinux label {l}"))?;
    }
    Ok(())
}

/// Finds the program to exec: args[0] as a path, or searched in PATH of process.env,
/// inside the current root. The error texts are the ones engines look for.
pub fn resolve_executable(p: &ProcessPlan) -> Result<CString, ProcessError> {
    let Some(arg0) = p.args.first() else {
        return Err(ProcessError::NoArgs);
    };
    let check = |path: &Path| -> Result<(), Errno> {
        let md = std::fs::metadata(path)
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::ENOENT)))?;
        // A directory or a file without any execute bit cannot be run ("permission
        // denied", which engines map to exit status 126).
        if md.is_dir() || std::os::unix::fs::PermissionsExt::mode(&md.permissions()) & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        Ok(())
    };
    if arg0.contains('/') {
        let path = if arg0.starts_with('/') {
            Path::new(arg0).to_path_buf()
        } else {
            Path::new(&p.cwd).join(arg0)
        };
        check(&path).with_ctx(|| format!("exec: {arg0:?}: stat {}", path.display()))?;
        return CString::new(arg0.as_bytes()).map_err(|_| ProcessError::Nul(arg0.clone()));
    }
    let path_var = p
        .env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path_var.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = Path::new(dir).join(arg0);
        if check(&cand).is_ok() {
            return CString::new(cand.as_os_str().as_bytes())
                .map_err(|_| ProcessError::Nul(path_var.to_string()));
        }
    }
    Err(ProcessError::NotInPath(arg0.clone()))
}

/// Drops capabilities from the bounding set (needs CAP_SETPCAP, so before the user change).
/// Every capability left out is dropped without reading the set first: dropping one that
/// is not there succeeds, so a read would only add a call.
fn drop_bounding(bounding: u64, last: u32) -> Result<(), SysError> {
    for cap in (0..=last).filter(|&cap| bounding & (1u64 << cap) == 0) {
        match sys::prctl(libc::PR_CAPBSET_DROP, cap as u64, 0) {
            Ok(()) | Err(Errno::EINVAL) => {}
            Err(e) => {
                return Err(SysError::new(
                    format!("dropping capability {cap} from the bounding set"),
                    e,
                ))
            }
        }
    }
    Ok(())
}

/// The capabilities numbered up to `last` whose bit is set in `bits`.
fn caps_in(bits: u64, last: u32) -> impl Iterator<Item = u32> {
    (0..=last.min(63)).filter(move |&cap| bits & (1u64 << cap) != 0)
}

/// Switches to the process's user and groups, keeping exactly the configured capabilities,
/// then sets noNewPrivileges.
pub fn set_user_and_caps(p: &ProcessPlan) -> Result<(), SysError> {
    let Some(caps) = p.capabilities else {
        // No capabilities object: the kernel's usual rules for a uid change apply.
        set_ids(p)?;
        return set_nnp(p);
    };
    // The kernel's last capability, as the plan found it (the same kernel).
    let last = caps.last_cap;
    let known = if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    };
    let caps = grantable(CapsPlan {
        bounding: caps.bounding & known,
        effective: caps.effective & known,
        inheritable: caps.inheritable & known,
        permitted: caps.permitted & known,
        ambient: caps.ambient & known,
        last_cap: last,
    })?;
    drop_bounding(caps.bounding, last)?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 1, 0).ctx("keeping capabilities")?;
    set_ids(p)?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 0, 0).ctx("resetting keepcaps")?;
    sys::capset(caps.effective, caps.permitted, caps.inheritable).ctx("setting capabilities")?;
    set_ambient(caps)?;
    set_nnp(p)
}

/// The ambient set after capset: cleared, then the configured capabilities raised. capset
/// has already taken out of the ambient set every capability not both permitted and
/// inheritable, and only such a capability can be raised (the kernel answers EPERM for
/// any other; like runc, that is not fatal): with none of them there is nothing to
/// clear or raise, and no call is made.
fn set_ambient(caps: CapsPlan) -> Result<(), SysError> {
    let raisable = caps.permitted & caps.inheritable;
    if raisable == 0 {
        return Ok(());
    }
    let _ = sys::prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as u64,
        0,
    );
    for cap in caps_in(caps.ambient & raisable, caps.last_cap) {
        match sys::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as u64,
            cap as u64,
        ) {
            // SECBIT_NO_CAP_AMBIENT_RAISE: not raised, as for any capability refused.
            Ok(()) | Err(Errno::EPERM) => {}
            Err(e) => {
                return Err(SysError::new(
                    format!("raising ambient capability {cap}"),
                    e,
                ))
            }
        }
    }
    Ok(())
}

/// The requested capabilities less those this process cannot give: a capability
/// missing from its own bounding or permitted set (root without CAP_SYS_RESOURCE, a
/// runtime in a restricted user namespace) is left out with a warning, as config.md
/// asks, rather than making capset fail. An inheritable capability needs to be
/// inheritable already, or permitted and in the container's bounding set. Of the
/// runtime's bounding set only the capabilities the container asks to keep are read
/// (PR_CAPBSET_READ, one call each): the others are dropped whatever they are.
#[writ_macros::requirement(
    "config.process.capabilities.unknown_warn",
    "config.process.capabilities.ungrantable_ok"
)]
fn grantable(caps: CapsPlan) -> Result<CapsPlan, SysError> {
    let last = caps.last_cap;
    let (_, own_permitted, own_inheritable) =
        sys::capget().ctx("reading the runtime's capabilities")?;
    let own_bounding = caps_in(caps.bounding, last)
        .filter(|&cap| sys::in_bounding_set(cap))
        .fold(0u64, |bits, cap| bits | (1u64 << cap));
    let ok_inheritable = own_inheritable | (own_permitted & own_bounding & caps.bounding);
    let sets = [
        ("bounding", caps.bounding, own_bounding),
        ("permitted", caps.permitted, own_permitted),
        ("effective", caps.effective, own_permitted),
        ("inheritable", caps.inheritable, ok_inheritable),
    ];
    let wanted = sets.iter().fold(0u64, |bits, (_, want, _)| bits | want);
    for cap in caps_in(wanted, last) {
        let bit = 1u64 << cap;
        let missing: Vec<&str> = sets
            .iter()
            .filter(|(_, want, can)| want & bit != 0 && can & bit == 0)
            .map(|(name, _, _)| *name)
            .collect();
        if !missing.is_empty() {
            crate::logging::warn(&format!(
                "process.capabilities.{{{}}}: {} cannot be granted (the runtime does not hold it); left out",
                missing.join(","),
                crate::plan::cap_name(cap)
            ));
        }
    }
    Ok(CapsPlan {
        bounding: caps.bounding & own_bounding,
        permitted: caps.permitted & own_permitted,
        effective: caps.effective & own_permitted,
        inheritable: caps.inheritable & ok_inheritable,
        ambient: caps.ambient,
        last_cap: last,
    })
}

fn set_nnp(p: &ProcessPlan) -> Result<(), SysError> {
    if p.no_new_privileges {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0).ctx("setting noNewPrivileges")?;
    }
    Ok(())
}

/// setgroups, setresgid, setresuid, as the raw system calls of the calling thread: the
/// process is single-threaded here (a forked init or exec child), so they change the
/// whole process, without the C library's broadcast to other threads (musl blocks and
/// restores every signal around each of the three calls).
fn set_ids(p: &ProcessPlan) -> Result<(), SysError> {
    // Unchecked: an id of -1 goes to the kernel as given ("unchanged"), as libc passes it.
    use rustix::process::{Gid, Uid};
    let gids: Vec<Gid> = p
        .additional_gids
        .iter()
        .map(|g| Gid::from_raw_unchecked(*g))
        .collect();
    match rustix::thread::set_thread_groups(&gids) {
        Ok(()) => {}
        // In a user namespace with setgroups denied and no extra groups: nothing to do.
        Err(rustix::io::Errno::PERM) if gids.is_empty() => {}
        Err(e) => {
            return Err(SysError::new(
                format!("setting additional gids {:?}", p.additional_gids),
                e,
            ))
        }
    }
    let gid = Gid::from_raw_unchecked(p.gid);
    rustix::thread::set_thread_res_gid(gid, gid, gid)
        .with_ctx(|| format!("setting gid {}", p.gid))?;
    let uid = Uid::from_raw_unchecked(p.uid);
    rustix::thread::set_thread_res_uid(uid, uid, uid).with_ctx(|| format!("setting uid {}", p.uid))
}

/// Prepared argv/envp for execve, built before the point of no return.
pub struct ExecArgs {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
}

impl ExecArgs {
    pub fn new(path: CString, p: &ProcessPlan) -> Result<ExecArgs, ProcessError> {
        let cs = |s: &String| CString::new(s.as_bytes()).map_err(|_| ProcessError::Nul(s.clone()));
        let argv = p.args.iter().map(cs).collect::<Result<Vec<_>, _>>()?;
        let envp = p.env.iter().map(cs).collect::<Result<Vec<_>, _>>()?;
        Ok(ExecArgs { path, argv, envp })
    }

    /// execve; returns only on failure.
    pub fn exec(&self) -> SysError {
        let e = nix::unistd::execve(&self.path, &self.argv, &self.envp)
            .err()
            .unwrap_or(Errno::UnknownErrno);
        SysError::new(format!("exec {:?}", self.path), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsm_labels_are_written_to_the_exec_attr_files() {
        let d = tempfile::tempdir().unwrap();
        let attr = d.path().join("attr");
        std::fs::create_dir_all(attr.join("apparmor")).unwrap();
        for f in ["apparmor/exec", "exec"] {
            std::fs::write(attr.join(f), "").unwrap();
        }
        let p = ProcessPlan {
            apparmor_profile: Some("writ-exec".into()),
            ..Default::default()
        };
        set_exec_labels_in(d.path(), &p).unwrap();
        let read = |f: &str| std::fs::read_to_string(attr.join(f)).unwrap();
        assert_eq!(read("apparmor/exec"), "exec writ-exec");
        assert_eq!(read("exec"), "");
        // Without AppArmor's own file: the shared one.
        std::fs::remove_file(attr.join("apparmor/exec")).unwrap();
        set_exec_labels_in(d.path(), &p).unwrap();
        assert_eq!(read("exec"), "exec writ-exec");
        let p = ProcessPlan {
            selinux_label: Some("system_u:system_r:container_t:s0".into()),
            ..Default::default()
        };
        set_exec_labels_in(d.path(), &p).unwrap();
        assert_eq!(read("exec"), "system_u:system_r:container_t:s0");
        // No attr files at all (no LSM): the error names the label.
        let e = set_exec_labels_in(&d.path().join("none"), &p).unwrap_err();
        assert!(e.to_string().contains("container_t"), "{e}");
    }

    fn plan(args: &[&str], env: &[&str]) -> ProcessPlan {
        ProcessPlan {
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|s| s.to_string()).collect(),
            cwd: "/".into(),
            ..Default::default()
        }
    }

    #[test]
    fn executables_are_found_in_path_or_reported_like_runc() {
        let p = plan(&["sh"], &["PATH=/nonexistent:/bin"]);
        assert_eq!(resolve_executable(&p).unwrap().to_str().unwrap(), "/bin/sh");
        let e = resolve_executable(&plan(&["no-such-prog-xyz"], &["PATH=/bin"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "exec: \"no-such-prog-xyz\": executable file not found in $PATH"
        );
        let e = resolve_executable(&plan(&["/no/such/file"], &[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such file or directory"), "{e}");
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("not-exec");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        let e = resolve_executable(&plan(&[f.to_str().unwrap()], &[])).unwrap_err();
        assert!(
            matches!(&e, ProcessError::Sys(s) if s.errno() == Errno::EACCES),
            "{e}"
        );
    }
}
