//! runc's `list`: the state (runtime.md#query-state) of every container under a root, one
//! container at a time ([`States`]), as [`Container::state`](super::Container::state)
//! shows it.
//!
//! A listing reads only what the state shows and what its status depends on: from
//! state.json the shown fields, the phase, the process (pid and start time) and the
//! cgroup directory of the freezer (the rest of the record, e.g. the hooks, is skipped
//! unread); then the live system through the same rule as every other command
//! ([`crate::state::derive_status`]). Files are opened relative to the root's directory,
//! and each owner's name is looked up once. Which directories are containers depends on
//! state.json alone, so the ids ([`Ids`], `list -q`) are read without the live system.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};
use serde::Deserialize;

use super::state::{shown_pid, user_name, State};
use crate::cgroups::freezer::freezer_among;
use crate::cgroups::host::Version;
use crate::error::Result;
use crate::state::{
    frozen, locked_by_other, process_alive, status_of, Phase, Probes, Store, EXEC_SOCKET,
    STATE_FILE,
};

/// What a listing reads of state.json (the fields of
/// [`ContainerState`](crate::state::ContainerState) of the same names and types).
#[derive(Deserialize)]
struct Listed<'a> {
    #[serde(rename = "ociVersion")]
    oci_version: String,
    id: String,
    phase: Phase,
    #[serde(default)]
    pid: Option<i32>,
    #[serde(default)]
    start_time: Option<u64>,
    bundle: PathBuf,
    #[serde(default)]
    rootfs: Option<PathBuf>,
    /// Annotations recorded in state.json (by an earlier writ).
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    /// Whether the frozen config has annotations (the state.json of this writ).
    #[serde(default)]
    annotated: bool,
    created: String,
    owner: u32,
    #[serde(default, borrow)]
    cgroup: Option<ListedCgroup<'a>>,
}

/// Of the recorded cgroup ([`CgroupState`](crate::cgroups::CgroupState)), what chooses
/// the freezer.
#[derive(Deserialize)]
struct ListedCgroup<'a> {
    #[serde(borrow)]
    hierarchies: Vec<ListedHierarchy<'a>>,
}

#[derive(Deserialize)]
struct ListedHierarchy<'a> {
    version: Version,
    #[serde(default)]
    controllers: HasFreezer,
    #[serde(borrow)]
    path: Cow<'a, str>,
}

/// Whether a hierarchy's controllers include the freezer (read without keeping them).
#[derive(Default)]
struct HasFreezer(bool);

impl<'de> Deserialize<'de> for HasFreezer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Controllers;
        impl<'de> serde::de::Visitor<'de> for Controllers {
            type Value = HasFreezer;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of controller names")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<HasFreezer, A::Error> {
                let mut found = false;
                while let Some(name) = seq.next_element::<Cow<'de, str>>()? {
                    found |= name == "freezer";
                }
                Ok(HasFreezer(found))
            }
        }
        d.deserialize_seq(Controllers)
    }
}

/// The states of the containers under a root, sorted by id
/// ([`Container::states`](super::Container::states)). A container deleted meanwhile, or
/// a directory that is not a container, is skipped.
#[derive(Debug)]
pub struct States {
    /// The root directory, which the files of each container are opened relative to.
    dir: Option<OwnedFd>,
    ids: std::vec::IntoIter<String>,
    /// The text of the state.json being read.
    text: Vec<u8>,
    /// The owners' names looked up so far.
    owners: Vec<(u32, String)>,
    /// The parent directory of the last freezer cgroup read, and its descriptor: the
    /// containers' cgroups are usually siblings, each then read relative to it.
    cgroups: Option<(PathBuf, OwnedFd)>,
    /// Whether each state carries the config's annotations (read from the frozen config);
    /// otherwise they are left empty.
    annotations: bool,
}

impl States {
    /// The containers under `root`.
    pub(super) fn new(root: &Path) -> Result<States> {
        let store = Store::new(root);
        let ids = store.ids()?;
        // A root removed meanwhile holds no containers, as each of them would be gone.
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = match ids.is_empty() {
            true => None,
            false => rustix::fs::open(root, flags, Mode::empty()).ok(),
        };
        Ok(States {
            dir,
            ids: ids.into_iter(),
            text: Vec::with_capacity(4096),
            owners: Vec::new(),
            cgroups: None,
            annotations: false,
        })
    }

    /// The same states with the config's annotations (what `state` shows), read from
    /// each container's frozen config; a container whose config cannot be read is skipped,
    /// as one deleted meanwhile.
    pub fn with_annotations(mut self) -> States {
        self.annotations = true;
        self
    }

    /// Only the ids of the containers (what `list -q` prints): the same containers, whose
    /// status is not looked at.
    pub fn ids(self) -> Ids {
        Ids(self)
    }

    /// The state of `id`, or `None` when it is not a container (any more).
    fn read(&mut self, id: &str) -> Option<State> {
        let States {
            dir,
            text,
            owners,
            cgroups,
            annotations: with_annotations,
            ..
        } = self;
        let dir = dir.as_ref()?;
        let rec = record(dir, text, id)?;
        let cgroup = rec.cgroup.as_ref();
        let hierarchies = cgroup.into_iter().flat_map(|c| c.hierarchies.iter());
        let freezer = freezer_among(hierarchies.map(|h| {
            let v1_freezer = h.version == Version::V1 && h.controllers.0;
            (h.version, v1_freezer, Path::new(h.path.as_ref()))
        }));
        let status = status_of(
            rec.phase,
            rec.pid.zip(rec.start_time),
            Probes {
                creator_alive: || {
                    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                    rustix::fs::openat(dir, id, flags, Mode::empty())
                        .is_ok_and(|fd| locked_by_other(&fd))
                },
                process_alive,
                frozen: || {
                    freezer.is_some_and(|(f, path)| {
                        frozen(match in_parent(cgroups, path) {
                            // Through the parent; by the path itself if that fails (the
                            // parent made anew since it was opened).
                            Some((at, name)) => f.state_at(at, name).or_else(|_| f.state(path)),
                            None => f.state(path),
                        })
                    })
                },
                exec_socket: || {
                    let socket = format!("{id}/{EXEC_SOCKET}");
                    rustix::fs::statat(dir, socket, AtFlags::empty()).is_ok()
                },
            },
        );
        let annotations = match (*with_annotations, rec.annotated) {
            (false, _) => BTreeMap::new(),
            (true, false) => rec.annotations,
            (true, true) => frozen_annotations(dir, id)?,
        };
        let owner = owner_name(owners, rec.owner);
        Some(State {
            oci_version: rec.oci_version,
            pid: shown_pid(status, rec.pid),
            id: rec.id,
            status,
            bundle: rec.bundle,
            rootfs: rec.rootfs,
            created: rec.created,
            owner,
            annotations,
        })
    }
}

/// The annotations of the frozen config of `id` (under the root `dir`), or `None` when it
/// cannot be read.
fn frozen_annotations(dir: &OwnedFd, id: &str) -> Option<BTreeMap<String, String>> {
    let path = format!("{id}/{}", crate::state::FROZEN_CONFIG);
    let fd = rustix::fs::openat(dir, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut std::fs::File::from(fd), &mut data).ok()?;
    crate::state::config_annotations(&data).ok()
}

/// What state.json of `id` (under the root `dir`) records, or `None` when `id` is not a
/// container (any more): no state.json, one that does not parse, or of another id.
fn record<'a>(dir: &OwnedFd, text: &'a mut Vec<u8>, id: &str) -> Option<Listed<'a>> {
    let path = format!("{id}/{STATE_FILE}");
    let flags = OFlags::RDONLY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, path, flags, Mode::empty()).ok()?;
    read_whole(&fd, text).ok()?;
    let text: &'a Vec<u8> = text;
    let rec: Listed = serde_json::from_slice(text).ok()?;
    (rec.id == id).then_some(rec)
}

/// Reads state.json (open as `fd`) into `text`. It is written whole before it is renamed
/// into place and never changed after, so a read that returns less than it was given room
/// for has reached the end: one read for the usual file, where reading to the end would
/// take a second (and asking the size first, as `fs::read` does, two more).
fn read_whole(fd: &OwnedFd, text: &mut Vec<u8>) -> rustix::io::Result<()> {
    text.clear();
    loop {
        text.reserve(4096);
        let room = text.capacity() - text.len();
        let n = rustix::io::retry_on_intr(|| {
            rustix::io::read(fd, rustix::buffer::spare_capacity(&mut *text))
        })?;
        if n < room {
            return Ok(());
        }
    }
}

/// `path` as a name in its parent directory, whose descriptor `cache` keeps (opened
/// now unless it is the one kept already).
fn in_parent<'c, 'p>(
    cache: &'c mut Option<(PathBuf, OwnedFd)>,
    path: &'p Path,
) -> Option<(BorrowedFd<'c>, &'p Path)> {
    let (parent, name) = (path.parent()?, path.file_name()?);
    if cache.as_ref().is_none_or(|(kept, _)| kept != parent) {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(parent, flags, Mode::empty()).ok()?;
        *cache = Some((parent.to_path_buf(), fd));
    }
    let (_, fd) = cache.as_ref()?;
    Some((fd.as_fd(), Path::new(name)))
}

/// The name of `uid` ([`user_name`]), looked up once: `seen` keeps the names found.
fn owner_name(seen: &mut Vec<(u32, String)>, uid: u32) -> String {
    if let Some((_, name)) = seen.iter().find(|(u, _)| *u == uid) {
        return name.clone();
    }
    let name = user_name(uid);
    seen.push((uid, name.clone()));
    name
}

impl Iterator for States {
    type Item = State;

    fn next(&mut self) -> Option<State> {
        loop {
            let id = self.ids.next()?;
            if let Some(state) = self.read(&id) {
                return Some(state);
            }
        }
    }
}

/// The ids of the containers under a root, sorted ([`States::ids`]).
#[derive(Debug)]
pub struct Ids(States);

impl Iterator for Ids {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let states = &mut self.0;
        loop {
            let id = states.ids.next()?;
            let dir = states.dir.as_ref()?;
            if record(dir, &mut states.text, &id).is_some() {
                return Some(id);
            }
        }
    }
}
