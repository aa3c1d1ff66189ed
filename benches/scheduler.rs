//! `cargo bench --bench scheduler`: kube-scheduler's scheduler_perf shapes on kubox — 5,000
//! nodes, pods created through the API first, then the scheduler starts and the clock runs until
//! every pod is bound, each bind written through the API to the durable store (with its
//! `Scheduled` event). Prints pods/s and the per-pod attempt latency (pop → bind acknowledged).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kubox::api::runtime::{Event, watcher};
use kubox::api::{Api, ApiServer, ListParams};
use kubox::scheduler::Scheduler;
use kubox::store::Store;
use kubox::trace::{Actor, TraceBus};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const NODES: usize = 5_000;
const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];

fn node(i: usize) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": format!("node-{i:05}"), "labels": {
            "kubernetes.io/hostname": format!("node-{i:05}"),
            "topology.kubernetes.io/zone": ZONES[i % 3],
        }},
        "status": {
            "capacity": {"cpu": "32", "memory": "64Gi", "pods": "110"},
            "allocatable": {"cpu": "32", "memory": "64Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }))
    .unwrap()
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Basic,
    Spread,
    AntiAffinity,
}

fn pod(i: usize, shape: Shape) -> Pod {
    let mut p = json!({
        "metadata": {"name": format!("pod-{i:05}"), "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
    });
    match shape {
        Shape::Basic => {}
        Shape::Spread => {
            p["spec"]["topologySpreadConstraints"] = json!([{
                "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "bench"}},
            }]);
        }
        Shape::AntiAffinity => {
            p["spec"]["affinity"] = json!({"podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [{
                    "topologyKey": "kubernetes.io/hostname",
                    "labelSelector": {"matchLabels": {"app": "bench"}},
                }],
            }});
        }
    }
    serde_json::from_value(p).unwrap()
}

struct Result {
    pods_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn run(shape: Shape, pods: usize) -> Result {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    let api = ApiServer::new(store, TraceBus::quiet());
    api.bootstrap().await.unwrap();

    // Nodes and pods go in first, many writes in flight.
    let mut tasks = Vec::new();
    for w in 0..32 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let nodes: Api<Node> = Api::all(&api, Actor::You);
            for i in (w..NODES).step_by(32) {
                nodes.create(node(i)).await.unwrap();
            }
            let ps: Api<Pod> = Api::namespaced(&api, "default", Actor::You);
            for i in (w..pods).step_by(32) {
                ps.create(pod(i, shape)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    // Count bindings as they land.
    let all: Api<Pod> = Api::all(&api, Actor::You);
    let mut stream = Box::pin(watcher(all, ListParams::default()));
    let scheduler = Scheduler::new(&api);
    let stop = CancellationToken::new();
    let started = Instant::now();
    tokio::spawn(scheduler.clone().run(stop.clone()));
    let mut bound = HashSet::new();
    while bound.len() < pods {
        let ev = tokio::time::timeout(Duration::from_secs(120), stream.next())
            .await
            .expect("the scheduler stalled")
            .unwrap()
            .unwrap();
        if let Event::Apply(p) | Event::InitApply(p) = ev
            && p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some()
        {
            bound.insert(p.metadata.name.clone().unwrap_or_default());
        }
    }
    let took = started.elapsed();
    stop.cancel();
    let mut latencies = scheduler.attempt_latencies();
    latencies.sort();
    Result {
        pods_per_sec: pods as f64 / took.as_secs_f64(),
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "kubox scheduler benchmarks ({NODES} nodes, binds through the API to the durable store)\n"
    );
    let rows = [
        (
            "basic pods with requests, 10,000 pods",
            Shape::Basic,
            10_000,
            "≥ 5,000 pods/s",
            5_000.0,
        ),
        (
            "required topology spread over 3 zones, 5,000 pods",
            Shape::Spread,
            5_000,
            "≥ 2,000 pods/s",
            2_000.0,
        ),
        (
            "required pod anti-affinity (hostname), 2,000 pods",
            Shape::AntiAffinity,
            2_000,
            "≥ 500 pods/s",
            500.0,
        ),
    ];
    println!("| what | pods/s | p50 attempt | p99 attempt | target | met |");
    println!("|---|---|---|---|---|---|");
    // `cargo bench --bench scheduler -- spread` runs the rows whose name contains "spread".
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (what, shape, pods, target, want) in rows {
        if !only.is_empty() && !only.iter().any(|o| what.contains(o.as_str())) {
            continue;
        }
        let r = rt.block_on(run(shape, pods));
        println!(
            "| {what} | {:.0} | {:.2} ms | {:.2} ms | {target} | {} |",
            r.pods_per_sec,
            r.p50_ms,
            r.p99_ms,
            if r.pods_per_sec >= want { "yes" } else { "NO" }
        );
    }
}
