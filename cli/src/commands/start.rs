//! `writ start ID` (runtime.md#start): [`writ::Container::start`].

use writ::Container;

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct StartArgs {
    /// The container id.
    pub id: String,
}

/// The id is a required argument (clap rejects a call without it).
#[writ_macros::requirement("runtime.start.id_required")]
pub fn run(global: &GlobalOpts, args: StartArgs) -> i32 {
    let result = Container::load(&global.root(), &args.id).and_then(|mut c| c.start());
    super::finish("start", result.map(|()| 0))
}
