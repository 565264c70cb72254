//! The outcomes of `#[verifies]` tests: written by the test run, read by `writ coverage`.
//!
//! Each tagged test that runs writes one record, `<dir>/<file>-<line>-<name>.txt`, replaced
//! on every run (so a directory holds the last recorded outcome of every test that ever
//! ran; `writ coverage` ignores records of tests that no longer exist). The directory is
//! `$WRIT_VERIFIES_DIR` when set, else `writ-verifies/` in the cargo target directory the
//! test binary was built in (`<target>/<profile>/deps/<test binary>`).
//!
//! A record is plain text, one `key<TAB>value` per line (`->` stands for the tab here):
//!
//! ```text
//! writ-verifies -> 1
//! item -> lifecycle::kill_signal_forms
//! file -> conformance/tests/lifecycle.rs
//! line -> 134
//! ids -> runtime.kill.signal runtime.kill.not_live.error
//! outcome -> pass
//! time -> 1764620000
//! detail
//! ```
//!
//! `outcome` is `pass`, `fail` (the test panicked or returned an `Err`) or `skip` (the
//! harness said the subject did not run, e.g. an engine that drives it is not installed).
//! A scenario harness that runs one test against several runtimes reports the outcome of
//! the runtime under test with [`record_subject`]; when only an oracle failed it calls
//! [`excuse_panic`] before panicking, and the record says `pass` (with the oracle failure
//! as detail): what counts for the requirement is the outcome of the runtime under test.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that overrides the results directory.
pub const DIR_ENV: &str = "WRIT_VERIFIES_DIR";

/// Name of the results directory inside a cargo target directory.
pub const DIR_NAME: &str = "writ-verifies";

const MAGIC: &str = "writ-verifies\t1";

/// How a tagged test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Failed, with what the test or harness said.
    Fail(String),
    /// Did not run its subject, with the reason.
    Skip(String),
}

impl Outcome {
    /// The outcome's word in the results file: `pass`, `fail` or `skip`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "fail",
            Outcome::Skip(_) => "skip",
        }
    }

    /// What the test or harness said (empty for a pass).
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Pass => "",
            Outcome::Fail(d) | Outcome::Skip(d) => d,
        }
    }

    fn from_parts(kind: &str, detail: String) -> Option<Outcome> {
        match kind {
            "pass" => Some(Outcome::Pass),
            "fail" => Some(Outcome::Fail(detail)),
            "skip" => Some(Outcome::Skip(detail)),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The recorded outcome of one tagged test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Module path and name of the test, e.g. `lifecycle::kill_signal_forms`.
    pub item: String,
    /// Source file, as the compiler was given it (workspace-relative for cargo workspaces).
    pub file: String,
    /// Line of the test's name.
    pub line: u32,
    /// The requirement ids the test verifies.
    pub ids: Vec<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// When the test ended, in seconds since the Unix epoch.
    pub time: u64,
}

impl Record {
    /// The test's name (last segment of the item path).
    pub fn name(&self) -> &str {
        self.item.rsplit("::").next().unwrap_or(&self.item)
    }

    /// The file name of this record inside the results directory.
    pub fn file_name(&self) -> String {
        let file: String = self
            .file
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{file}-{}-{}.txt", self.line, self.name())
    }

    /// The record's text.
    pub fn render(&self) -> String {
        format!(
            "{MAGIC}\nitem\t{}\nfile\t{}\nline\t{}\nids\t{}\noutcome\t{}\ntime\t{}\ndetail\t{}\n",
            one_line(&self.item),
            one_line(&self.file),
            self.line,
            self.ids.join(" "),
            self.outcome.as_str(),
            self.time,
            one_line(self.outcome.detail())
        )
    }

    /// Parses a record's text.
    pub fn parse(text: &str) -> Result<Record, String> {
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(format!("does not start with {MAGIC:?}"));
        }
        let mut fields = std::collections::HashMap::new();
        for l in lines {
            let (k, v) = l.split_once('\t').unwrap_or((l, ""));
            fields.insert(k, v);
        }
        let get = |k: &str| {
            fields
                .get(k)
                .copied()
                .ok_or_else(|| format!("no `{k}` line"))
        };
        let number = |k: &str| -> Result<u64, String> {
            get(k)?
                .parse::<u64>()
                .map_err(|e| format!("`{k}` is not a number: {e}"))
        };
        let outcome = get("outcome")?;
        Ok(Record {
            item: get("item")?.to_owned(),
            file: get("file")?.to_owned(),
            line: u32::try_from(number("line")?).map_err(|e| format!("`line`: {e}"))?,
            ids: get("ids")?.split_whitespace().map(str::to_owned).collect(),
            outcome: Outcome::from_parts(outcome, get("detail").unwrap_or("").to_owned())
                .ok_or_else(|| format!("unknown outcome {outcome:?}"))?,
            time: number("time")?,
        })
    }
}

fn one_line(s: &str) -> String {
    let mut out: String = s
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
        .replace('\t', " ");
    if out.len() > 600 {
        let mut cut = 600;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(" ...");
    }
    out
}

/// `writ-verifies/` inside cargo target directory `target`.
pub fn dir_in_target(target: &Path) -> PathBuf {
    target.join(DIR_NAME)
}

/// Where this process records outcomes: `$WRIT_VERIFIES_DIR`, else the results directory
/// of the target directory the running test binary sits in (`None` when neither is known).
pub fn results_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    Some(dir_in_target(deps.parent()?.parent()?))
}

/// Writes `rec` into `dir` (a temporary file renamed into place, so a reader never sees
/// half a record).
pub fn write(dir: &Path, rec: &Record) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(rec.file_name());
    let tmp = dir.join(format!(".{}.{}.tmp", rec.file_name(), std::process::id()));
    std::fs::write(&tmp, rec.render())?;
    std::fs::rename(&tmp, &path)
}

/// Every record in `dir` (none when it does not exist), with a message per file that could
/// not be read.
pub fn read_dir(dir: &Path) -> (Vec<Record>, Vec<String>) {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (records, problems),
        Err(e) => {
            problems.push(format!("{}: {e}", dir.display()));
            return (records, problems);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "txt")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    for p in paths {
        match std::fs::read_to_string(&p) {
            Ok(text) => match Record::parse(&text) {
                Ok(r) => records.push(r),
                Err(e) => problems.push(format!("{}: {e}", p.display())),
            },
            Err(e) => problems.push(format!("{}: {e}", p.display())),
        }
    }
    (records, problems)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// The running test
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Running {
    /// What the harness said about the runtime under test (worst first: fail, skip, pass).
    subject: Option<Outcome>,
    /// Set by the harness just before it panics because only an oracle failed.
    excuse: Option<String>,
}

thread_local! {
    static RUNNING: RefCell<Running> = RefCell::new(Running::default());
}

fn rank(o: &Outcome) -> u8 {
    match o {
        Outcome::Fail(_) => 2,
        Outcome::Skip(_) => 1,
        Outcome::Pass => 0,
    }
}

/// For a harness: the outcome of the runtime under test in the current test (several calls
/// keep the worst: a failure, else a skip, else a pass).
pub fn record_subject(outcome: Outcome) {
    RUNNING.with(|r| {
        let mut r = r.borrow_mut();
        if r.subject
            .as_ref()
            .is_none_or(|old| rank(&outcome) > rank(old))
        {
            r.subject = Some(outcome);
        }
    });
}

/// For a harness, right before it panics: the panic is not a failure of the runtime under
/// test (only an oracle failed), so the record keeps the outcome given to
/// [`record_subject`].
pub fn excuse_panic(reason: &str) {
    RUNNING.with(|r| r.borrow_mut().excuse = Some(reason.to_owned()));
}

/// What a test function returns: `()` or a `Result`.
pub trait TestResult {
    /// `Err(message)` when the returned value fails the test.
    fn failure(&self) -> Option<String>;
}

impl TestResult for () {
    fn failure(&self) -> Option<String> {
        None
    }
}

impl<T, E: fmt::Debug> TestResult for Result<T, E> {
    fn failure(&self) -> Option<String> {
        self.as_ref().err().map(|e| format!("returned Err({e:?})"))
    }
}

/// Records the outcome of one tagged test when dropped (placed by `#[verifies]` at the start
/// of the test's body).
pub struct Guard {
    ids: &'static [&'static str],
    item: String,
    file: &'static str,
    line: u32,
    returned: Option<String>,
}

impl Guard {
    /// Starts recording a test that verifies `ids`; the record is written when the guard is dropped.
    pub fn start(
        ids: &'static [&'static str],
        module: &'static str,
        name: &'static str,
        file: &'static str,
        line: u32,
    ) -> Guard {
        RUNNING.with(|r| *r.borrow_mut() = Running::default());
        Guard {
            ids,
            item: format!("{module}::{name}"),
            file,
            line,
            returned: None,
        }
    }

    /// Notes what the test returned (an `Err` fails it).
    pub fn returned<R: TestResult>(&mut self, r: &R) {
        self.returned = r.failure();
    }

    fn outcome(&self, panicking: bool) -> Outcome {
        let running = RUNNING.with(|r| std::mem::take(&mut *r.borrow_mut()));
        match running.subject {
            Some(Outcome::Fail(m)) => Outcome::Fail(m),
            subject if panicking => match (subject, running.excuse) {
                // Only an oracle failed: the subject's own outcome stands.
                (Some(o), Some(_)) => o,
                _ => Outcome::Fail("the test panicked".to_owned()),
            },
            _ if self.returned.is_some() => {
                Outcome::Fail(self.returned.clone().unwrap_or_default())
            }
            Some(Outcome::Skip(m)) => Outcome::Skip(m),
            _ => Outcome::Pass,
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let outcome = self.outcome(std::thread::panicking());
        let rec = Record {
            item: self.item.clone(),
            file: self.file.to_owned(),
            line: self.line,
            ids: self.ids.iter().map(|s| (*s).to_owned()).collect(),
            outcome,
            time: now(),
        };
        match results_dir() {
            Some(dir) => {
                if let Err(e) = write(&dir, &rec) {
                    eprintln!(
                        "warning: #[verifies] could not record {} in {}: {e}",
                        rec.item,
                        dir.display()
                    );
                }
            }
            None => eprintln!(
                "warning: #[verifies] does not know where to record {} (set {DIR_ENV})",
                rec.item
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(outcome: Outcome) -> Record {
        Record {
            item: "lifecycle::kill\tsignal".into(),
            file: "conformance/tests/lifecycle.rs".into(),
            line: 134,
            ids: vec!["runtime.kill.signal".into(), "runtime.x".into()],
            outcome,
            time: 1_764_620_000,
        }
    }

    #[test]
    fn records_round_trip() {
        for o in [
            Outcome::Pass,
            Outcome::Fail("assertion failed\nleft: 1\n\tright: 2".into()),
            Outcome::Skip("podman is not installed".into()),
        ] {
            let r = sample(o);
            let back = Record::parse(&r.render()).unwrap();
            assert_eq!(back.item, "lifecycle::kill signal");
            assert_eq!(back.ids, r.ids);
            assert_eq!(back.line, 134);
            assert_eq!(back.outcome.as_str(), r.outcome.as_str());
            if let Outcome::Fail(d) = &back.outcome {
                assert_eq!(d, "assertion failed | left: 1 |  right: 2");
            }
        }
        assert!(Record::parse("nonsense").is_err());
        assert!(Record::parse(&sample(Outcome::Pass).render().replace("pass", "maybe")).is_err());
    }

    #[test]
    fn the_harness_decides_for_the_subject() {
        let g = Guard::start(&["a"], "m", "t", "f.rs", 1);
        record_subject(Outcome::Pass);
        excuse_panic("runc failed");
        assert_eq!(g.outcome(true), Outcome::Pass);
        std::mem::forget(g);

        let g = Guard::start(&["a"], "m", "t", "f.rs", 1);
        record_subject(Outcome::Pass);
        record_subject(Outcome::Fail("writ failed".into()));
        record_subject(Outcome::Pass);
        assert_eq!(g.outcome(true), Outcome::Fail("writ failed".into()));
        std::mem::forget(g);

        // A panic nobody excused fails the test, whatever the subject did before.
        let g = Guard::start(&["a"], "m", "t", "f.rs", 1);
        record_subject(Outcome::Pass);
        assert!(matches!(g.outcome(true), Outcome::Fail(_)));
        std::mem::forget(g);

        let g = Guard::start(&["a"], "m", "t", "f.rs", 1);
        record_subject(Outcome::Skip("no podman".into()));
        assert_eq!(g.outcome(false), Outcome::Skip("no podman".into()));
        std::mem::forget(g);

        let mut g = Guard::start(&["a"], "m", "t", "f.rs", 1);
        g.returned(&Err::<(), _>("boom"));
        assert!(matches!(g.outcome(false), Outcome::Fail(m) if m.contains("boom")));
        std::mem::forget(g);

        // A new test starts from nothing.
        let g = Guard::start(&["a"], "m", "t", "f.rs", 1);
        assert_eq!(g.outcome(false), Outcome::Pass);
        std::mem::forget(g);
    }

    #[test]
    fn write_then_read() {
        let dir = std::env::temp_dir().join(format!("writ-verifies-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let r = sample(Outcome::Pass);
        write(&dir, &r).unwrap();
        std::fs::write(dir.join("junk.txt"), "junk").unwrap();
        let (recs, problems) = read_dir(&dir);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].file, r.file);
        assert_eq!(problems.len(), 1, "{problems:?}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(read_dir(&dir).0.len(), 0);
    }
}
