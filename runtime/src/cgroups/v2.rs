//! The manager of a cgroup2-only host: one hierarchy; a controller is enabled for the
//! container through its parents' `cgroup.subtree_control` and then written with the v2
//! file names and value conversions.
//!
//! At create every controller the host offers is enabled for the container's cgroup,
//! not only those its resources need, as runc and crun do: engines read the container's
//! `memory.current`, `memory.stat`, `io.stat`, `cpu.stat` and `pids.current` for their
//! statistics (podman stats, containerd's metrics, the kubelet), and those files exist
//! only where the controller is enabled. The spec allows it
//! (config_linux.cgroups_path.extra_controllers). On a hybrid host only what a resource
//! needs is enabled on the cgroup2 side (writ changes no more of the host there than runc).

use std::path::Path;

use super::controller::Controller;
use super::host::Layout;
use super::manager::{create_dirs, Manager};
use super::record::{CgroupState, Hierarchy};
use super::{fs, CgroupError};
use crate::plan::ResourcesPlan;

/// cgroup v2.
#[derive(Debug)]
pub struct V2(pub CgroupState);

/// The directories above the container's cgroup, outermost first (the mount included,
/// the container's own directory not).
fn above(h: &Hierarchy) -> Vec<&Path> {
    let mut v: Vec<&Path> = h
        .path
        .ancestors()
        .skip(1)
        .take_while(|d| d.starts_with(&h.mount))
        .collect();
    v.reverse();
    v
}

/// Whether the whitespace-separated list `text` holds `name`.
fn lists(text: &str, name: &str) -> bool {
    text.split_whitespace().any(|x| x == name)
}

/// Enables the cgroup2 controller `name` for the container's cgroup in every directory
/// above it where it is not enabled yet (best effort: a parent may refuse), then checks
/// that the cgroup offers it; `unavailable` makes the error from the reason.
pub(super) fn enable(
    h: &Hierarchy,
    name: &str,
    unavailable: impl Fn(String) -> CgroupError,
) -> Result<(), CgroupError> {
    for d in above(h) {
        let on = fs::read(d, "cgroup.subtree_control").unwrap_or_default();
        if !lists(&on, name) {
            let _ = fs::write(
                "cgroup",
                "/linux/cgroupsPath",
                d,
                "cgroup.subtree_control",
                &format!("+{name}"),
            );
        }
    }
    let offered = fs::read(&h.path, "cgroup.controllers")?;
    if !lists(&offered, name) {
        return Err(unavailable(format!(
            "{} offers {:?}",
            h.path.join("cgroup.controllers").display(),
            offered.trim()
        )));
    }
    Ok(())
}

/// Enables for the container's cgroup every controller each directory above it offers
/// (one write per directory that misses some; one by one when the kernel refuses the
/// whole list, e.g. cpu while a realtime process sits outside the root). Best effort:
/// what a resource needs is checked when it is applied.
#[writ_macros::requirement("config_linux.cgroups_path.extra_controllers")]
fn enable_all(h: &Hierarchy) {
    for d in above(h) {
        let offered = fs::read(d, "cgroup.controllers").unwrap_or_default();
        let on = fs::read(d, "cgroup.subtree_control").unwrap_or_default();
        let missing: Vec<String> = offered
            .split_whitespace()
            .filter(|c| !lists(&on, c))
            .map(|c| format!("+{c}"))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let write = |v: &str| {
            fs::write(
                "cgroup",
                "/linux/cgroupsPath",
                d,
                "cgroup.subtree_control",
                v,
            )
        };
        if write(&missing.join(" ")).is_err() {
            for m in &missing {
                let _ = write(m);
            }
        }
    }
}

/// Enables `c` for the container's cgroup (unless it is no subtree controller, as the
/// device filter) and applies it.
pub(super) fn apply_in_v2(
    h: Option<&Hierarchy>,
    layout: Layout,
    c: &dyn Controller,
    field: &'static str,
    r: &ResourcesPlan,
) -> Result<(), CgroupError> {
    let unavailable = |why: String| CgroupError::unavailable(field, c.name(), layout, why);
    let Some(h) = h else {
        return Err(unavailable("no cgroup2 hierarchy is recorded".into()));
    };
    let Some(name) = c.v2_name() else {
        // The controller's own refusal names the field and what v2 lacks.
        return c.apply_v2(&h.path, r).map_err(|e| e.on(layout));
    };
    if c.v2_subtree_control() {
        enable(h, name, unavailable)?;
    }
    c.apply_v2(&h.path, r).map_err(|e| e.on(layout))
}

impl Manager for V2 {
    fn state(&self) -> &CgroupState {
        &self.0
    }

    fn create(&self) -> Result<(), CgroupError> {
        create_dirs(&self.0)?;
        if let Some(h) = self.0.v2() {
            enable_all(h);
        }
        Ok(())
    }

    fn apply_controller(
        &self,
        c: &dyn Controller,
        field: &'static str,
        r: &ResourcesPlan,
    ) -> Result<(), CgroupError> {
        apply_in_v2(self.0.v2(), Layout::V2, c, field, r)
    }
}
