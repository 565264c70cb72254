//! writ: an OCI container runtime as a library. The `writ` binary (package writ-cli) is
//! a thin, runc-compatible command line over it.
//!
//! [`Container`] is the entry point: create a container from a bundle, load one by id,
//! start, query, signal and delete it. Everything below it is named after the
//! runtime-spec's sections, and each handler carries the requirement ids it fulfils
//! (`#[requirement(...)]`).
//!
//! # Example
//!
//! The whole lifecycle of a container that runs `/bin/true` from a busybox root
//! filesystem. It needs root (namespaces, mounts, cgroups) and a static `/bin/busybox`;
//! without them the example returns at once, so as a doctest it proves the lifecycle
//! only when the tests run as root (as CI does), and only that it compiles elsewhere.
//!
//! ```
//! use std::path::Path;
//! use writ::{Container, CreateOptions, Status};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let busybox = Path::new("/bin/busybox");
//! if !rustix::process::geteuid().is_root() || !busybox.is_file() {
//!     return Ok(()); // not possible here
//! }
//! // A bundle: a root filesystem and config.json.
//! let bundle = tempfile::tempdir()?;
//! let rootfs = bundle.path().join("rootfs");
//! std::fs::create_dir_all(rootfs.join("bin"))?;
//! std::fs::copy(busybox, rootfs.join("bin/busybox"))?;
//! let mut config = writ_spec::example::starter_config(false, 0, 0);
//! let process = config.process.as_mut().ok_or("no process")?;
//! process.terminal = Some(false);
//! process.args = Some(vec!["/bin/busybox".into(), "true".into()]);
//! std::fs::write(bundle.path().join("config.json"), serde_json::to_vec(&config)?)?;
//!
//! // The state root (runc's --root) and a unique id.
//! let root = tempfile::tempdir()?;
//! let id = format!("writ-doc-{}", std::process::id());
//!
//! let mut c = Container::create(root.path(), &id, &CreateOptions::new(bundle.path()))?;
//! assert_eq!(c.status(), Status::Created);
//! // The container keeps the config as create read it.
//! std::fs::write(bundle.path().join("config.json"), b"{}")?;
//! assert_eq!(c.config()?.process, config.process);
//! c.start()?;
//! assert_eq!(c.wait()?, 0); // the exit code of `true`
//! c.refresh()?;
//! assert_eq!(c.status(), Status::Stopped);
//! assert_eq!(c.state()?.id, id);
//! c.delete(false)?;
//! assert!(Container::load(root.path(), &id).is_err());
//! # Ok(())
//! # }
//! ```

pub mod catalogue;
pub mod cgroups;
mod console;
mod devices;
pub mod error;
pub(crate) mod exec;
pub mod exeseal;
mod hooks;
pub mod host;
mod init;
mod init_error;
pub mod lifecycle;
pub mod logging;
mod mempolicy;
mod mounts;
mod namespaces;
mod netdev;
pub mod plan;
mod process;
pub mod resctrl;
mod rootfs;
mod seccomp;
mod spawn;
pub mod state;
pub mod sync;
mod sys;

pub use cgroups::CgroupError;
pub use console::ConsoleError;
pub use error::{Error, Result};
pub use hooks::HookError;
pub use init_error::InitError;
pub use lifecycle::{
    parse_bytes, parse_signal, Console, Container, CreateOptions, Event, Exec, ExecOptions,
    ExecProcess, Ids, ProcessOverrides, ResourcesUpdate, State, States,
};
pub use spawn::ContainerError;
pub use state::{Status, OCI_VERSION};
pub use sys::SysError;
