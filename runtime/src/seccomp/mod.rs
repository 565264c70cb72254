//! Seccomp (config-linux.md#seccomp): the config's profile (checked by
//! `crate::plan::seccomp`) is compiled to a BPF program by create (with libseccomp, before the clone), and loaded by
//! the container's init with one seccomp(2) call just before exec. Compiled programs are
//! kept in the state root and reused ([`cache`]).

use std::str::FromStr;

mod cache;
pub use cache::compile_cached;
#[cfg(test)]
pub use cache::DIR as CACHE_DIR;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use writ_spec::{Seccomp, SeccompAction, SeccompFlag, SeccompOperator};

use crate::sys::{Context, Errno, SysError};

/// Why a seccomp profile could not be compiled or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// libseccomp refused a part of the profile.
    #[error("seccomp: {what}: {source}")]
    Compile {
        /// The part of the profile.
        what: String,
        /// libseccomp's error.
        source: libseccomp::error::SeccompError,
    },
    /// A value (action, operator, flag) writ does not support (refused at plan time
    /// already).
    #[error("{0} is not supported by this writ")]
    Unsupported(String),
    /// A system call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
}

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

fn action(a: SeccompAction, errno: Option<u32>) -> Result<ScmpAction, SeccompError> {
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
        SeccompAction::ScmpActNotify => {
            return Err(SeccompError::Unsupported(
                "seccomp action SCMP_ACT_NOTIFY".into(),
            ))
        }
        other => return Err(SeccompError::Unsupported(format!("seccomp action {other}"))),
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
pub fn compile(s: &Seccomp) -> Result<Program, SeccompError> {
    let e = |what: &str, source: libseccomp::error::SeccompError| SeccompError::Compile {
        what: what.to_string(),
        source,
    };
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
                    return Err(SeccompError::Unsupported(format!(
                        "seccomp operator {other}"
                    )))
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
            other => return Err(SeccompError::Unsupported(format!("seccomp flag {other}"))),
        }
    }
    let memfd = rustix::fs::memfd_create("writ-seccomp", rustix::fs::MemfdFlags::CLOEXEC)
        .ctx("seccomp: memfd")?;
    ctx.export_bpf(&memfd)
        .map_err(|x| e("exporting the program", x))?;
    let size = rustix::fs::fstat(&memfd).ctx("seccomp: stat")?.st_size as usize;
    let mut bpf = vec![0u8; size];
    let mut off = 0;
    while off < size {
        match rustix::io::pread(&memfd, &mut bpf[off..], off as u64) {
            Ok(0) => break,
            Ok(n) => off += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(x) => return Err(SysError::new("seccomp: reading the program", x).into()),
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
pub fn load(p: &Program) -> Result<(), SysError> {
    #[repr(C)]
    struct SockFprog {
        len: libc::c_ushort,
        filter: *const u8,
    }
    let Ok(len) = libc::c_ushort::try_from(p.bpf.len() / 8) else {
        // Never cut to a prefix (the kernel refuses more than 4096 instructions anyway).
        return Err(SysError::new("loading the seccomp filter", Errno::E2BIG));
    };
    let prog = SockFprog {
        len,
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
        return Err(SysError::new("loading the seccomp filter", Errno::last()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(v: serde_json::Value) -> Seccomp {
        serde_json::from_value(v).unwrap()
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
        let prog = compile(&p).unwrap();
        assert!(!prog.bpf.is_empty());
        assert_eq!(prog.bpf.len() % 8, 0);
        assert_eq!(prog.flags, SECCOMP_FILTER_FLAG_LOG);
        assert_eq!(prog.unknown, vec!["no_such_syscall_xyz".to_string()]);
    }
}
