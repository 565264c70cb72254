//! Requirement traceability for writ.
//!
//! * `#[requirement("id", ...)]` marks a function, an impl block or an inline module as
//!   the code that fulfils the listed requirements of the OCI runtime-spec.
//! * `#[verifies("id", ...)]` marks a test function as the proof of the listed
//!   requirements, and records the test's outcome when it runs ([`results`]).
//!
//! Every id must be an entry of the requirements list (`spec/requirements/*.toml`); an
//! unknown id is a compile error that names the nearest known ids, and an id the list has
//! retired (`spec/requirements/retired.toml`) says in which release it went. The list is
//! read at compile time and the expansion makes the compiling crate depend on every list
//! file, so editing the list recompiles the users.
//!
//! ```text
//! use writ_macros::{requirement, verifies};
//!
//! #[requirement("config.mounts.destination.absolute")]
//! fn check_destination(m: &Mount) -> Result<(), Violation> { /* ... */ }
//!
//! #[verifies("config.mounts.destination.absolute")]
//! #[test]
//! fn relative_destination_is_rejected() { /* ... */ }
//! ```
//!
//! `#[verifies]` goes on a `#[test]` function and is written *above* `#[test]`: an attribute
//! written above it is expanded first and hides the `#[test]` from it, and on anything but
//! a test it does not compile. It keeps the test as it is and adds a guard that, when the
//! test ends, records its ids, its path, file and line, and its outcome (passed, or failed:
//! it panicked or returned an `Err`) in the results directory (see [`results`]). `writ
//! coverage` reads those records: a requirement is *verified* only when a tagged test ran
//! and passed in the last recorded run.
//!
//! `writ coverage` finds the uses by reading the sources (`cli/build.rs`), so write the
//! attribute as `#[requirement(..)]`, `#[verifies(..)]` or with the full path
//! `#[writ_macros::requirement(..)]`; a renamed import (`use ... as`) or a
//! `#[cfg_attr(.., requirement(..))]` is compiled but not counted. Source trees scanned:
//! `spec/src`, `spec/tests`, `runtime/src`, `cli/src`, `runtime/tests`, `cli/tests`,
//! `conformance/src`, `conformance/tests`, `codegen/src`.
//!
//! The list is found from the package being compiled: writ-spec's own `requirements/`
//! (the list is part of the writ-spec package, so a published writ-spec builds anywhere),
//! or `../spec/requirements` for the other packages of the workspace. Setting
//! `WRIT_REQUIREMENTS_DIR` in the environment of the compiler replaces it (the macros' own
//! tests do; so must a packaged `writ`, whose package has no list).

pub use writ_macros_impl::{requirement, verifies};

pub mod results;

/// What the expansion of `#[verifies]` calls; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::results::{Guard, TestResult};
}
