//! The `writ` binary: a thin, runc-compatible CLI over the `writ` library.
use clap::{Parser, Subcommand};
use writ::commands::{self, GlobalOpts};

#[derive(Parser)]
#[command(name = "writ", version, about = "An OCI container runtime whose every rule comes from the spec")]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Create(commands::create::CreateArgs),
    Start(commands::start::StartArgs),
    State(commands::state::StateArgs),
    Kill(commands::kill::KillArgs),
    Delete(commands::delete::DeleteArgs),
    Run(commands::run::RunArgs),
    List(commands::list::ListArgs),
    Spec(commands::spec::SpecArgs),
    Validate(commands::validate::ValidateArgs),
    Coverage(commands::coverage::CoverageArgs),
    Features(commands::features::FeaturesArgs),
    Demo(commands::demo::DemoArgs),
}

fn main() {
    let cli = Cli::parse();
    let _ = (&cli.global, &cli.command);
    std::process::exit(0);
}
