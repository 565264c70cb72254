//! `writ create [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N]
//! [--no-pivot] [--no-new-keyring] ID` (runtime.md#create).
//!
//! Reads the bundle's config.json, builds the plan (all checks happen here, before
//! anything is touched), reserves the id (state `creating`), creates the container
//! (whose process then waits for `start`), writes the pid file and records the state.
//! `create` exits once the container is created: the container process stays a child of
//! whoever called `create` (engines are subreapers and reap it). On any failure nothing
//! is left behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::GlobalOpts;
use crate::error::{Error, Result};
use crate::state::{ContainerState, Locked, Phase, StoredHook};

#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// Path to the bundle (the directory holding config.json); default: the current directory.
    #[arg(long, short = 'b', value_name = "DIR")]
    pub bundle: Option<PathBuf>,
    /// Write the container process's host pid to this file.
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// AF_UNIX socket that receives the pty master when process.terminal is true.
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Pass N extra fds (3..N+2) to the container process.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Do not use pivot_root (move the root and chroot instead).
    #[arg(long)]
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// The container id.
    pub id: String,
}

/// The id is a required argument (clap rejects a call without it).
#[writ_macros::requirement("runtime.create.args_required")]
pub fn run(global: &GlobalOpts, args: CreateArgs) -> i32 {
    if let Err(e) = crate::exeseal::ensure() {
        super::report("create", &e);
        return 1;
    }
    super::finish(
        "create",
        create_container(global, &args, Console::Socket).map(|_| 0),
    )
}

/// Where the pty master of a container with `process.terminal` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Console {
    /// To `--console-socket` (required when the config asks for a terminal).
    Socket,
    /// Back to this process (foreground `run` without `--console-socket`), through a
    /// socket in the state directory.
    Here,
}

/// A container just created, its state directory still locked.
pub(crate) struct CreatedContainer {
    pub handle: Locked,
    /// The pty master, with [`Console::Here`] and `process.terminal`.
    pub master: Option<std::os::fd::OwnedFd>,
}

/// Absolute, canonical path of the bundle (default: the current directory).
pub(crate) fn bundle_path(bundle: Option<&Path>) -> Result<PathBuf> {
    let given = bundle.unwrap_or(Path::new("."));
    let path = std::fs::canonicalize(given).map_err(|e| Error::Bundle {
        path: given.to_path_buf(),
        reason: e.to_string().to_lowercase(),
    })?;
    if !path.is_dir() {
        return Err(Error::Bundle {
            path,
            reason: "not a directory".into(),
        });
    }
    Ok(path)
}

/// Reads and parses `<bundle>/config.json` and checks it with writ-spec's rule set, the one
/// `writ validate` reports ([`writ_spec::validate_config_value`]): any error refuses the
/// config before anything is touched, with every diagnostic (`config.json:12:5:
/// error[id]: ...`, the source line, a caret) in the error. Warnings (a recommendation not
/// followed, a value runc accepts outside the spec such as podman's device fileMode, an
/// annotation key the spec does not define) never refuse it; those the spec asks a
/// runtime to log (members it does not define, unknown capabilities) are logged as
/// warnings, the others at debug level. `ociVersion` is only checked to be a SemVer
/// version, so every version from `writ features`' `ociVersionMin` to its
/// `ociVersionMax` is accepted.
#[writ_macros::requirement(
    "bundle.config.required",
    "bundle.config.at_root",
    "bundle.config.name"
)]
#[writ_macros::requirement(
    "config.valid_values.error",
    "config.annotations.unknown_keys",
    "config.extensibility.ignore_unknown",
    "config.extensibility.log_unknown",
    "config.process.capabilities.unknown_warn",
    "runtime.create.validate",
    "features.oci_version_min.accepted",
    "features.oci_version_max.accepted"
)]
pub(crate) fn load_config(bundle: &Path) -> Result<writ_spec::Spec> {
    let path = bundle.join("config.json");
    let data = std::fs::read(&path).map_err(|e| Error::Config {
        path: path.clone(),
        reason: e.to_string().to_lowercase(),
    })?;
    let file = path.display().to_string();
    let (spec, report) = match writ_spec::parse_config(&data) {
        Ok(parsed) => {
            let report = writ_spec::Report::new(file.as_str(), &data, &parsed.violations);
            (Some(parsed.value), report)
        }
        Err(e) => (
            None,
            writ_spec::Report::of_parse_error(file.as_str(), &data, &e),
        ),
    };
    match spec {
        Some(spec) if report.is_ok() => {
            for d in report.diagnostics() {
                let line = d.one_line(&file);
                if LOGGED_AS_WARNINGS.contains(&d.requirement) {
                    crate::logging::warn(&line);
                } else {
                    crate::logging::debug(|| line);
                }
            }
            Ok(spec)
        }
        _ => Err(Error::Config {
            path,
            reason: format!(
                "{}\n{}",
                report.counts(),
                report.render_diagnostics().trim_end()
            ),
        }),
    }
}

/// The warnings of the rule set that a runtime is asked to log (members the spec does not
/// define; capabilities it cannot grant): logged as warnings. Other warnings are about how
/// the config was written and go to the debug log.
const LOGGED_AS_WARNINGS: [&str; 2] = [
    "config.extensibility.log_unknown",
    "config.process.capabilities.unknown_warn",
];

/// The whole `create` operation; returns the container's state directory, still locked
/// (so `run` can go on to start it without anyone interleaving).
#[writ_macros::requirement(
    "runtime.operations.supported",
    "runtime.create.new_container",
    "runtime.create.id_invalid.error",
    "runtime.create.apply_failure.error",
    "runtime.create.apply_failure.nothing_created",
    "runtime.lifecycle.create_env.error",
    "runtime.errors.no_side_effects",
    "runtime.lifecycle.config_frozen"
)]
pub(crate) fn create_container(
    global: &GlobalOpts,
    args: &CreateArgs,
    console: Console,
) -> Result<CreatedContainer> {
    crate::logging::debug(|| format!("create {}: begin", args.id));
    let store = global.store();
    crate::state::validate_id(&args.id)?;
    if store.dir(&args.id).symlink_metadata().is_ok() {
        return Err(crate::state::StateError::AlreadyExists(args.id.clone()).into());
    }
    let bundle = bundle_path(args.bundle.as_deref())?;
    let spec = load_config(&bundle)?;
    let plan = crate::plan::build(&spec, &bundle).map_err(|e| Error::Config {
        path: bundle.join("config.json"),
        reason: e.to_string(),
    })?;
    crate::logging::debug(|| format!("create {}: planned", args.id));
    let here = plan.terminal && console == Console::Here && args.console_socket.is_none();
    if plan.terminal && !here && args.console_socket.is_none() {
        return Err(Error::Runtime(
            "process.terminal is true but no --console-socket was given".into(),
        ));
    }

    let mut initial = ContainerState::new(&args.id, &bundle);
    initial.rootfs = Some(plan.rootfs.clone());
    initial.annotations = plan.annotations.clone();
    initial.poststart = plan.hooks.poststart.iter().map(StoredHook::from).collect();
    initial.poststop = plan.hooks.poststop.iter().map(StoredHook::from).collect();
    initial.systemd_cgroup = global.systemd_cgroup;
    let mut handle = store.reserve(&initial)?;
    crate::logging::debug(|| format!("create {}: state directory reserved", args.id));
    // A socket path must fit in sun_path (108 bytes).
    let mut own_socket = handle.dir.join("console.sock");
    if own_socket.as_os_str().len() > 100 {
        own_socket = std::env::temp_dir().join(format!("writ-console-{}.sock", std::process::id()));
    }
    let listener = if here {
        match std::os::unix::net::UnixListener::bind(&own_socket) {
            Ok(l) => Some((l, RemoveOnDrop(own_socket.clone()))),
            Err(e) => {
                let _ = handle.remove();
                return Err(Error::io("creating the console socket")(e));
            }
        }
    } else {
        None
    };
    let console_socket = if here {
        Some(own_socket.as_path())
    } else {
        args.console_socket.as_deref()
    };

    let req = crate::container::CreateRequest {
        id: &args.id,
        bundle: &bundle,
        console_socket,
        preserve_fds: args.preserve_fds,
        no_pivot: args.no_pivot,
        no_new_keyring: args.no_new_keyring,
        systemd_cgroup: global.systemd_cgroup,
    };
    let created = match crate::container::create(&req, &plan, &mut handle) {
        Ok(c) => c,
        Err(e) => {
            let _ = handle.remove();
            return Err(Error::Runtime(e.to_string()));
        }
    };

    handle.state.phase = Phase::Created;
    handle.state.pid = Some(created.pid);
    handle.state.start_time = Some(created.start_time);
    handle.state.cgroup = created.cgroup.as_ref().map(|cg| cg.state().clone());
    handle.state.intel_rdt = created.intel_rdt.clone();
    if let Some(pid_file) = &args.pid_file {
        if let Err(e) = write_pid_file(pid_file, created.pid) {
            return Err(abort(handle, &created, e));
        }
    }
    if let Err(e) = handle.save() {
        return Err(abort(handle, &created, e.into()));
    }
    crate::logging::debug(|| format!("create {}: state saved", args.id));
    let (pid, start_time) = (created.pid, created.start_time);
    let cgroup = handle
        .state
        .cgroup
        .clone()
        .map(crate::cgroups::Cgroup::from_state);
    if let Err(e) = created.detach() {
        return Err(abort_pid(
            handle,
            pid,
            start_time,
            cgroup.as_ref(),
            Error::Runtime(e.to_string()),
        ));
    }
    crate::logging::debug(|| format!("create {}: init detached", args.id));
    let master = match &listener {
        Some((l, _)) => match crate::console::recv_master(l) {
            Ok(fd) => Some(fd),
            Err(e) => {
                return Err(abort_pid(
                    handle,
                    pid,
                    start_time,
                    cgroup.as_ref(),
                    e.into(),
                ))
            }
        },
        None => None,
    };
    drop(listener);
    crate::logging::debug(|| format!("create {}: created, pid {pid}", args.id));
    Ok(CreatedContainer { handle, master })
}

/// Removes a file when dropped (the console socket of a foreground `run`).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Undoes a created container after a later step failed: kills its process, removes
/// its cgroup and its state directory. Returns the original error.
fn abort(handle: Locked, created: &crate::container::Created, err: Error) -> Error {
    abort_pid(
        handle,
        created.pid,
        created.start_time,
        created.cgroup.as_ref(),
        err,
    )
}

fn abort_pid(
    handle: Locked,
    pid: i32,
    start_time: u64,
    cgroup: Option<&crate::cgroups::Cgroup>,
    err: Error,
) -> Error {
    super::kill::signal_process(pid, libc::SIGKILL);
    super::kill::wait_gone(pid, start_time);
    if let Some(cg) = cgroup {
        if let Err(e) = cg.destroy() {
            crate::logging::warn(&format!("removing cgroup: {e}"));
        }
    }
    if let Some(s) = &handle.state.intel_rdt {
        crate::resctrl::undo(s);
    }
    let _ = handle.remove();
    err
}

/// Writes `pid` to `path` atomically (a temporary file in the same directory, renamed),
/// so a reader never sees an empty or partial pid file.
pub(crate) fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(Error::io("resolving the pid file path"))?
            .join(path)
    };
    let dir = abs.parent().unwrap_or(Path::new("/"));
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.writ-{}", std::process::id()));
    let what = || format!("writing pid file {}", abs.display());
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(pid.to_string().as_bytes()))
        .and_then(|()| std::fs::rename(&tmp, &abs));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(what())(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_is_written_whole_and_replaced() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.pid");
        std::fs::write(&p, "999999").unwrap();
        write_pid_file(&p, 42).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "42");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        assert!(write_pid_file(Path::new("/nonexistent/dir/x.pid"), 1)
            .unwrap_err()
            .to_string()
            .contains("/nonexistent/dir/x.pid"));
    }

    #[test]
    fn bundle_must_exist_and_be_a_directory() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            bundle_path(Some(d.path())).unwrap(),
            d.path().canonicalize().unwrap()
        );
        let f = d.path().join("f");
        std::fs::write(&f, "").unwrap();
        assert!(bundle_path(Some(&f)).is_err());
        let err = bundle_path(Some(&d.path().join("missing"))).unwrap_err();
        assert!(
            err.to_string().contains("no such file or directory"),
            "{err}"
        );
    }

    #[test]
    fn missing_or_bad_config_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        let err = load_config(d.path()).unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("no such file"),
            "{err}"
        );
        std::fs::write(d.path().join("config.json"), "{").unwrap();
        let err = load_config(d.path()).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
    }
}
