//! `writ kill` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct KillArgs {}

pub fn run(_global: &super::GlobalOpts, _args: KillArgs) -> i32 {
    eprintln!("writ kill: not implemented yet");
    1
}
