//! Packed string tables: the form of the generated tables that only `writ features` and the
//! developer tools read (the requirement table here, the requirement trace of `writ-cli`).
//!
//! A static slice of structs with `&'static str` fields holds one pointer per string, and
//! in a position-independent executable the loader relocates every such pointer at every
//! start, whether or not the table is read (in the shipped `writ`, the two tables were
//! 5,493 of the 16,596 words and 29 of the 77 pages the loader relocated at every start of
//! every command). A packed table is instead one text with all its strings, each stored
//! once, and records of plain integers: a [`Span`] (offset and length in the text) for each
//! string. Such records need no relocation; the table's users decode them into the structs
//! with `&'static str` fields on first use.
//!
//! The generators (`writ-codegen`, `cli/build.rs`) compile this file in too, for [`Pool`].

use std::collections::HashMap;
use std::fmt;

/// A string of a packed table: `.1` bytes of the table's text from byte `.0`.
/// [`Span::NONE`] stands for an absent string (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub u32, pub u32);

impl Span {
    /// No string: what `None` packs to.
    pub const NONE: Span = Span(u32::MAX, 0);

    /// The string in `text` (empty if the span is not in it, which a generated table
    /// never does).
    pub fn get(self, text: &str) -> &str {
        let start = self.0 as usize;
        text.get(start..start.saturating_add(self.1 as usize))
            .unwrap_or("")
    }

    /// The string in `text`, `None` for [`Span::NONE`].
    pub fn get_opt(self, text: &str) -> Option<&str> {
        (self != Span::NONE).then(|| self.get(text))
    }
}

/// As a generator writes it: `Span(start, len)` or `Span::NONE`.
impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Span::NONE {
            f.write_str("Span::NONE")
        } else {
            write!(f, "Span({}, {})", self.0, self.1)
        }
    }
}

/// The text of a packed table being generated: each string added is stored once.
#[derive(Debug, Default)]
pub struct Pool {
    text: String,
    spans: HashMap<String, Span>,
    /// The spans in the order their strings were added.
    order: Vec<Span>,
}

impl Pool {
    /// The span of `s`, appended to the text unless it is there already.
    ///
    /// # Panics
    /// When the text would outgrow `u32` offsets (4 GiB): a generator's bug.
    pub fn add(&mut self, s: &str) -> Span {
        if let Some(span) = self.spans.get(s) {
            return *span;
        }
        let (Ok(start), Ok(len)) = (u32::try_from(self.text.len()), u32::try_from(s.len())) else {
            panic!("a packed table's text outgrows u32 offsets");
        };
        let span = Span(start, len);
        self.text.push_str(s);
        self.spans.insert(s.to_owned(), span);
        self.order.push(span);
        span
    }

    /// [`Pool::add`] for an optional string: `None` is [`Span::NONE`].
    pub fn add_opt(&mut self, s: Option<&str>) -> Span {
        s.map_or(Span::NONE, |s| self.add(s))
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text as a Rust expression, one string a line: `concat!(\n    "a",\n    "b",\n)`.
    pub fn to_rust(&self) -> String {
        let mut out = String::from("concat!(\n");
        for span in &self.order {
            out.push_str(&format!("    {:?},\n", span.get(&self.text)));
        }
        out.push(')');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_stored_once_and_read_back() {
        let mut pool = Pool::default();
        let a = pool.add("config.md");
        let b = pool.add("bundle.md");
        assert_eq!(pool.add("config.md"), a);
        assert_eq!(pool.add_opt(None), Span::NONE);
        assert_eq!(pool.add_opt(Some("bundle.md")), b);
        let empty = pool.add("");
        let text = pool.text();
        assert_eq!(text, "config.mdbundle.md");
        assert_eq!(a.get(text), "config.md");
        assert_eq!(b.get_opt(text), Some("bundle.md"));
        assert_eq!(empty.get_opt(text), Some(""));
        assert_eq!(Span::NONE.get_opt(text), None);
        assert_eq!(Span(15, 9).get(text), "", "a span past the end is empty");
        assert_eq!(a.to_string(), "Span(0, 9)");
        assert_eq!(Span::NONE.to_string(), "Span::NONE");
        assert_eq!(
            pool.to_rust(),
            "concat!(\n    \"config.md\",\n    \"bundle.md\",\n    \"\",\n)"
        );
    }
}
