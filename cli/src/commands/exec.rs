//! `writ exec [options] ID CMD...` and `writ exec -p process.json ID` (runc's `exec`):
//! [`writ::Container::exec`]; in the foreground, signals are forwarded and the exit status
//! is the process's (128+n when signal n killed it); `-d` returns once it runs. A failure
//! of exec itself exits 255, as runc's does.

use std::path::PathBuf;

use writ::{Console, Container, ExecOptions, ExecProcess, ProcessOverrides, Result};

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// AF_UNIX socket that receives the pty master when the process has a terminal.
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
    /// Working directory in the container.
    #[arg(long, value_name = "DIR")]
    cwd: Option<String>,
    /// Set an environment variable (KEY=VALUE); repeatable.
    #[arg(long, short = 'e', value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Allocate a pseudo-terminal.
    #[arg(long, short = 't')]
    tty: bool,
    /// The user: uid[:gid].
    #[arg(long, short = 'u', value_name = "UID[:GID]", value_parser = parse_user)]
    user: Option<(u32, Option<u32>)>,
    /// An additional group id; repeatable.
    #[arg(long, short = 'g', value_name = "GID")]
    additional_gids: Vec<u32>,
    /// The process from this process.json (config.md#process) instead of the container's.
    #[arg(long, short = 'p', value_name = "FILE")]
    process: Option<PathBuf>,
    /// Return once the process runs instead of waiting for it.
    #[arg(long, short = 'd')]
    detach: bool,
    /// Write the process's host pid to this file.
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// SELinux label of the process.
    #[arg(long, value_name = "LABEL")]
    process_label: Option<String>,
    /// AppArmor profile of the process.
    #[arg(long, value_name = "PROFILE")]
    apparmor: Option<String>,
    /// Set no_new_privs for the process.
    #[arg(long)]
    no_new_privs: bool,
    /// Add a capability (bounding, effective, permitted); repeatable.
    #[arg(long, short = 'c', value_name = "CAP")]
    cap: Vec<String>,
    /// Pass N extra fds (3..N+2) to the process.
    #[arg(long, value_name = "N", default_value_t = 0)]
    preserve_fds: u32,
    /// Run in this existing sub-cgroup: [controller[,controller]:]path; repeatable.
    #[arg(long, value_name = "[CTRL:]PATH")]
    cgroup: Vec<String>,
    /// Do not refuse a paused container for being paused.
    #[arg(long)]
    ignore_paused: bool,
    /// The container id.
    id: String,
    /// The command and its arguments (not with --process).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<String>,
}

fn parse_user(s: &str) -> std::result::Result<(u32, Option<u32>), String> {
    let num = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("{v:?} is not a number"))
    };
    match s.split_once(':') {
        Some((u, g)) => Ok((num(u)?, Some(num(g)?))),
        None => Ok((num(s)?, None)),
    }
}

impl ExecArgs {
    fn options(&self) -> Result<ExecOptions> {
        let process = match &self.process {
            Some(path) => ExecProcess::Json {
                data: std::fs::read(path).map_err(writ::Error::io(format!(
                    "reading process {}",
                    path.display()
                )))?,
                path: Some(path.clone()),
            },
            None => {
                let mut o = ProcessOverrides::default();
                (o.cwd, o.env, o.tty) = (self.cwd.clone(), self.env.clone(), self.tty);
                (o.user, o.additional_gids) = (self.user, self.additional_gids.clone());
                (o.caps, o.no_new_privs) = (self.cap.clone(), self.no_new_privs);
                (o.apparmor, o.process_label) = (self.apparmor.clone(), self.process_label.clone());
                ExecProcess::Command {
                    args: self.command.clone(),
                    overrides: o,
                }
            }
        };
        let mut opts = ExecOptions::new(process);
        opts.console = match (&self.console_socket, self.detach) {
            (Some(s), _) => Console::Socket(s.clone()),
            (None, false) => Console::Keep,
            (None, true) => Console::None,
        };
        (opts.pid_file, opts.preserve_fds) = (self.pid_file.clone(), self.preserve_fds);
        (opts.cgroup, opts.ignore_paused) = (self.cgroup.clone(), self.ignore_paused);
        Ok(opts)
    }
}

pub fn run(global: &GlobalOpts, args: ExecArgs) -> i32 {
    // The exec'd process is a fork of this one: it runs from a read-only view of the binary.
    if let Err(e) = writ::exeseal::ensure() {
        super::report("exec", &e);
        return 255;
    }
    if args.process.is_none() && args.command.is_empty() {
        super::report(
            "exec",
            &"no command given (writ exec ID CMD... or -p process.json ID)",
        );
        return 255;
    }
    let exec = args
        .options()
        .and_then(|o| Container::load(&global.root(), &args.id)?.exec(&o));
    match exec {
        Ok(_) if args.detach => 0,
        Ok(mut e) => {
            let master = e.take_console();
            crate::foreground::follow(e.pid(), master.as_ref(), || e.wait()).unwrap_or(255)
        }
        Err(e) => {
            super::report("exec", &e);
            255
        }
    }
}
