//! The container runtime interface the kubelet drives (the role CRI plays in Kubernetes): pod
//! sandboxes holding a pod's network namespace, containers joined to them, images, logs, and a
//! stream of lifecycle events. Two implementations: [`docker`] (the real one, through bollard)
//! and [`sim`] (simulated, for machines without a daemon and for tests on a paused clock).
//!
//! Everything a runtime creates carries the pod's identity and kubox's ownership labels — the
//! cluster's identity ([`LABEL_CLUSTER`]) and the node's ([`LABEL_NODE`]) — so a kubelet can
//! list exactly what is its own after a restart, and never touch another kubox's containers
//! (another data dir with the same node names on the same daemon) or anyone else's.

pub mod docker;
pub mod exec;
pub mod sim;
mod sim_shell;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::Container;
use k8s_openapi::jiff::Timestamp;

/// Label on every container kubox creates: the cluster that owns it (the uid of its
/// `kube-system` namespace, the id Kubernetes tooling takes for a cluster's; stable across
/// restarts of the same data dir).
pub const LABEL_CLUSTER: &str = "io.kubox.cluster";
/// Label on every container kubox creates: the node (kubelet) that owns it.
pub const LABEL_NODE: &str = "io.kubox.node";
/// Kubernetes' dockershim labels, kept as they were.
pub const LABEL_POD_NAME: &str = "io.kubernetes.pod.name";
pub const LABEL_POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
pub const LABEL_POD_UID: &str = "io.kubernetes.pod.uid";
pub const LABEL_CONTAINER_NAME: &str = "io.kubernetes.container.name";
/// `podsandbox` or `container`.
pub const LABEL_DOCKER_TYPE: &str = "io.kubernetes.docker.type";
pub const LABEL_SANDBOX_ID: &str = "io.kubernetes.sandbox.id";
pub const LABEL_CONTAINER_HASH: &str = "io.kubernetes.container.hash";
pub const LABEL_RESTART_COUNT: &str = "io.kubernetes.container.restartCount";
pub const LABEL_SANDBOX_ATTEMPT: &str = "io.kubox.sandbox.attempt";
/// The container name the sandbox goes by in labels and names.
pub const SANDBOX_CONTAINER_NAME: &str = "POD";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RuntimeError {
    /// The daemon does not answer: the node reports its runtime as down.
    #[error("container runtime is down: {0}")]
    Unavailable(String),
    /// The reference cannot be parsed (`InvalidImageName`).
    #[error("{0}")]
    InvalidImageName(String),
    /// A pull failed (`ErrImagePull`); the message is the daemon's.
    #[error("{0}")]
    Pull(String),
    /// Creating a container failed (`CreateContainerError`).
    #[error("{0}")]
    Create(String),
    /// Starting a container failed (`RunContainerError`).
    #[error("{0}")]
    Start(String),
    #[error("no such container: {0}")]
    NotFound(String),
    #[error("{0}")]
    Other(String),
}

pub type RuntimeResult<T> = Result<T, RuntimeError>;

/// The pod a sandbox or container belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// What a sandbox needs: the pod, its hostname and the node that owns it.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub pod: PodRef,
    pub node: String,
    /// 0 for the first sandbox of this pod, then 1, 2... when it had to be recreated.
    pub attempt: u32,
    pub hostname: String,
    /// The pod's `hostPort`s, published by the sandbox (which owns the network namespace).
    pub port_mappings: Vec<PortMapping>,
}

/// A container port published on the host (`ports[].hostPort`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub container_port: u16,
    pub host_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    pub host_ip: String,
}

/// The pod's host ports. kubox publishes them on 127.0.0.1 unless `hostIP` says otherwise
/// (Kubernetes' default is every address; kubox listens on loopback only by default).
pub fn port_mappings(pod: &k8s_openapi::api::core::v1::Pod) -> Vec<PortMapping> {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let host_port = u16::try_from(p.host_port.filter(|h| *h > 0)?).ok()?;
            Some(PortMapping {
                container_port: u16::try_from(p.container_port).ok()?,
                host_port,
                protocol: p.protocol.as_deref().unwrap_or("TCP").to_lowercase(),
                host_ip: p
                    .host_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| "127.0.0.1".into()),
            })
        })
        .collect()
}

/// A volume mount resolved to a host directory (emptyDir lives under the kubelet's pod dir).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host_path: String,
    pub container_path: String,
    pub read_only: bool,
}

/// Everything a container needs, resolved by the kubelet: env values are final strings.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    pub pod: PodRef,
    pub node: String,
    pub sandbox_id: String,
    /// The container as the pod spec states it (image, command, args, workingDir, ports,
    /// resources, securityContext, tty/stdin).
    pub container: Container,
    /// `env` with `valueFrom` resolved, in order.
    pub env: Vec<(String, String)>,
    pub mounts: Vec<Mount>,
    /// Restart count: the `_N` suffix of the name, and the restartCount label.
    pub attempt: u32,
    /// Hash of the container spec, to notice a changed spec (`io.kubernetes.container.hash`).
    pub hash: u64,
    /// Annotations kept on the container (exit-behaviour annotations for the simulator).
    pub pod_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Created,
    Running,
    Exited,
    Unknown,
}

/// One container (or sandbox) as the runtime reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerStatus {
    pub id: String,
    /// The pod spec's container name (`POD` for the sandbox).
    pub name: String,
    pub attempt: u32,
    pub hash: u64,
    /// The image as the spec named it, and the resolved image ID (`sha256:…`).
    pub image: String,
    pub image_id: String,
    pub state: State,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub exit_code: Option<i32>,
    /// `OOMKilled`, `Error`, `Completed` for exited containers.
    pub reason: Option<String>,
    pub message: Option<String>,
}

/// A sandbox as the runtime reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxStatus {
    pub id: String,
    pub attempt: u32,
    /// Running: the pod's network namespace exists.
    pub ready: bool,
    pub ip: Option<String>,
    pub created_at: Timestamp,
}

/// Everything the runtime holds for one pod on one node.
#[derive(Debug, Clone, PartialEq)]
pub struct PodStatus {
    pub pod: PodRef,
    pub sandboxes: Vec<SandboxStatus>,
    pub containers: Vec<ContainerStatus>,
}

impl PodStatus {
    pub fn empty(pod: PodRef) -> Self {
        PodStatus {
            pod,
            sandboxes: Vec::new(),
            containers: Vec::new(),
        }
    }

    /// The newest sandbox.
    pub fn sandbox(&self) -> Option<&SandboxStatus> {
        self.sandboxes
            .iter()
            .max_by_key(|s| (s.attempt, s.created_at))
    }

    /// The newest instance of container `name`.
    pub fn latest(&self, name: &str) -> Option<&ContainerStatus> {
        self.containers
            .iter()
            .filter(|c| c.name == name)
            .max_by_key(|c| (c.attempt, c.created_at))
    }

    /// The instance before the newest (for `kubectl logs --previous` and lastState).
    pub fn previous(&self, name: &str) -> Option<&ContainerStatus> {
        let latest = self.latest(name)?;
        self.containers
            .iter()
            .filter(|c| c.name == name && c.id != latest.id)
            .max_by_key(|c| (c.attempt, c.created_at))
    }
}

/// An image present on the daemon (`node.status.images`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub names: Vec<String>,
    pub size_bytes: i64,
}

/// Progress of a pull, for the TUI's progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullProgress {
    pub image: String,
    pub layers_done: u32,
    pub layers_total: u32,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    pub tail: Option<u64>,
    pub since: Option<Timestamp>,
    pub timestamps: bool,
}

/// Something changed for a pod's containers: the kubelet relists that pod (PLEG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeEvent {
    pub pod_uid: String,
    pub container_id: String,
    /// The daemon's action (`start`, `die`, `oom`, `destroy`...).
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVersion {
    /// `docker` or `kubox-sim`.
    pub name: String,
    pub version: String,
}

impl RuntimeVersion {
    /// `node.status.nodeInfo.containerRuntimeVersion`: `docker://20.10.24`.
    pub fn node_info(&self) -> String {
        format!("{}://{}", self.name, self.version)
    }
}

/// The runtime a kubelet drives, as one cluster's view of it: what it creates carries the
/// cluster's identity and what it lists is only that cluster's. Calls are scoped to one node's
/// objects by `node`.
#[async_trait::async_trait]
pub trait Runtime: Send + Sync + 'static {
    async fn version(&self) -> RuntimeResult<RuntimeVersion>;

    async fn list_images(&self) -> RuntimeResult<Vec<Image>>;

    /// The image's ID when it is present.
    async fn image_present(&self, image: &str) -> RuntimeResult<Option<String>>;

    /// Pulls `image`, reporting progress; returns its ID.
    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> RuntimeResult<String>;

    /// Creates and starts a sandbox; returns its ID.
    async fn run_sandbox(&self, config: &SandboxConfig) -> RuntimeResult<String>;

    async fn stop_sandbox(&self, id: &str) -> RuntimeResult<()>;

    async fn remove_sandbox(&self, id: &str) -> RuntimeResult<()>;

    async fn create_container(&self, config: &ContainerConfig) -> RuntimeResult<String>;

    async fn start_container(&self, id: &str) -> RuntimeResult<()>;

    /// SIGTERM, then SIGKILL after `grace`.
    async fn stop_container(&self, id: &str, grace: Duration) -> RuntimeResult<()>;

    async fn remove_container(&self, id: &str) -> RuntimeResult<()>;

    /// SIGKILL at once, as `docker kill` does: no grace, no preStop (a crash from outside,
    /// which the kubelet then notices through its events and handles per the restart policy).
    async fn kill_container(&self, id: &str) -> RuntimeResult<()>;

    /// Every pod with sandboxes or containers labelled for `node`.
    async fn list_pods(&self, node: &str) -> RuntimeResult<Vec<PodStatus>>;

    /// One pod's sandboxes and containers on `node`.
    async fn pod_status(&self, node: &str, pod: &PodRef) -> RuntimeResult<PodStatus>;

    /// The container's output; ends at the container's end when following.
    async fn logs(
        &self,
        id: &str,
        options: &LogOptions,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<bytes::Bytes>>>;

    /// How a simulated container answers any probe (healthy or not). `None` for a real
    /// runtime, whose probes go through `exec` or over the pod's network.
    async fn simulated_health(&self, _container_id: &str) -> Option<bool> {
        None
    }

    /// Runs a command in a running container (`kubectl exec`, exec probes, exec hooks).
    async fn exec(&self, id: &str, request: &exec::ExecRequest)
    -> RuntimeResult<exec::ExecSession>;

    /// Lifecycle events of `node`'s containers, as they happen.
    async fn events(&self, node: &str) -> RuntimeResult<BoxStream<'static, RuntimeEvent>>;
}

/// The container name as Kubernetes gave it on Docker:
/// `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`.
pub fn docker_name(container: &str, pod: &PodRef, attempt: u32) -> String {
    format!(
        "k8s_{container}_{}_{}_{}_{attempt}",
        pod.name, pod.namespace, pod.uid
    )
}

/// The labels of a sandbox of cluster `cluster`.
pub fn sandbox_labels(cluster: &str, config: &SandboxConfig) -> BTreeMap<String, String> {
    let mut labels = pod_labels(cluster, &config.pod, &config.node);
    labels.insert(LABEL_DOCKER_TYPE.into(), "podsandbox".into());
    labels.insert(LABEL_CONTAINER_NAME.into(), SANDBOX_CONTAINER_NAME.into());
    labels.insert(LABEL_SANDBOX_ATTEMPT.into(), config.attempt.to_string());
    labels
}

/// The labels of an app container of cluster `cluster`.
pub fn container_labels(cluster: &str, config: &ContainerConfig) -> BTreeMap<String, String> {
    let mut labels = pod_labels(cluster, &config.pod, &config.node);
    labels.insert(LABEL_DOCKER_TYPE.into(), "container".into());
    labels.insert(LABEL_CONTAINER_NAME.into(), config.container.name.clone());
    labels.insert(LABEL_SANDBOX_ID.into(), config.sandbox_id.clone());
    labels.insert(LABEL_CONTAINER_HASH.into(), format!("{:x}", config.hash));
    labels.insert(LABEL_RESTART_COUNT.into(), config.attempt.to_string());
    labels
}

/// The label filters (`key=value`) that select what `cluster`'s kubelet for `node` owns.
pub fn owner_filters(cluster: &str, node: &str) -> Vec<String> {
    vec![
        format!("{LABEL_CLUSTER}={cluster}"),
        format!("{LABEL_NODE}={node}"),
    ]
}

fn pod_labels(cluster: &str, pod: &PodRef, node: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_CLUSTER.to_string(), cluster.to_string()),
        (LABEL_POD_NAME.to_string(), pod.name.clone()),
        (LABEL_POD_NAMESPACE.to_string(), pod.namespace.clone()),
        (LABEL_POD_UID.to_string(), pod.uid.clone()),
        (LABEL_NODE.to_string(), node.to_string()),
    ])
}
