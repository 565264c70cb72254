//! `writ ps [--format table|json] ID [PS_ARGS...]`: the processes of a container
//! ([`writ::Container::pids`]). As in runc, json is an array of host pids (which
//! containerd's shim reads) and table is the host's `ps` output (default `ps -ef`),
//! filtered to the container's processes.

use writ::{Container, Error};

use crate::output::PsError;

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct PsArgs {
    /// Output format: table or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// The container id.
    pub id: String,
    /// Options for ps(1) in table format, such as `aux` (default -ef).
    #[arg(
        value_name = "PS_OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub ps_args: Vec<String>,
}

pub fn run(global: &GlobalOpts, args: PsArgs) -> i32 {
    super::finish("ps", ps(global, &args).map(|()| 0))
}

fn ps(global: &GlobalOpts, args: &PsArgs) -> Result<(), PsError> {
    let pids = Container::load(&global.root(), &args.id)?.pids()?;
    let out = if args.format == "json" {
        let mut s = serde_json::to_string(&pids).unwrap_or_else(|_| "[]".into());
        s.push('\n');
        s
    } else {
        let ps_args: Vec<String> = if args.ps_args.is_empty() {
            vec!["-ef".into()]
        } else {
            args.ps_args.clone()
        };
        let output = std::process::Command::new("ps")
            .args(&ps_args)
            .output()
            .map_err(Error::io("running ps"))?;
        if !output.status.success() {
            return Err(PsError::Failed {
                args: ps_args.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        crate::output::filter_ps(&String::from_utf8_lossy(&output.stdout), &pids)?
    };
    Ok(crate::output::print(&out, "the process list")?)
}
