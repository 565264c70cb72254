//! `writ coverage` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct CoverageArgs {}

pub fn run(_args: CoverageArgs) -> i32 {
    eprintln!("writ coverage: not implemented yet");
    1
}
