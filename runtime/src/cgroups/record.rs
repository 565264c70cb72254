//! The container's cgroup as its state record keeps it: typed, serialisable, complete
//! before anything is made (so a create killed half-way leaves a record that names every
//! directory it may have made).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::host::{Layout, Version};

/// Which manager drives the cgroup (a systemd driver is the next one).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// The cgroup filesystem, written directly.
    #[default]
    Cgroupfs,
}

/// The container's cgroup in one hierarchy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    /// The mount point relative to the cgroup root ("memory", "unified", "" for a
    /// cgroup2-only host).
    pub name: String,
    /// v1 or v2.
    pub version: Version,
    /// The controllers of a v1 hierarchy (empty for cgroup2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controllers: Vec<String>,
    /// The hierarchy's mount point.
    pub mount: PathBuf,
    /// The container's cgroup directory.
    pub path: PathBuf,
    /// Directories that did not exist when the cgroup was planned, outermost first (the
    /// container's own directory last, unless it already existed), but for
    /// [`super::path::DEFAULT_PARENT`], which is kept. `destroy` removes those that are
    /// empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<PathBuf>,
}

impl Hierarchy {
    /// True for a v1 hierarchy that has `controller`.
    pub fn has(&self, controller: &str) -> bool {
        self.version == Version::V1 && self.controllers.iter().any(|c| c == controller)
    }
}

/// The container's cgroup: one directory per hierarchy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CgroupState {
    /// Which driver made it.
    #[serde(default)]
    pub driver: Driver,
    /// The resolved cgroupsPath ("/writ/ID", or a path relative to the caller's cgroup).
    pub relative: String,
    /// One directory per hierarchy.
    pub hierarchies: Vec<Hierarchy>,
}

impl CgroupState {
    /// The layout these hierarchies make (`None` without any).
    pub fn layout(&self) -> Option<Layout> {
        let v1 = self.hierarchies.iter().any(|h| h.version == Version::V1);
        let v2 = self.v2().is_some();
        match (v1, v2) {
            (true, true) => Some(Layout::Hybrid),
            (true, false) => Some(Layout::V1),
            (false, true) => Some(Layout::V2),
            (false, false) => None,
        }
    }

    /// The cgroup2 hierarchy, if any.
    pub fn v2(&self) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| h.version == Version::V2)
    }

    /// The v1 hierarchy that has `controller`.
    pub fn v1_with(&self, controller: &str) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| h.has(controller))
    }

    /// The directories to show inside the container for a `cgroup` mount.
    pub fn view(&self, new_cgroupns: bool) -> crate::mounts::CgroupView {
        let mut v = crate::mounts::CgroupView {
            new_cgroupns,
            ..Default::default()
        };
        for h in &self.hierarchies {
            if h.version == Version::V2 && h.name.is_empty() {
                v.unified_only = Some(h.path.clone());
            } else {
                v.dirs.push((h.name.clone(), h.path.clone()));
            }
        }
        v
    }
}
