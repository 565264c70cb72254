//! `writ kill [--all] ID [SIGNAL]` (runtime.md#kill): [`writ::Container::kill`], the
//! signal (default TERM) parsed as runc does.

use writ::Container;

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct KillArgs {
    /// Send the signal to all processes in the container's cgroup.
    #[arg(long, short = 'a')]
    pub all: bool,
    /// The container id.
    pub id: String,
    /// The signal: a number or a name, with or without "SIG" (default TERM).
    #[arg(default_value = "TERM")]
    pub signal: String,
}

/// The id is a required argument (clap rejects a call without it).
#[writ_macros::requirement("runtime.kill.id_required")]
pub fn run(global: &GlobalOpts, args: KillArgs) -> i32 {
    let result = writ::parse_signal(&args.signal).and_then(|sig| {
        Container::load(&global.root(), &args.id).and_then(|mut c| c.kill(sig, args.all))
    });
    super::finish("kill", result.map(|()| 0))
}
