//! Seccomp (config-linux.md#seccomp): the config's profile is checked at plan time,
//! compiled to a BPF program by create (with libseccomp, before the clone), and loaded by
//! the container's init with one seccomp(2) call just before exec.

use std::str::FromStr;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use writ_spec::{Seccomp, SeccompAction, SeccompFlag, SeccompOperator};

use crate::sys::{errno_text, Errno};

/// A compiled filter: raw `struct sock_filter` array and the seccomp(2) flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub bpf: Vec<u8>,
    pub flags: u32,
    /// Syscall names of the profile that libseccomp does not know (their rules skipped).
    pub unknown: Vec<String>,
}

const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
const SECCOMP_FILTER_FLAG_LOG: u32 = 1 << 1;
const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 1 << 2;

fn returns_errno(a: SeccompAction) -> bool {
    matches!(a, SeccompAction::ScmpActErrno | SeccompAction::ScmpActTrace)
}

/// Checks a profile before anything is touched; returns the message and JSON pointer of the
/// first problem.
#[writ_macros::requirement(
    "config_linux.seccomp.default_errno.unsupported",
    "config_linux.seccomp.syscalls.names.non_empty",
    "config_linux.seccomp.syscalls.errno.unsupported",
    "config_linux.seccomp.listener_metadata.needs_path"
)]
pub fn check(s: &Seccomp) -> Result<(), (String, String)> {
    if s.default_errno_ret.is_some() && !returns_errno(s.default_action) {
        return Err((
            "/linux/seccomp/defaultErrnoRet".into(),
            format!(
                "is only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {}",
                s.default_action
            ),
        ));
    }
    if s.listener_metadata.is_some() && s.listener_path.is_none() {
        return Err((
            "/linux/seccomp/listenerMetadata".into(),
            "needs listenerPath".into(),
        ));
    }
    if s.listener_path.is_some() {
        return Err((
            "/linux/seccomp/listenerPath".into(),
            "seccomp notification listeners are not supported by writ".into(),
        ));
    }
    for (i, r) in s.syscalls.iter().flatten().enumerate() {
        if r.names.is_empty() {
            return Err((
                format!("/linux/seccomp/syscalls/{i}/names"),
                "must list at least one syscall".into(),
            ));
        }
        if r.errno_ret.is_some() && !returns_errno(r.action) {
            return Err((
                format!("/linux/seccomp/syscalls/{i}/errnoRet"),
                format!(
                    "is only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {}",
                    r.action
                ),
            ));
        }
        if r.action == SeccompAction::ScmpActNotify
            || s.default_action == SeccompAction::ScmpActNotify
        {
            return Err((
                format!("/linux/seccomp/syscalls/{i}/action"),
                "SCMP_ACT_NOTIFY is not supported by writ".into(),
            ));
        }
    }
    Ok(())
}

fn action(a: SeccompAction, errno: Option<u32>) -> Result<ScmpAction, String> {
    Ok(match a {
        SeccompAction::ScmpActKill | SeccompAction::ScmpActKillThread => ScmpAction::KillThread,
        SeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        SeccompAction::ScmpActTrap => ScmpAction::Trap,
        SeccompAction::ScmpActErrno => {
            ScmpAction::Errno(errno.unwrap_or(libc::EPERM as u32) as i32)
        }
        SeccompAction::ScmpActTrace => {
            ScmpAction::Trace(errno.unwrap_or(libc::EPERM as u32) as u16)
        }
        SeccompAction::ScmpActAllow => ScmpAction::Allow,
        SeccompAction::ScmpActLog => ScmpAction::Log,
        SeccompAction::ScmpActNotify => return Err("SCMP_ACT_NOTIFY is not supported".into()),
        other => {
            return Err(format!(
                "seccomp action {other} is not supported by this writ"
            ))
        }
    })
}

/// The version of the libseccomp in use, e.g. "2.5.4" (for messages).
pub fn libseccomp_version() -> String {
    match libseccomp::ScmpVersion::current() {
        Ok(v) => format!("{}.{}.{}", v.major, v.minor, v.micro),
        Err(_) => "(version unknown)".into(),
    }
}

/// Compiles the profile. Syscall names this libseccomp does not know are skipped, as runc
/// does (profiles list syscalls of newer kernels), and listed in `Program::unknown` for
/// the caller to warn about. The default action, each rule's action and errno, and each
/// argument comparison go into the filter as given.
#[writ_macros::requirement(
    "config_linux.seccomp.default_action.required",
    "config_linux.seccomp.syscalls.action.required",
    "config_linux.seccomp.args.op.required"
)]
pub fn compile(s: &Seccomp) -> Result<Program, String> {
    let e = |what: &str, err: libseccomp::error::SeccompError| format!("seccomp: {what}: {err}");
    let default = action(s.default_action, s.default_errno_ret)?;
    let mut ctx = ScmpFilterContext::new(default).map_err(|x| e("creating the filter", x))?;
    let mut unknown: Vec<String> = Vec::new();
    // noNewPrivileges is the config's business, not libseccomp's.
    ctx.set_ctl_nnp(false)
        .map_err(|x| e("filter attribute", x))?;
    for a in s.architectures.iter().flatten() {
        let arch = ScmpArch::from_str(&a.to_string()).map_err(|x| e("architecture", x))?;
        match ctx.add_arch(arch) {
            Ok(_) => {}
            Err(x) if x.errno() == Some(libseccomp::error::SeccompErrno::EEXIST) => {}
            Err(x) => return Err(e(&format!("adding architecture {a}"), x)),
        }
    }
    for r in s.syscalls.iter().flatten() {
        let act = action(r.action, r.errno_ret)?;
        if act == default {
            continue;
        }
        let mut conds = Vec::new();
        for arg in r.args.iter().flatten() {
            let (op, datum) = match arg.op {
                SeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value),
                SeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, arg.value),
                SeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value),
                SeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value),
                SeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value),
                SeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value),
                SeccompOperator::ScmpCmpMaskedEq => (
                    ScmpCompareOp::MaskedEqual(arg.value),
                    arg.value_two.unwrap_or(0),
                ),
                other => {
                    return Err(format!(
                        "seccomp operator {other} is not supported by this writ"
                    ))
                }
            };
            conds.push(ScmpArgCompare::new(arg.index, op, datum));
        }
        for name in &r.names {
            let Ok(sc) = ScmpSyscall::from_name(name) else {
                if !unknown.contains(name) {
                    unknown.push(name.clone());
                }
                continue;
            };
            let res = if conds.is_empty() {
                ctx.add_rule(act, sc)
            } else {
                ctx.add_rule_conditional(act, sc, &conds)
            };
            res.map_err(|x| e(&format!("rule for {name}"), x))?;
        }
    }
    let mut flags = 0;
    for f in s.flags.iter().flatten() {
        match f {
            SeccompFlag::SeccompFilterFlagLog => flags |= SECCOMP_FILTER_FLAG_LOG,
            SeccompFlag::SeccompFilterFlagSpecAllow => flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            // The init is single-threaded (TSYNC is moot); no listener (WAIT_KILLABLE_RECV).
            SeccompFlag::SeccompFilterFlagTsync
            | SeccompFlag::SeccompFilterFlagWaitKillableRecv => {}
            other => {
                return Err(format!(
                    "seccomp flag {other} is not supported by this writ"
                ))
            }
        }
    }
    let memfd =
        rustix::fs::memfd_create("writ-seccomp", rustix::fs::MemfdFlags::CLOEXEC).map_err(|x| {
            format!(
                "seccomp: memfd: {}",
                errno_text(Errno::from_raw(x.raw_os_error()))
            )
        })?;
    ctx.export_bpf(&memfd)
        .map_err(|x| e("exporting the program", x))?;
    let size = rustix::fs::fstat(&memfd)
        .map_err(|x| format!("seccomp: {}", errno_text(Errno::from_raw(x.raw_os_error()))))?
        .st_size as usize;
    let mut bpf = vec![0u8; size];
    let mut off = 0;
    while off < size {
        match rustix::io::pread(&memfd, &mut bpf[off..], off as u64) {
            Ok(0) => break,
            Ok(n) => off += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(x) => {
                return Err(format!(
                    "seccomp: reading the program: {}",
                    errno_text(Errno::from_raw(x.raw_os_error()))
                ))
            }
        }
    }
    bpf.truncate(off);
    Ok(Program {
        bpf,
        flags,
        unknown,
    })
}

/// Installs the program on the calling process (seccomp(SECCOMP_SET_MODE_FILTER)).
pub fn load(p: &Program) -> Result<(), String> {
    #[repr(C)]
    struct SockFprog {
        len: libc::c_ushort,
        filter: *const u8,
    }
    let prog = SockFprog {
        len: (p.bpf.len() / 8) as libc::c_ushort,
        filter: p.bpf.as_ptr(),
    };
    // SAFETY: the program struct points at a live buffer of `len` 8-byte BPF instructions.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            p.flags,
            &prog as *const SockFprog,
        )
    };
    if r < 0 {
        return Err(format!(
            "loading the seccomp filter: {}",
            errno_text(Errno::last())
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(v: serde_json::Value) -> Seccomp {
        serde_json::from_value(v).unwrap()
    }

    #[writ_macros::verifies(
        "config_linux.seccomp.default_errno.unsupported",
        "config_linux.seccomp.syscalls.errno.unsupported",
        "config_linux.seccomp.syscalls.names.non_empty"
    )]
    #[test]
    fn bad_profiles_are_rejected() {
        let bad = [
            serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}),
            serde_json::json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}),
            serde_json::json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}),
        ];
        for b in bad {
            assert!(check(&profile(b.clone())).is_err(), "{b}");
        }
    }

    #[test]
    fn profiles_compile_to_bpf() {
        let p = profile(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls": [
                {"names": ["read", "write", "no_such_syscall_xyz"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}
            ]
        }));
        check(&p).unwrap();
        let prog = compile(&p).unwrap();
        assert!(!prog.bpf.is_empty());
        assert_eq!(prog.bpf.len() % 8, 0);
        assert_eq!(prog.flags, SECCOMP_FILTER_FLAG_LOG);
        assert_eq!(prog.unknown, vec!["no_such_syscall_xyz".to_string()]);
    }
}
