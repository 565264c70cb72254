//! Finding where a JSON pointer's value starts in the source text, for line/column messages.

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(src: &[u8], offset: usize) -> (usize, usize) {
    Lines::new(src).line_column(offset)
}

/// Where the lines of a document start, found once: the line and column of many offsets
/// (one per finding) without counting from the start of the document each time.
pub struct Lines<'a> {
    src: &'a [u8],
    /// Byte offset of each line's first byte (0, then one past each `\n`).
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    /// The line starts of `src`.
    pub fn new(src: &'a [u8]) -> Self {
        let starts = std::iter::once(0)
            .chain(
                src.iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b'\n')
                    .map(|(p, _)| p + 1),
            )
            .collect();
        Lines { src, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        // The lines starting at or before the offset (the first always does).
        let line = self.starts.partition_point(|&s| s <= offset);
        let line_start = self.starts[line - 1];
        let column = String::from_utf8_lossy(&self.src[line_start..offset])
            .chars()
            .count()
            + 1;
        (line, column)
    }

    /// The bytes of 1-based line `line` without its `\n` (line 0 is the first; past the
    /// last line, nothing).
    pub fn line(&self, line: usize) -> &'a [u8] {
        let i = line.saturating_sub(1);
        let Some(&start) = self.starts.get(i) else {
            return &[];
        };
        let end = self.starts.get(i + 1).map_or(self.src.len(), |s| s - 1);
        &self.src[start..end]
    }
}

/// Byte offset of the value at `pointer`, or of the deepest existing ancestor.
/// `src` must be valid JSON (callers parse it first).
pub fn locate(src: &[u8], pointer: &str) -> usize {
    find(src, pointer).1
}

/// Byte offset of the member name (its opening quote) when `pointer` names a member of an
/// object that exists; otherwise what [`locate`] gives.
pub fn locate_member(src: &[u8], pointer: &str) -> usize {
    let (key, value) = find(src, pointer);
    key.unwrap_or(value)
}

/// The offsets of the last member name reached (when the whole pointer was found and its
/// last token is a member) and of the value at `pointer` or its deepest existing ancestor.
fn find(src: &[u8], pointer: &str) -> (Option<usize>, usize) {
    let tokens: Vec<String> = if pointer.is_empty() {
        Vec::new()
    } else {
        pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect()
    };
    let mut s = Scanner {
        src,
        pos: 0,
        key: None,
    };
    s.ws();
    let mut found = s.pos;
    let mut key = None;
    for token in &tokens {
        s.key = None;
        match s.descend(token) {
            Some(p) => {
                found = p;
                key = s.key;
            }
            None => return (None, found),
        }
    }
    (key, found)
}

struct Scanner<'a> {
    src: &'a [u8],
    pos: usize,
    /// Where the name of the member `descend` stopped at starts.
    key: Option<usize>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Skip a string starting at `"`; returns its raw bytes (without quotes).
    fn string(&mut self) -> &[u8] {
        let start = self.pos + 1;
        self.pos += 1;
        while let Some(b) = self.peek() {
            match b {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return &self.src[start..self.pos - 1];
                }
                _ => self.pos += 1,
            }
        }
        &self.src[start..self.pos.min(self.src.len())]
    }

    /// Skip one value starting at the current position.
    fn skip_value(&mut self) {
        match self.peek() {
            Some(b'"') => {
                self.string();
            }
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            self.string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// At a value: move to the member/element named `token` and return its offset.
    fn descend(&mut self, token: &str) -> Option<usize> {
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                loop {
                    self.ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let key_at = self.pos;
                    let raw = self.string().to_vec();
                    let mut quoted = Vec::with_capacity(raw.len() + 2);
                    quoted.push(b'"');
                    quoted.extend_from_slice(&raw);
                    quoted.push(b'"');
                    let key: String = serde_json::from_slice(&quoted).ok()?;
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    self.ws();
                    if key == token {
                        self.key = Some(key_at);
                        return Some(self.pos);
                    }
                    self.skip_value();
                    self.ws();
                    if self.peek()? != b',' {
                        return None;
                    }
                    self.pos += 1;
                }
            }
            b'[' => {
                let want: usize = token.parse().ok()?;
                self.pos += 1;
                let mut i = 0;
                loop {
                    self.ws();
                    if self.peek()? == b']' {
                        return None;
                    }
                    if i == want {
                        return Some(self.pos);
                    }
                    self.skip_value();
                    self.ws();
                    if self.peek()? != b',' {
                        return None;
                    }
                    self.pos += 1;
                    i += 1;
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_members_and_elements() {
        let src = br#"{
  "a": {"b/c": [1, {"d": "x\"y"}, 3]},
  "e": 2
}"#;
        let off = locate(src, "/a/b~1c/1/d");
        assert_eq!(&src[off..off + 3], b"\"x\\");
        assert_eq!(line_column(src, off), (2, 26));
        let off = locate(src, "/e");
        assert_eq!(line_column(src, off), (3, 8));
        // A missing member points at its parent.
        let off = locate(src, "/a/zz");
        assert_eq!(src[off], b'{');
        assert_eq!(line_column(src, off), (2, 8));
        // The member's name, for a finding about the member itself.
        let off = locate_member(src, "/a/b~1c");
        assert_eq!(&src[off..off + 5], b"\"b/c\"");
        assert_eq!(locate_member(src, "/a/b~1c/1"), locate(src, "/a/b~1c/1"));
        assert_eq!(locate_member(src, "/a/zz"), locate(src, "/a"));
    }

    #[test]
    fn the_line_index_agrees_with_counting() {
        let src = "{\n\t\"é\": [1,\r\n 2]\n}\n".as_bytes();
        let lines = Lines::new(src);
        for offset in 0..=src.len() + 2 {
            let upto = &src[..offset.min(src.len())];
            let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
            let start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let column = String::from_utf8_lossy(&upto[start..]).chars().count() + 1;
            assert_eq!(lines.line_column(offset), (line, column), "offset {offset}");
        }
        let split: Vec<&[u8]> = src.split(|b| *b == b'\n').collect();
        for line in 0..split.len() + 3 {
            let want = split.get(line.saturating_sub(1)).copied().unwrap_or(&[]);
            assert_eq!(lines.line(line), want, "line {line}");
        }
    }
}
