//! From the samples to the report's rows: medians, ratios, derived figures (run/floor,
//! throughput, slopes) and the notes that explain or flag them.

use crate::binary;
use crate::lifecycle::FLOOR_COMMAND;
use crate::report::{Cell, Column, Meta, Report, Row, Unit};
use crate::stats::{median, middle_half, slope, superlinear};
use crate::subject::Subject;

/// Bind mount counts and config sizes of the scale sections.
pub const MOUNT_COUNTS: [usize; 4] = [1, 10, 50, 200];
pub const CONFIG_SIZES: [(&str, usize); 3] = [("base", 0), ("1MB", 1 << 20), ("4MB", 4 << 20)];

/// What the run measured besides the subjects' samples.
pub struct Extra<'a> {
    pub floor: &'a [f64],
    /// Real config.json size of each CONFIG_SIZES entry measured.
    pub config_bytes: &'a [(&'static str, u64)],
    pub parallel: usize,
    pub many: usize,
    pub binary: bool,
}

struct Rows<'a> {
    subjects: &'a [Subject],
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Rows<'_> {
    /// A row of medians of `key`, when any subject has samples for it.
    fn median(&mut self, section: &'static str, key: &str, label: &str, unit: Unit, ratio: bool) {
        if self.subjects.iter().all(|s| s.samples(key).is_empty()) {
            return;
        }
        self.rows.push(Row {
            section,
            key: key.to_owned(),
            label: label.to_owned(),
            unit,
            cells: self
                .subjects
                .iter()
                .map(|s| median(&s.samples(key)).map_or(Cell::Missing, Cell::Num))
                .collect(),
            ratio,
            samples: self.subjects.iter().map(|s| s.samples(key).len()).collect(),
        });
    }

    /// A derived row: one value (or none) per subject.
    fn computed(
        &mut self,
        section: &'static str,
        key: &str,
        label: String,
        unit: Unit,
        ratio: bool,
        f: impl Fn(&Subject) -> Option<Cell>,
    ) {
        let cells: Vec<Cell> = self
            .subjects
            .iter()
            .map(|s| f(s).unwrap_or(Cell::Missing))
            .collect();
        self.rows.push(Row {
            section,
            key: key.to_owned(),
            label,
            unit,
            samples: vec![0; cells.len()],
            cells,
            ratio,
        });
    }

    /// `keys` (one per x) as a curve: the slope of the medians, per-segment slopes and the
    /// faster-than-linear test on each point's middle half, as notes.
    fn curve(&mut self, key: &str, what: &str, unit: &'static str, points: &[(String, f64)]) {
        let medians = |s: &Subject| -> Vec<(f64, f64)> {
            points
                .iter()
                .filter_map(|(k, x)| median(&s.samples(k)).map(|m| (*x, m)))
                .collect()
        };
        if !self
            .subjects
            .iter()
            .any(|s| medians(s).len() == points.len())
        {
            return;
        }
        self.computed(
            SCALE,
            key,
            format!("{what}: slope (least squares)"),
            Unit::MsPer(unit),
            true,
            |s| slope(&medians(s)).map(Cell::Num),
        );
        for s in self.subjects {
            let m = medians(s);
            if m.len() != points.len() {
                continue;
            }
            let seg: Vec<String> = m
                .windows(2)
                .map(|w| format!("{:.3}", (w[1].1 - w[0].1) / (w[1].0 - w[0].0)))
                .collect();
            self.notes.push(format!(
                "{what}, {}: ms per {unit} between successive points: {}",
                s.name,
                seg.join(" / ")
            ));
            let all: Vec<(f64, f64)> = points
                .iter()
                .flat_map(|(k, x)| middle_half(&s.samples(k)).into_iter().map(|y| (*x, y)))
                .collect();
            if let Some(why) = superlinear(&all, unit) {
                self.notes.push(format!(
                    "FLAG {what}, {}: grows faster than linear: {why}",
                    s.name
                ));
            }
        }
    }
}

/// "2.3 kB", "1.06 MB".
fn size_text(bytes: u64) -> String {
    if bytes < 100_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{:.2} MB", bytes as f64 / 1e6)
    }
}

const PER: &str = "per container (median)";
const RSS: &str = "peak RSS (median)";
const SCALE: &str = "scale";
const SECCOMP: &str = "seccomp: podman's default profile (median)";

/// The `seccomp` section's rows: with and without the profile in the same rounds, the
/// difference and the ratio, the cold root, exec.
fn seccomp_rows(r: &mut Rows<'_>) {
    let (warm, bare) = ("seccomp/warm", "seccomp/bare");
    r.median(
        SECCOMP,
        warm,
        "`run` of `true` with the profile",
        Unit::Ms,
        true,
    );
    r.median(
        SECCOMP,
        bare,
        "`run` of `true` without seccomp, same rounds",
        Unit::Ms,
        true,
    );
    if r.subjects.iter().any(|s| !s.samples(warm).is_empty()) {
        let both = |s: &Subject| Some((median(&s.samples(warm))?, median(&s.samples(bare))?));
        r.computed(
            SECCOMP,
            "seccomp/cost",
            "  seccomp's cost per container (with − without)".into(),
            Unit::Ms,
            true,
            |s| both(s).map(|(w, b)| Cell::Num(w - b)),
        );
        r.computed(
            SECCOMP,
            "seccomp/factor",
            "  with / without".into(),
            Unit::Ratio,
            false,
            |s| both(s).map(|(w, b)| Cell::Num(w / b)),
        );
    }
    r.median(
        SECCOMP,
        "seccomp/cold",
        "`run` with the profile, a fresh root each round",
        Unit::Ms,
        true,
    );
    r.median(
        SECCOMP,
        "seccomp/exec",
        "`exec ID /bin/true`, container with the profile",
        Unit::Ms,
        true,
    );
}

pub fn build(meta: Meta, subjects: &[Subject], extra: &Extra<'_>, notes: Vec<String>) -> Report {
    let columns = subjects
        .iter()
        .map(|s| Column {
            name: s.name.clone(),
            version: s.version.clone(),
            path: s.rt.bin.display().to_string(),
        })
        .collect();
    let mut r = Rows {
        subjects,
        rows: Vec::new(),
        notes,
    };

    r.median(
        PER,
        "lifecycle",
        "lifecycle: create + start + wait + delete",
        Unit::Ms,
        true,
    );
    r.median(PER, "create", "  create", Unit::Ms, true);
    r.median(PER, "start", "  start", Unit::Ms, true);
    r.median(PER, "wait", "  wait for exit of `true`", Unit::Ms, true);
    r.median(PER, "delete", "  delete", Unit::Ms, true);
    r.median(
        PER,
        "state",
        "state (1 container in the root)",
        Unit::Ms,
        true,
    );
    r.median(PER, "run", "`run` of `true`", Unit::Ms, true);
    if let Some(f) = median(extra.floor) {
        r.computed(
            PER,
            "run/floor",
            format!(
                "`run` / floor (floor {f:.2} ms, median of {})",
                extra.floor.len()
            ),
            Unit::Ratio,
            false,
            |s| median(&s.samples("run")).map(|v| Cell::Num(v / f)),
        );
        r.notes.push(format!(
            "floor: `{FLOOR_COMMAND}` with the same busybox rootfs, timed in the same rounds"
        ));
    }
    r.median(PER, "exec", "`exec ID /bin/true`", Unit::Ms, true);
    seccomp_rows(&mut r);

    for (key, label) in [
        ("rss/create", "create"),
        ("rss/start", "start"),
        ("rss/state", "state"),
        ("rss/delete", "delete"),
        ("rss/run", "run"),
        ("rss/exec", "exec"),
        (
            "rss/init",
            "container init: forked runtime, then `true` (wait4)",
        ),
    ] {
        r.median(RSS, key, label, Unit::Mib, true);
    }
    let n = extra.many;
    r.median(
        RSS,
        &format!("rss/list/{n}"),
        &format!("list with {n} containers"),
        Unit::Mib,
        true,
    );
    r.median(
        RSS,
        &format!("rss/state/{n}"),
        &format!("state with {n} containers"),
        Unit::Mib,
        true,
    );
    if subjects.iter().any(|s| !s.samples("rss/create").is_empty()) {
        r.notes.push(
            "peak RSS: VmHWM of each image of the runtime process (read at every system call \
             stop, so at every execve, and at its exit stop, under ptrace, in separate untimed \
             rounds); wait4's ru_maxrss would include the benchmark's own image, which the \
             child copies before its first execve"
                .into(),
        );
    }

    let p = extra.parallel;
    r.median(
        SCALE,
        "parallel",
        &format!("{p} in parallel (create, start, wait, delete): wall"),
        Unit::Ms,
        true,
    );
    if subjects.iter().any(|s| !s.samples("parallel").is_empty()) {
        r.computed(
            SCALE,
            "parallel/throughput",
            format!("{p} in parallel: containers"),
            Unit::PerSec,
            false,
            |s| median(&s.samples("parallel")).map(|w| Cell::Num(p as f64 * 1000.0 / w)),
        );
    }

    for c in MOUNT_COUNTS {
        r.median(
            SCALE,
            &format!("mounts/{c}"),
            &format!("`run` with {c} bind mounts"),
            Unit::Ms,
            true,
        );
    }
    let mounts: Vec<(String, f64)> = MOUNT_COUNTS
        .iter()
        .map(|c| (format!("mounts/{c}"), *c as f64))
        .collect();
    r.curve("mounts/slope", "bind mounts", "mount", &mounts);

    for (name, bytes) in extra.config_bytes {
        r.median(
            SCALE,
            &format!("config/{name}"),
            &format!("`run` with a {} config.json", size_text(*bytes)),
            Unit::Ms,
            true,
        );
    }
    if !extra.config_bytes.is_empty() {
        let sizes: Vec<(String, f64)> = extra
            .config_bytes
            .iter()
            .map(|(name, b)| (format!("config/{name}"), *b as f64 / 1e6))
            .collect();
        r.curve("config/slope", "config size", "MB", &sizes);
        r.notes
            .push("config size: config.json padded with annotations of 1,000-byte values".into());
    }

    r.median(
        SCALE,
        &format!("list/{n}"),
        &format!("`list` with {n} containers"),
        Unit::Ms,
        true,
    );
    r.median(
        SCALE,
        &format!("state/{n}"),
        &format!("`state` with {n} containers"),
        Unit::Ms,
        true,
    );

    if extra.binary {
        r.computed(
            "binary",
            "binary/size",
            "size".into(),
            Unit::Bytes,
            true,
            |s| binary::size(&s.rt.bin).map(|b| Cell::Num(b as f64)),
        );
        r.computed(
            "binary",
            "binary/libraries",
            "shared libraries (ldd)".into(),
            Unit::Text,
            false,
            |s| {
                Some(Cell::Text(match binary::shared_libraries(&s.rt.bin) {
                    Ok(l) if l.is_empty() => "none (static)".into(),
                    Ok(l) => format!("{}: {}", l.len(), l.join(" ")),
                    Err(e) => e,
                }))
            },
        );
    }
    for s in subjects {
        let keys: Vec<String> = s
            .keys()
            .into_iter()
            .filter_map(|k| k.strip_prefix("reexec/").map(str::to_owned))
            .collect();
        if !keys.is_empty() {
            r.notes.push(format!(
                "{} executes another image after its start (re-exec) in: {}; its peak RSS is the largest of its images",
                s.name,
                keys.join(", ")
            ));
        }
    }
    Report {
        meta,
        columns,
        rows: r.rows,
        notes: r.notes,
    }
}
