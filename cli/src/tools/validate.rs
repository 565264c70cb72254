//! `writ validate`: check a config with the rule set `writ create` enforces
//! ([`writ_spec::validate_config_value`]) and print what it finds.
//!
//! Text (the default): one diagnostic per finding, `config.json:12:5:
//! error[config.mounts.destination.required]: /mounts/0/destination: ...`, the source line
//! with a caret under the spot, a `help:` (the member an unknown one is probably a
//! misspelling of) and a `note:` (why a value outside the spec is only a warning), then one
//! summary line (`config.json: ok`, `config.json: 2 errors, 1 warning`). `--format json`:
//! one JSON document instead ([`writ_spec::Report::to_json`]). Exit 0: no error (warnings
//! may remain). Exit 1: errors (a document that is not JSON included). Exit 2: the file
//! cannot be read.

use std::io::{Read, Write};
use std::path::PathBuf;

/// Output format of `writ validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with the source line and a caret, then a summary line.
    Text,
    /// One JSON document: file, ok, counts and every diagnostic.
    Json,
}

/// Check a config.json against the spec: every error and warning, with its requirement id.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The config file to check; `-` reads standard input (default: ./config.json, or the
    /// bundle's with --bundle).
    #[arg(value_name = "FILE", conflicts_with_all = ["bundle", "config"])]
    pub file: Option<PathBuf>,
    /// Bundle directory whose config.json to check.
    #[arg(long, short = 'b', value_name = "DIR", conflicts_with = "config")]
    pub bundle: Option<PathBuf>,
    /// Config file to check (the same as FILE).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Where the document comes from.
enum Input {
    Stdin,
    File(PathBuf),
}

fn input(args: &ValidateArgs) -> Input {
    match (&args.file, &args.config, &args.bundle) {
        (Some(f), _, _) | (None, Some(f), _) if f.as_os_str() == "-" => Input::Stdin,
        (Some(f), _, _) | (None, Some(f), _) => Input::File(f.clone()),
        (None, None, Some(b)) => Input::File(b.join("config.json")),
        (None, None, None) => Input::File(PathBuf::from("config.json")),
    }
}

pub fn run(args: ValidateArgs) -> i32 {
    let (name, read) = match input(&args) {
        Input::Stdin => {
            let mut buf = Vec::new();
            let read = std::io::stdin().read_to_end(&mut buf).map(|_| buf);
            ("<stdin>".to_owned(), read)
        }
        Input::File(path) => (path.display().to_string(), std::fs::read(&path)),
    };
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            eprintln!("writ validate: cannot read {name}: {e}");
            return 2;
        }
    };
    let report = match writ_spec::parse_json(&bytes) {
        Ok(value) => writ_spec::Report::new(
            name.as_str(),
            &bytes,
            &writ_spec::validate_config_value(&value),
        ),
        Err(e) => writ_spec::Report::of_parse_error(name.as_str(), &bytes, &e),
    };
    let text = match args.format {
        Format::Text => format!("{report}\n"),
        Format::Json => format!("{:#}\n", report.to_json()),
    };
    // A closed stdout (`| head`) is not an error of the config.
    let _ = std::io::stdout().write_all(text.as_bytes());
    i32::from(!report.is_ok())
}
