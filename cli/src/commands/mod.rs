//! The container operations (runc's commands): each module's clap `Args` and `run` map
//! the arguments onto [`writ::Container`] and return the exit code (cli/tests/
//! command_files.rs keeps them so); the other commands are in `crate::tools`.

pub mod create;
pub mod delete;
pub mod events;
pub mod kill;
pub mod list;
pub mod pause;
pub mod ps;
pub mod run;
pub mod start;
pub mod state;
pub mod update;

use std::path::PathBuf;

/// Options that runc accepts before the subcommand (and only there, as runc: a command's
/// help lists its own options).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options (before the command)")]
pub struct GlobalOpts {
    /// Directory for container state.
    #[arg(long, value_name = "DIR", default_value = "/run/writ")]
    pub root: std::path::PathBuf,
    /// Write logs to this file instead of stderr.
    #[arg(long, value_name = "FILE")]
    pub log: Option<std::path::PathBuf>,
    /// Log format: text (logrus style, as runc) or json (one object per line).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub log_format: String,
    /// Log debug messages too.
    #[arg(long)]
    pub debug: bool,
    /// Read cgroupsPath as systemd's slice:prefix:name (writ makes the cgroup itself).
    #[arg(long)]
    pub systemd_cgroup: bool,
    /// Log level (debug, info, warn, error); debug is the same as --debug.
    #[arg(long, value_name = "LEVEL", hide = true)]
    pub log_level: Option<String>,
    /// Rootless mode: true, false or auto. writ manages containers as root only.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub rootless: Option<String>,
    /// Path to the criu binary, for checkpoint and restore (which writ does not have yet).
    #[arg(long, value_name = "PATH")]
    pub criu: Option<std::path::PathBuf>,
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
    result.unwrap_or_else(|e| {
        report(cmd, &e);
        1
    })
}

/// Reports an error of `cmd`.
pub fn report(cmd: &str, e: &dyn std::fmt::Display) {
    let msg = format!("{cmd}: {e}");
    writ::logging::error(&msg);
    if writ::logging::has_log_file() {
        eprintln!("writ {msg}");
    }
}
