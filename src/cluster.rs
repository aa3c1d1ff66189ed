//! Wires the cluster together: store, API server, trace bus and control socket, under one
//! cancellation token, and shuts them down in order (stop accepting, finish queued writes, close
//! the store) so nothing is left half-written.

use std::path::{Path, PathBuf};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::ApiServer;
use crate::store::{OpenError, Store};
use crate::trace::TraceBus;

/// Steps the trace ring keeps for late readers.
pub const TRACE_RING: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
}

pub struct Cluster {
    pub api: ApiServer,
    pub trace: TraceBus,
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
}

impl Cluster {
    pub async fn start(config: &Config) -> Result<Cluster, StartError> {
        let trace = TraceBus::new(TRACE_RING);
        let store = Store::open(&config.data_dir, trace.clone())?;
        let api = ApiServer::new(store.clone(), trace.clone());
        api.ensure_initial_namespaces()
            .await
            .map_err(StartError::Bootstrap)?;
        let stop = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let socket = crate::admin::bind(&config.data_dir).map_err(|source| StartError::Socket {
            dir: config.data_dir.clone(),
            source,
        })?;
        tasks.spawn(crate::admin::serve(socket, store, stop.clone()));
        Ok(Cluster {
            api,
            trace,
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

/// Resolves when the process gets SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops kubox");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
