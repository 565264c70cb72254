//! Kill (runtime.md#kill), behind [`Container::kill`](super::Container::kill): sends a
//! signal to the container process, or to every process in the container's cgroup; and
//! the helpers the other operations use to stop and wait for processes.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};

use crate::error::{Error, Result};
use crate::state::{Locked, Status};

/// Sends `sig` to a locked container's process, or with `all` to every process of its
/// cgroup. The container must be `created`, `running` or `paused` (a paused one is
/// thawed after SIGKILL, and after any signal with `all`, as runc's is), except that `all` on a
/// `stopped` container succeeds, as runc's does: it signals the processes left in its
/// cgroup (one that shares the host's pid namespace; podman stops such containers with
/// `kill --all`), and there may be none (containerd's shim sends `kill --all ID 9` after
/// the process exited, and retries until it succeeds). A plain kill of a stopped
/// container fails with runc's "container not running" (see the deviation recorded on
/// `runtime.kill.not_live.error`).
#[writ_macros::requirement(
    "runtime.kill.signal",
    "runtime.kill.not_live.error",
    "runtime.kill.not_live.no_effect"
)]
pub(crate) fn kill(handle: &Locked, sig: i32, all: bool) -> Result<()> {
    let status = handle.status();
    let not_running = || Error::NotRunning {
        op: "kill",
        id: handle.id().to_string(),
    };
    match status {
        Status::Created | Status::Running | Status::Paused => {}
        Status::Stopped if all => {
            signal_all(handle, sig);
            return Ok(());
        }
        Status::Stopped => return Err(not_running()),
        Status::Creating => {
            return Err(Error::WrongStatus {
                op: "kill",
                id: handle.id().to_string(),
                status,
                hint: "",
            })
        }
    }
    if all {
        signal_all(handle, sig);
    }
    let sent = send(handle, sig);
    if status == Status::Paused && (sig == libc::SIGKILL || all) {
        // Frozen, it would die only once thawed. As runc's: SIGKILL thaws the container,
        // and so does `--all` with any signal (runc leaves the cgroup thawed after
        // signalling every process); a plain kill with another signal stays pending
        // until `resume`.
        thaw(handle);
    }
    match sent {
        Ok(()) => Ok(()),
        // Gone between the status check and the signal (or already signalled by --all).
        Err(nix::errno::Errno::ESRCH) if all => Ok(()),
        Err(nix::errno::Errno::ESRCH) => Err(not_running()),
        Err(e) => Err(Error::Io {
            what: format!("sending signal {sig} to container {:?}", handle.id()),
            source: e.into(),
        }),
    }
}

/// Sends `sig` to the container process, after checking it is still the same process.
fn send(handle: &Locked, sig: i32) -> std::result::Result<(), nix::errno::Errno> {
    let (Some(pid), Some(start)) = (handle.state.pid, handle.state.start_time) else {
        return Err(nix::errno::Errno::ESRCH);
    };
    // A pidfd pins the process: checking the start time after opening it rules out
    // signalling a recycled pid.
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid).ok_or(nix::errno::Errno::ESRCH)?,
        rustix::process::PidfdFlags::empty(),
    )
    .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error()))?;
    if crate::state::process_start_time(pid) != Some(start) {
        return Err(nix::errno::Errno::ESRCH);
    }
    pidfd_send_signal(&pidfd, sig)
}

fn pidfd_send_signal(pidfd: &impl AsFd, sig: i32) -> std::result::Result<(), nix::errno::Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: pidfd_send_signal with a valid pidfd, a null siginfo and flags 0 reads no
    // memory of ours; the return value is checked.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_fd().as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(nix::errno::Errno::last())
    }
}

/// Thaws the container's cgroup (best effort: a failure is logged as a warning).
fn thaw(handle: &Locked) {
    if let Some(cg) = super::cgroup_of(&handle.state) {
        if let Err(e) = cg.freeze(false) {
            crate::logging::warn(&format!("thawing the container's processes: {e}"));
        }
    }
}

/// Signals every process of the container's cgroup (best effort: processes may exit
/// meanwhile; a failure is logged as a warning).
fn signal_all(handle: &Locked, sig: i32) {
    let Some(cg) = super::cgroup_of(&handle.state) else {
        return;
    };
    if let Err(e) = cg.kill_all(sig) {
        crate::logging::warn(&format!("signalling the container's processes: {e}"));
    }
}

/// kill(2), ignoring errors (the process may be gone).
pub(crate) fn signal_process(pid: i32, sig: i32) {
    if pid > 0 {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Waits (up to 10 s) until the process that is `pid` with `start_time` has exited
/// (a zombie counts as exited). Returns whether it did.
pub(crate) fn wait_gone(pid: i32, start_time: u64) -> bool {
    let Some(p) = rustix::process::Pid::from_raw(pid) else {
        return true;
    };
    let Ok(pidfd) = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) else {
        return true;
    };
    if !crate::state::process_alive(pid, start_time) {
        return true;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(left.as_millis().max(1)).unwrap_or(PollTimeout::MAX);
        match nix::poll::poll(&mut fds, timeout) {
            Ok(n) if n > 0 => return true,
            Ok(_) => return false,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return !crate::state::process_alive(pid, start_time),
        }
    }
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

/// Waits for a process that is a child of this process to end; returns its exit code.
pub(crate) fn wait_child(pid: i32) -> std::result::Result<i32, nix::errno::Errno> {
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

/// Parses a signal as runc does: a number (0..=64), or a name in any case with or
/// without the `SIG` prefix, including `RTMIN+n` and `RTMAX-n`.
pub fn parse_signal(s: &str) -> Result<i32> {
    let bad = || Error::Signal(s.to_string());
    if let Ok(n) = s.parse::<i32>() {
        // 0 checks that the process exists, as kill(2) does.
        return if (0..=libc::SIGRTMAX()).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let rt = |base: i32, rest: &str, sign: i32| -> Result<i32> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().map_err(|_| bad())?
        };
        let n = base + sign * off;
        if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        }
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(libc::SIGRTMIN(), rest.strip_prefix('+').unwrap_or(rest), 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return match rest.strip_prefix('-') {
            Some(r) => rt(libc::SIGRTMAX(), r, -1),
            None if rest.is_empty() => Ok(libc::SIGRTMAX()),
            None => Err(bad()),
        };
    }
    let n = match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "ILL" => libc::SIGILL,
        "TRAP" => libc::SIGTRAP,
        "ABRT" | "IOT" => libc::SIGABRT,
        "BUS" => libc::SIGBUS,
        "FPE" => libc::SIGFPE,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "SEGV" => libc::SIGSEGV,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "STKFLT" => libc::SIGSTKFLT,
        "CHLD" | "CLD" => libc::SIGCHLD,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "TTIN" => libc::SIGTTIN,
        "TTOU" => libc::SIGTTOU,
        "URG" => libc::SIGURG,
        "XCPU" => libc::SIGXCPU,
        "XFSZ" => libc::SIGXFSZ,
        "VTALRM" => libc::SIGVTALRM,
        "PROF" => libc::SIGPROF,
        "WINCH" => libc::SIGWINCH,
        "IO" | "POLL" => libc::SIGIO,
        "PWR" => libc::SIGPWR,
        "SYS" => libc::SIGSYS,
        _ => return Err(bad()),
    };
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_like_runc() {
        for (s, n) in [
            ("TERM", 15),
            ("SIGTERM", 15),
            ("15", 15),
            ("term", 15),
            ("sigkill", 9),
            ("KILL", 9),
            ("9", 9),
            ("USR1", 10),
            ("SIGHUP", 1),
            ("WINCH", 28),
            ("RTMIN", libc::SIGRTMIN()),
            ("RTMIN+2", libc::SIGRTMIN() + 2),
            ("SIGRTMAX-1", libc::SIGRTMAX() - 1),
            ("RTMAX", libc::SIGRTMAX()),
            ("64", 64),
            ("0", 0),
        ] {
            assert_eq!(parse_signal(s).unwrap(), n, "{s}");
        }
        for bad in ["", "-1", "65", "FOO", "SIG", "RTMIN+99", "RTMAX+1", "TERM2"] {
            assert!(matches!(parse_signal(bad), Err(Error::Signal(_))), "{bad}");
        }
    }

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        use nix::sys::wait::WaitStatus;
        let p = nix::unistd::Pid::from_raw(1);
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

    #[test]
    fn wait_gone_sees_exit_and_signal_process_delivers() {
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let start = crate::state::process_start_time(pid).unwrap();
        // A wrong start time means "not that process": nothing to wait for.
        assert!(wait_gone(pid, start + 1));
        signal_process(pid, libc::SIGTERM);
        assert!(wait_gone(pid, start));
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }
}
