//! `writ features` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {}

pub fn run(_args: FeaturesArgs) -> i32 {
    eprintln!("writ features: not implemented yet");
    1
}
