//! The container's init: runs in the cloned child, in phases: its namespaces
//! (`namespaces`), its root filesystem (`rootfs`), the process finalisation (`process`,
//! which an exec'd process reuses). It then reports `Ready` to create, waits for `start`
//! on the exec socket, runs the startContainer hooks and execs the user program. Every
//! failure before `Ready` goes back to create as data ([`InitError`]), later ones to
//! `start`.
//!
//! What the init holds of the host (audited; see also `sys::close_fds_except`):
//! - From its first instruction: non-dumpable (inherited from create, which sets it
//!   before the clone) until the exec of the user program, so no process without
//!   CAP_SYS_PTRACE over the host's user namespace can follow its `/proc/<pid>` links or
//!   read its private entries (exe, fd/N, fdinfo, root, cwd, environ, mem, maps,
//!   map_files, ns), whatever pid namespace it shares; such a process can list the fd
//!   numbers and read cmdline, stat and status, which say nothing it could use
//!   (cmdline is create's: the state root, the bundle path and the id).
//! - Its `/proc/<pid>/exe` is a read-only view of the writ binary (`exeseal`); its
//!   environ is create's environment.
//! - Its first act closes every fd it was not handed: the state directory's lock, the
//!   log file, create's own namespace fds, the console listener of a foreground `run`.
//!   It keeps stdio, the `--preserve-fds` fds, the channel to create, the console
//!   socket, the exec socket listener, the namespace fds it joins (closed once joined)
//!   and the idmapped-mount trees (closed once mounted). It opens no fd of the host's
//!   /proc or of any host directory that outlives `pivot_root` (the rootfs fd, the old
//!   root and the host's /dev/null are closed before it; the /dev/console placeholder
//!   and the pty are the container's).
//! - While `created` (waiting in accept), it holds: fds 0-2 and the preserved fds (the
//!   container's, given by the caller), the exec socket listener (a socket: it cannot be
//!   opened through /proc, and leads to no path), nothing else. Its root and cwd are the
//!   container's, its mount namespace has no mount of the host's root (without a mount
//!   namespace of its own, its root is a clone of the rootfs that is in no namespace,
//!   from which no path leads to the shared one's mounts: `rootfs::enter_shared`). It has the
//!   container's user and capabilities already, and, without noNewPrivileges, its
//!   seccomp filter (the start handshake then needs accept4, recvfrom, sendto, close).
//! - What it cannot close off: before `pivot_root` it runs with the host's root as its
//!   root; a process with CAP_SYS_PTRACE over the host's user namespace that shares its
//!   pid namespace could ptrace it then (true of every runtime's init).

mod namespaces;
pub(crate) mod process;
mod rootfs;

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::fs::Mode;

pub use crate::init_error::InitError;

use crate::mounts::CgroupView;
use crate::namespaces::{JoinFd, NamespaceKind};
use crate::plan::ContainerPlan;
use crate::sync::{Channel, Msg};
use crate::sys::{self, Context, SysError};

/// Everything create prepared for the child.
pub struct InitArgs<'a> {
    /// The container's plan.
    pub plan: &'a ContainerPlan,
    /// The channel to create.
    pub chan: Channel,
    /// The listening exec socket (`sync::EXEC_SOCKET`) that `start` connects to.
    pub exec_listener: OwnedFd,
    /// Namespaces to setns into in the child (pid/time are joined by create itself);
    /// closed once joined.
    pub joins: Vec<JoinFd>,
    /// Namespaces to unshare in the child after the joins (staged path).
    pub unshare: u64,
    /// Whether the user namespace is new.
    pub new_userns: bool,
    /// Whether create cloned the child with CLONE_NEWUSER (maps written before `Go`).
    pub cloned_userns: bool,
    /// The console socket, with a terminal.
    pub console: Option<UnixStream>,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// `--no-new-keyring`.
    pub no_new_keyring: bool,
    /// Where the container's cgroup is, for cgroup mounts.
    pub cgroups: CgroupView,
    /// The v1 hierarchies this process joins by itself on `Go` (cgroups::join).
    pub self_join: crate::cgroups::SelfJoin,
    /// Whether this process makes its namespaces and its first mounts while create makes
    /// the cgroup (spawn::early_setup says when); else it waits for `Go` first.
    pub early: bool,
    /// Whether create may have moved this process to another CPU (spawn::move_beside):
    /// it then sets every CPU as its affinity before entering the cgroup.
    pub spread: bool,
    /// The idmapped mounts' trees, by mount index; closed once mounted.
    pub idmapped: Vec<(usize, OwnedFd)>,
    /// The compiled seccomp filter.
    pub seccomp: Option<crate::seccomp::Program>,
    /// Set once `Go` came and this process joined the hierarchies it joins by itself.
    pub cgroup_entered: std::cell::Cell<bool>,
    /// Set once create reports the child is in the container's cgroup.
    pub cgroup_joined: std::cell::Cell<bool>,
    /// Set once the new cgroup namespace is made.
    pub cgroupns_done: std::cell::Cell<bool>,
}

/// Entry point of the child; never returns.
pub fn run(mut a: InitArgs) -> ! {
    // If create dies, so do we (until create has saved the state: `Msg::Saved`).
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
    // Log lines go to create over the channel; then nothing of the host that we were not
    // handed stays open (the log file, the state directory, create's namespace fds...).
    crate::logging::divert(Some((a.chan.as_fd().as_raw_fd(), crate::sync::send_log)));
    let err = match close_foreign_fds(&a).and_then(|()| setup(&mut a)) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let _ = a.chan.send(&Msg::Error(err));
    // SAFETY: _exit in the forked child: no destructors, no atexit handlers of the parent.
    unsafe { libc::_exit(1) }
}

/// A debug line for a step of the init (to create's log, through the channel).
fn step(what: &str) {
    crate::logging::debug(|| format!("init: {what}"));
}

/// Closes every fd of the child except those create handed it (see the module doc).
fn close_foreign_fds(a: &InitArgs) -> Result<(), InitError> {
    let mut keep = vec![
        0,
        1,
        2,
        a.chan.as_fd().as_raw_fd(),
        a.exec_listener.as_raw_fd(),
    ];
    keep.extend(a.console.iter().map(|c| c.as_raw_fd()));
    keep.extend(a.joins.iter().map(|j| j.fd.as_raw_fd()));
    keep.extend(a.idmapped.iter().map(|(_, fd)| fd.as_raw_fd()));
    sys::close_fds_except(&keep, 3, a.preserve_fds).ctx("init: closing inherited fds")?;
    Ok(())
}

enum Never {}

/// Sends a message to create.
fn send(a: &InitArgs, m: &Msg) -> Result<(), InitError> {
    a.chan.send(m).ctx("init: talking to create")?;
    Ok(())
}

/// The next message from create other than `Cgroup`, which is only noted.
fn recv(a: &InitArgs) -> Result<Msg, InitError> {
    loop {
        match a.chan.recv() {
            Ok(Some(Msg::Cgroup)) => a.cgroup_joined.set(true),
            Ok(Some(m)) => return Ok(m),
            Ok(None) => return Err(InitError::Channel("create went away".into())),
            Err(e) => return Err(SysError::new("init: reading from create", e).into()),
        }
    }
}

fn unexpected(m: &Msg) -> InitError {
    InitError::Channel(format!("unexpected message from create: {m:?}"))
}

fn expect_go(a: &InitArgs) -> Result<(), InitError> {
    match recv(a)? {
        Msg::Go => Ok(()),
        other => Err(unexpected(&other)),
    }
}

/// Waits for create's `Go` (the cgroup made, its resources set) and moves this process into
/// the v1 hierarchies it joins by itself; once. The paths are those create recorded: this
/// process still sees create's mounts (its own mount namespace, if any, is a copy of
/// create's until pivot_root, and a mount namespace joined by path rules out `early`).
fn enter_cgroup(a: &InitArgs) -> Result<(), InitError> {
    if a.cgroup_entered.get() {
        return Ok(());
    }
    expect_go(a)?;
    if a.spread {
        let mut all = nix::sched::CpuSet::new();
        for c in 0..nix::sched::CpuSet::count() {
            all.set(c).ctx("init: a mask of every CPU")?;
        }
        nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &all)
            .ctx("init: giving back the CPU affinity")?;
    }
    a.self_join.join()?;
    a.cgroup_entered.set(true);
    Ok(())
}

/// Waits until create has put this process in the container's cgroup, then creates the
/// cgroup namespace (whose root is the cgroup at that moment).
fn ensure_cgroup(a: &InitArgs) -> Result<(), InitError> {
    enter_cgroup(a)?;
    while !a.cgroup_joined.get() {
        match a.chan.recv() {
            Ok(Some(Msg::Cgroup)) => a.cgroup_joined.set(true),
            Ok(Some(other)) => return Err(unexpected(&other)),
            Ok(None) => return Err(InitError::Channel("create went away".into())),
            Err(e) => return Err(SysError::new("init: reading from create", e).into()),
        }
    }
    let new_cgroupns = a
        .plan
        .namespace(NamespaceKind::Cgroup)
        .is_some_and(|n| n.path.is_none());
    if new_cgroupns && !a.cgroupns_done.get() {
        crate::namespaces::unshare(NamespaceKind::Cgroup.clone_flag())?;
        a.cgroupns_done.set(true);
    }
    Ok(())
}

/// Joins a fresh anonymous session keyring, like runc (the caller's session keyring is
/// the host's); kernels or namespaces without keyrings are fine.
pub(crate) fn new_session_keyring() {
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) takes no pointers we own.
    unsafe {
        libc::syscall(libc::SYS_keyctl, 1, std::ptr::null::<libc::c_char>());
    }
}

/// Default dispositions for every signal and an empty signal mask.
pub(crate) fn reset_signals() {
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: restoring default dispositions; no handlers are installed in between.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    let empty = nix::sys::signal::SigSet::empty();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&empty),
        None,
    );
}

/// The phases, then `Ready`; after `start`, the exec.
fn setup(a: &mut InitArgs) -> Result<Never, InitError> {
    let plan = a.plan;
    reset_signals();
    if !a.early {
        enter_cgroup(a)?;
    }
    // Early: outside the container's cgroup until the first step that needs it (the
    // config's mounts that may open a device or copy data, the devices, the hooks,
    // the exec); see spawn::early_setup.
    namespaces::enter(a)?;
    a.joins.clear();
    step("namespaces set up");
    if !a.no_new_keyring {
        new_session_keyring();
    }
    if let Some(c) = &plan.process.cpu_affinity_initial {
        crate::process::set_affinity(c, "initial")?;
    }
    rustix::process::umask(Mode::empty());
    namespaces::set_names(a)?;

    // Root filesystem, still seeing the host's / and /proc.
    let (root, mut console) = rootfs::prepare(a)?;
    a.idmapped.clear();
    step("rootfs prepared");
    let created_state = create_container_hooks(a)?;
    rootfs::finish(a, root, &mut console)?;
    step("root entered");

    let terminal = match (a.console.take(), console) {
        (Some(sock), placeholder) => Some((sock, placeholder)),
        (None, Some(_)) => {
            return Err(InitError::Refused(
                "process.terminal is true but no --console-socket was given".into(),
            ))
        }
        (None, None) => None,
    };
    let exec = process::finalise(process::Finalise {
        process: &plan.process,
        personality: plan.personality,
        memory_policy: plan.memory_policy.as_ref(),
        seccomp: a.seccomp.as_ref(),
        preserve_fds: a.preserve_fds,
        terminal,
    })?;
    // A change of uid clears PDEATHSIG: we still die with create until it has saved.
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
    ready(a)?;
    run_program(a, &exec, &created_state)
}

/// prestart/createRuntime hooks (run by create), then the createContainer hooks here.
/// Returns the state JSON for the startContainer hooks.
#[writ_macros::requirement(
    "runtime.lifecycle.create_container.invoke",
    "runtime.lifecycle.create_container.fail",
    "config.hooks.create_container.timing",
    "config.hooks.create_container.after_create_runtime",
    "config.hooks.create_container.container_ns",
    "config.hooks.create_container.path.runtime_ns",
    "config.hooks.create_container.path.runtime_ns_timing",
    "config.hooks.create_container.container_ns_timing"
)]
fn create_container_hooks(a: &InitArgs) -> Result<Vec<u8>, InitError> {
    let hooks = &a.plan.hooks;
    if !hooks.any_during_create() {
        return Ok(Vec::new());
    }
    send(a, &Msg::Hooks)?;
    match recv(a)? {
        Msg::States(creating, created) => {
            crate::hooks::run_hooks(&hooks.create_container, &creating)
                .map_err(|e| InitError::hook("createContainer", &e))?;
            Ok(created)
        }
        other => Err(unexpected(&other)),
    }
}

/// Tells create the init is set up, waits until create has saved the state, and stops
/// dying with it.
fn ready(a: &InitArgs) -> Result<(), InitError> {
    send(a, &Msg::Ready)?;
    match recv(a)? {
        Msg::Saved => {}
        other => return Err(unexpected(&other)),
    }
    // The state is saved: from here on we outlive create (engines reap us).
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, 0, 0);
    crate::logging::divert(None);
    send(a, &Msg::Detached)
}

/// Waits for `start`, runs the startContainer hooks and execs the program. Create has
/// exited: a failure goes to `start` (and stderr).
#[writ_macros::requirement(
    "runtime.lifecycle.start_container.invoke",
    "runtime.lifecycle.start_container.fail",
    "config.hooks.start_container.timing",
    "config.hooks.start_container.container_ns",
    "config.hooks.start_container.path.container_ns",
    "config.hooks.start_container.path.container_ns_timing",
    "config.hooks.start_container.container_ns_timing"
)]
fn run_program(
    a: &InitArgs,
    exec: &crate::process::ExecArgs,
    created_state: &[u8],
) -> Result<Never, InitError> {
    // Close our end of create's channel (and nothing else is left to close; `a` is never
    // dropped, this process ends in exec or _exit).
    let _ = sys::close_fds_except(&[0, 1, 2, a.exec_listener.as_raw_fd()], 3, a.preserve_fds);
    // Errors can only go to stderr until `start` is connected.
    let fail = |e: InitError| -> ! {
        eprintln!("writ init: {e}");
        // SAFETY: _exit in the container process.
        unsafe { libc::_exit(127) }
    };
    let start = match crate::sync::accept_start(a.exec_listener.as_fd()) {
        Ok(c) => c,
        Err(e) => fail(SysError::new("waiting for start", e).into()),
    };
    let _ = sys::close_fds_except(&[0, 1, 2, start.as_fd().as_raw_fd()], 3, a.preserve_fds);
    crate::logging::divert(Some((start.as_fd().as_raw_fd(), crate::sync::send_log)));
    // The connection stays open (close-on-exec) until the exec: `start`
    // (spawn::release) reads until EOF, so it sees a failure from here on.
    let fail = |e: InitError| -> ! {
        let _ = start.send(&Msg::Error(e.clone()));
        fail(e)
    };
    let hooks = &a.plan.hooks.start_container;
    if !hooks.is_empty() {
        if let Err(e) = crate::hooks::run_hooks(hooks, created_state) {
            fail(InitError::hook("startContainer", &e));
        }
    }
    fail(process::exec(&a.plan.process, exec, a.seccomp.as_ref()))
}
