//! conformance-report: the latest result of every scenario on every runtime, as a
//! matrix, from `target/conformance-report.txt` (appended to by the scenario tests).
//!
//! Usage: conformance-report [FILE]

use std::collections::BTreeMap;

fn main() {
    let path = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(writ_conformance::report_path);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "conformance-report: {}: {e} (run the conformance tests first)",
                path.display()
            );
            std::process::exit(1);
        }
    };
    // scenario -> runtime kind -> (result, detail); later lines win.
    let mut table: BTreeMap<String, BTreeMap<String, (String, String)>> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.splitn(4, '\t').collect();
        if f.len() < 3 {
            continue;
        }
        let kind = f[1].split_whitespace().next().unwrap_or(f[1]).to_owned();
        table.entry(f[0].to_owned()).or_default().insert(
            kind,
            (f[2].to_owned(), f.get(3).copied().unwrap_or("").to_owned()),
        );
    }
    let kinds = ["writ", "runc", "crun"];
    println!(
        "{:<28} {:<6} {:<6} {:<6}",
        "scenario", kinds[0], kinds[1], kinds[2]
    );
    let mut totals = BTreeMap::new();
    let mut notes = Vec::new();
    for (scenario, by) in &table {
        let cell = |k: &str| by.get(k).map(|(r, _)| r.as_str()).unwrap_or("-");
        println!(
            "{scenario:<28} {:<6} {:<6} {:<6}",
            cell("writ"),
            cell("runc"),
            cell("crun")
        );
        for k in kinds {
            if let Some((r, d)) = by.get(k) {
                *totals.entry((k, r.clone())).or_insert(0) += 1;
                if !d.is_empty() && (r != "SKIP" || notes.is_empty()) {
                    notes.push(format!("  {scenario} [{k}] {r}: {d}"));
                }
            }
        }
    }
    println!();
    for k in kinds {
        let get = |r: &str| totals.get(&(k, r.to_owned())).copied().unwrap_or(0);
        println!(
            "{k}: {} pass, {} fail, {} skipped",
            get("PASS"),
            get("FAIL"),
            get("SKIP")
        );
    }
    if !notes.is_empty() {
        println!("\nnotes (deviations, failures, skip reasons):");
        for n in notes {
            println!("{n}");
        }
    }
}
