//! `writ spec` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct SpecArgs {}

pub fn run(_args: SpecArgs) -> i32 {
    eprintln!("writ spec: not implemented yet");
    1
}
