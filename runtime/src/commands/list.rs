//! `writ list` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct ListArgs {}
