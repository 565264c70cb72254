//! The plan of the device nodes (config-linux.md#devices, #default-devices): the
//! config's devices and the default set. `crate::devices` creates them.

use super::{invalid, PlanError};

/// A device node to create in the container's /dev.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePlan {
    /// Absolute path inside the container.
    pub path: String,
    /// libc::S_IFCHR, S_IFBLK or S_IFIFO.
    pub kind: u32,
    /// Major number.
    pub major: u64,
    /// Minor number.
    pub minor: u64,
    /// Permission bits only (0o777 mask applied).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

/// The devices every container gets (config-linux.md#default-devices), besides ptmx which is
/// a link to pts/ptmx.
#[writ_macros::requirement("config_linux.default_devices.supply")]
pub fn default_devices() -> Vec<DevicePlan> {
    let dev = |path: &str, major, minor| DevicePlan {
        path: path.to_string(),
        kind: libc::S_IFCHR,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    };
    vec![
        dev("/dev/null", 1, 3),
        dev("/dev/zero", 1, 5),
        dev("/dev/full", 1, 7),
        dev("/dev/random", 1, 8),
        dev("/dev/urandom", 1, 9),
        dev("/dev/tty", 5, 0),
    ]
}

/// The devices to create: the config's, then the defaults the config does not list.
pub fn with_defaults(config: &[DevicePlan]) -> Vec<DevicePlan> {
    let mut all = config.to_vec();
    for d in default_devices() {
        if !all.iter().any(|c| c.path == d.path) {
            all.push(d);
        }
    }
    all
}

pub(super) fn device_of(d: &writ_spec::LinuxDevice, i: usize) -> Result<DevicePlan, PlanError> {
    let ptr = format!("/linux/devices/{i}");
    if !d.path.starts_with('/') {
        return Err(invalid(
            format!("{ptr}/path"),
            format!("{:?} is not an absolute path", d.path),
        ));
    }
    let kind = match d.type_.as_str() {
        "c" | "u" => libc::S_IFCHR,
        "b" => libc::S_IFBLK,
        "p" => libc::S_IFIFO,
        t => {
            return Err(invalid(
                format!("{ptr}/type"),
                format!("unknown device type {t:?} (c, u, b or p)"),
            ))
        }
    };
    // That major and minor are given for c, u and b is writ-spec's rule (checked before).
    let num = |v: Option<i64>, f: &str| -> Result<u64, PlanError> {
        match v {
            Some(n) if n >= 0 => Ok(n as u64),
            Some(n) => Err(invalid(format!("{ptr}/{f}"), format!("{n} is negative"))),
            None => Ok(0),
        }
    };
    Ok(DevicePlan {
        path: d.path.clone(),
        kind,
        major: num(d.major, "major")?,
        minor: num(d.minor, "minor")?,
        // podman sends S_IFCHR bits too (8630 = 0o20666): keep the permission bits.
        mode: d.file_mode.unwrap_or(0o666) & 0o777,
        uid: d.uid.unwrap_or(0),
        gid: d.gid.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[writ_macros::verifies("config_linux.default_devices.supply")]
    #[test]
    fn config_devices_override_defaults() {
        let custom = DevicePlan {
            path: "/dev/null".into(),
            kind: libc::S_IFCHR,
            major: 1,
            minor: 3,
            mode: 0o600,
            uid: 5,
            gid: 5,
        };
        let all = with_defaults(std::slice::from_ref(&custom));
        assert_eq!(all.iter().filter(|d| d.path == "/dev/null").count(), 1);
        assert_eq!(all[0], custom);
        for p in [
            "/dev/zero",
            "/dev/full",
            "/dev/random",
            "/dev/urandom",
            "/dev/tty",
        ] {
            assert!(all.iter().any(|d| d.path == p), "{p} missing");
        }
    }
}
