//! `writ validate` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

pub fn run(_args: ValidateArgs) -> i32 {
    eprintln!("writ validate: not implemented yet");
    1
}
