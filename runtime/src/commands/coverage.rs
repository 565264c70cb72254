//! `writ coverage` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct CoverageArgs {}
