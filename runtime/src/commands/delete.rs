//! `writ delete` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {}
