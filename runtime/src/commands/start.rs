//! `writ start` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct StartArgs {}

pub fn run(_global: &super::GlobalOpts, _args: StartArgs) -> i32 {
    eprintln!("writ start: not implemented yet");
    1
}
