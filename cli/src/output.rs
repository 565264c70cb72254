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
    let mut table = Table::new(12);
    table.row(&[&"ID", &"PID", &"STATUS", &"BUNDLE", &"CREATED", &"OWNER"]);
    for s in states {
        let pid = s.pid.unwrap_or(0);
        table.row(&[
            &s.id,
            &pid,
            &s.status,
            &s.bundle.display(),
            &s.created,
            &s.owner,
        ]);
    }
    table.write(out)
}

/// Rows as columns padded by 3 spaces, each at least `min` wide (the last not padded).
pub fn columns<R: AsRef<[String]>>(rows: &[R], min: usize) -> String {
    let mut table = Table::new(min);
    for row in rows {
        let cells: Vec<&dyn std::fmt::Display> = row.as_ref().iter().map(|c| c as _).collect();
        table.row(&cells);
    }
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = table.write(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Rows of cells kept until the column widths are known ([`columns`]): the cells' text one
/// after another in one string, so that a row costs little more than its text.
pub struct Table {
    /// Every cell's text.
    text: String,
    /// Where each cell ends in `text`.
    cells: Vec<usize>,
    /// Where each row ends in `cells`.
    rows: Vec<usize>,
    /// Each column's width so far: its longest cell plus 3, at least `min`.
    widths: Vec<usize>,
    min: usize,
}

impl Table {
    /// An empty table whose columns are at least `min` wide.
    pub fn new(min: usize) -> Table {
        Table {
            text: String::new(),
            cells: Vec::new(),
            rows: Vec::new(),
            widths: Vec::new(),
            min,
        }
    }

    /// Adds a row of `cells`.
    pub fn row(&mut self, cells: &[&dyn std::fmt::Display]) {
        use std::fmt::Write as _;
        for (i, cell) in cells.iter().enumerate() {
            let start = self.text.len();
            // Writing to a String cannot fail.
            let _ = write!(self.text, "{cell}");
            let width = (self.text[start..].chars().count() + 3).max(self.min);
            match self.widths.get_mut(i) {
                Some(w) => *w = (*w).max(width),
                None => self.widths.push(width),
            }
            self.cells.push(self.text.len());
        }
        self.rows.push(self.cells.len());
    }

    /// Writes the rows, each cell padded to its column's width (the last not padded).
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut line = String::new();
        let (mut cell, mut start) = (0, 0);
        for &row_end in &self.rows {
            line.clear();
            for (i, &end) in self.cells[cell..row_end].iter().enumerate() {
                let text = &self.text[start..end];
                line.push_str(text);
                if cell + i + 1 < row_end {
                    let pad = self.widths[i].saturating_sub(text.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                start = end;
            }
            cell = row_end;
            out.write_all(line.trim_end().as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
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
