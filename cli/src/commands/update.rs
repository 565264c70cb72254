//! `writ update [-r FILE|-] [runc's flags] ID`: [`writ::Container::update`] with a
//! [`writ::ResourcesUpdate`] (`writ resources` says which fields can change live).

use writ::{Container, ResourcesUpdate};

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub flags: crate::update_flags::UpdateFlags,
    /// The container id.
    pub id: String,
}

pub fn run(global: &GlobalOpts, a: UpdateArgs) -> i32 {
    let result = ResourcesUpdate::from(a.flags)
        .patch()
        .and_then(|p| Container::load(&global.root(), &a.id).and_then(|mut c| c.update(&p)));
    super::finish("update", result.map(|()| 0))
}
