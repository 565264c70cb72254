//! What `writ list` prints for a root with containers in every status (and directories
//! that are not containers): the table, `-q` and `--format json`, exactly; the JSON is
//! what serialising `Container::state` of each of `Container::list` gives. The state
//! directories are written by hand, so no container runs and no root is needed: this
//! test's own process stands for the container process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use writ::cgroups::{CgroupState, Driver, Hierarchy, Version};
use writ::state::{process_start_time, ContainerState, Phase, EXEC_SOCKET, STATE_FILE};

const CREATED: &str = "2026-01-02T03:04:05.000000006Z";

fn list(root: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_writ"))
        .arg("--root")
        .arg(root)
        .arg("list")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "list {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A recorded container `id` whose process is this test's (at its start time plus
/// `skew`: a non-zero skew is another process with the same pid).
fn record(id: &str, phase: Phase, skew: u64) -> ContainerState {
    let me = std::process::id() as i32;
    let mut st = ContainerState::new(id, Path::new("/bundles/b"));
    st.phase = phase;
    st.pid = Some(me);
    st.start_time = process_start_time(me).map(|t| t + skew);
    st.rootfs = Some(PathBuf::from("/bundles/b/rootfs"));
    st.created = CREATED.to_string();
    st.owner = 0;
    st
}

fn write(root: &Path, dir: &str, text: &[u8]) -> PathBuf {
    let d = root.join(dir);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(STATE_FILE), text).unwrap();
    d
}

fn save(root: &Path, st: &ContainerState) -> PathBuf {
    write(root, &st.id, &serde_json::to_vec(st).unwrap())
}

#[test]
fn list_prints_every_status_as_the_state_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let d = save(&root, &record("a-created", Phase::Created, 0));
    std::fs::write(d.join(EXEC_SOCKET), b"").unwrap();
    save(&root, &record("b-running", Phase::Created, 0));
    // A frozen v1 freezer cgroup (a directory whose freezer.state says so).
    let freezer = tmp.path().join("freezer");
    std::fs::create_dir(&freezer).unwrap();
    std::fs::write(freezer.join("freezer.state"), "FROZEN\n").unwrap();
    let mut paused = record("c-paused", Phase::Created, 0);
    paused.cgroup = Some(CgroupState {
        driver: Driver::Cgroupfs,
        relative: "/writ/c-paused".into(),
        hierarchies: vec![Hierarchy {
            name: "freezer".into(),
            version: Version::V1,
            controllers: vec!["freezer".into()],
            mount: tmp.path().to_path_buf(),
            path: freezer,
            created: vec![],
        }],
    });
    save(&root, &paused);
    save(&root, &record("d-reused", Phase::Created, 7));
    // Being created: its creator holds the lock of the directory.
    let d = save(&root, &record("e-creating", Phase::Creating, 0));
    let lock = std::fs::File::open(&d).unwrap();
    rustix::fs::flock(lock.as_fd(), rustix::fs::FlockOperation::LockExclusive).unwrap();
    save(&root, &record("f-abandoned", Phase::Creating, 0));
    let mut foreign = ContainerState::new("g-foreign", Path::new("/bundles/other"));
    foreign.phase = Phase::Created;
    foreign.created = CREATED.to_string();
    foreign.owner = 4_000_000_000;
    // Its annotations are in its frozen config, not in state.json.
    foreign.annotated = true;
    let g = save(&root, &foreign);
    std::fs::write(
        g.join(writ::state::FROZEN_CONFIG),
        br#"{"ociVersion": "1.3.0", "annotations": {"org.example/k": "v \"q\""}}"#,
    )
    .unwrap();
    // Not containers: skipped.
    write(&root, "h-corrupt", b"{\"id\": \"h-corrupt\"");
    save(&root, &record("i-renamed", Phase::Created, 0));
    std::fs::rename(root.join("i-renamed"), root.join("i-elsewhere")).unwrap();
    std::fs::create_dir(root.join("j-empty")).unwrap();
    save(&root, &record(".new-1-x", Phase::Creating, 0));

    let me = std::process::id();
    let ids = "a-created b-running c-paused d-reused e-creating f-abandoned g-foreign";
    let q = list(&root, &["-q"]);
    assert_eq!(q.split_whitespace().collect::<Vec<_>>().join(" "), ids);
    assert_eq!(q.lines().count(), 7, "{q}");

    let row = |id: &str, pid: u32, status: &str, bundle: &str, owner: &str| {
        format!("{id:<14}{pid:<12}{status:<12}{bundle:<17}{CREATED}   {owner}\n")
    };
    let want = [
        format!(
            "{:<14}{:<12}{:<12}{:<17}{:<33}OWNER\n",
            "ID", "PID", "STATUS", "BUNDLE", "CREATED"
        ),
        row("a-created", me, "created", "/bundles/b", "root"),
        row("b-running", me, "running", "/bundles/b", "root"),
        row("c-paused", me, "paused", "/bundles/b", "root"),
        row("d-reused", 0, "stopped", "/bundles/b", "root"),
        row("e-creating", 0, "creating", "/bundles/b", "root"),
        row("f-abandoned", 0, "stopped", "/bundles/b", "root"),
        row("g-foreign", 0, "stopped", "/bundles/other", "#4000000000"),
    ]
    .concat();
    assert_eq!(list(&root, &[]), want);
    assert_eq!(list(&root, &["--format", "table"]), want);

    let json = list(&root, &["--format", "json"]);
    let states: Vec<writ::State> = writ::Container::list(&root)
        .unwrap()
        .iter()
        .map(|c| c.state().unwrap())
        .collect();
    assert_eq!(
        json,
        format!("{}\n", serde_json::to_string(&states).unwrap())
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let shown: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}={}/{}", s["id"], s["status"], s["pid"]))
        .collect();
    assert_eq!(
        shown.join(" "),
        format!(
            "\"a-created\"=\"created\"/{me} \"b-running\"=\"running\"/{me} \
             \"c-paused\"=\"paused\"/{me} \"d-reused\"=\"stopped\"/null \
             \"e-creating\"=\"creating\"/null \"f-abandoned\"=\"stopped\"/null \
             \"g-foreign\"=\"stopped\"/null"
        )
    );
    assert_eq!(v[6]["annotations"]["org.example/k"], "v \"q\"");
    assert_eq!(v[6]["owner"], "#4000000000");
    assert!(v[6].get("rootfs").is_none());
    assert_eq!(v[0]["rootfs"], "/bundles/b/rootfs");
    drop(lock);
}
