//! `writ pause ID` and `writ resume ID` (runc's; the spec has no such operations):
//! [`writ::Container::pause`] freezes every process of the container,
//! [`writ::Container::resume`] thaws them.

use writ::Container;

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct PauseArgs {
    /// The container id.
    pub id: String,
}

pub fn run(global: &GlobalOpts, args: PauseArgs) -> i32 {
    let result = Container::load(&global.root(), &args.id).and_then(|mut c| c.pause());
    super::finish("pause", result.map(|()| 0))
}

/// `resume ID`.
pub fn resume(global: &GlobalOpts, args: PauseArgs) -> i32 {
    let result = Container::load(&global.root(), &args.id).and_then(|mut c| c.resume());
    super::finish("resume", result.map(|()| 0))
}
