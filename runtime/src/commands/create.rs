//! `writ create` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct CreateArgs {}

pub fn run(_global: &super::GlobalOpts, _args: CreateArgs) -> i32 {
    eprintln!("writ create: not implemented yet");
    1
}
