//! Wires the cluster together: store, API server, scheduler, trace bus, HTTP API and control
//! socket, under one cancellation token, and shuts them down in order (stop accepting, finish
//! queued writes, close the store) so nothing is left half-written.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use k8s_openapi::api::core::v1::Node;

use crate::api::{ApiServer, http};
pub use crate::cli::RuntimeChoice;
use crate::kubelet::node::NodeConfig;
use crate::kubelet::run::{Kubelet, KubeletConfig};
use crate::kubelet::runtime::Runtime;
use crate::kubelet::runtime::sim::SimRuntime;
use crate::scheduler::Scheduler;
use crate::store::{OpenError, Store};
use crate::trace::TraceBus;

/// Steps the trace ring keeps for late readers.
pub const TRACE_RING: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Where the HTTP API listens (`None`: no HTTP API, for in-process tests).
    pub listen: Option<SocketAddr>,
    /// Bearer token required on HTTP requests.
    pub token: Option<String>,
    /// The virtual nodes, one kubelet each.
    pub nodes: Vec<NodeConfig>,
    pub runtime: RuntimeChoice,
    /// Privileged containers, host networking and hostPath volumes allowed.
    pub allow_privileged: bool,
    /// Static pod manifests, `<dir>/<node>/*.yaml`.
    pub manifests: Option<PathBuf>,
    /// How long a silent kubelet's node stays Ready (`--node-monitor-grace-period`).
    pub node_grace: std::time::Duration,
    /// How long each simulated runtime call (pull, sandbox, start) takes.
    pub sim_latency: std::time::Duration,
}

impl Config {
    /// A cluster in `data_dir` with `nodes` default nodes on the simulated runtime and no HTTP
    /// listener (what in-process tests use).
    pub fn simulated(data_dir: &Path, nodes: usize) -> Self {
        Config {
            data_dir: data_dir.to_path_buf(),
            listen: None,
            token: None,
            nodes: (1..=nodes).map(NodeConfig::default_node).collect(),
            runtime: RuntimeChoice::Sim,
            allow_privileged: false,
            manifests: None,
            node_grace: crate::controller::node_lifecycle::NodeLifecycleConfig::default()
                .grace_period,
            sim_latency: SIM_START_LATENCY,
        }
    }
}

/// The nodes of a `--cluster FILE`: its Node manifests, in order.
pub fn nodes_from_file(path: &Path) -> Result<Vec<NodeConfig>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifests =
        crate::api::yaml::parse_manifests(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut nodes = Vec::new();
    for (i, m) in manifests.iter().enumerate() {
        let node: Node =
            crate::api::yaml::decode(m).map_err(|e| format!("{}: {e}", path.display()))?;
        nodes.push(NodeConfig::from_manifest(&node, i + 1));
    }
    if nodes.is_empty() {
        return Err(format!("{}: no Node manifests in the file", path.display()));
    }
    Ok(nodes)
}

/// The runtime `choice` asks for. `auto` takes Docker when the daemon answers and otherwise the
/// simulation, saying why in the returned note.
async fn pick_runtime(
    choice: RuntimeChoice,
    sim_latency: std::time::Duration,
    cluster_id: &str,
) -> Result<(Arc<dyn Runtime>, String), StartError> {
    match choice {
        RuntimeChoice::Sim => Ok((
            Arc::new(SimRuntime::new(sim_latency)),
            "runtime: simulated (--runtime sim)".to_string(),
        )),
        RuntimeChoice::Docker | RuntimeChoice::Auto => match connect_docker(cluster_id).await {
            Ok((runtime, version)) => Ok((runtime, format!("runtime: Docker {version}"))),
            Err(why) if choice == RuntimeChoice::Auto => Ok((
                Arc::new(SimRuntime::new(sim_latency)),
                format!("runtime: simulated, because Docker is not available ({why})"),
            )),
            Err(why) => Err(StartError::Runtime(why)),
        },
    }
}

/// How long a simulated container takes to start.
pub const SIM_START_LATENCY: std::time::Duration = std::time::Duration::from_millis(2);

/// The kubeconfig kubox writes into its data dir.
pub const KUBECONFIG_FILE: &str = "kubeconfig";

pub struct Cluster {
    pub api: ApiServer,
    pub trace: TraceBus,
    pub scheduler: Arc<Scheduler>,
    pub kubelets: Vec<Arc<Kubelet>>,
    /// Which runtime the kubelets drive, and why (`runtime: simulated, because …`).
    pub runtime_note: String,
    /// The address the HTTP API is bound to.
    pub http_address: Option<SocketAddr>,
    data_dir: PathBuf,
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error("cannot create the control socket in {dir}: {source}")]
    Socket {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--runtime docker: {0}")]
    Runtime(String),
    #[error("cannot set up the cluster's namespaces: {0}")]
    Bootstrap(crate::api::ApiError),
    #[error("cannot listen on {addr} (--listen): {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Cluster {
    pub async fn start(config: &Config) -> Result<Cluster, StartError> {
        crate::keep_resident_memory_low();
        let trace = TraceBus::new(TRACE_RING);
        let store = Store::open(&config.data_dir, trace.clone())?;
        let api = ApiServer::new(store.clone(), trace.clone());
        api.bootstrap().await.map_err(StartError::Bootstrap)?;
        let stop = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let socket = crate::admin::bind(&config.data_dir).map_err(|source| StartError::Socket {
            dir: config.data_dir.clone(),
            source,
        })?;
        tasks.spawn(crate::admin::serve(socket, store, stop.clone()));
        let scheduler = Scheduler::new(&api);
        tasks.spawn(scheduler.clone().run(stop.clone()));
        // Bootstrapped above, so kube-system exists; its uid labels every container.
        let cluster_id = api.cluster_id().map_err(StartError::Bootstrap)?;
        let (runtime, runtime_note) =
            pick_runtime(config.runtime, config.sim_latency, &cluster_id).await?;
        let lifecycle = Arc::new(crate::controller::node_lifecycle::NodeLifecycle::new(
            &api,
            crate::controller::node_lifecycle::NodeLifecycleConfig {
                grace_period: config.node_grace,
                ..Default::default()
            },
        ));
        tasks.spawn(lifecycle.run(stop.clone()));
        let mut kubelets = Vec::new();
        for node in &config.nodes {
            let mut kc = KubeletConfig::new(
                node.clone(),
                config.data_dir.join("kubelet").join(&node.name),
            );
            kc.allow_privileged = config.allow_privileged;
            kc.manifests = config.manifests.clone();
            // Renewals at a quarter of the grace period at most, as the kubelet renews its
            // 40 s lease every 10 s: a short grace (for a lesson) does not fail healthy nodes.
            kc.heartbeat = kc.heartbeat.min(config.node_grace / 4);
            let kubelet = Kubelet::new(&api, runtime.clone(), kc);
            tasks.spawn(kubelet.clone().run(stop.clone()));
            kubelets.push(kubelet);
        }
        let http_address = match config.listen {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Listen { addr, source })?;
                let bound = listener
                    .local_addr()
                    .map_err(|source| StartError::Listen { addr, source })?;
                write_kubeconfig(&config.data_dir, bound, config.token.as_deref())?;
                let router = http::router(http::HttpState {
                    api: api.clone(),
                    address: bound.to_string(),
                    token: config.token.clone(),
                    kubelets: kubelets.clone(),
                    decisions: Some(scheduler.records()),
                });
                let stop = stop.clone();
                tasks.spawn(async move {
                    if let Err(e) = http::serve(listener, router, stop).await {
                        tracing::error!(error = %e, "the HTTP API stopped");
                    }
                });
                Some(bound)
            }
            None => None,
        };
        Ok(Cluster {
            api,
            trace,
            scheduler,
            kubelets,
            runtime_note,
            http_address,
            data_dir: config.data_dir.clone(),
            stop,
            tasks,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A token that stops the cluster when cancelled.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Stops every component, lets queued writes finish, and closes the store.
    pub async fn shutdown(mut self) {
        // Nothing may stay held at the trace gate: step mode ends with the cluster.
        self.trace.set_step_mode(false);
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
        self.api.store().close().await;
        let _ = std::fs::remove_file(crate::admin::socket_path(&self.data_dir));
    }
}

/// Writes `DATA_DIR/kubeconfig`: cluster, user and context named `kubox`, server = the bound
/// address. Written to a temporary file and renamed, so kubectl never reads half of it.
fn write_kubeconfig(dir: &Path, addr: SocketAddr, token: Option<&str>) -> Result<(), StartError> {
    let path = dir.join(KUBECONFIG_FILE);
    let user = match token {
        Some(t) => format!("\n    token: {t}"),
        None => " {}".to_string(),
    };
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kubox\n  cluster:\n    server: http://{addr}\n\
         contexts:\n- name: kubox\n  context:\n    cluster: kubox\n    user: kubox\n    namespace: default\n\
         current-context: kubox\nusers:\n- name: kubox\n  user:{user}\n"
    );
    let tmp = dir.join(format!("{KUBECONFIG_FILE}.tmp"));
    let io = |source| StartError::Kubeconfig {
        path: path.clone(),
        source,
    };
    std::fs::write(&tmp, text).map_err(io)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    std::fs::rename(&tmp, &path).map_err(io)
}

/// Resolves when the process gets SIGINT or SIGTERM.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    // Both handlers are installed now, before the caller says it is up: a signal arriving
    // between the two would otherwise kill the process without a clean stop.
    let int = signal(SignalKind::interrupt());
    let term = signal(SignalKind::terminate());
    async move {
        match (int, term) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            (int, term) => {
                let e = int
                    .err()
                    .or(term.err())
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                tracing::warn!(error = %e, "cannot listen for SIGINT/SIGTERM; kubox stops only when killed");
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Connects to the Docker daemon (`DOCKER_HOST` or the default socket) as cluster
/// `cluster_id`'s view of it; the error says why it is not available.
async fn connect_docker(cluster_id: &str) -> Result<(Arc<dyn Runtime>, String), String> {
    let docker = crate::kubelet::runtime::docker::DockerRuntime::connect(cluster_id)
        .await
        .map_err(|e| e.to_string())?;
    let version = docker.version().await.map_err(|e| e.to_string())?;
    Ok((Arc::new(docker), version.version))
}
