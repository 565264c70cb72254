//! `writ run [--detach] [create options] ID`: create + start, and unless detached, wait
//! for the container process and exit with its status (128+n when killed by signal n),
//! then delete the container (unless `--keep`).
//!
//! In the foreground, signals sent to writ (HUP, INT, QUIT, TERM, USR1, USR2) are
//! forwarded to the container process. With `process.terminal` and no
//! `--console-socket`, writ keeps the pty master itself and connects it to its own
//! stdin/stdout (stdin in raw mode when it is a terminal).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::poll::{PollFd, PollFlags, PollTimeout};

use super::create::{Console, CreateArgs};
use super::GlobalOpts;
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Exit after starting the container instead of waiting for it.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// Do not delete the container after it exits.
    #[arg(long)]
    pub keep: bool,
    /// Do not reap the container's orphaned processes (writ run never does).
    #[arg(long)]
    pub no_subreaper: bool,
    #[command(flatten)]
    pub create: CreateArgs,
}

pub fn run(global: &GlobalOpts, args: RunArgs) -> i32 {
    if let Err(e) = crate::exeseal::ensure() {
        super::report("run", &e);
        return 1;
    }
    super::finish("run", run_container(global, &args))
}

static FORWARD_TO: AtomicI32 = AtomicI32::new(0);
static WINCH: AtomicBool = AtomicBool::new(false);

extern "C" fn forward(sig: libc::c_int) {
    if sig == libc::SIGWINCH {
        WINCH.store(true, Ordering::Relaxed);
        return;
    }
    let pid = FORWARD_TO.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe and takes plain integers.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

fn install_forwarding(pid: i32, winch: bool) {
    FORWARD_TO.store(pid, Ordering::Relaxed);
    let action = nix::sys::signal::SigAction::new(
        nix::sys::signal::SigHandler::Handler(forward),
        nix::sys::signal::SaFlags::SA_RESTART,
        nix::sys::signal::SigSet::empty(),
    );
    use nix::sys::signal::Signal::*;
    let mut signals = vec![SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2];
    if winch {
        signals.push(SIGWINCH);
    }
    for sig in signals {
        // SAFETY: the handler only does async-signal-safe things (an atomic load and
        // kill(2), or an atomic store).
        let _ = unsafe { nix::sys::signal::sigaction(sig, &action) };
    }
}

fn run_container(global: &GlobalOpts, args: &RunArgs) -> Result<i32> {
    let console = if args.detach {
        Console::Socket
    } else {
        Console::Here
    };
    let created = super::create::create_container(global, &args.create, console)?;
    let handle = created.handle;
    let (pid, start_time) = match (handle.state.pid, handle.state.start_time) {
        (Some(p), Some(t)) => (p, t),
        _ => return Err(Error::Runtime("the container has no process".into())),
    };
    if let Err(e) = super::start::start_container(&handle) {
        let _ = super::delete::delete_container(handle, true);
        return Err(e);
    }
    if args.detach {
        return Ok(0);
    }
    // Let other commands (kill, state) at it while it runs.
    drop(handle);
    install_forwarding(pid, created.master.is_some());

    let status = match &created.master {
        Some(master) => proxy_terminal(master, pid),
        None => wait_child(pid),
    };
    let code = match status {
        Ok(code) => code,
        Err(e) => {
            // Not our child (or waiting failed): follow it until it is gone.
            crate::logging::warn(&format!("waiting for the container: {e}"));
            super::kill::wait_gone(pid, start_time);
            1
        }
    };
    FORWARD_TO.store(0, Ordering::Relaxed);
    if !args.keep {
        match global.store().lock(&args.create.id) {
            Ok(h) => super::delete::delete_container(h, true)?,
            Err(crate::state::StateError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(code)
}

/// Exit code for a wait status: the exit status, or 128+n for signal n.
fn exit_code(status: nix::sys::wait::WaitStatus) -> Option<i32> {
    use nix::sys::wait::WaitStatus;
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Waits for the container process (a child of this process) to end.
fn wait_child(pid: i32) -> std::result::Result<i32, nix::errno::Errno> {
    let pid = nix::unistd::Pid::from_raw(pid);
    loop {
        match nix::sys::wait::waitpid(pid, None) {
            Ok(s) => {
                if let Some(code) = exit_code(s) {
                    return Ok(code);
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Restores the terminal mode of stdin when dropped.
struct RawMode {
    saved: Option<nix::sys::termios::Termios>,
}

impl RawMode {
    fn enter() -> RawMode {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = std::io::stdin();
        let Ok(saved) = tcgetattr(stdin.as_fd()) else {
            return RawMode { saved: None };
        };
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        if tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).is_err() {
            return RawMode { saved: None };
        }
        RawMode { saved: Some(saved) }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin().as_fd(),
                nix::sys::termios::SetArg::TCSANOW,
                saved,
            );
        }
    }
}

/// Copies the window size of our stdin (when a terminal with a known size) to the pty;
/// otherwise the pty keeps the config's consoleSize.
fn copy_window_size(master: BorrowedFd) {
    if let Ok(ws) = rustix::termios::tcgetwinsize(std::io::stdin()) {
        if ws.ws_row != 0 || ws.ws_col != 0 {
            let _ = rustix::termios::tcsetwinsize(master, ws);
        }
    }
}

/// Connects stdin/stdout to the pty master until the container process exits; returns
/// its exit code.
fn proxy_terminal(master: &OwnedFd, pid: i32) -> std::result::Result<i32, nix::errno::Errno> {
    let raw = RawMode::enter();
    copy_window_size(master.as_fd());
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid).ok_or(nix::errno::Errno::ESRCH)?,
        rustix::process::PidfdFlags::empty(),
    )
    .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error()))?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut stdin_open = true;
    let mut master_open = true;
    let mut buf = [0u8; 8192];
    loop {
        if WINCH.swap(false, Ordering::Relaxed) {
            copy_window_size(master.as_fd());
        }
        let mut fds = vec![PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        if master_open {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        let mut i = 1;
        if master_open {
            if ready[i] {
                match rustix::io::read(master, &mut buf) {
                    Ok(0) | Err(rustix::io::Errno::IO) => master_open = false,
                    Ok(n) => write_all(stdout.as_fd(), &buf[..n]),
                    Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => {}
                    Err(_) => master_open = false,
                }
            }
            i += 1;
        }
        if stdin_open && ready[i] {
            match rustix::io::read(stdin.as_fd(), &mut buf) {
                Ok(0) => stdin_open = false,
                Ok(n) => write_all(master.as_fd(), &buf[..n]),
                Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => {}
                Err(_) => stdin_open = false,
            }
        }
        if ready[0] {
            break;
        }
    }
    // What the container wrote just before exiting.
    if master_open {
        let _ = set_nonblocking(master);
        while let Ok(n) = rustix::io::read(master, &mut buf) {
            if n == 0 {
                break;
            }
            write_all(stdout.as_fd(), &buf[..n]);
        }
    }
    drop(raw);
    wait_child(pid)
}

fn set_nonblocking(fd: &OwnedFd) -> rustix::io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    rustix::fs::fcntl_setfl(fd, flags | rustix::fs::OFlags::NONBLOCK)
}

fn write_all(fd: BorrowedFd, mut data: &[u8]) {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(0) => return,
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::WaitStatus;
    use nix::unistd::Pid;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        let p = Pid::from_raw(1);
        assert_eq!(exit_code(WaitStatus::Exited(p, 3)), Some(3));
        assert_eq!(
            exit_code(WaitStatus::Signaled(
                p,
                nix::sys::signal::Signal::SIGKILL,
                false
            )),
            Some(137)
        );
        assert_eq!(exit_code(WaitStatus::StillAlive), None);
    }

    #[test]
    fn wait_child_returns_the_status() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "exit 7"])
            .spawn()
            .unwrap();
        assert_eq!(wait_child(child.id() as i32), Ok(7));
        // Already reaped by wait_child.
        assert!(child.wait().is_err());
    }
}
