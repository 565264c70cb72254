//! The CRI runtime.v1 messages the engine tests use, field numbers as in CRI's protobuf
//! (`k8s.io/cri-api`, `runtime/v1/api.proto`). Fields the tests never send or read are left
//! out: protobuf decoders skip unknown fields, and an unset field is its zero value on the
//! wire, which is what the kubelet sends for a field it does not use.

use std::collections::HashMap;

/// How a pod or container gets a namespace (`NamespaceMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum NamespaceMode {
    /// Shared by every container of the pod.
    Pod = 0,
    /// One per container.
    Container = 1,
    /// The host's (the node's).
    Node = 2,
    /// Another container's (`target_id`).
    Target = 3,
}

/// `PodSandboxState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum PodSandboxState {
    /// Running.
    SandboxReady = 0,
    /// Stopped or failed.
    SandboxNotready = 1,
}

/// `ContainerState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ContainerState {
    /// Created, not started.
    ContainerCreated = 0,
    /// Started, process alive.
    ContainerRunning = 1,
    /// Process finished.
    ContainerExited = 2,
    /// The runtime does not know.
    ContainerUnknown = 3,
}

/// `VersionRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VersionRequest {
    /// The client's CRI version.
    #[prost(string, tag = "1")]
    pub version: String,
}

/// `VersionResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VersionResponse {
    /// The CRI version the runtime speaks.
    #[prost(string, tag = "1")]
    pub version: String,
    /// Runtime name ("containerd").
    #[prost(string, tag = "2")]
    pub runtime_name: String,
    /// Runtime version.
    #[prost(string, tag = "3")]
    pub runtime_version: String,
    /// CRI API version ("v1").
    #[prost(string, tag = "4")]
    pub runtime_api_version: String,
}

/// `NamespaceOption`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamespaceOption {
    /// Network namespace mode.
    #[prost(enumeration = "NamespaceMode", tag = "1")]
    pub network: i32,
    /// PID namespace mode.
    #[prost(enumeration = "NamespaceMode", tag = "2")]
    pub pid: i32,
    /// IPC namespace mode.
    #[prost(enumeration = "NamespaceMode", tag = "3")]
    pub ipc: i32,
}

/// `LinuxSandboxSecurityContext`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LinuxSandboxSecurityContext {
    /// The pod's namespaces.
    #[prost(message, optional, tag = "1")]
    pub namespace_options: Option<NamespaceOption>,
}

/// `LinuxPodSandboxConfig`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LinuxPodSandboxConfig {
    /// The pod's parent cgroup.
    #[prost(string, tag = "1")]
    pub cgroup_parent: String,
    /// Security options of the pod.
    #[prost(message, optional, tag = "2")]
    pub security_context: Option<LinuxSandboxSecurityContext>,
}

/// `PodSandboxMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxMetadata {
    /// Pod name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Pod uid.
    #[prost(string, tag = "2")]
    pub uid: String,
    /// Pod namespace.
    #[prost(string, tag = "3")]
    pub namespace: String,
    /// Attempt number.
    #[prost(uint32, tag = "4")]
    pub attempt: u32,
}

/// `PodSandboxConfig`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxConfig {
    /// Identifies the pod.
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<PodSandboxMetadata>,
    /// Hostname of the pod.
    #[prost(string, tag = "2")]
    pub hostname: String,
    /// Host directory under which container logs are written.
    #[prost(string, tag = "3")]
    pub log_directory: String,
    /// Labels.
    #[prost(map = "string, string", tag = "6")]
    pub labels: HashMap<String, String>,
    /// Linux options.
    #[prost(message, optional, tag = "8")]
    pub linux: Option<LinuxPodSandboxConfig>,
}

/// `RunPodSandboxRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RunPodSandboxRequest {
    /// The pod.
    #[prost(message, optional, tag = "1")]
    pub config: Option<PodSandboxConfig>,
    /// Runtime handler ("" = the default runtime).
    #[prost(string, tag = "2")]
    pub runtime_handler: String,
}

/// `RunPodSandboxResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RunPodSandboxResponse {
    /// The new sandbox's id.
    #[prost(string, tag = "1")]
    pub pod_sandbox_id: String,
}

/// `StopPodSandboxRequest`, `RemovePodSandboxRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxIdRequest {
    /// The sandbox.
    #[prost(string, tag = "1")]
    pub pod_sandbox_id: String,
}

/// An empty response (`StopPodSandboxResponse`, `StartContainerResponse`, ...).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Empty {}

/// `PodSandboxStatusRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxStatusRequest {
    /// The sandbox.
    #[prost(string, tag = "1")]
    pub pod_sandbox_id: String,
    /// Ask for the runtime's `info` map.
    #[prost(bool, tag = "2")]
    pub verbose: bool,
}

/// `PodSandboxStatus`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxStatus {
    /// Sandbox id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Ready or not.
    #[prost(enumeration = "PodSandboxState", tag = "3")]
    pub state: i32,
}

/// `PodSandboxStatusResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxStatusResponse {
    /// The status.
    #[prost(message, optional, tag = "1")]
    pub status: Option<PodSandboxStatus>,
    /// Runtime-specific detail (with `verbose`; containerd puts JSON under "info").
    #[prost(map = "string, string", tag = "2")]
    pub info: HashMap<String, String>,
}

/// `ListPodSandboxRequest` (no filter: every sandbox).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListPodSandboxRequest {}

/// `PodSandbox`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandbox {
    /// Sandbox id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Ready or not.
    #[prost(enumeration = "PodSandboxState", tag = "3")]
    pub state: i32,
}

/// `ListPodSandboxResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListPodSandboxResponse {
    /// The sandboxes.
    #[prost(message, repeated, tag = "1")]
    pub items: Vec<PodSandbox>,
}

/// `ImageSpec`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImageSpec {
    /// Image reference.
    #[prost(string, tag = "1")]
    pub image: String,
}

/// `KeyValue` (an environment variable).
#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValue {
    /// Name.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `LinuxContainerResources`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LinuxContainerResources {
    /// CPU CFS period (µs).
    #[prost(int64, tag = "1")]
    pub cpu_period: i64,
    /// CPU CFS quota (µs).
    #[prost(int64, tag = "2")]
    pub cpu_quota: i64,
    /// CPU shares.
    #[prost(int64, tag = "3")]
    pub cpu_shares: i64,
    /// Memory limit in bytes.
    #[prost(int64, tag = "4")]
    pub memory_limit_in_bytes: i64,
    /// OOM score adjustment.
    #[prost(int64, tag = "5")]
    pub oom_score_adj: i64,
    /// Allowed CPUs.
    #[prost(string, tag = "6")]
    pub cpuset_cpus: String,
    /// Allowed memory nodes.
    #[prost(string, tag = "7")]
    pub cpuset_mems: String,
    /// cgroup v2 files.
    #[prost(map = "string, string", tag = "9")]
    pub unified: HashMap<String, String>,
    /// Memory + swap limit in bytes.
    #[prost(int64, tag = "10")]
    pub memory_swap_limit_in_bytes: i64,
}

/// `LinuxContainerSecurityContext`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LinuxContainerSecurityContext {
    /// The container's namespaces.
    #[prost(message, optional, tag = "3")]
    pub namespace_options: Option<NamespaceOption>,
}

/// `LinuxContainerConfig`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LinuxContainerConfig {
    /// Resources.
    #[prost(message, optional, tag = "1")]
    pub resources: Option<LinuxContainerResources>,
    /// Security options.
    #[prost(message, optional, tag = "2")]
    pub security_context: Option<LinuxContainerSecurityContext>,
}

/// `ContainerMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerMetadata {
    /// Container name (unique in the pod).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Attempt number.
    #[prost(uint32, tag = "2")]
    pub attempt: u32,
}

/// `ContainerConfig`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerConfig {
    /// Identifies the container.
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ContainerMetadata>,
    /// Image.
    #[prost(message, optional, tag = "2")]
    pub image: Option<ImageSpec>,
    /// Entrypoint.
    #[prost(string, repeated, tag = "3")]
    pub command: Vec<String>,
    /// Arguments.
    #[prost(string, repeated, tag = "4")]
    pub args: Vec<String>,
    /// Working directory.
    #[prost(string, tag = "5")]
    pub working_dir: String,
    /// Environment.
    #[prost(message, repeated, tag = "6")]
    pub envs: Vec<KeyValue>,
    /// Log file, relative to the pod's `log_directory`.
    #[prost(string, tag = "11")]
    pub log_path: String,
    /// Keep stdin open.
    #[prost(bool, tag = "12")]
    pub stdin: bool,
    /// Allocate a tty.
    #[prost(bool, tag = "14")]
    pub tty: bool,
    /// Linux options.
    #[prost(message, optional, tag = "15")]
    pub linux: Option<LinuxContainerConfig>,
}

/// `CreateContainerRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateContainerRequest {
    /// The pod.
    #[prost(string, tag = "1")]
    pub pod_sandbox_id: String,
    /// The container.
    #[prost(message, optional, tag = "2")]
    pub config: Option<ContainerConfig>,
    /// The pod's config, as given to RunPodSandbox.
    #[prost(message, optional, tag = "3")]
    pub sandbox_config: Option<PodSandboxConfig>,
}

/// `CreateContainerResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateContainerResponse {
    /// The new container's id.
    #[prost(string, tag = "1")]
    pub container_id: String,
}

/// `StartContainerRequest`, `RemoveContainerRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerIdRequest {
    /// The container.
    #[prost(string, tag = "1")]
    pub container_id: String,
}

/// `StopContainerRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StopContainerRequest {
    /// The container.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Grace period in seconds before SIGKILL.
    #[prost(int64, tag = "2")]
    pub timeout: i64,
}

/// `ContainerStatusRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerStatusRequest {
    /// The container.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Ask for the runtime's `info` map.
    #[prost(bool, tag = "2")]
    pub verbose: bool,
}

/// `ContainerResources`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerResources {
    /// Linux resources.
    #[prost(message, optional, tag = "1")]
    pub linux: Option<LinuxContainerResources>,
}

/// `ContainerStatus`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerStatus {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// State.
    #[prost(enumeration = "ContainerState", tag = "3")]
    pub state: i32,
    /// Start time (ns since the epoch).
    #[prost(int64, tag = "5")]
    pub started_at: i64,
    /// Finish time (ns since the epoch).
    #[prost(int64, tag = "6")]
    pub finished_at: i64,
    /// Exit code of the container's process.
    #[prost(int32, tag = "7")]
    pub exit_code: i32,
    /// Why it is in this state (e.g. "Completed", "Error").
    #[prost(string, tag = "10")]
    pub reason: String,
    /// Human-readable detail.
    #[prost(string, tag = "11")]
    pub message: String,
    /// Log file on the host.
    #[prost(string, tag = "15")]
    pub log_path: String,
    /// Resources in force.
    #[prost(message, optional, tag = "16")]
    pub resources: Option<ContainerResources>,
}

/// `ContainerStatusResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerStatusResponse {
    /// The status.
    #[prost(message, optional, tag = "1")]
    pub status: Option<ContainerStatus>,
    /// Runtime-specific detail (with `verbose`; containerd puts JSON with the pid under "info").
    #[prost(map = "string, string", tag = "2")]
    pub info: HashMap<String, String>,
}

/// `ContainerFilter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerFilter {
    /// Only this pod's containers ("" = all).
    #[prost(string, tag = "3")]
    pub pod_sandbox_id: String,
}

/// `ListContainersRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListContainersRequest {
    /// Filter.
    #[prost(message, optional, tag = "1")]
    pub filter: Option<ContainerFilter>,
}

/// `Container` (an entry of ListContainers).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Container {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Its pod.
    #[prost(string, tag = "2")]
    pub pod_sandbox_id: String,
    /// State.
    #[prost(enumeration = "ContainerState", tag = "6")]
    pub state: i32,
}

/// `ListContainersResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListContainersResponse {
    /// The containers.
    #[prost(message, repeated, tag = "1")]
    pub containers: Vec<Container>,
}

/// `UpdateContainerResourcesRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UpdateContainerResourcesRequest {
    /// The container.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// New Linux resources.
    #[prost(message, optional, tag = "2")]
    pub linux: Option<LinuxContainerResources>,
}

/// `ExecSyncRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecSyncRequest {
    /// The container.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Command and arguments.
    #[prost(string, repeated, tag = "2")]
    pub cmd: Vec<String>,
    /// Seconds before the command is killed (0 = none).
    #[prost(int64, tag = "3")]
    pub timeout: i64,
}

/// `ExecSyncResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecSyncResponse {
    /// What the command wrote to stdout.
    #[prost(bytes = "vec", tag = "1")]
    pub stdout: Vec<u8>,
    /// What it wrote to stderr.
    #[prost(bytes = "vec", tag = "2")]
    pub stderr: Vec<u8>,
    /// Its exit code.
    #[prost(int32, tag = "3")]
    pub exit_code: i32,
}

/// `ExecRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecRequest {
    /// The container.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Command and arguments.
    #[prost(string, repeated, tag = "2")]
    pub cmd: Vec<String>,
    /// Allocate a tty.
    #[prost(bool, tag = "3")]
    pub tty: bool,
    /// Stream stdin.
    #[prost(bool, tag = "4")]
    pub stdin: bool,
    /// Stream stdout.
    #[prost(bool, tag = "5")]
    pub stdout: bool,
    /// Stream stderr (must be false with a tty).
    #[prost(bool, tag = "6")]
    pub stderr: bool,
}

/// `ExecResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecResponse {
    /// Where the streaming server serves this exec.
    #[prost(string, tag = "1")]
    pub url: String,
}

/// `ImageStatusRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImageStatusRequest {
    /// The image.
    #[prost(message, optional, tag = "1")]
    pub image: Option<ImageSpec>,
}

/// `Image`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Image {
    /// Image id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Its tags.
    #[prost(string, repeated, tag = "2")]
    pub repo_tags: Vec<String>,
}

/// `ImageStatusResponse` (`image` unset when the runtime does not have it).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImageStatusResponse {
    /// The image.
    #[prost(message, optional, tag = "1")]
    pub image: Option<Image>,
}
