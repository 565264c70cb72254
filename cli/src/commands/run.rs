//! `writ run [--detach] [--keep] [create options] ID`: create + start
//! ([`writ::Container::create_and_start`]), and unless detached, wait for the container
//! process in the foreground (crate::foreground) and exit with its status (128+n when
//! killed by signal n), then delete the container (unless `--keep`).

use writ::state::StateError;
use writ::{Container, Error, Result};

use super::create::CreateArgs;
use super::GlobalOpts;
use crate::foreground;

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
    if let Err(e) = writ::exeseal::ensure() {
        super::report("run", &e);
        return 1;
    }
    super::finish("run", run_container(global, &args))
}

fn run_container(global: &GlobalOpts, args: &RunArgs) -> Result<i32> {
    let root = global.root();
    let opts = args.create.options(global, !args.detach);
    if !args.detach {
        foreground::hold_signals();
    }
    let mut c = Container::create_and_start(&root, &args.create.id, &opts)?;
    if args.detach {
        return Ok(0);
    }
    let pid = c.pid().unwrap_or(0);
    let master = c.take_console();
    let code = foreground::follow(pid, master.as_ref(), || c.wait()).unwrap_or_else(|e| {
        // Not our child (or waiting failed): follow it until it is gone.
        writ::logging::warn(&format!("waiting for the container: {e}"));
        c.wait_gone();
        1
    });
    if !args.keep {
        match c.delete(true) {
            Ok(()) | Err(Error::State(StateError::NotFound(_))) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(code)
}
