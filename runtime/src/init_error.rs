//! Why the container's init failed. It crosses the channel to create (or start) as data
//! (JSON, one `Error` message), so the runtime side gets the failure itself, errno
//! included, not a flattened text; its text is the one runc's users know ("exec:
//! \"sh\": executable file not found in $PATH", "mounting proc on /proc (...): mount:
//! permission denied").

use crate::devices::DeviceError;
use crate::netdev::NetdevError;
use crate::process::ProcessError;
use crate::sys::SysError;

/// A failure of the container's init.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum InitError {
    /// A system call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// The process's attributes or its program.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A device node.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// An interface to move into the container.
    #[error(transparent)]
    Netdev(#[from] NetdevError),
    /// A createContainer or startContainer hook failed.
    #[error("{stage} {message}")]
    Hook {
        /// The hook's lifecycle point.
        stage: String,
        /// What went wrong with it.
        message: String,
    },
    /// The pty could not be set up or handed over.
    #[error("{0}")]
    Console(String),
    /// A check of the init refused to go on (what it found).
    #[error("{0}")]
    Refused(String),
    /// create (or start) went away, or sent something out of turn.
    #[error("init: {0}")]
    Channel(String),
}

impl InitError {
    /// The errno of the system call that failed, if that is what happened.
    pub fn errno(&self) -> Option<crate::sys::Errno> {
        match self {
            InitError::Sys(e)
            | InitError::Process(ProcessError::Sys(e))
            | InitError::Device(DeviceError::Sys(e))
            | InitError::Netdev(NetdevError::Sys(e)) => Some(e.errno()),
            _ => None,
        }
    }

    /// A hook of `stage` failed.
    pub fn hook(stage: &str, e: &crate::hooks::HookError) -> InitError {
        InitError::Hook {
            stage: stage.to_string(),
            message: e.to_string(),
        }
    }
}

impl From<crate::console::ConsoleError> for InitError {
    fn from(e: crate::console::ConsoleError) -> InitError {
        InitError::Console(e.to_string())
    }
}

impl From<crate::seccomp::SeccompError> for InitError {
    fn from(e: crate::seccomp::SeccompError) -> InitError {
        match e {
            crate::seccomp::SeccompError::Sys(s) => InitError::Sys(s),
            other => InitError::Refused(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Errno;

    #[test]
    fn the_error_crosses_as_data_and_reads_as_before() {
        let errs = [
            InitError::Sys(SysError::new("mounting proc on /proc", Errno::EPERM)),
            InitError::Process(ProcessError::NotInPath("sh".into())),
            InitError::Device(DeviceError::Conflict {
                path: "/dev/x".into(),
            }),
            InitError::Hook {
                stage: "startContainer".into(),
                message: "hook /bin/false: exited with status 1".into(),
            },
            InitError::Channel("create went away".into()),
        ];
        let texts = [
            "mounting proc on /proc: operation not permitted",
            "exec: \"sh\": executable file not found in $PATH",
            "creating device /dev/x: a different file already exists at that path",
            "startContainer hook /bin/false: exited with status 1",
            "init: create went away",
        ];
        for (e, text) in errs.iter().zip(texts) {
            assert_eq!(e.to_string(), text);
            let json = serde_json::to_vec(e).unwrap();
            let back: InitError = serde_json::from_slice(&json).unwrap();
            assert_eq!(&back, e);
        }
        assert_eq!(errs[0].errno(), Some(Errno::EPERM));
        assert_eq!(errs[1].errno(), None);
    }
}
