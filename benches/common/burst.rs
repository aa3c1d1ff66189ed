//! For the benchmarks: an in-process cluster on the simulated runtime, and a burst of pods
//! created at once through its API, then waited for until a watch has seen each one Running.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kubox::api::runtime::{Event, watcher};
use kubox::api::{Api, ApiServer, ListParams};
use kubox::cluster::{Cluster, Config};
use kubox::trace::Actor;

/// Three nodes on the simulated runtime, each with capacity for `nodes_pods` pods, its runtime
/// calls taking no time (what kubox itself adds); returns once the nodes have registered.
pub async fn sim_cluster(nodes_pods: &str) -> (tempfile::TempDir, Cluster) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut config = Config::simulated(dir.path(), 3);
    // What kubox itself adds: simulated runtime calls take no time.
    config.sim_latency = Duration::ZERO;
    for n in &mut config.nodes {
        n.capacity.insert(
            "pods".into(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity(nodes_pods.into()),
        );
    }
    let cluster = Cluster::start(&config).await.unwrap();
    // Wait for the three nodes to register.
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(&cluster.api, Actor::You);
    while nodes.list(&ListParams::default()).unwrap().items.len() < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (dir, cluster)
}

/// Concurrent clients creating the pods.
const CLIENTS: usize = 32;

/// Creates `n` pods named `{prefix}-{i:05}` (built by `pod`) from 32 concurrent clients and
/// returns once a watch has seen every one of them Running. Panics if that stalls for 120 s.
pub async fn create_until_running(api: &ApiServer, n: usize, prefix: &str, pod: fn(&str) -> Pod) {
    let all: Api<Pod> = Api::all(api, Actor::You);
    // Watch first, so no pod can reach Running unseen.
    let mut stream = Box::pin(watcher(all, ListParams::default()));
    let mut tasks = Vec::new();
    for w in 0..CLIENTS {
        let api = api.clone();
        let prefix = prefix.to_string();
        tasks.push(tokio::spawn(async move {
            let pods: Api<Pod> = Api::namespaced(&api, "default", Actor::You);
            for i in (w..n).step_by(CLIENTS) {
                pods.create(pod(&format!("{prefix}-{i:05}"))).await.unwrap();
            }
        }));
    }
    let mut seen = HashSet::new();
    while seen.len() < n {
        let ev = tokio::time::timeout(Duration::from_secs(120), stream.next())
            .await
            .expect("pods stopped reaching Running")
            .unwrap();
        if let Ok(Event::Apply(p) | Event::InitApply(p)) = ev
            && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        {
            seen.insert(p.metadata.name.clone().unwrap_or_default());
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
}
