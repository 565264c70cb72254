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
    let g = &cli.global;
    let code = match cli.command {
        Command::Create(a) => commands::create::run(g, a),
        Command::Start(a) => commands::start::run(g, a),
        Command::State(a) => commands::state::run(g, a),
        Command::Kill(a) => commands::kill::run(g, a),
        Command::Delete(a) => commands::delete::run(g, a),
        Command::Run(a) => commands::run::run(g, a),
        Command::List(a) => commands::list::run(g, a),
        Command::Spec(a) => commands::spec::run(a),
        Command::Validate(a) => commands::validate::run(a),
        Command::Coverage(a) => commands::coverage::run(a),
        Command::Features(a) => commands::features::run(a),
        Command::Demo(a) => commands::demo::run(a),
    };
    std::process::exit(code);
}
