//! The fixed cost every invocation pays before `main`: the binary's size and the shared
//! libraries the dynamic loader maps for it.

use std::path::Path;
use std::process::Command;

/// File size in bytes.
pub fn size(bin: &Path) -> Option<u64> {
    std::fs::metadata(bin).ok().map(|m| m.len())
}

/// The shared libraries `ldd` resolves for `bin` (sonames, without the vDSO and the
/// loader itself); empty for a static binary.
pub fn shared_libraries(bin: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("ldd")
        .arg(bin)
        .output()
        .map_err(|e| format!("ldd: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // "not a dynamic executable" (on stdout or stderr) means static.
        let err = String::from_utf8_lossy(&out.stderr);
        if text.contains("not a dynamic") || err.contains("not a dynamic") {
            return Ok(Vec::new());
        }
        return Err(format!("ldd {}: {}", bin.display(), err.trim()));
    }
    Ok(text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !n.starts_with("linux-vdso") && !n.contains("ld-linux"))
        .map(|n| n.rsplit('/').next().unwrap_or(n).to_owned())
        .collect())
}
