//! Code generation for writ-spec.
