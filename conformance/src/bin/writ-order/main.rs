//! writ-order: writes the function order the shipped writ binary is linked with
//! (`cli/symbol-order.txt`, lld's `--symbol-ordering-file`, set by `cargo build-static`).
//!
//! Why: every writ call maps the pages of its binary it touches, and the kernel's
//! fault-around maps the 64 kB around each faulting page of the text. Left in the order
//! the compiler emits them, the few hundred functions a command runs are spread over the
//! whole 2.8 MB text, so `create` mapped 2.6 MB of text for 0.8 MB of functions it
//! enters. Linked first, and next to each other, they fill the windows fault-around maps.
//!
//! How: a binary with symbols, built exactly like the shipped one (same profile, so the
//! same symbol names; `cargo build-symbols`, .cargo/config.toml), runs a scenario of every
//! command (create, state, start, delete, run, exec, ps, pause, resume, kill, list) with
//! every process traced (trace.rs); the functions any of them entered are written,
//! those used by the most commands first, then in the order they were first entered.
//!
//! Usage (as root):
//!   cargo build-symbols --release -p writ-cli
//!   cargo run -p writ-conformance --bin writ-order -- \
//!       --writ target/symbols/x86_64-unknown-linux-musl/release/writ --out cli/symbol-order.txt
//!
//! A stale order costs memory, never correctness: names the linker does not find are
//! skipped (`--no-warn-symbol-ordering`), and writ-bench's peak-RSS figures show the loss.

mod trace;

use std::path::{Path, PathBuf};
use std::process::Command;

use trace::{Coverage, Functions};
use writ_conformance::Bundle;

const USAGE: &str = "usage: writ-order --writ PATH (a writ binary with symbols) [--out FILE]";

/// The executable segment of an ELF file: (link address, file offset, size), from readelf.
fn exec_segment(binary: &Path) -> Result<(u64, u64, u64), String> {
    let out = Command::new("readelf")
        .arg("-lW")
        .arg(binary)
        .output()
        .map_err(|e| format!("readelf: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let num = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align, Flg "R E".
            if f.first() != Some(&"LOAD") || !f.contains(&"E") {
                return None;
            }
            Some((num(f.get(2)?)?, num(f.get(1)?)?, num(f.get(4)?)?))
        })
        .next()
        .ok_or_else(|| format!("{}: no executable LOAD segment", binary.display()))
}

/// The functions of `binary` in its executable segment, from `nm`.
fn functions(binary: &Path) -> Result<Functions, String> {
    let (vaddr, offset, size) = exec_segment(binary)?;
    let out = Command::new("nm")
        .args(["-S", "--defined-only"])
        .arg(binary)
        .output()
        .map_err(|e| format!("nm: {e}"))?;
    let mut fns: Vec<(u64, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [addr, len, kind, name] = f[..] else {
                return None;
            };
            let addr = u64::from_str_radix(addr, 16).ok()?;
            let len = u64::from_str_radix(len, 16).ok()?;
            let code = matches!(kind, "t" | "T" | "W" | "w");
            (code && len > 0 && (vaddr..vaddr + size).contains(&addr))
                .then(|| (addr, name.to_owned()))
        })
        .collect();
    if fns.is_empty() {
        return Err(format!(
            "{}: no function symbols (a stripped binary? build it with `cargo build-symbols`)",
            binary.display()
        ));
    }
    fns.sort();
    fns.dedup_by_key(|f| f.0);
    let start = fns[0].0;
    Ok(Functions {
        addrs: fns.iter().map(|f| f.0).collect(),
        names: fns.into_iter().map(|f| f.1).collect(),
        start,
        end: vaddr + size,
        file_offset: offset + (start - vaddr),
    })
}

/// The scenario: every command, each at least once, in one root. Commands pass `--root`
/// first so the tracer can tell them apart.
fn scenario(writ: &Path, root: &Path, once: &Bundle, sleeper: &Bundle) -> String {
    let w = format!("{} --root {}", writ.display(), root.display());
    let (b1, b2) = (once.path().display(), sleeper.path().display());
    format!(
        "set -e
until_stopped() {{ until {w} state \"$1\" | grep -q '\"stopped\"'; do sleep 0.05; done; }}
{w} create --bundle {b1} order-c
{w} state order-c >/dev/null
{w} start order-c
until_stopped order-c
{w} delete order-c
{w} run --bundle {b1} order-r
{w} run --detach --bundle {b2} order-s
{w} exec order-s /bin/true
{w} ps order-s >/dev/null
{w} pause order-s
{w} resume order-s
{w} list >/dev/null
{w} kill order-s KILL
until_stopped order-s
{w} delete order-s
"
    )
}

/// The order: functions entered by the most commands first, then by first entry.
fn order(fns: &Functions, cov: &Coverage) -> Vec<String> {
    let mut seen: Vec<(usize, usize)> = cov.first_seen.iter().copied().enumerate().collect();
    seen.sort_by_key(|&(first, f)| (std::cmp::Reverse(cov.users[&f].len()), first));
    seen.into_iter()
        .map(|(_, f)| fns.names[f].clone())
        .collect()
}

fn run() -> Result<(), String> {
    let mut writ: Option<PathBuf> = None;
    let mut out = PathBuf::from("cli/symbol-order.txt");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--writ" => writ = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from).ok_or(USAGE)?,
            _ => return Err(USAGE.into()),
        }
    }
    let writ = writ.ok_or(USAGE)?;
    let fns = functions(&writ)?;
    let once = Bundle::new();
    once.set_args(&["/bin/true"]);
    let sleeper = Bundle::new();
    sleeper.set_args(&["/bin/sleep", "1000"]);
    let root = tempfile::tempdir().map_err(|e| format!("state root: {e}"))?;
    let script = scenario(&writ, root.path(), &once, &sleeper);
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script]);
    let traced = trace::trace(&writ, &fns, cmd);
    // Whatever happened, leave no container behind.
    for id in ["order-c", "order-r", "order-s"] {
        let _ = Command::new(&writ)
            .arg("--root")
            .arg(root.path())
            .args(["delete", "--force", id])
            .stderr(std::process::Stdio::null())
            .status();
    }
    let cov = traced?;
    let names = order(&fns, &cov);
    let mut text = format!(
        "# The order of writ's functions in the shipped binary (lld --symbol-ordering-file),\n\
         # written by writ-order (conformance/src/bin/writ-order/main.rs says why and how to\n\
         # regenerate it): {} functions, those entered by the most commands first.\n",
        names.len()
    );
    for n in &names {
        text.push_str(n);
        text.push('\n');
    }
    std::fs::write(&out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "writ-order: {} of {} functions entered; written to {}",
        names.len(),
        fns.names.len(),
        out.display()
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("writ-order: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_puts_shared_functions_first_then_first_entered() {
        let fns = Functions {
            addrs: vec![0x10, 0x20, 0x30],
            names: vec!["a".into(), "b".into(), "c".into()],
            start: 0x10,
            end: 0x40,
            file_offset: 0,
        };
        // Entered in the order c, a, b; b by two commands.
        let mut cov = Coverage {
            first_seen: vec![2, 0, 1],
            ..Coverage::default()
        };
        let users = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        cov.users.insert(2, users(&["create"]));
        cov.users.insert(0, users(&["create"]));
        cov.users.insert(1, users(&["create", "start"]));
        assert_eq!(order(&fns, &cov), ["b", "c", "a"]);
    }

    #[test]
    fn functions_of_this_test_binary_include_this_test() {
        let me = std::env::current_exe().expect("current exe");
        let fns = functions(&me).expect("functions");
        assert!(fns.addrs.windows(2).all(|w| w[0] < w[1]));
        assert!(fns.addrs.iter().all(|a| (fns.start..fns.end).contains(a)));
        assert!(
            fns.names
                .iter()
                .any(|n| n.contains("functions_of_this_test_binary")),
            "no symbol of this test among {} functions",
            fns.names.len()
        );
    }
}
