//! Running hooks (config.md#posix-platform-hooks).
//!
//! Each hook is run with its `path`, its `args` as the argv (so `args[0]` is argv[0]),
//! exactly its `env`, and the container's state JSON on stdin. Its stdout and stderr are
//! captured and quoted in the error when it fails. With a `timeout`, a hook still
//! running after that many seconds is killed (its whole process group) and fails.
//!
//! Everything is done in this thread with `poll` on the hook's stdin, its output and a
//! pidfd: no threads (hooks also run in the container's init before exec). A hook that
//! never reads its stdin is fine: SIGPIPE is ignored while a hook runs (the Rust runtime
//! ignores it anyway, but the container's init resets signals before its hooks), so a
//! broken pipe just ends the write. The hook itself starts with the default disposition.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use rustix::fs::OFlags;

use crate::plan::HookPlan;

/// At most this much of a hook's output is kept for the error message.
const OUTPUT_LIMIT: usize = 16 * 1024;

/// A hook that could not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The hook's program cannot be started.
    #[error("hook {}: cannot run it: {source}", path.display())]
    Spawn {
        /// The hook's path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The hook ended with a failure.
    #[error("hook {}: {status}{}", path.display(), quote_output(output))]
    Failed {
        /// The hook's path.
        path: PathBuf,
        /// How it ended ("exited with status 3", "killed by signal 9").
        status: String,
        /// What it printed (stdout and stderr together).
        output: String,
    },
    /// The hook ran past its timeout and was killed.
    #[error("hook {}: timed out after {timeout} s and was killed{}", path.display(), quote_output(output))]
    Timeout {
        /// The hook's path.
        path: PathBuf,
        /// Its timeout, seconds.
        timeout: u32,
        /// What it printed until then.
        output: String,
    },
    /// Talking to the hook failed.
    #[error("hook {}: {what}: {source}", path.display())]
    Io {
        /// The hook's path.
        path: PathBuf,
        /// The step.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
}

impl HookError {
    /// The path of the hook that failed.
    pub fn path(&self) -> &std::path::Path {
        match self {
            HookError::Spawn { path, .. }
            | HookError::Failed { path, .. }
            | HookError::Timeout { path, .. }
            | HookError::Io { path, .. } => path,
        }
    }
}

fn quote_output(output: &str) -> String {
    let trimmed = output.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(" (output: {trimmed:?})")
    }
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => format!("ended with {status}"),
    }
}

/// Runs each hook in order, stopping at the first failure. `state_json` goes to each
/// hook's stdin.
#[writ_macros::requirement("config.hooks.order", "config.hooks.state_stdin")]
pub fn run_hooks(hooks: &[HookPlan], state_json: &[u8]) -> Result<(), HookError> {
    for hook in hooks {
        run_hook(hook, state_json)?;
    }
    Ok(())
}

/// What a hook printed (stdout and stderr together), up to [`OUTPUT_LIMIT`] bytes.
fn output_text(buf: &[u8]) -> String {
    String::from_utf8_lossy(buf).into_owned()
}

/// Ignores SIGPIPE until dropped, then restores the previous disposition.
struct IgnoreSigpipe {
    old: Option<SigAction>,
}

impl IgnoreSigpipe {
    fn new() -> Self {
        let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
        // SAFETY: installs SIG_IGN, no handler code runs; writ is single-threaded here.
        let old = unsafe { sigaction(Signal::SIGPIPE, &ignore) }.ok();
        IgnoreSigpipe { old }
    }
}

impl Drop for IgnoreSigpipe {
    fn drop(&mut self) {
        if let Some(old) = &self.old {
            // SAFETY: puts back the disposition that was in place before `new`.
            let _ = unsafe { sigaction(Signal::SIGPIPE, old) };
        }
    }
}

fn io_err(path: &std::path::Path, what: &'static str) -> impl FnOnce(io::Error) -> HookError {
    let path = path.to_path_buf();
    move |source| HookError::Io { path, what, source }
}

/// Starts the hook: its argv, exactly its env, stdin a pipe, stdout and stderr one pipe
/// together (whose read end is returned), in a process group of its own (so that a
/// timeout kills what it started too).
fn spawn(hook: &HookPlan) -> Result<(Child, OwnedFd), HookError> {
    let (out_r, out_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| io_err(&hook.path, "creating output pipe")(e.into()))?;
    let out_w2 = out_w
        .try_clone()
        .map_err(io_err(&hook.path, "creating output pipe"))?;
    let mut cmd = Command::new(&hook.path);
    if let Some((argv0, rest)) = hook.args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    cmd.env_clear();
    for entry in &hook.env {
        match entry.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                cmd.env(k, v);
            }
            _ => {}
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(out_w2))
        .process_group(0);
    let child = cmd.spawn().map_err(|source| HookError::Spawn {
        path: hook.path.clone(),
        source,
    })?;
    // Our copies of the write ends went into `cmd`; it is dropped here, so EOF can be seen.
    Ok((child, out_r))
}

/// A running hook: its state JSON goes in, its output comes out.
struct Running<'a> {
    path: &'a std::path::Path,
    child: Child,
    pidfd: OwnedFd,
    stdin: Option<OwnedFd>,
    out: Option<OwnedFd>,
    output: Vec<u8>,
    input: &'a [u8],
    written: usize,
}

impl Running<'_> {
    /// Kills the hook's process group and reaps it.
    fn kill(&mut self) {
        let _ = kill_group(&self.child);
        let _ = self.child.wait();
    }

    /// Writes what stdin takes now; stdin is closed once all is written or the hook
    /// stops reading (EPIPE, or any other error: the hook gets no more input).
    fn feed(&mut self) {
        if let Some(fd) = &self.stdin {
            match rustix::io::write(fd, &self.input[self.written..]) {
                Ok(n) => self.written += n,
                Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => {}
                Err(_) => self.written = self.input.len(),
            }
        }
        if self.written >= self.input.len() {
            self.stdin = None;
        }
    }

    /// Feeds stdin and reads the output until the hook exits (true) or the deadline
    /// passes (false).
    fn pump(&mut self, deadline: Option<Instant>) -> Result<bool, HookError> {
        loop {
            let timeout = match deadline {
                None => PollTimeout::NONE,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    PollTimeout::try_from(left.as_millis().max(1)).unwrap_or(PollTimeout::MAX)
                }
            };
            let mut fds = Vec::with_capacity(3);
            fds.push(PollFd::new(self.pidfd.as_fd(), PollFlags::POLLIN));
            if let Some(fd) = &self.out {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            }
            if let Some(fd) = &self.stdin {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLOUT));
            }
            match nix::poll::poll(&mut fds, timeout) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    self.kill();
                    return Err(io_err(self.path, "waiting")(e.into()));
                }
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            drop(fds);
            let mut i = 1;
            if self.out.is_some() {
                if ready[i] && !read_some(&mut self.out, &mut self.output) {
                    self.out = None;
                }
                i += 1;
            }
            if self.stdin.is_some() && ready[i] {
                self.feed();
            }
            if ready[0] {
                return Ok(true);
            }
        }
    }
}

/// Runs one hook and waits for it (at most its timeout).
pub fn run_hook(hook: &HookPlan, state_json: &[u8]) -> Result<(), HookError> {
    let _sigpipe = IgnoreSigpipe::new();
    let path = hook.path.as_path();
    let (mut child, out_r) = spawn(hook)?;
    let deadline = hook
        .timeout
        .map(|s| Instant::now() + Duration::from_secs(u64::from(s)));
    let pid = rustix::process::Pid::from_child(&child);
    let pidfd = match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io_err(path, "watching the process")(e.into()));
        }
    };
    let stdin: Option<OwnedFd> = child.stdin.take().map(OwnedFd::from);
    if let Some(fd) = &stdin {
        set_nonblocking(fd).map_err(io_err(path, "writing the state to stdin"))?;
    }
    set_nonblocking(&out_r).map_err(io_err(path, "reading the output"))?;
    let mut run = Running {
        path,
        child,
        pidfd,
        stdin: stdin.filter(|_| !state_json.is_empty()),
        out: Some(out_r),
        output: Vec::new(),
        input: state_json,
        written: 0,
    };
    let exited = run.pump(deadline)?;
    if !exited {
        run.kill();
        drain(&mut run.out, &mut run.output);
        return Err(HookError::Timeout {
            path: path.to_path_buf(),
            timeout: hook.timeout.unwrap_or(0),
            output: output_text(&run.output),
        });
    }
    run.stdin = None;
    let status = run.child.wait().map_err(io_err(path, "waiting"))?;
    drain(&mut run.out, &mut run.output);
    if !status.success() {
        return Err(HookError::Failed {
            path: path.to_path_buf(),
            status: describe(status),
            output: output_text(&run.output),
        });
    }
    if !run.output.is_empty() {
        crate::logging::debug(|| {
            format!(
                "hook {} output: {:?}",
                path.display(),
                output_text(&run.output)
            )
        });
    }
    Ok(())
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    rustix::fs::fcntl_setfl(fd, flags | OFlags::NONBLOCK)?;
    Ok(())
}

/// Reads what is available; false at EOF or error.
fn read_some(out: &mut Option<OwnedFd>, output: &mut Vec<u8>) -> bool {
    let Some(fd) = out else { return false };
    let mut buf = [0u8; 4096];
    match rustix::io::read(&*fd, &mut buf) {
        Ok(0) => false,
        Ok(n) => {
            if output.len() < OUTPUT_LIMIT {
                let take = n.min(OUTPUT_LIMIT - output.len());
                output.extend_from_slice(&buf[..take]);
            }
            true
        }
        Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => true,
        Err(_) => false,
    }
}

/// Reads what is left without blocking (the hook has exited; a process it left behind
/// may hold the pipe open).
fn drain(out: &mut Option<OwnedFd>, output: &mut Vec<u8>) {
    while out.is_some() {
        let before = output.len();
        if !read_some(out, output) {
            break;
        }
        if output.len() == before {
            break;
        }
    }
}

fn kill_group(child: &std::process::Child) -> io::Result<()> {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process_group(pid, rustix::process::Signal::KILL)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn hook(path: &Path, args: &[&str], env: &[&str], timeout: Option<u32>) -> HookPlan {
        HookPlan {
            path: path.to_path_buf(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|s| s.to_string()).collect(),
            timeout,
        }
    }

    #[writ_macros::verifies("config.hooks.order", "config.hooks.state_stdin")]
    #[test]
    fn hook_gets_state_args_env_in_order() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("log");
        // busybox picks its applet from argv[0]: "sh" proves args[0] became argv[0].
        let cmd = format!("echo \"$0|$1|$FOO|$HOME|$(cat)\" >> {}", log.display());
        let busybox = Path::new("/bin/busybox");
        let hooks = [
            hook(
                busybox,
                &["sh", "-c", &cmd, "first", "a"],
                &["FOO=bar=baz"],
                Some(5),
            ),
            hook(busybox, &["sh", "-c", &cmd, "second", "b"], &[], None),
        ];
        run_hooks(&hooks, br#"{"id":"x"}"#).unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            text,
            "first|a|bar=baz||{\"id\":\"x\"}\nsecond|b|||{\"id\":\"x\"}\n"
        );
    }

    #[test]
    fn failing_hook_is_an_error_naming_it_and_stops_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let marker = d.path().join("ran");
        let bad = script(d.path(), "bad", "echo oops >&2; exit 3");
        let good = script(d.path(), "good", &format!("touch {}", marker.display()));
        let err = run_hooks(
            &[hook(&bad, &[], &[], None), hook(&good, &[], &[], None)],
            b"{}",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(bad.to_str().unwrap()), "{msg}");
        assert!(msg.contains("status 3"), "{msg}");
        assert!(msg.contains("oops"), "{msg}");
        assert!(!marker.exists());
    }

    #[test]
    fn missing_hook_is_an_error_naming_it() {
        let err =
            run_hook(&hook(Path::new("/nonexistent/hook"), &[], &[], None), b"{}").unwrap_err();
        assert!(matches!(err, HookError::Spawn { .. }));
        assert!(err.to_string().contains("/nonexistent/hook"));
    }

    #[test]
    fn timeout_kills_the_hook_and_its_children() {
        let d = tempfile::tempdir().unwrap();
        let pidfile = d.path().join("pid");
        let s = script(
            d.path(),
            "slow",
            &format!("sleep 30 & echo $! > {}; wait", pidfile.display()),
        );
        let start = Instant::now();
        let err = run_hook(&hook(&s, &[], &[], Some(1)), b"{}").unwrap_err();
        let took = start.elapsed();
        assert!(
            matches!(err, HookError::Timeout { timeout: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains(s.to_str().unwrap()));
        assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(10));
        let sleeper: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The background sleep was killed with the group (it may linger as a zombie of
        // init for a moment, but it must not be sleeping).
        std::thread::sleep(Duration::from_millis(100));
        assert!(crate::state::proc_stat(sleeper).is_none_or(|s| s.state == 'Z'));
    }

    #[test]
    fn hook_that_never_reads_stdin_does_not_hurt() {
        let d = tempfile::tempdir().unwrap();
        let s = script(d.path(), "deaf", "exec 0<&-; exit 0");
        // Larger than a pipe buffer, so the write must hit EPIPE or block.
        let big = vec![b'x'; 1 << 20];
        run_hook(&hook(&s, &[], &[], Some(5)), &big).unwrap();
        let s2 = script(d.path(), "deaf2", "sleep 0.2");
        run_hook(&hook(&s2, &[], &[], Some(5)), &big).unwrap();
    }

    #[test]
    fn hook_closing_stdin_at_once_is_harmless_even_with_default_sigpipe() {
        let d = tempfile::tempdir().unwrap();
        let s = script(d.path(), "quick", "exit 0");
        let big = vec![b'x'; 1 << 20];
        // Run in a child process with SIGPIPE at its default, as in the container's init.
        // SAFETY: fork in a test; the child only calls run_hook and _exit.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                // SAFETY: restoring the default disposition.
                unsafe {
                    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                }
                let mut ok = true;
                for _ in 0..20 {
                    ok &= run_hook(&hook(&s, &[], &[], Some(5)), &big).is_ok();
                }
                // SAFETY: leaving the forked child without running the parent's atexit.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                let st = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(st, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }

    #[test]
    fn hook_leaving_a_process_holding_its_output_returns() {
        let d = tempfile::tempdir().unwrap();
        let s = script(d.path(), "bg", "(sleep 3 &) ; echo done");
        let start = Instant::now();
        run_hook(&hook(&s, &[], &[], None), b"{}").unwrap();
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
