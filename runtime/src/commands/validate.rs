//! `writ validate` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}
