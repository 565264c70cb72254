//! The container's init: runs in the cloned child. It joins/creates namespaces, builds the
//! root filesystem, applies the process attributes, reports `Ready` to create, blocks on the
//! exec fifo until `start`, runs the startContainer hooks and execs the user program.
//! Every failure before `Ready` goes back to create as text.

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
    /// O_PATH fd of the exec fifo in the state dir.
    pub fifo: OwnedFd,
    /// Namespaces to setns into in the child (pid/time are joined by create itself).
    pub joins: &'a [JoinFd],
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
    let err = match setup(&mut a) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let _ = a.chan.send(&Msg::Error(err));
    // SAFETY: _exit in the forked child: no destructors, no atexit handlers of the parent.
    unsafe { libc::_exit(1) }
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
    "config.process.oom_score_adj.unset",
    "config.hooks.create_container.path.runtime_ns_timing",
    "config.hooks.create_container.container_ns_timing",
    "config.hooks.start_container.path.container_ns_timing",
    "config.hooks.start_container.container_ns_timing",
    "config.process.exec_cpu_affinity.final_unset",
    "runtime_linux.fds.extra"
)]
fn setup(a: &mut InitArgs) -> Result<Never, String> {
    let plan = a.plan;
    // If create dies, so do we (reset before create is allowed to exit).
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
    reset_signals();
    expect_go(a)?;

    namespaces_phase(a)?;
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
    if let Some(v) = p.oom_score_adj {
        crate::process::set_oom_score_adj(v)?;
    }

    // Root filesystem, still seeing the host's / and /proc.
    let root = prepare_rootfs(a)?;

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
    // The host's /proc stays reachable through this fd after pivot_root (exec fifo).
    let host_proc = rustix::fs::open(
        "/proc",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        format!(
            "opening /proc: {}",
            errno_text(Errno::from_raw(e.raw_os_error()))
        )
    })?;
    if plan.root_readonly {
        let top = root
            .resolve("")
            .map_err(|e| format!("reopening rootfs: {}", errno_text(e)))?;
        crate::mounts::make_readonly(top.as_fd(), false)
            .map_err(|e| format!("making the root filesystem read-only: {}", errno_text(e)))?;
    }
    enter_root(&root, a.no_pivot, plan.rootfs_propagation)?;
    drop(root);

    if plan.terminal {
        setup_terminal(a)?;
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
    nix::unistd::chdir(p.cwd.as_str())
        .map_err(|e| format!("chdir to cwd {:?}: {}", p.cwd, errno_text(e)))?;
    let exe = crate::process::resolve_executable(p)?;
    let exec = crate::process::ExecArgs::new(exe, p)?;
    sys::cloexec_from(3 + a.preserve_fds)
        .map_err(|e| format!("marking fds close-on-exec: {}", errno_text(e)))?;
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, 0, 0);
    // Without noNewPrivileges the filter needs CAP_SYS_ADMIN: load it while we have it.
    if !p.no_new_privileges {
        if let Some(prog) = &a.seccomp {
            crate::seccomp::load(prog)?;
        }
    }
    crate::process::set_user_and_caps(p)?;
    rustix::process::umask(Mode::from_raw_mode(p.umask.unwrap_or(0o022)));
    if p.no_new_privileges {
        if let Some(prog) = &a.seccomp {
            crate::seccomp::load(prog)?;
        }
    }

    a.chan
        .send(&Msg::Ready)
        .map_err(|e| format!("init: {}", errno_text(e)))?;

    // From here on create has returned: errors can only go to stderr.
    let fail = |m: String| -> ! {
        eprintln!("writ init: {m}");
        // SAFETY: _exit in the container process.
        unsafe { libc::_exit(127) }
    };
    let link = format!("self/fd/{}", a.fifo.as_raw_fd());
    let fifo = loop {
        match rustix::fs::openat(
            &host_proc,
            link.as_str(),
            OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => fail(format!(
                "opening the exec fifo: {}",
                errno_text(Errno::from_raw(e.raw_os_error()))
            )),
            Ok(f) => break f,
        }
    };
    if let Err(e) = rustix::io::write(&fifo, b"0") {
        fail(format!(
            "writing the exec fifo: {}",
            errno_text(Errno::from_raw(e.raw_os_error()))
        ));
    }
    // The fifo stays open (close-on-exec) until the exec: `start` (container::release)
    // reads until EOF, so it sees a failure from here on as the text written to it.
    let fail = |m: String| -> ! {
        let _ = rustix::io::write(&fifo, m.as_bytes());
        fail(m)
    };
    if !hooks.start_container.is_empty() {
        if let Err(e) = crate::hooks::run_hooks(&hooks.start_container, &created_state) {
            fail(format!("startContainer {e}"));
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
    for j in a.joins {
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

/// Propagation, the rootfs bind, the config's mounts, devices and /dev links.
#[writ_macros::requirement("config.mounts.order", "config.root.path.exists")]
fn prepare_rootfs(a: &InitArgs) -> Result<Root, String> {
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
    if plan.terminal {
        let (dir, name) = root.parent_of("/dev/console")?;
        match rustix::fs::openat(
            &dir,
            name.as_str(),
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(_) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => {
                return Err(format!(
                    "creating /dev/console: {}",
                    errno_text(Errno::from_raw(e.raw_os_error()))
                ))
            }
        }
    }
    root.mkdir_all(&plan.process.cwd, Leaf::Dir)?;
    Ok(root)
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

/// Opens the pty inside the container, sends the master to the console socket and makes
/// the slave our controlling terminal and stdio.
fn setup_terminal(a: &mut InitArgs) -> Result<(), String> {
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
    // /dev/console is the pty too (it exists as a placeholder made before pivot_root).
    if let Ok(root) = Root::open(std::path::Path::new("/")) {
        if let Ok(console) = root.resolve("/dev/console") {
            let _ = nix::mount::mount(
                Some(pty.name.as_str()),
                sys::fd_path(console.as_fd()).as_str(),
                None::<&str>,
                nix::mount::MsFlags::MS_BIND,
                None::<&str>,
            );
        }
    }
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
