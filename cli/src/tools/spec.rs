//! `writ spec`: write a starter `config.json`, like `runc spec`.

use std::io::Write;
use std::path::PathBuf;

/// Create a new specification file (config.json) for a bundle.
#[derive(Debug, clap::Args)]
pub struct SpecArgs {
    /// Write a config for a rootless container: a user namespace that maps the caller to
    /// root, no network namespace, /sys bind-mounted.
    #[arg(long)]
    pub rootless: bool,
    /// Directory of the bundle to write config.json into (default: the current directory).
    #[arg(long, short = 'b', value_name = "DIR")]
    pub bundle: Option<PathBuf>,
}

pub fn run(args: SpecArgs) -> i32 {
    let dir = args.bundle.unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        eprintln!(
            "writ spec: bundle directory {} does not exist",
            dir.display()
        );
        return 1;
    }
    let path = dir.join("config.json");
    let uid = rustix::process::geteuid().as_raw();
    let gid = rustix::process::getegid().as_raw();
    let rootless = args.rootless;
    let spec = writ_spec::example::starter_config(rootless, uid, gid);
    let mut text = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut text, fmt);
    if let Err(e) = serde::Serialize::serialize(&spec, &mut ser) {
        eprintln!("writ spec: cannot serialise the config: {e}");
        return 1;
    }
    text.push(b'\n');
    // create_new: never overwrite an existing config (runc refuses too).
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    match file {
        Ok(mut f) => match f.write_all(&text) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("writ spec: writing {}: {e}", path.display());
                1
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!("writ spec: {} exists. Remove it first", path.display());
            1
        }
        Err(e) => {
            eprintln!("writ spec: creating {}: {e}", path.display());
            1
        }
    }
}
