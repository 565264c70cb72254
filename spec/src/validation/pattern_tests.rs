//! The regex-lite translations of the schemas' patterns match what the patterns mean in
//! ECMA-262 (regress, an ECMA engine): both agree on every string of a corpus built, per
//! pattern, from strings that match and their one-character edits with line terminators,
//! spaces and non-ASCII characters.

use std::collections::BTreeSet;

use super::{matches, PATTERNS, PATTERNS_REGEX_LITE};

/// Strings each pattern matches (a pattern of the schemas missing here fails the test: add
/// some for it).
const SAMPLES: &[(&str, &[&str])] = &[
    ("^RLIMIT_[A-Z]+$", &["RLIMIT_NOFILE", "RLIMIT_AS"]),
    ("^[0-9, -]*$", &["", "0-3", "0,2, 4-7"]),
    ("^[cbup]$", &["c", "b", "u", "p"]),
    ("^[1-9][0-9]*[KMG]B$", &["2MB", "1GB", "64KB"]),
    (".{1,}", &["x", "é", "a\nb"]),
    ("^MB:[^\\n]*$", &["MB:", "MB:0=100;1=50", "MB:\r"]),
    ("^CAP_[A-Z_]+$", &["CAP_SYS_ADMIN", "CAP_CHOWN"]),
];

/// Seeds for every pattern besides its samples.
const SEEDS: &[&str] = &["", "\n", "\r", "\u{2028}", "\u{2029}", " ", "é", "😀"];

/// What the edits insert or substitute.
const ALPHABET: &[char] = &[
    '\n', '\r', '\u{2028}', '\u{2029}', '\t', ' ', '\u{a0}', '\u{feff}', 'é', '😀', 'A', 'z', '0',
    '9', '_', '-', ',', 'B', 'c', '=',
];

/// `seed`, and every string one insertion, deletion or substitution away from it.
fn edits(seed: &str) -> Vec<String> {
    let chars: Vec<char> = seed.chars().collect();
    let mut out = vec![seed.to_owned()];
    for i in 0..=chars.len() {
        for &c in ALPHABET {
            let mut s = chars.clone();
            s.insert(i, c);
            out.push(s.into_iter().collect());
            if i < chars.len() {
                let mut s = chars.clone();
                s[i] = c;
                out.push(s.into_iter().collect());
            }
        }
        if i < chars.len() {
            let mut s = chars.clone();
            s.remove(i);
            out.push(s.into_iter().collect());
        }
    }
    out
}

#[test]
fn every_translated_pattern_matches_what_ecma_262_matches() {
    assert_eq!(PATTERNS.len(), PATTERNS_REGEX_LITE.len());
    let mut disagreements = Vec::new();
    for (i, pattern) in PATTERNS.iter().enumerate() {
        let ecma = regress::Regex::new(pattern).unwrap();
        let samples = SAMPLES
            .iter()
            .find(|(p, _)| p == pattern)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| panic!("no samples for the pattern {pattern:?}: add some"));
        for s in samples {
            assert!(
                ecma.find(s).is_some(),
                "sample {s:?} does not match {pattern:?}"
            );
        }
        let corpus: BTreeSet<String> = samples.iter().chain(SEEDS).flat_map(|s| edits(s)).collect();
        let (mut matched, mut unmatched) = (0, 0);
        for s in &corpus {
            let expected = ecma.find(s).is_some();
            if expected {
                matched += 1;
            } else {
                unmatched += 1;
            }
            if matches(i, s) != expected {
                disagreements.push(format!(
                    "{pattern:?} (as {:?}) on {s:?}: ECMA {expected}",
                    PATTERNS_REGEX_LITE[i]
                ));
            }
        }
        assert!(
            matched > 0 && unmatched > 0,
            "{pattern:?}: the corpus should hold strings that match and strings that do not"
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements, e.g.:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(10)].join("\n")
    );
}
