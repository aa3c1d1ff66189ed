//! The HTTP front of the API server: the Kubernetes REST API (core/v1 and
//! coordination.k8s.io/v1 subset) that real kubectl uses, built as an axum `Router` by
//! [`router`] so tests drive it with `oneshot`. Every handler calls [`crate::api::ApiServer`];
//! nothing here knows about the store.

mod decisions;
pub mod discovery;
mod exec;
mod handlers;
mod kubelet_switch;
mod logs;
mod request;
mod response;
pub mod table;

/// Unknown-field detection, shared with the TUI's editor (which refuses them as kubectl's
/// default `--validate=strict` makes the server do).
pub use request::unknown_fields;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

pub use discovery::GIT_VERSION;
pub use request::MAX_BODY;

use crate::api::ApiServer;
use crate::api::error::{ApiError, Reason};

#[derive(Clone)]
pub struct HttpState {
    pub api: ApiServer,
    /// The address clients reach the server on (for `/api`'s serverAddressByClientCIDRs).
    pub address: String,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The kubelets, for what only a node can answer (`pods/log`), as kube-apiserver asks the
    /// pod's node.
    pub kubelets: Vec<std::sync::Arc<crate::kubelet::run::Kubelet>>,
    /// The scheduler's decision records, for `/kubox/v1/decisions/{namespace}/{name}`.
    pub decisions: Option<std::sync::Arc<crate::scheduler::run::Records>>,
}

/// The whole HTTP API.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route(
            "/version",
            get(|| async { response::json(discovery::version()) }),
        )
        .route("/api", get(handlers::core_versions))
        .route(
            "/apis",
            get(|| async { response::json(discovery::group_list()) }),
        )
        .route(
            "/openapi/v3",
            get(|| async { response::json(discovery::openapi_root()) }),
        )
        .route("/openapi/v3/{*path}", get(handlers::openapi))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/api/v1",
            get(|| async { handlers::discovery_list("", "v1") }),
        )
        .route("/api/v1/{*rest}", any(handlers::core_resource))
        .route(
            "/kubox/v1/decisions/{namespace}/{name}",
            get(decisions::pod_decisions),
        )
        .route(
            "/kubox/v1/nodes/{name}/kubelet",
            get(kubelet_switch::kubelet_state),
        )
        .route(
            "/kubox/v1/nodes/{name}/kubelet/{action}",
            any(kubelet_switch::kubelet_switch),
        )
        .route("/apis/{group}", get(handlers::api_group))
        .route("/apis/{group}/{version}", get(handlers::group_version))
        .route(
            "/apis/{group}/{version}/{*rest}",
            any(handlers::group_resource),
        )
        .fallback(|| async { response::error(&ApiError::no_such_path()) })
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

async fn authenticate(
    State(state): State<HttpState>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            let err = ApiError {
                code: 401,
                reason: Reason::Unauthorized,
                message: "Unauthorized".into(),
                details: None,
            };
            return (StatusCode::UNAUTHORIZED, response::error(&err)).into_response();
        }
    }
    next.run(req).await
}

/// Serves `router` on `listener` until `stop` is cancelled; open watches end then too.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stop.cancelled().await })
    .await
}
