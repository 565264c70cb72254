//! The Kubernetes path: containerd's CRI plugin driven the way the kubelet drives it, with
//! the runtime under test behind the runc v2 shim (`BinaryName`).
//!
//! Each scenario starts a private containerd (own root, state, socket, runc `Root`, CNI dirs,
//! all in a temp dir; a system containerd is never touched) with the CRI plugin enabled,
//! imports a busybox image built here as an OCI layout tarball (`ctr -n k8s.io images
//! import`), and talks CRI v1 to it with `writ-cri` (the calls the kubelet makes; exec
//! streams over the streaming server's WebSocket). Pods use host networking
//! (`NamespaceMode::Node`): no CNI plugin is needed. Every pod gets its own cgroup parent so
//! that "pod removal leaves nothing behind" can be checked and cleaned up precisely.
//!
//! On this host the sandbox asks for oom_score_adj -998, which root here cannot set, so the
//! CRI config sets `restrict_oom_score_adj` (../shared/notes/engine-contract.md).
//!
//! When containerd or ctr is not installed every runtime is reported as skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failing unwrap is a failing test

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use writ_conformance::{
    find_in_path, for_each_runtime, invoke, scaled, umount_under, unique_id, work_dir, Bundle, Ctx,
    Invoke,
};
use writ_cri::{
    ContainerConfig, ContainerIdRequest, ContainerMetadata, ContainerState, ContainerStatus,
    ContainerStatusRequest, CreateContainerRequest, ExecRequest, ExecSyncRequest, ImageSpec,
    ImageStatusRequest, KeyValue, LinuxContainerConfig, LinuxContainerResources,
    LinuxContainerSecurityContext, LinuxPodSandboxConfig, LinuxSandboxSecurityContext,
    ListContainersRequest, ListPodSandboxRequest, NamespaceMode, NamespaceOption, PodSandboxConfig,
    PodSandboxIdRequest, PodSandboxMetadata, PodSandboxState, PodSandboxStatusRequest,
    RunPodSandboxRequest, StopContainerRequest, UpdateContainerResourcesRequest,
};
use writ_macros::verifies;

/// The image every pod and container runs (normalised the way CRI names images).
const IMAGE: &str = "docker.io/library/writ-busybox:cri";
/// The image's default command: the pod sandbox's ("pause") process. As pid 1 of a shared
/// pid namespace it reaps what it inherits (`wait`) and ends on SIGTERM.
const PAUSE: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";
const MIB: i64 = 1024 * 1024;

struct Cri {
    dir: tempfile::TempDir,
    daemon: Child,
    client: writ_cri::Client,
    runtime: PathBuf,
    /// cgroup parents of the pods made here (removed on drop).
    parents: Mutex<Vec<String>>,
}

/// A pod sandbox made by [`Cri::pod`].
struct Pod {
    id: String,
    config: PodSandboxConfig,
    /// Its cgroup parent's name (directly under each hierarchy's root).
    parent: String,
}

impl Cri {
    fn start(ctx: &Ctx) -> Result<Cri, String> {
        let daemon_bin = find_in_path("containerd").ok_or("containerd is not installed")?;
        let ctr = find_in_path("ctr").ok_or("ctr is not installed")?;
        let dir = tempfile::Builder::new()
            .prefix("cri-")
            .tempdir_in(work_dir())
            .map_err(|e| e.to_string())?;
        let d = dir.path();
        let cri = "plugins.\"io.containerd.grpc.v1.cri\"";
        let config = format!(
            r#"version = 2
root = "{d}/root"
state = "{d}/state"
[grpc]
  address = "{d}/c.sock"
[ttrpc]
  address = "{d}/c.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
[{cri}]
  sandbox_image = "{IMAGE}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "oci"
[{cri}.containerd.runtimes.oci]
  runtime_type = "io.containerd.runc.v2"
[{cri}.containerd.runtimes.oci.options]
  BinaryName = "{bin}"
  Root = "{d}/runc"
[{cri}.cni]
  bin_dir = "{d}/cni/bin"
  conf_dir = "{d}/cni/conf.d"
"#,
            d = d.display(),
            bin = ctx.rt.bin.display(),
        );
        let daemon = writ_conformance::spawn_containerd(&daemon_bin, d, &config)?;
        let sock = d.join("c.sock");
        let deadline = Instant::now() + scaled(Duration::from_secs(20));
        let mut daemon = Some(daemon);
        let client = loop {
            if sock.exists() {
                if let Ok(c) = writ_cri::Client::connect(&sock, scaled(Duration::from_secs(30))) {
                    if c.version(Default::default()).is_ok() {
                        break c;
                    }
                }
            }
            if Instant::now() > deadline {
                if let Some(mut child) = daemon.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                let log = fs::read_to_string(d.join("daemon.log")).unwrap_or_default();
                umount_under(d);
                panic!("private containerd with CRI did not come up: {log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let c = Cri {
            dir,
            daemon: daemon.take().ok_or("daemon gone")?,
            client,
            runtime: ctx.rt.bin.clone(),
            parents: Mutex::new(Vec::new()),
        };
        c.import_image(&ctr);
        Ok(c)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Builds the busybox image as an OCI image layout tarball (one uncompressed layer:
    /// the harness's busybox rootfs) and imports it into the CRI namespace.
    fn import_image(&self, ctr: &Path) {
        let rootfs = Bundle::new();
        let layout = self.path("image");
        let blobs = layout.join("blobs/sha256");
        fs::create_dir_all(&blobs).unwrap();
        // The rootfs's busybox is a hard link to the harness's cache, whose ctime changes
        // whenever a bundle is made at the same time (tar: "file changed as we read it"):
        // the layer gets a copy of its own.
        let busybox = rootfs.rootfs().join("bin/busybox");
        let copy = rootfs.rootfs().join("bin/.busybox");
        fs::copy(&busybox, &copy).unwrap();
        fs::rename(&copy, &busybox).unwrap();
        let layer_tar = self.path("layer.tar");
        let tar = |args: &[&str]| {
            let out = Command::new("tar").args(args).output().unwrap();
            assert!(out.status.success(), "tar {args:?}: {out:?}");
        };
        tar(&[
            "--numeric-owner",
            "-C",
            rootfs.rootfs().to_str().unwrap(),
            "-cf",
            layer_tar.to_str().unwrap(),
            ".",
        ]);
        let blob = |data: &[u8]| {
            let digest = format!("{:x}", Sha256::digest(data));
            fs::write(blobs.join(&digest), data).unwrap();
            serde_json::json!({"digest": format!("sha256:{digest}"), "size": data.len()})
        };
        let mut layer = blob(&fs::read(&layer_tar).unwrap());
        layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar".into();
        let config = serde_json::json!({
            "architecture": std::env::consts::ARCH.replace("x86_64", "amd64").replace("aarch64", "arm64"),
            "os": "linux",
            "config": {
                "Cmd": ["/bin/sh", "-c", PAUSE],
                "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                "WorkingDir": "/"
            },
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"].clone()]}
        });
        let mut config = blob(config.to_string().as_bytes());
        config["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": [layer]
        });
        let mut manifest = blob(manifest.to_string().as_bytes());
        manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
        manifest["annotations"] = serde_json::json!({
            "io.containerd.image.name": IMAGE,
            "org.opencontainers.image.ref.name": "cri"
        });
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [manifest]});
        fs::write(layout.join("index.json"), index.to_string()).unwrap();
        fs::write(
            layout.join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let archive = self.path("image.tar");
        tar(&[
            "-C",
            layout.to_str().unwrap(),
            "-cf",
            archive.to_str().unwrap(),
            "oci-layout",
            "index.json",
            "blobs",
        ]);
        let sock = self.path("c.sock");
        let out = invoke(
            ctr,
            &[
                "--address".as_ref(),
                sock.as_os_str(),
                "-n".as_ref(),
                "k8s.io".as_ref(),
                "images".as_ref(),
                "import".as_ref(),
                archive.as_os_str(),
            ],
            Invoke {
                timeout: Some(scaled(Duration::from_secs(60))),
                ..Default::default()
            },
        );
        assert!(out.success(), "ctr images import: {out}");
        // The CRI plugin learns about the image from containerd's events.
        let spec = || ImageStatusRequest {
            image: Some(ImageSpec {
                image: IMAGE.into(),
            }),
        };
        poll("the imported image to be visible to CRI", 20, || {
            let st = self.client.image_status(spec()).ok()?;
            st.image.map(|_| ())
        });
    }

    /// Runs a pod sandbox with host networking and the given pid/ipc namespace modes.
    fn pod(&self, name: &str, pid: NamespaceMode, ipc: NamespaceMode) -> Pod {
        let uid = unique_id(name);
        let parent = format!("writ-cri-{uid}");
        self.parents.lock().unwrap().push(parent.clone());
        let log_dir = self.path("logs").join(&uid);
        fs::create_dir_all(&log_dir).unwrap();
        let config = PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: name.into(),
                uid: uid.clone(),
                namespace: "writ-conformance".into(),
                attempt: 0,
            }),
            hostname: String::new(),
            log_directory: log_dir.display().to_string(),
            labels: HashMap::new(),
            linux: Some(LinuxPodSandboxConfig {
                cgroup_parent: format!("/{parent}"),
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: Some(namespaces(pid, ipc)),
                }),
            }),
        };
        let id = self
            .client
            .run_pod_sandbox(RunPodSandboxRequest {
                config: Some(config.clone()),
                runtime_handler: String::new(),
            })
            .unwrap_or_else(|e| panic!("RunPodSandbox: {e}\n{}", self.daemon_log()))
            .pod_sandbox_id;
        Pod { id, config, parent }
    }

    /// Creates and starts a container in `pod` running `sh -c script` (log file
    /// `<name>.log`); `edit` adjusts the config first.
    fn container(
        &self,
        pod: &Pod,
        name: &str,
        script: &str,
        edit: impl FnOnce(&mut ContainerConfig),
    ) -> String {
        let ns = pod
            .config
            .linux
            .as_ref()
            .and_then(|l| l.security_context.as_ref())
            .and_then(|s| s.namespace_options.clone());
        let mut config = ContainerConfig {
            metadata: Some(ContainerMetadata {
                name: name.into(),
                attempt: 0,
            }),
            image: Some(ImageSpec {
                image: IMAGE.into(),
            }),
            command: vec!["/bin/sh".into(), "-c".into(), script.into()],
            args: vec![],
            working_dir: "/".into(),
            envs: vec![KeyValue {
                key: "WRIT_CRI".into(),
                value: name.into(),
            }],
            log_path: format!("{name}.log"),
            stdin: false,
            tty: false,
            linux: Some(LinuxContainerConfig {
                resources: None,
                security_context: Some(LinuxContainerSecurityContext {
                    namespace_options: ns,
                }),
            }),
        };
        edit(&mut config);
        let id = self
            .client
            .create_container(CreateContainerRequest {
                pod_sandbox_id: pod.id.clone(),
                config: Some(config),
                sandbox_config: Some(pod.config.clone()),
            })
            .unwrap_or_else(|e| panic!("CreateContainer {name}: {e}\n{}", self.daemon_log()))
            .container_id;
        self.client
            .start_container(ContainerIdRequest {
                container_id: id.clone(),
            })
            .unwrap_or_else(|e| panic!("StartContainer {name}: {e}\n{}", self.daemon_log()));
        id
    }

    fn status(&self, id: &str) -> (ContainerStatus, serde_json::Value) {
        let st = self
            .client
            .container_status(ContainerStatusRequest {
                container_id: id.into(),
                verbose: true,
            })
            .unwrap_or_else(|e| panic!("ContainerStatus {id}: {e}"));
        let info = st
            .info
            .get("info")
            .and_then(|i| serde_json::from_str(i).ok())
            .unwrap_or_default();
        (st.status.unwrap_or_default(), info)
    }

    /// Waits until the container is in `want`; panics with its last status otherwise.
    fn wait_state(&self, id: &str, want: ContainerState, secs: u64) -> ContainerStatus {
        let deadline = Instant::now() + scaled(Duration::from_secs(secs));
        loop {
            let (st, _) = self.status(id);
            if st.state == want as i32 {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "container {id} did not reach {want:?} within {secs} s: {st:?}\n{}",
                self.daemon_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The host pid of a running container's process.
    fn pid_of(&self, id: &str) -> i32 {
        let (st, info) = self.status(id);
        info["pid"]
            .as_i64()
            .filter(|p| *p > 0)
            .unwrap_or_else(|| panic!("no pid for {id}: {st:?} {info}")) as i32
    }

    fn sandbox_pid(&self, pod: &Pod) -> i32 {
        let st = self
            .client
            .pod_sandbox_status(PodSandboxStatusRequest {
                pod_sandbox_id: pod.id.clone(),
                verbose: true,
            })
            .unwrap_or_else(|e| panic!("PodSandboxStatus: {e}"));
        let info: serde_json::Value = st
            .info
            .get("info")
            .and_then(|i| serde_json::from_str(i).ok())
            .unwrap_or_default();
        info["pid"]
            .as_i64()
            .unwrap_or_else(|| panic!("no sandbox pid: {info}")) as i32
    }

    /// The container's log as the kubelet reads it (CRI format: time, stream, tag, line).
    fn log(&self, pod: &Pod, name: &str) -> String {
        fs::read_to_string(Path::new(&pod.config.log_directory).join(format!("{name}.log")))
            .unwrap_or_default()
    }

    /// Waits until the container's log has a line `stream` `text`.
    fn wait_log(&self, pod: &Pod, name: &str, stream: &str, text: &str) {
        poll(
            &format!("{name}'s log to show {stream} {text:?}"),
            20,
            || has_log_line(&self.log(pod, name), stream, text).then_some(()),
        );
    }

    fn stop(&self, id: &str, grace: i64) -> Result<(), writ_cri::Error> {
        self.client
            .stop_container(StopContainerRequest {
                container_id: id.into(),
                timeout: grace,
            })
            .map(drop)
    }

    fn daemon_log(&self) -> String {
        let log = fs::read_to_string(self.path("daemon.log")).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("level=error") || l.contains("level=warn"))
            .collect();
        format!(
            "containerd errors (last 6):\n{}",
            lines[lines.len().saturating_sub(6)..].join("\n")
        )
    }

    /// The kubelet's way out: stop each container with a grace period, stop the pod,
    /// remove the containers, remove the pod.
    fn remove_pod(&self, pod: &Pod, containers: &[&str]) {
        for c in containers {
            self.stop(c, 2)
                .unwrap_or_else(|e| panic!("StopContainer {c}: {e}\n{}", self.daemon_log()));
        }
        let id = || PodSandboxIdRequest {
            pod_sandbox_id: pod.id.clone(),
        };
        self.client
            .stop_pod_sandbox(id())
            .unwrap_or_else(|e| panic!("StopPodSandbox: {e}\n{}", self.daemon_log()));
        for c in containers {
            self.client
                .remove_container(ContainerIdRequest {
                    container_id: (*c).into(),
                })
                .unwrap_or_else(|e| panic!("RemoveContainer {c}: {e}\n{}", self.daemon_log()));
        }
        self.client
            .remove_pod_sandbox(id())
            .unwrap_or_else(|e| panic!("RemovePodSandbox: {e}\n{}", self.daemon_log()));
    }

    /// After RemovePodSandbox: CRI lists none of it, and no process, cgroup, mount, runtime
    /// state, containerd task dir or shim of it is left.
    fn assert_nothing_left(&self, pod: &Pod, containers: &[&str]) {
        let pods = self.client.list_pod_sandbox(ListPodSandboxRequest {});
        assert!(
            !pods.unwrap().items.iter().any(|p| p.id == pod.id),
            "pod still listed"
        );
        let listed = self
            .client
            .list_containers(ListContainersRequest::default());
        assert!(listed.unwrap().containers.is_empty(), "containers listed");
        let mut ids: Vec<&str> = containers.to_vec();
        ids.push(&pod.id);
        let marker = format!("/{}/", pod.parent);
        poll("the pod's processes to be gone", 10, || {
            pids_in_cgroup(&marker).is_empty().then_some(())
        });
        poll("the pod's cgroups to be removed", 10, || {
            let left: Vec<PathBuf> = cgroup_mounts()
                .iter()
                .flat_map(|m| subdirs(&m.join(&pod.parent)))
                .collect();
            left.is_empty().then_some(())
        });
        let mounts: Vec<PathBuf> = writ_conformance::host_mount_points()
            .into_iter()
            .filter(|m| {
                m.starts_with(self.dir.path())
                    || ids.iter().any(|id| m.to_string_lossy().contains(id))
            })
            .collect();
        assert!(mounts.is_empty(), "mounts left: {mounts:?}");
        let runtime_state = self.path("runc/k8s.io");
        let tasks = self.path("state/io.containerd.runtime.v2.task/k8s.io");
        for id in &ids {
            for dir in [runtime_state.join(id), tasks.join(id)] {
                assert!(!dir.exists(), "state left: {}", dir.display());
            }
        }
        let sock = self.path("c.sock").display().to_string();
        poll("the pod's shim to exit", 10, || {
            shims_of(&sock).is_empty().then_some(())
        });
    }
}

impl Drop for Cri {
    fn drop(&mut self) {
        // What a failed scenario left: try CRI's own removal first, briefly.
        if let Ok(pods) = self.client.list_pod_sandbox(ListPodSandboxRequest {}) {
            for p in pods.items {
                let id = || PodSandboxIdRequest {
                    pod_sandbox_id: p.id.clone(),
                };
                if self.client.stop_pod_sandbox(id()).is_ok() {
                    let _ = self.client.remove_pod_sandbox(id());
                }
            }
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // Then the runtime's force delete of every container it still has.
        let root = self.path("runc/k8s.io");
        for e in fs::read_dir(&root).into_iter().flatten().flatten() {
            let id = e.file_name();
            let _ = invoke(
                &self.runtime,
                &[
                    "--root".as_ref(),
                    root.as_os_str(),
                    "delete".as_ref(),
                    "--force".as_ref(),
                    id.as_os_str(),
                ],
                Invoke {
                    timeout: Some(Duration::from_secs(20)),
                    ..Default::default()
                },
            );
        }
        writ_conformance::end_shims(&self.path("c.sock"));
        for parent in self
            .parents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            writ_conformance::remove_cgroups_named(parent);
        }
        umount_under(self.dir.path());
    }
}

fn namespaces(pid: NamespaceMode, ipc: NamespaceMode) -> NamespaceOption {
    NamespaceOption {
        network: NamespaceMode::Node as i32,
        pid: pid as i32,
        ipc: ipc as i32,
    }
}

/// Calls `f` every 100 ms until it returns Some, for at most `secs` (scaled) seconds.
fn poll<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + scaled(Duration::from_secs(secs));
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether a CRI log has a full line `<time> <stream> F <text>`.
fn has_log_line(log: &str, stream: &str, text: &str) -> bool {
    log.lines().any(|l| {
        let mut f = l.splitn(4, ' ');
        let (_, s, _, t) = (f.next(), f.next(), f.next(), f.next());
        s == Some(stream) && t == Some(text)
    })
}

fn cgroup_mounts() -> Vec<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter(|l| {
            l.split_once(" - ")
                .map(|(_, post)| post.starts_with("cgroup ") || post.starts_with("cgroup2 "))
                .unwrap_or(false)
        })
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect()
}

/// Live processes whose cgroup (any hierarchy) path contains `marker`.
fn pids_in_cgroup(marker: &str) -> Vec<i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/cgroup"))
                .map(|c| c.contains(marker))
                .unwrap_or(false)
                && writ_conformance::pid_alive(*pid)
        })
        .collect()
}

/// Live shims whose command line names the daemon's socket.
fn shims_of(sock: &str) -> Vec<i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.starts_with("/usr/bin/containerd-shim")
                && cmdline.contains(sock)
                && writ_conformance::pid_alive(*pid)
        })
        .collect()
}

/// The value of a container's cgroup file: `v1` (controller, file) on a v1 hierarchy,
/// else `v2` on the unified hierarchy.
fn cgroup_value(pid: i32, v1: (&str, &str), v2: &str) -> String {
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    for line in own.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrls, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        let v1_hit = ctrls.split(',').any(|c| c == v1.0);
        let v2_hit = ctrls.is_empty() && pure_v2();
        if !(v1_hit || v2_hit) {
            continue;
        }
        let mount = info.lines().find_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let fields: Vec<&str> = post.split(' ').collect();
            let ok = if v1_hit {
                fields[0] == "cgroup" && fields.get(2)?.split(',').any(|o| o == v1.0)
            } else {
                fields[0] == "cgroup2"
            };
            ok.then(|| PathBuf::from(pre.split(' ').nth(4).unwrap_or("")))
        });
        let Some(mount) = mount else { continue };
        let file = if v1_hit { v1.1 } else { v2 };
        let p = mount.join(path.trim_start_matches('/')).join(file);
        return fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .trim()
            .to_owned();
    }
    panic!("no cgroup with {v1:?} or {v2} for pid {pid}: {own}");
}

fn pure_v2() -> bool {
    writ_conformance::pure_cgroup2_root().is_some()
}

fn ns_of(pid: i32, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .map(|l| l.display().to_string())
        .unwrap_or_else(|e| panic!("/proc/{pid}/ns/{ns}: {e}"))
}

/// Runs `scenario` for every runtime in a fresh pod (host network, `pid` mode, shared ipc)
/// of a private containerd; the containers it returns are then taken away the kubelet's
/// way (StopContainer with a grace period, exited ones too, StopPodSandbox, RemoveContainer,
/// RemovePodSandbox), and nothing of the pod may be left.
fn in_pod(name: &str, pid: NamespaceMode, scenario: impl Fn(&Cri, &Pod) -> Vec<String>) {
    for_each_runtime(name, |ctx| {
        let c = match Cri::start(ctx) {
            Ok(c) => c,
            Err(reason) => ctx.skip(&reason),
        };
        let pod = c.pod(name, pid, NamespaceMode::Pod);
        let ids = scenario(&c, &pod);
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        c.remove_pod(&pod, &ids);
        c.assert_nothing_left(&pod, &ids);
    });
}

fn sleeper() -> &'static str {
    "echo ready; trap 'exit 0' TERM; while :; do sleep 0.2; done"
}

#[verifies("runtime.delete.resources", "runtime.lifecycle.destroy")]
#[test]
fn cri_pod_lifecycle_leaves_nothing() {
    in_pod("cri-pod-lifecycle", NamespaceMode::Pod, |c, pod| {
        let st = c
            .client
            .pod_sandbox_status(PodSandboxStatusRequest {
                pod_sandbox_id: pod.id.clone(),
                verbose: false,
            })
            .unwrap();
        assert_eq!(
            st.status.unwrap().state,
            PodSandboxState::SandboxReady as i32
        );
        let a = c.container(pod, "a", sleeper(), |_| {});
        let b = c.container(pod, "b", sleeper(), |_| {});
        for id in [&a, &b] {
            c.wait_state(id, ContainerState::ContainerRunning, 10);
        }
        let listed = c
            .client
            .list_containers(ListContainersRequest::default())
            .unwrap();
        assert_eq!(listed.containers.len(), 2, "{listed:?}");
        c.wait_log(pod, "a", "stdout", "ready");
        vec![a, b]
    });
}

#[verifies("runtime.lifecycle.run_program", "runtime.lifecycle.process_exit")]
#[test]
fn cri_exit_codes_and_logs() {
    in_pod("cri-exit-logs", NamespaceMode::Container, |c, pod| {
        let ok = c.container(pod, "ok", "echo out-line; echo err-line >&2", |_| {});
        let bad = c.container(pod, "bad", "echo \"env=$WRIT_CRI\"; exit 3", |_| {});
        let st = c.wait_state(&ok, ContainerState::ContainerExited, 20);
        assert_eq!(
            (st.exit_code, st.reason.as_str()),
            (0, "Completed"),
            "{st:?}"
        );
        // (containerd may record the start after a quick process already ended.)
        assert!(st.started_at > 0 && st.finished_at > 0, "{st:?}");
        let st = c.wait_state(&bad, ContainerState::ContainerExited, 20);
        assert_eq!((st.exit_code, st.reason.as_str()), (3, "Error"), "{st:?}");
        let log = c.log(pod, "ok");
        assert!(has_log_line(&log, "stdout", "out-line"), "{log}");
        assert!(has_log_line(&log, "stderr", "err-line"), "{log}");
        let log = c.log(pod, "bad");
        assert!(has_log_line(&log, "stdout", "env=bad"), "{log}");
        vec![ok, bad]
    });
}

#[verifies("config_linux.namespaces.path.join", "config_linux.namespaces.create")]
#[test]
fn cri_shared_pid_and_ipc_namespaces() {
    in_pod("cri-shared-ns", NamespaceMode::Pod, |c, pod| {
        let a = c.container(pod, "a", "echo ready; exec sleep 7777", |_| {});
        c.wait_log(pod, "a", "stdout", "ready");
        let script = "echo \"ipc=$(readlink /proc/self/ns/ipc)\"; \
                  echo \"pid=$(readlink /proc/self/ns/pid)\"; \
                  echo \"init=$(tr '\\0' ' ' </proc/1/cmdline)\"; \
                  for p in /proc/[0-9]*; do echo \"proc=$(tr '\\0' ' ' <$p/cmdline)\"; done";
        let b = c.container(pod, "b", script, |_| {});
        c.wait_state(&b, ContainerState::ContainerExited, 20);
        let log = c.log(pod, "b");
        let sandbox = c.sandbox_pid(pod);
        let pa = c.pid_of(&a);
        for ns in ["ipc", "pid"] {
            let want = format!("{ns}={}", ns_of(sandbox, ns));
            assert!(has_log_line(&log, "stdout", &want), "want {want}: {log}");
            assert_eq!(ns_of(pa, ns), ns_of(sandbox, ns), "{ns} of a");
        }
        assert!(
            log.lines().any(|l| l.contains(" F init=/bin/sh -c trap")),
            "pid 1 of a shared pid namespace is the sandbox's process: {log}"
        );
        assert!(
            has_log_line(&log, "stdout", "proc=sleep 7777 "),
            "container b sees container a's process: {log}"
        );
        // Host networking: the node's network namespace; and one mount ns each.
        let me = std::process::id() as i32;
        assert_eq!(ns_of(pa, "net"), ns_of(me, "net"));
        assert_ne!(ns_of(pa, "mnt"), ns_of(sandbox, "mnt"));
        vec![a, b]
    });
}

fn resources(memory: i64, shares: i64, quota: i64) -> LinuxContainerResources {
    LinuxContainerResources {
        cpu_period: 100_000,
        cpu_quota: quota,
        cpu_shares: shares,
        memory_limit_in_bytes: memory,
        ..Default::default()
    }
}

/// A running container with `res`: its id and host pid.
fn limited(c: &Cri, pod: &Pod, name: &str, res: LinuxContainerResources) -> (String, i32) {
    let id = c.container(pod, name, sleeper(), |cfg| {
        if let Some(l) = cfg.linux.as_mut() {
            l.resources = Some(res);
        }
    });
    c.wait_log(pod, name, "stdout", "ready");
    let pid = c.pid_of(&id);
    (id, pid)
}

/// The container's memory limit, CPU shares (v1) and CFS quota as its cgroup files say.
fn cgroup_limits(pid: i32) -> (String, String) {
    let memory = cgroup_value(pid, ("memory", "memory.limit_in_bytes"), "memory.max");
    let quota = cgroup_value(pid, ("cpu", "cpu.cfs_quota_us"), "cpu.max");
    (memory, quota)
}

#[verifies(
    "runtime.lifecycle.create_resources",
    "config_linux.cgroups_path.absolute"
)]
#[test]
fn cri_container_resources() {
    in_pod("cri-resources", NamespaceMode::Container, |c, pod| {
        let (id, pid) = limited(c, pod, "limited", resources(96 * MIB, 256, 30_000));
        let cgroup = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        assert!(
            cgroup.contains(&format!("/{}/{id}", pod.parent)),
            "the container's cgroup is <cgroup_parent>/<id>: {cgroup}"
        );
        let (memory, quota) = cgroup_limits(pid);
        assert_eq!(memory, (96 * MIB).to_string());
        if pure_v2() {
            assert_eq!(quota, "30000 100000");
        } else {
            assert_eq!(quota, "30000");
            assert_eq!(cgroup_value(pid, ("cpu", "cpu.shares"), ""), "256");
        }
        vec![id]
    });
}

#[verifies("config_linux.cgroups_path.stable")]
#[test]
fn cri_update_resources_in_place() {
    in_pod("cri-update", NamespaceMode::Container, |c, pod| {
        let (id, pid) = limited(c, pod, "resized", resources(64 * MIB, 256, 30_000));
        c.client
            .update_container_resources(UpdateContainerResourcesRequest {
                container_id: id.clone(),
                linux: Some(resources(128 * MIB, 512, 20_000)),
            })
            .unwrap_or_else(|e| panic!("UpdateContainerResources: {e}\n{}", c.daemon_log()));
        let (memory, quota) = cgroup_limits(pid);
        assert_eq!(memory, (128 * MIB).to_string());
        assert_eq!(quota, if pure_v2() { "20000 100000" } else { "20000" });
        // Same process, same cgroup: updated in place, not recreated.
        assert_eq!(c.pid_of(&id), pid);
        c.wait_state(&id, ContainerState::ContainerRunning, 5);
        vec![id]
    });
}

#[verifies("runtime.kill.signal")]
#[test]
fn cri_stop_with_grace_period() {
    in_pod("cri-stop-grace", NamespaceMode::Container, |c, pod| {
        let polite = "trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 0.2; done";
        let stubborn = "trap '' TERM; echo ready; while :; do sleep 0.2; done";
        let p = c.container(pod, "polite", polite, |_| {});
        let s = c.container(pod, "stubborn", stubborn, |_| {});
        c.wait_log(pod, "polite", "stdout", "ready");
        c.wait_log(pod, "stubborn", "stdout", "ready");
        c.stop(&p, 30)
            .unwrap_or_else(|e| panic!("StopContainer: {e}\n{}", c.daemon_log()));
        let st = c.wait_state(&p, ContainerState::ContainerExited, 5);
        assert_eq!(st.exit_code, 0, "SIGTERM first, handled: {st:?}");
        assert!(has_log_line(&c.log(pod, "polite"), "stdout", "got-term"));
        let grace = 2;
        let t0 = Instant::now();
        c.stop(&s, grace)
            .unwrap_or_else(|e| panic!("StopContainer: {e}\n{}", c.daemon_log()));
        let waited = t0.elapsed();
        let st = c.wait_state(&s, ContainerState::ContainerExited, 5);
        assert_eq!(st.exit_code, 137, "SIGKILL after the grace period: {st:?}");
        assert!(
            waited >= Duration::from_secs(grace as u64),
            "killed before its {grace} s grace period ended ({waited:?})"
        );
        vec![p, s]
    });
}

#[test]
fn cri_exec_sync() {
    in_pod("cri-exec-sync", NamespaceMode::Container, |c, pod| {
        let id = c.container(pod, "target", sleeper(), |_| {});
        c.wait_log(pod, "target", "stdout", "ready");
        let exec = |cmd: &[&str], timeout: i64| {
            c.client.exec_sync(ExecSyncRequest {
                container_id: id.clone(),
                cmd: cmd.iter().map(|s| s.to_string()).collect(),
                timeout,
            })
        };
        let r = exec(&["/bin/sh", "-c", "echo out; echo err >&2; exit 5"], 10)
            .unwrap_or_else(|e| panic!("ExecSync: {e}\n{}", c.daemon_log()));
        assert_eq!(
            (r.exit_code, r.stdout.as_slice(), r.stderr.as_slice()),
            (5, &b"out\n"[..], &b"err\n"[..])
        );
        // The exec'd process is in the container's namespaces and sees its env.
        let pid = c.pid_of(&id);
        let r = exec(
            &[
                "/bin/sh",
                "-c",
                "readlink /proc/self/ns/mnt; readlink /proc/self/ns/pid",
            ],
            10,
        )
        .unwrap();
        let want = format!("{}\n{}\n", ns_of(pid, "mnt"), ns_of(pid, "pid"));
        assert_eq!(
            (r.exit_code, String::from_utf8_lossy(&r.stdout)),
            (0, want.into())
        );
        // A probe that overruns its timeout fails and its process is killed.
        let r = exec(&["/bin/sh", "-c", "exec sleep 6543"], 1);
        assert!(
            r.as_ref().is_err_and(|e| e.to_string().contains("timeout")),
            "{r:?}"
        );
        let marker = format!("/{}/{id}", pod.parent);
        poll("the timed-out exec to be killed", 10, || {
            let left: Vec<i32> = pids_in_cgroup(&marker)
                .into_iter()
                .filter(|p| {
                    fs::read(format!("/proc/{p}/cmdline"))
                        .map(|c| c.starts_with(b"sleep\x006543"))
                        .unwrap_or(false)
                })
                .collect();
            left.is_empty().then_some(())
        });
        c.wait_state(&id, ContainerState::ContainerRunning, 5);
        vec![id]
    });
}

#[test]
fn cri_exec_with_tty() {
    in_pod("cri-exec-tty", NamespaceMode::Container, |c, pod| {
        let id = c.container(pod, "target", sleeper(), |_| {});
        c.wait_log(pod, "target", "stdout", "ready");
        let url = c
            .client
            .exec(ExecRequest {
                container_id: id.clone(),
                cmd: vec!["/bin/sh".into()],
                tty: true,
                stdin: true,
                stdout: true,
                stderr: false,
            })
            .unwrap_or_else(|e| panic!("Exec: {e}\n{}", c.daemon_log()))
            .url;
        // The size is sent first; the shell reads its input after a pause so that the
        // resize has reached the pty whatever order the server handles channels in.
        let out = writ_cri::stream::exec(
            &url,
            Some((100, 40)),
            b"sleep 1; stty size; tty; test -t 0 && echo stdin-is-a-tty; exit 7\n",
            scaled(Duration::from_secs(20)),
        )
        .unwrap_or_else(|e| panic!("{e}\n{}", c.daemon_log()));
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.exit_code, Some(7), "{out:?} {text}");
        for want in ["40 100", "/dev/pts/", "stdin-is-a-tty"] {
            assert!(
                text.lines()
                    .any(|l| l.trim_end_matches('\r').starts_with(want)),
                "want a line {want:?} in the terminal's output: {text}"
            );
        }
        c.wait_state(&id, ContainerState::ContainerRunning, 5);
        vec![id]
    });
}
