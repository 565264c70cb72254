//! The static musl build of writ (`cargo build-static`, .cargo/config.toml) links Debian's
//! libseccomp.a, which was built against glibc with `_FORTIFY_SOURCE` and so calls glibc's
//! `__fprintf_chk` (from `seccomp_export_pfc` only). musl has no `__*_chk` functions: for a
//! musl target this compiles `musl-compat/fprintf_chk.c` with the C compiler (`$CC`, else
//! `cc`) into a static library linked with writ. Other targets build nothing here.

use std::path::PathBuf;
use std::process::Command;

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{cmd:?}: {status}"));
    }
    Ok(())
}

fn main() -> Result<(), String> {
    println!("cargo:rerun-if-changed=musl-compat/fprintf_chk.c");
    println!("cargo:rerun-if-env-changed=CC");
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() != Ok("musl") {
        return Ok(());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    let obj = out.join("fprintf_chk.o");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    run(Command::new(cc)
        .args(["-O2", "-fPIC", "-c", "musl-compat/fprintf_chk.c", "-o"])
        .arg(&obj))?;
    run(Command::new("ar")
        .arg("crs")
        .arg(out.join("libwrit_musl_compat.a"))
        .arg(&obj))?;
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=writ_musl_compat");
    Ok(())
}
