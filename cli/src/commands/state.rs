//! `writ state ID` (runtime.md#query-state): [`writ::Container::state`] as pretty JSON,
//! the OCI fields plus runc's `rootfs`, `created` and `owner`.

use writ::Container;

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct StateArgs {
    /// The container id.
    pub id: String,
}

/// The id is a required argument (clap rejects a call without it).
#[writ_macros::requirement("runtime.state_op.id_required")]
pub fn run(global: &GlobalOpts, args: StateArgs) -> i32 {
    let result = Container::load(&global.root(), &args.id).and_then(|c| {
        let mut out = serde_json::to_string_pretty(&c.state()?).unwrap_or_default();
        out.push('\n');
        crate::output::print(&out, "the state")
    });
    super::finish("state", result.map(|()| 0))
}
