//! `/kubox/v1/nodes/{name}/kubelet` (kubox's own path): whether a node's kubelet runs, and
//! `POST …/kubelet/stop` and `…/kubelet/start` to stop or start it — the node-fault lessons
//! from a second terminal (`kubectl create --raw /kubox/v1/nodes/node-1/kubelet/stop -f /dev/null`).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::json;

use super::{HttpState, response};
use crate::api::error::ApiError;

fn state(st: &HttpState, node: &str) -> Result<Response, ApiError> {
    let kubelet = st
        .kubelets
        .iter()
        .find(|k| k.node_name() == node)
        .ok_or_else(|| ApiError::not_found("nodes", "", node))?;
    Ok(response::json(json!({
        "kind": "KubeletState",
        "apiVersion": "kubox/v1",
        "node": node,
        "running": kubelet.is_running(),
    })))
}

pub async fn kubelet_state(State(st): State<HttpState>, Path(node): Path<String>) -> Response {
    state(&st, &node).unwrap_or_else(|e| response::error(&e))
}

pub async fn kubelet_switch(
    State(st): State<HttpState>,
    method: Method,
    Path((node, action)): Path<(String, String)>,
) -> Response {
    let result = (|| {
        if method != Method::POST {
            return Err(ApiError::method_not_allowed());
        }
        let on = match action.as_str() {
            "start" => true,
            "stop" => false,
            other => {
                return Err(ApiError::bad_request(format!(
                    "{other:?}: a kubelet can be started (start) or stopped (stop)"
                )));
            }
        };
        let kubelet = st
            .kubelets
            .iter()
            .find(|k| k.node_name() == node)
            .ok_or_else(|| ApiError::not_found("nodes", "", &node))?;
        kubelet.set_running(on);
        state(&st, &node)
    })();
    result.unwrap_or_else(|e| response::error(&e))
}
