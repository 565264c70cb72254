//! `writ delete [--force] ID` (runtime.md#delete): [`writ::Container::delete_id`].
//!
//! With `--force` an unknown id is not an error (as in runc: engines call `delete
//! --force` to make sure), and the temporary state directories of creates and deletes
//! that were killed half-way are removed too.

use writ::state::StateError;
use writ::{Container, Error};

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct DeleteArgs {
    /// Kill the container first if it is still created or running.
    #[arg(long, short = 'f')]
    pub force: bool,
    /// The container id.
    pub id: String,
}

/// The id is a required argument (clap rejects a call without it).
#[writ_macros::requirement("runtime.delete.id_required")]
pub fn run(global: &GlobalOpts, args: DeleteArgs) -> i32 {
    let root = global.root();
    let result = match Container::delete_id(&root, &args.id, args.force) {
        Err(Error::State(StateError::NotFound(_))) if args.force => Ok(()),
        r => r,
    };
    if args.force {
        for dir in Container::remove_stale(&root) {
            writ::logging::warn(&format!(
                "delete {}: removed {}, left by a create or delete that was killed",
                args.id,
                dir.display()
            ));
        }
    }
    super::finish("delete", result.map(|()| 0))
}
