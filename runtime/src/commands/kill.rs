//! `writ kill` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct KillArgs {}
