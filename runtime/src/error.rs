//! Errors of the lifecycle commands. Each says what was asked, of which container, and
//! why it cannot be done; the CLI prints it and exits non-zero.

use std::io;
use std::path::PathBuf;

use crate::console::ConsoleError;
use crate::hooks::HookError;
use crate::state::{StateError, Status};

/// An error of a lifecycle command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Console(#[from] ConsoleError),
    /// The operation does not apply to a container in this status (runtime.md#operations).
    #[error("cannot {op} container {id:?}: it is {status}{hint}")]
    WrongStatus {
        op: &'static str,
        id: String,
        status: Status,
        hint: &'static str,
    },
    #[error("bundle {}: {reason}", path.display())]
    Bundle { path: PathBuf, reason: String },
    #[error("config {}: {reason}", path.display())]
    Config { path: PathBuf, reason: String },
    #[error("invalid signal {0:?}: expected a number or a name such as TERM, SIGKILL, RTMIN+1")]
    Signal(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    /// An error from creating, starting or tearing down the container itself.
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// An I/O error with a description of what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

/// Result of a lifecycle command.
pub type Result<T, E = Error> = std::result::Result<T, E>;
