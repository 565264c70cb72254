//! A small blocking CRI client: the calls the kubelet makes to a container runtime
//! (containerd's CRI plugin) over its unix socket, for the engine tests.
//!
//! gRPC runs on tonic with prost messages written in [`api`] (only what the tests use, no
//! protoc). `Exec` returns a URL on the runtime's streaming server; [`stream::exec`] speaks
//! that server's WebSocket protocol (`v4.channel.k8s.io`), as `kubectl exec` through the
//! API server does.

pub mod api;
pub mod stream;

use std::path::Path;
use std::time::Duration;

use tonic::codegen::http::uri::PathAndQuery;

pub use api::*;

/// What went wrong talking to the runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket could not be reached.
    #[error("connect to CRI socket {path}: {message}")]
    Connect {
        /// The socket.
        path: String,
        /// Why.
        message: String,
    },
    /// The runtime answered the call with an error.
    #[error("{method}: {code:?}: {message}")]
    Rpc {
        /// The gRPC method.
        method: &'static str,
        /// gRPC status code.
        code: tonic::Code,
        /// The runtime's message.
        message: String,
    },
    /// The exec stream failed.
    #[error("exec stream {url}: {message}")]
    Stream {
        /// The streaming URL.
        url: String,
        /// Why.
        message: String,
    },
}

/// A connection to a CRI runtime.
pub struct Client {
    rt: tokio::runtime::Runtime,
    channel: tonic::transport::Channel,
}

impl Client {
    /// Connects to the runtime's unix socket; every call times out after `timeout`.
    pub fn connect(socket: &Path, timeout: Duration) -> Result<Client, Error> {
        let fail = |message: String| Error::Connect {
            path: socket.display().to_string(),
            message,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let path = socket.to_path_buf();
        // The URI is not used: the connector dials the socket.
        let endpoint = tonic::transport::Endpoint::from_static("http://cri.sock")
            .timeout(timeout)
            .connect_timeout(timeout);
        let channel = rt
            .block_on(endpoint.connect_with_connector(tower::service_fn(move |_| {
                let path = path.clone();
                async move {
                    let stream = tokio::net::UnixStream::connect(path).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                }
            })))
            .map_err(|e| fail(format!("{e:?}")))?;
        Ok(Client { rt, channel })
    }

    fn call<Req, Resp>(&self, method: &'static str, req: Req) -> Result<Resp, Error>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let rpc = |code, message| Error::Rpc {
            method,
            code,
            message,
        };
        self.rt.block_on(async {
            let mut grpc = tonic::client::Grpc::new(self.channel.clone());
            grpc.ready()
                .await
                .map_err(|e| rpc(tonic::Code::Unavailable, e.to_string()))?;
            let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
            grpc.unary(
                tonic::Request::new(req),
                PathAndQuery::from_static(method),
                codec,
            )
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| rpc(s.code(), s.message().to_owned()))
        })
    }
}

macro_rules! rpcs {
    ($($(#[$doc:meta])* $name:ident($req:ty) -> $resp:ty = $method:literal;)*) => {
        impl Client {
            $(
                $(#[$doc])*
                pub fn $name(&self, req: $req) -> Result<$resp, Error> {
                    self.call($method, req)
                }
            )*
        }
    };
}

rpcs! {
    /// `RuntimeService.Version`.
    version(VersionRequest) -> VersionResponse = "/runtime.v1.RuntimeService/Version";
    /// `RuntimeService.RunPodSandbox`.
    run_pod_sandbox(RunPodSandboxRequest) -> RunPodSandboxResponse =
        "/runtime.v1.RuntimeService/RunPodSandbox";
    /// `RuntimeService.StopPodSandbox`.
    stop_pod_sandbox(PodSandboxIdRequest) -> Empty = "/runtime.v1.RuntimeService/StopPodSandbox";
    /// `RuntimeService.RemovePodSandbox`.
    remove_pod_sandbox(PodSandboxIdRequest) -> Empty =
        "/runtime.v1.RuntimeService/RemovePodSandbox";
    /// `RuntimeService.PodSandboxStatus`.
    pod_sandbox_status(PodSandboxStatusRequest) -> PodSandboxStatusResponse =
        "/runtime.v1.RuntimeService/PodSandboxStatus";
    /// `RuntimeService.ListPodSandbox`.
    list_pod_sandbox(ListPodSandboxRequest) -> ListPodSandboxResponse =
        "/runtime.v1.RuntimeService/ListPodSandbox";
    /// `RuntimeService.CreateContainer`.
    create_container(CreateContainerRequest) -> CreateContainerResponse =
        "/runtime.v1.RuntimeService/CreateContainer";
    /// `RuntimeService.StartContainer`.
    start_container(ContainerIdRequest) -> Empty = "/runtime.v1.RuntimeService/StartContainer";
    /// `RuntimeService.StopContainer`.
    stop_container(StopContainerRequest) -> Empty = "/runtime.v1.RuntimeService/StopContainer";
    /// `RuntimeService.RemoveContainer`.
    remove_container(ContainerIdRequest) -> Empty = "/runtime.v1.RuntimeService/RemoveContainer";
    /// `RuntimeService.ContainerStatus`.
    container_status(ContainerStatusRequest) -> ContainerStatusResponse =
        "/runtime.v1.RuntimeService/ContainerStatus";
    /// `RuntimeService.ListContainers`.
    list_containers(ListContainersRequest) -> ListContainersResponse =
        "/runtime.v1.RuntimeService/ListContainers";
    /// `RuntimeService.UpdateContainerResources`.
    update_container_resources(UpdateContainerResourcesRequest) -> Empty =
        "/runtime.v1.RuntimeService/UpdateContainerResources";
    /// `RuntimeService.ExecSync`.
    exec_sync(ExecSyncRequest) -> ExecSyncResponse = "/runtime.v1.RuntimeService/ExecSync";
    /// `RuntimeService.Exec` (returns the streaming URL; see [`stream::exec`]).
    exec(ExecRequest) -> ExecResponse = "/runtime.v1.RuntimeService/Exec";
    /// `ImageService.ImageStatus`.
    image_status(ImageStatusRequest) -> ImageStatusResponse =
        "/runtime.v1.ImageService/ImageStatus";
}
