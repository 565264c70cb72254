//! `writ spec` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct SpecArgs {}
