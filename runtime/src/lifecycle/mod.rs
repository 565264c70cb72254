//! The lifecycle of a container (runtime.md#lifecycle, runtime.md#operations) behind one
//! type, [`Container`]: create from a bundle, load by id, start, query the state, kill,
//! delete. The `writ` command line is argument mapping over it.
//!
//! Every operation that changes a container takes the exclusive lock of its state
//! directory for the length of the call and re-reads the recorded state under it, so
//! two operations on one id never interleave, whoever runs them (this process or
//! another `writ`). A [`Container`] value is a snapshot: [`Container::refresh`] reads
//! the state again.

mod create;
mod delete;
mod events;
mod exec;
mod kill;
mod list;
mod pause;
mod start;
mod state;
mod update;
mod update_request;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

pub use create::{Console, CreateOptions};
pub use events::Event;
pub use exec::{Exec, ExecOptions, ExecProcess, ProcessOverrides};
pub use kill::parse_signal;
pub use list::{Ids, States};
pub use state::{user_name, State};
pub use update_request::{parse_bytes, ResourcesUpdate};

use crate::error::{Error, Result};
use crate::state::{ContainerState, Locked, Status, Store};

/// A container under a state root (runc's `--root`, e.g. `/run/writ`).
///
/// The crate documentation has the whole lifecycle as a running example. Loading and
/// listing need no privileges:
///
/// ```
/// let root = tempfile::tempdir()?;
/// assert!(writ::Container::list(root.path())?.is_empty());
/// let err = writ::Container::load(root.path(), "nope").unwrap_err();
/// assert_eq!(err.to_string(), "container \"nope\" does not exist");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Container {
    store: Store,
    record: ContainerState,
    status: Status,
    /// The pty master kept by create with [`Console::Keep`].
    console: Option<OwnedFd>,
}

impl Container {
    fn from_record(store: Store, record: ContainerState, status: Status) -> Container {
        Container {
            store,
            record,
            status,
            console: None,
        }
    }

    fn from_locked(store: Store, handle: &Locked) -> Container {
        Container::from_record(store, handle.state.clone(), handle.status())
    }

    /// Loads the container `id` under `root` (without waiting for an operation in
    /// progress: a container being created is `creating`).
    #[writ_macros::requirement("runtime.state_op.unknown_id")]
    pub fn load(root: &Path, id: &str) -> Result<Container> {
        let store = Store::new(root);
        let (record, status) = store.read(id)?;
        Ok(Container::from_record(store, record, status))
    }

    /// Every container under `root`, sorted by id. A container deleted meanwhile, or a
    /// directory that is not a container, is skipped.
    pub fn list(root: &Path) -> Result<Vec<Container>> {
        let store = Store::new(root);
        let mut out = Vec::new();
        for id in store.ids()? {
            if let Ok((record, status)) = store.read(&id) {
                if record.id == id {
                    out.push(Container::from_record(store.clone(), record, status));
                }
            }
        }
        Ok(out)
    }

    /// The state of every container under `root`, sorted by id, one at a time (what
    /// [`list`](Container::list) and [`state`](Container::state) give, without keeping
    /// whole records): runc's `list`. A container deleted meanwhile, or a directory that
    /// is not a container, is skipped. [`States::ids`] gives only their ids (`list -q`),
    /// without looking at the status.
    ///
    /// ```
    /// let root = tempfile::tempdir()?;
    /// assert_eq!(writ::Container::states(root.path())?.count(), 0);
    /// assert_eq!(writ::Container::states(root.path())?.ids().count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn states(root: &Path) -> Result<States> {
        States::new(root)
    }

    /// Removes the temporary state directories that a `create` or `delete` killed half-way
    /// left under `root` (those whose process is gone and that nobody holds locked);
    /// returns what it removed.
    pub fn remove_stale(root: &Path) -> Vec<PathBuf> {
        Store::new(root).remove_stale()
    }

    /// Creates the container `id` from a bundle (runtime.md#create): its process is left
    /// waiting for [`start`](Container::start). On any failure nothing is left behind.
    pub fn create(root: &Path, id: &str, opts: &CreateOptions) -> Result<Container> {
        let store = Store::new(root);
        let (handle, console) = create::create_locked(&store, id, opts)?;
        let mut c = Container::from_locked(store, &handle);
        c.console = console;
        Ok(c)
    }

    /// Creates and starts the container `id` without letting another operation in
    /// between (runc's `run`, without the waiting). If start fails, the container is
    /// deleted.
    pub fn create_and_start(root: &Path, id: &str, opts: &CreateOptions) -> Result<Container> {
        let store = Store::new(root);
        let (handle, console) = create::create_locked(&store, id, opts)?;
        if let Err(e) = start::start_container(&handle) {
            let _ = delete::delete_container(handle, true);
            return Err(e);
        }
        let mut c = Container::from_locked(store, &handle);
        c.console = console;
        Ok(c)
    }

    /// Locks the state directory and reads the state again.
    fn lock(&self) -> Result<Locked> {
        Ok(self.store.lock(self.id())?)
    }

    /// Reads the recorded state and the status again.
    pub fn refresh(&mut self) -> Result<()> {
        let (record, status) = self.store.read(self.id())?;
        self.record = record;
        self.status = status;
        Ok(())
    }

    /// The container's id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The status when this value was loaded or last changed.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Host pid of the container process, while it is `created` or `running`.
    pub fn pid(&self) -> Option<i32> {
        state::shown_pid(self.status, self.record.pid)
    }

    /// Absolute path of the bundle.
    pub fn bundle(&self) -> &Path {
        &self.record.bundle
    }

    /// The state directory of the container.
    pub fn state_dir(&self) -> PathBuf {
        self.store.dir(self.id())
    }

    /// Everything writ recorded about the container.
    pub fn record(&self) -> &ContainerState {
        &self.record
    }

    /// The path and bytes of the frozen config.
    fn frozen_config(&self) -> Result<(PathBuf, Vec<u8>)> {
        let path = self.state_dir().join(crate::state::FROZEN_CONFIG);
        match std::fs::read(&path) {
            Ok(data) => Ok((path, data)),
            Err(source) => Err(Error::ConfigRead { path, source }),
        }
    }

    /// The config as create read it (a later change of the bundle's config.json does not
    /// reach the container).
    pub fn config(&self) -> Result<writ_spec::Spec> {
        let (path, data) = self.frozen_config()?;
        match writ_spec::parse_config(&data) {
            Ok(parsed) => Ok(parsed.value),
            Err(e) => {
                let report =
                    writ_spec::Report::of_parse_error(path.display().to_string(), &data, &e);
                Err(Error::Config {
                    path,
                    source: crate::plan::PlanError::Rules(Box::new(report)),
                })
            }
        }
    }

    /// The plan of the config as create read it, on this host now: what exec, update and
    /// events act on.
    pub fn plan(&self) -> Result<crate::plan::ContainerPlan> {
        let (path, data) = self.frozen_config()?;
        crate::plan::from_config(&data, self.bundle(), &crate::host::facts())
            .map_err(|source| Error::Config { path, source })
    }

    /// The state as `writ state` prints it (runtime.md#query-state), with the config's
    /// annotations (read from the frozen config).
    #[writ_macros::requirement("runtime.state_op.returns_state", "runtime.state.extra_properties")]
    pub fn state(&self) -> Result<State> {
        let annotations = crate::state::annotations(&self.record, &self.state_dir())?;
        Ok(self
            .state_without_annotations()
            .with_annotations(annotations))
    }

    /// The state without the config's annotations (what `list`'s table shows: no file
    /// but state.json is read).
    pub fn state_without_annotations(&self) -> State {
        State::new(self.record.clone(), self.status)
    }

    /// The pty master, once, when the container was created with [`Console::Keep`] and
    /// its config asks for a terminal.
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    /// Starts a `created` container (runtime.md#start): its user program runs, then the
    /// poststart hooks.
    pub fn start(&mut self) -> Result<()> {
        let handle = self.lock()?;
        let r = start::start_container(&handle);
        self.record = handle.state.clone();
        self.status = handle.status();
        r
    }

    /// Sends `signal` to the container process (runtime.md#kill), or with `all` to every
    /// process of its cgroup. See [`parse_signal`] for runc's signal names.
    pub fn kill(&mut self, signal: i32, all: bool) -> Result<()> {
        let handle = self.lock()?;
        let r = kill::kill(&handle, signal, all);
        self.status = handle.status();
        r
    }

    /// Freezes every process of the container (runc's `pause`): it must be `created` or
    /// `running`; returns once the kernel reports them frozen. Its status is then
    /// `paused`.
    pub fn pause(&mut self) -> Result<()> {
        self.set_frozen(true)
    }

    /// Thaws a `paused` container's processes (runc's `resume`) and waits until they run.
    pub fn resume(&mut self) -> Result<()> {
        self.set_frozen(false)
    }

    fn set_frozen(&mut self, frozen: bool) -> Result<()> {
        let handle = self.lock()?;
        let r = pause::set_frozen(&handle, frozen);
        self.status = handle.status();
        r
    }

    /// Changes the resources of a `created`, `running` or `paused` container (runc's
    /// `update`): `patch` is a JSON object at `/linux` (`{"resources": {...}}`, runc's
    /// `update -r` document under `resources`). Checked like a config, refused for a
    /// field that needs a new container (the resource catalogue says which), applied
    /// through the cgroup, and kept in the stored config.
    pub fn update(&mut self, patch: &serde_json::Value) -> Result<()> {
        let handle = self.lock()?;
        let r = update::update(&handle, patch);
        self.status = handle.status();
        r
    }

    /// Deletes the container (runtime.md#delete): it must be `stopped`, unless `force`,
    /// which kills it first (a `paused` one is thawed for that, as runc does).
    pub fn delete(self, force: bool) -> Result<()> {
        delete::delete_container(self.lock()?, force)
    }

    /// Deletes the container `id` under `root`, as [`delete`](Container::delete) does,
    /// with its state read once (under the lock) instead of [`load`](Container::load)ed
    /// first.
    pub fn delete_id(root: &Path, id: &str, force: bool) -> Result<()> {
        delete::delete_container(Store::new(root).lock(id)?, force)
    }

    /// Host pids of the container's processes: its cgroup's, or else its process's.
    pub fn pids(&self) -> Result<Vec<i32>> {
        if let Some(cg) = cgroup_of(&self.record) {
            let mut pids = cg.pids().map_err(|source| Error::Cgroup {
                what: "listing the processes",
                id: self.id().to_string(),
                source: Box::new(source),
            })?;
            pids.sort_unstable();
            pids.dedup();
            return Ok(pids);
        }
        Ok(self.pid().into_iter().collect())
    }

    /// Waits until the container process exits and returns its exit code (128+n when a
    /// signal n killed it). Only the process that created the container can wait for it
    /// (it is its child); elsewhere this fails with ECHILD, and
    /// [`wait_gone`](Container::wait_gone) waits without the code.
    pub fn wait(&self) -> Result<i32> {
        let Some(pid) = self.record.pid else {
            return Err(Error::NoProcess(self.id().to_string()));
        };
        kill::wait_child(pid).map_err(|e| Error::Io {
            what: format!("waiting for the process of container {:?}", self.id()),
            source: e.into(),
        })
    }

    /// Waits (up to 10 s) until the container process is gone; returns whether it is.
    pub fn wait_gone(&self) -> bool {
        match (self.record.pid, self.record.start_time) {
            (Some(pid), Some(t)) => kill::wait_gone(pid, t),
            _ => true,
        }
    }
}

/// The container's cgroup as recorded at create.
pub(crate) fn cgroup_of(state: &ContainerState) -> Option<crate::cgroups::Cgroup> {
    state.cgroup.clone().map(crate::cgroups::Cgroup::from_state)
}
