//! Spawning a container's init: the runtime side of `create` (prepare what the init is
//! handed, clone it, then lead it through its setup over the channel), and the release
//! done by `start`. The child side is `crate::init`.
//!
//! Crash safety: `create` records in the state what it is about to make before making it
//! (the init's pid and the cgroup's paths, in one save right after the clone and before
//! the cgroup is made; the init does nothing in the cgroup before create's `Go`), and the
//! init dies with create (PDEATHSIG, and EOF on their channel) until create has saved the
//! finished state and tells it so ([`Created::detach`]). So whenever create is killed,
//! `delete --force` finds in the state everything it left.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use crate::cgroups::{self, Cgroup, CgroupError, SelfJoin};
use crate::console::ConsoleError;
use crate::hooks::HookError;
use crate::init_error::InitError;
use crate::mounts::CgroupView;
use crate::namespaces::{self, JoinFd, NamespaceKind};
use crate::plan::{ContainerPlan, NamespaceSteps};
use crate::seccomp::SeccompError;
use crate::state::{Locked, StateError, Status};
use crate::sync::{Channel, Msg, EXEC_SOCKET};
use crate::sys::{self, Context, Errno, SysError};

/// What `create` is asked to do.
pub struct CreateRequest<'a> {
    /// The container's id.
    pub id: &'a str,
    /// Absolute, canonical.
    pub bundle: &'a Path,
    /// Where the pty master goes, with a terminal.
    pub console_socket: Option<&'a Path>,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// `--no-new-keyring`.
    pub no_new_keyring: bool,
    /// `--systemd-cgroup`.
    pub systemd_cgroup: bool,
}

/// Why create or start failed.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The container's init reported a failure of its setup.
    #[error(transparent)]
    Init(#[from] InitError),
    /// A system call of create or start failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// The container's cgroup.
    #[error(transparent)]
    Cgroup(#[from] Box<CgroupError>),
    /// A prestart or createRuntime hook failed.
    #[error("{stage} {source}")]
    Hook {
        /// The hook's lifecycle point.
        stage: &'static str,
        /// Why.
        source: HookError,
    },
    /// The console socket.
    #[error(transparent)]
    Console(#[from] ConsoleError),
    /// The seccomp profile could not be compiled.
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
    /// The state could not be recorded.
    #[error("recording the state: {0}")]
    State(#[source] StateError),
    /// The config asks for a terminal and no console socket was given.
    #[error("process.terminal is true but no --console-socket was given")]
    NoConsoleSocket,
    /// The container process ended without saying why.
    #[error("the container process {0}")]
    Ended(&'static str),
    /// The container process is gone.
    #[error("the container process {0} is gone")]
    Gone(i32),
    /// The container process did not take the start.
    #[error(
        "the container process did not take the start signal within 10 s (is it still alive?)"
    )]
    StartTimeout,
    /// A message out of turn (a bug of one side).
    #[error("unexpected message from the container process: {0}")]
    Unexpected(String),
    /// The container's Intel RDT groups.
    #[error(transparent)]
    Rdt(#[from] crate::resctrl::RdtError),
}

impl From<CgroupError> for ContainerError {
    fn from(e: CgroupError) -> Self {
        ContainerError::Cgroup(Box::new(e))
    }
}

/// The next message from the init, writing its `Log` lines to our log; the init's
/// `Error` is returned as the error.
pub(crate) fn recv_logging(chan: &Channel) -> Result<Option<Msg>, ContainerError> {
    loop {
        match chan.recv() {
            Ok(Some(Msg::Log(level, line))) => crate::logging::log(level, &line),
            Ok(Some(Msg::Error(e))) => return Err(e.into()),
            Ok(m) => return Ok(m),
            Err(e) => return Err(SysError::new("reading from the container process", e).into()),
        }
    }
}

/// Sends to the init; if it is gone, its error (still queued) is the error.
pub(crate) fn send(chan: &Channel, m: &Msg) -> Result<(), ContainerError> {
    chan.send(m).map_err(|e| {
        loop {
            match chan.recv() {
                Ok(Some(Msg::Error(err))) => return err.into(),
                Ok(Some(Msg::Log(level, line))) => crate::logging::log(level, &line),
                Ok(Some(_)) => continue,
                _ => break,
            }
        }
        SysError::new("talking to the container process", e).into()
    })
}

/// A created container: its init waits for [`Created::detach`], then for `start`.
pub struct Created {
    /// The container process.
    pub pid: i32,
    /// /proc/PID/stat field 22.
    pub start_time: u64,
    /// Its cgroup.
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
        send(&self.chan, &Msg::Saved)?;
        match recv_logging(&self.chan)? {
            Some(Msg::Detached) => Ok(()),
            other => Err(ContainerError::Unexpected(format!("{other:?}"))),
        }
    }
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
pub(crate) struct NsRestore(pub(crate) Vec<(NamespaceKind, OwnedFd)>);

impl Drop for NsRestore {
    fn drop(&mut self) {
        for (k, fd) in self.0.drain(..) {
            let flag = nix::sched::CloneFlags::from_bits_retain(k.clone_flag() as i32);
            let _ = nix::sched::setns(fd.as_fd(), flag);
        }
    }
}

/// What the init is handed, made before the clone.
struct Handed {
    joins: Vec<JoinFd>,
    console: Option<UnixStream>,
    view: CgroupView,
    /// The v1 hierarchies the init joins by itself (cgroups::join).
    self_join: SelfJoin,
    exec_listener: OwnedFd,
    seccomp: Option<crate::seccomp::Program>,
    idmapped: Vec<(usize, OwnedFd)>,
}

/// How the init runs beside create on a cgroup v1 host ([`Early::of`]).
#[derive(Clone, Copy)]
struct Early {
    /// See [`early_setup`].
    setup: bool,
    /// See [`move_beside`].
    spread: bool,
}

impl Early {
    /// An early init only when create makes the cgroup after the clone (`target` is
    /// none), the config allows it ([`early_setup`]) and no cgroup directory is under
    /// the rootfs ([`outside_rootfs`]); spread when create is on every CPU ([`unpinned`]).
    fn of(
        plan: &ContainerPlan,
        steps: &NamespaceSteps,
        target: &Option<OwnedFd>,
        cgroup: Option<&Cgroup>,
    ) -> Early {
        let setup = target.is_none()
            && early_setup(plan, steps)
            && cgroup.is_none_or(|cg| {
                let paths: Vec<&Path> = cg
                    .state()
                    .hierarchies
                    .iter()
                    .map(|h| h.path.as_path())
                    .collect();
                outside_rootfs(&paths, &plan.rootfs)
            });
        Early {
            setup,
            spread: setup && unpinned(),
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
    "config_linux.namespaces.create",
    "config_linux.namespaces.inherit",
    "config_linux.namespaces.types.supported",
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
    let mut cleanup = Cleanup {
        pid: None,
        cgroup: None,
        socket: None,
        rdt: None,
    };
    let handed = prepare(req, plan, handle, &mut cleanup)?;
    let steps = NamespaceSteps::of(&plan.namespaces);
    let restore = enter_for_children(plan)?;
    before_clone(plan)?;
    let mut self_join = handed.self_join.clone();
    let target = precreate_for_clone(req, handle, &cleanup)?;
    let early = Early::of(plan, &steps, &target, cleanup.cgroup.as_ref());
    let (pid, chan, cloned_into) = clone_init(req, plan, &steps, handed, early, restore, &target)?;
    if cloned_into {
        self_join = self_join.cloned_into_v2();
    }
    cleanup.pid = Some(pid);
    // One read of /proc/<pid>/stat: the CPU the init is on and its start time.
    let stat = crate::state::proc_stat(pid);
    if early.spread {
        move_beside(pid, stat.as_ref().and_then(|s| s.processor));
    }
    record_pid(handle, pid, stat.map(|s| s.start_time))?;
    step(
        req,
        &format!("init cloned, pid {pid} and the cgroup recorded"),
    );
    // The init waits for `Go` before it enters the cgroup, so it does nothing there before
    // its resources are set; an `early` init makes its namespaces meanwhile.
    if let Some(cg) = &cleanup.cgroup {
        if target.is_none() {
            cg.create()?;
        }
        cg.apply(&plan.resources)?;
    }
    if let (Some((r, s)), Some(rdt)) = (&mut cleanup.rdt, &plan.intel_rdt) {
        crate::resctrl::setup(r, rdt, s)?;
    }
    step(req, "cgroup created");
    if steps.cloned_userns() {
        namespaces::write_id_maps(pid, &plan.uid_mappings, &plan.gid_mappings)?;
    }
    send(&chan, &Msg::Go)?;
    // The init joins the v1 hierarchies by itself on `Go` (cgroups::join: no RCU grace
    // period); create writes its pid where it cannot, which can take milliseconds (a
    // grace period): the child sets up its mounts meanwhile and waits for `Cgroup`
    // before anything that depends on it.
    if let Some(cg) = &cleanup.cgroup {
        cg.add_except(pid, &self_join)?;
    }
    if let Some((r, s)) = &cleanup.rdt {
        crate::resctrl::add(r, s, pid)?;
    }
    send(&chan, &Msg::Cgroup)?;
    step(req, "init joined the cgroup");
    let pid = lead(req, plan, handle, &mut cleanup, &chan, pid)?;
    step(req, "init ready");
    // `lead` recorded the pid it returns, with its start time.
    let start_time = handle.state.start_time.ok_or(ContainerError::Gone(pid))?;
    let (cgroup, intel_rdt) = cleanup.disarm();
    Ok(Created {
        pid,
        start_time,
        cgroup,
        intel_rdt,
        chan,
    })
}

/// A debug line for a step of create.
fn step(req: &CreateRequest, what: &str) {
    crate::logging::debug(|| format!("create {}: {what}", req.id));
}

/// What the init is handed: the namespaces to join, the console socket, the cgroup
/// (planned and recorded in `handle`, not made yet), the exec socket, the seccomp
/// program, the idmapped mounts' trees.
fn prepare(
    req: &CreateRequest,
    plan: &ContainerPlan,
    handle: &mut Locked,
    cleanup: &mut Cleanup,
) -> Result<Handed, ContainerError> {
    let joins = namespaces::open_joins(&plan.namespaces)?;
    let console = match (plan.terminal, req.console_socket) {
        (true, Some(s)) => Some(crate::console::connect(s)?),
        (true, None) => return Err(ContainerError::NoConsoleSocket),
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
    // An init in a user namespace cannot write the host's cgroup files: create adds it.
    let self_join = if plan.namespace(NamespaceKind::User).is_none() {
        cg.self_join()
    } else {
        SelfJoin::default()
    };
    cleanup.cgroup = Some(cg);
    // The Intel RDT groups likewise (nothing at all without intelRdt).
    cleanup.rdt = crate::resctrl::plan_for(plan.intel_rdt.as_ref(), None, req.id)?;
    handle.state.intel_rdt = cleanup.rdt.as_ref().map(|(_, s)| s.clone());
    let exec_listener = crate::sync::listen_exec(&handle.dir)
        .with_ctx(|| format!("creating {}", handle.dir.join(EXEC_SOCKET).display()))?;
    cleanup.socket = Some(handle.dir.join(EXEC_SOCKET));
    if plan.namespace(NamespaceKind::User).is_some() {
        precreate_mount_points(plan);
    }
    let seccomp = match &plan.seccomp {
        Some(s) => Some(crate::seccomp::compile_cached(
            s,
            handle.dir.parent().unwrap_or(&handle.dir),
        )?),
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
        crate::mounts::prepare_idmapped(&plan.mounts, &plan.uid_mappings, &plan.gid_mappings)?;
    Ok(Handed {
        joins,
        console,
        view,
        self_join,
        exec_listener,
        seccomp,
        idmapped,
    })
}

/// The pid and time namespaces of the child are chosen here (they apply to children):
/// joined, or a new time namespace with its offsets. Undone when the result is dropped.
fn enter_for_children(plan: &ContainerPlan) -> Result<NsRestore, ContainerError> {
    let mut restore = NsRestore(Vec::new());
    for ns in &plan.namespaces {
        if ns.path.is_none() || !NamespaceSteps::joined_by_create(ns.kind) {
            continue;
        }
        let own = namespaces::own(ns.kind)
            .with_ctx(|| format!("opening own {} namespace", ns.kind.config_name()))?;
        restore.0.push((ns.kind, own));
        for j in &namespaces::open_joins(std::slice::from_ref(ns))? {
            namespaces::join(j)?;
        }
    }
    if plan
        .namespace(NamespaceKind::Time)
        .is_some_and(|n| n.path.is_none())
    {
        let own = namespaces::own(NamespaceKind::Time).ctx("opening own time namespace")?;
        restore.0.push((NamespaceKind::Time, own));
        namespaces::unshare(NamespaceKind::Time.clone_flag())?;
        namespaces::write_time_offsets(&plan.time_offsets)?;
    }
    Ok(restore)
}

/// What the init inherits from create's own process.
#[writ_macros::requirement("config.process.oom_score_adj.unset")]
pub(crate) fn before_clone(plan: &ContainerPlan) -> Result<(), ContainerError> {
    // Like runc, set on ourselves first: the init's own /proc/self files are not
    // writable to it once it is non-dumpable in a user namespace.
    if let Some(v) = plan.process.oom_score_adj {
        crate::process::set_oom_score_adj(v)?;
    }
    // The init is non-dumpable from its first instruction (the flag is inherited by the
    // clone) until it execs the user program: a process sharing its pid namespace cannot
    // open its /proc/<pid>/{exe,fd,root,cwd,mem,...} without CAP_SYS_PTRACE over the
    // host's user namespace.
    sys::prctl(libc::PR_SET_DUMPABLE, 0, 0).ctx("making create non-dumpable")?;
    Ok(())
}

/// On a host with cgroup2, makes the container's cgroup before the clone (recorded in the
/// state first) and opens its cgroup2 directory for CLONE_INTO_CGROUP (cgroups::join).
fn precreate_for_clone(
    req: &CreateRequest,
    handle: &Locked,
    cleanup: &Cleanup,
) -> Result<Option<OwnedFd>, ContainerError> {
    let Some(cg) = cleanup
        .cgroup
        .as_ref()
        .filter(|cg| cg.state().v2().is_some())
    else {
        return Ok(None);
    };
    save(handle)?;
    cg.create()?;
    step(req, "cgroup made for the clone");
    Ok(cgroups::join::clone_target(cg.state())?)
}

/// Clones the init with what it is handed, into the cgroup2 directory `target` when the
/// kernel takes it; returns its pid, create's end of their channel and whether the init
/// was cloned into `target`.
fn clone_init(
    req: &CreateRequest,
    plan: &ContainerPlan,
    steps: &NamespaceSteps,
    handed: Handed,
    early: Early,
    restore: NsRestore,
    target: &Option<OwnedFd>,
) -> Result<(i32, Channel, bool), ContainerError> {
    let (chan, child_chan) = crate::sync::pair().ctx("socketpair")?;
    let into = target.as_ref().map(|fd| fd.as_fd());
    let (forked, cloned_into) = match sys::fork_into(steps.clone_flags, into) {
        Err(e) if into.is_some() => {
            crate::logging::debug(|| {
                format!("clone3 into the cgroup refused ({e}): cloning, then moving the init")
            });
            (sys::fork_with_flags(steps.clone_flags), false)
        }
        other => (other, into.is_some()),
    };
    let forked = forked.with_ctx(|| {
        format!(
            "creating the container process (namespaces {})",
            namespaces::flag_names(steps.clone_flags)
        )
    })?;
    match forked {
        sys::Forked::Child => {
            drop(chan);
            // Its fds are closed by the init with every other fd it was not handed.
            std::mem::forget(restore);
            let joins = handed
                .joins
                .into_iter()
                .filter(|j| !NamespaceSteps::joined_by_create(j.kind))
                .collect();
            crate::init::run(crate::init::InitArgs {
                plan,
                chan: child_chan,
                exec_listener: handed.exec_listener,
                joins,
                unshare: steps.child_unshare,
                new_userns: steps.new_userns,
                cloned_userns: steps.cloned_userns(),
                console: handed.console,
                preserve_fds: req.preserve_fds,
                no_pivot: req.no_pivot,
                no_new_keyring: req.no_new_keyring,
                cgroups: handed.view,
                self_join: handed.self_join,
                early: early.setup,
                spread: early.spread,
                idmapped: handed.idmapped,
                seccomp: handed.seccomp,
                cgroup_entered: std::cell::Cell::new(false),
                cgroup_joined: std::cell::Cell::new(false),
                cgroupns_done: std::cell::Cell::new(false),
            })
        }
        // `handed` and `restore` are dropped here: create keeps none of it.
        sys::Forked::Parent(pid) => Ok((pid, chan, cloned_into)),
    }
}

/// Whether the init may make its namespaces and its first mounts (init::rootfs::
/// outside_cgroup) before create has made the cgroup, instead of waiting for `Go`: where
/// create makes the cgroup after the clone (a cgroup v1 host; where there is cgroup2 it is
/// made before, and the init cloned into it), the two then run side by side, as crun's
/// clone with all the namespaces does (create moves the init off its CPU:
/// [`move_beside`]). The init enters the cgroup before anything else:
/// mounts that may open a device or copy data, devices, hooks, the forks, the exec.
/// What this costs: the kernel memory of the new namespaces and of those mounts (about
/// 100 kB for new network, mount, uts and ipc namespaces, measured here with a v1
/// memory.usage_in_bytes; made once by the runtime, never by the container's program) is
/// charged to the caller's memory cgroup instead of the container's; everything the
/// container does is charged to its own. Not with a user namespace (its id maps and `Go` come in a fixed
/// order, and the init could not join the host's cgroup files), a mount namespace joined
/// by path (the init joins the cgroup by create's paths) or an initial CPU affinity
/// (applied after the cgroup is joined; a v1 cpuset would reset it).
fn early_setup(plan: &ContainerPlan, steps: &NamespaceSteps) -> bool {
    let joined_mount_ns = plan
        .namespace(NamespaceKind::Mount)
        .is_some_and(|n| n.path.is_some());
    !steps.new_userns
        && plan.namespace(NamespaceKind::User).is_none()
        && !joined_mount_ns
        && plan.process.cpu_affinity_initial.is_none()
}

/// Whether none of the cgroup directories `paths` is under the rootfs (symlinks resolved):
/// an early init joins them by path after the config's first mounts, which all land in
/// the rootfs; with a rootfs of `/` (or above the cgroup mounts) a mount could cover the
/// `tasks` files, so such an init waits for `Go` and joins before any mount.
fn outside_rootfs(paths: &[&Path], rootfs: &Path) -> bool {
    std::fs::canonicalize(rootfs).is_ok_and(|root| paths.iter().all(|p| !p.starts_with(&root)))
}

/// Whether create's CPU affinity is every CPU the host may have (/sys/devices/system/
/// cpu/possible): only then may an early init be moved to another CPU (see
/// [`move_beside`]), because only then can it give its affinity back exactly.
fn unpinned() -> bool {
    use nix::sched::sched_getaffinity;
    let Ok(mask) = sched_getaffinity(nix::unistd::Pid::from_raw(0)) else {
        return false;
    };
    let possible = std::fs::read_to_string("/sys/devices/system/cpu/possible").ok();
    let Some(all) = possible.and_then(|p| crate::plan::parse_cpu_list(p.trim())) else {
        return false;
    };
    all.len() > 1 && all.iter().all(|&c| mask.is_set(c).unwrap_or(false))
}

/// Lets an early init run beside create. This host's scheduler keeps a forked child on
/// its parent's CPU (sched_switch traces of a `run`: create and the init both on CPU 0,
/// CPU 1 idle), so the init would only run while create waits: create moves it to its
/// other CPUs. (Moving create itself instead blocks create until the other CPU is awake:
/// 1.4 ms once in a trace.) The init then sets every CPU as its affinity before it enters
/// the cgroup (init::enter_cgroup). The kernel keeps that as the mask the user asked for
/// and intersects every later cpuset with it; a mask of every CPU changes no
/// intersection, so the container's processes get the affinity they always had, the
/// caller's being every CPU too ([`unpinned`]). Where the scheduler already put the init
/// on another CPU nothing is done; a failure only leaves the init where it is. `init_cpu`
/// is the CPU the init was on just after the clone (field 39 of its stat).
fn move_beside(pid: i32, init_cpu: Option<usize>) {
    use nix::sched::{sched_getaffinity, sched_getcpu, sched_setaffinity, CpuSet};
    let Ok(cpu) = sched_getcpu() else {
        return;
    };
    if init_cpu != Some(cpu) {
        return;
    }
    let Ok(mut others) = sched_getaffinity(nix::unistd::Pid::from_raw(0)) else {
        return;
    };
    if others.unset(cpu).is_err() || !(0..CpuSet::count()).any(|c| others.is_set(c) == Ok(true)) {
        return;
    }
    if let Err(e) = sched_setaffinity(nix::unistd::Pid::from_raw(pid), &others) {
        crate::logging::debug(|| format!("moving the init off CPU {cpu}: {e}"));
    }
}

/// Answers the init until it is `Ready`: id maps, the pid of a forked container
/// process, the prestart and createRuntime hooks. Returns the container process's pid.
#[writ_macros::requirement(
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
    "config.hooks.prestart.path.runtime_ns_timing",
    "config.hooks.prestart.runtime_ns_timing",
    "config.hooks.create_runtime.path.runtime_ns_timing",
    "config.hooks.create_runtime.runtime_ns_timing"
)]
fn lead(
    req: &CreateRequest,
    plan: &ContainerPlan,
    handle: &mut Locked,
    cleanup: &mut Cleanup,
    chan: &Channel,
    mut pid: i32,
) -> Result<i32, ContainerError> {
    let state = |status, pid| {
        crate::state::oci_state_json(req.id, status, Some(pid), req.bundle, &plan.annotations)
    };
    loop {
        match recv_logging(chan)? {
            Some(Msg::NeedMaps(_)) => {
                namespaces::write_id_maps(pid, &plan.uid_mappings, &plan.gid_mappings)?;
                send(chan, &Msg::Go)?;
            }
            Some(Msg::Pid(n)) => {
                // The intermediate process exits; the container process is its sibling
                // (and in the cgroup, where delete finds it until its pid is recorded).
                let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
                pid = n;
                cleanup.pid = Some(pid);
                record_pid(handle, pid, crate::state::process_start_time(pid))?;
                step(
                    req,
                    &format!("container process forked, pid {pid} recorded"),
                );
            }
            Some(Msg::Hooks) => {
                let creating = state(Status::Creating, pid);
                let hook = |stage, hooks| {
                    crate::hooks::run_hooks(hooks, &creating)
                        .map_err(|source| ContainerError::Hook { stage, source })
                };
                hook("prestart", &plan.hooks.prestart)?;
                hook("createRuntime", &plan.hooks.create_runtime)?;
                send(
                    chan,
                    &Msg::States(creating.clone(), state(Status::Created, pid)),
                )?;
            }
            Some(Msg::Ready) => return Ok(pid),
            Some(other) => return Err(ContainerError::Unexpected(format!("{other:?}"))),
            None => {
                return Err(ContainerError::Ended(
                    "exited during setup without reporting an error",
                ))
            }
        }
    }
}

fn save(handle: &Locked) -> Result<(), ContainerError> {
    handle.save().map_err(ContainerError::State)
}

/// Records the init's pid (and start time, to tell it from a later process with the
/// same pid, read by the caller) while the phase is still `creating`.
fn record_pid(
    handle: &mut Locked,
    pid: i32,
    start_time: Option<u64>,
) -> Result<(), ContainerError> {
    handle.state.pid = Some(pid);
    handle.state.start_time = start_time;
    save(handle)
}

/// A caller may start create with stdin/stdout/stderr closed; then the next fds create
/// opens would take those numbers and leak into the container as its stdio. Fill the gaps
/// with /dev/null first.
pub(crate) fn ensure_stdio() {
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
        SysError::new(format!("connecting to {}", path.display()), e)
            .hint(" (the container is not in the created state, or its process is gone)")
    })?;
    chan.send(&Msg::Start)
        .ctx("starting the container process")?;
    let mut pfd = [nix::poll::PollFd::new(
        chan.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(ContainerError::StartTimeout);
        }
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        match nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(ms)) {
            Err(Errno::EINTR) | Ok(0) => continue,
            Err(e) => return Err(SysError::new(format!("waiting on {}", path.display()), e).into()),
            Ok(_) => break,
        }
    }
    match recv_logging(&chan)? {
        Some(Msg::Started) => {}
        None => return Err(ContainerError::Ended("exited before it was started")),
        Some(other) => return Err(ContainerError::Unexpected(format!("{other:?}"))),
    }
    let _ = std::fs::remove_file(&path);
    // The init keeps the connection open (close-on-exec) until it execs the user program;
    // what it sends before EOF is why it failed.
    match recv_logging(&chan)? {
        None => Ok(()),
        Some(other) => Err(ContainerError::Unexpected(format!("{other:?}"))),
    }
}

#[cfg(test)]
mod early_tests {
    #![allow(clippy::unwrap_used)] // a test: a failing unwrap is a failing test
    use super::*;
    use serde_json::json;

    fn plan(edit: impl FnOnce(&mut serde_json::Value)) -> ContainerPlan {
        let mut v = json!({
            "ociVersion": writ_spec::OCI_VERSION,
            "root": {"path": "rootfs"},
            "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
            "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}, {"type": "network"}]}
        });
        edit(&mut v);
        let host = crate::plan::HostFacts::default();
        crate::plan::from_config(&serde_json::to_vec(&v).unwrap(), Path::new("/b"), &host).unwrap()
    }

    fn early(p: &ContainerPlan) -> bool {
        early_setup(p, &NamespaceSteps::of(&p.namespaces))
    }

    #[test]
    fn the_init_sets_up_early_unless_the_order_matters() {
        assert!(early(&plan(|_| {})));
        let ns = |v: &mut serde_json::Value, extra: serde_json::Value| {
            v["linux"]["namespaces"].as_array_mut().unwrap().push(extra)
        };
        let user = plan(|v| {
            ns(v, json!({"type": "user"}));
            v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
            v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
        });
        assert!(!early(&user), "a new user namespace");
        let joined_user = plan(|v| ns(v, json!({"type": "user", "path": "/proc/1/ns/user"})));
        assert!(!early(&joined_user), "a joined user namespace");
        let joined_mnt = plan(|v| {
            v["linux"]["namespaces"] = json!([{"type": "mount", "path": "/proc/1/ns/mnt"}])
        });
        assert!(!early(&joined_mnt), "a mount namespace joined by path");
        let joined_net = plan(|v| {
            v["linux"]["namespaces"] =
                json!([{"type": "mount"}, {"type": "network", "path": "/proc/1/ns/net"}])
        });
        assert!(early(&joined_net), "other namespaces joined by path");
        let affinity = plan(|v| v["process"]["execCPUAffinity"] = json!({"initial": "0"}));
        assert!(!early(&affinity), "an initial CPU affinity");
    }

    #[test]
    fn no_early_init_when_the_cgroup_is_under_the_rootfs() {
        let d = tempfile::tempdir().unwrap();
        let rootfs = d.path().join("rootfs");
        std::fs::create_dir(&rootfs).unwrap();
        let cg = Path::new("/sys/fs/cgroup/memory/writ/c1");
        assert!(outside_rootfs(&[cg], &rootfs));
        let inside = rootfs.join("sys/fs/cgroup/memory/c1");
        assert!(!outside_rootfs(&[cg, &inside], &rootfs));
        assert!(!outside_rootfs(&[cg], Path::new("/")));
        let link = d.path().join("link");
        std::os::unix::fs::symlink("/", &link).unwrap();
        assert!(
            !outside_rootfs(&[cg], &link),
            "a rootfs that is a symlink to /"
        );
        assert!(!outside_rootfs(&[cg], &d.path().join("missing")));
    }

    #[test]
    fn the_cpu_is_field_39_of_stat() {
        let mut fields: Vec<String> = (3..=52).map(|n| n.to_string()).collect();
        fields[0] = "S".into();
        fields[39 - 3] = "7".into();
        let text = format!("42 (a) (b c) {}\n", fields.join(" "));
        let st = crate::state::parse_proc_stat(&text).unwrap();
        assert_eq!((st.start_time, st.processor), (22, Some(7)));
        let mine = crate::state::proc_stat(std::process::id() as i32)
            .and_then(|s| s.processor)
            .unwrap();
        assert!(mine < nix::sched::CpuSet::count());
    }
}
