//! Reading a request: which resource the path names (kube-apiserver's RequestInfo), who sent it,
//! what it accepts, and its body, with Kubernetes' errors for bad ones.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

use crate::api::error::{ApiError, Reason};
use crate::trace::Actor;

/// Largest request body accepted, as kube-apiserver's 3 MiB.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// What a resource path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Parses the segments after `/api/v1/` or `/apis/<group>/<version>/`.
pub fn parse_resource_path(group: &str, version: &str, rest: &str) -> Option<RequestInfo> {
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let info =
        |namespace: Option<&str>, resource: &str, name: Option<&&str>, sub: Option<&&str>| {
            Some(RequestInfo {
                group: group.to_string(),
                version: version.to_string(),
                namespace: namespace.map(str::to_string),
                resource: resource.to_string(),
                name: name.map(|s| s.to_string()),
                subresource: sub.map(|s| s.to_string()),
            })
        };
    match parts.as_slice() {
        [] => None,
        // The namespace object itself and its subresources.
        ["namespaces"] => info(None, "namespaces", None, None),
        ["namespaces", name] => info(None, "namespaces", Some(name), None),
        ["namespaces", name, sub @ ("status" | "finalize")] => {
            info(None, "namespaces", Some(name), Some(sub))
        }
        ["namespaces", ns, resource, tail @ ..] if tail.len() <= 2 => {
            info(Some(ns), resource, tail.first(), tail.get(1))
        }
        [resource, tail @ ..] if tail.len() <= 2 => info(None, resource, tail.first(), tail.get(1)),
        _ => None,
    }
}

/// The lifeline a request's trace steps start from: `kubectl`, or the client's product name.
pub fn caller_actor(headers: &HeaderMap) -> Actor {
    let agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let product = agent.split(['/', ' ']).next().unwrap_or("");
    if product.is_empty() {
        Actor::Client("HTTP client".into())
    } else {
        Actor::Client(product.to_string())
    }
}

/// True when the client asked for a server-side Table (kubectl's `as=Table;v=v1;g=meta.k8s.io`).
pub fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            params.contains(&"as=Table")
                && params.contains(&"g=meta.k8s.io")
                && params.contains(&"v=v1")
        })
}

pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// The body, or 413 past the limit.
pub async fn read_body(body: Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError {
            code: 413,
            reason: Reason::RequestEntityTooLarge,
            message: format!("Request entity too large: limit is {MAX_BODY}"),
            details: None,
        })
}

/// Parses a request body as JSON (or YAML for `application/yaml`) into a JSON value.
pub fn body_value(bytes: &[u8], content_type: &str) -> Result<serde_json::Value, ApiError> {
    if content_type.contains("yaml") {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ApiError::bad_request(format!("the request body is not UTF-8: {e}")))?;
        return serde_saphyr::from_str(text).map_err(|e| ApiError::bad_request(e.to_string()));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// Decodes a request object of kind `K`, as kube-apiserver words a failure.
pub fn decode_object<K: DeserializeOwned + k8s_openapi::Resource>(
    value: serde_json::Value,
) -> Result<K, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {e}",
            kind = K::KIND,
            version = K::VERSION
        ))
    })
}

/// Fields of `input` that the typed object dropped: unknown to the schema. Paths as Kubernetes
/// prints them (`spec.containers[0].imagee`).
pub fn unknown_fields(input: &serde_json::Value, typed: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_unknown(input, typed, String::new(), &mut out);
    // Map order differs with serde_json's features; the warnings must not.
    out.sort();
    out
}

fn walk_unknown(
    input: &serde_json::Value,
    typed: &serde_json::Value,
    path: String,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (input, typed) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match b.get(k) {
                    Some(t) => walk_unknown(v, t, child, out),
                    // Free-form maps (labels, annotations, resources) keep every key, so a key
                    // that vanished was not in the schema. Nulls are legitimately dropped.
                    None if !v.is_null() => out.push(child),
                    None => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk_unknown(x, y, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// `fieldValidation`: what to do about unknown fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn from_query(query: &HashMap<String, String>) -> Result<Self, ApiError> {
        match query.get("fieldValidation").map(String::as_str) {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of Ignore, Warn, or Strict, got {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_like_kube_apiserver() {
        let p = |rest: &str| parse_resource_path("", "v1", rest);
        let ns_pods = p("namespaces/default/pods").unwrap();
        assert_eq!(
            (
                ns_pods.namespace.as_deref(),
                ns_pods.resource.as_str(),
                ns_pods.name
            ),
            (Some("default"), "pods", None)
        );
        let status = p("namespaces/default/pods/web/status").unwrap();
        assert_eq!(
            (status.name.as_deref(), status.subresource.as_deref()),
            (Some("web"), Some("status"))
        );
        let ns = p("namespaces/kube-system").unwrap();
        assert_eq!(
            (ns.resource.as_str(), ns.name.as_deref(), ns.namespace),
            ("namespaces", Some("kube-system"), None)
        );
        let ns_status = p("namespaces/kube-system/status").unwrap();
        assert_eq!(ns_status.subresource.as_deref(), Some("status"));
        let all_pods = p("pods").unwrap();
        assert_eq!(
            (all_pods.namespace, all_pods.resource.as_str()),
            (None, "pods")
        );
        let node = p("nodes/node-1/status").unwrap();
        assert_eq!(
            (node.name.as_deref(), node.subresource.as_deref()),
            (Some("node-1"), Some("status"))
        );
        assert!(p("").is_none());
        assert!(p("namespaces/a/pods/b/c/d").is_none());
    }

    #[test]
    fn table_accept_and_unknown_fields() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::ACCEPT,
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
                .parse()
                .unwrap(),
        );
        assert!(wants_table(&h));
        h.insert(
            axum::http::header::ACCEPT,
            "application/json".parse().unwrap(),
        );
        assert!(!wants_table(&h));
        let input =
            serde_json::json!({"spec": {"containers": [{"name": "a", "imagee": "x"}], "bogus": 1}});
        let typed = serde_json::json!({"spec": {"containers": [{"name": "a"}]}});
        assert_eq!(
            unknown_fields(&input, &typed),
            ["spec.bogus", "spec.containers[0].imagee"]
        );
    }
}
