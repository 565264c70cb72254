//! The check of the seccomp profile (config-linux.md#seccomp) at plan time.
//! `crate::seccomp` compiles and loads it.

use writ_spec::{Seccomp, SeccompAction};

use super::{invalid, PlanError};

/// Checks a profile before anything is touched. Errno values only with actions that
/// return one, and listenerMetadata only with listenerPath, are writ-spec's rules
/// (checked before); what is checked here is what writ supports.
#[writ_macros::requirement("config_linux.seccomp.syscalls.names.non_empty")]
pub(super) fn check(s: &Seccomp) -> Result<(), PlanError> {
    if s.listener_path.is_some() {
        return Err(invalid(
            "/linux/seccomp/listenerPath",
            "seccomp notification listeners are not supported by writ",
        ));
    }
    for (i, r) in s.syscalls.iter().flatten().enumerate() {
        if r.names.is_empty() {
            return Err(invalid(
                format!("/linux/seccomp/syscalls/{i}/names"),
                "must list at least one syscall",
            ));
        }
        if r.action == SeccompAction::ScmpActNotify
            || s.default_action == SeccompAction::ScmpActNotify
        {
            return Err(invalid(
                format!("/linux/seccomp/syscalls/{i}/action"),
                "SCMP_ACT_NOTIFY is not supported by writ",
            ));
        }
    }
    Ok(())
}
