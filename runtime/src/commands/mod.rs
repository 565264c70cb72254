//! The `writ` subcommands. Each module defines its clap `Args` and a `run` that returns
//! the process exit code (diagnostics go to stderr / the log).
//!
//! Lifecycle commands take the global options too: `run(global: &GlobalOpts, args) -> i32`.
//! Other commands: `run(args) -> i32`.

pub mod coverage;
pub mod create;
pub mod delete;
pub mod demo;
pub mod features;
pub mod kill;
pub mod list;
pub mod run;
pub mod spec;
pub mod start;
pub mod state;
pub mod validate;

/// Options that runc accepts before the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalOpts {
    /// Directory for container state.
    #[arg(long, global = true, default_value = "/run/writ")]
    pub root: std::path::PathBuf,
    /// Write logs to this file instead of stderr.
    #[arg(long, global = true)]
    pub log: Option<std::path::PathBuf>,
    /// Log format: text or json.
    #[arg(long, global = true, default_value = "text")]
    pub log_format: String,
    /// Enable debug logging.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Use systemd for cgroups (accepted for compatibility).
    #[arg(long, global = true)]
    pub systemd_cgroup: bool,
}
