//! The init's third phase, the process finalisation (config.md#process,
//! config-linux.md#personality, #memory-policy): everything of `process` that is set on
//! the process itself, in runc's order, once it is in its namespaces and root; then, at
//! start, what is left before execve. The container's init runs it after its rootfs; an
//! exec'd process runs the same after joining the container's namespaces and root:
//!
//! ```text
//! // in the child of `exec`, non-dumpable, its foreign fds closed, after setns into
//! // /proc/<init>/ns/* and fchdir/chroot to /proc/<init>/root:
//! let plan = crate::plan::process_of(&process, &crate::host::facts(), &mut warnings)?;
//! let args = crate::init::process::finalise(Finalise {
//!     process: &plan,
//!     personality: container_plan.personality,
//!     memory_policy: container_plan.memory_policy.as_ref(),
//!     seccomp: compiled.as_ref(),
//!     preserve_fds,
//!     terminal: console_socket.map(|s| (s, None)), // no /dev/console to bind
//! })?;
//! return crate::init::process::exec(&plan, &args, compiled.as_ref()); // only on failure
//! ```
//!
//! Neither function touches the root filesystem or the namespaces, the channel to
//! create or the state: their only inputs are the arguments.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::fs::Mode;

use crate::plan::{MemoryPolicyPlan, ProcessPlan};
use crate::process::ExecArgs;
use crate::seccomp::Program;
use crate::sys::{self, Context, SysError};

use super::InitError;

/// What the finalisation of one process needs besides its plan: the container's init
/// passes its config's values; an exec'd process the plan of its process.json and the
/// container's personality, memory policy and seccomp filter (from the frozen config,
/// `Container::plan`).
pub(crate) struct Finalise<'a> {
    /// The process.
    pub process: &'a ProcessPlan,
    /// linux.personality.
    pub personality: Option<u64>,
    /// linux.memoryPolicy.
    pub memory_policy: Option<&'a MemoryPolicyPlan>,
    /// The compiled seccomp filter.
    pub seccomp: Option<&'a Program>,
    /// `--preserve-fds`: fds 3..3+N stay open across exec.
    pub preserve_fds: u32,
    /// With a terminal: the console socket, and the /dev/console placeholder to bind the
    /// pty onto (the container's init only).
    pub terminal: Option<(UnixStream, Option<OwnedFd>)>,
}

/// Sets the process's attributes up to its user and capabilities; returns its execve
/// arguments. Without noNewPrivileges the seccomp filter is loaded here (it needs
/// CAP_SYS_ADMIN, which the user change may take away).
#[writ_macros::requirement("runtime_linux.fds.extra")]
pub(crate) fn finalise(f: Finalise) -> Result<ExecArgs, InitError> {
    let p = f.process;
    if let Some((sock, placeholder)) = f.terminal {
        setup_terminal(p, sock, placeholder)?;
    }
    if let Some(per) = f.personality {
        crate::process::set_personality(per)?;
    }
    crate::process::set_rlimits(&p.rlimits)?;
    if let Some(s) = &p.scheduler {
        crate::process::set_scheduler(s)?;
    }
    if let Some((class, level)) = p.io_priority {
        crate::process::set_io_priority(class, level)?;
    }
    if let Some(mp) = f.memory_policy {
        crate::mempolicy::apply(mp)?;
    }
    enter_cwd(&p.cwd)?;
    super::step("process attributes set");
    let exe = crate::process::resolve_executable(p)?;
    let exec = ExecArgs::new(exe, p)?;
    sys::cloexec_from(3 + f.preserve_fds).ctx("marking fds close-on-exec")?;
    if !p.no_new_privileges {
        if let Some(prog) = f.seccomp {
            crate::seccomp::load(prog)?;
        }
    }
    crate::process::set_user_and_caps(p)?;
    rustix::process::umask(Mode::from_raw_mode(p.umask.unwrap_or(0o022)));
    Ok(exec)
}

/// The last steps before the program: with noNewPrivileges the seccomp filter (as late
/// as possible, as runc does), the final CPU affinity, the LSM labels, execve. Returns
/// only on failure.
#[writ_macros::requirement("config.process.exec_cpu_affinity.final_unset")]
pub(crate) fn exec(p: &ProcessPlan, exec: &ExecArgs, seccomp: Option<&Program>) -> InitError {
    if p.no_new_privileges {
        if let Some(prog) = seccomp {
            if let Err(e) = crate::seccomp::load(prog) {
                return e.into();
            }
        }
    }
    if let Some(c) = &p.cpu_affinity_final {
        if let Err(e) = crate::process::set_affinity(c, "final") {
            return e.into();
        }
    }
    if let Err(e) = crate::process::set_exec_labels(p) {
        return e.into();
    }
    exec.exec().into()
}

/// chdir to process.cwd, which must land inside the container's root: a cwd such as
/// `/proc/self/fd/N` would otherwise follow an fd out of it (CVE-2024-21626); the kernel
/// reports a cwd outside the root as "(unreachable)/...".
fn enter_cwd(cwd: &str) -> Result<(), InitError> {
    nix::unistd::chdir(cwd).with_ctx(|| format!("chdir to cwd {cwd:?}"))?;
    match sys::raw_getcwd() {
        Ok(p) if p.first() == Some(&b'/') => Ok(()),
        Ok(p) => Err(InitError::Refused(format!(
            "cwd {cwd:?} is outside the container's root ({})",
            String::from_utf8_lossy(&p)
        ))),
        Err(e) => Err(SysError::new(format!("cwd {cwd:?}: getcwd"), e).into()),
    }
}

/// Opens the pty inside the container, binds it onto /dev/console (the placeholder,
/// when there is one), sends the master to the console socket and makes the slave our
/// controlling terminal and stdio.
fn setup_terminal(
    p: &ProcessPlan,
    sock: UnixStream,
    placeholder: Option<OwnedFd>,
) -> Result<(), InitError> {
    let pty = crate::console::open_pty()?;
    if let Some((rows, cols)) = p.console_size {
        crate::console::set_size(pty.master.as_fd(), rows, cols)?;
    }
    // /dev/console is the pty too: a bind of the slave we hold onto the placeholder we
    // made, both by fd (no path that something in the container could redirect).
    if let Some(console) = placeholder {
        let what = "binding the pty to /dev/console";
        let tree = sys::open_tree_clone_fd(pty.slave.as_fd()).ctx(what)?;
        sys::move_mount_fd(tree.as_fd(), console.as_fd()).ctx(what)?;
    }
    crate::console::send_master(&sock, pty.master.as_fd(), &pty.name)?;
    drop(sock);
    drop(pty.master);
    nix::unistd::setsid().ctx("setsid")?;
    rustix::process::ioctl_tiocsctty(&pty.slave).ctx("setting the controlling terminal")?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the stdio numbers, which this process owns; the previous
        // stdio fds are replaced on purpose.
        let r = unsafe { libc::dup2(pty.slave.as_raw_fd(), fd) };
        if r < 0 {
            return Err(SysError::new(
                format!("dup2 of the terminal to fd {fd}"),
                sys::Errno::last(),
            )
            .into());
        }
    }
    Ok(())
}
