//! The few git queries the spec tools make on a runtime-spec checkout (the `git` command).

use std::path::Path;
use std::process::Command;

fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git -C {} {}: {}",
            repo.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

fn git_text(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = git(repo, args)?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// The tag checked out in `dir`, when HEAD is exactly at one.
pub fn exact_tag(dir: &Path) -> Option<String> {
    git_text(dir, &["describe", "--tags", "--exact-match", "HEAD"]).ok()
}

/// The object a revision names (`rev-parse`): for an annotated tag, the tag object.
pub fn rev_parse(repo: &Path, rev: &str) -> Result<String, String> {
    git_text(repo, &["rev-parse", "--verify", "--quiet", rev])
        .map_err(|_| format!("{} has no revision {rev:?}", repo.display()))
}

/// The commit a revision names.
pub fn commit_of(repo: &Path, rev: &str) -> Result<String, String> {
    rev_parse(repo, &format!("{rev}^{{commit}}"))
}

/// `tag`, `commit`, ... for the object a revision names.
pub fn object_type(repo: &Path, rev: &str) -> Result<String, String> {
    git_text(repo, &["cat-file", "-t", rev])
}

/// The committer date of a commit, strict ISO 8601 (`2025-11-02T16:35:43+09:00`).
pub fn commit_date(repo: &Path, commit: &str) -> Result<String, String> {
    git_text(repo, &["log", "-1", "--format=%cI", commit])
}

/// The names in directory `dir` of the tree at `rev` (empty `dir`: the top level).
pub fn ls_tree(repo: &Path, rev: &str, dir: &str) -> Result<Vec<String>, String> {
    let spec = if dir.is_empty() {
        format!("{rev}^{{tree}}")
    } else {
        format!("{rev}:{dir}")
    };
    Ok(git_text(repo, &["ls-tree", "--name-only", &spec])?
        .lines()
        .map(str::to_owned)
        .collect())
}

/// The contents of `path` at `rev`.
pub fn show(repo: &Path, rev: &str, path: &str) -> Result<Vec<u8>, String> {
    git(repo, &["show", &format!("{rev}:{path}")])
}

/// The entries of directory `dir` of the tree at `rev`: (is a directory, name).
pub fn ls_tree_entries(repo: &Path, rev: &str, dir: &str) -> Result<Vec<(bool, String)>, String> {
    Ok(git_text(repo, &["ls-tree", &format!("{rev}:{dir}")])?
        .lines()
        .filter_map(|l| {
            let (meta, name) = l.split_once('\t')?;
            Some((
                meta.split_whitespace().nth(1) == Some("tree"),
                name.to_owned(),
            ))
        })
        .collect())
}

/// The tags that contain `commit` (`None` when the checkout does not have the commit).
pub fn tags_containing(repo: &Path, commit: &str) -> Option<Vec<String>> {
    if object_type(repo, commit).ok()?.as_str() != "commit" {
        return None;
    }
    let out = git_text(repo, &["tag", "--contains", commit]).ok()?;
    Some(out.lines().map(str::to_owned).collect())
}
