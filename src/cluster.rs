//! Wires the cluster together: store, API server, scheduler, trace bus, HTTP API and control
//! socket, under one cancellation token, and shuts them down in order (stop accepting, finish
//! queued writes, close the store) so nothing is left half-written.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::{ApiServer, http};
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
}

/// The kubeconfig kubox writes into its data dir.
pub const KUBECONFIG_FILE: &str = "kubeconfig";

pub struct Cluster {
    pub api: ApiServer,
    pub trace: TraceBus,
    pub scheduler: Arc<Scheduler>,
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

/// Resolves when the process gets SIGINT or SIGTERM. The handlers are installed by this call,
/// not on the first poll: a signal sent right after kubox says it is up is not lost (it would
/// otherwise still have its default action and kill the process without a clean stop).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            (Ok(mut interrupt), Err(e)) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops kubox");
                interrupt.recv().await;
            }
            (Err(e), _) => {
                tracing::warn!(error = %e, "cannot listen for SIGINT; falling back to ctrl_c");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
