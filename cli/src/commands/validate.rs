//! `writ validate`: check a config against the schema and the spec's rules.
//!
//! Exit 0: valid. Exit 1: one line per violation on stdout, JSON pointer first
//! (`/linux/devices/0/fileMode: ...`), with the requirement id it breaks in brackets (every
//! violation, schema or prose rule, names one). Exit 2: unreadable file or invalid JSON (with
//! line and column).

use std::path::PathBuf;

/// Validate a bundle's config.json (or any config file).
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Bundle directory whose config.json to check (default: the current directory).
    #[arg(long, short = 'b', conflicts_with = "config")]
    pub bundle: Option<PathBuf>,
    /// Config file to check.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
}

pub fn run(args: ValidateArgs) -> i32 {
    let path = match (args.config, args.bundle) {
        (Some(c), _) => c,
        (None, Some(b)) => b.join("config.json"),
        (None, None) => PathBuf::from("config.json"),
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("writ validate: cannot read {}: {e}", path.display());
            return 2;
        }
    };
    let value = match writ_spec::parse_json(&bytes) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("writ validate: {}: {e}", path.display());
            return 2;
        }
    };
    let violations = writ_spec::validate_config_value(&value);
    if violations.is_empty() {
        return 0;
    }
    for v in &violations {
        let at = writ_spec::locate::locate(&bytes, &v.pointer);
        let (line, column) = writ_spec::locate::line_column(&bytes, at);
        println!(
            "{}: {} [{}] (line {line}, column {column})",
            v.display_pointer(),
            v.message,
            v.requirement
        );
    }
    eprintln!(
        "writ validate: {}: {} violation(s)",
        path.display(),
        violations.len()
    );
    1
}
