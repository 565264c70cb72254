//! `ociVersion`.

use serde_json::Value;
use writ_macros::requirement;

use super::{string, Findings, Ptr};

pub(super) fn check(config: &Value, f: &mut Findings) {
    oci_version_semver(config, f);
}

#[requirement("config.oci_version.semver")]
fn oci_version_semver(config: &Value, f: &mut Findings) {
    if let Some(v) = string(config, "ociVersion") {
        if let Err(why) = semver(v) {
            f.report(
                "config.oci_version.semver",
                &Ptr::root().key("ociVersion"),
                format!("{v:?} is not a SemVer 2.0.0 version: {why}"),
            );
        }
    }
}

/// A numeric identifier: digits, no leading zero unless it is "0".
fn numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

fn identifier_chars(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Checks a SemVer 2.0.0 version (`MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`).
pub(crate) fn semver(v: &str) -> Result<(), String> {
    let (rest, build) = match v.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err("the version core must be MAJOR.MINOR.PATCH".to_owned());
    }
    for (name, p) in ["major", "minor", "patch"].iter().zip(&parts) {
        if !numeric(p) {
            return Err(format!(
                "the {name} version {p:?} must be a number without leading zeros"
            ));
        }
    }
    if let Some(pre) = pre {
        for id in pre.split('.') {
            if !identifier_chars(id) {
                return Err(format!(
                    "pre-release identifier {id:?} must be non-empty [0-9A-Za-z-]"
                ));
            }
            if id.bytes().all(|b| b.is_ascii_digit()) && !numeric(id) {
                return Err(format!(
                    "numeric pre-release identifier {id:?} has a leading zero"
                ));
            }
        }
    }
    if let Some(build) = build {
        for id in build.split('.') {
            if !identifier_chars(id) {
                return Err(format!(
                    "build identifier {id:?} must be non-empty [0-9A-Za-z-]"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::semver;

    #[test]
    fn semver_grammar() {
        for ok in [
            "1.3.0",
            "0.0.0",
            "1.0.0-rc.1",
            "1.0.2-dev",
            "1.0.0-alpha-a.b-c",
            "1.0.0+20130313144700",
            "1.0.0-beta+exp.sha.5114f85",
            "10.20.30",
            "1.0.0-0A.is.legal",
        ] {
            assert_eq!(semver(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "v1.2.3",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-01",
            "1.2.3-a..b",
            "1.2.3+a_b",
            "1.2.x",
            " 1.2.3",
            "1.2.3 ",
        ] {
            assert!(semver(bad).is_err(), "{bad:?} accepted");
        }
    }
}
