//! OCI runtime-spec v1.3.0 for Rust: the config (`Spec`), state (`State`) and features
//! (`Features`) types and their validation, generated from the upstream JSON schemas by
//! `writ-codegen`, plus the requirement table.

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod generated;
pub mod requirements;

pub use generated::config::*;
pub use generated::features::*;
pub use generated::state::*;
pub use generated::ConversionError;
