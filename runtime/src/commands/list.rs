//! `writ list [--format table|json] [-q]`: the containers under `--root`.

use std::io::Write;

use super::state::Shown;
use super::GlobalOpts;
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Output format: table or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Print only the container ids.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(global: &GlobalOpts, args: ListArgs) -> i32 {
    super::finish("list", list(global, &args).map(|()| 0))
}

fn list(global: &GlobalOpts, args: &ListArgs) -> Result<()> {
    let store = global.store();
    let mut shown = Vec::new();
    for id in store.ids()? {
        // A container deleted meanwhile, or a directory that is not a container, is skipped.
        if let Ok((st, status)) = store.read(&id) {
            if st.id == id {
                shown.push(Shown::new(st, status));
            }
        }
    }
    let out = if args.quiet {
        shown.iter().map(|s| format!("{}\n", s.id)).collect()
    } else if args.format == "json" {
        let mut s = serde_json::to_string(&shown).unwrap_or_default();
        s.push('\n');
        s
    } else {
        table(&shown)
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(Error::io("writing the list"))
}

/// runc's table: ID PID STATUS BUNDLE CREATED OWNER, columns padded by 3 spaces.
fn table(shown: &[Shown]) -> String {
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
    for s in shown {
        rows.push([
            s.id.clone(),
            s.pid.unwrap_or(0).to_string(),
            s.status.to_string(),
            s.bundle.display().to_string(),
            s.created.clone(),
            s.owner.clone(),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + 3).max(12);
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{ContainerState, Status};

    #[test]
    fn table_aligns_columns() {
        let st = ContainerState::new("a-rather-long-id", std::path::Path::new("/b"));
        let t = table(&[Shown::new(st, Status::Stopped)]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("ID                 PID"));
        assert!(lines[1].starts_with("a-rather-long-id   0"));
        assert_eq!(lines[0].find("STATUS"), lines[1].find("stopped"));
    }
}
