//! A small logger for the CLI: `--log FILE`, `--log-format text|json`, `--debug`.
//!
//! Engines read the log file: podman and containerd parse each line of a json log as one
//! object `{"level","msg","time"}`; the text format is logrus-like
//! (`time="..." level=error msg="..."`), as runc writes it. Without `--log` the lines go to
//! stderr in the same formats (a multi-line text message: its first line in the log line,
//! the others after it unchanged).
//! Hand-written instead of `tracing` to keep startup cheap (no registry, no allocation
//! before the first message).
//!
//! The container's init is a fork of `create` and must not keep the log file (a host file
//! a sibling container could reach through `/proc/<pid>/fd`): it [`divert`]s its lines to
//! create (or, once started, to `start`) as `Log` messages over its channel, and they are
//! written by that process's logger.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// An operation failed.
    Error,
    /// Something is off but the operation goes on.
    Warn,
    /// For information.
    Info,
    /// Written only with `--debug`.
    Debug,
}

impl Level {
    /// The logrus name of the level (what engines expect in `level`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// The level as one byte (for the init's `Log` messages).
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The level of its [`Level::as_u8`] number.
    pub fn from_u8(b: u8) -> Option<Level> {
        [Level::Error, Level::Warn, Level::Info, Level::Debug]
            .get(usize::from(b))
            .copied()
    }
}

/// Output format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// logrus-like text lines.
    Text,
    /// One JSON object per line (`level`, `msg`, `time`), as containerd reads.
    Json,
}

/// Why the logger cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// `--log-format` is neither text nor json.
    #[error("unknown log format {0:?}: expected \"text\" or \"json\"")]
    Format(String),
    /// The `--log` file cannot be opened.
    #[error("opening log file {}: {source}", path.display())]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl std::str::FromStr for Format {
    type Err = LogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            other => Err(LogError::Format(other.to_string())),
        }
    }
}

struct Logger {
    file: Option<File>,
    format: Format,
    max: Level,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Where lines go instead of the log file: [`OWN_LOG`], [`MUTED`], or a socket fd.
static DIVERT: AtomicI32 = AtomicI32::new(OWN_LOG);
const OWN_LOG: i32 = -1;
const MUTED: i32 = -2;

/// How a diverted line is sent over the socket (the init's channel protocol, given with
/// the first [`divert`]).
pub type Send = fn(std::os::fd::RawFd, Level, &str);

static SEND: OnceLock<Send> = OnceLock::new();

/// In the container's init: from now on, send log lines over the socket `fd` with `send`
/// (`Some`), or drop them (`None`). The log file itself is never written again by this
/// process (its fd is closed).
pub fn divert(to: Option<(std::os::fd::RawFd, Send)>) {
    match to {
        Some((fd, send)) => {
            let _ = SEND.set(send);
            DIVERT.store(fd, Ordering::Relaxed);
        }
        None => DIVERT.store(MUTED, Ordering::Relaxed),
    }
}

/// Sets up the logger once, from the global options. Later calls are ignored.
/// Opening the log file may fail; the error names the file.
pub fn init(log: Option<&Path>, format: Format, debug: bool) -> Result<(), LogError> {
    let file = match log {
        Some(path) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| LogError::Open {
                    path: path.to_path_buf(),
                    source,
                })?,
        ),
        None => None,
    };
    let max = if debug { Level::Debug } else { Level::Info };
    let _ = LOGGER.set(Logger { file, format, max });
    Ok(())
}

/// Whether debug lines are written (to avoid formatting them otherwise).
pub fn debug_enabled() -> bool {
    LOGGER.get().is_some_and(|l| l.max >= Level::Debug)
}

/// Whether a log file was given with `--log`.
pub fn has_log_file() -> bool {
    LOGGER.get().is_some_and(|l| l.file.is_some())
}

/// Writes one line at `level`.
pub fn log(level: Level, msg: &str) {
    let (format, max) = LOGGER
        .get()
        .map_or((Format::Text, Level::Info), |l| (l.format, l.max));
    if level > max {
        return;
    }
    match DIVERT.load(Ordering::Relaxed) {
        OWN_LOG => {}
        MUTED => return,
        fd => {
            if let Some(send) = SEND.get() {
                send(fd, level, msg);
            }
            return;
        }
    }
    match LOGGER.get().and_then(|l| l.file.as_ref()) {
        // One write(2) per line: lines of concurrent writers (O_APPEND) never interleave.
        Some(mut f) => {
            let _ = f.write_all(render(format, level, msg, &rfc3339_now()).as_bytes());
        }
        // On stderr, text is logrus style as runc writes it; a message of several lines
        // (create's diagnostics, with their source lines and carets) keeps its first line
        // in the log line and the rest below it as it is, for people to read.
        None if format == Format::Text => {
            let (first, rest) = msg.split_once('\n').unwrap_or((msg, ""));
            let mut line = render(format, level, first, &rfc3339_now());
            if !rest.is_empty() {
                line.push_str(rest);
                line.push('\n');
            }
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        None => {
            let _ =
                std::io::stderr().write_all(render(format, level, msg, &rfc3339_now()).as_bytes());
        }
    }
}

/// Logs an error line.
pub fn error(msg: &str) {
    log(Level::Error, msg);
}

/// Logs a warning line.
pub fn warn(msg: &str) {
    log(Level::Warn, msg);
}

/// Logs an info line.
pub fn info(msg: &str) {
    log(Level::Info, msg);
}

/// Logs a debug line; `msg` is only built when `--debug` is on.
pub fn debug(msg: impl FnOnce() -> String) {
    if debug_enabled() {
        log(Level::Debug, &msg());
    }
}

/// Formats one log line (with its trailing newline).
pub fn render(format: Format, level: Level, msg: &str, time: &str) -> String {
    match format {
        Format::Json => {
            let mut s = String::with_capacity(msg.len() + 64);
            s.push_str("{\"level\":\"");
            s.push_str(level.as_str());
            s.push_str("\",\"msg\":");
            s.push_str(&json_string(msg));
            s.push_str(",\"time\":\"");
            s.push_str(time);
            s.push_str("\"}\n");
            s
        }
        Format::Text => format!(
            "time=\"{time}\" level={} msg={}\n",
            level.as_str(),
            json_string(msg)
        ),
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// The current time as RFC 3339 in UTC with nanoseconds, e.g. `2026-11-28T23:23:07.123456789Z`.
pub fn rfc3339_now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

/// Formats seconds since the epoch (+ nanoseconds) as RFC 3339 UTC.
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(1_795_993_387, 0), "2026-11-29T23:03:07.000000000Z");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59.000000000Z");
    }

    #[test]
    fn json_line_is_one_object_with_level_msg_time() {
        let line = render(Format::Json, Level::Error, "bad \"id\"\nx", "T");
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        let v: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "bad \"id\"\nx");
        assert_eq!(v["time"], "T");
    }

    #[test]
    fn text_line_is_logrus_like() {
        let line = render(Format::Text, Level::Warn, "a b", "T");
        assert_eq!(line, "time=\"T\" level=warning msg=\"a b\"\n");
    }

    #[test]
    fn levels_round_trip_as_bytes() {
        for l in [Level::Error, Level::Warn, Level::Info, Level::Debug] {
            assert_eq!(Level::from_u8(l.as_u8()), Some(l));
        }
        assert_eq!(Level::from_u8(4), None);
    }

    #[test]
    fn format_parses() {
        assert_eq!("json".parse::<Format>().ok(), Some(Format::Json));
        assert_eq!("text".parse::<Format>().ok(), Some(Format::Text));
        assert!("xml".parse::<Format>().is_err());
    }
}
