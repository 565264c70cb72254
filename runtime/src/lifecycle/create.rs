//! Create (runtime.md#create), behind [`Container::create`](super::Container::create).
//!
//! Reads the bundle's config.json, builds the plan (all checks happen here, before
//! anything is touched), reserves the id (state `creating`), creates the container
//! (whose process then waits for `start`), writes the pid file and records the state.
//! `create` exits once the container is created: the container process stays a child of
//! whoever called `create` (engines are subreapers and reap it). On any failure nothing
//! is left behind.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::state::{ContainerState, Locked, Phase, Store, StoredHook};

/// Where the pty master of a container whose config asks for a terminal
/// (`process.terminal`) goes. Without a terminal it is not used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Console {
    /// Nowhere: a config with `process.terminal` is refused (runc's "no --console-socket").
    #[default]
    None,
    /// To this AF_UNIX socket (runc's `--console-socket`), as an SCM_RIGHTS message.
    Socket(PathBuf),
    /// Back to the caller: [`Container::take_console`](super::Container::take_console)
    /// hands it over (a foreground `run` without `--console-socket`).
    Keep,
}

impl Console {
    /// runc's choice: the `--console-socket` when given, else the caller keeps the pty
    /// master when it stays in the foreground (`keep`), else nobody takes it.
    pub fn socket_or_keep(socket: Option<PathBuf>, keep: bool) -> Console {
        match (socket, keep) {
            (Some(s), _) => Console::Socket(s),
            (None, true) => Console::Keep,
            (None, false) => Console::None,
        }
    }
}

/// How to create a container (runc's `create` options).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CreateOptions {
    /// The bundle: the directory holding config.json (`.` when empty).
    pub bundle: PathBuf,
    /// Write the container process's host pid to this file.
    pub pid_file: Option<PathBuf>,
    /// Where the pty master goes when the config asks for a terminal.
    pub console: Console,
    /// Pass this many extra fds (3..3+N) to the container process.
    pub preserve_fds: u32,
    /// Do not use pivot_root (move the root and chroot instead).
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container.
    pub no_new_keyring: bool,
    /// Recorded for runc compatibility (`--systemd-cgroup`): cgroupsPath is read as
    /// `slice:prefix:name`.
    pub systemd_cgroup: bool,
}

impl CreateOptions {
    /// Options for the bundle at `bundle`, everything else at its default.
    pub fn new(bundle: impl Into<PathBuf>) -> Self {
        CreateOptions {
            bundle: bundle.into(),
            ..Default::default()
        }
    }
}

/// Absolute, canonical path of the bundle (empty: the current directory).
pub(crate) fn bundle_path(bundle: &Path) -> Result<PathBuf> {
    let given = if bundle.as_os_str().is_empty() {
        Path::new(".")
    } else {
        bundle
    };
    let path = std::fs::canonicalize(given).map_err(|source| Error::Bundle {
        path: given.to_path_buf(),
        source,
    })?;
    if !path.is_dir() {
        return Err(Error::BundleNotDir { path });
    }
    Ok(path)
}

/// Reads `<bundle>/config.json` and makes the plan of it (every check happens there,
/// before anything is touched). Returns the config's bytes too: they are frozen in the
/// state directory.
#[writ_macros::requirement(
    "bundle.config.required",
    "bundle.config.at_root",
    "bundle.config.name"
)]
pub(crate) fn load_plan(bundle: &Path) -> Result<(crate::plan::ContainerPlan, Vec<u8>)> {
    let path = bundle.join("config.json");
    let data = std::fs::read(&path).map_err(|source| Error::ConfigRead {
        path: path.clone(),
        source,
    })?;
    let plan = crate::plan::from_config(&data, bundle, &crate::host::facts())
        .map_err(|source| Error::Config { path, source })?;
    // The rule set's warnings: those the spec asks a runtime to log as warnings, the
    // others (about how the config is written) in the debug log.
    for f in &plan.findings {
        if f.logged_as_warning {
            crate::logging::warn(&f.line);
        } else {
            crate::logging::debug(|| f.line.clone());
        }
    }
    Ok((plan, data))
}

/// The console socket of [`Console::Keep`] (`here`): its path and, when it is used, the
/// listener (removed when dropped). A socket path must fit in sun_path (108 bytes).
fn own_console(
    handle: &Locked,
    here: bool,
) -> Result<(
    PathBuf,
    Option<(std::os::unix::net::UnixListener, RemoveOnDrop)>,
)> {
    let mut path = handle.dir.join("console.sock");
    if path.as_os_str().len() > 100 {
        path = std::env::temp_dir().join(format!("writ-console-{}.sock", std::process::id()));
    }
    if !here {
        return Ok((path, None));
    }
    let l = std::os::unix::net::UnixListener::bind(&path)
        .map_err(Error::io("creating the console socket"))?;
    Ok((path.clone(), Some((l, RemoveOnDrop(path)))))
}

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
pub(crate) fn create_locked(
    store: &Store,
    id: &str,
    opts: &CreateOptions,
) -> Result<(Locked, Option<OwnedFd>)> {
    crate::logging::debug(|| format!("create {id}: begin"));
    crate::state::validate_id(id)?;
    if store.dir(id).symlink_metadata().is_ok() {
        return Err(crate::state::StateError::AlreadyExists(id.to_string()).into());
    }
    let bundle = bundle_path(&opts.bundle)?;
    let (mut plan, config) = load_plan(&bundle)?;
    crate::logging::debug(|| format!("create {id}: planned"));
    let here = plan.terminal && opts.console == Console::Keep;
    if plan.terminal && opts.console == Console::None {
        return Err(Error::NoConsoleSocket);
    }

    let mut initial = ContainerState::new(id, &bundle);
    initial.rootfs = Some(plan.rootfs.clone());
    initial.annotated = !plan.annotations.is_empty();
    initial.poststart = plan.hooks.poststart.iter().map(StoredHook::from).collect();
    initial.poststop = plan.hooks.poststop.iter().map(StoredHook::from).collect();
    initial.systemd_cgroup = opts.systemd_cgroup;
    initial.no_new_keyring = opts.no_new_keyring;
    // The config as create read it is kept in the state directory (the operations after
    // create that need it, exec, update, events, and the annotations of `state`, read it
    // there): a later change of the bundle's config.json does not reach the container.
    let mut handle = store.reserve(&initial, &config)?;
    // Not kept across the fork: memory freed after it, while the init still shares the
    // pages, is copied page by page (a large config's annotations would be). The
    // annotations stay only for the state that hooks during create get.
    drop(config);
    if !plan.hooks.any_during_create() {
        plan.annotations = Default::default();
    }
    crate::logging::debug(|| format!("create {id}: state directory reserved"));
    let (own_socket, listener) = match own_console(&handle, here) {
        Ok(own) => own,
        Err(e) => {
            let _ = handle.remove();
            return Err(e);
        }
    };
    let console_socket = match &opts.console {
        Console::Keep if here => Some(own_socket.as_path()),
        Console::Socket(p) => Some(p.as_path()),
        _ => None,
    };

    let req = crate::spawn::CreateRequest {
        id,
        bundle: &bundle,
        console_socket,
        preserve_fds: opts.preserve_fds,
        no_pivot: opts.no_pivot,
        no_new_keyring: opts.no_new_keyring,
        systemd_cgroup: opts.systemd_cgroup,
    };
    let created = match crate::spawn::create(&req, &plan, &mut handle) {
        Ok(c) => c,
        Err(e) => {
            let _ = handle.remove();
            return Err(e.into());
        }
    };

    handle.state.phase = Phase::Created;
    handle.state.pid = Some(created.pid);
    handle.state.start_time = Some(created.start_time);
    handle.state.cgroup = created.cgroup.as_ref().map(|cg| cg.state().clone());
    handle.state.intel_rdt = created.intel_rdt.clone();
    if let Some(pid_file) = &opts.pid_file {
        if let Err(e) = write_pid_file(pid_file, created.pid) {
            return Err(abort(handle, &created, e));
        }
    }
    if let Err(e) = handle.save() {
        return Err(abort(handle, &created, e.into()));
    }
    crate::logging::debug(|| format!("create {id}: state saved"));
    let (pid, start_time) = (created.pid, created.start_time);
    let cgroup = handle
        .state
        .cgroup
        .clone()
        .map(crate::cgroups::Cgroup::from_state);
    let undo = |handle, e| abort_pid(handle, pid, start_time, cgroup.as_ref(), e);
    if let Err(e) = created.detach() {
        return Err(undo(handle, e.into()));
    }
    crate::logging::debug(|| format!("create {id}: init detached"));
    let master = match &listener {
        Some((l, _)) => match crate::console::recv_master(l) {
            Ok(fd) => Some(fd),
            Err(e) => return Err(undo(handle, e.into())),
        },
        None => None,
    };
    drop(listener);
    crate::logging::debug(|| format!("create {id}: created, pid {pid}"));
    Ok((handle, master))
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
fn abort(handle: Locked, created: &crate::spawn::Created, err: Error) -> Error {
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
            bundle_path(d.path()).unwrap(),
            d.path().canonicalize().unwrap()
        );
        let f = d.path().join("f");
        std::fs::write(&f, "").unwrap();
        assert!(bundle_path(&f).is_err());
        let err = bundle_path(&d.path().join("missing")).unwrap_err();
        assert!(
            err.to_string().contains("no such file or directory"),
            "{err}"
        );
    }

    #[test]
    fn missing_or_bad_config_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        let err = load_plan(d.path()).unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("no such file"),
            "{err}"
        );
        std::fs::write(d.path().join("config.json"), "{").unwrap();
        let err = load_plan(d.path()).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
    }
}
