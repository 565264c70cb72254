//! `writ exec [options] ID CMD...`, `writ exec -p process.json ID` (runc's exec): Container::exec;
//! the foreground forwards signals and exits with the process's status; a failed exec exits 255.

use std::path::PathBuf;

use super::GlobalOpts;
use writ::{Console, Container, ExecOptions, ExecProcess, ProcessOverrides};

#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    #[arg(long, help = "AF_UNIX socket that receives the pty master")]
    console_socket: Option<PathBuf>,
    #[arg(long, help = "Working directory in the container")]
    cwd: Option<String>,
    #[arg(long, short = 'e', help = "Set an environment variable: KEY=VALUE")]
    env: Vec<String>,
    #[arg(long, short = 't', help = "Allocate a pseudo-terminal")]
    tty: bool,
    #[arg(long, short = 'u', help = "The user: uid[:gid]")]
    user: Option<String>,
    #[arg(long, short = 'g', help = "An additional group id")]
    additional_gids: Vec<u32>,
    #[arg(long, short = 'p', help = "The process from this process.json")]
    process: Option<PathBuf>,
    #[arg(long, short = 'd', help = "Return once the process runs")]
    detach: bool,
    #[arg(long, help = "Write the process's host pid to this file")]
    pid_file: Option<PathBuf>,
    #[arg(long, help = "SELinux label of the process")]
    process_label: Option<String>,
    #[arg(long, help = "AppArmor profile of the process")]
    apparmor: Option<String>,
    #[arg(long, help = "Set no_new_privs for the process")]
    no_new_privs: bool,
    #[arg(long, short = 'c', help = "Add a capability to the process")]
    cap: Vec<String>,
    #[arg(long, default_value_t = 0, help = "Pass N extra fds (3..N+2)")]
    preserve_fds: u32,
    #[arg(long, help = "Run in this existing sub-cgroup: [controller:]path")]
    cgroup: Vec<String>,
    #[arg(long, help = "Do not refuse a paused container for being paused")]
    ignore_paused: bool,
    /// The container id.
    id: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub fn run(global: &GlobalOpts, a: ExecArgs) -> i32 {
    // The exec'd process is a fork of this one: it runs from a read-only view of the binary.
    if let Err(e) = writ::exeseal::ensure() {
        super::report("exec", &e);
        return 255;
    }
    if !a.detach {
        crate::foreground::hold_signals();
    }
    let mut o = ProcessOverrides::default();
    (o.cwd, o.env, o.tty, o.user) = (a.cwd, a.env, a.tty, a.user);
    (o.additional_gids, o.caps, o.no_new_privs) = (a.additional_gids, a.cap, a.no_new_privs);
    (o.apparmor, o.process_label) = (a.apparmor, a.process_label);
    let process = a
        .process
        .map_or(ExecProcess::command(a.command, o), ExecProcess::File);
    let mut opts = ExecOptions::new(process);
    opts.console = Console::socket_or_keep(a.console_socket, !a.detach);
    (opts.pid_file, opts.preserve_fds) = (a.pid_file, a.preserve_fds);
    (opts.cgroup, opts.ignore_paused) = (a.cgroup, a.ignore_paused);
    match Container::load(&global.root(), &a.id).and_then(|c| c.exec(&opts)) {
        Ok(_) if a.detach => 0,
        Ok(mut e) => {
            let console = e.take_console();
            crate::foreground::follow(e.pid(), console.as_ref(), || e.wait()).unwrap_or(255)
        }
        Err(e) => {
            super::report("exec", &e);
            255
        }
    }
}
