//! writ: the runtime library. The `writ` binary (package writ-cli, cli/) is a thin CLI over it.
//!
//! Modules are named after the runtime-spec's sections; each handler carries the
//! requirement ids it fulfils (`#[requirement(...)]`).

pub mod cgroups;
pub mod commands;
pub mod console;
pub mod container;
pub mod devices;
pub mod error;
pub mod exeseal;
pub mod hooks;
pub mod init;
pub mod logging;
pub mod mempolicy;
pub mod mounts;
pub mod namespaces;
pub mod netdev;
pub mod plan;
pub mod process;
pub mod resctrl;
pub mod rootfs;
pub mod seccomp;
pub mod state;
pub mod sync;
pub mod sys;
