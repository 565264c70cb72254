//! writ features
