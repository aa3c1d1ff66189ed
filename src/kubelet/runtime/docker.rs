//! The real container runtime: the local Docker daemon through bollard, laid out the way the
//! kubelet's dockershim laid pods out on Docker.
//!
//! - **Connection.** [`DockerRuntime::connect`] reads `DOCKER_HOST` (else the default socket),
//!   pings the daemon with a 2-second limit and negotiates the API version down to the daemon's
//!   (Debian's Docker 20.10 speaks API 1.41). A daemon that does not answer is
//!   [`RuntimeError::Unavailable`]; so is any later call that cannot reach it.
//! - **Sandbox.** One container per pod holds the pod's network namespace: named
//!   `k8s_POD_<pod>_<namespace>_<uid>_<attempt>`, labelled with [`sandbox_labels`], on the
//!   default bridge network, IPC namespace `shareable`. Its bridge address is the pod IP. Its
//!   image, `kubox/pause:1`, is built on the daemon the first time a sandbox needs it, with no
//!   registry: a hand-assembled static ELF of about 300 bytes (x86-64 or aarch64, see
//!   `docker/pause.rs`) that waits for signals and exits 0 on SIGTERM or SIGINT, packed in a tar
//!   built in memory (`docker/tarball.rs`) and imported through the daemon's image import
//!   (`POST /images/create?fromSrc=-`, what `docker import` does) with `ENTRYPOINT ["/pause"]`.
//!   Import rather than `docker load` keeps the tar to one file: no image config or layer
//!   digests to compute.
//! - **Containers.** Named by [`docker_name`], labelled with [`container_labels`], joined to
//!   the sandbox's network and IPC namespaces (`container:<sandbox id>`), so a pod's containers
//!   reach each other on `localhost`. `command` becomes the entrypoint and `args` the cmd, which
//!   gives Kubernetes' rule (command replaces ENTRYPOINT and drops the image's CMD; args alone
//!   keep the image's ENTRYPOINT). CPU request → `CpuShares` (Kubernetes' `milliCPUToShares`,
//!   2 when there is no request), CPU limit → `CpuQuota` over a 100 ms `CpuPeriod`, memory
//!   limit → `Memory` with as much `MemorySwap` (no swap, as the kubelet runs pods).
//! - **Ownership.** A `DockerRuntime` is one cluster's view of the daemon: it carries the
//!   cluster's id and puts it on everything it creates (`io.kubox.cluster=<id>`, next to
//!   `io.kubox.node=<node>`). Two kubox data dirs with the same node names on one daemon, or
//!   anyone's container that copies kubox's labels, never see each other's containers; a stop
//!   or a removal of a container without this cluster's label is refused as not found.
//! - **Status.** Only containers labelled `io.kubox.cluster=<id>` and `io.kubox.node=<node>`
//!   are ever listed (a label filter on the daemon's side), then inspected and mapped as dockershim did: exited with a
//!   finish time → `OOMKilled`, `Completed` (exit 0) or `Error`; never started but an exit code
//!   → `ContainerCannotRun` with the daemon's error as message.
//! - **Events.** The daemon's container events, filtered by the same labels, from the moment of
//!   the call (`since` = now, so nothing between the call and the first poll is lost). The
//!   stream ends when the daemon goes away; the kubelet then relists.
//!
//! This module owns the translation to Docker's API. It never decides what should run (the
//! kubelet does, including refusing what kubox does not allow) and never touches a container
//! without its cluster's label.

mod exec;
mod image_ref;
mod pause;
mod pull;
pub mod tarball;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, EventMessage,
    HostConfig,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, EventsOptionsBuilder,
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, ListImagesOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Container, ResourceRequirements};
use k8s_openapi::jiff::Timestamp;

use super::{
    ContainerConfig, ContainerStatus, Image, LABEL_CLUSTER, LABEL_CONTAINER_HASH,
    LABEL_CONTAINER_NAME, LABEL_DOCKER_TYPE, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID,
    LABEL_RESTART_COUNT, LABEL_SANDBOX_ATTEMPT, LogOptions, PodRef, PodStatus, PullProgress,
    Runtime, RuntimeError, RuntimeEvent, RuntimeResult, RuntimeVersion, SANDBOX_CONTAINER_NAME,
    SandboxConfig, SandboxStatus, State, container_labels, docker_name, owner_filters,
    sandbox_labels,
};
use crate::api::quantity::Quantity;
use pull::PullTracker;
use tarball::Tarball;

/// The sandbox image, built locally when missing. Bump the tag when the pause bytes change.
pub const PAUSE_IMAGE: &str = "kubox/pause:1";
/// How long [`DockerRuntime::connect`] waits for the daemon's answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The pause process exits on SIGTERM at once; this only bounds a daemon that is slow.
const SANDBOX_STOP_SECONDS: i32 = 2;
/// Docker's zero time, for a container that never started or never finished.
const DOCKER_ZERO_TIME: &str = "0001-01-01T00:00:00Z";
/// Concurrent inspects while listing.
const INSPECT_CONCURRENCY: usize = 8;
/// CFS period the CPU limit is expressed over (Kubernetes' `quotaPeriod`, 100 ms).
const CPU_PERIOD_US: i64 = 100_000;
/// The container events the kubelet's relist cares about (not exec or health noise).
const EVENT_ACTIONS: [&str; 9] = [
    "create", "start", "restart", "die", "oom", "stop", "destroy", "pause", "unpause",
];

/// One import of the pause image at a time in this process.
static PAUSE_IMPORT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// [`Runtime`] on a Docker daemon, for one cluster.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    docker: Docker,
    /// The cluster's id: the value of `io.kubox.cluster` on what this runtime creates and lists.
    cluster: String,
    /// The pause image was there at the last sandbox: the next one does not ask the daemon
    /// again (a round trip on every pod's way to Running). Cleared when a sandbox cannot be
    /// created, so an image removed by hand is imported again on the retry.
    pause_present: Arc<AtomicBool>,
}

impl DockerRuntime {
    /// Connects to `DOCKER_HOST`, else the default local socket, for cluster `cluster`.
    pub async fn connect(cluster: &str) -> RuntimeResult<Self> {
        let docker = Docker::connect_with_defaults().map_err(|e| unreachable(&e))?;
        Self::handshake(docker, cluster).await
    }

    /// Connects to `host` (`unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375`) for cluster
    /// `cluster`.
    pub async fn connect_to(host: &str, cluster: &str) -> RuntimeResult<Self> {
        let docker = Docker::connect_with_host(host).map_err(|e| unreachable(&e))?;
        Self::handshake(docker, cluster).await
    }

    /// The same daemon connection as another cluster's view of it.
    pub fn for_cluster(&self, cluster: &str) -> Self {
        DockerRuntime {
            docker: self.docker.clone(),
            cluster: cluster.to_string(),
            pause_present: self.pause_present.clone(),
        }
    }

    /// The id of the cluster whose containers this runtime creates and lists.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Whether container `id` carries this cluster's label; a missing container is `NotFound`.
    /// A stop or removal of anything else is refused: ids come from this cluster's lists, so
    /// only a mistake could name another's container, and it must not act on one.
    async fn ensure_owned(&self, id: &str) -> RuntimeResult<()> {
        let container = self
            .docker
            .inspect_container(id, None)
            .await
            .map_err(|e| container_error(&e, id))?;
        if label(&container, LABEL_CLUSTER) == Some(self.cluster.as_str()) {
            Ok(())
        } else {
            Err(RuntimeError::NotFound(id.to_string()))
        }
    }

    async fn handshake(docker: Docker, cluster: &str) -> RuntimeResult<Self> {
        let answer = tokio::time::timeout(CONNECT_TIMEOUT, async move {
            docker.ping().await?;
            docker.negotiate_version().await
        })
        .await;
        match answer {
            Ok(Ok(docker)) => Ok(DockerRuntime {
                docker,
                cluster: cluster.to_string(),
                pause_present: Arc::default(),
            }),
            Ok(Err(e)) => Err(unreachable(&e)),
            Err(_) => Err(RuntimeError::Unavailable(format!(
                "the Docker daemon did not answer within {}s",
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// The bollard client, for what the trait does not cover.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// Imports `rootfs` (a tar of a root filesystem) as image `reference`, applying Dockerfile
    /// `changes` (`ENTRYPOINT ["/pause"]`); returns the image ID. What `docker import` does.
    pub async fn import_image(
        &self,
        reference: &str,
        rootfs: Vec<u8>,
        changes: &[&str],
    ) -> RuntimeResult<String> {
        let parsed = image_ref::parse(reference).map_err(RuntimeError::InvalidImageName)?;
        let tag = parsed.tag.unwrap_or_else(|| "latest".into());
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(&parsed.repository)
            .tag(&tag)
            .changes(changes.iter().map(|c| c.to_string()).collect())
            .build();
        let body = bollard::body_full(bytes::Bytes::from(rootfs));
        let mut stream = self.docker.create_image(Some(options), Some(body), None);
        while let Some(message) = stream.next().await {
            message.map_err(|e| other(&e))?;
        }
        self.image_present(reference)
            .await?
            .ok_or_else(|| RuntimeError::Other(format!("image {reference} missing after import")))
    }

    /// The pause image's ID, building it first when the daemon does not have it.
    pub async fn ensure_pause_image(&self) -> RuntimeResult<String> {
        if let Some(id) = self.image_present(PAUSE_IMAGE).await? {
            return Ok(id);
        }
        let _one_at_a_time = PAUSE_IMPORT.lock().await;
        if let Some(id) = self.image_present(PAUSE_IMAGE).await? {
            return Ok(id);
        }
        let version = self.docker.version().await.map_err(|e| other(&e))?;
        let arch = match version.arch.as_deref() {
            Some("amd64") => "x86_64",
            Some("arm64") => "aarch64",
            arch => arch.unwrap_or("unknown"),
        };
        let pause = pause::executable(arch).ok_or_else(|| {
            RuntimeError::Other(format!(
                "kubox has no pause executable for a {arch} daemon; provide the image \
                 {PAUSE_IMAGE} yourself"
            ))
        })?;
        let mut tar = Tarball::new();
        tar.file("pause", 0o755, &pause);
        self.import_image(PAUSE_IMAGE, tar.finish(), &[r#"ENTRYPOINT ["/pause"]"#])
            .await
    }

    /// Creates a container by name; every refusal of the daemon is a `Create` error.
    async fn create(&self, name: &str, body: ContainerCreateBody) -> RuntimeResult<String> {
        let options = CreateContainerOptionsBuilder::default().name(name).build();
        match self.docker.create_container(Some(options), body).await {
            Ok(created) => Ok(created.id),
            Err(e) if is_unreachable(&e) => Err(unreachable(&e)),
            Err(e) => Err(RuntimeError::Create(daemon_message(&e))),
        }
    }

    /// Inspects every container carrying all `labels` (`key=value`).
    async fn inspect_labelled(
        &self,
        labels: Vec<String>,
    ) -> RuntimeResult<Vec<ContainerInspectResponse>> {
        let filters = HashMap::from([("label", labels)]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| other(&e))?;
        let ids: Vec<String> = summaries.into_iter().filter_map(|s| s.id).collect();
        let inspected: Vec<Option<ContainerInspectResponse>> = futures::stream::iter(ids)
            .map(|id| async move {
                match self.docker.inspect_container(&id, None).await {
                    Ok(c) => Ok(Some(c)),
                    // Removed between the list and the inspect.
                    Err(e) if status_code(&e) == Some(404) => Ok(None),
                    Err(e) => Err(other(&e)),
                }
            })
            .buffered(INSPECT_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(inspected.into_iter().flatten().collect())
    }
}

#[async_trait::async_trait]
impl Runtime for DockerRuntime {
    async fn version(&self) -> RuntimeResult<RuntimeVersion> {
        let version = self.docker.version().await.map_err(|e| other(&e))?;
        Ok(RuntimeVersion {
            name: "docker".into(),
            version: version.version.unwrap_or_default(),
        })
    }

    async fn list_images(&self) -> RuntimeResult<Vec<Image>> {
        let options = ListImagesOptionsBuilder::default().build();
        let images = self
            .docker
            .list_images(Some(options))
            .await
            .map_err(|e| other(&e))?;
        Ok(images
            .into_iter()
            .map(|image| Image {
                id: image.id,
                names: image
                    .repo_tags
                    .into_iter()
                    .chain(image.repo_digests)
                    .filter(|name| name != "<none>:<none>" && name != "<none>@<none>")
                    .collect(),
                size_bytes: image.size,
            })
            .collect())
    }

    async fn image_present(&self, image: &str) -> RuntimeResult<Option<String>> {
        image_ref::parse(image).map_err(RuntimeError::InvalidImageName)?;
        match self.docker.inspect_image(image).await {
            Ok(inspect) => Ok(inspect.id),
            Err(e) if status_code(&e) == Some(404) => Ok(None),
            Err(e) => Err(other(&e)),
        }
    }

    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> RuntimeResult<String> {
        let reference = image_ref::parse(image).map_err(RuntimeError::InvalidImageName)?;
        let (from_image, tag) = reference.pull_args();
        let mut options = CreateImageOptionsBuilder::default().from_image(&from_image);
        if !tag.is_empty() {
            options = options.tag(&tag);
        }
        let mut stream = self.docker.create_image(Some(options.build()), None, None);
        let mut tracker = PullTracker::new(image);
        while let Some(message) = stream.next().await {
            let info = message.map_err(|e| pull_error(&e))?;
            let (current, total) = info
                .progress_detail
                .map_or((None, None), |p| (p.current, p.total));
            if tracker.update(info.id.as_deref(), info.status.as_deref(), current, total) {
                progress(tracker.progress());
            }
        }
        self.image_present(image)
            .await?
            .ok_or_else(|| RuntimeError::Pull(format!("image {image} missing after its pull")))
    }

    async fn run_sandbox(&self, config: &SandboxConfig) -> RuntimeResult<String> {
        if !self.pause_present.load(Ordering::Relaxed) {
            self.ensure_pause_image().await?;
            self.pause_present.store(true, Ordering::Relaxed);
        }
        let name = docker_name(SANDBOX_CONTAINER_NAME, &config.pod, config.attempt);
        let body = ContainerCreateBody {
            image: Some(PAUSE_IMAGE.into()),
            hostname: (!config.hostname.is_empty()).then(|| config.hostname.clone()),
            labels: Some(sandbox_labels(&self.cluster, config).into_iter().collect()),
            exposed_ports: (!config.port_mappings.is_empty()).then(|| {
                config
                    .port_mappings
                    .iter()
                    .map(|m| format!("{}/{}", m.container_port, m.protocol))
                    .collect()
            }),
            host_config: Some(HostConfig {
                network_mode: Some("bridge".into()),
                // Joinable by the pod's containers (the daemon's default is `private`).
                ipc_mode: Some("shareable".into()),
                port_bindings: (!config.port_mappings.is_empty()).then(|| {
                    let mut map: bollard::models::PortMap = HashMap::new();
                    for m in &config.port_mappings {
                        map.entry(format!("{}/{}", m.container_port, m.protocol))
                            .or_insert_with(|| Some(Vec::new()))
                            .get_or_insert_with(Vec::new)
                            .push(bollard::models::PortBinding {
                                host_ip: Some(m.host_ip.clone()),
                                host_port: Some(m.host_port.to_string()),
                            });
                    }
                    map
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let id = self.create(&name, body).await.inspect_err(|_| {
            self.pause_present.store(false, Ordering::Relaxed);
        })?;
        if let Err(e) = self.docker.start_container(&id, None).await {
            // A sandbox that cannot run holds nothing: do not leave it behind.
            let _ = self.remove_container(&id).await;
            return Err(start_error(&e, &id));
        }
        Ok(id)
    }

    async fn stop_sandbox(&self, id: &str) -> RuntimeResult<()> {
        self.ensure_owned(id).await?;
        let options = StopContainerOptionsBuilder::default()
            .t(SANDBOX_STOP_SECONDS)
            .build();
        self.docker
            .stop_container(id, Some(options))
            .await
            .map_err(|e| container_error(&e, id))
    }

    async fn remove_sandbox(&self, id: &str) -> RuntimeResult<()> {
        self.remove_container(id).await
    }

    async fn create_container(&self, config: &ContainerConfig) -> RuntimeResult<String> {
        let body = container_body(&self.cluster, config).map_err(RuntimeError::Create)?;
        let name = docker_name(&config.container.name, &config.pod, config.attempt);
        self.create(&name, body).await
    }

    async fn start_container(&self, id: &str) -> RuntimeResult<()> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| start_error(&e, id))
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> RuntimeResult<()> {
        self.ensure_owned(id).await?;
        // The daemon answers when the container is gone: wait for the grace period and more.
        let seconds = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
        let t = i32::try_from(seconds).unwrap_or(i32::MAX);
        let client = self
            .docker
            .clone()
            .with_timeout(Duration::from_secs(seconds.saturating_add(60)));
        let options = StopContainerOptionsBuilder::default().t(t).build();
        client
            .stop_container(id, Some(options))
            .await
            .map_err(|e| container_error(&e, id))
    }

    async fn kill_container(&self, id: &str) -> RuntimeResult<()> {
        let options = KillContainerOptionsBuilder::default()
            .signal("SIGKILL")
            .build();
        self.docker
            .kill_container(id, Some(options))
            .await
            .map_err(|e| container_error(&e, id))
    }

    async fn remove_container(&self, id: &str) -> RuntimeResult<()> {
        self.ensure_owned(id).await?;
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        self.docker
            .remove_container(id, Some(options))
            .await
            .map_err(|e| container_error(&e, id))
    }

    async fn list_pods(&self, node: &str) -> RuntimeResult<Vec<PodStatus>> {
        let inspected = self
            .inspect_labelled(owner_filters(&self.cluster, node))
            .await?;
        let mut pods: BTreeMap<(String, String, String), PodStatus> = BTreeMap::new();
        for container in inspected {
            let Some(pod) = pod_of(&container) else {
                continue;
            };
            let key = (pod.namespace.clone(), pod.name.clone(), pod.uid.clone());
            let status = pods.entry(key).or_insert_with(|| PodStatus::empty(pod));
            add_to_pod(status, &container);
        }
        Ok(pods.into_values().map(sorted).collect())
    }

    async fn pod_status(&self, node: &str, pod: &PodRef) -> RuntimeResult<PodStatus> {
        let inspected = self
            .inspect_labelled(
                owner_filters(&self.cluster, node)
                    .into_iter()
                    .chain([format!("{LABEL_POD_UID}={}", pod.uid)])
                    .collect(),
            )
            .await?;
        let mut status = PodStatus::empty(pod.clone());
        for container in &inspected {
            add_to_pod(&mut status, container);
        }
        Ok(sorted(status))
    }

    async fn logs(
        &self,
        id: &str,
        options: &LogOptions,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<bytes::Bytes>>> {
        // The stream reports a missing container only when polled: ask first.
        self.docker
            .inspect_container(id, None)
            .await
            .map_err(|e| container_error(&e, id))?;
        let tail = options.tail.map_or_else(|| "all".into(), |n| n.to_string());
        let mut builder = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(options.follow)
            .timestamps(options.timestamps)
            .tail(&tail);
        if let Some(since) = options.since {
            // Whole seconds: 0 would mean "no limit" to the daemon.
            let seconds = since.as_second().clamp(1, i64::from(i32::MAX));
            builder = builder.since(seconds as i32);
        }
        let stream = self
            .docker
            .logs(id, Some(builder.build()))
            .map(|frame| frame.map(|f| f.into_bytes()).map_err(|e| other(&e)));
        Ok(stream.boxed())
    }

    async fn exec(
        &self,
        id: &str,
        request: &super::exec::ExecRequest,
    ) -> RuntimeResult<super::exec::ExecSession> {
        exec::exec(&self.docker, id, request).await
    }

    async fn events(&self, node: &str) -> RuntimeResult<BoxStream<'static, RuntimeEvent>> {
        let now = Timestamp::now();
        let since = format!("{}.{:09}", now.as_second(), now.subsec_nanosecond());
        let filters = HashMap::from([
            ("type", vec!["container".to_string()]),
            ("label", owner_filters(&self.cluster, node)),
            (
                "event",
                EVENT_ACTIONS.iter().map(|a| a.to_string()).collect(),
            ),
        ]);
        let options = EventsOptionsBuilder::default()
            .since(&since)
            .filters(&filters)
            .build();
        // Fail now, not on the first poll, when the daemon is gone.
        self.docker.ping().await.map_err(|e| other(&e))?;
        let stream = self
            .docker
            .events(Some(options))
            .take_while(|message| futures::future::ready(message.is_ok()))
            .filter_map(|message| futures::future::ready(message.ok().and_then(runtime_event)));
        Ok(stream.boxed())
    }
}

/// The create body of an app container.
fn container_body(cluster: &str, config: &ContainerConfig) -> Result<ContainerCreateBody, String> {
    let c = &config.container;
    let sandbox = &config.sandbox_id;
    let mut host = HostConfig {
        network_mode: Some(format!("container:{sandbox}")),
        ipc_mode: Some(format!("container:{sandbox}")),
        binds: (!config.mounts.is_empty()).then(|| {
            config
                .mounts
                .iter()
                .map(|m| {
                    let mode = if m.read_only { ":ro" } else { "" };
                    format!("{}:{}{mode}", m.host_path, m.container_path)
                })
                .collect()
        }),
        ..Default::default()
    };
    apply_resources(&mut host, c.resources.as_ref())?;
    let mut body = ContainerCreateBody {
        image: Some(c.image.clone().unwrap_or_default()),
        entrypoint: c.command.clone().filter(|v| !v.is_empty()),
        cmd: c.args.clone().filter(|v| !v.is_empty()),
        env: Some(config.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
        tty: c.tty,
        open_stdin: c.stdin,
        stdin_once: c.stdin_once,
        labels: Some(container_labels(cluster, config).into_iter().collect()),
        ..Default::default()
    };
    apply_security(&mut body, &mut host, c)?;
    body.host_config = Some(host);
    Ok(body)
}

/// Requests and limits as the kubelet gave them to Docker.
fn apply_resources(
    host: &mut HostConfig,
    resources: Option<&ResourceRequirements>,
) -> Result<(), String> {
    let get =
        |list: Option<&BTreeMap<String, _>>, name: &str| -> Result<Option<Quantity>, String> {
            list.and_then(|l| l.get(name))
                .map(|q| Quantity::from_k8s(q).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
    let requests = resources.and_then(|r| r.requests.as_ref());
    let limits = resources.and_then(|r| r.limits.as_ref());
    let cpu_request = get(requests, "cpu")?.map_or(0, |q| clamp_i64(q.milli_value()));
    host.cpu_shares = Some(milli_cpu_to_shares(cpu_request));
    if let Some(cpu_limit) = get(limits, "cpu")? {
        host.cpu_period = Some(CPU_PERIOD_US);
        host.cpu_quota = Some(milli_cpu_to_quota(clamp_i64(cpu_limit.milli_value())));
    }
    if let Some(memory) = get(limits, "memory")? {
        let bytes = clamp_i64(memory.value());
        host.memory = Some(bytes);
        host.memory_swap = Some(bytes);
    }
    Ok(())
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(0, i128::from(i64::MAX)) as i64
}

/// Kubernetes' `milliCPUToShares`: 1024 shares per CPU, at least 2, at most 262144.
pub fn milli_cpu_to_shares(milli: i64) -> i64 {
    const MIN_SHARES: i64 = 2;
    const MAX_SHARES: i64 = 262_144;
    if milli == 0 {
        return MIN_SHARES;
    }
    (milli.saturating_mul(1024) / 1000).clamp(MIN_SHARES, MAX_SHARES)
}

/// Kubernetes' `milliCPUToQuota` over a 100 ms period: at least 1 ms of CPU per period.
pub fn milli_cpu_to_quota(milli: i64) -> i64 {
    const MIN_QUOTA_US: i64 = 1000;
    if milli == 0 {
        return 0;
    }
    (milli.saturating_mul(CPU_PERIOD_US) / 1000).max(MIN_QUOTA_US)
}

/// The container's securityContext as dockershim applied it (refusals are the kubelet's).
fn apply_security(
    body: &mut ContainerCreateBody,
    host: &mut HostConfig,
    c: &Container,
) -> Result<(), String> {
    let Some(sc) = &c.security_context else {
        return Ok(());
    };
    if let Some(uid) = sc.run_as_user {
        body.user = Some(uid.to_string());
    }
    if let Some(gid) = sc.run_as_group {
        let user = body
            .user
            .as_ref()
            .ok_or("runAsGroup is specified without a runAsUser")?;
        body.user = Some(format!("{user}:{gid}"));
    }
    host.privileged = sc.privileged;
    host.readonly_rootfs = sc.read_only_root_filesystem;
    if let Some(caps) = &sc.capabilities {
        host.cap_add = caps.add.clone();
        host.cap_drop = caps.drop.clone();
    }
    if sc.allow_privilege_escalation == Some(false) {
        host.security_opt = Some(vec!["no-new-privileges".into()]);
    }
    Ok(())
}

fn label<'a>(container: &'a ContainerInspectResponse, key: &str) -> Option<&'a str> {
    container
        .config
        .as_ref()?
        .labels
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

fn pod_of(container: &ContainerInspectResponse) -> Option<PodRef> {
    Some(PodRef {
        namespace: label(container, LABEL_POD_NAMESPACE)?.to_string(),
        name: label(container, LABEL_POD_NAME)?.to_string(),
        uid: label(container, LABEL_POD_UID)?.to_string(),
    })
}

fn add_to_pod(pod: &mut PodStatus, container: &ContainerInspectResponse) {
    if label(container, LABEL_DOCKER_TYPE) == Some("podsandbox") {
        pod.sandboxes.push(sandbox_status(container));
    } else {
        pod.containers.push(container_status(container));
    }
}

fn sorted(mut pod: PodStatus) -> PodStatus {
    pod.sandboxes.sort_by_key(|s| (s.created_at, s.attempt));
    pod.containers
        .sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
    pod
}

/// A Docker time; `None` for Docker's zero time or an unreadable one.
fn docker_time(s: Option<&str>) -> Option<Timestamp> {
    let s = s?;
    if s.is_empty() || s == DOCKER_ZERO_TIME || s.starts_with("0001-01-01") {
        return None;
    }
    s.parse().ok()
}

fn created_at(container: &ContainerInspectResponse) -> Timestamp {
    docker_time(container.created.as_deref()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Maps an inspected sandbox.
pub fn sandbox_status(container: &ContainerInspectResponse) -> SandboxStatus {
    let running = container
        .state
        .as_ref()
        .and_then(|s| s.running)
        .unwrap_or(false);
    let networks = container
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref());
    let ip = networks.and_then(|networks| {
        let address = |name: &str| {
            networks
                .get(name)
                .and_then(|e| e.ip_address.clone())
                .filter(|ip| !ip.is_empty())
        };
        address("bridge").or_else(|| {
            let mut names: Vec<&String> = networks.keys().collect();
            names.sort();
            names.into_iter().find_map(|n| address(n))
        })
    });
    SandboxStatus {
        id: container.id.clone().unwrap_or_default(),
        attempt: label(container, LABEL_SANDBOX_ATTEMPT)
            .and_then(|a| a.parse().ok())
            .unwrap_or(0),
        ready: running,
        ip,
        created_at: created_at(container),
    }
}

/// Maps an inspected container the way dockershim's `ContainerStatus` did.
pub fn container_status(container: &ContainerInspectResponse) -> ContainerStatus {
    let state = container.state.clone().unwrap_or_default();
    let created = created_at(container);
    let mut started_at = docker_time(state.started_at.as_deref());
    let mut finished_at = docker_time(state.finished_at.as_deref());
    let exit_code = state.exit_code.map(|c| c as i32).unwrap_or(0);
    let error = state.error.clone().filter(|e| !e.is_empty());
    let running = state.running.unwrap_or(false)
        || matches!(
            state.status,
            Some(ContainerStateStatusEnum::RUNNING)
                | Some(ContainerStateStatusEnum::PAUSED)
                | Some(ContainerStateStatusEnum::RESTARTING)
        );
    let (phase, reason, message) = if running {
        (State::Running, None, None)
    } else if finished_at.is_some() {
        let reason = if state.oom_killed.unwrap_or(false) {
            "OOMKilled"
        } else if exit_code == 0 {
            "Completed"
        } else {
            "Error"
        };
        (State::Exited, Some(reason.to_string()), error)
    } else if exit_code != 0 {
        // The daemon could not start it: no finish time, an exit code and an error.
        started_at = Some(created);
        finished_at = Some(created);
        (State::Exited, Some("ContainerCannotRun".to_string()), error)
    } else if state.status.is_none() && state.started_at.is_none() {
        (State::Unknown, None, None)
    } else {
        (State::Created, None, None)
    };
    ContainerStatus {
        id: container.id.clone().unwrap_or_default(),
        name: label(container, LABEL_CONTAINER_NAME)
            .unwrap_or_default()
            .to_string(),
        attempt: label(container, LABEL_RESTART_COUNT)
            .and_then(|a| a.parse().ok())
            .unwrap_or(0),
        hash: label(container, LABEL_CONTAINER_HASH)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .unwrap_or(0),
        image: container
            .config
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        image_id: container.image.clone().unwrap_or_default(),
        state: phase,
        created_at: created,
        started_at,
        finished_at,
        exit_code: (phase == State::Exited).then_some(exit_code),
        reason,
        message,
    }
}

/// A daemon event as the kubelet's relist wants it; `None` for one without a pod.
fn runtime_event(message: EventMessage) -> Option<RuntimeEvent> {
    let actor = message.actor?;
    let pod_uid = actor.attributes.as_ref()?.get(LABEL_POD_UID)?.clone();
    Some(RuntimeEvent {
        pod_uid,
        container_id: actor.id?,
        action: message.action?,
    })
}

/// True when the error says the daemon cannot be reached (as opposed to a refusal).
fn is_unreachable(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::HyperLegacyError { .. }
            | DockerError::HyperResponseError { .. }
            | DockerError::IOError { .. }
            | DockerError::RequestTimeoutError
            | DockerError::SocketNotFoundError(_)
            | DockerError::UnsupportedURISchemeError { .. }
    )
}

fn unreachable(e: &DockerError) -> RuntimeError {
    RuntimeError::Unavailable(format!("cannot reach the Docker daemon: {e}"))
}

fn status_code(e: &DockerError) -> Option<u16> {
    match e {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// The daemon's own words, without bollard's framing.
fn daemon_message(e: &DockerError) -> String {
    match e {
        DockerError::DockerResponseServerError { message, .. } => message.clone(),
        DockerError::DockerStreamError { error } => error.clone(),
        e => e.to_string(),
    }
}

fn other(e: &DockerError) -> RuntimeError {
    if is_unreachable(e) {
        unreachable(e)
    } else {
        RuntimeError::Other(daemon_message(e))
    }
}

fn container_error(e: &DockerError, id: &str) -> RuntimeError {
    if status_code(e) == Some(404) {
        RuntimeError::NotFound(id.to_string())
    } else {
        other(e)
    }
}

fn start_error(e: &DockerError, id: &str) -> RuntimeError {
    match status_code(e) {
        Some(404) if daemon_message(e).contains(id) => RuntimeError::NotFound(id.to_string()),
        Some(_) => RuntimeError::Start(daemon_message(e)),
        None => other(e),
    }
}

fn pull_error(e: &DockerError) -> RuntimeError {
    if is_unreachable(e) {
        unreachable(e)
    } else {
        RuntimeError::Pull(daemon_message(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig as DockerConfig, ContainerState};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

    #[test]
    fn cpu_shares_and_quota_as_kubernetes() {
        assert_eq!(milli_cpu_to_shares(0), 2);
        assert_eq!(milli_cpu_to_shares(1), 2);
        assert_eq!(milli_cpu_to_shares(100), 102);
        assert_eq!(milli_cpu_to_shares(1000), 1024);
        assert_eq!(milli_cpu_to_shares(1_000_000), 262_144);
        assert_eq!(milli_cpu_to_quota(0), 0);
        assert_eq!(milli_cpu_to_quota(5), 1000);
        assert_eq!(milli_cpu_to_quota(250), 25_000);
        assert_eq!(milli_cpu_to_quota(2000), 200_000);
    }

    fn config(container: Container) -> ContainerConfig {
        ContainerConfig {
            pod: PodRef {
                namespace: "default".into(),
                name: "web".into(),
                uid: "u1".into(),
            },
            node: "node-1".into(),
            sandbox_id: "sb".into(),
            container,
            env: vec![("A".into(), "1".into())],
            mounts: vec![super::super::Mount {
                host_path: "/var/lib/kubox/pods/u1/volumes/data".into(),
                container_path: "/data".into(),
                read_only: true,
            }],
            attempt: 2,
            hash: 0xabc,
            pod_annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn container_body_follows_the_pod_spec() {
        let quantity = |s: &str| K8sQuantity(s.into());
        let container = Container {
            name: "app".into(),
            image: Some("busybox:1.36".into()),
            command: Some(vec!["sh".into(), "-c".into()]),
            args: Some(vec!["sleep 1".into()]),
            working_dir: Some("/work".into()),
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([("cpu".into(), quantity("250m"))])),
                limits: Some(BTreeMap::from([
                    ("cpu".into(), quantity("500m")),
                    ("memory".into(), quantity("64Mi")),
                ])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let body = container_body("cluster-1", &config(container)).unwrap();
        assert_eq!(body.image.as_deref(), Some("busybox:1.36"));
        assert_eq!(body.entrypoint, Some(vec!["sh".into(), "-c".into()]));
        assert_eq!(body.cmd, Some(vec!["sleep 1".into()]));
        assert_eq!(body.env, Some(vec!["A=1".into()]));
        assert_eq!(body.working_dir.as_deref(), Some("/work"));
        let labels = body.labels.unwrap();
        assert_eq!(labels[LABEL_CONTAINER_HASH], "abc");
        assert_eq!(labels[LABEL_RESTART_COUNT], "2");
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("container:sb"));
        assert_eq!(host.ipc_mode.as_deref(), Some("container:sb"));
        assert_eq!(
            host.binds,
            Some(vec!["/var/lib/kubox/pods/u1/volumes/data:/data:ro".into()])
        );
        assert_eq!(host.cpu_shares, Some(256));
        assert_eq!(
            (host.cpu_period, host.cpu_quota),
            (Some(100_000), Some(50_000))
        );
        assert_eq!(host.memory, Some(64 << 20));
        assert_eq!(host.memory_swap, Some(64 << 20));
    }

    #[test]
    fn args_alone_keep_the_image_entrypoint() {
        let container = Container {
            name: "app".into(),
            image: Some("busybox".into()),
            command: Some(vec![]),
            args: Some(vec!["echo".into(), "hi".into()]),
            ..Default::default()
        };
        let body = container_body("cluster-1", &config(container)).unwrap();
        assert_eq!(body.entrypoint, None);
        assert_eq!(body.cmd, Some(vec!["echo".into(), "hi".into()]));
        let host = body.host_config.unwrap();
        assert_eq!(host.cpu_shares, Some(2));
        assert_eq!((host.cpu_quota, host.memory), (None, None));
    }

    fn inspected(state: ContainerState) -> ContainerInspectResponse {
        ContainerInspectResponse {
            id: Some("c1".into()),
            created: Some("2024-05-01T10:00:00.123456789Z".into()),
            image: Some("sha256:feed".into()),
            state: Some(state),
            config: Some(DockerConfig {
                image: Some("busybox:1.36".into()),
                labels: Some(HashMap::from([
                    (LABEL_CONTAINER_NAME.to_string(), "app".to_string()),
                    (LABEL_RESTART_COUNT.to_string(), "3".to_string()),
                    (LABEL_CONTAINER_HASH.to_string(), "ff".to_string()),
                ])),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn exited(code: i64, oom: bool, finished: &str, error: &str) -> ContainerState {
        ContainerState {
            status: Some(ContainerStateStatusEnum::EXITED),
            running: Some(false),
            oom_killed: Some(oom),
            exit_code: Some(code),
            error: Some(error.into()),
            started_at: Some(DOCKER_ZERO_TIME.into()),
            finished_at: Some(finished.into()),
            ..Default::default()
        }
    }

    #[test]
    fn statuses_map_like_dockershim() {
        let running = container_status(&inspected(ContainerState {
            status: Some(ContainerStateStatusEnum::RUNNING),
            running: Some(true),
            started_at: Some("2024-05-01T10:00:01Z".into()),
            finished_at: Some(DOCKER_ZERO_TIME.into()),
            ..Default::default()
        }));
        assert_eq!(running.state, State::Running);
        assert_eq!(
            (running.name.as_str(), running.attempt, running.hash),
            ("app", 3, 0xff)
        );
        assert_eq!(
            (running.image.as_str(), running.image_id.as_str()),
            ("busybox:1.36", "sha256:feed")
        );
        assert_eq!(
            running.started_at,
            Some("2024-05-01T10:00:01Z".parse().unwrap())
        );
        assert_eq!((running.finished_at, running.exit_code), (None, None));
        assert_eq!(
            running.created_at,
            "2024-05-01T10:00:00.123456789Z".parse().unwrap()
        );

        let done = "2024-05-01T10:00:02Z";
        let cases = [
            (exited(0, false, done, ""), "Completed", 0),
            (exited(1, false, done, ""), "Error", 1),
            (exited(137, true, done, ""), "OOMKilled", 137),
            (
                exited(127, false, DOCKER_ZERO_TIME, "exec: \"nope\""),
                "ContainerCannotRun",
                127,
            ),
        ];
        for (state, reason, code) in cases {
            let status = container_status(&inspected(state));
            assert_eq!(status.state, State::Exited);
            assert_eq!(status.reason.as_deref(), Some(reason));
            assert_eq!(status.exit_code, Some(code));
            assert!(status.finished_at.is_some());
        }
        let cannot_run = container_status(&inspected(exited(
            127,
            false,
            DOCKER_ZERO_TIME,
            "exec: \"nope\"",
        )));
        assert_eq!(cannot_run.message.as_deref(), Some("exec: \"nope\""));

        let created = container_status(&inspected(ContainerState {
            status: Some(ContainerStateStatusEnum::CREATED),
            running: Some(false),
            exit_code: Some(0),
            started_at: Some(DOCKER_ZERO_TIME.into()),
            finished_at: Some(DOCKER_ZERO_TIME.into()),
            ..Default::default()
        }));
        assert_eq!(created.state, State::Created);
        assert_eq!((created.started_at, created.reason), (None, None));
    }
}
