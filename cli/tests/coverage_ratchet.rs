//! The coverage ratchet: the number of verified Linux MUST / MUST NOT / REQUIRED
//! requirements recorded in spec/ratchet.toml may only go up, and every waived
//! requirement says why.

use writ_cli::tools::coverage::{self, Status};
use writ_spec::requirements::REQUIREMENTS;

#[test]
fn verified_mandatory_count_does_not_go_down() {
    let path = coverage::ratchet_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let recorded =
        coverage::parse_ratchet(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cov = coverage::claimed();
    let now = cov.ratchet_count();
    let unverified: Vec<String> = cov
        .linux_mandatory()
        .filter(|r| r.status != Status::Verified && (!r.handlers.is_empty() || !r.tests.is_empty()))
        .map(|r| {
            format!(
                "  {} ({}: {} handler(s), {} test(s))",
                r.req.id,
                r.status.as_str(),
                r.handlers.len(),
                r.tests.len()
            )
        })
        .collect();
    assert!(
        now >= recorded,
        "the coverage ratchet went down: {now} verified Linux MUST/MUST NOT/REQUIRED \
         requirements, {} records {recorded}. A handler lost its #[requirement] or a test \
         its #[verifies]. Half-covered mandatory requirements now:\n{}",
        path.display(),
        unverified.join("\n")
    );
    if now > recorded {
        eprintln!(
            "coverage ratchet: {now} verified Linux MUST/MUST NOT/REQUIRED requirements, \
             {} records {recorded}; record the gain with \
             `cargo run -p writ-cli -- coverage --update-ratchet`",
            path.display()
        );
    }
}

#[test]
fn every_waived_requirement_has_a_reason() {
    let bad: Vec<&str> = REQUIREMENTS
        .iter()
        .filter(|r| r.waived.is_some_and(|w| w.trim().len() < 10))
        .map(|r| r.id)
        .collect();
    assert!(
        bad.is_empty(),
        "waived requirements without a real reason (write why in `waived = \"...\"` in \
         spec/requirements/*.toml): {bad:?}"
    );
}

#[test]
fn ratchet_file_is_what_update_ratchet_writes() {
    // The file keeps the format `--update-ratchet` writes, so updates are clean diffs.
    let path = coverage::ratchet_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let n = coverage::parse_ratchet(&text).unwrap();
    assert_eq!(
        text,
        coverage::render_ratchet(n),
        "{} was edited by hand",
        path.display()
    );
}
