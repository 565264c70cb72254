//! Query state (runtime.md#query-state): the state of a container as `writ state` prints
//! it, the OCI fields plus runc's `rootfs`, `created` and `owner`.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::state::{ContainerState, Status};

/// The state of one container (runtime.md#state) as `state` and `list --format json`
/// show it: serialised, the OCI state with runc's extra `rootfs`, `created` and `owner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct State {
    /// The runtime-spec version of the state (`ociVersion`).
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    /// The container's id.
    pub id: String,
    /// Host pid of the container process, while it is `created` or `running`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// The status, derived from the live process.
    pub status: Status,
    /// Absolute path of the bundle.
    pub bundle: PathBuf,
    /// Absolute path of the root filesystem (runc's extra).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<PathBuf>,
    /// When `create` started, RFC 3339 UTC (runc's extra).
    pub created: String,
    /// The name of the user that created the container, or `#uid` (runc's extra).
    pub owner: String,
    /// The config's annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl State {
    /// The state shown for a recorded container at `status`.
    pub fn new(st: ContainerState, status: Status) -> Self {
        State {
            oci_version: st.oci_version,
            pid: shown_pid(status, st.pid),
            id: st.id,
            status,
            bundle: st.bundle,
            rootfs: st.rootfs,
            created: st.created,
            owner: user_name(st.owner),
            annotations: BTreeMap::new(),
        }
    }

    /// The state with the config's annotations (see [`crate::state::annotations`]).
    pub fn with_annotations(self, annotations: BTreeMap<String, String>) -> Self {
        State {
            annotations,
            ..self
        }
    }
}

/// The recorded pid as a container at `status` shows it: only while its process exists
/// (`created`, `running`, `paused`).
pub(crate) fn shown_pid(status: Status, pid: Option<i32>) -> Option<i32> {
    match status {
        Status::Created | Status::Running | Status::Paused => pid,
        Status::Creating | Status::Stopped => None,
    }
}

/// The name of `uid` from /etc/passwd, or `#uid`.
pub fn user_name(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut f = line.split(':');
                let name = f.next()?;
                let id: u32 = f.nth(1)?.parse().ok()?;
                (id == uid).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| format!("#{uid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_root() {
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(4_000_000_000), "#4000000000");
    }

    #[test]
    fn stopped_state_has_no_pid() {
        let mut st = ContainerState::new("x", std::path::Path::new("/b"));
        st.pid = Some(7);
        let v = serde_json::to_value(State::new(st.clone(), Status::Stopped)).unwrap();
        assert!(v.get("pid").is_none());
        assert_eq!(v["status"], "stopped");
        let v = serde_json::to_value(State::new(st, Status::Running)).unwrap();
        assert_eq!(v["pid"], 7);
        assert_eq!(v["ociVersion"], writ_spec::OCI_VERSION);
        assert_eq!(v["bundle"], "/b");
        assert_eq!(v["owner"], "root");
    }
}
