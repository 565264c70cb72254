//! `writ list [--format table|json] [-q]`: the containers under `--root`
//! ([`writ::Container::list`]), in runc's table or as JSON.

use writ::{Container, Result, State};

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
    let containers = Container::list(&global.root())?;
    // Only the JSON shows the annotations (read from each frozen config); a container
    // deleted meanwhile is skipped, as `Container::list` skips it.
    let shown: Vec<State> = if args.format == "json" && !args.quiet {
        containers.iter().filter_map(|c| c.state().ok()).collect()
    } else {
        containers
            .iter()
            .map(Container::state_without_annotations)
            .collect()
    };
    let out = if args.quiet {
        shown.iter().map(|s| format!("{}\n", s.id)).collect()
    } else if args.format == "json" {
        let mut s = serde_json::to_string(&shown).unwrap_or_default();
        s.push('\n');
        s
    } else {
        crate::output::list_table(&shown)
    };
    crate::output::print(&out, "the list")
}
