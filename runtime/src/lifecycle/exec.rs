//! Exec (runc's `exec`), behind [`Container::exec`](super::Container::exec): runs another
//! process in a `running` (or `created`) container, in all of its namespaces and its
//! cgroup, with a process object (config.md#process) checked and applied exactly like
//! the container's own: a whole one (`--process process.json`), or the container's with
//! the arguments and runc's overriding flags. The spawning is `crate::exec`.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Console, Container};
use crate::cgroups::{CgroupState, Version};
use crate::error::{Error, Result};
use crate::state::Status;

/// The container's process with runc's `exec` flags applied over it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessOverrides {
    /// `--cwd`.
    pub cwd: Option<String>,
    /// `-e/--env KEY=VALUE`: replaces an entry of the same KEY, else is appended.
    pub env: Vec<String>,
    /// `-t/--tty` (the container's `terminal` is not inherited: false unless given).
    pub tty: bool,
    /// `-u/--user uid[:gid]` (numbers; checked by [`Container::exec`]).
    pub user: Option<String>,
    /// `-g/--additional-gids`: appended to the container's.
    pub additional_gids: Vec<u32>,
    /// `-c/--cap`: added to the bounding, effective and permitted sets (and ambient,
    /// when the container has an inheritable set), as runc does.
    pub caps: Vec<String>,
    /// `--no-new-privs`.
    pub no_new_privs: bool,
    /// `--apparmor`.
    pub apparmor: Option<String>,
    /// `--process-label`.
    pub process_label: Option<String>,
}

/// What the exec'd process runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecProcess {
    /// The container's process with these arguments and overrides.
    Command {
        /// argv (`args[0]` is the program, looked up in the process's PATH).
        args: Vec<String>,
        /// runc's flags.
        overrides: ProcessOverrides,
    },
    /// A whole process object in this file (runc's `--process process.json`).
    File(PathBuf),
    /// A whole process object as JSON, and the file it came from (named in errors).
    Json {
        /// The process object.
        data: Vec<u8>,
        /// Where it was read.
        path: Option<PathBuf>,
    },
}

impl ExecProcess {
    /// The container's process with these arguments and overrides.
    pub fn command(args: Vec<String>, overrides: ProcessOverrides) -> Self {
        ExecProcess::Command { args, overrides }
    }
}

/// How to exec (runc's `exec` options).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExecOptions {
    /// The process.
    pub process: ExecProcess,
    /// Where the pty master goes when the process has a terminal.
    pub console: Console,
    /// Write the process's host pid to this file once it runs.
    pub pid_file: Option<PathBuf>,
    /// Pass this many extra fds (3..3+N) to the process.
    pub preserve_fds: u32,
    /// `--cgroup [controller[,controller]:]path`: an existing sub-cgroup of the
    /// container's to run in.
    pub cgroup: Vec<String>,
    /// `--ignore-paused`: do not refuse a paused container for being paused (its
    /// frozen cgroup is still refused, see [`Container::exec`]).
    pub ignore_paused: bool,
}

impl ExecOptions {
    /// Options for running `process`, everything else at its default.
    pub fn new(process: ExecProcess) -> Self {
        ExecOptions {
            process,
            console: Console::None,
            pid_file: None,
            preserve_fds: 0,
            cgroup: Vec::new(),
            ignore_paused: false,
        }
    }
}

/// A process started by [`Container::exec`]; it is a child of the caller.
#[derive(Debug)]
pub struct Exec {
    pid: i32,
    console: Option<OwnedFd>,
}

impl Exec {
    /// Its host pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The pty master, once, when the process has a terminal and the options said
    /// [`Console::Keep`].
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    /// Waits until the process exits; its exit code (128+n when signal n killed it).
    pub fn wait(&self) -> Result<i32> {
        super::kill::wait_child(self.pid).map_err(|e| Error::Io {
            what: format!("waiting for exec'd process {}", self.pid),
            source: e.into(),
        })
    }
}

/// runc's parsing of `--cgroup` values: one `path` (every hierarchy), or
/// `controller[,controller]:path` entries. Returns (controller or "", path) pairs.
pub(crate) fn parse_sub_cgroups(args: &[String]) -> Result<Vec<(String, String)>> {
    let bad = |arg: &str, why: &str| Error::SubCgroup {
        arg: arg.to_string(),
        reason: why.to_string(),
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for a in args {
        let (ctrls, path) = match a.split_once(':') {
            Some((c, p)) => (c, p),
            None if args.len() == 1 => ("", a.as_str()),
            None => return Err(bad(a, "give controller:path with more than one --cgroup")),
        };
        if path.split('/').any(|c| c == "..") {
            return Err(bad(a, "the path must stay inside the container's cgroup"));
        }
        for c in ctrls.split(',') {
            if c.is_empty() && !ctrls.is_empty() {
                return Err(bad(a, "empty controller name"));
            }
            if out.iter().any(|(k, _)| k == c) {
                return Err(bad(a, "controller given more than once"));
            }
            out.push((c.to_string(), path.trim_start_matches('/').to_string()));
        }
    }
    Ok(out)
}

/// The cgroup the exec'd process joins: the container's, with the `--cgroup` sub-paths,
/// each of which must exist; refused when it is frozen (see [`Container::exec`]).
#[writ_macros::requirement(
    "config_linux.cgroups.fitness_check",
    "config_linux.cgroups.fitness_check.error"
)]
pub(crate) fn target_cgroup(id: &str, cg: &CgroupState, args: &[String]) -> Result<CgroupState> {
    let subs = parse_sub_cgroups(args)?;
    let mut out = cg.clone();
    for (ctrl, sub) in &subs {
        let matches = |h: &crate::cgroups::Hierarchy| {
            ctrl.is_empty() || h.controllers.iter().any(|c| c == ctrl) || h.name == *ctrl
        };
        if !ctrl.is_empty() && !cg.hierarchies.iter().any(matches) {
            return Err(Error::SubCgroup {
                arg: format!("{ctrl}:{sub}"),
                reason: format!("the container has no cgroup with controller {ctrl:?}"),
            });
        }
        for h in out.hierarchies.iter_mut().filter(|h| matches(h)) {
            h.path = h.path.join(sub);
            if !h.path.is_dir() {
                return Err(Error::SubCgroup {
                    arg: if ctrl.is_empty() {
                        sub.clone()
                    } else {
                        format!("{ctrl}:{sub}")
                    },
                    reason: format!("{} does not exist", h.path.display()),
                });
            }
        }
    }
    if let Some(dir) = out.hierarchies.iter().find_map(frozen) {
        return Err(Error::Frozen {
            id: id.to_string(),
            dir,
        });
    }
    Ok(out)
}

/// The cgroup directory of a hierarchy when it is frozen (v1 freezer.state not THAWED,
/// v2 cgroup.events `frozen 1`).
fn frozen(h: &crate::cgroups::Hierarchy) -> Option<PathBuf> {
    let read = |f: &str| std::fs::read_to_string(h.path.join(f)).ok();
    let is = match h.version {
        Version::V1 if h.has("freezer") => {
            read("freezer.state").is_some_and(|s| s.trim() != "THAWED")
        }
        Version::V1 => false,
        Version::V2 => read("cgroup.events").is_some_and(|s| s.lines().any(|l| l == "frozen 1")),
    };
    is.then(|| h.path.clone())
}

/// `uid[:gid]` as numbers.
fn parse_user(s: &str) -> Option<(u32, Option<u32>)> {
    match s.split_once(':') {
        Some((u, g)) => Some((u.parse().ok()?, Some(g.parse().ok()?))),
        None => Some((s.parse().ok()?, None)),
    }
}

/// The container's process object with runc's flags applied (runc's `exec` without
/// `--process`).
fn apply_overrides(process: &mut Value, args: &[String], o: &ProcessOverrides) {
    if !process.is_object() {
        *process = Value::Object(Default::default());
    }
    let p = match process.as_object_mut() {
        Some(p) => p,
        None => return,
    };
    p.insert("args".into(), Value::from(args.to_vec()));
    p.insert("terminal".into(), Value::Bool(o.tty));
    if let Some(cwd) = &o.cwd {
        p.insert("cwd".into(), Value::from(cwd.as_str()));
    }
    let env = p.entry("env").or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = env.as_array_mut() {
        for e in &o.env {
            let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
            list.retain(|v| {
                v.as_str()
                    .is_none_or(|s| s.split_once('=').map_or(s, |(k, _)| k) != key)
            });
            list.push(Value::from(e.as_str()));
        }
    }
    let user = p.entry("user").or_insert_with(|| serde_json::json!({}));
    if let Some(u) = user.as_object_mut() {
        if let Some((uid, gid)) = o.user.as_deref().and_then(parse_user) {
            u.insert("uid".into(), uid.into());
            if let Some(gid) = gid {
                u.insert("gid".into(), gid.into());
            }
        }
        if !o.additional_gids.is_empty() {
            let gids = u
                .entry("additionalGids")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Some(g) = gids.as_array_mut() {
                g.extend(o.additional_gids.iter().map(|&x| Value::from(x)));
            }
        }
    }
    if !o.caps.is_empty() {
        let caps = p
            .entry("capabilities")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(c) = caps.as_object_mut() {
            let mut sets = vec!["bounding", "effective", "permitted"];
            if c.get("inheritable").is_some_and(|v| !v.is_null()) {
                sets.push("ambient");
            }
            for set in sets {
                let list = c.entry(set).or_insert_with(|| Value::Array(Vec::new()));
                if let Some(l) = list.as_array_mut() {
                    for cap in &o.caps {
                        if !l.iter().any(|v| v.as_str() == Some(cap)) {
                            l.push(Value::from(cap.as_str()));
                        }
                    }
                }
            }
        }
    }
    if o.no_new_privs {
        p.insert("noNewPrivileges".into(), Value::Bool(true));
    }
    if let Some(a) = &o.apparmor {
        p.insert("apparmorProfile".into(), Value::from(a.as_str()));
    }
    if let Some(l) = &o.process_label {
        p.insert("selinuxLabel".into(), Value::from(l.as_str()));
    }
}

/// A process object or frozen config that is not JSON.
fn not_json(e: impl std::fmt::Display) -> crate::plan::PlanError {
    crate::plan::PlanError::Invalid {
        pointer: String::new(),
        message: format!("not JSON: {e}"),
    }
}

impl Container {
    /// The plan of the container's config with the exec'd process as its `process`: the
    /// process is checked as a config's is (every rule of config.md#process, errors
    /// with their JSON pointer and requirement id).
    fn exec_plan(&self, process: &ExecProcess) -> Result<crate::plan::ContainerPlan> {
        let (frozen, data) = self.frozen_config()?;
        let config_err = |path: &Path, source| Error::Config {
            path: path.to_path_buf(),
            source,
        };
        let mut config =
            writ_spec::parse_json(&data).map_err(|e| config_err(&frozen, not_json(e)))?;
        let file_data;
        let (json, path) = match process {
            ExecProcess::File(p) => {
                file_data = std::fs::read(p)
                    .map_err(Error::io(format!("reading process {}", p.display())))?;
                (Some(file_data.as_slice()), p.clone())
            }
            ExecProcess::Json { data, path } => (
                Some(data.as_slice()),
                path.clone()
                    .unwrap_or_else(|| PathBuf::from("process.json")),
            ),
            ExecProcess::Command { args, overrides } => {
                apply_overrides(&mut config["process"], args, overrides);
                (None, frozen)
            }
        };
        if let Some(json) = json {
            config["process"] =
                writ_spec::parse_json(json).map_err(|e| config_err(&path, not_json(e)))?;
        }
        let bytes = serde_json::to_vec_pretty(&config).map_err(|e| Error::Io {
            what: "serialising the exec'd process".into(),
            source: e.into(),
        })?;
        crate::plan::from_config(&bytes, self.bundle(), &crate::host::facts())
            .map_err(|source| Error::Config { path, source })
    }

    /// Runs another process in the container (runc's `exec`): it joins every namespace
    /// of the container's process and its cgroup (or a sub-cgroup), and gets its
    /// process object's attributes (capabilities, rlimits, seccomp, LSM labels,
    /// noNewPrivileges, scheduler, I/O priority, user and groups, cwd, env, terminal) as
    /// the container's process does. Returns once it runs its program (it is a child of
    /// the caller: [`Exec::wait`]).
    ///
    /// The container must be `created` or `running` (runc allows both). A paused
    /// container is refused (runc's text). With `ignore_paused` it is still refused
    /// while its cgroup is frozen, with the reason: the process would freeze before it
    /// runs and the caller would wait forever (runc hangs there).
    pub fn exec(&self, opts: &ExecOptions) -> Result<Exec> {
        let (record, status) = self.store.read(self.id())?;
        // Paused (the freezer's state) goes on to the frozen-cgroup checks below.
        if !matches!(status, Status::Created | Status::Running | Status::Paused) {
            return Err(Error::WrongStatus {
                op: "exec in",
                id: self.id().to_string(),
                status,
                hint: "",
            });
        }
        let (Some(pid), Some(start_time)) = (record.pid, record.start_time) else {
            return Err(Error::NoProcess(self.id().to_string()));
        };
        let cgroup = match &record.cgroup {
            Some(cg) => {
                if !opts.ignore_paused && cg.hierarchies.iter().any(|h| frozen(h).is_some()) {
                    return Err(Error::Paused(self.id().to_string()));
                }
                Some(target_cgroup(self.id(), cg, &opts.cgroup)?)
            }
            None if !opts.cgroup.is_empty() => {
                return Err(Error::SubCgroup {
                    arg: opts.cgroup.join(" "),
                    reason: "the container has no cgroup".into(),
                })
            }
            None => None,
        };
        if let ExecProcess::Command { overrides, .. } = &opts.process {
            if let Some(u) = overrides
                .user
                .as_deref()
                .filter(|u| parse_user(u).is_none())
            {
                return Err(Error::User(u.to_string()));
            }
        }
        let plan = self.exec_plan(&opts.process)?;
        let mut kept = None;
        let console = match (&opts.console, plan.terminal) {
            (_, false) => None,
            (Console::None, true) => return Err(Error::NoConsoleSocket),
            (Console::Socket(s), true) => Some(crate::console::connect(s)?),
            (Console::Keep, true) => {
                let (ours, theirs) = UnixStream::pair().map_err(Error::io("socketpair"))?;
                kept = Some(ours);
                Some(theirs)
            }
        };
        let spawned = crate::exec::spawn(crate::exec::ExecRequest {
            plan: &plan,
            state_root: self.store.root(),
            init: (pid, start_time),
            cgroup,
            console,
            preserve_fds: opts.preserve_fds,
            no_new_keyring: record.no_new_keyring,
        })?;
        let mut exec = Exec {
            pid: spawned.pid,
            console: None,
        };
        if let Some(ours) = kept {
            exec.console = Some(crate::console::recv_master_on(&ours)?);
        }
        if let Some(f) = &opts.pid_file {
            super::create::write_pid_file(f, exec.pid)?;
        }
        Ok(exec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sub_cgroups_parse_as_runc_does() {
        assert_eq!(
            parse_sub_cgroups(&args(&["sub"])).unwrap(),
            vec![(String::new(), "sub".into())]
        );
        assert_eq!(
            parse_sub_cgroups(&args(&["cpu,memory:a/b", "pids:/c"])).unwrap(),
            vec![
                ("cpu".into(), "a/b".into()),
                ("memory".into(), "a/b".into()),
                ("pids".into(), "c".into())
            ]
        );
        for bad in [
            &["a", "b"][..],
            &["cpu:x", "cpu:y"],
            &["cpu,:x"],
            &["../escape"],
            &["memory:a/../../b"],
        ] {
            let e = parse_sub_cgroups(&args(bad)).unwrap_err().to_string();
            assert!(e.starts_with("invalid --cgroup "), "{bad:?}: {e}");
        }
    }

    #[test]
    fn sub_cgroups_must_exist_and_frozen_ones_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let mem = d.path().join("memory/c");
        let frz = d.path().join("freezer/c");
        std::fs::create_dir_all(mem.join("sub")).unwrap();
        std::fs::create_dir_all(&frz).unwrap();
        std::fs::write(frz.join("freezer.state"), "THAWED\n").unwrap();
        let h = |name: &str, path: &Path| crate::cgroups::Hierarchy {
            name: name.into(),
            version: Version::V1,
            controllers: vec![name.into()],
            mount: d.path().join(name),
            path: path.to_path_buf(),
            created: Vec::new(),
        };
        let cg = CgroupState {
            driver: Default::default(),
            relative: "/c".into(),
            hierarchies: vec![h("memory", &mem), h("freezer", &frz)],
        };
        let t = target_cgroup("x", &cg, &args(&["memory:sub"])).unwrap();
        assert_eq!(t.hierarchies[0].path, mem.join("sub"));
        assert_eq!(t.hierarchies[1].path, frz);
        let e = target_cgroup("x", &cg, &args(&["sub"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("freezer/c/sub does not exist"), "{e}");
        let e = target_cgroup("x", &cg, &args(&["cpu:sub"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no cgroup with controller \"cpu\""), "{e}");
        std::fs::write(frz.join("freezer.state"), "FROZEN\n").unwrap();
        let e = target_cgroup("x", &cg, &[]).unwrap_err().to_string();
        assert!(e.contains("is paused") && e.contains("runc hangs"), "{e}");
    }

    #[test]
    fn flags_override_the_containers_process_as_runcs_do() {
        let mut p = serde_json::json!({
            "args": ["sh"], "cwd": "/", "terminal": true,
            "env": ["PATH=/bin", "A=1"],
            "user": {"uid": 0, "gid": 0, "additionalGids": [5]},
            "capabilities": {"bounding": ["CAP_KILL"], "inheritable": []}
        });
        let o = ProcessOverrides {
            cwd: Some("/tmp".into()),
            env: args(&["A=2", "B=3"]),
            user: Some("1000:100".into()),
            additional_gids: vec![7],
            caps: args(&["CAP_NET_RAW", "CAP_KILL"]),
            no_new_privs: true,
            ..Default::default()
        };
        apply_overrides(&mut p, &args(&["id", "-u"]), &o);
        assert_eq!(
            p,
            serde_json::json!({
                "args": ["id", "-u"], "cwd": "/tmp", "terminal": false,
                "env": ["PATH=/bin", "A=2", "B=3"],
                "user": {"uid": 1000, "gid": 100, "additionalGids": [5, 7]},
                "capabilities": {
                    "bounding": ["CAP_KILL", "CAP_NET_RAW"], "inheritable": [],
                    "effective": ["CAP_NET_RAW", "CAP_KILL"],
                    "permitted": ["CAP_NET_RAW", "CAP_KILL"],
                    "ambient": ["CAP_NET_RAW", "CAP_KILL"]
                },
                "noNewPrivileges": true
            })
        );
    }
}
