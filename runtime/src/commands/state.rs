//! `writ state` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct StateArgs {}

pub fn run(_global: &super::GlobalOpts, _args: StateArgs) -> i32 {
    eprintln!("writ state: not implemented yet");
    1
}
