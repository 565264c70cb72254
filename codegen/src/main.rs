//! `writ-codegen`: regenerate writ-spec from the pinned OCI runtime-spec schemas.
//!
//! ```text
//! writ-codegen [--schema-dir DIR] [--workspace DIR] [--check] [--update-lock]
//! writ-codegen requirements ...   (the requirements list tool; see `requirements --help`)
//! writ-codegen bump CHECKOUT ...   (move to another runtime-spec release; see `bump --help`)
//! ```
//! Default: write every generated file under `spec/src/generated/`. `--check` regenerates in
//! memory and exits 1 naming each file that differs. `--update-lock` accepts the schema files
//! found and rewrites `spec/schema.lock` (tag and commit from the SOURCE.txt beside the
//! schema directory).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use writ_codegen::generate::{self, Options};

const USAGE: &str = "usage: writ-codegen [--schema-dir DIR] [--workspace DIR] [--check] [--update-lock] [--list-checks]
       writ-codegen requirements --help
       writ-codegen bump --help";

fn find_workspace_root() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let from_manifest = manifest.parent().map(Path::to_path_buf);
    let is_root =
        |p: &Path| p.join("spec").join("Cargo.toml").is_file() && p.join("Cargo.toml").is_file();
    if let Some(p) = from_manifest.filter(|p| is_root(p)) {
        return Some(p);
    }
    let mut dir = std::env::current_dir().ok()?;
    loop {
        if is_root(&dir) {
            return Some(dir);
        }
        if !dir.pop() {
            return None;
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("requirements") {
        let code = writ_codegen::requirements::main(&args[1..]);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if args.first().map(String::as_str) == Some("bump") {
        let code = writ_codegen::bump::main(&args[1..], find_workspace_root());
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let mut schema_dir: Option<PathBuf> = None;
    let mut workspace: Option<PathBuf> = None;
    let mut check = false;
    let mut update_lock = false;
    let mut list_checks = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => check = true,
            "--update-lock" => update_lock = true,
            "--list-checks" => list_checks = true,
            "--schema-dir" | "--workspace" => {
                let Some(v) = it.next() else {
                    eprintln!("writ-codegen: {a} needs a value\n{USAGE}");
                    return ExitCode::from(2);
                };
                if a == "--schema-dir" {
                    schema_dir = Some(PathBuf::from(v));
                } else {
                    workspace = Some(PathBuf::from(v));
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("writ-codegen: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if check && update_lock {
        eprintln!("writ-codegen: --check and --update-lock exclude each other");
        return ExitCode::from(2);
    }
    let Some(root) = workspace.or_else(find_workspace_root) else {
        eprintln!("writ-codegen: cannot find the workspace root (a directory with spec/Cargo.toml); pass --workspace DIR");
        return ExitCode::from(2);
    };
    let schema_dir = match schema_dir {
        Some(d) => d,
        None => match generate::pinned_schema_dir(&root) {
            Ok(dir) => dir,
            Err(e) => {
                eprintln!("writ-codegen: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let opts = Options {
        workspace_root: root.clone(),
        schema_dir,
        update_lock,
    };
    if list_checks {
        return match generate::list_checks(&opts) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("writ-codegen: {e}");
                ExitCode::from(1)
            }
        };
    }
    let out = match generate::generate(&opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("writ-codegen: {e}");
            return ExitCode::from(1);
        }
    };
    for n in &out.notes {
        eprintln!("writ-codegen: {n}");
    }
    let lines: usize = out.files.iter().map(|f| f.contents.lines().count()).sum();
    if check {
        let mut stale = 0;
        for f in &out.files {
            let path = root.join(&f.path);
            match std::fs::read_to_string(&path) {
                Ok(existing) if existing == f.contents => {}
                Ok(_) => {
                    eprintln!(
                        "writ-codegen: {} differs from what the schemas generate",
                        f.path.display()
                    );
                    stale += 1;
                }
                Err(e) => {
                    eprintln!("writ-codegen: {}: {e}", f.path.display());
                    stale += 1;
                }
            }
        }
        if stale > 0 {
            eprintln!("writ-codegen: {stale} generated file(s) out of date; run `cargo run -p writ-codegen` to regenerate");
            return ExitCode::from(1);
        }
        println!(
            "writ-codegen: {} files up to date ({lines} lines, generated in {:.1} ms)",
            out.files.len(),
            out.elapsed.as_secs_f64() * 1000.0
        );
        return ExitCode::SUCCESS;
    }
    for f in &out.files {
        let path = root.join(&f.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(f.contents.as_str()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(parent) {
                eprintln!("writ-codegen: {}: {e}", parent.display());
                return ExitCode::from(1);
            }
        }
        if let Err(e) = std::fs::write(&path, &f.contents) {
            eprintln!("writ-codegen: {}: {e}", path.display());
            return ExitCode::from(1);
        }
        println!("writ-codegen: wrote {}", f.path.display());
    }
    println!(
        "writ-codegen: {} files, {lines} lines, generated in {:.1} ms",
        out.files.len(),
        out.elapsed.as_secs_f64() * 1000.0
    );
    ExitCode::SUCCESS
}
