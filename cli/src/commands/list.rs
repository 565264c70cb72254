//! `writ list [--format table|json] [-q]`: the containers under `--root`
//! ([`writ::Container::states`]), in runc's table or as JSON, written to stdout as they
//! are read (the table once its column widths are known).

use std::io::{BufWriter, Write};

use writ::{Container, Error, Result};

use super::GlobalOpts;

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
    let states = Container::states(&global.root())?;
    // Only the JSON shows the annotations (read from each frozen config).
    let states = match args.format == "json" && !args.quiet {
        true => states.with_annotations(),
        false => states,
    };
    let mut out = BufWriter::with_capacity(16 * 1024, std::io::stdout().lock());
    let written = if args.quiet {
        states.ids().try_for_each(|id| writeln!(out, "{id}"))
    } else if args.format == "json" {
        write_json(&mut out, states)
    } else {
        crate::output::write_list_table(&mut out, states)
    };
    written
        .and_then(|()| out.flush())
        .map_err(Error::io("writing the list"))
}

/// The states as one JSON array (what serialising them all at once gives), one element
/// at a time.
fn write_json(out: &mut impl Write, states: writ::States) -> std::io::Result<()> {
    out.write_all(b"[")?;
    for (i, s) in states.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &s)?;
    }
    out.write_all(b"]\n")
}
