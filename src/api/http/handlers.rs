//! The handlers: discovery and OpenAPI documents, and one generic handler per verb for every
//! served kind, dispatched by resource name.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Path, Query, RawQuery, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Binding, Event, Namespace, Node, Pod};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions;
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::HttpState;
use super::discovery;
use super::request::{self, FieldValidation, RequestInfo};
use super::response;
use super::table::{self, Printable, RowObject};
use crate::api::error::ApiError;
use crate::api::params::{DeleteParams, ListParams, Patch, WatchParams};
use crate::api::server::{Caller, Deleted};
use crate::api::{Kind, WatchEvent};

type Query_ = Query<HashMap<String, String>>;

pub async fn core_versions(State(st): State<HttpState>) -> Response {
    response::json(discovery::core_versions(&st.address))
}

pub fn discovery_list(group: &str, version: &str) -> Response {
    match discovery::resource_list(group, version) {
        Some(doc) => response::json(doc),
        None => response::error(&ApiError::no_such_path()),
    }
}

pub async fn api_group(Path(group): Path<String>) -> Response {
    match discovery::group(&group) {
        Some(doc) => response::json(doc),
        None => response::error(&ApiError::no_such_path()),
    }
}

pub async fn group_version(Path((group, version)): Path<(String, String)>) -> Response {
    discovery_list(&group, &version)
}

pub async fn openapi(Path(path): Path<String>) -> Response {
    match discovery::openapi_group_version(&path) {
        Some(doc) => response::json(doc),
        None => response::error(&ApiError::no_such_path()),
    }
}

/// Everything a resource handler needs from the request.
struct Req {
    method: Method,
    info: RequestInfo,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Body,
}

#[allow(clippy::too_many_arguments)]
pub async fn core_resource(
    State(st): State<HttpState>,
    method: Method,
    Path(rest): Path<String>,
    Query(query): Query_,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    body: Body,
) -> Response {
    if let Some(info) = request::parse_resource_path("", "v1", &rest)
        && info.resource == "pods"
        && info.subresource.as_deref() == Some("exec")
        && let (Some(ns), Some(name)) = (info.namespace.as_deref(), info.name.as_deref())
    {
        let raw_query = raw_query.unwrap_or_default();
        return super::exec::pod_exec(&st, &method, &headers, (ns, name), &raw_query, ws).await;
    }
    resource(st, method, "", "v1", &rest, query, headers, body).await
}

pub async fn group_resource(
    State(st): State<HttpState>,
    method: Method,
    Path((group, version, rest)): Path<(String, String, String)>,
    Query(query): Query_,
    headers: HeaderMap,
    body: Body,
) -> Response {
    resource(st, method, &group, &version, &rest, query, headers, body).await
}

#[allow(clippy::too_many_arguments)]
async fn resource(
    st: HttpState,
    method: Method,
    group: &str,
    version: &str,
    rest: &str,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(info) = request::parse_resource_path(group, version, rest) else {
        return response::error(&ApiError::no_such_path());
    };
    if discovery::find(group, version, &info.resource).is_none() {
        return response::error(&ApiError::no_such_path());
    }
    if group.is_empty()
        && info.resource == "pods"
        && info.subresource.as_deref() == Some("log")
        && let (Some(ns), Some(name)) = (info.namespace.as_deref(), info.name.as_deref())
    {
        return super::logs::pod_log(&st, &method, ns, name, &query)
            .await
            .unwrap_or_else(|e| response::error(&e));
    }
    let req = Req {
        method,
        info,
        query,
        headers,
        body,
    };
    let result = match (group, req.info.resource.as_str()) {
        ("", "pods") => handle::<Pod>(&st, req).await,
        ("", "nodes") => handle::<Node>(&st, req).await,
        ("", "namespaces") => handle::<Namespace>(&st, req).await,
        ("", "events") => handle::<Event>(&st, req).await,
        ("coordination.k8s.io", "leases") => handle::<Lease>(&st, req).await,
        ("scheduling.k8s.io", "priorityclasses") => handle::<PriorityClass>(&st, req).await,
        _ => Err(ApiError::no_such_path()),
    };
    result.unwrap_or_else(|e| response::error(&e))
}

fn caller(req: &Req) -> Caller {
    let caller = Caller::new(request::caller_actor(&req.headers)).from_person();
    match req.query.get("dryRun").map(String::as_str) {
        Some("All") => caller.dry_run(),
        _ => caller,
    }
}

/// A boolean query parameter (`true` or `1`).
pub(super) fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    matches!(query.get(name).map(String::as_str), Some("true" | "1"))
}

async fn handle<K>(st: &HttpState, req: Req) -> Result<Response, ApiError>
where
    K: Kind + Printable + k8s_openapi::ListableResource,
{
    let api = &st.api;
    let ns = req.info.namespace.clone();
    let ns = ns.as_deref();
    if K::NAMESPACED != ns.is_some() && req.info.name.is_some() {
        // A namespaced object must be named inside its namespace, and a cluster one outside.
        return Err(ApiError::no_such_path());
    }
    let caller = caller(&req);
    let name = req.info.name.clone();
    let sub = req.info.subresource.clone();
    match (req.method.clone(), name.as_deref(), sub.as_deref()) {
        (Method::GET, None, None) if flag(&req.query, "watch") => watch::<K>(st, &req, ns, &caller),
        (Method::GET, None, None) => {
            let list = api.list::<K>(ns, &list_params(&req.query))?;
            match table_rows(&req)? {
                Some(rows) => Ok(response::json(table::table_of(
                    &list.items,
                    Timestamp::now(),
                    rows,
                    &list.resource_version,
                    true,
                ))),
                None => Ok(response::list(&list.items, &list.resource_version)),
            }
        }
        (Method::GET, Some(name), None | Some("status")) => {
            let obj = api.get::<K>(ns, name)?;
            match table_rows(&req)? {
                Some(rows) => {
                    let rv = obj.metadata().resource_version.clone().unwrap_or_default();
                    let t = table::table_of(
                        std::slice::from_ref(&obj),
                        Timestamp::now(),
                        rows,
                        &rv,
                        true,
                    );
                    Ok(response::json(t))
                }
                None => Ok(response::json(obj)),
            }
        }
        (Method::POST, None, None) => {
            let obj = read_object::<K>(req).await?;
            let (obj, warnings) = obj;
            let created = api.create(ns, obj, &caller).await?;
            Ok(with_warnings(
                response::with_status(StatusCode::CREATED, &created),
                &warnings,
            ))
        }
        (Method::POST, Some(name), Some("binding")) if K::KIND == "Pod" => {
            let ns = ns.unwrap_or("default");
            let bytes = request::read_body(req.body).await?;
            let value = request::body_value(&bytes, "application/json")?;
            let binding: Binding = request::decode_object(value)?;
            api.bind(ns, name, &binding, &caller).await?;
            Ok(response::with_status(
                StatusCode::CREATED,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
            ))
        }
        (Method::POST, Some(name), Some("eviction")) if K::KIND == "Pod" => {
            let ns = ns.unwrap_or("default");
            let bytes = request::read_body(req.body).await?;
            let value = request::body_value(&bytes, "application/json")?;
            let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            if kind != "Eviction" {
                return Err(ApiError::bad_request(format!(
                    "the body of an eviction is a policy/v1 Eviction, not {kind:?}"
                )));
            }
            let options: DeleteOptions = match value.get("deleteOptions") {
                Some(o) => serde_json::from_value(o.clone())
                    .map_err(|e| ApiError::bad_request(format!("deleteOptions: {e}")))?,
                None => DeleteOptions::default(),
            };
            let params = DeleteParams {
                grace_period_seconds: options.grace_period_seconds,
                uid: options.preconditions.as_ref().and_then(|p| p.uid.clone()),
                resource_version: options
                    .preconditions
                    .as_ref()
                    .and_then(|p| p.resource_version.clone()),
            };
            api.evict(ns, name, &params, &caller).await?;
            Ok(response::with_status(
                StatusCode::CREATED,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
            ))
        }
        (Method::PUT, Some(name), None) => {
            let (obj, warnings) = read_object::<K>(req).await?;
            let updated = api.replace(ns, name, obj, &caller).await?;
            Ok(with_warnings(response::json(updated), &warnings))
        }
        (Method::PUT, Some(name), Some("status")) => {
            let (obj, warnings) = read_object::<K>(req).await?;
            let updated = api.replace_status(ns, name, obj, &caller).await?;
            Ok(with_warnings(response::json(updated), &warnings))
        }
        (Method::PATCH, Some(name), None | Some("status")) => {
            let patch = read_patch(req).await?;
            let patched = if sub.is_some() {
                api.patch_status::<K>(ns, name, &patch, &caller).await?
            } else {
                api.patch::<K>(ns, name, &patch, &caller).await?
            };
            Ok(response::json(patched))
        }
        (Method::DELETE, Some(name), None) => {
            let params = delete_params(req).await?;
            match api.delete::<K>(ns, name, &params, &caller).await? {
                Deleted::Gone(obj) | Deleted::Terminating(obj) => Ok(response::json(obj)),
            }
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `Some(what each row carries)` when the client asked for a server-side Table.
fn table_rows(req: &Req) -> Result<Option<RowObject>, ApiError> {
    if !request::wants_table(&req.headers) {
        return Ok(None);
    }
    let include = req.query.get("includeObject").map(String::as_str);
    RowObject::from_include_object(include)
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "includeObject must be one of Object, Metadata, or None, got {:?}",
                include.unwrap_or_default()
            ))
        })
}

fn list_params(query: &HashMap<String, String>) -> ListParams {
    ListParams {
        label_selector: query.get("labelSelector").cloned(),
        field_selector: query.get("fieldSelector").cloned(),
    }
}

/// Reads and decodes a create/update body, applying `fieldValidation` to unknown fields.
async fn read_object<K: Kind>(req: Req) -> Result<(K, Vec<String>), ApiError> {
    let validation = FieldValidation::from_query(&req.query)?;
    let content_type = request::content_type(&req.headers);
    if !(content_type.is_empty() || content_type.contains("json") || content_type.contains("yaml"))
    {
        return Err(ApiError::unsupported_media_type(&content_type));
    }
    let bytes = request::read_body(req.body).await?;
    let value = request::body_value(&bytes, &content_type)?;
    let obj: K = request::decode_object(value.clone())?;
    let typed = serde_json::to_value(&obj).map_err(ApiError::internal)?;
    let unknown = request::unknown_fields(&value, &typed);
    let messages: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field {f:?}"))
        .collect();
    match validation {
        FieldValidation::Strict if !messages.is_empty() => Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            messages.join(", ")
        ))),
        FieldValidation::Warn => Ok((obj, messages)),
        _ => Ok((obj, Vec::new())),
    }
}

/// Kubernetes' `Warning: 299 - "<text>"` headers, which kubectl prints.
fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - {:?}", w);
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

async fn read_patch(req: Req) -> Result<Patch, ApiError> {
    let content_type = request::content_type(&req.headers);
    let bytes = request::read_body(req.body).await?;
    match content_type.as_str() {
        "application/merge-patch+json" => Ok(Patch::Merge(request::body_value(&bytes, "json")?)),
        "application/strategic-merge-patch+json" => {
            Ok(Patch::Strategic(request::body_value(&bytes, "json")?))
        }
        "application/json-patch+json" => serde_json::from_slice(&bytes)
            .map(Patch::Json)
            .map_err(|e| ApiError::bad_request(format!("the JSON patch is not valid: {e}"))),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

async fn delete_params(req: Req) -> Result<DeleteParams, ApiError> {
    let bytes = request::read_body(req.body).await?;
    let mut params = DeleteParams::default();
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        let opts: DeleteOptions = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(format!("the DeleteOptions body is not valid: {e}"))
        })?;
        params.grace_period_seconds = opts.grace_period_seconds;
        if let Some(pre) = opts.preconditions {
            params.uid = pre.uid;
            params.resource_version = pre.resource_version;
        }
    }
    if let Some(g) = req.query.get("gracePeriodSeconds") {
        params.grace_period_seconds =
            Some(g.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid gracePeriodSeconds: {g:?}"))
            })?);
    }
    Ok(params)
}

/// A watch as a stream of newline-terminated JSON events, open until the client goes or
/// `timeoutSeconds` passes.
fn watch<K: Kind + Printable>(
    st: &HttpState,
    req: &Req,
    ns: Option<&str>,
    caller: &Caller,
) -> Result<Response, ApiError> {
    let list = list_params(&req.query);
    let mut params = WatchParams::from_list(&list);
    params.resource_version = req.query.get("resourceVersion").cloned();
    params.allow_bookmarks = flag(&req.query, "allowWatchBookmarks");
    if let Some(t) = req.query.get("timeoutSeconds") {
        let secs: u64 = t
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {t:?}")))?;
        params.timeout = Some(Duration::from_secs(secs));
    }
    let stream = st.api.watch::<K>(ns, &params, caller)?.into_stream();
    let as_table = table_rows(req)?;
    let mut first = true;
    let lines = stream.map(move |ev| {
        let line = event_line::<K>(&ev, as_table, first);
        first = false;
        Ok::<_, Infallible>(Bytes::from(line))
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from_stream(lines),
    )
        .into_response())
}

/// One watch event line. In a Table watch the object is a Table with one row; only the first
/// carries the column definitions, as kube-apiserver's watch encoder does.
fn event_line<K: Kind + Printable>(
    ev: &WatchEvent<K>,
    as_table: Option<RowObject>,
    with_columns: bool,
) -> Vec<u8> {
    let object = match ev {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => match as_table {
            Some(include) => {
                let rv = o.metadata().resource_version.clone().unwrap_or_default();
                let t = table::table_of(
                    std::slice::from_ref(&**o),
                    Timestamp::now(),
                    include,
                    &rv,
                    with_columns,
                );
                serde_json::to_value(t).unwrap_or_default()
            }
            None => serde_json::to_value(&**o).unwrap_or_default(),
        },
        WatchEvent::Bookmark(rv) => json!({
            "kind": K::KIND, "apiVersion": K::API_VERSION, "metadata": {"resourceVersion": rv},
        }),
        WatchEvent::Error(e) => serde_json::to_value(e.to_status()).unwrap_or_default(),
    };
    let mut line =
        serde_json::to_vec(&json!({"type": ev.type_name(), "object": object})).unwrap_or_default();
    line.push(b'\n');
    line
}
