//! Spawning a process in a running (or created) container: the runtime side of `exec`
//! (runc's `exec`; the runtime-spec has no exec operation, but config.md#process applies
//! to its process). The library call is [`Container::exec`](crate::Container::exec).
//!
//! The caller (P, `writ exec`) opens the namespaces of the container's init from
//! `/proc/<pid>/ns/*` (through a pidfd checked against the recorded start time, so a
//! recycled pid is never joined) and forks a helper (H) into the container's cgroup2
//! directory (CLONE_INTO_CGROUP, or the `--cgroup` sub-cgroup); H moves itself into it
//! in every v1 hierarchy (a thread that moves itself skips the kernel's global migration
//! lock and its RCU grace period), joins every namespace but the user namespace and forks
//! the exec'd process (C) with CLONE_PARENT: C is born in the container's cgroup and in
//! its namespaces, pid and time included (they apply to children), with the container's
//! root and no fd of a host directory (so nothing in the container's pid namespace ever
//! sees it with the host's root or reaches the host through it; H, in the caller's pid
//! namespace, is invisible there), and is P's child (P waits for it and forwards
//! signals); H reports C's pid and exits. P's own namespaces and cgroup are never
//! changed. C joins the user namespace, then runs the init's own process finalisation
//! (`init::process`: terminal, personality, memory policy, rlimits, scheduler, I/O
//! priority, cwd, seccomp, user, groups and capabilities, umask; then noNewPrivileges'
//! seccomp, the final CPU affinity, the LSM labels) and execs.
//!
//! The namespaces are joined in three passes, as runc and nsenter(1) do: first every
//! namespace but the user namespace that host root may join (a namespace the engine made
//! outside the container's user namespace, e.g. podman's network namespace, can only be
//! joined with host credentials), then the
//! user namespace, then those that needed it (EPERM in the first pass).
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

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use crate::cgroups::{CgroupState, Version};
use crate::init::process::{self as finalisation, Finalise};
use crate::init_error::InitError;
use crate::namespaces::{JoinFd, NamespaceKind};
use crate::plan::ContainerPlan;
use crate::spawn::{recv_logging, ContainerError};
use crate::sync::{Channel, Msg};
use crate::sys::{self, Context, Errno};

/// What the exec'd process is made of.
pub(crate) struct ExecRequest<'a> {
    /// The container's plan with the exec'd process as its `process`.
    pub plan: &'a ContainerPlan,
    /// The state root (the seccomp program cache is there).
    pub state_root: &'a std::path::Path,
    /// Host pid of the container's init and its start time.
    pub init: (i32, u64),
    /// The cgroup the process joins (the container's, or a sub-cgroup of it).
    pub cgroup: Option<CgroupState>,
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

/// What the process enters of the init's: its namespaces (those that differ from the
/// caller's, in join order, user first) and its root directory.
struct InitView {
    joins: Vec<JoinFd>,
    /// The init's root (`/proc/<pid>/root`): the container's root whether the container
    /// has a mount namespace of its own (its root then), shares the caller's or joined
    /// one (a mount tree of its own, entered with chroot).
    root: OwnedFd,
}

/// The init's namespaces and root (see [`InitView`]).
fn open_init_view(req: &ExecRequest) -> Result<InitView, ContainerError> {
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
    let root = rustix::fs::open(
        format!("/proc/{pid}/root"),
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ctx("opening the container's root")?;
    let mut pfd = [nix::poll::PollFd::new(
        pidfd.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    if nix::poll::poll(&mut pfd, nix::poll::PollTimeout::ZERO).unwrap_or(1) != 0 {
        return Err(gone());
    }
    Ok(InitView { joins: out, root })
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
    let view = open_init_view(&req)?;
    let seccomp = match &req.plan.seccomp {
        Some(s) => Some(crate::seccomp::compile_cached(s, req.state_root)?),
        None => None,
    };
    let cgroup2 = match req.cgroup.as_ref().and_then(|cg| cg.v2()) {
        Some(h) => Some(
            rustix::fs::open(
                &h.path,
                rustix::fs::OFlags::RDONLY
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .with_ctx(|| format!("opening cgroup {}", h.path.display()))?,
        ),
        None => None,
    };
    crate::spawn::before_clone(req.plan)?;
    let (chan, child_chan) = crate::sync::pair().ctx("socketpair")?;
    // The helper is born in the cgroup2 directory (host credentials, and no fd of it in
    // any process the container can see).
    let forked =
        sys::fork_into(0, cgroup2.as_ref().map(|f| f.as_fd())).ctx("forking the exec'd process")?;
    let helper = match forked {
        sys::Forked::Child => {
            drop(chan);
            child(Child {
                plan: req.plan,
                chan: child_chan,
                joins: view.joins,
                root: Some(view.root),
                console: req.console,
                preserve_fds: req.preserve_fds,
                no_new_keyring: req.no_new_keyring,
                seccomp,
                cgroup: req.cgroup,
            })
        }
        sys::Forked::Parent(pid) => pid,
    };
    drop(cgroup2);
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
    // The helper joins the cgroup and the namespaces, forks the process (our child too)
    // and reports its pid; the channel is close-on-exec in the process: EOF is its exec.
    let pid = match recv_logging(&chan) {
        Ok(Some(Msg::Pid(pid))) => pid,
        Ok(Some(other)) => {
            let e = ContainerError::Unexpected(format!("{other:?}"));
            return Err(kill(&[Some(helper)], e));
        }
        Ok(None) => {
            return Err(kill(
                &[Some(helper)],
                ContainerError::Ended("exited during setup"),
            ))
        }
        Err(e) => return Err(kill(&[Some(helper)], e)),
    };
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(helper), None);
    match recv_logging(&chan) {
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
    /// The container's root; closed once entered.
    root: Option<OwnedFd>,
    console: Option<UnixStream>,
    preserve_fds: u32,
    no_new_keyring: bool,
    seccomp: Option<crate::seccomp::Program>,
    cgroup: Option<CgroupState>,
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
    keep.extend(c.root.iter().map(|r| r.as_raw_fd()));
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

/// chroot into the container's root (after the mount namespace is joined), then the
/// fd is closed: the process is forked with nothing of it.
fn enter_root(root: OwnedFd) -> Result<(), InitError> {
    rustix::process::fchdir(&root).ctx("entering the container's root")?;
    nix::unistd::chroot(".").ctx("chroot to the container's root")?;
    drop(root);
    Ok(())
}

fn is_user(k: NamespaceKind) -> bool {
    k == NamespaceKind::User
}

/// The helper's pass (see the module doc): every namespace but the user namespace that
/// host root may join; returns the rest (the user namespace, and those refused with EPERM).
fn join_as_host_root(joins: Vec<JoinFd>) -> Result<Vec<JoinFd>, InitError> {
    join_pass(joins, |k| !is_user(k), true)
}

/// The process's passes: the user namespace, then what needed it.
fn join_with_user_namespace(left: Vec<JoinFd>) -> Result<(), InitError> {
    let left = join_pass(left, is_user, false)?;
    join_pass(left, |_| true, false)?;
    Ok(())
}

/// The helper joins the cgroup's v1 hierarchies itself (a thread that moves itself skips
/// the kernel's global migration lock and its RCU grace period, milliseconds on a busy
/// host); it was born in the cgroup2 directory (CLONE_INTO_CGROUP), so the process it
/// forks is in the whole cgroup from birth.
fn join_cgroup(cg: &CgroupState) -> Result<(), InitError> {
    for h in cg.hierarchies.iter().filter(|h| h.version == Version::V1) {
        let tasks = h.path.join("tasks");
        sys::write_file(&tasks, b"0")
            .with_ctx(|| format!("joining cgroup {}", h.path.display()))?;
    }
    Ok(())
}

fn setup(c: &mut Child) -> Result<Never, InitError> {
    close_foreign_fds(c)?;
    crate::init::reset_signals();
    if let Some(cg) = &c.cgroup {
        join_cgroup(cg)?;
    }
    let left = join_as_host_root(std::mem::take(&mut c.joins))?;
    if let Some(root) = c.root.take() {
        enter_root(root)?;
    }
    // The pid and time namespaces apply to children: the process is forked now, born in
    // them and the container's other namespaces but the user namespace (never seen in
    // its pid namespace with the host's root), in its cgroup, as a child of P
    // (CLONE_PARENT); the helper reports its pid and exits. The process then joins the
    // user namespace.
    match sys::fork_with_flags(libc::CLONE_PARENT as u64).ctx("forking the exec'd process")? {
        sys::Forked::Child => {
            // Until it execs, it dies with P (and at EOF on the channel).
            let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
            join_with_user_namespace(left)?;
            crate::logging::debug(|| "exec: cgroup and namespaces joined".to_string());
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
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, 0, 0);
    Err(finalisation::exec(p, &exec, c.seccomp.as_ref()))
}
