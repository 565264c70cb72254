//! Events (runc's `events`; the spec has no such operation), behind
//! [`Container::stats`](super::Container::stats) and
//! [`Container::events`](super::Container::events): the resource usage of the container's
//! cgroup ([`crate::cgroups::stats`]) and its OOM events ([`crate::cgroups::oom`]), as
//! runc's JSON lines `{"type": "stats", "id": ..., "data": {...}}` and
//! `{"type": "oom", "id": ...}`.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cgroups::stats::Stats;
use crate::error::{Error, Result};
use crate::state::Status;

/// One event of a container.
#[derive(Debug, Serialize)]
pub struct Event {
    /// "stats" or "oom".
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The container.
    pub id: String,
    /// The usage, for "stats".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Stats>,
}

impl super::Container {
    fn cgroup_or_err(&self) -> Result<crate::cgroups::CgroupState> {
        self.record.cgroup.clone().ok_or_else(|| Error::NoCgroup {
            op: "report the events of",
            id: self.id().to_string(),
        })
    }

    /// The resource usage of the container's cgroup now (runc's `events --stats`). The
    /// container must not be stopped ("container not running", as runc).
    pub fn stats(&self) -> Result<Event> {
        if matches!(self.status(), Status::Stopped | Status::Creating) {
            return Err(Error::NotRunning {
                op: "report the events of",
                id: self.id().to_string(),
            });
        }
        let s = self.cgroup_or_err()?;
        let data = crate::cgroups::stats::read(&s).map_err(|source| Error::Cgroup {
            what: "reading the resource usage",
            id: self.id().to_string(),
            source: Box::new(source),
        })?;
        Ok(Event {
            kind: "stats",
            id: self.id().to_string(),
            data: Some(data),
        })
    }

    /// Reports a "stats" event every `interval` and an "oom" event at each OOM kill, until
    /// the container stops (then returns `Ok`) or `emit` fails.
    pub fn events(
        &mut self,
        interval: Duration,
        mut emit: impl FnMut(&Event) -> std::io::Result<()>,
    ) -> Result<()> {
        let s = self.cgroup_or_err()?;
        let mut watch = crate::cgroups::oom::OomWatch::new(&s).map_err(|source| Error::Cgroup {
            what: "watching for OOM events",
            id: self.id().to_string(),
            source: Box::new(source),
        })?;
        let io = |e| Error::io("writing an event")(e);
        let mut next = Instant::now();
        loop {
            self.refresh()?;
            if matches!(self.status(), Status::Stopped) {
                return Ok(());
            }
            if Instant::now() >= next {
                emit(&self.stats()?).map_err(io)?;
                next += interval;
            }
            // Wake at the next tick, or at an OOM, or after a second to see a stop.
            let left = next
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1));
            let Some(w) = watch.as_mut() else {
                std::thread::sleep(left);
                continue;
            };
            let fd = w.fd();
            let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms));
            for _ in 0..w.fired() {
                let oom = Event {
                    kind: "oom",
                    id: self.id().to_string(),
                    data: None,
                };
                emit(&oom).map_err(io)?;
            }
        }
    }
}
