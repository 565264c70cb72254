//! `writ delete [--force] ID` (runtime.md#delete): removes a stopped container (its
//! cgroup and state), then runs the poststop hooks.
//!
//! Without `--force` a container that is `created` or `running` is an error and is left
//! exactly as it was (the spec's delete applies to stopped containers; runc and crun
//! also delete `created` ones). With `--force` the container is killed first, and an
//! unknown id is not an error (as in runc: engines call `delete --force` to make sure).

use super::GlobalOpts;
use crate::error::{Error, Result};
use crate::state::{Locked, StateError, Status};

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
    let result = match global.store().lock(&args.id) {
        Ok(h) => delete_container(h, args.force),
        Err(StateError::NotFound(_)) if args.force => Ok(()),
        Err(e) => Err(e.into()),
    };
    super::finish("delete", result.map(|()| 0))
}

/// Deletes a locked container.
#[writ_macros::requirement(
    "runtime.delete.not_stopped.error",
    "runtime.delete.not_stopped.no_effect",
    "runtime.delete.resources",
    "runtime.lifecycle.destroy",
    "runtime.lifecycle.poststop.invoke",
    "runtime.lifecycle.poststop.fail_warn",
    "config.hooks.poststop.timing",
    "config.hooks.poststop.runtime_ns",
    "config.hooks.poststop.path.runtime_ns",
    "config.hooks.poststop.path.runtime_ns_timing",
    "config.hooks.poststop.runtime_ns_timing",
    "runtime.warnings.continue"
)]
pub(crate) fn delete_container(handle: Locked, force: bool) -> Result<()> {
    let status = handle.status();
    match status {
        Status::Stopped => {}
        Status::Created | Status::Running | Status::Creating if force => {
            stop(&handle);
        }
        _ => {
            return Err(Error::WrongStatus {
                op: "delete",
                id: handle.id().to_string(),
                status,
                hint: ": stop it first (writ kill), or use --force",
            })
        }
    }
    if let Some(cg) = super::kill::cgroup_of(&handle.state) {
        // Processes the container left behind (e.g. when it shares the host pid
        // namespace) would keep the cgroup busy.
        let _ = cg.kill_all(libc::SIGKILL);
        cg.destroy().map_err(|e| {
            Error::Runtime(format!("removing the cgroup of {:?}: {e}", handle.id()))
        })?;
    }
    let state = handle.state.clone();
    handle.remove()?;
    crate::logging::debug(|| format!("delete {}: removed", state.id));

    // Poststop hooks run after the container is deleted; a failure is only a warning.
    let hooks: Vec<crate::plan::HookPlan> = state.poststop.iter().map(Into::into).collect();
    if !hooks.is_empty() {
        let json = state.oci_json(Status::Stopped);
        for hook in &hooks {
            if let Err(e) = crate::hooks::run_hook(hook, &json) {
                crate::logging::warn(&format!("poststop {e}"));
            }
        }
    }
    Ok(())
}

/// Kills the container process and whatever else is in its cgroup, and waits for it.
fn stop(handle: &Locked) {
    if let Some(cg) = super::kill::cgroup_of(&handle.state) {
        let _ = cg.kill_all(libc::SIGKILL);
    }
    if let (Some(pid), Some(t)) = (handle.state.pid, handle.state.start_time) {
        if crate::state::process_alive(pid, t) {
            super::kill::signal_process(pid, libc::SIGKILL);
            if !super::kill::wait_gone(pid, t) {
                crate::logging::warn(&format!(
                    "container {:?}: process {pid} did not exit after SIGKILL",
                    handle.id()
                ));
            }
        }
    }
}
