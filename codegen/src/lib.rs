//! Code generation for writ-spec.
pub mod requirements;
