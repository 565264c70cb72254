//! Errors of the container operations ([`crate::Container`]). Each says what was asked,
//! of which container, and why it cannot be done; the CLI prints it and exits non-zero.

use std::io;
use std::path::PathBuf;

use crate::cgroups::CgroupError;
use crate::console::ConsoleError;
use crate::hooks::HookError;
use crate::plan::PlanError;
use crate::spawn::ContainerError;
use crate::state::{StateError, Status};

/// An error of a container operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The state directory: unknown id, id in use, unreadable state.
    #[error(transparent)]
    State(#[from] StateError),
    /// A hook that failed where its failure is the operation's.
    #[error(transparent)]
    Hook(#[from] HookError),
    /// The console socket or the pty.
    #[error(transparent)]
    Console(#[from] ConsoleError),
    /// Creating the container, or releasing its process at start.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The operation does not apply to a container in this status (runtime.md#operations).
    #[error("cannot {op} container {id:?}: it is {status}{hint}")]
    WrongStatus {
        /// The operation.
        op: &'static str,
        /// The container.
        id: String,
        /// Its status.
        status: Status,
        /// What to do instead (empty, or starting with ": ").
        hint: &'static str,
    },
    /// The container has stopped: the operation needs its process (runc's words, which
    /// containerd's shim matches to treat a kill of a finished process as harmless).
    #[error("cannot {op} container {id:?}: container not running (it is stopped)")]
    NotRunning {
        /// The operation.
        op: &'static str,
        /// The container.
        id: String,
    },
    /// The bundle directory cannot be used.
    #[error("bundle {}: {}", path.display(), lower(source))]
    Bundle {
        /// The bundle path as given.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The bundle path is not a directory.
    #[error("bundle {}: not a directory", path.display())]
    BundleNotDir {
        /// The bundle path.
        path: PathBuf,
    },
    /// config.json cannot be read.
    #[error("config {}: {}", path.display(), lower(source))]
    ConfigRead {
        /// The config file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// config.json cannot become a plan (nothing was touched).
    #[error("config {}: {source}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// Why.
        source: PlanError,
    },
    /// The config asks for a terminal and nobody takes the pty master.
    #[error("process.terminal is true but no --console-socket was given")]
    NoConsoleSocket,
    /// A signal name or number that is not one.
    #[error("invalid signal {0:?}: expected a number or a name such as TERM, SIGKILL, RTMIN+1")]
    Signal(String),
    /// A poststart hook failed; the container was stopped.
    #[error("poststart {0}; the container was stopped")]
    Poststart(#[source] HookError),
    /// The container's cgroup.
    #[error("{what} of {id:?}: {source}")]
    Cgroup {
        /// What was being done.
        what: &'static str,
        /// The container.
        id: String,
        /// Why it failed.
        source: Box<CgroupError>,
    },
    /// The operation acts on the container's cgroup, and it has none recorded.
    #[error("cannot {op} container {id:?}: it has no cgroup")]
    NoCgroup {
        /// The operation.
        op: &'static str,
        /// The container.
        id: String,
    },
    /// The container's Intel RDT groups (linux.intelRdt).
    #[error("{what} of {id:?}: {source}")]
    Rdt {
        /// What was being done.
        what: &'static str,
        /// The container.
        id: String,
        /// Why it failed.
        source: Box<crate::resctrl::RdtError>,
    },
    /// An update that was refused (nothing was changed): the field and why.
    #[error("{pointer}: {reason}")]
    Update {
        /// JSON pointer of the field (in config.json).
        pointer: String,
        /// Why, with the requirement id where one applies.
        reason: String,
    },
    /// A byte count that is not one (runc's `update` flags).
    #[error("invalid size {given:?}: {reason}")]
    Size {
        /// The text given.
        given: String,
        /// Why.
        reason: &'static str,
    },
    /// The container has no process to wait for.
    #[error("container {0:?} has no process")]
    NoProcess(String),
    /// Any other I/O.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
}

/// An io::Error's text in lower case, as runc prints "no such file or directory".
fn lower(e: &io::Error) -> String {
    e.to_string().to_lowercase()
}

impl Error {
    /// An I/O error with a description of what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

/// Result of a container operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
