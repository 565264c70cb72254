//! `writ state ID` (runtime.md#query-state): prints the container's state as pretty
//! JSON, the OCI fields plus runc's `rootfs`, `created` and `owner`.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::GlobalOpts;
use crate::error::Result;
use crate::state::{ContainerState, Status};

#[derive(Debug, Clone, clap::Args)]
pub struct StateArgs {
    /// The container id.
    pub id: String,
}

/// The id is a required argument (clap rejects a call without it).
#[writ_macros::requirement("runtime.state_op.id_required")]
pub fn run(global: &GlobalOpts, args: StateArgs) -> i32 {
    super::finish("state", print_state(global, &args.id).map(|()| 0))
}

/// One container as `state` and `list --format json` show it.
#[derive(Debug, Serialize)]
pub struct Shown {
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    pub status: Status,
    pub bundle: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<PathBuf>,
    pub created: String,
    pub owner: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Shown {
    pub fn new(st: ContainerState, status: Status) -> Self {
        Shown {
            oci_version: st.oci_version,
            pid: match status {
                Status::Created | Status::Running => st.pid,
                Status::Creating | Status::Stopped => None,
            },
            id: st.id,
            status,
            bundle: st.bundle,
            rootfs: st.rootfs,
            created: st.created,
            owner: user_name(st.owner),
            annotations: st.annotations,
        }
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

#[writ_macros::requirement(
    "runtime.state_op.unknown_id",
    "runtime.state_op.returns_state",
    "runtime.state.extra_properties"
)]
fn print_state(global: &GlobalOpts, id: &str) -> Result<()> {
    let (st, status) = global.store().read(id)?;
    let shown = Shown::new(st, status);
    let mut out = serde_json::to_string_pretty(&shown).unwrap_or_default();
    out.push('\n');
    use std::io::Write;
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(crate::error::Error::io("writing the state"))
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
        let v = serde_json::to_value(Shown::new(st.clone(), Status::Stopped)).unwrap();
        assert!(v.get("pid").is_none());
        assert_eq!(v["status"], "stopped");
        let v = serde_json::to_value(Shown::new(st, Status::Running)).unwrap();
        assert_eq!(v["pid"], 7);
        assert_eq!(v["ociVersion"], writ_spec::OCI_VERSION);
        assert_eq!(v["bundle"], "/b");
        assert_eq!(v["owner"], "root");
    }
}
