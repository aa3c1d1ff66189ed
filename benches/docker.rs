//! `cargo bench --bench docker`: pod create → Running on the real Docker runtime (API, store,
//! scheduler, a kubelet, Docker — all of kubox's path), side by side in the same run with
//! `docker run -d` of the same image; then 50 pods created at once (p99), and 50 `docker run -d`
//! at once for the daemon's own floor. Skips, saying why, without a daemon.

use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kubox::api::runtime::{Event, watcher};
use kubox::api::{Api, DeleteParams, ListParams};
use kubox::cluster::{Cluster, Config, RuntimeChoice};
use kubox::trace::Actor;
use serde_json::json;

#[allow(dead_code)]
#[path = "../tests/common/docker.rs"]
mod docker_common;

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{"name": "app",
            "image": docker_common::TEST_IMAGE, "imagePullPolicy": "IfNotPresent",
            "command": ["sleep", "3600"]}]},
    }))
    .unwrap()
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn docker_run_d() -> Duration {
    let start = Instant::now();
    let out = Command::new("docker")
        .args([
            "run",
            "-d",
            "--label",
            "kubox-bench=1",
            docker_common::TEST_IMAGE,
            "sleep",
            "3600",
        ])
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// The daemon's own floor for the 50-pod row: 50 `docker run -d` started at once, each one's
/// time from the common start to its return.
fn docker_run_d_at_once(n: usize) -> Vec<Duration> {
    let start = Instant::now();
    let threads: Vec<_> = (0..n)
        .map(|_| {
            std::thread::spawn(move || {
                docker_run_d();
                start.elapsed()
            })
        })
        .collect();
    let mut took: Vec<Duration> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    took.sort();
    took
}

/// Removes the containers carrying `label` (the `docker run -d` ones, then the bench node's).
fn remove_containers(label: &str) {
    let ids = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label={label}")])
        .output()
        .unwrap();
    let ids = String::from_utf8_lossy(&ids.stdout);
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        Command::new("docker")
            .arg("rm")
            .arg("-f")
            .args(&ids)
            .output()
            .unwrap();
    }
}

/// Creates `names` at once; returns each one's create → Running time.
async fn run_pods(cluster: &Cluster, names: &[String]) -> Vec<Duration> {
    let all: Api<Pod> = Api::all(&cluster.api, Actor::You);
    let mut stream = Box::pin(watcher(all, ListParams::default()));
    let pods: Api<Pod> = Api::namespaced(&cluster.api, "default", Actor::You);
    let start = Instant::now();
    for n in names {
        pods.create(pod(n)).await.unwrap();
    }
    let mut took = Vec::new();
    let mut pending: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    while !pending.is_empty() {
        let ev = tokio::time::timeout(Duration::from_secs(120), stream.next())
            .await
            .expect("pods stopped reaching Running")
            .unwrap();
        if let Ok(Event::Apply(p) | Event::InitApply(p)) = ev
            && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
            && pending.remove(p.metadata.name.as_deref().unwrap_or(""))
        {
            took.push(start.elapsed());
        }
    }
    for n in names {
        pods.delete(n, &DeleteParams::default()).await.unwrap();
    }
    took
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "kubox on Docker (one node; image {})\n",
        docker_common::TEST_IMAGE
    );
    if rt.block_on(docker_common::docker()).is_none() {
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut config = Config::simulated(dir.path(), 1);
    config.runtime = RuntimeChoice::Docker;
    config.nodes[0].name = format!("bench-{}", std::process::id());
    let cluster = rt.block_on(Cluster::start(&config)).unwrap();
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });

    // Alternate, so drift on the machine hits both sides alike.
    let (mut kubox, mut plain) = (Vec::new(), Vec::new());
    for i in 0..15 {
        plain.push(docker_run_d());
        kubox.extend(rt.block_on(run_pods(&cluster, &[format!("one-{i}")])));
    }
    remove_containers("kubox-bench=1");
    kubox.sort();
    plain.sort();
    let (k50, p50) = (percentile(&kubox, 0.5), percentile(&plain, 0.5));
    let burst: Vec<String> = (0..50).map(|i| format!("many-{i:02}")).collect();
    let mut many = rt.block_on(run_pods(&cluster, &burst));
    many.sort();
    let plain_many = docker_run_d_at_once(50);
    remove_containers("kubox-bench=1");
    rt.block_on(async { tokio::time::sleep(Duration::from_secs(2)).await });
    rt.block_on(cluster.shutdown());
    remove_containers(&format!(
        "{}={}",
        kubox::kubelet::runtime::LABEL_NODE,
        config.nodes[0].name
    ));

    println!("| what | result | target | met |");
    println!("|---|---|---|---|");
    println!(
        "| pod create → Running vs `docker run -d` (p50 of 15 each) | {k50:.0} ms vs {p50:.0} ms = {:.2}× | ≤ 1.2× | {} |",
        k50 / p50,
        if k50 / p50 <= 1.2 { "yes" } else { "NO" }
    );
    let p99 = percentile(&many, 0.99);
    println!(
        "| 50 pods created at once, create → Running | p50 {:.0} ms, p99 {p99:.0} ms | p99 ≤ 2 s | {} |",
        percentile(&many, 0.5),
        if p99 <= 2000.0 { "yes" } else { "NO" }
    );
    println!(
        "| 50 `docker run -d` at once (the daemon alone; a pod is two containers) | p50 {:.0} ms, p99 {:.0} ms | — | — |",
        percentile(&plain_many, 0.5),
        percentile(&plain_many, 0.99)
    );
}
