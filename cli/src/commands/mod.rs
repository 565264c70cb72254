//! The `writ` subcommands. Each module defines its clap `Args` and a `run` that returns
//! the process exit code (diagnostics go to stderr / the log). The container operations
//! (`run(global: &GlobalOpts, args) -> i32`) map their arguments onto one call of
//! [`writ::Container`]; the others (`run(args) -> i32`) are the command line's own.

pub mod coverage;
pub mod create;
pub mod delete;
pub mod demo;
pub mod exec;
pub mod features;
pub mod kill;
pub mod list;
pub mod ps;
pub mod run;
pub mod spec;
pub mod start;
pub mod state;
pub mod validate;

use std::path::PathBuf;

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
    /// runc's log level (debug, info, warn, error); "debug" is the same as --debug.
    #[arg(long, global = true, hide = true)]
    pub log_level: Option<String>,
    /// Accepted for runc compatibility (`--rootless[=true|false|auto]`); ignored.
    #[arg(long, global = true, hide = true, num_args = 0..=1, default_missing_value = "true")]
    pub rootless: Option<String>,
}

impl GlobalOpts {
    /// The state root `--root`, made absolute (the container side uses the state
    /// directory's path from other working directories).
    pub fn root(&self) -> PathBuf {
        if self.root.is_relative() {
            if let Ok(cwd) = std::env::current_dir() {
                return cwd.join(&self.root);
            }
        }
        self.root.clone()
    }
}

/// Turns a command's result into its exit code, reporting an error: to the log (in its
/// format) and, when the log is a file, also as plain text on stderr, where engines that
/// do not read the log (and people) see it.
pub fn finish<E: std::fmt::Display>(cmd: &str, result: Result<i32, E>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            report(cmd, &e);
            1
        }
    }
}

/// Reports an error of `cmd`.
pub fn report(cmd: &str, e: &dyn std::fmt::Display) {
    let msg = format!("{cmd}: {e}");
    writ::logging::error(&msg);
    if writ::logging::has_log_file() {
        eprintln!("writ {msg}");
    }
}
