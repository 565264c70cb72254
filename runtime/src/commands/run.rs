//! `writ run` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct RunArgs {}
