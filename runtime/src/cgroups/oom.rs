//! Watching the container's cgroup for the OOM killer (runc's `events` `"oom"` events),
//! one mechanism per layout:
//!
//! - cgroup v1: an eventfd registered for `memory.oom_control` through
//!   `cgroup.event_control`; the kernel signals it at every OOM of the cgroup.
//! - cgroup v2: inotify on `memory.events`, whose `oom_kill` count the kernel raises (and
//!   the file is modified) at every OOM kill; an event is a rise of that count.
//!
//! [`OomWatch::fd`] is what a caller polls; [`OomWatch::fired`] reads it and says how many
//! OOM events happened since the last call.

use std::io::Read as _;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use super::record::CgroupState;
use super::CgroupError;

/// An OOM watch on the container's memory cgroup.
#[derive(Debug)]
pub enum OomWatch {
    /// v1: the eventfd (and the `memory.oom_control` fd it is registered with).
    V1 {
        /// The eventfd.
        event: OwnedFd,
        /// `memory.oom_control`, kept open while registered.
        _control: std::fs::File,
        /// The cgroup directory (its removal signals the eventfd too).
        dir: PathBuf,
    },
    /// v2: inotify on `memory.events`, and the `oom_kill` count last seen.
    V2 {
        /// The inotify fd.
        inotify: OwnedFd,
        /// `memory.events`.
        file: PathBuf,
        /// The count last seen.
        seen: u64,
    },
}

fn io_err(file: &std::path::Path) -> impl FnOnce(std::io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Read {
        file: file.to_path_buf(),
        source,
    }
}

/// The `oom_kill` count of a v2 `memory.events`.
fn oom_kills(file: &std::path::Path) -> u64 {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == "oom_kill")
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

impl OomWatch {
    /// Starts watching the memory cgroup of `s`; `None` when it has no memory controller.
    pub fn new(s: &CgroupState) -> Result<Option<OomWatch>, CgroupError> {
        use rustix::event::{eventfd, EventfdFlags};
        use rustix::fs::inotify;
        if let Some(h) = s.v1_with("memory") {
            let control_path = h.path.join("memory.oom_control");
            let control = std::fs::File::open(&control_path).map_err(io_err(&control_path))?;
            let event = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
                .map_err(|e| io_err(&control_path)(e.into()))?;
            let line = format!("{} {}", event.as_raw_fd(), control.as_raw_fd());
            let reg = h.path.join("cgroup.event_control");
            crate::sys::write_file(&reg, line.as_bytes()).map_err(io_err(&reg))?;
            return Ok(Some(OomWatch::V1 {
                event,
                _control: control,
                dir: h.path.clone(),
            }));
        }
        let Some(h) = s.v2() else { return Ok(None) };
        let file = h.path.join("memory.events");
        if !file.exists() {
            return Ok(None);
        }
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
            .map_err(|e| io_err(&file)(e.into()))?;
        inotify::add_watch(&fd, &file, inotify::WatchFlags::MODIFY)
            .map_err(|e| io_err(&file)(e.into()))?;
        let seen = oom_kills(&file);
        Ok(Some(OomWatch::V2 {
            inotify: fd,
            file,
            seen,
        }))
    }

    /// The fd to poll for reading.
    pub fn fd(&self) -> BorrowedFd<'_> {
        match self {
            OomWatch::V1 { event, .. } => event.as_fd(),
            OomWatch::V2 { inotify, .. } => inotify.as_fd(),
        }
    }

    /// How many OOM events happened since the last call (0 when the fd was not ready).
    pub fn fired(&mut self) -> u64 {
        let mut buf = [0u8; 4096];
        let drain = |fd: &OwnedFd, buf: &mut [u8]| -> usize {
            let read = fd
                .try_clone()
                .and_then(|fd| std::fs::File::from(fd).read(buf));
            read.unwrap_or(0)
        };
        match self {
            OomWatch::V1 { event, dir, .. } => {
                if drain(event, &mut buf) == 8 && dir.exists() {
                    u64::from_ne_bytes(buf[..8].try_into().unwrap_or([0; 8]))
                } else {
                    0
                }
            }
            OomWatch::V2 {
                inotify,
                file,
                seen,
            } => {
                while drain(inotify, &mut buf) > 0 {}
                let now = oom_kills(file);
                let new = now.saturating_sub(*seen);
                *seen = now;
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_counts_rises_of_oom_kill() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("memory.events");
        std::fs::write(&f, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
        assert_eq!(oom_kills(&f), 1);
        let fd = rustix::fs::inotify::init(rustix::fs::inotify::CreateFlags::NONBLOCK).unwrap();
        rustix::fs::inotify::add_watch(&fd, &f, rustix::fs::inotify::WatchFlags::MODIFY).unwrap();
        let mut w = OomWatch::V2 {
            inotify: fd,
            file: f.clone(),
            seen: 1,
        };
        assert_eq!(w.fired(), 0);
        std::fs::write(&f, "low 0\nhigh 0\nmax 5\noom 3\noom_kill 3\n").unwrap();
        assert_eq!(w.fired(), 2);
        assert_eq!(w.fired(), 0);
    }
}
