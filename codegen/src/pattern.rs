//! A schema's `pattern` (an ECMA-262 regular expression, JSON Schema's dialect) translated
//! into regex-lite syntax, which writ-spec compiles at run time.
//!
//! regex-lite has no Unicode tables (regress, an ECMA engine, links some 128 kB of them,
//! relocated at every start of a static-PIE writ), but its syntax and semantics differ from
//! ECMA's. [`translate`] accepts the subset of ECMA-262 whose translation is exact and names
//! the construct it refuses otherwise:
//!
//! - `.` (no `s` flag) excludes the four line terminators (`\n`, `\r`, U+2028, U+2029) in
//!   ECMA, only `\n` in regex-lite: it becomes `[^\n\r\x{2028}\x{2029}]`.
//! - `\s`/`\S` are ECMA's WhiteSpace and LineTerminator sets (Unicode spaces, U+FEFF),
//!   `\d`/`\w` are ASCII: all become explicit classes. `\b`/`\B` (ASCII word boundary) and
//!   `^`/`$` (no `m` flag: start and end of the input) mean the same in both.
//! - Every class is rewritten from the set of code points it matches, so regex-lite's own
//!   class syntax (`&&`, `--`, `~~`, nested `[`) never sees an ECMA literal.
//! - Refused: backreferences, lookaround, named groups, `\p{..}`, `\u{..}` and `\k` (whose
//!   meaning depends on the `u` flag), empty classes, out-of-order ranges, a range with a
//!   class escape at one end, the Annex B forms (a lone `{`, `}` or `]`, identity escapes
//!   of letters, an incomplete `\x`/`\u`/`\c`), a quantifier on an assertion or with
//!   nothing to repeat, characters outside the BMP (two UTF-16 units for ECMA without `u`)
//!   and escaped surrogates.
//!
//! Matching is over code points in both engines (regress matches a `str` by code point), so
//! the translation agrees with regress on every string; writ-spec's tests cross-check every
//! generated pattern on a corpus.

/// A pattern the translation refuses, with the construct and where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pattern {pattern:?}: {construct} at offset {offset} has no exact regex-lite translation ({why})")]
pub struct PatternError {
    /// The schema's pattern.
    pub pattern: String,
    /// The offending construct, as written.
    pub construct: String,
    /// Its byte offset in the pattern.
    pub offset: usize,
    /// Why it is refused.
    pub why: &'static str,
}

/// An inclusive range of code points.
type Range = (u32, u32);

/// ECMA-262 `\s`: WhiteSpace (TAB, VT, FF, SP, NBSP, ZWNBSP and the `Zs` category) and
/// LineTerminator (LF, CR, LS, PS).
const SPACE: &[Range] = &[
    (0x09, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
];
/// ECMA-262 `\d`.
const DIGIT: &[Range] = &[(0x30, 0x39)];
/// ECMA-262 `\w` (without `i` and `u`: ASCII).
const WORD: &[Range] = &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)];
/// What ECMA-262 `.` matches (without the `s` flag): all but the line terminators.
const NOT_LINE_TERMINATOR: &[Range] = &[(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)];

/// ECMA-262's SyntaxCharacter and `/`: what an identity escape may escape in every mode.
fn is_syntax(c: char) -> bool {
    "^$\\.*+?()[]{}|/".contains(c)
}

/// The characters regex-lite gives a meaning to, inside or outside a class (`&&`, `--` and
/// `~~` are set operations in a class, `#` a comment with the `x` flag).
fn is_lite_meta(c: char) -> bool {
    "\\.+*?()|[]{}^$#&-~".contains(c)
}

/// `c` as regex-lite text, inside or outside a class: its meta characters escaped, other
/// printable ASCII as is, the rest as `\n`, `\r`, `\t` or `\x{..}`.
fn push_char(out: &mut String, c: u32) {
    match char::from_u32(c) {
        Some(c) if is_lite_meta(c) => {
            out.push('\\');
            out.push(c);
        }
        Some(c) if c == ' ' || c.is_ascii_graphic() => out.push(c),
        Some('\n') => out.push_str("\\n"),
        Some('\r') => out.push_str("\\r"),
        Some('\t') => out.push_str("\\t"),
        _ => out.push_str(&format!("\\x{{{c:X}}}")),
    }
}

/// The sorted, merged union of `ranges`.
fn normalise(mut ranges: Vec<Range>) -> Vec<Range> {
    ranges.sort_unstable();
    let mut out: Vec<Range> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// The code points not in the normalised `ranges`, as ranges whose ends are not surrogates
/// (a range over them is fine, a `\x{D800}` is not a character for regex-lite).
fn complement(ranges: &[Range]) -> Vec<Range> {
    let mut gaps = Vec::new();
    let mut next = 0u32;
    for &(lo, hi) in ranges {
        if lo > next {
            gaps.push((next, lo - 1));
        }
        next = hi + 1;
    }
    if next <= 0x10FFFF {
        gaps.push((next, 0x10FFFF));
    }
    let unsurrogate = |(lo, hi): Range| {
        let lo = if (0xD800..=0xDFFF).contains(&lo) {
            0xE000
        } else {
            lo
        };
        let hi = if (0xD800..=0xDFFF).contains(&hi) {
            0xD7FF
        } else {
            hi
        };
        (lo <= hi).then_some((lo, hi))
    };
    gaps.into_iter().filter_map(unsurrogate).collect()
}

/// A class matching `ranges` (normalised, not empty), negated when `negated`.
fn push_class(out: &mut String, ranges: &[Range], negated: bool) {
    out.push('[');
    if negated {
        out.push('^');
    }
    for &(lo, hi) in ranges {
        push_char(out, lo);
        if hi > lo {
            if hi > lo + 1 {
                out.push('-');
            }
            push_char(out, hi);
        }
    }
    out.push(']');
}

/// One element of a class: a single character, or the set of a class escape.
enum ClassAtom {
    Char(u32),
    Set(Vec<Range>),
}

struct Parser<'a> {
    pattern: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    out: String,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    fn offset(&self, pos: usize) -> usize {
        self.chars.get(pos).map_or(self.pattern.len(), |&(o, _)| o)
    }

    /// A refusal of the text from `start` to the current position (at least one character).
    fn refuse(&self, start: usize, why: &'static str) -> PatternError {
        let from = self.offset(start);
        let to = self.offset(self.pos.max(start + 1));
        PatternError {
            pattern: self.pattern.to_owned(),
            construct: self.pattern[from..to].to_owned(),
            offset: from,
            why,
        }
    }

    fn next_char(&mut self) -> Result<u32, PatternError> {
        let start = self.pos;
        let c = self
            .peek()
            .ok_or_else(|| self.refuse(start, "unexpected end"))?;
        self.pos += 1;
        if u32::from(c) > 0xFFFF {
            return Err(self.refuse(
                start,
                "outside the BMP, ECMA without the u flag sees two UTF-16 code units",
            ));
        }
        Ok(c.into())
    }

    fn disjunction(&mut self) -> Result<(), PatternError> {
        self.alternative()?;
        while self.peek() == Some('|') {
            self.pos += 1;
            self.out.push('|');
            self.alternative()?;
        }
        Ok(())
    }

    fn alternative(&mut self) -> Result<(), PatternError> {
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let start = self.pos;
            let quantifiable = self.term()?;
            if self.quantifier_ahead() && !quantifiable {
                self.pos += 1;
                return Err(self.refuse(start, "a quantifier on an assertion or on nothing"));
            }
            if quantifiable {
                self.quantifier()?;
            }
        }
        Ok(())
    }

    fn quantifier_ahead(&self) -> bool {
        matches!(self.peek(), Some('*' | '+' | '?' | '{'))
    }

    /// One term; whether it may take a quantifier (an atom, not an assertion).
    fn term(&mut self) -> Result<bool, PatternError> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(false);
        };
        match c {
            '^' | '$' => {
                self.pos += 1;
                self.out.push(c);
                Ok(false)
            }
            '*' | '+' | '?' => {
                self.pos += 1;
                Err(self.refuse(start, "nothing to repeat"))
            }
            '{' | '}' | ']' => {
                self.pos += 1;
                Err(self.refuse(start, "a literal only by Annex B: escape it"))
            }
            '.' => {
                self.pos += 1;
                push_class(&mut self.out, NOT_LINE_TERMINATOR, true);
                Ok(true)
            }
            '(' => self.group().map(|()| true),
            '[' => self.class().map(|()| true),
            '\\' => self.atom_escape(),
            _ => {
                let c = self.next_char()?;
                push_char(&mut self.out, c);
                Ok(true)
            }
        }
    }

    fn group(&mut self) -> Result<(), PatternError> {
        let start = self.pos;
        self.pos += 1;
        if self.peek() == Some('?') {
            if self.peek_at(1) != Some(':') {
                self.pos += 2;
                return Err(self.refuse(start, "lookaround and named groups are not supported"));
            }
            self.pos += 2;
        }
        self.out.push_str("(?:");
        self.disjunction()?;
        if self.peek() != Some(')') {
            return Err(self.refuse(start, "unclosed group"));
        }
        self.pos += 1;
        self.out.push(')');
        Ok(())
    }

    /// An optional quantifier after an atom (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each
    /// optionally lazy).
    fn quantifier(&mut self) -> Result<(), PatternError> {
        let start = self.pos;
        match self.peek() {
            Some(c @ ('*' | '+' | '?')) => {
                self.pos += 1;
                self.out.push(c);
            }
            Some('{') => {
                self.pos += 1;
                let min = self.digits();
                let max = if self.peek() == Some(',') {
                    self.pos += 1;
                    Some(self.digits())
                } else {
                    None
                };
                if self.peek() != Some('}') {
                    self.pos += 1;
                    return Err(self.refuse(start, "not a quantifier, a literal only by Annex B"));
                }
                self.pos += 1;
                let Some(min) = min else {
                    return Err(self.refuse(start, "a quantifier without a minimum"));
                };
                match max {
                    None => self.out.push_str(&format!("{{{min}}}")),
                    Some(None) => self.out.push_str(&format!("{{{min},}}")),
                    Some(Some(max)) if max < min => {
                        return Err(self.refuse(start, "numbers out of order in the quantifier"))
                    }
                    Some(Some(max)) => self.out.push_str(&format!("{{{min},{max}}}")),
                }
            }
            _ => return Ok(()),
        }
        if self.peek() == Some('?') {
            self.pos += 1;
            self.out.push('?');
        }
        if self.quantifier_ahead() {
            self.pos += 1;
            return Err(self.refuse(start, "a quantifier on a quantifier"));
        }
        Ok(())
    }

    /// Decimal digits (`None` for none), at most 9 of them.
    fn digits(&mut self) -> Option<u32> {
        let mut n: Option<u32> = None;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            self.pos += 1;
            n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d));
        }
        n
    }

    /// An escape outside a class; whether it may take a quantifier.
    fn atom_escape(&mut self) -> Result<bool, PatternError> {
        match self.peek_at(1) {
            Some(c @ ('b' | 'B')) => {
                self.pos += 2;
                self.out.push('\\');
                self.out.push(c);
                Ok(false)
            }
            _ => {
                match self.class_escape(false)? {
                    ClassAtom::Char(c) => push_char(&mut self.out, c),
                    ClassAtom::Set(set) => push_class(&mut self.out, &set, false),
                }
                Ok(true)
            }
        }
    }

    /// `count` hex digits as a number.
    fn hex(&mut self, count: usize) -> Option<u32> {
        let mut n = 0;
        for _ in 0..count {
            let d = self.peek()?.to_digit(16)?;
            self.pos += 1;
            n = n * 16 + d;
        }
        Some(n)
    }

    /// An escape (at `\`), inside a class or outside.
    fn class_escape(&mut self, in_class: bool) -> Result<ClassAtom, PatternError> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.peek() else {
            return Err(self.refuse(start, "a trailing backslash"));
        };
        self.pos += 1;
        let set = |ranges: &[Range], negated: bool| {
            ClassAtom::Set(if negated {
                complement(ranges)
            } else {
                ranges.to_vec()
            })
        };
        let char_of = |c: char| ClassAtom::Char(c.into());
        Ok(match c {
            'd' | 'D' => set(DIGIT, c == 'D'),
            'w' | 'W' => set(WORD, c == 'W'),
            's' | 'S' => set(SPACE, c == 'S'),
            'n' => char_of('\n'),
            'r' => char_of('\r'),
            't' => char_of('\t'),
            'f' => ClassAtom::Char(0x0C),
            'v' => ClassAtom::Char(0x0B),
            'b' if in_class => ClassAtom::Char(0x08),
            '-' if in_class => char_of('-'),
            '0' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => ClassAtom::Char(0),
            '0'..='9' => return Err(self.refuse(start, "a backreference or a legacy octal escape")),
            'x' => match self.hex(2) {
                Some(n) => ClassAtom::Char(n),
                None => return Err(self.refuse(start, "an incomplete \\x escape")),
            },
            'u' => match self.hex(4) {
                Some(n) if (0xD800..=0xDFFF).contains(&n) => {
                    return Err(self.refuse(start, "a surrogate, not a code point"))
                }
                Some(n) => ClassAtom::Char(n),
                None => {
                    return Err(self.refuse(start, "\\u{..} or an incomplete \\u escape"));
                }
            },
            'c' => match self.peek() {
                Some(l) if l.is_ascii_alphabetic() => {
                    self.pos += 1;
                    ClassAtom::Char(u32::from(l) % 32)
                }
                _ => return Err(self.refuse(start, "an incomplete \\c escape")),
            },
            'p' | 'P' => return Err(self.refuse(start, "a Unicode property (u flag only)")),
            'k' => return Err(self.refuse(start, "a named backreference")),
            c if is_syntax(c) => char_of(c),
            _ => return Err(self.refuse(start, "an identity escape only by Annex B")),
        })
    }

    fn class_atom(&mut self) -> Result<ClassAtom, PatternError> {
        if self.peek() == Some('\\') {
            self.class_escape(true)
        } else {
            self.next_char().map(ClassAtom::Char)
        }
    }

    fn class(&mut self) -> Result<(), PatternError> {
        let start = self.pos;
        self.pos += 1;
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.refuse(start, "unclosed class")),
                Some(']') => break,
                _ => {}
            }
            let at = self.pos;
            let lo = self.class_atom()?;
            let is_range = self.peek() == Some('-') && !matches!(self.peek_at(1), None | Some(']'));
            if !is_range {
                match lo {
                    ClassAtom::Char(c) => ranges.push((c, c)),
                    ClassAtom::Set(set) => ranges.extend(set),
                }
                continue;
            }
            self.pos += 1;
            let hi = self.class_atom()?;
            match (lo, hi) {
                (ClassAtom::Char(lo), ClassAtom::Char(hi)) if lo <= hi => ranges.push((lo, hi)),
                (ClassAtom::Char(_), ClassAtom::Char(_)) => {
                    return Err(self.refuse(at, "range out of order"))
                }
                _ => return Err(self.refuse(at, "a range with a class escape at one end")),
            }
        }
        self.pos += 1;
        if ranges.is_empty() {
            return Err(self.refuse(start, "an empty class"));
        }
        push_class(&mut self.out, &normalise(ranges), negated);
        Ok(())
    }
}

/// `pattern` (ECMA-262, no flags) in regex-lite syntax, matching exactly the same strings.
pub fn translate(pattern: &str) -> Result<String, PatternError> {
    let mut p = Parser {
        pattern,
        chars: pattern.char_indices().collect(),
        pos: 0,
        out: String::new(),
    };
    p.disjunction()?;
    if p.peek().is_some() {
        let at = p.pos;
        p.pos += 1;
        return Err(p.refuse(at, "an unmatched `)`"));
    }
    Ok(p.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of up to three characters over an alphabet of the interesting
    /// characters: line terminators, spaces, non-ASCII, class boundaries.
    fn corpus() -> Vec<String> {
        let alphabet = [
            "", "a", "Z", "_", "0", "9", "-", ",", " ", "\n", "\r", "\u{2028}", "\u{2029}", "\t",
            "\u{a0}", "\u{feff}", "é", "😀", "[", "&", "\u{8}",
        ];
        let mut out = Vec::new();
        for a in alphabet {
            for b in alphabet {
                for c in ["", "a", "\n", "\r", "\u{2029}", "-", "😀"] {
                    out.push(format!("{a}{b}{c}"));
                }
            }
        }
        out
    }

    #[test]
    fn translations_match_what_regress_matches() {
        let patterns = [
            ".",
            "^.$",
            "^.*$",
            "a.b",
            ".{1,}",
            "^.{2}$",
            "\\s",
            "^\\s+$",
            "\\S",
            "^\\S*$",
            "\\d",
            "\\D",
            "\\w+",
            "^\\W$",
            "\\bZ",
            "a\\B",
            "[\\s]",
            "[^\\s]",
            "[\\S\\d]",
            "[^\\S]",
            "[^\\n]",
            "^MB:[^\\n]*$",
            "[a-z0-9_]",
            "[-a]",
            "[a-]",
            "[\\-]",
            "[&&]",
            "[[]",
            "[\\b]",
            "^(a|Z|)$",
            "(?:a|_)+",
            "a{2}",
            "a{1,2}?",
            "^a{0,}$",
            "\\u00e9",
            "\\x41|\\x5a",
            "\\cI",
            "\\0",
            "^[0-9, -]*$",
            "^[^\\u2028\\r]+$",
            "\\$|\\^",
            "[\\]]",
            "é|\\u00E0",
            "[^\\u0000-\\ud7ff]",
            "[\\ue000-\\uffff]",
        ];
        for p in patterns {
            let ecma = regress::Regex::new(p).unwrap();
            let lite_text = translate(p).unwrap();
            let lite = regex_lite::Regex::new(&lite_text).unwrap();
            for s in corpus() {
                assert_eq!(
                    ecma.find(&s).is_some(),
                    lite.is_match(&s),
                    "{p:?} (as {lite_text:?}) on {s:?}"
                );
            }
        }
    }

    #[test]
    fn dot_excludes_every_line_terminator() {
        assert_eq!(
            translate(".{1,}").unwrap(),
            "[^\\n\\r\\x{2028}\\x{2029}]{1,}"
        );
    }

    #[test]
    fn classes_are_rewritten_from_their_sets() {
        assert_eq!(translate("^[0-9, -]*$").unwrap(), "^[ ,\\-0-9]*$");
        assert_eq!(translate("^RLIMIT_[A-Z]+$").unwrap(), "^RLIMIT_[A-Z]+$");
        assert_eq!(translate("[&&]").unwrap(), "[\\&]");
    }

    #[test]
    fn constructs_without_an_exact_translation_are_refused() {
        for (p, construct) in [
            ("(a)\\1", "\\1"),
            ("a(?=b)", "(?="),
            ("a(?!b)", "(?!"),
            ("(?<=a)b", "(?<"),
            ("(?<n>a)", "(?<"),
            ("\\p{L}", "\\p"),
            ("\\u{41}", "\\u"),
            ("\\k<n>", "\\k"),
            ("a{", "{"),
            ("a}", "}"),
            ("]", "]"),
            ("\\a", "\\a"),
            ("[]", "[]"),
            ("[z-a]", "z-a"),
            ("[\\d-z]", "\\d-z"),
            ("^*", "^*"),
            ("*", "*"),
            ("a**", "**"),
            ("😀", "😀"),
            ("\\ud83d", "\\ud83d"),
            ("(a", "(a"),
            ("a)", ")"),
            ("\\", "\\"),
        ] {
            let e = translate(p).unwrap_err();
            assert_eq!(e.construct, construct, "{p:?}: {e}");
            assert!(e.to_string().contains(&format!("{p:?}")), "{e}");
        }
    }
}
