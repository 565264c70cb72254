//! The plan of the hooks (config.md#posix-platform-hooks). `crate::hooks` runs them.

use std::path::PathBuf;

use super::{invalid, PlanError};

/// One hook to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HookPlan {
    /// Absolute path of the program.
    pub path: PathBuf,
    /// Its argv (`args[0]` is `argv[0]`).
    pub args: Vec<String>,
    /// Exactly its environment, `KEY=value` entries.
    pub env: Vec<String>,
    /// Seconds; `None` means no timeout.
    pub timeout: Option<u32>,
}

/// All hooks of the config, by lifecycle point.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HooksPlan {
    /// prestart (deprecated), before createRuntime.
    pub prestart: Vec<HookPlan>,
    /// createRuntime, in the runtime namespace.
    pub create_runtime: Vec<HookPlan>,
    /// createContainer, in the container's namespaces.
    pub create_container: Vec<HookPlan>,
    /// startContainer, in the container before the program.
    pub start_container: Vec<HookPlan>,
    /// poststart, after the program started.
    pub poststart: Vec<HookPlan>,
    /// poststop, after delete.
    pub poststop: Vec<HookPlan>,
}

impl HooksPlan {
    /// Whether hooks run during create (prestart, createRuntime, createContainer,
    /// startContainer: create hands them their state).
    pub fn any_during_create(&self) -> bool {
        !(self.prestart.is_empty()
            && self.create_runtime.is_empty()
            && self.create_container.is_empty()
            && self.start_container.is_empty())
    }
}

/// One list of hooks. Absolute paths are writ-spec's rule (checked before).
fn hooks_of(list: &Option<Vec<writ_spec::Hook>>, name: &str) -> Result<Vec<HookPlan>, PlanError> {
    let mut out = Vec::new();
    for (i, h) in list.iter().flatten().enumerate() {
        let timeout = match h.timeout {
            None => None,
            Some(t) if t > 0 && t <= u32::MAX as i64 => Some(t as u32),
            Some(t) => {
                return Err(invalid(
                    format!("/hooks/{name}/{i}/timeout"),
                    format!("{t} is not a positive number of seconds"),
                ))
            }
        };
        out.push(HookPlan {
            path: PathBuf::from(&h.path),
            args: h.args.clone().unwrap_or_default(),
            env: h.env.clone().unwrap_or_default(),
            timeout,
        });
    }
    Ok(out)
}

/// Every list of hooks of the config.
pub(super) fn hooks_plan(hooks: &Option<writ_spec::Hooks>) -> Result<HooksPlan, PlanError> {
    let Some(h) = hooks else {
        return Ok(HooksPlan::default());
    };
    Ok(HooksPlan {
        prestart: hooks_of(&h.prestart, "prestart")?,
        create_runtime: hooks_of(&h.create_runtime, "createRuntime")?,
        create_container: hooks_of(&h.create_container, "createContainer")?,
        start_container: hooks_of(&h.start_container, "startContainer")?,
        poststart: hooks_of(&h.poststart, "poststart")?,
        poststop: hooks_of(&h.poststop, "poststop")?,
    })
}
