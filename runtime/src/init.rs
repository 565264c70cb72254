//! The container's init: runs in the cloned child. It joins/creates namespaces, builds the
//! root filesystem, applies the process attributes, reports `Ready` to create, waits for
//! `start` on the exec socket, runs the startContainer hooks and execs the user program.
//! Every failure before `Ready` goes back to create as text, later ones to `start`.
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
//!   container's, its mount namespace has no mount of the host's root. It has the
//!   container's user and capabilities already, and, without noNewPrivileges, its
//!   seccomp filter (the start handshake then needs accept4, recvfrom, sendto, close).
//! - What it cannot close off: before `pivot_root` it runs with the host's root as its
//!   root; a process with CAP_SYS_PTRACE over the host's user namespace that shares its
//!   pid namespace could ptrace it then (true of every runtime's init).

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::fs::{Mode, OFlags};

use crate::mounts::{CgroupView, MountCtx};
use crate::namespaces::{JoinFd, NamespaceKind};
use crate::plan::ContainerPlan;
use crate::rootfs::{Leaf, Root};
use crate::sync::{Channel, Msg};
use crate::sys::{self, errno_text, Errno};

/// Everything create prepared for the child.
pub struct InitArgs<'a> {
    pub plan: &'a ContainerPlan,
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
    pub console: Option<UnixStream>,
    pub preserve_fds: u32,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub cgroups: CgroupView,
    pub idmapped: Vec<(usize, OwnedFd)>,
    /// The compiled seccomp filter, loaded just before exec.
    pub seccomp: Option<crate::seccomp::Program>,
    /// Set once create reports the child is in the container's cgroup.
    pub cgroup_joined: std::cell::Cell<bool>,
    pub cgroupns_done: std::cell::Cell<bool>,
}

/// Entry point of the child; never returns.
pub fn run(mut a: InitArgs) -> ! {
    // If create dies, so do we (until create has saved the state: `Msg::Saved`).
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
    // Log lines go to create over the channel; then nothing of the host that we were not
    // handed stays open (the log file, the state directory, create's namespace fds...).
    crate::logging::divert(Some(a.chan.as_fd().as_raw_fd()));
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
fn close_foreign_fds(a: &InitArgs) -> Result<(), String> {
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
    sys::close_fds_except(&keep, 3, a.preserve_fds)
        .map_err(|e| format!("init: closing inherited fds: {}", errno_text(e)))
}

enum Never {}

/// The next message from create other than `Cgroup`, which is only noted.
fn recv(a: &InitArgs) -> Result<Msg, String> {
    loop {
        match a.chan.recv() {
            Ok(Some(Msg::Cgroup)) => a.cgroup_joined.set(true),
            Ok(Some(Msg::Error(e))) => return Err(e),
            Ok(Some(m)) => return Ok(m),
            Ok(None) => return Err("init: create went away".into()),
            Err(e) => return Err(format!("init: reading from create: {}", errno_text(e))),
        }
    }
}

fn expect_go(a: &InitArgs) -> Result<(), String> {
    match recv(a)? {
        Msg::Go => Ok(()),
        other => Err(format!("init: unexpected message from create: {other:?}")),
    }
}

/// Waits until create has put this process in the container's cgroup, then creates the
/// cgroup namespace (whose root is the cgroup at that moment).
fn ensure_cgroup(a: &InitArgs) -> Result<(), String> {
    while !a.cgroup_joined.get() {
        match a.chan.recv() {
            Ok(Some(Msg::Cgroup)) => a.cgroup_joined.set(true),
            Ok(Some(Msg::Error(e))) => return Err(e),
            Ok(other) => return Err(format!("init: unexpected message from create: {other:?}")),
            Err(e) => return Err(format!("init: reading from create: {}", errno_text(e))),
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

fn reset_signals() {
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

#[writ_macros::requirement(
    "runtime.lifecycle.create_container.invoke",
    "runtime.lifecycle.create_container.fail",
    "runtime.lifecycle.start_container.invoke",
    "runtime.lifecycle.start_container.fail",
    "config.hooks.create_container.timing",
    "config.hooks.create_container.after_create_runtime",
    "config.hooks.create_container.container_ns",
    "config.hooks.create_container.path.runtime_ns",
    "config.hooks.start_container.timing",
    "config.hooks.start_container.container_ns",
    "config.hooks.start_container.path.container_ns",
    "config.root.readonly",
    "config.hooks.create_container.path.runtime_ns_timing",
    "config.hooks.create_container.container_ns_timing",
    "config.hooks.start_container.path.container_ns_timing",
    "config.hooks.start_container.container_ns_timing",
    "config.process.exec_cpu_affinity.final_unset",
    "runtime_linux.fds.extra"
)]
fn setup(a: &mut InitArgs) -> Result<Never, String> {
    let plan = a.plan;
    reset_signals();
    expect_go(a)?;

    namespaces_phase(a)?;
    a.joins.clear();
    step("namespaces set up");
    if !a.no_new_keyring {
        // A fresh session keyring, like runc; kernels or namespaces without keyrings are fine.
        // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) takes no pointers we own.
        unsafe {
            libc::syscall(libc::SYS_keyctl, 1, std::ptr::null::<libc::c_char>());
        }
    }
    let p = &plan.process;
    if let Some(c) = &p.cpu_affinity_initial {
        crate::process::set_affinity(c, "initial")?;
    }
    rustix::process::umask(Mode::empty());
    if let Some(h) = &plan.hostname {
        nix::unistd::sethostname(h)
            .map_err(|e| format!("setting hostname {h:?}: {}", errno_text(e)))?;
    }
    if let Some(d) = &plan.domainname {
        // SAFETY: setdomainname with a pointer/length pair of a live string.
        let r = unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) };
        if r != 0 {
            return Err(format!(
                "setting domainname {d:?}: {}",
                errno_text(Errno::last())
            ));
        }
    }
    // Root filesystem, still seeing the host's / and /proc.
    let (root, console) = prepare_rootfs(a)?;
    a.idmapped.clear();
    step("rootfs prepared");

    // prestart/createRuntime hooks (run by create), then createContainer hooks here.
    let hooks = &plan.hooks;
    let mut created_state = Vec::new();
    let any_hooks = !(hooks.prestart.is_empty()
        && hooks.create_runtime.is_empty()
        && hooks.create_container.is_empty()
        && hooks.start_container.is_empty());
    if any_hooks {
        a.chan
            .send(&Msg::Hooks)
            .map_err(|e| format!("init: {}", errno_text(e)))?;
        match recv(a)? {
            Msg::States(creating, created) => {
                crate::hooks::run_hooks(&hooks.create_container, &creating)
                    .map_err(|e| format!("createContainer {e}"))?;
                created_state = created;
            }
            other => return Err(format!("init: unexpected message from create: {other:?}")),
        }
    }

    for (k, v) in &plan.sysctl {
        let rel = format!("/proc/sys/{}", k.replace('.', "/"));
        sys::write_file(std::path::Path::new(&rel), v.as_bytes())
            .map_err(|e| format!("setting sysctl {k}={v}: {}", sys::io_text(&e)))?;
    }
    let devnull = open_host_devnull()?;
    crate::mounts::mask_paths(&root, &plan.masked_paths, devnull.as_fd())?;
    crate::mounts::readonly_paths(&root, &plan.readonly_paths)?;
    drop(devnull);
    if plan.root_readonly {
        let top = root
            .resolve("")
            .map_err(|e| format!("reopening rootfs: {}", errno_text(e)))?;
        crate::mounts::make_readonly(top.as_fd(), false)
            .map_err(|e| format!("making the root filesystem read-only: {}", errno_text(e)))?;
    }
    enter_root(&root, a.no_pivot, plan.rootfs_propagation)?;
    drop(root);
    step("root entered");

    if let Some(console) = console {
        setup_terminal(a, console)?;
    }
    if let Some(per) = plan.personality {
        crate::process::set_personality(per)?;
    }
    crate::process::set_rlimits(&p.rlimits)?;
    if let Some(s) = &p.scheduler {
        crate::process::set_scheduler(s)?;
    }
    if let Some((class, level)) = p.io_priority {
        crate::process::set_io_priority(class, level)?;
    }
    if let Some(mp) = &plan.memory_policy {
        crate::mempolicy::apply(mp)?;
    }
    enter_cwd(&p.cwd)?;
    step("process attributes set");
    let exe = crate::process::resolve_executable(p)?;
    let exec = crate::process::ExecArgs::new(exe, p)?;
    sys::cloexec_from(3 + a.preserve_fds)
        .map_err(|e| format!("marking fds close-on-exec: {}", errno_text(e)))?;
    // Without noNewPrivileges the filter needs CAP_SYS_ADMIN: load it while we have it.
    if !p.no_new_privileges {
        if let Some(prog) = &a.seccomp {
            crate::seccomp::load(prog)?;
        }
    }
    crate::process::set_user_and_caps(p)?;
    // A change of uid clears PDEATHSIG: we still die with create until it has saved.
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
    rustix::process::umask(Mode::from_raw_mode(p.umask.unwrap_or(0o022)));

    a.chan
        .send(&Msg::Ready)
        .map_err(|e| format!("init: {}", errno_text(e)))?;
    match recv(a)? {
        Msg::Saved => {}
        other => return Err(format!("init: unexpected message from create: {other:?}")),
    }
    // The state is saved: from here on we outlive create (engines reap us).
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, 0, 0);
    crate::logging::divert(None);
    a.chan
        .send(&Msg::Detached)
        .map_err(|e| format!("init: {}", errno_text(e)))?;
    // Create exits now: close our end of the channel (and nothing else is left to close;
    // `a` is never dropped, this process ends in exec or _exit).
    let _ = sys::close_fds_except(&[0, 1, 2, a.exec_listener.as_raw_fd()], 3, a.preserve_fds);

    // Errors can only go to stderr until `start` is connected.
    let fail = |m: String| -> ! {
        eprintln!("writ init: {m}");
        // SAFETY: _exit in the container process.
        unsafe { libc::_exit(127) }
    };
    let start = match crate::sync::accept_start(a.exec_listener.as_fd()) {
        Ok(c) => c,
        Err(e) => fail(format!("waiting for start: {}", errno_text(e))),
    };
    let _ = sys::close_fds_except(&[0, 1, 2, start.as_fd().as_raw_fd()], 3, a.preserve_fds);
    crate::logging::divert(Some(start.as_fd().as_raw_fd()));
    // The connection stays open (close-on-exec) until the exec: `start`
    // (container::release) reads until EOF, so it sees a failure from here on.
    let fail = |m: String| -> ! {
        let _ = start.send(&Msg::Error(m.clone()));
        fail(m)
    };
    if !hooks.start_container.is_empty() {
        if let Err(e) = crate::hooks::run_hooks(&hooks.start_container, &created_state) {
            fail(format!("startContainer {e}"));
        }
    }
    // With noNewPrivileges the filter is loaded as late as possible (as runc does).
    if p.no_new_privileges {
        if let Some(prog) = &a.seccomp {
            if let Err(e) = crate::seccomp::load(prog) {
                fail(e);
            }
        }
    }
    if let Some(c) = &p.cpu_affinity_final {
        if let Err(e) = crate::process::set_affinity(c, "final") {
            fail(e);
        }
    }
    if let Err(e) = crate::process::set_exec_labels(p) {
        fail(e);
    }
    fail(exec.exec())
}

/// chdir to process.cwd, which must land inside the container's root: a cwd such as
/// `/proc/self/fd/N` would otherwise follow an fd out of it (CVE-2024-21626); the kernel
/// reports a cwd outside the root as "(unreachable)/...".
fn enter_cwd(cwd: &str) -> Result<(), String> {
    nix::unistd::chdir(cwd).map_err(|e| format!("chdir to cwd {cwd:?}: {}", errno_text(e)))?;
    match sys::raw_getcwd() {
        Ok(p) if p.first() == Some(&b'/') => Ok(()),
        Ok(p) => Err(format!(
            "cwd {cwd:?} is outside the container's root ({})",
            String::from_utf8_lossy(&p)
        )),
        Err(e) => Err(format!("cwd {cwd:?}: getcwd: {}", errno_text(e))),
    }
}

/// Joins and creates namespaces, gets id maps written, and (when the pid namespace was
/// unshared here) forks the real init as a sibling.
fn namespaces_phase(a: &mut InitArgs) -> Result<(), String> {
    // Interfaces to move are looked up while still in the host's network namespace.
    let mut netdevs = None;
    if !a.plan.net_devices.is_empty() {
        let mut host = crate::netdev::Netlink::open()?;
        let prepared = crate::netdev::prepare(&mut host, &a.plan.net_devices)?;
        netdevs = Some((host, prepared));
    }
    for j in &a.joins {
        crate::namespaces::join(j)?;
    }
    if a.unshare != 0 {
        crate::namespaces::unshare(a.unshare)?;
    }
    if let Some((mut host, prepared)) = netdevs {
        crate::netdev::move_in(&mut host, &prepared)?;
    }
    if a.new_userns && !a.cloned_userns {
        a.chan
            .send(&Msg::NeedMaps(0))
            .map_err(|e| format!("init: {}", errno_text(e)))?;
        expect_go(a)?;
    }
    if a.new_userns {
        // Become root of the new user namespace (mapped by now).
        nix::unistd::setresgid(0.into(), 0.into(), 0.into())
            .map_err(|e| format!("setting gid 0 in the user namespace: {}", errno_text(e)))?;
        nix::unistd::setresuid(0.into(), 0.into(), 0.into())
            .map_err(|e| format!("setting uid 0 in the user namespace: {}", errno_text(e)))?;
    }
    if a.unshare & libc::CLONE_NEWPID as u64 != 0 {
        // The forked process must be born inside the cgroup.
        ensure_cgroup(a)?;
        match sys::fork_with_flags(libc::CLONE_PARENT as u64)
            .map_err(|e| format!("forking the container process: {}", errno_text(e)))?
        {
            sys::Forked::Child => {
                // Our parent is create (CLONE_PARENT). Had it died already, the channel
                // reports EOF at our next read and we exit.
                let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
            }
            sys::Forked::Parent(pid) => {
                let _ = a.chan.send(&Msg::Pid(pid));
                // SAFETY: the intermediate process ends here without running destructors.
                unsafe { libc::_exit(0) }
            }
        }
    }
    Ok(())
}

fn open_host_devnull() -> Result<OwnedFd, String> {
    let fd = rustix::fs::open("/dev/null", OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).map_err(
        |e| {
            format!(
                "opening /dev/null: {}",
                errno_text(Errno::from_raw(e.raw_os_error()))
            )
        },
    )?;
    let st = rustix::fs::fstat(&fd).map_err(|e| {
        format!(
            "stat /dev/null: {}",
            errno_text(Errno::from_raw(e.raw_os_error()))
        )
    })?;
    let is_null = rustix::fs::FileType::from_raw_mode(st.st_mode)
        == rustix::fs::FileType::CharacterDevice
        && rustix::fs::major(st.st_rdev) == 1
        && rustix::fs::minor(st.st_rdev) == 3;
    if !is_null {
        return Err(
            "the host's /dev/null is not the null device; refusing to mask paths with it".into(),
        );
    }
    Ok(fd)
}

/// Propagation, the rootfs bind, the config's mounts, devices and /dev links; with a
/// terminal also the /dev/console placeholder (returned).
#[writ_macros::requirement("config.mounts.order", "config.root.path.exists")]
fn prepare_rootfs(a: &InitArgs) -> Result<(Root, Option<OwnedFd>), String> {
    let plan = a.plan;
    let prop = plan
        .rootfs_propagation
        .unwrap_or(libc::MS_SLAVE | libc::MS_REC);
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::from_bits_retain(prop),
        None::<&str>,
    )
    .map_err(|e| format!("setting mount propagation of /: {}", errno_text(e)))?;
    if prop & libc::MS_SHARED != 0 {
        // pivot_root refuses shared mounts around the new root: keep / private until
        // the propagation is applied after pivot_root (enter_root).
        nix::mount::mount(
            None::<&str>,
            "/",
            None::<&str>,
            nix::mount::MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| format!("making / private: {}", errno_text(e)))?;
    }
    let rootfs = &plan.rootfs;
    nix::mount::mount(
        Some(rootfs.as_path()),
        rootfs.as_path(),
        None::<&str>,
        nix::mount::MsFlags::MS_BIND | nix::mount::MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| {
        format!(
            "bind-mounting rootfs {}: {}",
            rootfs.display(),
            errno_text(e)
        )
    })?;
    let root = Root::open(rootfs)?;
    let ctx = MountCtx {
        cgroups: &a.cgroups,
        idmapped: &a.idmapped,
    };
    for (i, m) in plan.mounts.iter().enumerate() {
        if m.is_cgroup() {
            ensure_cgroup(a)?;
        }
        crate::mounts::mount_one(&root, m, i, &ctx)?;
    }
    ensure_cgroup(a)?;
    let bind_devices = a.new_userns || plan.namespace(NamespaceKind::User).is_some();
    for d in crate::devices::with_defaults(&plan.devices) {
        crate::devices::create_device(&root, &d, bind_devices)?;
    }
    let has_pts = plan
        .mounts
        .iter()
        .any(|m| m.destination.trim_end_matches('/') == "/dev/pts");
    crate::devices::create_links(&root, has_pts)?;
    let console = match plan.terminal {
        true => Some(console_placeholder(&root)?),
        false => None,
    };
    root.mkdir_all(&plan.process.cwd, Leaf::Dir)?;
    Ok((root, console))
}

/// The file the pty is bound onto as /dev/console: made by us, never a path that
/// something in the rootfs chose (CVE-2025-52565). A symlink (or other entry) the image
/// put there is removed first; a regular file or a character device is used as it is.
/// Returns an O_PATH fd of it, opened without following a symlink.
#[writ_macros::requirement("config_linux.default_devices.supply")]
fn console_placeholder(root: &Root) -> Result<OwnedFd, String> {
    let (dir, name) = root.parent_of("/dev/console")?;
    let err = |what: &str, e: rustix::io::Errno| {
        format!(
            "{what} /dev/console: {}",
            errno_text(Errno::from_raw(e.raw_os_error()))
        )
    };
    let usable = |mode: u32| {
        matches!(
            rustix::fs::FileType::from_raw_mode(mode),
            rustix::fs::FileType::RegularFile | rustix::fs::FileType::CharacterDevice
        )
    };
    match rustix::fs::statat(&dir, name.as_str(), rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if usable(st.st_mode) => {}
        Ok(_) => rustix::fs::unlinkat(&dir, name.as_str(), rustix::fs::AtFlags::empty())
            .map_err(|e| err("replacing", e))?,
        Err(rustix::io::Errno::NOENT) => {}
        Err(e) => return Err(err("inspecting", e)),
    }
    match rustix::fs::openat(
        &dir,
        name.as_str(),
        OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    ) {
        Ok(_) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(err("creating", e)),
    }
    let fd = rustix::fs::openat(
        &dir,
        name.as_str(),
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| err("opening", e))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| err("inspecting", e))?;
    if !usable(st.st_mode) {
        return Err("/dev/console: something other than a file appeared there".into());
    }
    Ok(fd)
}

/// pivot_root into the rootfs (or MS_MOVE + chroot with --no-pivot).
fn enter_root(root: &Root, no_pivot: bool, propagation: Option<u64>) -> Result<(), String> {
    nix::unistd::fchdir(root.as_fd()).map_err(|e| format!("entering rootfs: {}", errno_text(e)))?;
    if propagation.is_some_and(|p| p & libc::MS_SHARED != 0) {
        // A shared rootfs mount cannot be pivoted: private now, shared again below.
        nix::mount::mount(
            None::<&str>,
            ".",
            None::<&str>,
            nix::mount::MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| {
            format!(
                "making the rootfs private for pivot_root: {}",
                errno_text(e)
            )
        })?;
    }
    if no_pivot {
        nix::mount::mount(
            Some("."),
            "/",
            None::<&str>,
            nix::mount::MsFlags::MS_MOVE,
            None::<&str>,
        )
        .map_err(|e| format!("moving rootfs to /: {}", errno_text(e)))?;
        nix::unistd::chroot(".").map_err(|e| format!("chroot: {}", errno_text(e)))?;
    } else {
        let old_root = rustix::fs::open(
            "/",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            format!(
                "opening /: {}",
                errno_text(Errno::from_raw(e.raw_os_error()))
            )
        })?;
        nix::unistd::pivot_root(".", ".").map_err(|e| format!("pivot_root: {}", errno_text(e)))?;
        // The old root is now stacked on "/": from inside it, make it a slave (so that
        // detaching it does not propagate to the host) and detach it. The new root's own
        // mounts keep their propagation.
        nix::unistd::fchdir(&old_root)
            .map_err(|e| format!("entering the old root: {}", errno_text(e)))?;
        nix::mount::mount(
            None::<&str>,
            ".",
            None::<&str>,
            nix::mount::MsFlags::MS_SLAVE | nix::mount::MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| format!("making the old root a slave: {}", errno_text(e)))?;
        nix::mount::umount2(".", nix::mount::MntFlags::MNT_DETACH)
            .map_err(|e| format!("detaching the old root: {}", errno_text(e)))?;
    }
    nix::unistd::chdir("/").map_err(|e| format!("chdir /: {}", errno_text(e)))?;
    if let Some(p) = propagation {
        nix::mount::mount(
            None::<&str>,
            "/",
            None::<&str>,
            nix::mount::MsFlags::from_bits_retain(p),
            None::<&str>,
        )
        .map_err(|e| format!("setting rootfsPropagation: {}", errno_text(e)))?;
    }
    Ok(())
}

/// Opens the pty inside the container, binds it onto /dev/console (`console`, the
/// placeholder), sends the master to the console socket and makes the slave our
/// controlling terminal and stdio.
fn setup_terminal(a: &mut InitArgs, console: OwnedFd) -> Result<(), String> {
    let Some(sock) = a.console.take() else {
        return Err("process.terminal is true but no --console-socket was given".into());
    };
    let pty = crate::console::open_pty().map_err(|e| e.to_string())?;
    if let Some((rows, cols)) = a.plan.process.console_size {
        let ws = rustix::termios::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&pty.master, ws).map_err(|e| {
            format!(
                "setting the console size: {}",
                errno_text(Errno::from_raw(e.raw_os_error()))
            )
        })?;
    }
    // /dev/console is the pty too: a bind of the slave we hold onto the placeholder we
    // made, both by fd (no path that something in the container could redirect).
    let tree = sys::open_tree_clone_fd(pty.slave.as_fd())
        .map_err(|e| format!("binding the pty to /dev/console: {}", errno_text(e)))?;
    sys::move_mount_fd(tree.as_fd(), console.as_fd())
        .map_err(|e| format!("binding the pty to /dev/console: {}", errno_text(e)))?;
    crate::console::send_master(&sock, pty.master.as_fd(), &pty.name).map_err(|e| e.to_string())?;
    drop(sock);
    drop(pty.master);
    nix::unistd::setsid().map_err(|e| format!("setsid: {}", errno_text(e)))?;
    rustix::process::ioctl_tiocsctty(&pty.slave).map_err(|e| {
        format!(
            "setting the controlling terminal: {}",
            errno_text(Errno::from_raw(e.raw_os_error()))
        )
    })?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the stdio numbers, which this process owns; the previous
        // stdio fds are replaced on purpose.
        let r = unsafe { libc::dup2(pty.slave.as_raw_fd(), fd) };
        if r < 0 {
            return Err(format!(
                "dup2 of the terminal to fd {fd}: {}",
                errno_text(Errno::last())
            ));
        }
    }
    Ok(())
}
