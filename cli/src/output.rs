//! What the container commands print: runc's `list` table, the container lines of
//! `ps` output, and writing it all to stdout.

use std::io::Write;

use writ::{Error, Result, State};

/// Why `ps` could not list the container's processes.
#[derive(Debug, thiserror::Error)]
pub enum PsError {
    /// Loading the container or its cgroup.
    #[error(transparent)]
    Writ(#[from] Error),
    /// ps(1) failed.
    #[error("ps {args}: {stderr}")]
    Failed {
        /// Its arguments.
        args: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// ps(1)'s output has no PID column to filter on.
    #[error("ps output has no PID column")]
    NoPidColumn,
}

/// Writes `text` to stdout; `what` names it in an error.
pub fn print(text: &str, what: &'static str) -> Result<()> {
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(Error::io(format!("writing {what}")))
}

/// runc's table of `states`: ID PID STATUS BUNDLE CREATED OWNER, columns padded by 3
/// spaces, written to `out`.
pub fn write_list_table(
    out: &mut impl Write,
    states: impl Iterator<Item = State>,
) -> std::io::Result<()> {
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
    rows.extend(states.map(|s| {
        [
            s.id,
            s.pid.unwrap_or(0).to_string(),
            s.status.to_string(),
            s.bundle.display().to_string(),
            s.created,
            s.owner,
        ]
    }));
    write_columns(out, &rows, 12)
}

/// Rows as columns padded by 3 spaces, each at least `min` wide (the last not padded).
pub fn columns<R: AsRef<[String]>>(rows: &[R], min: usize) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_columns(&mut out, rows, min);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`columns`], written to `out`.
pub fn write_columns<R: AsRef<[String]>>(
    out: &mut impl Write,
    rows: &[R],
    min: usize,
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            if widths.len() <= i {
                widths.push(0);
            }
            widths[i] = widths[i].max(cell.chars().count() + 3).max(min);
        }
    }
    let mut line = String::new();
    for row in rows {
        let row = row.as_ref();
        line.clear();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                let pad = widths[i].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.write_all(line.trim_end().as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Keeps the header and the lines of ps(1) output whose PID column is one of `pids`.
pub fn filter_ps(text: &str, pids: &[i32]) -> Result<String, PsError> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or(PsError::NoPidColumn)?;
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
    use writ::state::{ContainerState, Status};

    #[test]
    fn table_aligns_columns() {
        let st = ContainerState::new("a-rather-long-id", std::path::Path::new("/b"));
        let mut t = Vec::new();
        write_list_table(&mut t, [State::new(st, Status::Stopped)].into_iter()).unwrap();
        let t = String::from_utf8(t).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("ID                 PID"));
        assert!(lines[1].starts_with("a-rather-long-id   0"));
        assert_eq!(lines[0].find("STATUS"), lines[1].find("stopped"));
    }

    #[test]
    fn table_keeps_header_and_container_lines() {
        let text = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 00:00 ? 00:00:01 init\nroot 42 1 0 00:01 ? 00:00:00 sleep 100\nroot 421 1 0 00:01 ? 00:00:00 other\n";
        let out = filter_ps(text, &[42]).unwrap();
        assert_eq!(
            out,
            "UID PID PPID C STIME TTY TIME CMD\nroot 42 1 0 00:01 ? 00:00:00 sleep 100\n"
        );
        assert!(filter_ps("A B\n1 2\n", &[1]).is_err());
    }
}
