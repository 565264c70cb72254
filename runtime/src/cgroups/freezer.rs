//! Freezing and thawing the container's processes (runc's `pause` and `resume`), one
//! handler per kernel mechanism:
//!
//! - [`V1Freezer`]: the v1 freezer controller. Writing `FROZEN` to `freezer.state` starts
//!   the freeze; the file reads `FREEZING` until every task is frozen, then `FROZEN`.
//!   A freeze that makes no progress is retried by thawing and freezing again (a task
//!   in an uninterruptible sleep can hold a freeze off for a while).
//! - [`V2Freezer`]: cgroup v2's `cgroup.freeze` (core, in every non-root cgroup2
//!   directory, no controller to enable). Writing `1` asks for the freeze; it is done
//!   when `cgroup.events` says `frozen 1`.
//!
//! Both wait until the cgroup has reached the state asked for, up to a deadline, and
//! report the state they saw if it did not. Which one a container gets is chosen from
//! its recorded hierarchies by [`freezer_of`]: the v1 freezer where a v1 freezer
//! hierarchy is mounted (a hybrid host such as this project's machine), else cgroup2.

use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::host::Version;
use super::record::CgroupState;
use super::{fs, CgroupError};

/// What the freezer of a cgroup says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezerState {
    /// The processes run.
    Thawed,
    /// Being frozen (v1's `FREEZING`; v2 between the request and `frozen 1`).
    Freezing,
    /// Every process is frozen.
    Frozen,
}

/// How long a freeze or thaw may take before it is an error.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// One freezing mechanism, acting on a cgroup directory of its hierarchy.
pub trait Freezer: Sync {
    /// The mechanism's name for messages ("freezer.state", "cgroup.freeze").
    fn name(&self) -> &'static str;

    /// The state of the cgroup `dir`.
    fn state(&self, dir: &Path) -> Result<FreezerState, CgroupError> {
        self.state_at(rustix::fs::CWD, dir)
    }

    /// The state of the cgroup `dir`, a path relative to the directory `at` (or absolute).
    fn state_at(&self, at: BorrowedFd<'_>, dir: &Path) -> Result<FreezerState, CgroupError>;

    /// Asks for the freeze (`true`) or the thaw of `dir`, without waiting.
    fn request(&self, dir: &Path, frozen: bool) -> Result<(), CgroupError>;

    /// Freezes (`true`) or thaws `dir` and waits until that is done, up to `deadline`.
    fn set(&self, dir: &Path, frozen: bool, deadline: Duration) -> Result<(), CgroupError> {
        let want = if frozen {
            FreezerState::Frozen
        } else {
            FreezerState::Thawed
        };
        self.request(dir, frozen)?;
        let start = Instant::now();
        let mut pause = Duration::from_micros(50);
        let mut since_request = Instant::now();
        loop {
            let seen = self.state(dir)?;
            if seen == want {
                return Ok(());
            }
            if start.elapsed() >= deadline {
                return Err(CgroupError::Freeze {
                    dir: dir.to_path_buf(),
                    mechanism: self.name(),
                    wanted: want,
                    seen,
                    after: start.elapsed(),
                });
            }
            // A freeze stuck half-way: thaw and ask again (what makes progress on v1
            // when a task sleeps uninterruptibly at the wrong moment).
            if frozen && since_request.elapsed() > Duration::from_millis(500) {
                self.request(dir, false)?;
                self.request(dir, true)?;
                since_request = Instant::now();
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

/// The v1 freezer controller's `freezer.state`.
pub struct V1Freezer;

impl Freezer for V1Freezer {
    fn name(&self) -> &'static str {
        "freezer.state"
    }

    fn state_at(&self, at: BorrowedFd<'_>, dir: &Path) -> Result<FreezerState, CgroupError> {
        let text = fs::read_record(at, dir, "freezer.state")?;
        match text.trim() {
            "THAWED" => Ok(FreezerState::Thawed),
            "FREEZING" => Ok(FreezerState::Freezing),
            "FROZEN" => Ok(FreezerState::Frozen),
            other => Err(CgroupError::Unexpected {
                file: dir.join("freezer.state"),
                text: other.to_string(),
            }),
        }
    }

    fn request(&self, dir: &Path, frozen: bool) -> Result<(), CgroupError> {
        let value = if frozen { "FROZEN" } else { "THAWED" };
        fs::write("freezer", "freezer", dir, "freezer.state", value)
    }
}

/// cgroup v2's `cgroup.freeze` and the `frozen` key of `cgroup.events`.
pub struct V2Freezer;

impl Freezer for V2Freezer {
    fn name(&self) -> &'static str {
        "cgroup.freeze"
    }

    fn state_at(&self, at: BorrowedFd<'_>, dir: &Path) -> Result<FreezerState, CgroupError> {
        let asked = fs::read_record(at, dir, "cgroup.freeze")?.trim() == "1";
        let events = fs::read_record(at, dir, "cgroup.events")?;
        let frozen = events
            .lines()
            .filter_map(|l| l.split_once(' '))
            .any(|(k, v)| k == "frozen" && v.trim() == "1");
        Ok(match (asked, frozen) {
            (true, true) => FreezerState::Frozen,
            (true, false) => FreezerState::Freezing,
            // Thawing: the kernel clears `frozen` as soon as the request is taken.
            (false, _) => FreezerState::Thawed,
        })
    }

    fn request(&self, dir: &Path, frozen: bool) -> Result<(), CgroupError> {
        let value = if frozen { "1" } else { "0" };
        fs::write("freezer", "cgroup.freeze", dir, "cgroup.freeze", value)
    }
}

/// The freezer of a recorded cgroup and the directory it acts on: the v1 freezer
/// hierarchy where one is mounted, else the cgroup2 directory; `None` when the cgroup
/// has neither.
pub fn freezer_of(s: &CgroupState) -> Option<(&'static dyn Freezer, PathBuf)> {
    let hierarchies = s.hierarchies.iter();
    freezer_among(hierarchies.map(|h| (h.version, h.has("freezer"), &h.path)))
        .map(|(f, path)| (f, path.clone()))
}

/// [`freezer_of`] over the hierarchies as (version, whether it is a v1 hierarchy with the
/// freezer controller, the container's directory): the first v1 freezer, else the first
/// cgroup2 directory.
pub(crate) fn freezer_among<P>(
    hierarchies: impl Iterator<Item = (Version, bool, P)>,
) -> Option<(&'static dyn Freezer, P)> {
    let mut v2 = None;
    for (version, v1_freezer, dir) in hierarchies {
        if v1_freezer {
            return Some((&V1Freezer, dir));
        }
        if version == Version::V2 && v2.is_none() {
            v2 = Some(dir);
        }
    }
    v2.map(|dir| (&V2Freezer as &dyn Freezer, dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::tests::{files, read};

    #[test]
    fn v1_writes_the_state_and_waits_for_frozen() {
        let d = files(&["freezer.state"]);
        std::fs::write(d.path().join("freezer.state"), "THAWED\n").unwrap();
        assert_eq!(V1Freezer.state(d.path()).unwrap(), FreezerState::Thawed);
        // A plain file reads back what was written: FROZEN at once.
        V1Freezer.set(d.path(), true, DEADLINE).unwrap();
        assert_eq!(read(&d, "freezer.state"), "FROZEN");
        assert_eq!(V1Freezer.state(d.path()).unwrap(), FreezerState::Frozen);
        V1Freezer.set(d.path(), false, DEADLINE).unwrap();
        assert_eq!(read(&d, "freezer.state"), "THAWED");
        std::fs::write(d.path().join("freezer.state"), "FREEZING\n").unwrap();
        assert_eq!(V1Freezer.state(d.path()).unwrap(), FreezerState::Freezing);
        std::fs::write(d.path().join("freezer.state"), "SLUSHY\n").unwrap();
        let e = V1Freezer.state(d.path()).unwrap_err().to_string();
        assert!(e.contains("freezer.state") && e.contains("SLUSHY"), "{e}");
    }

    #[test]
    fn v2_is_frozen_only_when_cgroup_events_says_so() {
        let d = files(&["cgroup.freeze", "cgroup.events"]);
        std::fs::write(d.path().join("cgroup.freeze"), "0\n").unwrap();
        std::fs::write(d.path().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        V2Freezer.set(d.path(), true, DEADLINE).unwrap();
        assert_eq!(read(&d, "cgroup.freeze"), "1");
        assert_eq!(V2Freezer.state(d.path()).unwrap(), FreezerState::Frozen);
        V2Freezer.set(d.path(), false, DEADLINE).unwrap();
        assert_eq!(read(&d, "cgroup.freeze"), "0");
        assert_eq!(V2Freezer.state(d.path()).unwrap(), FreezerState::Thawed);
        // Asked, never reached: the deadline passes and the error says what was seen.
        std::fs::write(d.path().join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        let e = V2Freezer
            .set(d.path(), true, Duration::from_millis(30))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cgroup.freeze") && e.contains("Freezing"), "{e}");
        assert_eq!(V2Freezer.state(d.path()).unwrap(), FreezerState::Freezing);
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let d = files(&[]);
        let e = V2Freezer.set(d.path(), true, DEADLINE).unwrap_err();
        assert!(e.to_string().contains("cgroup.freeze"), "{e}");
        let e = V1Freezer.state(d.path()).unwrap_err();
        assert!(e.to_string().contains("freezer.state"), "{e}");
    }
}
