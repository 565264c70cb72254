//! `writ demo` (placeholder until implemented).

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub fn run(_args: DemoArgs) -> i32 {
    eprintln!("writ demo: not implemented yet");
    1
}
