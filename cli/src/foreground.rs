//! A container in the foreground of `writ run`: signals sent to writ (HUP, INT, QUIT,
//! TERM, USR1, USR2) are forwarded to the container process, and with a pty master kept
//! by create (`process.terminal` without `--console-socket`) writ connects it to its own
//! stdin/stdout (stdin in raw mode when it is a terminal) until the process exits.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::poll::{PollFd, PollFlags, PollTimeout};

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

/// Forwards the usual termination signals (and with `winch`, window size changes) to
/// `pid` from now on, until [`stop_forwarding`].
pub fn install_forwarding(pid: i32, winch: bool) {
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

/// Forwards no more signals.
pub fn stop_forwarding() {
    FORWARD_TO.store(0, Ordering::Relaxed);
}

/// Connects stdin/stdout to the pty master until the container process `pid` exits.
pub fn proxy_terminal(master: &OwnedFd, pid: i32) -> Result<(), nix::errno::Errno> {
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
    Ok(())
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
