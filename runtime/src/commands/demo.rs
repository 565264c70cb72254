//! `writ demo` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}
