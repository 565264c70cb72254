//! Running one runtime command and measuring it, in one of two modes:
//!
//! - [`Mode::Time`]: wall time from spawn to reap (the timed rounds; nothing else is done
//!   to the process).
//! - [`Mode::PeakRss`]: the peak RSS of the runtime's own image, read from
//!   `/proc/PID/status` (`VmHWM`) when the process stops at its exit under ptrace
//!   (`PTRACE_O_TRACEEXIT`); these rounds are not timed.
//!
//! Why not `wait4`'s `ru_maxrss` of the invoked process: the kernel folds into it the
//! high-water mark of the image the process had before its first `execve`, which for a
//! process spawned by this benchmark is a copy of the benchmark itself (fork) or the
//! benchmark's own address space (vfork/posix_spawn). Measured here: a 50 MB parent makes
//! `/bin/true` report 61 MB. `VmHWM` at exit covers only the image after the last
//! `execve`; the number of `execve`s is kept, so a runtime that re-executes itself is
//! noticed. The container's init is measured with `wait4` when this benchmark (a
//! subreaper) reaps it: it is a fork of the runtime, so its figure is the larger of the
//! runtime's forked image and the container program, with nothing of the benchmark in it.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How an invocation is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Time,
    PeakRss,
}

/// What one invocation cost: its time (timed mode) or its peak RSS in KiB (RSS mode).
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    pub took: Option<Duration>,
    pub rss_kib: Option<u64>,
    /// `execve`s the traced process made (RSS mode; 1 = none besides its start).
    pub execs: u32,
}

/// How long one runtime command may take before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

fn pidfd_open(pid: libc::pid_t) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Wait until the pidfd is readable (the process exited) or the timeout passes.
fn poll_exit(fd: &OwnedFd, timeout: Duration) -> std::io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd for the duration of the call.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r > 0 {
            return Ok(true);
        }
        if r == 0 {
            return Ok(false);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Reap `pid` (our child, already exited or about to) and return its status and rusage.
fn reap(pid: libc::pid_t, flags: libc::c_int) -> std::io::Result<Option<(i32, libc::rusage)>> {
    loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid out-pointers for status and rusage; pid is a specific process.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut ru) };
        if r == pid {
            return Ok(Some((status, ru)));
        }
        if r == 0 {
            return Ok(None);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn describe(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status:#x}")
    }
}

fn failed(what: &str, status: i32, err_log: &Path) -> String {
    let text = std::fs::read_to_string(err_log).unwrap_or_default();
    format!("{what}: {}: {}", describe(status), text.trim())
}

/// Run `cmd` (stdin and stdout null, stderr to `err_log`, which is truncated) and measure
/// it. A non-zero exit is an error that quotes the command's stderr.
pub fn measure(mode: Mode, cmd: &mut Command, err_log: &Path) -> Result<Measured, String> {
    let err = File::create(err_log).map_err(|e| format!("{}: {e}", err_log.display()))?;
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(err);
    match mode {
        Mode::Time => timed(cmd, err_log),
        Mode::PeakRss => traced(cmd, err_log),
    }
}

fn timed(cmd: &mut Command, err_log: &Path) -> Result<Measured, String> {
    let what = format!("{cmd:?}");
    let t0 = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("{what}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    // The Child handle is never waited on through std: wait4 below reaps it.
    drop(child);
    let fd = pidfd_open(pid).map_err(|e| format!("{what}: pidfd_open: {e}"))?;
    if !poll_exit(&fd, COMMAND_TIMEOUT).map_err(|e| format!("{what}: poll: {e}"))? {
        // SAFETY: pid is our unreaped child, so the number cannot have been reused.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = reap(pid, 0);
        return Err(format!(
            "{what}: no exit within {COMMAND_TIMEOUT:?}; killed"
        ));
    }
    let (status, _) = reap(pid, 0)
        .map_err(|e| format!("{what}: wait4: {e}"))?
        .ok_or_else(|| format!("{what}: wait4 found no exited child"))?;
    let took = t0.elapsed();
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(failed(&what, status, err_log));
    }
    Ok(Measured {
        took: Some(took),
        ..Measured::default()
    })
}

/// `VmHWM` of a process, in KiB.
fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ptrace(req: libc::c_uint, pid: libc::pid_t, data: usize) -> std::io::Result<()> {
    // SAFETY: PTRACE_SETOPTIONS/PTRACE_SYSCALL take no pointers (addr is unused, data is an
    // integer); pid is our stopped tracee.
    let r = unsafe { libc::ptrace(req, pid, std::ptr::null_mut::<libc::c_void>(), data) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Run the command as our tracee and take the peak RSS of each of its images: `VmHWM` at
/// every system call stop (so at every `execve`, the image being replaced) and at its
/// exit stop. It stops at every syscall of its main thread (nothing is changed), so these
/// rounds are not timed.
fn traced(cmd: &mut Command, err_log: &Path) -> Result<Measured, String> {
    use std::os::unix::process::CommandExt;
    let what = format!("{cmd:?}");
    // SAFETY: between fork and exec the child only calls ptrace(PTRACE_TRACEME), which is
    // async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            let r = libc::ptrace(
                libc::PTRACE_TRACEME,
                0,
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            );
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|e| format!("{what}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    drop(child);
    // Watchdog: SIGKILL the tracee if it is not done in time (waitpid below blocks). It
    // signals through a pidfd, which names this process and never a later one.
    let pidfd = pidfd_open(pid).map_err(|e| format!("{what}: pidfd_open: {e}"))?;
    let (done, stop) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if stop.recv_timeout(COMMAND_TIMEOUT).is_err() {
            // SAFETY: pidfd_send_signal takes an fd we own, a signal number and no info.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd.as_raw_fd(),
                    libc::SIGKILL,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                )
            };
            return true;
        }
        false
    });
    let result = trace_loop(pid, &what);
    let _ = done.send(());
    let fired = watchdog.join().unwrap_or(false);
    let (status, m) = result?;
    if fired {
        return Err(format!(
            "{what}: no exit within {COMMAND_TIMEOUT:?}; killed"
        ));
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(failed(&what, status, err_log));
    }
    if m.rss_kib.is_none() {
        return Err(format!("{what}: no VmHWM at its exit stop"));
    }
    Ok(m)
}

/// Follow the tracee's stops until it has exited and been reaped: its wait status and
/// what was measured.
fn trace_loop(pid: libc::pid_t, what: &str) -> Result<(i32, Measured), String> {
    let mut m = Measured::default();
    let peak = |kib: Option<u64>, m: &mut Measured| {
        if let Some(k) = kib {
            m.rss_kib = Some(m.rss_kib.map_or(k, |p| p.max(k)));
        }
    };
    loop {
        let mut status = 0;
        // SAFETY: valid out-pointer; pid is our child (and tracee).
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("{what}: waitpid: {e}"));
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Ok((status, m));
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        let sig = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xff;
        let forward = if sig == libc::SIGTRAP | 0x80 {
            // A syscall stop: read at every one, not only at an execve about to replace
            // the image. VmHWM only grows within an image, so this changes no figure
            // when the exit stop comes; when it does not (a multi-threaded runtime, runc,
            // whose other thread's exit_group kills this one while it is running), the
            // last reading stands.
            peak(vm_hwm(pid), &mut m);
            0
        } else if sig == libc::SIGTRAP && event == 0 && m.execs == 0 {
            // The stop after the first execve (PTRACE_TRACEME): ask for exec, exit and
            // syscall stops.
            m.execs = 1;
            let opts = libc::PTRACE_O_TRACEEXIT
                | libc::PTRACE_O_TRACEEXEC
                | libc::PTRACE_O_TRACESYSGOOD
                | libc::PTRACE_O_EXITKILL;
            ptrace(libc::PTRACE_SETOPTIONS, pid, opts as usize)
                .map_err(|e| format!("{what}: PTRACE_SETOPTIONS: {e}"))?;
            0
        } else if sig == libc::SIGTRAP && event == libc::PTRACE_EVENT_EXEC {
            m.execs += 1;
            0
        } else if sig == libc::SIGTRAP && event == libc::PTRACE_EVENT_EXIT {
            peak(vm_hwm(pid), &mut m);
            0
        } else {
            // A signal for the tracee: deliver it.
            sig as usize
        };
        match ptrace(libc::PTRACE_SYSCALL, pid, forward) {
            Ok(()) => {}
            // No longer in its stop: killed meanwhile (as above); the next waitpid says
            // how it ended.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => return Err(format!("{what}: PTRACE_SYSCALL: {e}")),
        }
    }
}

/// Wait for a container process to exit. When it is our child (the benchmark is a
/// subreaper) it is reaped and its peak RSS returned; when someone else reaps it, None.
pub fn wait_exit(pid: i32, timeout: Duration) -> Result<Option<u64>, String> {
    let fd = match pidfd_open(pid) {
        Ok(fd) => fd,
        // Gone already (reaped by someone else).
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(None),
        Err(e) => return Err(format!("pidfd_open({pid}): {e}")),
    };
    if !poll_exit(&fd, timeout).map_err(|e| format!("poll pid {pid}: {e}"))? {
        return Err(format!("pid {pid} did not exit within {timeout:?}"));
    }
    match reap(pid, libc::WNOHANG) {
        Ok(Some((_, ru))) => Ok(Some(ru.ru_maxrss.max(0) as u64)),
        Ok(None) => Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(None),
        Err(e) => Err(format!("wait4({pid}): {e}")),
    }
}

/// SIGKILL a container process and reap it if it is ours (cleanup after a failure).
pub fn kill_and_reap(pid: i32) {
    if writ_conformance::pid_alive(pid) {
        // SAFETY: kill has no memory effects; a stale pid is the worst case, and the
        // process is ours (a subreaped container init) until we reap it below.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let _ = wait_exit(pid, Duration::from_secs(5));
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peak RSS of a small program spawned by a large process is the program's own,
    /// while wait4's ru_maxrss reports the parent's image: the reason for the ptrace
    /// method.
    #[test]
    fn peak_rss_is_the_child_image_not_the_spawning_process() {
        let big: Vec<u8> = (0..64usize << 20).map(|i| i as u8).collect();
        let log = std::env::temp_dir().join(format!("writ-bench-test-{}", std::process::id()));
        let m = measure(Mode::PeakRss, &mut Command::new("/bin/true"), &log).unwrap();
        let own = m.rss_kib.unwrap();
        assert!(own > 0 && own < 16 << 10, "VmHWM of /bin/true: {own} KiB");
        assert_eq!(m.execs, 1);
        assert!(m.took.is_none());
        // The same program through plain wait4 carries the 64 MiB of this process.
        let child = Command::new("/bin/true").spawn().unwrap();
        let pid = child.id() as libc::pid_t;
        // Reaped by wait4 below, not through std.
        drop(child);
        let (_, ru) = reap(pid, 0).unwrap().unwrap();
        assert!(ru.ru_maxrss as u64 > 64 << 10, "ru_maxrss {}", ru.ru_maxrss);
        assert_eq!(big[12345], 12345usize as u8);
        let _ = std::fs::remove_file(&log);
    }

    #[test]
    fn a_failing_command_is_an_error_with_its_status_and_stderr() {
        let log = std::env::temp_dir().join(format!("writ-bench-test2-{}", std::process::id()));
        for mode in [Mode::Time, Mode::PeakRss] {
            let mut c = Command::new("/bin/sh");
            c.args(["-c", "echo nope >&2; exit 3"]);
            let e = measure(mode, &mut c, &log).unwrap_err();
            assert!(e.contains("exit status 3") && e.contains("nope"), "{e}");
        }
        let ok = measure(Mode::Time, &mut Command::new("/bin/true"), &log).unwrap();
        assert!(ok.took.is_some() && ok.rss_kib.is_none());
        let _ = std::fs::remove_file(&log);
    }
}
