//! Pause and resume (runc's `pause`/`resume`; the spec has no such operation), behind
//! [`Container::pause`](super::Container::pause) and
//! [`Container::resume`](super::Container::resume): every process of the container's
//! cgroup is frozen, or thawed, through the cgroup's freezer
//! ([`crate::cgroups::freezer`]), and the call returns once the kernel reports it done.
//! A paused container's status is `paused` (`state`, `list`).
//!
//! As runc: a `created` or `running` container can be paused (the error otherwise says
//! "container not running"), only a `paused` one resumed ("container not paused").

use crate::error::{Error, Result};
use crate::state::{Locked, Status};

/// Freezes (`frozen`) or thaws a locked container's processes.
pub(crate) fn set_frozen(handle: &Locked, frozen: bool) -> Result<()> {
    let status = handle.status();
    let op = if frozen { "pause" } else { "resume" };
    let allowed = if frozen {
        matches!(status, Status::Created | Status::Running)
    } else {
        status == Status::Paused
    };
    if !allowed {
        return Err(Error::WrongStatus {
            op,
            id: handle.id().to_string(),
            status,
            hint: if frozen {
                ": container not running"
            } else {
                ": container not paused"
            },
        });
    }
    let Some(cg) = super::cgroup_of(&handle.state) else {
        return Err(Error::NoCgroup {
            op,
            id: handle.id().to_string(),
        });
    };
    cg.freeze(frozen).map_err(|source| Error::Cgroup {
        what: if frozen {
            "freezing the processes"
        } else {
            "thawing the processes"
        },
        id: handle.id().to_string(),
        source: Box::new(source),
    })?;
    crate::logging::debug(|| format!("{op} {}: done", handle.id()));
    Ok(())
}
