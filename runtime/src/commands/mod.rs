//! Subcommands that are not part of the container lifecycle.
pub mod coverage;
pub mod features;
pub mod spec;
pub mod validate;
