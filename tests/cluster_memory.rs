//! What the in-process components keep of the pods they follow. A decoded pod is ~10 KB with
//! the defaults; with 10,000 pods one copy is ~100 MB. Once a pod runs and nothing changes,
//! no component (scheduler cache, kubelet pod workers, the TUI's model) holds its decoded
//! object: each keeps its own slim record and reads the pod from the API when it needs it.

mod common;

use std::time::Duration;

use common::phase;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kubox::api::runtime::watcher;
use kubox::api::{Api, ListParams};
use kubox::cluster::{Cluster, Config};
use kubox::trace::Actor;
use kubox::tui::model::{Model, api_reader};

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]}
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_pods_run_no_component_keeps_their_decoded_objects() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(&Config::simulated(dir.path(), 2))
        .await
        .unwrap();
    let pods = Api::<Pod>::namespaced(&cluster.api, "default", Actor::You);
    for name in ["a", "b", "c"] {
        pods.create(pod(name)).await.unwrap();
    }
    // The TUI's model, fed as the TUI feeds it, reading single pods back from the API.
    let mut model = Model::default();
    model.reader = Some(api_reader(&cluster.api));
    let mut stream = Box::pin(watcher(
        Api::<Pod>::all(&cluster.api, Actor::Client("kubox TUI".into())),
        ListParams::default(),
    ));
    let running = |m: &Model| {
        m.pods.items.len() == 3 && m.pods.items.values().all(|r| r.columns.status == "Running")
    };
    tokio::time::timeout(Duration::from_secs(20), async {
        while !running(&model) {
            match stream.next().await {
                Some(Ok(ev)) => {
                    model.apply_pod(ev);
                }
                other => panic!("the watch ended: {other:?}"),
            }
        }
    })
    .await
    .expect("the pods run within 20 s");
    assert!(
        pods.list(&ListParams::default())
            .unwrap()
            .items
            .iter()
            .all(|p| phase(p) == "Running")
    );

    // Events still in flight (status writes echoing through the watches) are let through.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while cluster.api.decoded_alive::<Pod>() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} decoded pods are still held by a component",
            cluster.api.decoded_alive::<Pod>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // What the views of one pod show is read from the API, and let go after.
    let key = ("default".to_string(), "a".to_string());
    let read = model.pod(&key).expect("the reader finds the pod");
    assert_eq!(phase(&read), "Running");
    assert_eq!(cluster.api.decoded_alive::<Pod>(), 1);
    drop(read);
    assert_eq!(cluster.api.decoded_alive::<Pod>(), 0);
    drop(stream);
    cluster.shutdown().await;
}
