//! Why a cgroup operation failed: each error names the config field (JSON pointer) that
//! asked for it where there is one, the controller and the file or directory.

use std::path::PathBuf;

use crate::sys::io_text;

/// Why a cgroup operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A resource value could not be written to its cgroup file.
    #[error("{field}: writing {value:?} to {} (controller {controller}): {}", file.display(), io_text(source))]
    Write {
        field: &'static str,
        controller: &'static str,
        file: PathBuf,
        value: String,
        #[source]
        source: std::io::Error,
    },
    /// A cgroup file could not be read.
    #[error("reading {}: {}", file.display(), io_text(source))]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The config asks for a controller the host does not offer to the container's cgroup.
    #[error("{field}: the {controller} controller is not available for the container's cgroup on this {layout} host ({reason}) [config_linux.cgroups.fitness_check.error]")]
    Unavailable {
        field: &'static str,
        controller: &'static str,
        layout: super::Layout,
        reason: String,
    },
    /// A value of the config that this controller cannot express.
    #[error("{field}: {reason} (controller {controller})")]
    Value {
        field: String,
        controller: &'static str,
        reason: String,
    },
    #[error("creating cgroup {}: {}", dir.display(), io_text(source))]
    Mkdir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("removing cgroup {}: {}", dir.display(), io_text(source))]
    Remove {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("moving process {pid} into {}: {}", file.display(), io_text(source))]
    AddProcess {
        pid: i32,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// cgroupsPath cannot be used.
    #[error("/linux/cgroupsPath {path:?}: {reason} [config_linux.cgroups_path.invalid.error]")]
    BadPath { path: String, reason: &'static str },
    /// No cgroup hierarchy is mounted where the host's cgroups are looked for.
    /// The container's device rules could not be compiled or attached (cgroup v2).
    #[error(transparent)]
    DeviceFilter(#[from] super::device_filter::FilterError),
    #[error("no cgroup hierarchy is mounted under {} (read from {})", root.display(), mountinfo.display())]
    NoHierarchy { root: PathBuf, mountinfo: PathBuf },
}

impl CgroupError {
    /// `field` asks for a controller the host does not offer (`reason` says why).
    pub fn unavailable(
        field: &'static str,
        controller: &'static str,
        layout: super::Layout,
        reason: impl Into<String>,
    ) -> CgroupError {
        CgroupError::Unavailable {
            field,
            controller,
            layout,
            reason: reason.into(),
        }
    }
}
