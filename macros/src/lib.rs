//! Requirement traceability macros.
