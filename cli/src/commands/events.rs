//! `writ events [--stats] [--interval DUR] ID` (runc's): [`writ::Container::stats`] once
//! with `--stats`, else [`writ::Container::events`]: one JSON line per event, a "stats"
//! event every interval (default 5s) and an "oom" event at each OOM kill, until the
//! container stops.

use std::io::Write as _;
use std::time::Duration;

use writ::Container;

use super::GlobalOpts;

#[derive(Debug, Clone, clap::Args)]
pub struct EventsArgs {
    /// Print the resource usage once and exit.
    #[arg(long)]
    pub stats: bool,
    /// Time between stats events: a number with a unit (ms, s, m, h), as runc's 5s.
    #[arg(long, default_value = "5s", value_parser = parse_interval)]
    pub interval: Duration,
    /// The container id.
    pub id: String,
}

/// A Go-style duration of one unit ("5s", "500ms", "1m", "2h").
fn parse_interval(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?}: expected e.g. 5s, 500ms, 1m"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("{s:?}: unknown unit (ms, s, m, h)")),
    };
    if d.is_zero() {
        return Err("the interval must be positive".into());
    }
    Ok(d)
}

pub fn run(global: &GlobalOpts, args: EventsArgs) -> i32 {
    let print = |e: &writ::Event| {
        let mut line = serde_json::to_string(e).unwrap_or_default();
        line.push('\n');
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes()).and_then(|()| out.flush())
    };
    let result = Container::load(&global.root(), &args.id).and_then(|mut c| {
        if args.stats {
            c.stats()
                .and_then(|e| print(&e).map_err(writ::Error::io("writing the stats")))
        } else {
            c.events(args.interval, print)
        }
    });
    super::finish("events", result.map(|()| 0))
}
