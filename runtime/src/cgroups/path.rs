//! cgroupsPath (config-linux.md#cgroups-path): the path of the container's cgroup inside
//! each hierarchy.

use super::CgroupError;

/// The parent of the containers that name no cgroupsPath (`/writ/ID`). Like a container
/// engine's own parent (`/docker`, `machine.slice`) it is made once and then kept: it is
/// not removed with the last container below it, which would cost every container one
/// more mkdir and rmdir in each hierarchy (and on cgroup v1 a cpuset copy).
pub const DEFAULT_PARENT: &str = "/writ";

/// Converts a systemd-style cgroupsPath "slice:prefix:name" into a path.
fn systemd_path(p: &str) -> Result<String, CgroupError> {
    let parts: Vec<&str> = p.split(':').collect();
    let [slice, prefix, name] = parts[..] else {
        return Err(CgroupError::BadPath {
            path: p.to_string(),
            reason: "with --systemd-cgroup the path must be slice:prefix:name",
        });
    };
    let slice = if slice.is_empty() {
        "system.slice"
    } else {
        slice
    };
    // "a-b-c.slice" lives in a.slice/a-b.slice/a-b-c.slice.
    let stem = slice.strip_suffix(".slice").unwrap_or(slice);
    let mut path = String::new();
    let mut acc = String::new();
    for (i, piece) in stem.split('-').enumerate() {
        if i > 0 {
            acc.push('-');
        }
        acc.push_str(piece);
        path.push('/');
        path.push_str(&acc);
        path.push_str(".slice");
    }
    let unit = if name.ends_with(".slice") || name.ends_with(".scope") {
        name.to_string()
    } else if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    path.push('/');
    path.push_str(&unit);
    Ok(path)
}

/// Resolves the container's cgroup path: the config's cgroupsPath, or
/// [`DEFAULT_PARENT`]/ID.
#[writ_macros::requirement(
    "config_linux.cgroups_path.form",
    "config_linux.cgroups_path.absolute",
    "config_linux.cgroups_path.relative",
    "config_linux.cgroups_path.stable",
    "config_linux.cgroups_path.default",
    "config_linux.cgroups_path.invalid",
    "config_linux.cgroups_path.invalid.error"
)]
pub fn relative_path(
    cgroups_path: Option<&str>,
    id: &str,
    systemd: bool,
) -> Result<String, CgroupError> {
    let p = match cgroups_path {
        None | Some("") => format!("{DEFAULT_PARENT}/{id}"),
        Some(p) if systemd && !p.starts_with('/') => systemd_path(p)?,
        Some(p) => p.to_string(),
    };
    if p.split('/').any(|c| c == "..") {
        return Err(CgroupError::BadPath {
            path: p,
            reason: "must not contain ..",
        });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[writ_macros::verifies(
        "config_linux.cgroups_path.default",
        "config_linux.cgroups_path.absolute",
        "config_linux.cgroups_path.invalid.error"
    )]
    #[test]
    fn default_and_configured_paths() {
        assert_eq!(relative_path(None, "abc", false).unwrap(), "/writ/abc");
        assert_eq!(
            relative_path(Some("/libpod_parent/libpod-x"), "abc", false).unwrap(),
            "/libpod_parent/libpod-x"
        );
        let e = relative_path(Some("/a/../b"), "abc", false).unwrap_err();
        assert!(e.to_string().contains("/linux/cgroupsPath"), "{e}");
        assert_eq!(
            relative_path(Some("machine-libpod.slice:libpod:abc"), "abc", true).unwrap(),
            "/machine.slice/machine-libpod.slice/libpod-abc.scope"
        );
        assert_eq!(
            relative_path(Some(":libpod:abc"), "abc", true).unwrap(),
            "/system.slice/libpod-abc.scope"
        );
        assert!(relative_path(Some("bad"), "abc", true).is_err());
    }
}
