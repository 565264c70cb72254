//! Where each requirement is fulfilled and verified: every use of `#[requirement(..)]`
//! (a handler) and `#[verifies(..)]` (a test) in the workspace's sources, collected at
//! build time by `cli/build.rs`.
//!
//! [`USES`] is built on first use: the generated table is packed (see
//! [`writ_spec::packed`]), so that it costs no relocations at the start of every command;
//! only `writ features` and the developer tools (`coverage`) read it.

use std::sync::LazyLock;

use writ_spec::packed::Span;

/// Whether a use marks code that fulfils a requirement or a test that proves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UseKind {
    /// `#[requirement(..)]`: the code that fulfils the requirement.
    Handler,
    /// `#[verifies(..)]`: a test that proves it.
    Test,
}

/// One requirement id named by one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Use {
    /// The requirement id.
    pub id: &'static str,
    /// Handler or test.
    pub kind: UseKind,
    /// Item path, e.g. `writ::mounts::mount_one` or `lifecycle::create_runs_hooks`.
    pub item: &'static str,
    /// File, relative to the workspace root, with `/` separators.
    pub file: &'static str,
    /// Line of the item's name.
    pub line: u32,
}

/// Every use of `#[requirement]` / `#[verifies]`, sorted by id, kind, file, line (decoded
/// from the packed table on first use).
pub static USES: LazyLock<Box<[Use]>> = LazyLock::new(|| {
    PACKED
        .iter()
        .map(|&(id, kind, item, file, line)| Use {
            id: id.get(TEXT),
            kind,
            item: item.get(TEXT),
            file: file.get(TEXT),
            line,
        })
        .collect()
});

/// One use as the generated table stores it: id, kind, item, file and line, the strings
/// as spans of [`TEXT`].
type Packed = (Span, UseKind, Span, Span, u32);

include!(concat!(env!("OUT_DIR"), "/trace.rs"));

/// The uses of one requirement id, of one kind.
pub fn uses_of(id: &str, kind: UseKind) -> impl Iterator<Item = &'static Use> + '_ {
    USES.iter().filter(move |u| u.id == id && u.kind == kind)
}
