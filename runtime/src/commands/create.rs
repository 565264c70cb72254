//! `writ create` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct CreateArgs {}
