//! `writ run` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

pub fn run(_global: &super::GlobalOpts, _args: RunArgs) -> i32 {
    eprintln!("writ run: not implemented yet");
    1
}
