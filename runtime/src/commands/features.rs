//! `writ features` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {}
