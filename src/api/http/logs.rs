//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: kube-apiserver asks the pod's node; kubox asks
//! that node's kubelet in-process and streams what it gives, as `text/plain`, until the
//! container's output ends (with `follow`, when the container ends).

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::HttpState;
use super::handlers::flag;
use crate::api::error::ApiError;
use crate::kubelet::logs::LogRequest;
use crate::kubelet::runtime::LogOptions;

fn number(query: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    query
        .get(name)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("{name}: invalid value {v:?}: must be an integer"))
            })
        })
        .transpose()
}

/// The `PodLogOptions` of the query.
pub fn log_request(query: &HashMap<String, String>) -> Result<LogRequest, ApiError> {
    let since =
        match (number(query, "sinceSeconds")?, query.get("sinceTime")) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "at most one of `sinceTime` or `sinceSeconds` may be specified",
                ));
            }
            (Some(secs), None) if secs < 1 => {
                return Err(ApiError::bad_request(
                    "sinceSeconds: Invalid value: must be greater than 0",
                ));
            }
            (Some(secs), None) => Some(Timestamp::now() - SignedDuration::from_secs(secs)),
            (None, Some(t)) => Some(t.parse::<Timestamp>().map_err(|e| {
                ApiError::bad_request(format!("sinceTime: invalid value {t:?}: {e}"))
            })?),
            (None, None) => None,
        };
    let tail = match number(query, "tailLines")? {
        Some(n) if n < 0 => {
            return Err(ApiError::bad_request(
                "tailLines: Invalid value: must be greater than or equal to 0",
            ));
        }
        n => n.map(|n| n as u64),
    };
    Ok(LogRequest {
        container: query.get("container").cloned(),
        previous: flag(query, "previous"),
        options: LogOptions {
            follow: flag(query, "follow"),
            tail,
            since,
            timestamps: flag(query, "timestamps"),
        },
    })
}

pub async fn pod_log(
    st: &HttpState,
    method: &Method,
    namespace: &str,
    name: &str,
    query: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    if method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    let request = log_request(query)?;
    let pod: Pod = st.api.get(Some(namespace), name)?;
    let kubelet = crate::kubelet::logs::node_kubelet(&st.kubelets, &pod)?;
    let stream = kubelet.logs(&pod, &request).await?;
    let body = Body::from_stream(stream.map(|chunk| chunk.map_err(std::io::Error::other)));
    Ok(([(header::CONTENT_TYPE, "text/plain")], body).into_response())
}
