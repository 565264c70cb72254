//! The user process's attributes (config.md#process, config-linux.md): user and groups,
//! capabilities, rlimits, noNewPrivileges, oomScoreAdj, LSM labels, ioPriority, scheduler,
//! CPU affinity, and the final execve.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::plan::{CapsPlan, ProcessPlan, RlimitPlan};
use crate::sys::{self, errno_text, Errno};

/// Sets every rlimit of the config; a failure names the limit.
#[writ_macros::requirement(
    "config.process.rlimits.soft.applied",
    "config.process.rlimits.hard.applied"
)]
pub fn set_rlimits(limits: &[RlimitPlan]) -> Result<(), String> {
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
            return Err(format!(
                "setting rlimit {} to soft {} hard {}: {}{hint}",
                r.name,
                r.soft,
                r.hard,
                errno_text(e)
            ));
        }
    }
    Ok(())
}

/// Writes /proc/self/oom_score_adj.
#[writ_macros::requirement("config.process.oom_score_adj.set")]
pub fn set_oom_score_adj(v: i32) -> Result<(), String> {
    sys::write_file(
        Path::new("/proc/self/oom_score_adj"),
        v.to_string().as_bytes(),
    )
    .map_err(|e| format!("setting oomScoreAdj {v}: {}", sys::io_text(&e)))
}

/// process.ioPriority.
pub fn set_io_priority(class: u32, level: u32) -> Result<(), String> {
    sys::ioprio_set(class, level).map_err(|e| format!("setting ioPriority: {}", errno_text(e)))
}

/// process.scheduler.
pub fn set_scheduler(s: &crate::plan::SchedPlan) -> Result<(), String> {
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
    sys::sched_setattr(&attr).map_err(|e| format!("setting scheduler: {}", errno_text(e)))
}

/// CPU affinity of the calling process.
pub fn set_affinity(cpus: &[usize], which: &str) -> Result<(), String> {
    let mut set = nix::sched::CpuSet::new();
    for c in cpus {
        set.set(*c)
            .map_err(|e| format!("execCPUAffinity.{which}: cpu {c}: {}", errno_text(e)))?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
        .map_err(|e| format!("setting execCPUAffinity.{which}: {}", errno_text(e)))
}

/// personality(2).
pub fn set_personality(p: u64) -> Result<(), String> {
    // SAFETY: personality only changes this process's execution domain.
    let r = unsafe { libc::personality(p as libc::c_ulong) };
    if r < 0 {
        return Err(format!(
            "setting personality: {}",
            errno_text(Errno::last())
        ));
    }
    Ok(())
}

/// Sets the LSM labels the exec'd program gets (written just before execve).
pub fn set_exec_labels(p: &ProcessPlan) -> Result<(), String> {
    if let Some(prof) = &p.apparmor_profile {
        let text = format!("exec {prof}");
        let r = sys::write_file(Path::new("/proc/self/attr/apparmor/exec"), text.as_bytes())
            .or_else(|_| sys::write_file(Path::new("/proc/self/attr/exec"), text.as_bytes()));
        r.map_err(|e| format!("applying apparmor profile {prof}: {}", sys::io_text(&e)))?;
    }
    if let Some(l) = &p.selinux_label {
        sys::write_file(Path::new("/proc/self/attr/exec"), l.as_bytes())
            .map_err(|e| format!("applying selinux label {l}: {}", sys::io_text(&e)))?;
    }
    Ok(())
}

/// Finds the program to exec: args[0] as a path, or searched in PATH of process.env,
/// inside the current root. The error texts are the ones engines look for.
pub fn resolve_executable(p: &ProcessPlan) -> Result<CString, String> {
    let Some(arg0) = p.args.first() else {
        return Err("process.args is empty".into());
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
        check(&path)
            .map_err(|e| format!("exec: {arg0:?}: stat {}: {}", path.display(), errno_text(e)))?;
        return CString::new(arg0.as_bytes())
            .map_err(|_| "process.args[0] contains NUL".to_string());
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
                .map_err(|_| "PATH contains NUL".to_string());
        }
    }
    Err(format!(
        "exec: {arg0:?}: executable file not found in $PATH"
    ))
}

/// Drops capabilities from the bounding set (needs CAP_SETPCAP, so before the user change).
fn drop_bounding(bounding: u64, last: u32) -> Result<(), String> {
    for cap in 0..=last {
        if bounding & (1u64 << cap) == 0 {
            match sys::prctl(libc::PR_CAPBSET_DROP, cap as u64, 0) {
                Ok(()) | Err(Errno::EINVAL) => {}
                Err(e) => {
                    return Err(format!(
                        "dropping capability {cap} from the bounding set: {}",
                        errno_text(e)
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Switches to the process's user and groups, keeping exactly the configured capabilities,
/// then sets noNewPrivileges.
pub fn set_user_and_caps(p: &ProcessPlan) -> Result<(), String> {
    let last = sys::cap_last_cap();
    let known = if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    };
    let Some(caps) = p.capabilities else {
        // No capabilities object: the kernel's usual rules for a uid change apply.
        set_ids(p)?;
        return set_nnp(p);
    };
    let caps = CapsPlan {
        bounding: caps.bounding & known,
        effective: caps.effective & known,
        inheritable: caps.inheritable & known,
        permitted: caps.permitted & known,
        ambient: caps.ambient & known,
    };
    drop_bounding(caps.bounding, last)?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 1, 0)
        .map_err(|e| format!("keeping capabilities: {}", errno_text(e)))?;
    set_ids(p)?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 0, 0)
        .map_err(|e| format!("resetting keepcaps: {}", errno_text(e)))?;
    sys::capset(caps.effective, caps.permitted, caps.inheritable)
        .map_err(|e| format!("setting capabilities: {}", errno_text(e)))?;
    let _ = sys::prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as u64,
        0,
    );
    for cap in 0..=last {
        if caps.ambient & (1u64 << cap) != 0 {
            // Like runc: an ambient capability missing from permitted or inheritable is
            // not raised (EPERM), and that is not fatal.
            match sys::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE as u64,
                cap as u64,
            ) {
                Ok(()) | Err(Errno::EPERM) => {}
                Err(e) => {
                    return Err(format!(
                        "raising ambient capability {cap}: {}",
                        errno_text(e)
                    ))
                }
            }
        }
    }
    set_nnp(p)
}

fn set_nnp(p: &ProcessPlan) -> Result<(), String> {
    if p.no_new_privileges {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0)
            .map_err(|e| format!("setting noNewPrivileges: {}", errno_text(e)))?;
    }
    Ok(())
}

/// setgroups, setresgid, setresuid.
fn set_ids(p: &ProcessPlan) -> Result<(), String> {
    let gids: Vec<nix::unistd::Gid> = p
        .additional_gids
        .iter()
        .map(|g| nix::unistd::Gid::from_raw(*g))
        .collect();
    match nix::unistd::setgroups(&gids) {
        Ok(()) => {}
        // In a user namespace with setgroups denied and no extra groups: nothing to do.
        Err(Errno::EPERM) if gids.is_empty() => {}
        Err(e) => {
            return Err(format!(
                "setting additional gids {:?}: {}",
                p.additional_gids,
                errno_text(e)
            ))
        }
    }
    let gid = nix::unistd::Gid::from_raw(p.gid);
    nix::unistd::setresgid(gid, gid, gid)
        .map_err(|e| format!("setting gid {}: {}", p.gid, errno_text(e)))?;
    let uid = nix::unistd::Uid::from_raw(p.uid);
    nix::unistd::setresuid(uid, uid, uid)
        .map_err(|e| format!("setting uid {}: {}", p.uid, errno_text(e)))
}

/// Prepared argv/envp for execve, built before the point of no return.
pub struct ExecArgs {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
}

impl ExecArgs {
    pub fn new(path: CString, p: &ProcessPlan) -> Result<ExecArgs, String> {
        let cs = |s: &String| CString::new(s.as_bytes()).map_err(|_| format!("{s:?} contains NUL"));
        let argv = p.args.iter().map(cs).collect::<Result<Vec<_>, _>>()?;
        let envp = p.env.iter().map(cs).collect::<Result<Vec<_>, _>>()?;
        Ok(ExecArgs { path, argv, envp })
    }

    /// execve; returns only on failure.
    pub fn exec(&self) -> String {
        let e = nix::unistd::execve(&self.path, &self.argv, &self.envp)
            .err()
            .unwrap_or(Errno::UnknownErrno);
        format!("exec {:?}: {}", self.path, errno_text(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(e.contains("executable file not found"), "{e}");
        let e = resolve_executable(&plan(&["/no/such/file"], &[])).unwrap_err();
        assert!(e.contains("no such file or directory"), "{e}");
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("not-exec");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        let e = resolve_executable(&plan(&[f.to_str().unwrap()], &[])).unwrap_err();
        assert!(e.contains("permission denied"), "{e}");
    }
}
