//! writ spec
