//! The README's coverage summary (between `<!-- coverage:begin -->` and
//! `<!-- coverage:end -->`) is the current output of
//! `writ coverage --format markdown --summary`.

use writ_cli::tools::coverage;

#[test]
fn readme_summary_is_current() {
    let path = coverage::workspace_root().join("README.md");
    let readme = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let section =
        coverage::readme_section(&readme).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let want = coverage::readme_summary(&coverage::claimed());
    if section != want {
        panic!(
            "the coverage summary in {} is out of date; refresh it with\n    \
             cargo run -p writ-cli -- coverage --update-readme README.md\n\
             --- README has ---\n{section}\n--- current output ---\n{want}",
            path.display()
        );
    }
}
