//! `cargo bench --bench http`: the HTTP API rows of ../shared/perf.md, measured and printed.
//! Server time is measured through the router (`oneshot`, no sockets); create throughput goes
//! over real loopback TCP with keep-alive connections.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use kubox::api::ApiServer;
use kubox::api::http::{HttpState, router};
use kubox::store::Store;
use kubox::trace::TraceBus;
use tower::ServiceExt;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn pod_json(name: &str) -> String {
    serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web", "tier": "frontend"}},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
            "command": ["sh", "-c", "sleep 3600"],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}}]}})
    .to_string()
}

struct Env {
    _dir: tempfile::TempDir,
    api: ApiServer,
}

fn env(rt: &tokio::runtime::Runtime) -> Env {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    let api = ApiServer::new(store, TraceBus::quiet());
    rt.block_on(api.bootstrap()).unwrap();
    Env { _dir: dir, api }
}

/// Creates `n` pods through the API (defaults applied), many in flight.
fn fill(rt: &tokio::runtime::Runtime, api: &ApiServer, n: usize) {
    rt.block_on(async {
        let mut tasks = Vec::new();
        for w in 0..32 {
            let api = api.clone();
            tasks.push(tokio::spawn(async move {
                let pods: kubox::api::Api<k8s_openapi::api::core::v1::Pod> =
                    kubox::api::Api::namespaced(&api, "default", kubox::trace::Actor::You);
                for i in (w..n).step_by(32) {
                    let pod = serde_json::from_str(&pod_json(&format!("pod-{i:05}"))).unwrap();
                    pods.create(pod).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

fn list_ms(
    rt: &tokio::runtime::Runtime,
    api: &ApiServer,
    accept: &str,
    runs: usize,
) -> (f64, usize) {
    let app = router(HttpState {
        api: api.clone(),
        address: "127.0.0.1".into(),
        token: None,
        kubelets: Vec::new(),
        decisions: None,
    });
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let req = Request::get("/api/v1/namespaces/default/pods?limit=500")
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap();
        let start = Instant::now();
        let body = rt.block_on(async {
            app.clone()
                .oneshot(req)
                .await
                .unwrap()
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
        });
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        bytes = body.len();
    }
    (median(times), bytes)
}

/// One keep-alive HTTP/1.1 POST; returns the status code.
fn post(stream: &mut BufReader<TcpStream>, path: &str, body: &str) -> u16 {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: kubox\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.get_mut().write_all(req.as_bytes()).unwrap();
    let mut status = String::new();
    stream.read_line(&mut status).unwrap();
    let code = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut buf = vec![0; length];
    stream.read_exact(&mut buf).unwrap();
    code
}

fn create_over_http(rt: &tokio::runtime::Runtime, clients: usize, per_client: usize) -> f64 {
    let env = env(rt);
    let app = router(HttpState {
        api: env.api.clone(),
        address: "127.0.0.1".into(),
        token: None,
        kubelets: Vec::new(),
        decisions: None,
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let server = rt.spawn(kubox::api::http::serve(listener, app, stop.clone()));
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            std::thread::spawn(move || {
                let mut stream = BufReader::new(TcpStream::connect(addr).unwrap());
                for i in 0..per_client {
                    let code = post(
                        &mut stream,
                        "/api/v1/namespaces/default/pods",
                        &pod_json(&format!("c{c}-{i}")),
                    );
                    assert_eq!(code, 201);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let rate = (clients * per_client) as f64 / start.elapsed().as_secs_f64();
    stop.cancel();
    let _ = rt.block_on(server);
    rate
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("kubox HTTP API benchmarks (medians)\n");
    let mut rows = Vec::new();

    let small = env(&rt);
    fill(&rt, &small.api, 1_000);
    let (ms, bytes) = list_ms(&rt, &small.api, "application/json", 15);
    rows.push((
        "LIST 1,000 pods as JSON, server time",
        format!("{ms:.1} ms ({} KB)", bytes / 1024),
        "—".to_string(),
    ));

    let (ms, bytes) = list_ms(
        &rt,
        &small.api,
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        15,
    );
    rows.push((
        "kubectl get pods (a Table), 1,000 pods, server time",
        format!("{ms:.1} ms ({} KB)", bytes / 1024),
        "≤ 20 ms".to_string(),
    ));

    let big = env(&rt);
    fill(&rt, &big.api, 10_000);
    let (ms, bytes) = list_ms(&rt, &big.api, "application/json", 7);
    rows.push((
        "LIST 10,000 pods as JSON, server time",
        format!("{ms:.1} ms ({} KB)", bytes / 1024),
        "report".to_string(),
    ));

    let rates: Vec<f64> = (0..3).map(|_| create_over_http(&rt, 64, 100)).collect();
    rows.push((
        "create over HTTP, 64 concurrent clients",
        format!("{:.0} pods/s", median(rates)),
        "report".to_string(),
    ));

    println!("| what | result | target |");
    println!("|---|---|---|");
    for (what, result, target) in rows {
        println!("| {what} | {result} | {target} |");
    }
}
