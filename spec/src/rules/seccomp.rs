//! `linux.seccomp`.

use serde_json::Value;
use writ_macros::requirement;

use super::{has, items, object, string, Findings, Ptr};

/// Actions that return an errno to the caller and so take `errnoRet`/`defaultErrnoRet`.
fn takes_errno(action: &str) -> bool {
    matches!(action, "SCMP_ACT_ERRNO" | "SCMP_ACT_TRACE")
}

pub(super) fn check(linux: &Value, at: &Ptr, f: &mut Findings) {
    let Some(sc) = object(linux, "seccomp") else {
        return;
    };
    let at = at.key("seccomp");
    default_errno(sc, &at, f);
    syscall_errno(sc, &at, f);
    listener_metadata(sc, &at, f);
}

#[requirement("config_linux.seccomp.default_errno.unsupported")]
fn default_errno(sc: &Value, at: &Ptr, f: &mut Findings) {
    if let Some(action) = string(sc, "defaultAction") {
        if has(sc, "defaultErrnoRet") && !takes_errno(action) {
            f.report(
                "config_linux.seccomp.default_errno.unsupported",
                &at.key("defaultErrnoRet"),
                format!("defaultErrnoRet is set but the default action {action} returns no errno"),
            );
        }
    }
}

#[requirement("config_linux.seccomp.syscalls.errno.unsupported")]
fn syscall_errno(sc: &Value, at: &Ptr, f: &mut Findings) {
    for (i, rule) in items(sc, "syscalls") {
        if let Some(action) = string(rule, "action") {
            if has(rule, "errnoRet") && !takes_errno(action) {
                f.report(
                    "config_linux.seccomp.syscalls.errno.unsupported",
                    &at.key("syscalls").idx(i).key("errnoRet"),
                    format!("errnoRet is set but the action {action} returns no errno"),
                );
            }
        }
    }
}

#[requirement("config_linux.seccomp.listener_metadata.needs_path")]
fn listener_metadata(sc: &Value, at: &Ptr, f: &mut Findings) {
    if has(sc, "listenerMetadata") && !has(sc, "listenerPath") {
        f.report(
            "config_linux.seccomp.listener_metadata.needs_path",
            &at.key("listenerMetadata"),
            "listenerMetadata is set without listenerPath".to_owned(),
        );
    }
}
