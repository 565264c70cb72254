//! Creating a container: the runtime side of `create`, and the release done by `start`.
//!
//! Crash safety: `create` records in the state what it is about to make before making it
//! (the init's pid and the cgroup's paths, in one save right after the clone and before
//! the cgroup is made; the init waits for create's `Go` until then), and the
//! init dies with create (PDEATHSIG, and EOF on their channel) until create has saved the
//! finished state and tells it so ([`Created::detach`]). So whenever create is killed,
//! `delete --force` finds in the state everything it left.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use crate::cgroups::{self, Cgroup};
use crate::namespaces::{self, NamespaceKind};
use crate::plan::ContainerPlan;
use crate::state::{Locked, Status};
use crate::sync::{Channel, Msg, EXEC_SOCKET};
use crate::sys::{self, errno_text, Errno};

/// What `create` is asked to do.
pub struct CreateRequest<'a> {
    pub id: &'a str,
    /// Absolute, canonical.
    pub bundle: &'a Path,
    pub console_socket: Option<&'a Path>,
    pub preserve_fds: u32,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub systemd_cgroup: bool,
}

/// A created container: its init waits for [`Created::detach`], then for `start`.
pub struct Created {
    pub pid: i32,
    /// /proc/<pid>/stat field 22.
    pub start_time: u64,
    pub cgroup: Option<Cgroup>,
    /// The container's Intel RDT groups, when the config has intelRdt.
    pub intel_rdt: Option<crate::resctrl::RdtState>,
    /// The channel to the init; dropping it (without `detach`) makes the init exit.
    chan: Channel,
}

impl Created {
    /// Tells the init that the state is saved: it stops dying with create (clears
    /// PDEATHSIG) and waits for `start`. Returns once it has done so; create may then exit
    /// while the init lives on (engines are subreapers and reap it later).
    pub fn detach(self) -> Result<(), ContainerError> {
        self.chan.send(&Msg::Saved).map_err(|e| {
            setup_err(format!(
                "talking to the container process: {}",
                errno_text(e)
            ))
        })?;
        match recv_logging(&self.chan)? {
            Some(Msg::Detached) => Ok(()),
            Some(Msg::Error(e)) => Err(setup_err(e)),
            other => Err(setup_err(format!(
                "unexpected answer of the container process: {other:?}"
            ))),
        }
    }
}

/// The next message from the init, writing its `Log` lines to our log.
fn recv_logging(chan: &Channel) -> Result<Option<Msg>, ContainerError> {
    loop {
        match chan.recv() {
            Ok(Some(Msg::Log(level, line))) => crate::logging::log(level, &line),
            Ok(m) => return Ok(m),
            Err(e) => {
                return Err(setup_err(format!(
                    "reading from the container process: {}",
                    errno_text(e)
                )))
            }
        }
    }
}

/// Why create or start failed.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// A failure reported by the container's init or found by create.
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Cgroup(#[from] cgroups::CgroupError),
    #[error("{0}")]
    Hook(#[from] crate::hooks::HookError),
    #[error(transparent)]
    Console(#[from] crate::console::ConsoleError),
    #[error(transparent)]
    Rdt(#[from] crate::resctrl::RdtError),
}

fn setup_err(s: impl Into<String>) -> ContainerError {
    ContainerError::Setup(s.into())
}

/// Undo actions of a create in progress, run in reverse unless disarmed.
struct Cleanup {
    pid: Option<i32>,
    cgroup: Option<Cgroup>,
    socket: Option<PathBuf>,
    rdt: Option<(crate::resctrl::Resctrl, crate::resctrl::RdtState)>,
}

impl Cleanup {
    fn disarm(&mut self) -> (Option<Cgroup>, Option<crate::resctrl::RdtState>) {
        self.pid = None;
        self.socket = None;
        (self.cgroup.take(), self.rdt.take().map(|(_, s)| s))
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            let p = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(p, None);
        }
        if let Some(f) = self.socket.take() {
            let _ = std::fs::remove_file(f);
        }
        if let Some(cg) = self.cgroup.take() {
            let _ = cg.destroy();
        }
        if let Some((_, s)) = self.rdt.take() {
            crate::resctrl::undo(&s);
        }
    }
}

/// Restores the caller's pid/time namespace for children after a temporary setns/unshare.
struct NsRestore(Vec<(NamespaceKind, OwnedFd)>);

impl Drop for NsRestore {
    fn drop(&mut self) {
        for (k, fd) in self.0.drain(..) {
            let flag = nix::sched::CloneFlags::from_bits_retain(k.clone_flag() as i32);
            let _ = nix::sched::setns(fd.as_fd(), flag);
        }
    }
}

/// Sets everything up; the init is left waiting (see [`Created::detach`]). Runs prestart
/// and createRuntime hooks (runtime namespace) and createContainer hooks (in the
/// container). Records progress in `handle` (saved) as it goes; on any error, undoes
/// everything it did (the caller removes the state).
#[writ_macros::requirement(
    "runtime.lifecycle.create_env",
    "runtime.lifecycle.create_env.error",
    "runtime.lifecycle.create_resources",
    "runtime.lifecycle.create_no_user_program",
    "runtime.create.new_container",
    "runtime.create.apply_config",
    "runtime.create.args_deferred",
    "runtime.create.process_props",
    "runtime.create.apply_failure.error",
    "runtime.create.apply_failure.nothing_created",
    "runtime.lifecycle.prestart.invoke",
    "runtime.lifecycle.prestart.fail",
    "runtime.lifecycle.create_runtime.invoke",
    "runtime.lifecycle.create_runtime.fail",
    "config.hooks.prestart.timing",
    "config.hooks.prestart.before_create_runtime",
    "config.hooks.prestart.runtime_ns",
    "config.hooks.prestart.path.runtime_ns",
    "config.hooks.create_runtime.timing",
    "config.hooks.create_runtime.runtime_ns",
    "config.hooks.create_runtime.path.runtime_ns",
    "config_linux.namespaces.create",
    "config_linux.namespaces.inherit",
    "config_linux.namespaces.types.supported",
    "config.hooks.prestart.path.runtime_ns_timing",
    "config.hooks.prestart.runtime_ns_timing",
    "config.hooks.create_runtime.path.runtime_ns_timing",
    "config.hooks.create_runtime.runtime_ns_timing",
    "config.process.oom_score_adj.unset",
    "runtime.warnings.continue"
)]
pub fn create(
    req: &CreateRequest,
    plan: &ContainerPlan,
    handle: &mut Locked,
) -> Result<Created, ContainerError> {
    for w in &plan.warnings {
        crate::logging::warn(w);
    }
    ensure_stdio();
    let id = req.id;
    let step = |what: &str| crate::logging::debug(|| format!("create {id}: {what}"));
    let mut cleanup = Cleanup {
        pid: None,
        cgroup: None,
        socket: None,
        rdt: None,
    };
    let joins = namespaces::open_joins(&plan.namespaces).map_err(setup_err)?;
    let console = match (plan.terminal, req.console_socket) {
        (true, Some(s)) => Some(crate::console::connect(s)?),
        (true, None) => {
            return Err(setup_err(
                "process.terminal is true but no --console-socket was given",
            ))
        }
        (false, _) => None,
    };

    let rel = cgroups::relative_path(plan.cgroups_path.as_deref(), req.id, req.systemd_cgroup)?;
    // Where the cgroup goes (every directory create may make): recorded, with the init's
    // pid, in one save right after the clone and before anything is made, so a killed
    // create leaves nothing delete cannot find.
    let cg = Cgroup::plan(&cgroups::Host::probe()?, &rel)?;
    handle.state.cgroup = Some(cg.state().clone());
    let new_cgroupns = plan
        .namespace(NamespaceKind::Cgroup)
        .is_some_and(|n| n.path.is_none());
    let view = cg.view(new_cgroupns);
    cleanup.cgroup = Some(cg);
    // The Intel RDT groups likewise (nothing at all without intelRdt).
    cleanup.rdt = crate::resctrl::plan_for(plan.intel_rdt.as_ref(), None, req.id)?;
    handle.state.intel_rdt = cleanup.rdt.as_ref().map(|(_, s)| s.clone());

    let exec_listener = crate::sync::listen_exec(&handle.dir).map_err(|e| {
        setup_err(format!(
            "creating {}: {}",
            handle.dir.join(EXEC_SOCKET).display(),
            errno_text(e)
        ))
    })?;
    cleanup.socket = Some(handle.dir.join(EXEC_SOCKET));

    if plan.namespace(NamespaceKind::User).is_some() {
        precreate_mount_points(plan);
    }
    let seccomp = match &plan.seccomp {
        Some(s) => Some(crate::seccomp::compile(s).map_err(setup_err)?),
        None => None,
    };
    // Like runc, go on without the rules of syscalls libseccomp does not know (newer
    // profiles name syscalls of newer kernels), but say which.
    for name in seccomp.iter().flat_map(|p| &p.unknown) {
        crate::logging::warn(&format!(
            "seccomp: syscall {name:?} is unknown to libseccomp {}; its rule is skipped",
            crate::seccomp::libseccomp_version()
        ));
    }
    let idmapped =
        crate::mounts::prepare_idmapped(&plan.mounts, &plan.uid_mappings, &plan.gid_mappings)
            .map_err(setup_err)?;

    // Which namespaces are new, which joined.
    let ns_new = |k: NamespaceKind| plan.namespace(k).is_some_and(|n| n.path.is_none());
    let new_userns = ns_new(NamespaceKind::User);
    let user_joined = plan
        .namespace(NamespaceKind::User)
        .is_some_and(|n| n.path.is_some());
    let child_joins: Vec<_> = joins
        .into_iter()
        .filter(|j| !matches!(j.kind, NamespaceKind::Pid | NamespaceKind::Time))
        .collect();
    let others_joined = child_joins.iter().any(|j| j.kind != NamespaceKind::User);
    let mut new_flags = 0u64;
    for k in [
        NamespaceKind::User,
        NamespaceKind::Mount,
        NamespaceKind::Pid,
        NamespaceKind::Network,
        NamespaceKind::Ipc,
        NamespaceKind::Uts,
    ] {
        if ns_new(k) {
            new_flags |= k.clone_flag();
        }
    }
    // Fast path: one clone with every new namespace. When a user namespace is joined, or
    // a new one must be created after joining others, the child does setns + unshare
    // (and forks again for a new pid namespace).
    let staged = user_joined || (new_userns && others_joined);
    // The pid (and user) namespace must come with the clone; the others are cheaper to make
    // in the child, where creating them (a network namespace costs milliseconds) overlaps
    // with create joining the cgroup.
    let (clone_flags, child_unshare) = if staged {
        (0, new_flags)
    } else {
        let in_clone = NamespaceKind::Pid.clone_flag() | NamespaceKind::User.clone_flag();
        (new_flags & in_clone, new_flags & !in_clone)
    };

    // The pid and time namespaces of the child are chosen here (they apply to children).
    let mut restore = NsRestore(Vec::new());
    for ns in &plan.namespaces {
        if ns.path.is_none() {
            continue;
        }
        if !matches!(ns.kind, NamespaceKind::Pid | NamespaceKind::Time) {
            continue;
        }
        let own = namespaces::own(ns.kind).map_err(|e| {
            setup_err(format!(
                "opening own {} namespace: {}",
                ns.kind.config_name(),
                errno_text(e)
            ))
        })?;
        restore.0.push((ns.kind, own));
        let j = namespaces::open_joins(std::slice::from_ref(ns)).map_err(setup_err)?;
        for j in &j {
            namespaces::join(j).map_err(setup_err)?;
        }
    }
    if ns_new(NamespaceKind::Time) {
        let own = namespaces::own(NamespaceKind::Time)
            .map_err(|e| setup_err(format!("opening own time namespace: {}", errno_text(e))))?;
        restore.0.push((NamespaceKind::Time, own));
        namespaces::unshare(NamespaceKind::Time.clone_flag()).map_err(setup_err)?;
        namespaces::write_time_offsets(&plan.time_offsets).map_err(setup_err)?;
    }
    // Inherited by the init (like runc, set on ourselves first): the init's own
    // /proc/self files are not writable to it once it is non-dumpable in a user namespace.
    if let Some(v) = plan.process.oom_score_adj {
        crate::process::set_oom_score_adj(v).map_err(setup_err)?;
    }
    // The init is non-dumpable from its first instruction (the flag is inherited by the
    // clone) until it execs the user program: a process sharing its pid namespace cannot
    // open its /proc/<pid>/{exe,fd,root,cwd,mem,...} without CAP_SYS_PTRACE over the
    // host's user namespace.
    sys::prctl(libc::PR_SET_DUMPABLE, 0, 0)
        .map_err(|e| setup_err(format!("making create non-dumpable: {}", errno_text(e))))?;

    let (chan, child_chan) =
        crate::sync::pair().map_err(|e| setup_err(format!("socketpair: {}", errno_text(e))))?;
    let forked = sys::fork_with_flags(clone_flags).map_err(|e| {
        setup_err(format!(
            "creating the container process (namespaces {}): {}",
            namespaces::flag_names(clone_flags),
            errno_text(e)
        ))
    })?;
    let mut pid = match forked {
        sys::Forked::Child => {
            drop(chan);
            // Its fds are closed by the init with every other fd it was not handed.
            std::mem::forget(restore);
            crate::init::run(crate::init::InitArgs {
                plan,
                chan: child_chan,
                exec_listener,
                joins: child_joins,
                unshare: child_unshare,
                new_userns,
                cloned_userns: clone_flags & NamespaceKind::User.clone_flag() != 0,
                console,
                preserve_fds: req.preserve_fds,
                no_pivot: req.no_pivot,
                no_new_keyring: req.no_new_keyring,
                cgroups: view,
                idmapped,
                seccomp,
                cgroup_joined: std::cell::Cell::new(false),
                cgroupns_done: std::cell::Cell::new(false),
            })
        }
        sys::Forked::Parent(pid) => pid,
    };
    drop(restore);
    drop(child_chan);
    drop(console);
    drop(idmapped);
    drop(exec_listener);
    cleanup.pid = Some(pid);
    record_pid(handle, pid)?;
    step(&format!("init cloned, pid {pid} and the cgroup recorded"));
    // The init waits for `Go`: it is not in the cgroup before the cgroup is there.
    if let Some(cg) = &cleanup.cgroup {
        cg.create()?;
        cg.apply(&plan.resources)?;
    }
    if let (Some((r, s)), Some(rdt)) = (&mut cleanup.rdt, &plan.intel_rdt) {
        crate::resctrl::setup(r, rdt, s)?;
    }
    step("cgroup created");

    if new_userns && !staged {
        namespaces::write_id_maps(pid, &plan.uid_mappings, &plan.gid_mappings)
            .map_err(setup_err)?;
    }
    let send = |m: &Msg| {
        chan.send(m).map_err(|e| {
            // The child may have failed and gone: its error message is still queued.
            loop {
                match chan.recv() {
                    Ok(Some(Msg::Error(text))) => return setup_err(text),
                    Ok(Some(Msg::Log(level, line))) => crate::logging::log(level, &line),
                    Ok(Some(_)) => continue,
                    _ => break,
                }
            }
            setup_err(format!(
                "talking to the container process: {}",
                errno_text(e)
            ))
        })
    };
    send(&Msg::Go)?;
    // Joining v1 hierarchies can take milliseconds (an RCU grace period): the child sets
    // up its mounts meanwhile and waits for `Cgroup` before anything that depends on it.
    if let Some(cg) = &cleanup.cgroup {
        cg.add(pid)?;
    }
    if let Some((r, s)) = &cleanup.rdt {
        crate::resctrl::add(r, s, pid)?;
    }
    send(&Msg::Cgroup)?;
    step("init joined the cgroup");
    loop {
        match recv_logging(&chan)? {
            Some(Msg::NeedMaps(_)) => {
                namespaces::write_id_maps(pid, &plan.uid_mappings, &plan.gid_mappings)
                    .map_err(setup_err)?;
                send(&Msg::Go)?;
            }
            Some(Msg::Pid(n)) => {
                // The intermediate process exits; the container process is its sibling
                // (and in the cgroup, where delete finds it until its pid is recorded).
                let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
                pid = n;
                cleanup.pid = Some(pid);
                record_pid(handle, pid)?;
                step(&format!("container process forked, pid {pid} recorded"));
            }
            Some(Msg::Hooks) => {
                let creating = crate::state::oci_state_json(
                    req.id,
                    Status::Creating,
                    Some(pid),
                    req.bundle,
                    &plan.annotations,
                );
                crate::hooks::run_hooks(&plan.hooks.prestart, &creating)
                    .map_err(|e| setup_err(format!("prestart {e}")))?;
                crate::hooks::run_hooks(&plan.hooks.create_runtime, &creating)
                    .map_err(|e| setup_err(format!("createRuntime {e}")))?;
                let created = crate::state::oci_state_json(
                    req.id,
                    Status::Created,
                    Some(pid),
                    req.bundle,
                    &plan.annotations,
                );
                send(&Msg::States(creating, created))?;
            }
            Some(Msg::Ready) => break,
            Some(Msg::Error(e)) => return Err(setup_err(e)),
            Some(other) => {
                return Err(setup_err(format!(
                    "unexpected message from the container process: {other:?}"
                )))
            }
            None => {
                return Err(setup_err(
                    "the container process exited during setup without reporting an error",
                ))
            }
        }
    }
    step("init ready");
    let start_time = crate::state::process_start_time(pid)
        .ok_or_else(|| setup_err(format!("the container process {pid} is gone")))?;
    let (cgroup, intel_rdt) = cleanup.disarm();
    Ok(Created {
        pid,
        start_time,
        cgroup,
        intel_rdt,
        chan,
    })
}

fn save(handle: &Locked) -> Result<(), ContainerError> {
    handle
        .save()
        .map_err(|e| setup_err(format!("recording the state: {e}")))
}

/// Records the init's pid (and start time, to tell it from a later process with the
/// same pid) while the phase is still `creating`.
fn record_pid(handle: &mut Locked, pid: i32) -> Result<(), ContainerError> {
    handle.state.pid = Some(pid);
    handle.state.start_time = crate::state::process_start_time(pid);
    save(handle)
}

/// A caller may start create with stdin/stdout/stderr closed; then the next fds create
/// opens would take those numbers and leak into the container as its stdio. Fill the gaps
/// with /dev/null first.
fn ensure_stdio() {
    for fd in 0..3 {
        // SAFETY: F_GETFD only queries the descriptor table.
        let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0;
        if !open {
            // The lowest free number is `fd` itself: the new fd is deliberately kept.
            if let Ok(f) = rustix::fs::open("/dev/null", OFlags::RDWR, Mode::empty()) {
                std::mem::forget(f);
            }
        }
    }
}

/// In a user namespace the container's root may not write to the image (owned by host
/// users): create the mount points that lie on the image itself from here, with host
/// privileges, resolved inside the rootfs. Failures are left for the init to report.
fn precreate_mount_points(plan: &ContainerPlan) {
    let Ok(root) = crate::rootfs::Root::open(&plan.rootfs) else {
        return;
    };
    let under = |p: &str, base: &str| {
        let base = base.trim_end_matches('/');
        base.is_empty() || p == base || p.starts_with(&format!("{base}/"))
    };
    for (i, m) in plan.mounts.iter().enumerate() {
        let covered = plan.mounts[..i]
            .iter()
            .any(|e| under(&m.destination, &e.destination));
        if covered {
            continue;
        }
        let leaf = match m.source.as_deref() {
            Some(src) if m.bind && std::fs::metadata(src).is_ok_and(|md| !md.is_dir()) => {
                crate::rootfs::Leaf::File
            }
            _ => crate::rootfs::Leaf::Dir,
        };
        let _ = root.mkdir_all(&m.destination, leaf);
    }
    let _ = root.mkdir_all(&plan.process.cwd, crate::rootfs::Leaf::Dir);
}

/// Called by `start`: connects to the init's [`EXEC_SOCKET`] and asks it to run the user
/// program; once the init has taken the start the socket is removed (the container is
/// `running` from then on). Returns when the init has exec'd (EOF), or fails with the
/// reason it died instead (e.g. a startContainer hook), passing its log lines on.
#[writ_macros::requirement("runtime.lifecycle.run_program", "runtime.start.run_program")]
pub fn release(state_dir: &Path) -> Result<(), ContainerError> {
    let path = state_dir.join(EXEC_SOCKET);
    let chan = crate::sync::connect_exec(state_dir).map_err(|e| {
        setup_err(format!(
            "connecting to {}: {} (the container is not in the created state, or its process is gone)",
            path.display(),
            errno_text(e)
        ))
    })?;
    chan.send(&Msg::Start)
        .map_err(|e| setup_err(format!("starting the container process: {}", errno_text(e))))?;
    let mut pfd = [nix::poll::PollFd::new(
        chan.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(setup_err("the container process did not take the start signal within 10 s (is it still alive?)"));
        }
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        match nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(ms)) {
            Err(Errno::EINTR) | Ok(0) => continue,
            Err(e) => {
                return Err(setup_err(format!(
                    "waiting on {}: {}",
                    path.display(),
                    errno_text(e)
                )))
            }
            Ok(_) => break,
        }
    }
    match recv_logging(&chan)? {
        Some(Msg::Started) => {}
        Some(Msg::Error(e)) => return Err(setup_err(e)),
        None => {
            return Err(setup_err(
                "the container process exited before it was started",
            ))
        }
        Some(other) => {
            return Err(setup_err(format!(
                "unexpected answer of the container process: {other:?}"
            )))
        }
    }
    let _ = std::fs::remove_file(&path);
    // The init keeps the connection open (close-on-exec) until it execs the user program;
    // what it sends before EOF is why it failed.
    match recv_logging(&chan)? {
        None => Ok(()),
        Some(Msg::Error(e)) => Err(setup_err(e)),
        Some(other) => Err(setup_err(format!(
            "unexpected message of the container process: {other:?}"
        ))),
    }
}
