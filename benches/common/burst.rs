//! A burst of pods for the benchmarks: many created at once through the in-process API, then
//! waited for until a watch has seen each one Running.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kubox::api::runtime::{Event, watcher};
use kubox::api::{Api, ApiServer, ListParams};
use kubox::trace::Actor;

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
            seen.insert(p.metadata.name.unwrap_or_default());
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
}
