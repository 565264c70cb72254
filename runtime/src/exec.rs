//! Spawning a process in a running (or created) container: the runtime side of `exec`
//! (runc's `exec`; the runtime-spec has no exec operation, but config.md#process applies
//! to its process). The library call is [`Container::exec`](crate::Container::exec).
//!
//! The caller (P, `writ exec`) opens the namespaces of the container's init from
//! `/proc/<pid>/ns/*` (through a pidfd checked against the recorded start time, so a
//! recycled pid is never joined) and forks a helper (H), which joins them all and forks
//! the exec'd process (C) with CLONE_PARENT: C is born in every namespace of the
//! container, pid and time included (they apply to children), with the container's root
//! (so nothing in the container's pid namespace ever sees it with the host's root), and
//! is P's child (P waits for it and forwards signals); H reports C's pid and exits. P's
//! own namespaces are never changed. P puts C into the container's cgroup (or the
//! `--cgroup` sub-cgroup) while C runs the init's own process finalisation
//! (`init::process`: terminal, personality, memory policy, rlimits, scheduler, I/O
//! priority, cwd, seccomp, user, groups and capabilities, umask; then noNewPrivileges'
//! seccomp, the final CPU affinity, the LSM labels, execve). C execs only once P says it
//! is in the cgroup.
//!
//! The namespaces are joined in three passes, as runc and nsenter(1) do: first every
//! namespace but the user namespace that host root may join (a namespace the engine made
//! outside the container's user namespace, e.g. podman's network namespace, can only be
//! joined before H holds the container's credentials), then the user namespace, then
//! those that needed it (EPERM in the first pass).
//!
//! What H and C hold of the host (the rules of the security issue apply to them as to
//! the init):
//! - Non-dumpable from its first instruction (P sets it before the fork) until the exec of
//!   the program: no process of the container can open its `/proc/<pid>/{exe,fd,cwd,...}`.
//! - Its exe is the read-only view of the writ binary (`exeseal`: `writ exec` re-execs
//!   itself through it first, like `create` and `run`).
//! - H's first act closes every fd it was not handed; it keeps stdio, the
//!   `--preserve-fds` fds, the channel to P, the console socket and the namespace fds
//!   (nsfs files, closed once joined, before C is forked). It never opens anything of the host's `/proc`
//!   or a host directory; its root and cwd are the mount namespace's root from the
//!   setns on, and the cwd is checked to lie inside it (CVE-2024-21626).

use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use crate::cgroups::Cgroup;
use crate::init::process::{self as finalisation, Finalise};
use crate::init_error::InitError;
use crate::namespaces::{JoinFd, NamespaceKind};
use crate::plan::ContainerPlan;
use crate::spawn::{recv_logging, send, ContainerError};
use crate::sync::{Channel, Msg};
use crate::sys::{self, Context, Errno, SysError};

/// What the exec'd process is made of.
pub(crate) struct ExecRequest<'a> {
    /// The container's plan with the exec'd process as its `process`.
    pub plan: &'a ContainerPlan,
    /// Host pid of the container's init and its start time.
    pub init: (i32, u64),
    /// The cgroup the process joins (the container's, or a sub-cgroup of it).
    pub cgroup: Option<Cgroup>,
    /// With a terminal: where the pty master goes.
    pub console: Option<UnixStream>,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
    /// The container was created with `--no-new-keyring`.
    pub no_new_keyring: bool,
}

/// The process runs (it has exec'd); its host pid.
pub(crate) struct Spawned {
    /// Host pid of the exec'd process (a child of the caller).
    pub pid: i32,
}

/// The init's namespaces that differ from the caller's, in join order (user first).
fn open_init_namespaces(req: &ExecRequest) -> Result<Vec<JoinFd>, ContainerError> {
    let (pid, start_time) = req.init;
    let gone = || ContainerError::Gone(pid);
    // A pidfd pins the init: its start time checked after opening it rules out a
    // recycled pid, and it still running after the opens proves the files were its.
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid).ok_or_else(gone)?,
        rustix::process::PidfdFlags::empty(),
    )
    .map_err(|_| gone())?;
    if crate::state::process_start_time(pid) != Some(start_time) {
        return Err(gone());
    }
    let mut kinds: Vec<NamespaceKind> = req.plan.namespaces.iter().map(|n| n.kind).collect();
    kinds.sort();
    kinds.dedup();
    let mut out = Vec::new();
    for kind in kinds {
        let path = PathBuf::from(format!("/proc/{pid}/ns/{}", kind.proc_name()));
        let fd = rustix::fs::open(
            &path,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .with_ctx(|| format!("opening the container's {} namespace", kind.config_name()))?;
        // A namespace the container shares with us is not joined (joining one's own user
        // namespace is an error).
        let ours = std::fs::metadata(format!("/proc/self/ns/{}", kind.proc_name()));
        let theirs = rustix::fs::fstat(&fd).with_ctx(|| format!("stat {}", path.display()))?;
        if ours.is_ok_and(|m| m.ino() == theirs.st_ino && m.dev() == theirs.st_dev) {
            continue;
        }
        out.push(JoinFd { kind, path, fd });
    }
    let mut pfd = [nix::poll::PollFd::new(
        pidfd.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    if nix::poll::poll(&mut pfd, nix::poll::PollTimeout::ZERO).unwrap_or(1) != 0 {
        return Err(gone());
    }
    Ok(out)
}

/// Spawns the process; returns once it has exec'd its program (or failed, with the
/// reason C sent).
#[writ_macros::requirement(
    "config.process.oom_score_adj.set",
    "config.process.rlimits.soft.applied",
    "config.process.rlimits.hard.applied",
    "config.process.exec_cpu_affinity.final_unset"
)]
pub(crate) fn spawn(req: ExecRequest) -> Result<Spawned, ContainerError> {
    for w in &req.plan.warnings {
        crate::logging::warn(w);
    }
    crate::spawn::ensure_stdio();
    let joins = open_init_namespaces(&req)?;
    let seccomp = match &req.plan.seccomp {
        Some(s) => Some(crate::seccomp::compile(s)?),
        None => None,
    };
    crate::spawn::before_clone(req.plan)?;
    let (chan, child_chan) = crate::sync::pair().ctx("socketpair")?;
    let forked = sys::fork_with_flags(0).ctx("forking the exec'd process")?;
    let helper = match forked {
        sys::Forked::Child => {
            drop(chan);
            child(Child {
                plan: req.plan,
                chan: child_chan,
                joins,
                console: req.console,
                preserve_fds: req.preserve_fds,
                no_new_keyring: req.no_new_keyring,
                seccomp,
            })
        }
        sys::Forked::Parent(pid) => pid,
    };
    drop(child_chan);
    drop(req.console);
    let kill = |pids: &[Option<i32>], e: ContainerError| {
        for &pid in pids.iter().flatten() {
            let p = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(p, None);
        }
        e
    };
    // The helper joins the namespaces, forks the process (our child too) and reports its
    // pid; the process sets itself up and says Ready (or why not), in either order. It is
    // then put into the cgroup and told to exec; the channel is close-on-exec: EOF is the
    // exec. (Nothing is sent to it before it is ready to read: a socket closed with unread
    // data resets the connection, and its error would be lost.)
    let mut pid = None;
    let mut ready = false;
    while pid.is_none() || !ready {
        let msg = recv_logging(&chan);
        let known = pid;
        let fail = |e: ContainerError| kill(&[Some(helper), known], e);
        match msg {
            Ok(Some(Msg::Pid(p))) => {
                pid = Some(p);
                let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(helper), None);
                if let Some(cg) = &req.cgroup {
                    cg.add(p).map_err(|e| kill(&[Some(p)], e.into()))?;
                }
            }
            Ok(Some(Msg::Ready)) => ready = true,
            Ok(Some(other)) => return Err(fail(ContainerError::Unexpected(format!("{other:?}")))),
            Ok(None) => return Err(fail(ContainerError::Ended("exited during setup"))),
            Err(e) => return Err(fail(e)),
        }
    }
    let pid = pid.unwrap_or_default();
    match send(&chan, &Msg::Cgroup).and_then(|()| recv_logging(&chan)) {
        Ok(None) => Ok(Spawned { pid }),
        Ok(Some(other)) => Err(kill(
            &[Some(pid)],
            ContainerError::Unexpected(format!("{other:?}")),
        )),
        Err(e) => Err(kill(&[Some(pid)], e)),
    }
}

/// What C is handed.
struct Child<'a> {
    plan: &'a ContainerPlan,
    chan: Channel,
    joins: Vec<JoinFd>,
    console: Option<UnixStream>,
    preserve_fds: u32,
    no_new_keyring: bool,
    seccomp: Option<crate::seccomp::Program>,
}

/// C: never returns.
fn child(mut c: Child) -> ! {
    // Until it is told it is in the cgroup, C dies with P (and at EOF on the channel).
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
    crate::logging::divert(Some((c.chan.as_fd().as_raw_fd(), crate::sync::send_log)));
    let err = match setup(&mut c) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let _ = c.chan.send(&Msg::Error(err));
    // SAFETY: _exit in the forked child: no destructors, no atexit handlers of P.
    unsafe { libc::_exit(1) }
}

enum Never {}

/// Closes every fd of C except those it was handed (see the module doc).
fn close_foreign_fds(c: &Child) -> Result<(), InitError> {
    let mut keep = vec![0, 1, 2, c.chan.as_fd().as_raw_fd()];
    keep.extend(c.console.iter().map(|s| s.as_raw_fd()));
    keep.extend(c.joins.iter().map(|j| j.fd.as_raw_fd()));
    sys::close_fds_except(&keep, 3, c.preserve_fds).ctx("exec: closing inherited fds")?;
    Ok(())
}

/// setns into every namespace of `joins` that `pass` selects; returns those refused
/// with EPERM when `retry` (joined again in a later pass).
fn join_pass(
    joins: Vec<JoinFd>,
    pass: impl Fn(NamespaceKind) -> bool,
    retry: bool,
) -> Result<Vec<JoinFd>, InitError> {
    let mut left = Vec::new();
    for j in joins {
        if !pass(j.kind) {
            left.push(j);
            continue;
        }
        match crate::namespaces::join(&j) {
            Ok(()) => {}
            Err(e) if retry && e.errno() == Errno::EPERM => {
                left.push(j);
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        if j.kind == NamespaceKind::User {
            // Root of the user namespace (as after creating it), until the process's
            // user is set.
            nix::unistd::setresgid(0.into(), 0.into(), 0.into())
                .ctx("setting gid 0 in the container's user namespace")?;
            nix::unistd::setresuid(0.into(), 0.into(), 0.into())
                .ctx("setting uid 0 in the container's user namespace")?;
        }
    }
    Ok(left)
}

/// Joins the namespaces (three passes, see the module doc).
fn join_namespaces(joins: Vec<JoinFd>) -> Result<(), InitError> {
    let is_user = |k: NamespaceKind| k == NamespaceKind::User;
    let left = join_pass(joins, |k| !is_user(k), true)?;
    let left = join_pass(left, is_user, false)?;
    join_pass(left, |_| true, false)?;
    Ok(())
}

fn setup(c: &mut Child) -> Result<Never, InitError> {
    close_foreign_fds(c)?;
    crate::init::reset_signals();
    join_namespaces(std::mem::take(&mut c.joins))?;
    crate::logging::debug(|| "exec: namespaces joined".to_string());
    // The pid and time namespaces apply to children: the process is forked now, born in
    // every namespace of the container (never seen in its pid namespace with the host's
    // root), as a child of P (CLONE_PARENT); the helper reports its pid and exits.
    match sys::fork_with_flags(libc::CLONE_PARENT as u64).ctx("forking the exec'd process")? {
        sys::Forked::Child => {
            let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
        }
        sys::Forked::Parent(pid) => {
            let _ = c.chan.send(&Msg::Pid(pid));
            // SAFETY: the helper ends here without running destructors.
            unsafe { libc::_exit(0) }
        }
    }
    if !c.no_new_keyring {
        crate::init::new_session_keyring();
    }
    let p = &c.plan.process;
    if let Some(cpus) = &p.cpu_affinity_initial {
        crate::process::set_affinity(cpus, "initial")?;
    }
    let exec = finalisation::finalise(Finalise {
        process: p,
        personality: c.plan.personality,
        memory_policy: c.plan.memory_policy.as_ref(),
        seccomp: c.seccomp.as_ref(),
        preserve_fds: c.preserve_fds,
        terminal: c.console.take().map(|s| (s, None)),
    })?;
    // Once P has put us into the cgroup, the program runs.
    c.chan.send(&Msg::Ready).ctx("exec: talking to writ exec")?;
    match c.chan.recv() {
        Ok(Some(Msg::Cgroup)) => {}
        Ok(Some(other)) => {
            return Err(InitError::Channel(format!(
                "unexpected message from writ exec: {other:?}"
            )))
        }
        Ok(None) => return Err(InitError::Channel("writ exec went away".into())),
        Err(e) => return Err(SysError::new("exec: reading from writ exec", e).into()),
    }
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, 0, 0);
    Err(finalisation::exec(p, &exec, c.seccomp.as_ref()))
}
