//! Writing answers: JSON bodies, Kubernetes Status errors, lists.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::api::error::ApiError;

pub fn json<T: Serialize>(body: T) -> Response {
    with_status(StatusCode::OK, &body)
}

pub fn with_status<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => error(&ApiError::internal(e)),
    }
}

/// A Kubernetes error: the HTTP code and the `metav1.Status` body.
pub fn error(err: &ApiError) -> Response {
    let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    with_status(status, &err.to_status())
}

/// `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"N"},"items":[...]}`
pub fn list<K: k8s_openapi::ListableResource + Serialize>(
    items: &[K],
    resource_version: &str,
) -> Response {
    #[derive(Serialize)]
    struct ListBody<'a, K> {
        kind: &'static str,
        #[serde(rename = "apiVersion")]
        api_version: &'static str,
        metadata: serde_json::Value,
        items: &'a [K],
    }
    json(ListBody {
        kind: K::LIST_KIND,
        api_version: K::API_VERSION,
        metadata: serde_json::json!({"resourceVersion": resource_version}),
        items,
    })
}
