//! Finds the normative statements of a runtime-spec markdown document.
//!
//! A document is cut into blocks (paragraphs, list items, table rows; fenced code blocks,
//! headings and link reference definitions are skipped), each block into sentences, and
//! every RFC 2119 keyword of a sentence (written as a plain upper-case word) becomes one
//! [`Statement`]. The sentence is normalised (links reduced to their text, emphasis and
//! code markers and inline HTML removed, whitespace folded) and fingerprinted.

use super::Level;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// One normative keyword occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub doc: String,
    /// GitHub slug of the nearest heading above.
    pub anchor: String,
    /// 1-based line where the sentence's block starts.
    pub line: usize,
    pub level: Level,
    /// Which keyword of the sentence this is, from 1.
    pub occurrence: u32,
    /// The normalised sentence.
    pub sentence: String,
    /// First 16 hex digits of the SHA-256 of `sentence`.
    pub fingerprint: String,
}

/// First 16 hex digits of the SHA-256 of a normalised sentence.
pub fn fingerprint(normalised: &str) -> String {
    let digest = Sha256::digest(normalised.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

const KEYWORD_WORDS: [&str; 5] = ["MUST", "REQUIRED", "SHOULD", "RECOMMENDED", "MAY"];

fn ascii_words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Keywords (MUST, REQUIRED, SHOULD, RECOMMENDED, MAY as plain upper-case words; "MUST
/// NOT" and "NOT RECOMMENDED" count once) on the lines outside fenced code blocks.
pub fn keyword_count(markdown: &str) -> usize {
    let mut fence: Option<(char, usize)> = None;
    let mut n = 0;
    for line in markdown.lines() {
        if let Some(f) = fence_marker(line) {
            match fence {
                None => fence = Some(f),
                Some((c, len)) if f.0 == c && f.1 >= len && is_fence_close(line) => fence = None,
                Some(_) => {}
            }
            continue;
        }
        if fence.is_none() {
            n += ascii_words(line)
                .filter(|w| KEYWORD_WORDS.contains(w))
                .count();
        }
    }
    n
}

/// The keywords of a normalised sentence, in order.
pub fn keywords(sentence: &str) -> Vec<Level> {
    let words: Vec<&str> = ascii_words(sentence).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let next_not = words.get(i + 1) == Some(&"NOT");
        let prev_not = i > 0 && words[i - 1] == "NOT";
        match words[i] {
            "MUST" => out.push(if next_not {
                Level::MustNot
            } else {
                Level::Must
            }),
            "SHOULD" => out.push(if next_not {
                Level::ShouldNot
            } else {
                Level::Should
            }),
            "RECOMMENDED" => out.push(if prev_not {
                Level::NotRecommended
            } else {
                Level::Recommended
            }),
            "REQUIRED" => out.push(Level::Required),
            "MAY" => out.push(Level::May),
            _ => {}
        }
        i += 1;
    }
    out
}

fn fence_marker(line: &str) -> Option<(char, usize)> {
    let t = line.trim_start();
    let c = t.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let n = t.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

fn is_fence_close(line: &str) -> bool {
    let t = line.trim();
    let c = t.chars().next().unwrap_or(' ');
    t.chars().all(|x| x == c)
}

/// GitHub's heading slug: HTML removed, lower case, punctuation dropped, spaces to '-'.
pub fn slug(heading: &str) -> String {
    let text = normalise(heading, &HashSet::new());
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c == ' ' {
                Some('-')
            } else if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

struct Block {
    line: usize,
    anchor: String,
    text: String,
    /// (char offset in `text`, line number) of each continuation line.
    lines: Vec<(usize, usize)>,
}

impl Block {
    fn new(line: usize, anchor: &str, text: &str) -> Block {
        Block {
            line,
            anchor: anchor.to_string(),
            text: text.to_string(),
            lines: vec![(0, line)],
        }
    }

    fn line_at(&self, offset: usize) -> usize {
        self.lines
            .iter()
            .take_while(|(o, _)| *o <= offset)
            .last()
            .map_or(self.line, |(_, l)| *l)
    }
}

fn list_marker_len(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'*' | b'-' | b'+') && b[1] == b' ' {
        return Some(2);
    }
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0
        && digits < 10
        && b.len() > digits + 1
        && matches!(b[digits], b'.' | b')')
        && b[digits + 1] == b' '
    {
        return Some(digits + 2);
    }
    None
}

fn heading_text(t: &str) -> Option<&str> {
    let hashes = t.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &t[hashes..];
    if rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t') {
        Some(rest.trim().trim_end_matches('#').trim())
    } else {
        None
    }
}

fn is_table_delimiter(line: &str) -> bool {
    let t = line.trim();
    t.contains('-')
        && t.contains('|')
        && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
}

fn link_definition(t: &str) -> Option<String> {
    let rest = t.strip_prefix('[')?;
    let end = rest.find("]:")?;
    let label = &rest[..end];
    if label.contains('[') || label.contains(']') {
        return None;
    }
    Some(label.to_lowercase())
}

fn blocks(markdown: &str) -> (Vec<Block>, HashSet<String>) {
    let mut refs = HashSet::new();
    for line in markdown.lines() {
        if let Some(label) = link_definition(line.trim_start()) {
            refs.insert(label);
        }
    }
    let mut out = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    let mut current: Option<Block> = None;
    let mut anchor = String::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let flush = |current: &mut Option<Block>, out: &mut Vec<Block>| {
        if let Some(b) = current.take() {
            out.push(b);
        }
    };
    let lines: Vec<&str> = markdown.lines().collect();
    let mut in_table = false;
    for (i, line) in lines.iter().enumerate() {
        let lineno = i + 1;
        if let Some(f) = fence_marker(line) {
            in_table = false;
            match fence {
                None => {
                    flush(&mut current, &mut out);
                    fence = Some(f);
                }
                Some((c, len)) if f.0 == c && f.1 >= len && is_fence_close(line) => fence = None,
                Some(_) => {}
            }
            continue;
        }
        if fence.is_some() {
            continue;
        }
        let t = line.trim();
        if t.is_empty() {
            in_table = false;
            flush(&mut current, &mut out);
            continue;
        }
        if !in_table && t.contains('|') && lines.get(i + 1).is_some_and(|n| is_table_delimiter(n)) {
            in_table = true;
        }
        if in_table {
            // Each row of a table is a block of its own; the delimiter row is skipped.
            flush(&mut current, &mut out);
            if !t.contains('|') {
                in_table = false;
            } else {
                if !is_table_delimiter(t) {
                    out.push(Block::new(lineno, &anchor, t));
                }
                continue;
            }
        }
        if let Some(h) = heading_text(t) {
            flush(&mut current, &mut out);
            let base = slug(h);
            let n = seen.entry(base.clone()).or_insert(0);
            anchor = if *n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            *n += 1;
            continue;
        }
        if link_definition(t).is_some() {
            flush(&mut current, &mut out);
            continue;
        }
        if let Some(n) = list_marker_len(t) {
            flush(&mut current, &mut out);
            current = Some(Block::new(lineno, &anchor, &t[n..]));
            continue;
        }
        match current.as_mut() {
            Some(b) => {
                b.text.push(' ');
                b.lines.push((b.text.chars().count(), lineno));
                b.text.push_str(t);
            }
            None => current = Some(Block::new(lineno, &anchor, t)),
        }
    }
    flush(&mut current, &mut out);
    (out, refs)
}

const ABBREVIATIONS: [&str; 4] = ["e.g.", "i.e.", "cf.", "vs."];

/// Splits a block's markdown into sentences (a `.`, `!` or `?` followed by white space and
/// a character that can start a sentence; not inside code spans or link targets, not after
/// "e.g." and the like).
/// Returns each sentence with the char offset where it starts.
pub fn split_sentences(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_code = false;
    let mut url_depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            in_code = !in_code;
        } else if !in_code && c == '(' && i > 0 && chars[i - 1] == ']' {
            url_depth = 1;
        } else if url_depth > 0 && c == '(' {
            url_depth += 1;
        } else if url_depth > 0 && c == ')' {
            url_depth -= 1;
        } else if !in_code && url_depth == 0 && matches!(c, '.' | '!' | '?') {
            let mut j = i + 1;
            while j < chars.len() && matches!(chars[j], ')' | '"' | '*' | '_' | '\'') {
                j += 1;
            }
            let ws_start = j;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let starts_sentence = j < chars.len()
                && j > ws_start
                && (chars[j].is_uppercase() || matches!(chars[j], '`' | '*' | '[' | '"' | '<'));
            let word_start = chars[..=i]
                .iter()
                .rposition(|c| c.is_whitespace() || *c == '(')
                .map_or(0, |p| p + 1);
            let word: String = chars[word_start..=i]
                .iter()
                .collect::<String>()
                .to_lowercase();
            if starts_sentence && !ABBREVIATIONS.contains(&word.as_str()) {
                out.push((start, chars[start..ws_start].iter().collect::<String>()));
                start = j;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    if start < chars.len() {
        out.push((start, chars[start..].iter().collect()));
    }
    out.into_iter()
        .map(|(o, s)| (o, s.trim().to_string()))
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

const HTML_TAGS: [&str; 12] = [
    "a", "br", "sup", "sub", "span", "img", "em", "strong", "code", "p", "div", "i",
];

fn html_tag_len(chars: &[char]) -> Option<usize> {
    // chars[0] == '<'
    let close = chars.iter().position(|c| *c == '>')?;
    let inner: String = chars[1..close].iter().collect();
    let name: String = inner
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    HTML_TAGS.contains(&name.as_str()).then_some(close + 1)
}

fn matching(chars: &[char], open: char, close: char) -> Option<usize> {
    // chars[0] == open; backslash escapes and code spans do not count.
    let mut depth = 0usize;
    let mut in_code = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            in_code = !in_code;
        } else if !in_code && c == '\\' {
            i += 1;
        } else if !in_code && c == open {
            depth += 1;
        } else if !in_code && c == close {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// Normalises a sentence's markdown: links to their text, code and emphasis markers and
/// inline HTML removed, backslash escapes resolved, white space folded, trimmed.
/// `refs` are the document's link reference labels (lower case), so that a shortcut
/// reference `[label]` loses its brackets.
pub fn normalise(markdown: &str, refs: &HashSet<String>) -> String {
    let chars: Vec<char> = markdown.chars().collect();
    let mut out = String::new();
    inline(&chars, refs, &mut out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn inline(chars: &[char], refs: &HashSet<String>, out: &mut String) {
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '`' => {
                let n = chars[i..].iter().take_while(|x| **x == '`').count();
                let mut j = i + n;
                let mut found = None;
                while j < chars.len() {
                    if chars[j] == '`' {
                        let m = chars[j..].iter().take_while(|x| **x == '`').count();
                        if m == n {
                            found = Some(j);
                            break;
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                }
                match found {
                    Some(end) => {
                        out.extend(&chars[i + n..end]);
                        i = end + n;
                    }
                    None => {
                        out.extend(&chars[i..i + n]);
                        i += n;
                    }
                }
            }
            '\\' if i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '!' if chars.get(i + 1) == Some(&'[') => {
                i += 1;
            }
            '[' => {
                let Some(close) = matching(&chars[i..], '[', ']').map(|e| e + i) else {
                    out.push(c);
                    i += 1;
                    continue;
                };
                let label = &chars[i + 1..close];
                let after = chars.get(close + 1);
                let end = match after {
                    Some('(') => matching(&chars[close + 1..], '(', ')').map(|e| e + close + 1),
                    Some('[') => matching(&chars[close + 1..], '[', ']').map(|e| e + close + 1),
                    _ => {
                        let text: String = label.iter().collect();
                        refs.contains(&text.to_lowercase()).then_some(close)
                    }
                };
                match end {
                    Some(end) => {
                        inline(label, refs, out);
                        i = end + 1;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            '<' => match html_tag_len(&chars[i..]) {
                Some(n) => {
                    out.push(' ');
                    i += n;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '*' => i += 1,
            '_' => {
                let prev_word = i > 0 && chars[i - 1].is_alphanumeric();
                let next_word = chars.get(i + 1).is_some_and(|x| x.is_alphanumeric());
                if !(prev_word && next_word) {
                    i += 1;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Every normative keyword of a markdown document as a statement, in document order.
pub fn find_statements(doc: &str, markdown: &str) -> Vec<Statement> {
    let (blocks, refs) = blocks(markdown);
    let mut out = Vec::new();
    for b in blocks {
        for (offset, raw) in split_sentences(&b.text) {
            let sentence = normalise(&raw, &refs);
            let levels = keywords(&sentence);
            if levels.is_empty() {
                continue;
            }
            let fp = fingerprint(&sentence);
            for (k, level) in levels.into_iter().enumerate() {
                out.push(Statement {
                    doc: doc.to_string(),
                    anchor: b.anchor.clone(),
                    line: b.line_at(offset),
                    level,
                    occurrence: k as u32 + 1,
                    sentence: sentence.clone(),
                    fingerprint: fp.clone(),
                });
            }
        }
    }
    out
}

/// A sentence that uses a keyword word in lower case ("the value ... must be written last"):
/// not a statement (RFC 2119 keywords count only in capitals), but possibly meant as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowerCaseKeyword {
    pub doc: String,
    pub anchor: String,
    pub line: usize,
    /// The lower-case word(s) found, e.g. `must`.
    pub words: Vec<String>,
    /// The normalised sentence.
    pub sentence: String,
}

/// Lower-case words that would be normative in capitals.
pub const LOWER_CASE_KEYWORDS: [&str; 3] = ["must", "should", "shall"];

/// Every sentence of a document with a lower-case `must`, `should` or `shall`.
pub fn find_lower_case_keywords(doc: &str, markdown: &str) -> Vec<LowerCaseKeyword> {
    let (blocks, refs) = blocks(markdown);
    let mut out = Vec::new();
    for b in blocks {
        for (offset, raw) in split_sentences(&b.text) {
            let sentence = normalise(&raw, &refs);
            let mut words: Vec<String> = Vec::new();
            for w in ascii_words(&sentence) {
                if LOWER_CASE_KEYWORDS.contains(&w) && !words.iter().any(|x| x == w) {
                    words.push(w.to_owned());
                }
            }
            if !words.is_empty() {
                out.push(LowerCaseKeyword {
                    doc: doc.to_string(),
                    anchor: b.anchor.clone(),
                    line: b.line_at(offset),
                    words,
                    sentence,
                });
            }
        }
    }
    out
}
