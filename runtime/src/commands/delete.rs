//! `writ delete` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {}

pub fn run(_global: &super::GlobalOpts, _args: DeleteArgs) -> i32 {
    eprintln!("writ delete: not implemented yet");
    1
}
