//! `writ start` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct StartArgs {}
