//! The figures as one table (rows of figures, a column per runtime, the ratios writ/crun
//! and writ/runc) and its three renderings: human, markdown (for the README), JSON.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    Ms,
    /// Shown in MiB; samples are KiB.
    Mib,
    PerSec,
    /// Milliseconds per something (a slope).
    MsPer(&'static str),
    Ratio,
    /// Shown in MB; values are bytes.
    Bytes,
    Text,
}

impl Unit {
    fn suffix(self) -> String {
        match self {
            Unit::Ms => "ms".into(),
            Unit::Mib => "MiB".into(),
            Unit::PerSec => "per s".into(),
            Unit::MsPer(what) => format!("ms per {what}"),
            Unit::Ratio => "×".into(),
            Unit::Bytes => "MB".into(),
            Unit::Text => String::new(),
        }
    }

    fn format(self, v: f64) -> String {
        match self {
            Unit::Ms if v < 10.0 => format!("{v:.2}"),
            Unit::Ms | Unit::PerSec => format!("{v:.1}"),
            Unit::Mib => format!("{:.2}", v / 1024.0),
            Unit::MsPer(_) => format!("{v:.3}"),
            Unit::Ratio => format!("{v:.2}"),
            Unit::Bytes => format!("{:.2}", v / 1e6),
            Unit::Text => format!("{v}"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Mib => "KiB",
            Unit::PerSec => "per_s",
            Unit::MsPer(_) => "ms_per_unit",
            Unit::Ratio => "ratio",
            Unit::Bytes => "bytes",
            Unit::Text => "text",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Cell {
    Num(f64),
    Text(String),
    Missing,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub section: &'static str,
    /// Stable name for JSON (`lifecycle`, `rss/create`, `mounts/slope`, ...).
    pub key: String,
    pub label: String,
    pub unit: Unit,
    /// One per column, in [`Report::columns`] order.
    pub cells: Vec<Cell>,
    /// Whether writ/crun and writ/runc are shown (lower is better for writ).
    pub ratio: bool,
    /// Sample count per column (0 for computed rows).
    pub samples: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub version: String,
    pub path: String,
}

#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub date: String,
    pub command: String,
    pub kernel: String,
    pub cpus: usize,
    pub load_before: String,
    pub load_after: String,
    pub view: String,
    pub seconds: f64,
}

pub struct Report {
    pub meta: Meta,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// writ / `other` for a row, when both are numbers.
    pub fn ratio(&self, row: &Row, other: &str) -> Option<f64> {
        if !row.ratio {
            return None;
        }
        let (w, o) = (self.col("writ")?, self.col(other)?);
        match (&row.cells[w], &row.cells[o]) {
            (Cell::Num(a), Cell::Num(b)) if *b > 0.0 => Some(a / b),
            _ => None,
        }
    }

    fn cell_text(row: &Row, c: &Cell) -> String {
        match c {
            Cell::Num(v) => row.unit.format(*v),
            Cell::Text(t) => t.clone(),
            Cell::Missing => "-".into(),
        }
    }

    fn label(row: &Row) -> String {
        let s = row.unit.suffix();
        if s.is_empty() {
            row.label.clone()
        } else {
            format!("{} ({s})", row.label)
        }
    }

    fn ratio_text(&self, row: &Row, other: &str) -> String {
        self.ratio(row, other)
            .map(|r| format!("{r:.2}"))
            .unwrap_or_default()
    }

    fn sections(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r.section) {
                out.push(r.section);
            }
        }
        out
    }

    fn header(&self) -> String {
        let m = &self.meta;
        format!(
            "{} — {} CPUs, kernel {}, load average {} at start and {} at end, {:.0} s{}",
            m.date,
            m.cpus,
            m.kernel,
            m.load_before,
            m.load_after,
            m.seconds,
            if m.view.is_empty() {
                String::new()
            } else {
                format!("; {}", m.view)
            }
        )
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("writ-bench {}\n", self.header()));
        for c in &self.columns {
            out.push_str(&format!("  {:<5} {}  ({})\n", c.name, c.version, c.path));
        }
        let (lw, cw) = (60, 10);
        let mut head = format!("\n{:<lw$}", "");
        for c in &self.columns {
            head.push_str(&format!(" {:>cw$}", c.name));
        }
        head.push_str(&format!(" {:>cw$} {:>cw$}\n", "writ/crun", "writ/runc"));
        out.push_str(&head);
        for sec in self.sections() {
            out.push_str(&format!("{sec}\n"));
            for r in self.rows.iter().filter(|r| r.section == sec) {
                if r.unit == Unit::Text {
                    out.push_str(&format!("  {}:\n", r.label));
                    for (c, cell) in self.columns.iter().zip(&r.cells) {
                        out.push_str(&format!("    {:<5} {}\n", c.name, Self::cell_text(r, cell)));
                    }
                    continue;
                }
                let mut line = format!("  {:<w$}", Self::label(r), w = lw - 2);
                for cell in &r.cells {
                    line.push_str(&format!(" {:>cw$}", Self::cell_text(r, cell)));
                }
                line.push_str(&format!(
                    " {:>cw$} {:>cw$}",
                    self.ratio_text(r, "crun"),
                    self.ratio_text(r, "runc")
                ));
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("note: {n}\n"));
            }
        }
        out.push_str(&format!("\ncommand: {}\n", self.meta.command));
        out
    }

    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Measured {} with\n\n    {}\n\n",
            self.header(),
            self.meta.command
        );
        out.push_str("| figure |");
        for c in &self.columns {
            let v = c
                .version
                .split_whitespace()
                .find(|w| w.chars().next().is_some_and(|ch| ch.is_ascii_digit()))
                .unwrap_or("");
            out.push_str(&format!(" {} {} |", c.name, v));
        }
        out.push_str(" writ/crun | writ/runc |\n|---|");
        for _ in &self.columns {
            out.push_str("---:|");
        }
        out.push_str("---:|---:|\n");
        for sec in self.sections() {
            out.push_str(&format!("| **{sec}** |"));
            for _ in 0..self.columns.len() + 2 {
                out.push_str(" |");
            }
            out.push('\n');
            for r in self.rows.iter().filter(|r| r.section == sec) {
                out.push_str(&format!("| {} |", Self::label(r).replace('|', "\\|")));
                for cell in &r.cells {
                    out.push_str(&format!(" {} |", Self::cell_text(r, cell)));
                }
                let (a, b) = (self.ratio_text(r, "crun"), self.ratio_text(r, "runc"));
                let a = if a.is_empty() { a } else { format!("**{a}**") };
                out.push_str(&format!(" {a} | {b} |\n"));
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("- {n}\n"));
            }
        }
        out
    }

    pub fn json(&self) -> Value {
        let m = &self.meta;
        let cols: Vec<Value> = self
            .columns
            .iter()
            .map(|c| json!({"name": c.name, "version": c.version, "path": c.path}))
            .collect();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut values = serde_json::Map::new();
                let mut samples = serde_json::Map::new();
                for (i, c) in self.columns.iter().enumerate() {
                    let v = match &r.cells[i] {
                        Cell::Num(v) => json!(v),
                        Cell::Text(t) => json!(t),
                        Cell::Missing => Value::Null,
                    };
                    values.insert(c.name.clone(), v);
                    samples.insert(
                        c.name.clone(),
                        json!(r.samples.get(i).copied().unwrap_or(0)),
                    );
                }
                json!({
                    "section": r.section,
                    "key": r.key,
                    "label": r.label,
                    "unit": r.unit.name(),
                    "values": values,
                    "samples": samples,
                    "writ/crun": self.ratio(r, "crun"),
                    "writ/runc": self.ratio(r, "runc"),
                })
            })
            .collect();
        json!({
            "date": m.date,
            "command": m.command,
            "host": {"kernel": m.kernel, "cpus": m.cpus, "load_before": m.load_before,
                     "load_after": m.load_after, "view": m.view},
            "seconds": m.seconds,
            "runtimes": cols,
            "figures": rows,
            "notes": self.notes,
        })
    }
}
