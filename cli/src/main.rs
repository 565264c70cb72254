//! The `writ` binary: a thin, runc-compatible CLI over the `writ` library.
use clap::{Parser, Subcommand};
use writ_cli::commands::{self, GlobalOpts};
use writ_cli::tools;

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
    #[arg(
        long,
        short = 'v',
        help_heading = "Global options (before the command)"
    )]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

/// `defer`: clap builds a subcommand's arguments only when that subcommand is used (or
/// its help printed), not all of the tree on every call.
#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Create a container from a bundle; its program waits for `start`.
    Create(commands::create::CreateArgs),
    /// Run the program of a created container.
    Start(commands::start::StartArgs),
    /// Print the state of a container as JSON.
    State(commands::state::StateArgs),
    /// Send a signal to a container's process (TERM by default).
    Kill(commands::kill::KillArgs),
    /// Delete a stopped container and everything it holds.
    Delete(commands::delete::DeleteArgs),
    /// Create and start a container, and wait for it (or detach).
    Run(commands::run::RunArgs),
    /// Run another process in a running (or created) container.
    Exec(commands::exec::ExecArgs),
    /// List the containers under --root.
    List(commands::list::ListArgs),
    /// Show the processes of a container.
    Ps(commands::ps::PsArgs),
    /// Suspend every process of a container (the cgroup freezer).
    Pause(commands::pause::PauseArgs),
    /// Resume the processes of a paused container.
    Resume(commands::pause::PauseArgs),
    /// The resource catalogue: each resource's cgroup files, and whether update changes it live.
    Resources(tools::resources::ResourcesArgs),
    /// Write a starter config.json for a bundle.
    Spec(tools::spec::SpecArgs),
    /// Check a config.json against the spec: every error and warning, with its requirement id.
    Validate(tools::validate::ValidateArgs),
    /// Show which requirement of the spec is implemented where and proven by which test.
    Coverage(tools::coverage::CoverageArgs),
    /// Print what writ implements, as the spec's features document.
    Features(tools::features::FeaturesArgs),
    /// Run a busybox container end to end and show the coverage summary.
    Demo(tools::demo::DemoArgs),
    /// Change the resource limits of a container (see writ resources for what can change).
    Update(commands::update::UpdateArgs),
    /// Show a container's resource usage and OOM events, as runc's JSON lines.
    Events(commands::events::EventsArgs),
    /// Checkpoint a running container with criu (not in writ yet).
    Checkpoint(NotYet),
    /// Restore a container from a checkpoint (not in writ yet).
    Restore(NotYet),
}

/// The arguments of a runc command writ does not have yet: taken as they come, so that
/// the answer is that the command is missing, not a complaint about an option.
#[derive(clap::Args)]
struct NotYet {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _args: Vec<String>,
}

impl Command {
    /// The name of a runc command writ does not have yet.
    fn not_yet(&self) -> Option<&'static str> {
        Some(match self {
            Command::Checkpoint(_) => "checkpoint",
            Command::Restore(_) => "restore",
            _ => return None,
        })
    }

    /// The name of a command that creates, changes or removes containers (which needs root).
    fn manages_containers(&self) -> Option<&'static str> {
        Some(match self {
            Command::Create(_) => "create",
            Command::Start(_) => "start",
            Command::Kill(_) => "kill",
            Command::Delete(_) => "delete",
            Command::Pause(_) => "pause",
            Command::Resume(_) => "resume",
            Command::Update(_) => "update",
            Command::Run(_) => "run",
            Command::Exec(_) => "exec",
            Command::Demo(_) => "demo",
            _ => return None,
        })
    }
}

/// The shipped (musl) build's allocator. musl's own (mallocng) hands memory back to the
/// kernel as soon as a group of small blocks is free: a writ start made about 60
/// mmap/munmap calls, each with its page faults. dlmalloc keeps its 64 kB segments until
/// 2 MB are free at the top. Measured here (perf stat -r 100/300, same run, A B A B): the
/// task-clock of `exec ID true` fell from 4.0-4.6 to 2.7-2.9 ms, of `state` from 0.57-0.77
/// to 0.34-0.58 ms.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// The global options that take a value in the next argument (`--root DIR`).
const GLOBAL_VALUE_OPTIONS: [&str; 5] =
    ["--root", "--log", "--log-format", "--log-level", "--criu"];

/// Whether the command line names a command that forks a process into a container
/// (create, run, exec), found without clap: those commands re-exec writ through a
/// read-only view of its binary (`writ::exeseal`), and doing so before clap builds its
/// command tree saves that work in the image that is left at once. Only a shortcut: a
/// wrong guess either way is safe, since those commands call `exeseal::ensure` again (it
/// does nothing once sealed) and any other command runs as well from the view.
fn forks_into_container(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let mut args = args.skip(1);
    while let Some(a) = args.next() {
        let a = a.as_encoded_bytes();
        if GLOBAL_VALUE_OPTIONS.iter().any(|o| o.as_bytes() == a) {
            args.next();
        } else if !a.starts_with(b"-") {
            return matches!(a, b"create" | b"run" | b"exec");
        }
    }
    false
}

fn main() {
    if forks_into_container(std::env::args_os()) {
        // On failure the command's own call reports it.
        let _ = writ::exeseal::ensure();
    }
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
        writ::logging::error("no command given (see writ --help)");
        std::process::exit(1);
    };
    if let Some(name) = command.not_yet() {
        commands::report(
            name,
            &"not implemented in writ yet (writ has create, start, state, kill, delete, run, exec, list, ps, pause, resume, update, events, resources, spec and features)",
        );
        std::process::exit(1);
    }
    if let Some(name) = command.manages_containers() {
        if !rustix::process::geteuid().is_root() {
            commands::report(
                name,
                &"writ needs root to manage containers (namespaces, mounts, cgroups); run it as root. Rootless containers are not supported yet",
            );
            std::process::exit(1);
        }
    }
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
        Command::Pause(a) => commands::pause::run(g, a),
        Command::Resume(a) => commands::pause::resume(g, a),
        Command::Update(a) => commands::update::run(g, a),
        Command::Events(a) => commands::events::run(g, a),
        Command::Resources(a) => tools::resources::run(a),
        Command::Spec(a) => tools::spec::run(a),
        Command::Validate(a) => tools::validate::run(a),
        Command::Coverage(a) => tools::coverage::run(a),
        Command::Features(a) => tools::features::run(a),
        Command::Demo(a) => tools::demo::run(a),
        // Answered above.
        Command::Checkpoint(_) | Command::Restore(_) => 1,
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn forks(line: &str) -> bool {
        forks_into_container(
            std::iter::once("writ")
                .chain(line.split(' '))
                .map(Into::into),
        )
    }

    #[test]
    fn the_commands_that_fork_into_a_container_are_found_before_parsing() {
        assert!(forks("create --bundle b c1"));
        assert!(forks(
            "--root /tmp/r --log /tmp/l --log-format json run -d c1"
        ));
        assert!(forks("--debug exec c1 /bin/true"));
        assert!(!forks("state c1"));
        assert!(!forks("--root run state c1"));
        assert!(!forks("--log exec delete c1"));
        assert!(!forks("--version"));
    }

    #[test]
    fn every_global_option_with_a_value_is_known_to_the_shortcut() {
        let cli = Cli::command();
        let mut with_value: Vec<String> = cli
            .get_arguments()
            .filter(|a| a.get_long().is_some() && a.get_action().takes_values())
            .filter(|a| a.get_num_args().is_none_or(|n| n.min_values() > 0))
            .map(|a| format!("--{}", a.get_long().unwrap_or_default()))
            .collect();
        with_value.sort();
        let mut known = GLOBAL_VALUE_OPTIONS.map(String::from).to_vec();
        known.sort();
        assert_eq!(with_value, known);
    }
}
