//! The recorded outcomes of the `#[verifies]` tests (`writ_macros::results`), matched to the
//! tests of the coverage table.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use writ_macros::results::{self as rec, Outcome, Record};

use crate::trace::Use;

/// Where a tagged test stands in the recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestState {
    /// Ran and passed (at this time, seconds since the epoch).
    Passed { time: u64 },
    /// Ran and failed.
    Failed { time: u64, detail: String },
    /// No usable record: never ran, skipped, or recorded before its file last changed.
    NotRun { why: String },
}

impl TestState {
    pub fn as_str(&self) -> &'static str {
        match self {
            TestState::Passed { .. } => "passed",
            TestState::Failed { .. } => "failed",
            TestState::NotRun { .. } => "not run",
        }
    }

    /// What to show beside the state (a failure's message, why it counts as not run).
    pub fn detail(&self) -> &str {
        match self {
            TestState::Passed { .. } => "",
            TestState::Failed { detail, .. } => detail,
            TestState::NotRun { why } => why,
        }
    }
}

/// The outcomes a coverage table is computed from.
#[derive(Debug, Clone)]
pub enum Results {
    /// No run consulted: every tagged test counts as passed. What the README summary, the
    /// ratchet and `writ features` use; CI (`writ coverage --check` after the tests) fails
    /// unless the recorded run agrees.
    Assumed,
    /// The records of a results directory.
    Recorded(Recorded),
}

/// The records of one results directory.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub dir: PathBuf,
    pub records: Vec<Record>,
    /// Files that could not be read as records.
    pub problems: Vec<String>,
    /// The workspace whose source files decide whether a record is stale (`None`: never).
    pub sources: Option<PathBuf>,
}

impl Results {
    /// Reads the records in `dir`; a record older than its test's source file (under
    /// `sources`) counts as not run.
    pub fn read(dir: &Path, sources: Option<&Path>) -> Results {
        let (records, problems) = rec::read_dir(dir);
        Results::Recorded(Recorded {
            dir: dir.to_path_buf(),
            records,
            problems,
            sources: sources.map(Path::to_path_buf),
        })
    }

    /// The state of one tagged test.
    pub fn state_of(&self, u: &Use) -> TestState {
        let r = match self {
            Results::Assumed => return TestState::Passed { time: 0 },
            Results::Recorded(r) => r,
        };
        let name = u.item.rsplit("::").next().unwrap_or(u.item);
        let Some(found) = r
            .records
            .iter()
            .find(|x| x.file == u.file && x.line == u.line && x.name() == name)
        else {
            return TestState::NotRun {
                why: "no record in the last run".to_owned(),
            };
        };
        if let Some(root) = &r.sources {
            let changed = std::fs::metadata(root.join(u.file))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            if changed.is_some_and(|c| c > found.time) {
                return TestState::NotRun {
                    why: format!(
                        "stale: recorded {}, {} changed since",
                        when(found.time),
                        u.file
                    ),
                };
            }
        }
        match &found.outcome {
            Outcome::Pass => TestState::Passed { time: found.time },
            Outcome::Fail(d) => TestState::Failed {
                time: found.time,
                detail: d.clone(),
            },
            Outcome::Skip(why) => TestState::NotRun {
                why: format!("skipped: {why}"),
            },
        }
    }

    /// A line saying where the outcomes come from and how old they are.
    pub fn describe(&self) -> String {
        match self {
            Results::Assumed => "test outcomes: not consulted (every tagged test counts as \
                                 passed; CI checks that against its recorded run)"
                .to_owned(),
            Results::Recorded(r) => {
                let times = r.records.iter().map(|x| x.time);
                match (times.clone().min(), times.max()) {
                    (Some(old), Some(new)) => format!(
                        "test outcomes: {} records in {}, {}{}",
                        r.records.len(),
                        r.dir.display(),
                        if old == new {
                            format!("recorded {}", age(new))
                        } else {
                            format!("the newest {}, the oldest {}", age(new), age(old))
                        },
                        if r.problems.is_empty() {
                            String::new()
                        } else {
                            format!(" ({} unreadable)", r.problems.len())
                        }
                    ),
                    _ => format!(
                        "test outcomes: no records in {} (run `cargo test --workspace` first: \
                         every tagged test counts as not run)",
                        r.dir.display()
                    ),
                }
            }
        }
    }

    /// `(oldest, newest)` record time.
    pub fn span(&self) -> Option<(u64, u64)> {
        match self {
            Results::Assumed => None,
            Results::Recorded(r) => {
                let times = r.records.iter().map(|x| x.time);
                Some((times.clone().min()?, times.max()?))
            }
        }
    }
}

/// The results directory `writ coverage` reads by default: `$WRIT_VERIFIES_DIR`, else the
/// one in the target directory this binary was built in, else the workspace's `target/`.
pub fn default_dir(workspace: &Path) -> PathBuf {
    if let Some(d) = std::env::var_os(rec::DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    // target/<profile>/writ
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let target = exe.parent()?.parent()?;
        let dir = rec::dir_in_target(target);
        dir.is_dir().then_some(dir)
    });
    from_exe.unwrap_or_else(|| rec::dir_in_target(&workspace.join("target")))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2026-12-01 22:10 UTC`.
pub fn when(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rest / 3600,
        (rest % 3600) / 60
    )
}

/// `3 min ago (2026-12-01 22:10 UTC)`.
pub fn age(secs: u64) -> String {
    let d = now().saturating_sub(secs);
    let ago = match d {
        0..=59 => format!("{d} s ago"),
        60..=3599 => format!("{} min ago", d / 60),
        3600..=172_799 => format!("{} h ago", d / 3600),
        _ => format!("{} days ago", d / 86_400),
    };
    format!("{ago} ({})", when(secs))
}

#[cfg(test)]
mod tests {
    use super::when;

    #[test]
    fn civil_dates() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
        assert_eq!(when(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(when(1_764_620_000), "2025-12-01 20:13 UTC");
    }
}
