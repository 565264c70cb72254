//! `writ list` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct ListArgs {}

pub fn run(_global: &super::GlobalOpts, _args: ListArgs) -> i32 {
    eprintln!("writ list: not implemented yet");
    1
}
