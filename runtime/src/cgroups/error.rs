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
        /// The config field (JSON pointer) that asked for it.
        field: String,
        /// The controller.
        controller: &'static str,
        /// The cgroup file.
        file: PathBuf,
        /// The value written.
        value: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The cgroup file a field needs does not exist: the host's kernel does not offer it.
    #[error("{field}: {} does not exist: this host's kernel does not offer that file of the {controller} controller [runtime.create.apply_failure.error]", file.display())]
    NoFile {
        /// The config field (JSON pointer) that asked for it.
        field: String,
        /// The controller.
        controller: &'static str,
        /// The missing cgroup file.
        file: PathBuf,
    },
    /// A field this layout's cgroup interface cannot express (a v1 field without a v2
    /// equivalent, say); `layout` is filled in by the manager.
    #[error("{field}: {reason}, so it cannot be applied on this {} host (controller {controller}) [{requirement}]", layout.map_or("cgroup".to_string(), |l| l.to_string()))]
    Unsupported {
        /// The config field (JSON pointer).
        field: String,
        /// The controller.
        controller: &'static str,
        /// The host's layout, once the manager knows it.
        layout: Option<super::Layout>,
        /// Why it cannot be applied.
        reason: String,
        /// The requirement it enforces.
        requirement: &'static str,
    },
    /// A cgroup file could not be read.
    #[error("reading {}: {}", file.display(), io_text(source))]
    Read {
        /// The cgroup file.
        file: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The config asks for a controller the host does not offer to the container's cgroup.
    #[error("{field}: the {controller} controller is not available for the container's cgroup on this {layout} host ({reason}) [{requirement}]")]
    Unavailable {
        /// The config field (JSON pointer) that asked for it.
        field: String,
        /// The controller.
        controller: String,
        /// The host's layout.
        layout: super::Layout,
        /// Why it is not available.
        reason: String,
        /// The requirement it enforces.
        requirement: &'static str,
    },
    /// A value of the config that this controller cannot express.
    #[error("{field}: {reason} (controller {controller})")]
    Value {
        /// The config field (JSON pointer).
        field: String,
        /// The controller.
        controller: &'static str,
        /// Why the value cannot be expressed.
        reason: String,
    },
    /// A cgroup directory could not be made.
    #[error("creating cgroup {}: {}", dir.display(), io_text(source))]
    Mkdir {
        /// The directory.
        dir: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A cgroup directory could not be removed.
    #[error("removing cgroup {}: {}", dir.display(), io_text(source))]
    Remove {
        /// The directory.
        dir: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A process could not be moved into the cgroup.
    #[error("moving process {pid} into {}: {}", file.display(), io_text(source))]
    AddProcess {
        /// The process.
        pid: i32,
        /// The cgroup's procs file.
        file: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// cgroupsPath cannot be used.
    #[error("/linux/cgroupsPath {path:?}: {reason} [config_linux.cgroups_path.invalid.error]")]
    BadPath {
        /// cgroupsPath as given.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// The container's device rules could not be compiled or attached (cgroup v2).
    #[error(transparent)]
    DeviceFilter(#[from] super::device_filter::FilterError),
    /// No cgroup hierarchy is mounted where the host's cgroups are looked for.
    #[error("no cgroup hierarchy is mounted under {} (read from {})", root.display(), mountinfo.display())]
    NoHierarchy {
        /// Where hierarchies were looked for.
        root: PathBuf,
        /// The mountinfo read.
        mountinfo: PathBuf,
    },
    /// The freezer did not reach the state asked for in time.
    #[error("{mechanism} of {}: wanted {wanted:?}, still {seen:?} after {after:?}", dir.display())]
    Freeze {
        /// The cgroup directory.
        dir: PathBuf,
        /// `freezer.state` or `cgroup.freeze`.
        mechanism: &'static str,
        /// The state asked for.
        wanted: super::freezer::FreezerState,
        /// The state last read.
        seen: super::freezer::FreezerState,
        /// How long it waited.
        after: std::time::Duration,
    },
    /// A cgroup file holds something its kernel interface never writes.
    #[error("{}: unexpected content {text:?}", file.display())]
    Unexpected {
        /// The cgroup file.
        file: PathBuf,
        /// What it holds.
        text: String,
    },
    /// The container's cgroup has no freezer (neither a v1 freezer hierarchy nor cgroup2).
    #[error("the container's cgroup {relative} has no freezer: no v1 freezer hierarchy and no cgroup2 directory is recorded")]
    NoFreezer {
        /// The cgroup's path.
        relative: String,
    },
}

impl CgroupError {
    /// `field` cannot be expressed on cgroup v2 (`reason` says why): a v1 setting whose
    /// conversion is impossible (config-linux.md#unified).
    pub fn not_on_v2(
        field: impl Into<String>,
        controller: &'static str,
        reason: impl Into<String>,
    ) -> CgroupError {
        CgroupError::unsupported(field, controller, reason)
            .for_requirement("config_linux.unified.v1_conversion.error")
    }

    /// `field` cannot be applied by this host's interface (`reason` says why).
    pub fn unsupported(
        field: impl Into<String>,
        controller: &'static str,
        reason: impl Into<String>,
    ) -> CgroupError {
        CgroupError::Unsupported {
            field: field.into(),
            controller,
            layout: None,
            reason: reason.into(),
            requirement: "runtime.create.apply_failure.error",
        }
    }

    /// The error with the host's layout filled in where it names none yet.
    pub fn on(mut self, host: super::Layout) -> CgroupError {
        if let CgroupError::Unsupported { layout, .. } = &mut self {
            layout.get_or_insert(host);
        }
        self
    }

    /// `field` asks for a controller the host does not offer (`reason` says why).
    pub fn unavailable(
        field: impl Into<String>,
        controller: impl Into<String>,
        layout: super::Layout,
        reason: impl Into<String>,
    ) -> CgroupError {
        CgroupError::Unavailable {
            field: field.into(),
            controller: controller.into(),
            layout,
            reason: reason.into(),
            requirement: "config_linux.cgroups.fitness_check.error",
        }
    }

    /// The same error, naming `requirement` as the rule it enforces.
    pub fn for_requirement(mut self, id: &'static str) -> CgroupError {
        if let CgroupError::Unavailable { requirement, .. }
        | CgroupError::Unsupported { requirement, .. } = &mut self
        {
            *requirement = id;
        }
        self
    }
}
