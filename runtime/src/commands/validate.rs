//! writ validate
