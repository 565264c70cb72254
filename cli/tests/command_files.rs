//! The container operations of the command line are argument mapping over
//! `writ::Container` (issue 8): every file of cli/src/commands is short, maps its
//! arguments onto the library's `Container`, and does no host work of its own (no
//! syscall crate, no file system access); what is not a container operation lives in
//! cli/src/tools.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::path::Path;

/// The longest a command file may be.
const MAX_LINES: usize = 80;

/// What a command file must not use: host work belongs in the library.
const HOST_WORK: [&str; 4] = ["nix::", "rustix::", "libc::", "std::fs"];

#[test]
fn every_command_file_is_argument_mapping_over_container() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    let mut problems = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            f.is_file() && name.ends_with(".rs"),
            "{name}: cli/src/commands holds only command files (tools go to cli/src/tools)"
        );
        let text = std::fs::read_to_string(f).unwrap();
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!("{name}: {lines} lines (at most {MAX_LINES})"));
        }
        if name == "mod.rs" {
            continue;
        }
        checked += 1;
        if !text.contains("pub fn run(global: &GlobalOpts") {
            problems.push(format!("{name}: no `pub fn run(global: &GlobalOpts, ...)`"));
        }
        if !text.contains("Container::") {
            problems.push(format!("{name}: does not call writ::Container"));
        }
        for w in HOST_WORK {
            if text.contains(w) {
                problems.push(format!(
                    "{name}: uses {w} (host work belongs in the library)"
                ));
            }
        }
    }
    assert!(
        checked >= 8,
        "only {checked} command files in {}",
        dir.display()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
