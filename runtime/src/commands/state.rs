//! `writ state` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct StateArgs {}
