//! `writ ps [--format table|json] ID [PS_ARGS...]`: the processes of a container (as
//! runc: json is an array of host pids, which containerd's shim reads; table is the host
//! `ps` output, default `ps -ef`, filtered to the container's processes).

use std::io::Write;

use super::GlobalOpts;
use crate::error::{Error, Result};
use crate::state::Status;

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

/// Host pids of the container's processes: its cgroup's, or else its init's.
fn pids(global: &GlobalOpts, id: &str) -> Result<Vec<i32>> {
    let (state, status) = global.store().read(id)?;
    if let Some(cg) = super::kill::cgroup_of(&state) {
        let mut pids = cg
            .pids()
            .map_err(|e| Error::Runtime(format!("listing the processes of {id:?}: {e}")))?;
        pids.sort_unstable();
        pids.dedup();
        return Ok(pids);
    }
    Ok(match (status, state.pid) {
        (Status::Created | Status::Running, Some(pid)) => vec![pid],
        _ => Vec::new(),
    })
}

fn ps(global: &GlobalOpts, args: &PsArgs) -> Result<()> {
    let pids = pids(global, &args.id)?;
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
            return Err(Error::Runtime(format!(
                "ps {}: {}",
                ps_args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        filter_table(&String::from_utf8_lossy(&output.stdout), &pids)?
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(Error::io("writing the process list"))
}

/// Keeps the header and the lines of ps(1) output whose PID column is one of `pids`.
fn filter_table(text: &str, pids: &[i32]) -> Result<String> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| Error::Runtime("ps output has no PID column".into()))?;
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keeps_header_and_container_lines() {
        let text = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 00:00 ? 00:00:01 init\nroot 42 1 0 00:01 ? 00:00:00 sleep 100\nroot 421 1 0 00:01 ? 00:00:00 other\n";
        let out = filter_table(text, &[42]).unwrap();
        assert_eq!(
            out,
            "UID PID PPID C STIME TTY TIME CMD\nroot 42 1 0 00:01 ? 00:00:00 sleep 100\n"
        );
        assert!(filter_table("A B\n1 2\n", &[1]).is_err());
    }
}
