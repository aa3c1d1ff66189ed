//! `cargo bench --bench kubelet`: create → Running through the whole in-process cluster (API,
//! store, scheduler, three kubelets) on the simulated runtime, observed through a watch —
//! single pods one at a time (p50/p99), then a burst of 10,000 pods (pods/s).

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kubox::api::runtime::{Event, watcher};
use kubox::api::{Api, ListParams};
use kubox::trace::Actor;
use serde_json::json;

#[path = "common/burst.rs"]
mod burst;

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
            "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]},
    }))
    .unwrap()
}

fn running(p: &Pod) -> bool {
    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn single(n: usize) -> (f64, f64) {
    let (_dir, cluster) = burst::sim_cluster("110").await;
    let pods: Api<Pod> = Api::namespaced(&cluster.api, "default", Actor::You);
    let all: Api<Pod> = Api::all(&cluster.api, Actor::You);
    let mut stream = Box::pin(watcher(all, ListParams::default()));
    let mut took = Vec::new();
    for i in 0..n {
        let name = format!("single-{i}");
        let start = Instant::now();
        pods.create(pod(&name)).await.unwrap();
        loop {
            if let Some(Ok(Event::Apply(p) | Event::InitApply(p))) = stream.next().await
                && p.metadata.name.as_deref() == Some(name.as_str())
                && running(&p)
            {
                break;
            }
        }
        took.push(start.elapsed());
        // Keep the nodes from filling up.
        pods.delete(&name, &kubox::api::DeleteParams::grace(0))
            .await
            .unwrap();
    }
    cluster.shutdown().await;
    took.sort();
    (percentile(&took, 0.5), percentile(&took, 0.99))
}

async fn burst(n: usize) -> f64 {
    let (_dir, cluster) = burst::sim_cluster(&(n / 2).to_string()).await;
    let start = Instant::now();
    burst::create_until_running(&cluster.api, n, "burst", pod).await;
    let rate = n as f64 / start.elapsed().as_secs_f64();
    cluster.shutdown().await;
    rate
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("kubox kubelet benchmarks (simulated runtime, 3 nodes, everything in-process)\n");
    println!("| what | result | target | met |");
    println!("|---|---|---|---|");
    let (p50, p99) = rt.block_on(single(200));
    println!(
        "| create → Running, one pod at a time (200 pods) | p50 {p50:.1} ms, p99 {p99:.1} ms | p50 ≤ 5 ms, p99 ≤ 25 ms | {} |",
        if p50 <= 5.0 && p99 <= 25.0 {
            "yes"
        } else {
            "NO"
        }
    );
    let rate = rt.block_on(burst(10_000));
    println!(
        "| burst of 10,000 pods, create → all Running | {rate:.0} pods/s | ≥ 2,000 pods/s | {} |",
        if rate >= 2000.0 { "yes" } else { "NO" }
    );
}
