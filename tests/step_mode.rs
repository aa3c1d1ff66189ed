//! Step mode through the whole in-process cluster (simulated runtime): with the trace gate
//! closed, a pod moves along its path one step per `step()` — it is not in the store until its
//! commit is let through, stays unbound until the scheduler is let go on, and is not Running
//! until the kubelet's status write passes. Leaving step mode lets everything through.

mod common;

use std::time::Duration;

use common::phase;
use k8s_openapi::api::core::v1::Pod;
use kubox::api::Api;
use kubox::cluster::{Cluster, Config};
use kubox::trace::{Actor, Held};

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]}
    }))
    .unwrap()
}

/// Waits until something waits at the gate, and returns the oldest.
async fn next_held(cluster: &Cluster) -> Held {
    let mut changed = cluster.trace.watch_gate();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(h) = cluster.trace.held().into_iter().next() {
                return h;
            }
            let _ = changed.changed().await;
        }
    })
    .await
    .expect("a step arrives at the gate within 10 s")
}

fn node_of(p: &Pod) -> Option<String> {
    p.spec.as_ref().and_then(|s| s.node_name.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_moves_one_step_per_press_and_nothing_moves_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(&Config::simulated(dir.path(), 2))
        .await
        .unwrap();
    let pods = Api::<Pod>::namespaced(&cluster.api, "default", Actor::You);
    cluster.trace.set_step_mode(true);

    let create = {
        let pods = pods.clone();
        tokio::spawn(async move { pods.create(pod("web")).await })
    };
    let held = next_held(&cluster).await;
    assert_eq!(held.to_string(), "API server → store: commit POST pods");
    assert_eq!(held.key, "/registry/pods/default/web");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        pods.get("web").unwrap_err().is_not_found(),
        "not in the store before the commit is let through"
    );
    assert!(!create.is_finished(), "the client waits for its answer");

    let mut passed = vec![cluster.trace.step().unwrap().to_string()];
    create.await.unwrap().unwrap();
    let mut running = false;
    for _ in 0..12 {
        let held = next_held(&cluster).await;
        assert_eq!(held.key, "/registry/pods/default/web");
        // Held means held: nothing of this step has happened yet.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = pods.get("web").unwrap();
        if held.what == "filter and score the nodes" || held.what.starts_with("POST binding") {
            assert_eq!(node_of(&now), None, "unbound while the scheduler waits");
        }
        assert_ne!(
            phase(&now),
            "Running",
            "not Running before its status passes"
        );
        assert_eq!(cluster.trace.held().len(), 1, "one step at a time");
        passed.push(cluster.trace.step().unwrap().to_string());
        if held.what == "status Running" {
            running = true;
            break;
        }
    }
    assert!(running, "the pod's steps: {passed:#?}");
    let node = node_of(&pods.get("web").unwrap()).unwrap();
    assert_eq!(
        passed,
        [
            "API server → store: commit POST pods".to_string(),
            "scheduler: filter and score the nodes".to_string(),
            format!("scheduler → API server: POST binding → {node}"),
            format!("kubelet {node} → API server: status Pending"),
            format!("kubelet {node} → Docker: create sandbox"),
            format!("kubelet {node} → Docker: start app"),
            format!("kubelet {node} → API server: status Running"),
        ]
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while phase(&pods.get("web").unwrap()) != "Running" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Running once let through"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Leaving step mode lets what waits through, and everything after it runs freely.
    let create = {
        let pods = pods.clone();
        tokio::spawn(async move { pods.create(pod("db")).await })
    };
    next_held(&cluster).await;
    cluster.trace.set_step_mode(false);
    create.await.unwrap().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while phase(&pods.get("db").unwrap()) != "Running" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "db runs without a press"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(cluster.trace.held().is_empty());
    cluster.shutdown().await;
}
