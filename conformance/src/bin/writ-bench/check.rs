//! `writ-bench --check`: the CI's regression check on the lifecycle cost against crun.
//!
//! writ and crun each do one lifecycle per round, the order flipping every round (ABBA...),
//! so both see the same machine state; the figure is the median of the per-round ratios
//! writ/crun, which a noisy neighbour shifts much less than it shifts either runtime's
//! absolute time. Above `--max-ratio` the check runs again with twice the rounds and fails
//! only when that run is above the limit too. crun must be installed and usable (CI
//! installs it): a comparison that cannot be made is an error, never a pass.

use writ_conformance::{become_subreaper, pure_cgroup2_root, Kind};

use crate::lifecycle::lifecycle;
use crate::measure::Mode;
use crate::stats::{median, quantile};
use crate::subject::Subject;
use crate::{apply_hide, loadavg, progress, subjects, writ_binary, Args};

/// One attempt's figures: the median of the per-round ratios, the ratio of the two
/// runtimes' lower deciles, and each runtime's median lifecycle (ms).
struct Attempt {
    median_ratio: f64,
    low_ratio: f64,
    writ: f64,
    crun: f64,
}

/// The rounds of one attempt.
fn attempt(writ: &Subject, crun: &Subject, rounds: usize) -> Result<Attempt, String> {
    let mut ratios = Vec::with_capacity(rounds);
    let (mut w, mut c) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = lifecycle(writ, Mode::Time)?;
            (a, lifecycle(crun, Mode::Time)?)
        } else {
            let b = lifecycle(crun, Mode::Time)?;
            (lifecycle(writ, Mode::Time)?, b)
        };
        ratios.push(a / b);
        w.push(a);
        c.push(b);
    }
    let none = || "no rounds".to_string();
    Ok(Attempt {
        median_ratio: median(&ratios).ok_or_else(none)?,
        low_ratio: quantile(&w, 0.1).ok_or_else(none)? / quantile(&c, 0.1).ok_or_else(none)?,
        writ: median(&w).ok_or_else(none)?,
        crun: median(&c).ok_or_else(none)?,
    })
}

/// Exit code: 0 pass, 1 regression, 2 the check could not be made.
pub fn run(args: &Args) -> i32 {
    let rounds = args.n.unwrap_or(100);
    // crun refuses hybrid hosts; on a pure cgroup v2 host there is nothing to hide.
    if pure_cgroup2_root().is_none() {
        match apply_hide() {
            Ok(v) => progress(&v),
            Err(e) => {
                eprintln!("writ-bench --check: {e}");
                return 2;
            }
        }
    }
    become_subreaper();
    let mut notes = Vec::new();
    let subjects = subjects(
        writ_binary(args.writ.clone()),
        &[Kind::Writ, Kind::Crun],
        &mut notes,
    );
    let (Some(writ), Some(crun)) = (
        subjects.iter().find(|s| s.name == "writ"),
        subjects.iter().find(|s| s.name == "crun"),
    ) else {
        eprintln!(
            "writ-bench --check: cannot compare writ with crun: {}",
            notes.join("; ")
        );
        return 2;
    };
    progress(&format!(
        "check: writ {} vs crun {} ({}), load average {}",
        writ.rt.bin.display(),
        crun.version,
        crun.rt.bin.display(),
        loadavg()
    ));
    // Warm-up: page cache, binaries, and both runtimes work at all.
    for s in [writ, crun] {
        for _ in 0..3 {
            if let Err(e) = lifecycle(s, Mode::Time) {
                eprintln!("writ-bench --check: warm-up: {e}");
                return 2;
            }
        }
    }
    let limit = args.max_ratio;
    for (attempt_no, n) in [(1, rounds), (2, rounds * 2)] {
        let a = match attempt(writ, crun, n) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("writ-bench --check: {e}");
                return 2;
            }
        };
        let pass = a.median_ratio <= limit || a.low_ratio <= limit;
        println!(
            "writ-bench --check: lifecycle writ/crun {:.3} (median of {n} per-round ratios), \
             {:.3} (ratio of the lower deciles); medians writ {:.2} ms, crun {:.2} ms; \
             limit {limit}; load average {}: {}",
            a.median_ratio,
            a.low_ratio,
            a.writ,
            a.crun,
            loadavg(),
            if pass { "pass" } else { "above the limit" }
        );
        if pass {
            return 0;
        }
        if attempt_no == 1 {
            println!("writ-bench --check: retrying once with {} rounds", n * 2);
        }
    }
    println!("writ-bench --check: FAIL: writ's lifecycle regressed past {limit}× crun's");
    1
}
