//! `writ create [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N]
//! [--no-pivot] [--no-new-keyring] ID` (runtime.md#create): [`writ::Container::create`].
//!
//! `create` exits once the container is created: the container process stays a child of
//! whoever called `create` (engines are subreapers and reap it).

use std::path::PathBuf;

use writ::{Console, Container, CreateOptions};

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// Path to the bundle (the directory holding config.json); default: the current directory.
    #[arg(long, short = 'b', value_name = "DIR")]
    pub bundle: Option<PathBuf>,
    /// Write the container process's host pid to this file.
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// AF_UNIX socket that receives the pty master when process.terminal is true.
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Pass N extra fds (3..N+2) to the container process.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Do not use pivot_root (move the root and chroot instead).
    #[arg(long)]
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// The container id.
    pub id: String,
}

impl CreateArgs {
    /// The library's options; without `--console-socket` a pty master is kept here when
    /// `keep_console` (a foreground `run`), else a terminal is refused.
    pub fn options(&self, global: &GlobalOpts, keep_console: bool) -> CreateOptions {
        let mut o = CreateOptions::new(self.bundle.clone().unwrap_or_default());
        o.pid_file = self.pid_file.clone();
        o.console = match (&self.console_socket, keep_console) {
            (Some(s), _) => Console::Socket(s.clone()),
            (None, true) => Console::Keep,
            (None, false) => Console::None,
        };
        o.preserve_fds = self.preserve_fds;
        o.no_pivot = self.no_pivot;
        o.no_new_keyring = self.no_new_keyring;
        o.systemd_cgroup = global.systemd_cgroup;
        o
    }
}

/// The id is a required argument (clap rejects a call without it).
#[writ_macros::requirement("runtime.create.args_required")]
pub fn run(global: &GlobalOpts, args: CreateArgs) -> i32 {
    // Every init this process forks runs from a read-only view of the binary.
    if let Err(e) = writ::exeseal::ensure() {
        super::report("create", &e);
        return 1;
    }
    let opts = args.options(global, false);
    let created = Container::create(&global.root(), &args.id, &opts);
    super::finish("create", created.map(|_| 0))
}
