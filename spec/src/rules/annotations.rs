//! `annotations`.

use serde_json::Value;
use writ_macros::requirement;

use super::{Findings, Ptr};

/// The `org.opencontainers` annotation keys the config section defines.
const IMAGE_KEYS: [&str; 8] = [
    "org.opencontainers.image.os",
    "org.opencontainers.image.os.version",
    "org.opencontainers.image.os.features",
    "org.opencontainers.image.architecture",
    "org.opencontainers.image.variant",
    "org.opencontainers.image.author",
    "org.opencontainers.image.created",
    "org.opencontainers.image.stopSignal",
];

pub(super) fn check(config: &Value, f: &mut Findings) {
    let Some(map) = config.get("annotations").and_then(Value::as_object) else {
        return;
    };
    let at = Ptr::root().key("annotations");
    for (key, value) in map {
        let here = at.key(key);
        key_non_empty(key, &here, f);
        key_reverse_domain(key, &here, f);
        reserved_namespace(key, &here, f);
        if let Some(value) = value.as_str() {
            image_values(key, value, &here, f);
        }
    }
}

#[requirement("config.annotations.key_non_empty")]
fn key_non_empty(key: &str, at: &Ptr, f: &mut Findings) {
    if key.is_empty() {
        f.report(
            "config.annotations.key_non_empty",
            at,
            "an annotation key is the empty string".to_owned(),
        );
    }
}

/// Reverse domain notation: at least two dot-separated labels of letters, digits, `-` and
/// `_`, the first (a top-level domain) starting with a letter.
fn reverse_domain(key: &str) -> bool {
    let labels: Vec<&str> = key.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && labels[0].starts_with(|c: char| c.is_ascii_alphabetic())
}

#[requirement("config.annotations.key_reverse_domain")]
fn key_reverse_domain(key: &str, at: &Ptr, f: &mut Findings) {
    if !key.is_empty() && !reverse_domain(key) {
        f.report(
            "config.annotations.key_reverse_domain",
            at,
            format!("annotation key {key:?} is not in reverse domain notation (com.example.key)"),
        );
    }
}

/// Whether `key` lies in the `org.opencontainers` namespace.
fn in_oci_namespace(key: &str) -> bool {
    key == "org.opencontainers" || key.starts_with("org.opencontainers.")
}

#[requirement(
    "config.annotations.reserved_namespace",
    "config.annotations.reserved_keys"
)]
fn reserved_namespace(key: &str, at: &Ptr, f: &mut Findings) {
    if in_oci_namespace(key) && !IMAGE_KEYS.contains(&key) {
        f.report(
            "config.annotations.reserved_namespace",
            at,
            format!(
                "annotation key {key:?} is in the reserved org.opencontainers namespace but is \
                 not one the spec defines"
            ),
        );
    }
}

/// The defined `org.opencontainers.image.*` keys whose image-spec property constrains the
/// value beyond "a string": `os` and `architecture` are required non-empty properties,
/// `created` is an RFC 3339 date-time, `stopSignal` a signal.
#[requirement(
    "config.annotations.reserved_keys",
    "config.annotations.image_os.value",
    "config.annotations.image_architecture.value",
    "config.annotations.image_created.value",
    "config.annotations.image_stop_signal.value"
)]
fn image_values(key: &str, value: &str, at: &Ptr, f: &mut Findings) {
    let (id, problem) = match key {
        "org.opencontainers.image.os" if value.is_empty() => (
            "config.annotations.image_os.value",
            "the image os is empty".to_owned(),
        ),
        "org.opencontainers.image.architecture" if value.is_empty() => (
            "config.annotations.image_architecture.value",
            "the image architecture is empty".to_owned(),
        ),
        "org.opencontainers.image.created" if !rfc3339(value) => (
            "config.annotations.image_created.value",
            format!("{value:?} is not an RFC 3339 date-time"),
        ),
        "org.opencontainers.image.stopSignal" if !signal(value) => (
            "config.annotations.image_stop_signal.value",
            format!("{value:?} is not a signal (SIGNAME, SIGRTMIN+n, SIGRTMAX-n or a number)"),
        ),
        _ => return,
    };
    f.report(id, at, problem);
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`.
pub(crate) fn rfc3339(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', 't']) else {
        return false;
    };
    let mut d = date.split('-');
    let (Some(y), Some(mo), Some(da), None) = (d.next(), d.next(), d.next(), d.next()) else {
        return false;
    };
    let (Some(y), Some(mo), Some(da)) = (digits(y, 4), digits(mo, 2), digits(da, 2)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if da == 0 || da > days {
        return false;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, None)
    } else {
        let Some(i) = time.rfind(['+', '-']) else {
            return false;
        };
        (&time[..i], Some(&time[i + 1..]))
    };
    if let Some(off) = offset {
        let Some((h, m)) = off.split_once(':') else {
            return false;
        };
        match (digits(h, 2), digits(m, 2)) {
            (Some(h), Some(m)) if h < 24 && m < 60 => {}
            _ => return false,
        }
    }
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (clock, None),
    };
    if frac.is_some_and(|fr| fr.is_empty() || !fr.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let mut t = hms.split(':');
    let (Some(h), Some(mi), Some(se), None) = (t.next(), t.next(), t.next(), t.next()) else {
        return false;
    };
    matches!(
        (digits(h, 2), digits(mi, 2), digits(se, 2)),
        (Some(h), Some(mi), Some(se)) if h < 24 && mi < 60 && se <= 60
    )
}

/// Linux signal names without the `SIG` prefix.
const SIGNALS: [&str; 34] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CLD", "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS",
];

/// A stop signal as the image spec writes it (`SIGNAME`, `SIGRTMIN+3`), and as engines'
/// signal parsers also accept it: the bare name or the number (podman writes "15").
pub(crate) fn signal(s: &str) -> bool {
    if let Ok(n) = s.parse::<u32>() {
        return (1..=64).contains(&n) && !s.starts_with('0');
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    if SIGNALS.contains(&name) || name == "RTMIN" || name == "RTMAX" {
        return true;
    }
    let offset = |rest: &str| {
        rest.parse::<u32>()
            .is_ok_and(|n| (1..=30).contains(&n) && !rest.starts_with('0'))
    };
    name.strip_prefix("RTMIN+").is_some_and(offset)
        || name.strip_prefix("RTMAX-").is_some_and(offset)
}

#[cfg(test)]
mod tests {
    use super::{reverse_domain, rfc3339, signal};

    #[test]
    fn dates() {
        for ok in [
            "2026-11-28T23:31:36.046419326Z",
            "1985-04-12T23:20:50.52Z",
            "1996-12-19T16:39:57-08:00",
            "1990-12-31T23:59:60Z",
            "2024-02-29T00:00:00+01:00",
            "2024-02-29t00:00:00z",
        ] {
            assert!(rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "2026-11-28",
            "2026-11-28 23:31:36Z",
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T23:31:36",
            "2026-11-28T23:31:36.Z",
            "2026-11-28T23:31:36+0100",
            "26-11-28T23:31:36Z",
        ] {
            assert!(!rfc3339(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn signals() {
        for ok in [
            "SIGTERM",
            "TERM",
            "15",
            "SIGRTMIN+3",
            "SIGRTMAX-1",
            "SIGKILL",
            "64",
        ] {
            assert!(signal(ok), "{ok}");
        }
        for bad in [
            "",
            "SIGFOO",
            "0",
            "65",
            "015",
            "sigterm",
            "SIGRTMIN+0",
            "-9",
            "SIG",
        ] {
            assert!(!signal(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn reverse_domains() {
        for ok in [
            "com.example.key",
            "io.kubernetes.cri-o.Created",
            "a.b",
            "run.oci.hooks",
        ] {
            assert!(reverse_domain(ok), "{ok}");
        }
        for bad in [
            "key",
            "",
            ".com.example",
            "com..example",
            "1com.example",
            "com.exa mple",
        ] {
            assert!(!reverse_domain(bad), "{bad:?} accepted");
        }
    }
}
