//! Delete (runtime.md#delete), behind [`Container::delete`](super::Container::delete):
//! removes a stopped container (its cgroup and state), then runs the poststop hooks.
//!
//! Without `force` a container that is `created` or `running` is an error and is left
//! exactly as it was (the spec's delete applies to stopped containers; runc and crun
//! also delete `created` ones). With `force` the container is killed first.
//!
//! A `create` that was killed leaves a state in phase `creating` holding whatever it had
//! made by then (its cgroup is recorded before it is made, the init's pid right after the
//! clone): `delete` kills that process and every process in the cgroup (in every
//! hierarchy, also those whose pid was never recorded), removes the cgroup and the state,
//! and says what it removed (a warning, in the log or on stderr).

use crate::error::{Error, Result};
use crate::state::{Locked, Phase, Status};

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
    if handle.state.phase == Phase::Creating {
        // Whoever created it is gone (we hold its lock): an unfinished create.
        return remove_unfinished(handle);
    }
    match status {
        Status::Stopped => {}
        Status::Created | Status::Running | Status::Paused | Status::Creating if force => {
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
    if let Some(cg) = super::cgroup_of(&handle.state) {
        // Usually the container's processes are gone and its cgroup is empty: one rmdir
        // per hierarchy. Processes it left behind (e.g. when it shares the host pid
        // namespace) or cgroups it made inside keep it busy: those processes are killed
        // (a frozen cgroup thawed), then the cgroup is removed children first.
        if !cg.remove_empty() {
            let _ = cg.kill_all(libc::SIGKILL);
            cg.destroy().map_err(|source| Error::Cgroup {
                what: "removing the cgroup",
                id: handle.id().to_string(),
                source: Box::new(source),
            })?;
        }
    }
    if let Some(rdt) = &handle.state.intel_rdt {
        crate::resctrl::remove(rdt).map_err(|source| Error::Rdt {
            what: "removing the Intel RDT groups",
            id: handle.id().to_string(),
            source: Box::new(source),
        })?;
    }
    // Poststop hooks run after the container is deleted (their state is made before,
    // from the frozen config); a failure is only a warning.
    let hooks: Vec<crate::plan::HookPlan> = handle.state.poststop.iter().map(Into::into).collect();
    let json = match hooks.is_empty() {
        true => Vec::new(),
        false => handle.hook_state(Status::Stopped).unwrap_or_else(|e| {
            crate::logging::warn(&format!("poststop hooks get no annotations: {e}"));
            handle.state.oci_json(Status::Stopped, &Default::default())
        }),
    };
    let id = handle.id().to_string();
    handle.remove()?;
    crate::logging::debug(|| format!("delete {id}: removed"));
    for hook in &hooks {
        if let Err(e) = crate::hooks::run_hook(hook, &json) {
            crate::logging::warn(&format!("poststop {e}"));
        }
    }
    Ok(())
}

/// Removes what a create that did not finish left: its process (if it is still that
/// process), every process in its cgroup, the cgroup and the state. Says what it removed.
/// No hooks run: the container never existed for them.
fn remove_unfinished(handle: Locked) -> Result<()> {
    let id = handle.id().to_string();
    let mut removed = Vec::new();
    if let (Some(pid), Some(t)) = (handle.state.pid, handle.state.start_time) {
        if crate::state::process_alive(pid, t) {
            super::kill::signal_process(pid, libc::SIGKILL);
            super::kill::wait_gone(pid, t);
            removed.push(format!("its process {pid}"));
        }
    }
    if let Some(cg) = super::cgroup_of(&handle.state) {
        let others = kill_members(&cg, handle.state.pid);
        if others > 0 {
            removed.push(format!("{others} more process(es) in its cgroup"));
        }
        let existed = cg
            .state()
            .hierarchies
            .iter()
            .filter(|h| h.path.exists())
            .count();
        cg.destroy().map_err(|source| Error::Cgroup {
            what: "removing the cgroup",
            id: id.clone(),
            source: Box::new(source),
        })?;
        if existed > 0 {
            removed.push(format!(
                "its cgroup {} (in {existed} hierarchies)",
                cg.state().relative
            ));
        }
    }
    if let Some(rdt) = &handle.state.intel_rdt {
        crate::resctrl::remove(rdt).map_err(|source| Error::Rdt {
            what: "removing the Intel RDT groups",
            id: id.to_string(),
            source: Box::new(source),
        })?;
        removed.push("its Intel RDT groups".into());
    }
    handle.remove()?;
    removed.push("its state".into());
    crate::logging::warn(&format!(
        "delete {id}: the create of this container did not finish; removed {}",
        removed.join(", ")
    ));
    Ok(())
}

/// SIGKILLs every process in the cgroup in any hierarchy (a create killed half-way may
/// have put its process in some of them only) until none is left; returns how many
/// other than `known`.
fn kill_members(cg: &crate::cgroups::Cgroup, known: Option<i32>) -> usize {
    let mut killed = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let mut pids = Vec::new();
        for h in &cg.state().hierarchies {
            procs_under(&h.path, &mut pids);
        }
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            super::kill::signal_process(pid, libc::SIGKILL);
            if Some(pid) != known {
                killed.insert(pid);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    killed.len()
}

fn procs_under(dir: &std::path::Path, out: &mut Vec<i32>) {
    if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                procs_under(&e.path(), out);
            }
        }
    }
}

/// Kills the container process and whatever else is in its cgroup, and waits for it.
fn stop(handle: &Locked) {
    if let Some(cg) = super::cgroup_of(&handle.state) {
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
