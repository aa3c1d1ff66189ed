//! The HTTP API through its router (`oneshot`): every endpoint and every error code, with
//! Kubernetes' Status bodies.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use kubox::api::ApiServer;
use kubox::api::http::{HttpState, router};
use kubox::store::Store;
use kubox::trace::TraceBus;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Env {
    _dir: tempfile::TempDir,
    app: Router,
    api: ApiServer,
}

async fn env_with(token: Option<&str>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let trace = TraceBus::new(1000);
    let store = Store::open(dir.path(), trace.clone()).unwrap();
    let api = ApiServer::new(store, trace);
    api.bootstrap().await.unwrap();
    let app = router(HttpState {
        api: api.clone(),
        address: "127.0.0.1:6443".into(),
        token: token.map(str::to_string),
        kubelets: Vec::new(),
        decisions: None,
    });
    Env {
        _dir: dir,
        app,
        api,
    }
}

async fn env() -> Env {
    env_with(None).await
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn send(method: &str, uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::USER_AGENT,
            "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07",
        )
        .body(body.into())
        .unwrap()
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]}})
}

const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test]
async fn version_and_discovery() {
    let env = env().await;
    let (s, _, v) = call(&env.app, get("/version?timeout=5s")).await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["major"].as_str(), v["minor"].as_str()),
        (Some("1"), Some("32"))
    );
    assert!(v["gitVersion"].as_str().unwrap().starts_with("v1.32."));

    let (_, _, v) = call(&env.app, get("/api")).await;
    assert_eq!(v["versions"], json!(["v1"]));
    let (s, _, v) = call(&env.app, get("/apis")).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::OK, Some("APIGroupList"))
    );
    assert_eq!(v["groups"][0]["name"], "coordination.k8s.io");

    let (_, _, v) = call(&env.app, get("/api/v1")).await;
    let pods = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["categories"], json!(["all"]));
    assert_eq!(pods["namespaced"], json!(true));
    let (s, _, v) = call(&env.app, get("/apis/coordination.k8s.io/v1")).await;
    assert_eq!(
        (s, v["resources"][0]["name"].as_str()),
        (StatusCode::OK, Some("leases"))
    );

    let (_, _, root) = call(&env.app, get("/openapi/v3")).await;
    assert_eq!(
        root["paths"]["api/v1"]["serverRelativeURL"],
        "/openapi/v3/api/v1"
    );
    let (_, _, doc) = call(&env.app, get("/openapi/v3/api/v1?hash=x&timeout=32s")).await;
    let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Pod");
    assert_eq!(patch["parameters"][0]["name"], "fieldValidation");
    assert!(doc["paths"]["/api/v1/nodes/{name}"]["patch"].is_object());
    let (s, _, _) = call(&env.app, get("/openapi/v2?timeout=32s")).await;
    assert_eq!(s, 404, "/openapi/v2 must be 404, never JSON");
}

#[tokio::test]
async fn create_get_list_and_their_errors() {
    let env = env().await;
    let (s, _, created) = call(
        &env.app,
        send("POST", PODS, "application/json", pod("web").to_string()),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(created["metadata"]["namespace"], "default");
    assert!(created["metadata"]["uid"].is_string());

    let (s, _, v) = call(
        &env.app,
        send("POST", PODS, "application/json", pod("web").to_string()),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(
        v,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":"pods \"web\" already exists","reason":"AlreadyExists","details":{"name":"web","kind":"pods"},"code":409})
    );

    let (s, _, v) = call(&env.app, get(&format!("{PODS}/nope"))).await;
    assert_eq!(
        (s, v["reason"].as_str(), v["message"].as_str()),
        (
            StatusCode::NOT_FOUND,
            Some("NotFound"),
            Some("pods \"nope\" not found")
        )
    );

    let (s, _, list) = call(&env.app, get(&format!("{PODS}?limit=500"))).await;
    assert_eq!(s, 200);
    assert_eq!(
        (list["kind"].as_str(), list["apiVersion"].as_str()),
        (Some("PodList"), Some("v1"))
    );
    assert_eq!(
        list["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(list["items"][0]["metadata"]["name"], "web");

    let (_, _, all) = call(&env.app, get("/api/v1/pods")).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let (_, _, none) = call(&env.app, get(&format!("{PODS}?labelSelector=app%3Ddb"))).await;
    assert_eq!(none["items"], json!([]));
    let (_, _, by_name) = call(
        &env.app,
        get(&format!("{PODS}?fieldSelector=metadata.name%3Dweb")),
    )
    .await;
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);
    let (s, _, v) = call(
        &env.app,
        get(&format!("{PODS}?fieldSelector=spec.bogus%3D1")),
    )
    .await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BadRequest"))
    );

    // Cluster-scoped kinds live outside namespaces.
    let (s, _, v) = call(&env.app, get("/api/v1/namespaces/kube-system")).await;
    assert_eq!(
        (s, v["metadata"]["name"].as_str()),
        (StatusCode::OK, Some("kube-system"))
    );
}

#[tokio::test]
async fn bad_bodies_get_the_right_status_and_the_server_keeps_serving() {
    let env = env().await;
    let mut invalid = pod("web");
    invalid["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("image");
    let (s, _, v) = call(
        &env.app,
        send("POST", PODS, "application/json", invalid.to_string()),
    )
    .await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("Invalid"))
    );
    assert_eq!(
        v["message"],
        "Pod \"web\" is invalid: spec.containers[0].image: Required value"
    );
    assert_eq!(
        v["details"]["causes"][0]["field"],
        "spec.containers[0].image"
    );

    let (s, _, v) = call(
        &env.app,
        send("POST", PODS, "application/json", "{not json"),
    )
    .await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BadRequest"))
    );

    let wrong_kind = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "x"}});
    let (s, _, v) = call(
        &env.app,
        send("POST", PODS, "application/json", wrong_kind.to_string()),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Pod in version \"v1\" cannot be handled as a Pod"),
        "{v}"
    );

    let big = vec![b' '; kubox::api::http::MAX_BODY + 10];
    let (s, _, v) = call(&env.app, send("POST", PODS, "application/json", big)).await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("RequestEntityTooLarge"))
    );

    let (s, _, v) = call(
        &env.app,
        send("POST", PODS, "text/plain", pod("x").to_string()),
    )
    .await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("UnsupportedMediaType")
        )
    );

    let mut unknown = pod("typo");
    unknown["spec"]["containers"][0]["imagee"] = json!("x");
    let strict = format!("{PODS}?fieldValidation=Strict");
    let (s, _, v) = call(
        &env.app,
        send("POST", &strict, "application/json", unknown.to_string()),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["message"],
        "strict decoding error: unknown field \"spec.containers[0].imagee\""
    );
    let (s, headers, _) = call(
        &env.app,
        send(
            "POST",
            &format!("{PODS}?fieldValidation=Warn"),
            "application/json",
            unknown.to_string(),
        ),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(
        headers[header::WARNING],
        "299 - \"unknown field \\\"spec.containers[0].imagee\\\"\""
    );

    let (s, _, v) = call(
        &env.app,
        send("POST", &format!("{PODS}/web/log"), "application/json", "{}"),
    )
    .await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("MethodNotAllowed"))
    );
    // exec: the pod is checked before any upgrade; no host yet is a BadRequest; a DELETE is 405.
    let (s, _, _) = call(
        &env.app,
        send("POST", PODS, "application/json", pod("web").to_string()),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _, v) = call(
        &env.app,
        get(&format!("{PODS}/ghost/exec?command=true&stdout=true")),
    )
    .await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    let (s, _, v) = call(
        &env.app,
        get(&format!(
            "{PODS}/web/exec?command=true&stdout=true&container=nope"
        )),
    )
    .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("container nope is not valid for pod web")
        )
    );
    let (s, _, v) = call(
        &env.app,
        get(&format!("{PODS}/web/exec?command=true&stdout=true")),
    )
    .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("pod web does not have a host assigned")
        )
    );
    let (s, _, _) = call(
        &env.app,
        send(
            "DELETE",
            &format!("{PODS}/web/exec"),
            "application/json",
            "",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    let (s, _, _) = call(&env.app, get("/api/v1/widgets")).await;
    assert_eq!(s, 404);

    // Still serving.
    let (s, _, _) = call(
        &env.app,
        send("POST", PODS, "application/json", pod("fine").to_string()),
    )
    .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn yaml_bodies_dry_run_patch_and_delete() {
    let env = env().await;
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: yam\nspec:\n  containers:\n  - name: app\n    image: busybox\n";
    let (s, _, v) = call(&env.app, send("POST", PODS, "application/yaml", yaml)).await;
    assert_eq!(s, 201, "{v}");

    let (s, _, v) = call(
        &env.app,
        send(
            "POST",
            &format!("{PODS}?dryRun=All"),
            "application/json",
            pod("dry").to_string(),
        ),
    )
    .await;
    assert_eq!(
        (s, v["metadata"]["name"].as_str()),
        (StatusCode::CREATED, Some("dry"))
    );
    let (s, _, _) = call(&env.app, get(&format!("{PODS}/dry"))).await;
    assert_eq!(s, 404, "a dry run writes nothing");

    let (s, _, v) = call(
        &env.app,
        send(
            "PATCH",
            &format!("{PODS}/yam"),
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"tier":"web"}}}"#,
        ),
    )
    .await;
    assert_eq!(
        (s, v["metadata"]["labels"]["tier"].as_str()),
        (StatusCode::OK, Some("web"))
    );
    let (s, _, v) = call(
        &env.app,
        send(
            "PATCH",
            &format!("{PODS}/yam"),
            "application/json-patch+json",
            r#"[{"op":"add","path":"/metadata/labels/x","value":"1"}]"#,
        ),
    )
    .await;
    assert_eq!(
        (s, v["metadata"]["labels"]["x"].as_str()),
        (StatusCode::OK, Some("1"))
    );
    let (s, _, v) = call(
        &env.app,
        send(
            "PATCH",
            &format!("{PODS}/yam"),
            "application/apply-patch+yaml",
            "{}",
        ),
    )
    .await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("UnsupportedMediaType")
        )
    );

    let (s, _, v) = call(
        &env.app,
        send(
            "DELETE",
            &format!("{PODS}/yam"),
            "application/json",
            r#"{"propagationPolicy":"Background"}"#,
        ),
    )
    .await;
    assert_eq!(
        (s, v["metadata"]["name"].as_str()),
        (StatusCode::OK, Some("yam"))
    );
    let (s, _, _) = call(&env.app, get(&format!("{PODS}/yam"))).await;
    assert_eq!(s, 404);
}

async fn read_events(body: Body, n: usize) -> Vec<Value> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut events = Vec::new();
    while events.len() < n {
        let chunk = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            futures::StreamExt::next(&mut stream),
        )
        .await
        .expect("event in time")
        .expect("stream open")
        .unwrap();
        buf.extend_from_slice(&chunk);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            events.push(serde_json::from_slice(&line).unwrap());
        }
    }
    events
}

#[tokio::test]
async fn watch_streams_events_with_kind_and_honours_selectors_and_revisions() {
    let env = env().await;
    call(
        &env.app,
        send("POST", PODS, "application/json", pod("a").to_string()),
    )
    .await;
    let resp = env
        .app
        .clone()
        .oneshot(get(&format!(
            "{PODS}?watch=true&fieldSelector=metadata.name%3Db"
        )))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, _, list) = call(&env.app, get(PODS)).await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let from_rv = env
        .app
        .clone()
        .oneshot(get(&format!("{PODS}?watch=1&resourceVersion={rv}")))
        .await
        .unwrap();
    let initial = env
        .app
        .clone()
        .oneshot(get(&format!("{PODS}?watch=true&resourceVersion=0")))
        .await
        .unwrap();

    call(
        &env.app,
        send("POST", PODS, "application/json", pod("b").to_string()),
    )
    .await;
    let events = read_events(resp.into_body(), 1).await;
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["kind"], "Pod");
    assert_eq!(events[0]["object"]["apiVersion"], "v1");
    assert_eq!(events[0]["object"]["metadata"]["name"], "b");

    let events = read_events(from_rv.into_body(), 1).await;
    assert_eq!(
        events[0]["object"]["metadata"]["name"], "b",
        "only what came after the revision"
    );

    let events = read_events(initial.into_body(), 2).await;
    let names: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["object"]["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("ADDED", "a"), ("ADDED", "b")],
        "rv=0 starts with the current objects"
    );

    // A compacted revision: one ERROR event with a 410 Expired Status.
    let store = env.api.store();
    let pending: Vec<_> = (0..kubox::store::RETAIN_REVISIONS + 1500)
        .map(|i| {
            store.submit(kubox::store::Op::Create {
                key: format!("/registry/configmaps/default/c{i}"),
                value: bytes::Bytes::from_static(b"{}"),
            })
        })
        .collect();
    for p in pending {
        p.await.unwrap().unwrap();
    }
    let old = env
        .app
        .clone()
        .oneshot(get(&format!("{PODS}?watch=true&resourceVersion=2")))
        .await
        .unwrap();
    let events = read_events(old.into_body(), 1).await;
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(
        (
            events[0]["object"]["code"].as_i64(),
            events[0]["object"]["reason"].as_str()
        ),
        (Some(410), Some("Expired"))
    );

    // timeoutSeconds ends the stream.
    let timed = env
        .app
        .clone()
        .oneshot(get(&format!(
            "{PODS}?watch=true&timeoutSeconds=1&resourceVersion={rv}"
        )))
        .await
        .unwrap();
    let body = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        timed.into_body().collect(),
    )
    .await;
    assert!(body.is_ok(), "the stream ended after timeoutSeconds");
}

#[tokio::test]
async fn every_request_leaves_a_trace_step() {
    let env = env().await;
    let mut sub = env.api.trace().subscribe();
    call(
        &env.app,
        send("POST", PODS, "application/json", pod("web").to_string()),
    )
    .await;
    let first = sub.next().await.unwrap().unwrap();
    assert_eq!(
        first.to_string(),
        "kubectl → API server: POST pods [/registry/pods/default/web]"
    );
}

#[tokio::test]
async fn a_token_is_required_when_set() {
    let env = env_with(Some("s3cret")).await;
    let (s, _, v) = call(&env.app, get("/api/v1/namespaces")).await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Unauthorized"))
    );
    let req = Request::get("/api/v1/namespaces")
        .header(header::AUTHORIZATION, "Bearer s3cret")
        .body(Body::empty())
        .unwrap();
    let (s, _, _) = call(&env.app, req).await;
    assert_eq!(s, 200);
}
