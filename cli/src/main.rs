//! The `writ` binary: a thin, runc-compatible CLI over the `writ` library.
use clap::{Parser, Subcommand};
use writ_cli::commands::{self, GlobalOpts};

#[derive(Parser)]
#[command(
    name = "writ",
    about = "An OCI container runtime whose every rule comes from the spec",
    disable_version_flag = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    /// Print the version of writ and of the runtime-spec it implements.
    #[arg(long, short = 'v')]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    Create(commands::create::CreateArgs),
    Start(commands::start::StartArgs),
    State(commands::state::StateArgs),
    Kill(commands::kill::KillArgs),
    Delete(commands::delete::DeleteArgs),
    Run(commands::run::RunArgs),
    Exec(commands::exec::ExecArgs),
    List(commands::list::ListArgs),
    Ps(commands::ps::PsArgs),
    Spec(commands::spec::SpecArgs),
    Validate(commands::validate::ValidateArgs),
    Coverage(commands::coverage::CoverageArgs),
    Features(commands::features::FeaturesArgs),
    Demo(commands::demo::DemoArgs),
}

fn main() {
    let cli = Cli::parse();
    if cli.version {
        // runc's format; engines read the first line.
        print!(
            "writ version {}\nspec: {}\n",
            env!("CARGO_PKG_VERSION"),
            writ::OCI_VERSION
        );
        std::process::exit(0);
    }
    let g = &cli.global;
    let format = match g.log_format.parse::<writ::logging::Format>() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("writ: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = writ::logging::init(
        g.log.as_deref(),
        format,
        g.debug || g.log_level.as_deref() == Some("debug"),
    ) {
        eprintln!("writ: {e}");
        std::process::exit(1);
    }
    let Some(command) = cli.command else {
        eprintln!("writ: no command given (see writ --help)");
        std::process::exit(1);
    };
    let code = match command {
        Command::Create(a) => commands::create::run(g, a),
        Command::Start(a) => commands::start::run(g, a),
        Command::State(a) => commands::state::run(g, a),
        Command::Kill(a) => commands::kill::run(g, a),
        Command::Delete(a) => commands::delete::run(g, a),
        Command::Run(a) => commands::run::run(g, a),
        Command::Exec(a) => commands::exec::run(g, a),
        Command::List(a) => commands::list::run(g, a),
        Command::Ps(a) => commands::ps::run(g, a),
        Command::Spec(a) => commands::spec::run(a),
        Command::Validate(a) => commands::validate::run(a),
        Command::Coverage(a) => commands::coverage::run(a),
        Command::Features(a) => commands::features::run(a),
        Command::Demo(a) => commands::demo::run(a),
    };
    std::process::exit(code);
}
