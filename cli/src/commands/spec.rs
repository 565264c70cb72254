//! `writ spec`: write a starter `config.json`, like `runc spec`.

use std::io::Write;
use std::path::PathBuf;

/// Create a new specification file (config.json) for a bundle.
#[derive(Debug, clap::Args)]
pub struct SpecArgs {
    /// Generate a config for a rootless container (user namespace mapping the caller to root).
    ///
    /// Typed like the global runc-compatible `--rootless[=VALUE]` (same id, so clap keeps
    /// this one for `spec`): `--rootless` alone or with any value but `false` selects it.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub rootless: Option<String>,
    /// Directory of the bundle to write config.json into (default: the current directory).
    #[arg(long, short = 'b')]
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
    let rootless = args.rootless.as_deref().is_some_and(|v| v != "false");
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
