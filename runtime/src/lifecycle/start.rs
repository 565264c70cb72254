//! Start (runtime.md#start), behind [`Container::start`](super::Container::start): runs
//! the user program of a `created` container, then the poststart hooks.

use crate::error::{Error, Result};
use crate::state::{Locked, Status};

/// Starts a locked container: it must be `created`. Releases its process, which then
/// runs the startContainer hooks and execs the user program; `container::release`
/// returns once it has exec'd, or fails with the reason it died instead (e.g. a failing
/// startContainer hook). Then runs the poststart hooks; if one fails, the container is
/// stopped (killed) and start fails.
#[writ_macros::requirement(
    "runtime.start.not_created.error",
    "runtime.start.not_created.no_effect",
    "runtime.lifecycle.poststart.invoke",
    "runtime.lifecycle.poststart.fail",
    "config.hooks.poststart.timing",
    "config.hooks.poststart.runtime_ns",
    "config.hooks.poststart.path.runtime_ns",
    "config.hooks.poststart.path.runtime_ns_timing",
    "config.hooks.poststart.runtime_ns_timing"
)]
pub(crate) fn start_container(handle: &Locked) -> Result<()> {
    let status = handle.status();
    if status != Status::Created {
        return Err(Error::WrongStatus {
            op: "start",
            id: handle.id().to_string(),
            status,
            hint: ": only a created container can be started",
        });
    }
    // The poststart hooks' state is made before the release: a frozen config that cannot
    // be read leaves the container created.
    let hooks: Vec<crate::plan::HookPlan> = handle.state.poststart.iter().map(Into::into).collect();
    let state = match hooks.is_empty() {
        true => Vec::new(),
        false => handle.hook_state(Status::Running)?,
    };
    crate::spawn::release(&handle.dir)?;
    crate::logging::debug(|| format!("start {}: released", handle.id()));
    if hooks.is_empty() {
        return Ok(());
    }
    if let Err(e) = crate::hooks::run_hooks(&hooks, &state) {
        if let (Some(pid), Some(t)) = (handle.state.pid, handle.state.start_time) {
            if crate::state::process_alive(pid, t) {
                super::kill::signal_process(pid, libc::SIGKILL);
                super::kill::wait_gone(pid, t);
            }
        }
        return Err(Error::Poststart(e));
    }
    Ok(())
}
