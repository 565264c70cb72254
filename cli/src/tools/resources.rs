//! `writ resources [--format table|json|markdown]`: the resource catalogue
//! ([`writ::catalogue`]): every field of linux.resources (with unified), linux.intelRdt
//! and linux.memoryPolicy, its cgroup v1 and v2 file, and whether `update` changes it
//! live or it needs a new container, and why.

use writ::catalogue::{self, Field};

#[derive(Debug, Clone, clap::Args)]
pub struct ResourcesArgs {
    /// Output format: table (field, files, update), json (everything) or markdown.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json", "markdown"])]
    pub format: String,
}

pub fn run(args: ResourcesArgs) -> i32 {
    let result = catalogue::fields()
        .map_err(|e| e.to_string())
        .and_then(|f| {
            let text = render(&f, &args.format);
            crate::output::print(&text, "the catalogue").map_err(|e| e.to_string())
        });
    crate::commands::finish("resources", result.map(|()| 0))
}

fn render(fields: &[Field], format: &str) -> String {
    let cell = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    let row = |f: &Field| {
        vec![
            f.pointer.clone(),
            cell(&f.v1),
            cell(&f.v2),
            f.update.to_string(),
        ]
    };
    match format {
        "json" => serde_json::to_string_pretty(fields).unwrap_or_default() + "\n",
        "markdown" => {
            let mut out = String::from(
                "| field | cgroup v1 | cgroup v2 | v2 conversion | update | why | requirements |\n\
                 | --- | --- | --- | --- | --- | --- | --- |\n",
            );
            for f in fields {
                let ids: Vec<String> = f.ids.iter().map(|i| format!("`{i}`")).collect();
                let esc = |s: &str| cell(s).replace('|', "\\|");
                out += &format!(
                    "| `{}` | {} | {} | {} | {} | {} | {} |\n",
                    f.pointer,
                    esc(&f.v1),
                    esc(&f.v2),
                    esc(&f.conversion),
                    f.update,
                    esc(&f.why),
                    ids.join(" ")
                );
            }
            out
        }
        _ => {
            let mut rows = vec![["FIELD", "CGROUP V1", "CGROUP V2", "UPDATE"]
                .map(String::from)
                .to_vec()];
            rows.extend(fields.iter().map(row));
            crate::output::columns(&rows, 8)
        }
    }
}
