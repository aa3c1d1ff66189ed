//! The scheduler as a component, through the API: it sees pods and nodes only by watching, and
//! its decisions arrive as bindings, events and conditions.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    Container, Event, Node, NodeSpec, NodeStatus, Pod, PodSpec, ResourceRequirements, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubox::api::{Api, ApiServer, ListParams};
use kubox::scheduler::Scheduler;
use kubox::store::Store;
use kubox::trace::{Actor, TraceBus};
use tokio_util::sync::CancellationToken;

struct Env {
    _dir: tempfile::TempDir,
    api: ApiServer,
    scheduler: Arc<Scheduler>,
    stop: CancellationToken,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let trace = TraceBus::new(10_000);
    let store = Store::open(dir.path(), trace.clone()).unwrap();
    let api = ApiServer::new(store, trace);
    api.bootstrap().await.unwrap();
    let scheduler = Scheduler::new(&api);
    let stop = CancellationToken::new();
    tokio::spawn(scheduler.clone().run(stop.clone()));
    Env {
        _dir: dir,
        api,
        scheduler,
        stop,
    }
}

fn q(s: &str) -> Quantity {
    Quantity(s.into())
}

async fn add_node(
    env: &Env,
    name: &str,
    cpu: &str,
    labels: &[(&str, &str)],
    taint: Option<(&str, &str)>,
) {
    let nodes: Api<Node> = Api::all(&env.api, Actor::Kubelet(name.into()));
    nodes
        .create(Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec {
                taints: taint.map(|(k, v)| {
                    vec![Taint {
                        key: k.into(),
                        value: Some(v.into()),
                        effect: "NoSchedule".into(),
                        ..Taint::default()
                    }]
                }),
                ..NodeSpec::default()
            }),
            status: Some(NodeStatus {
                capacity: Some(
                    [
                        ("cpu".to_string(), q(cpu)),
                        ("memory".to_string(), q("8Gi")),
                        ("pods".to_string(), q("110")),
                    ]
                    .into(),
                ),
                ..NodeStatus::default()
            }),
        })
        .await
        .unwrap();
}

fn pod(name: &str, cpu: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("busybox:1.36".into()),
                resources: Some(ResourceRequirements {
                    requests: Some([("cpu".to_string(), q(cpu))].into()),
                    ..ResourceRequirements::default()
                }),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn events_for(env: &Env, pod: &str) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(&env.api, "default", Actor::You);
    events
        .list(&ListParams::default().fields(&format!("involvedObject.name={pod}")))
        .unwrap()
        .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_are_bound_with_kubernetes_events_and_pending_pods_explain_why() {
    let env = env().await;
    add_node(&env, "node-1", "2", &[("disk", "hdd")], None).await;
    add_node(&env, "node-2", "4", &[("disk", "ssd")], None).await;
    add_node(&env, "node-3", "4", &[], Some(("dedicated", "gpu"))).await;
    let pods: Api<Pod> = Api::namespaced(&env.api, "default", Actor::You);

    // A node selector decides.
    let mut ssd = pod("ssd", "100m");
    ssd.spec.as_mut().unwrap().node_selector =
        Some([("disk".to_string(), "ssd".to_string())].into());
    pods.create(ssd).await.unwrap();
    let node = eventually("ssd bound", || pods.get("ssd").ok()?.spec?.node_name).await;
    assert_eq!(node, "node-2");
    let scheduled = eventually("Scheduled event", || {
        events_for(&env, "ssd")
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("Scheduled"))
    })
    .await;
    assert_eq!(
        scheduled.message.as_deref(),
        Some("Successfully assigned default/ssd to node-2")
    );
    assert_eq!(scheduled.type_.as_deref(), Some("Normal"));
    assert_eq!(
        scheduled.source.unwrap().component.as_deref(),
        Some("default-scheduler")
    );
    let bound = pods.get("ssd").unwrap();
    let cond = bound
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(cond.status, "True");

    // Too big for everyone: the exact FailedScheduling message and PodScheduled=False.
    pods.create(pod("huge", "5")).await.unwrap();
    let failed = eventually("FailedScheduling", || {
        events_for(&env, "huge")
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    assert_eq!(
        failed.message.as_deref(),
        Some(
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu."
        )
    );
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    let huge = pods.get("huge").unwrap();
    assert!(huge.spec.unwrap().node_name.is_none());
    let cond = huge
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(
        (cond.status.as_str(), cond.reason.as_deref()),
        ("False", Some("Unschedulable"))
    );
    assert_eq!(cond.message, failed.message);
    assert!(
        !env.scheduler.records().for_pod("default/huge").is_empty(),
        "the decision is recorded"
    );

    // A node that fits arrives: the pod is retried at once and bound.
    add_node(&env, "node-4", "8", &[], None).await;
    let node = eventually("huge bound after node-4 joined", || {
        pods.get("huge").ok()?.spec?.node_name
    })
    .await;
    assert_eq!(node, "node-4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_spread_pods_over_nodes_and_the_scheduler_never_overcommits() {
    let env = env().await;
    add_node(&env, "a", "1", &[], None).await;
    add_node(&env, "b", "1", &[], None).await;
    let pods: Api<Pod> = Api::namespaced(&env.api, "default", Actor::You);
    for i in 0..5 {
        pods.create(pod(&format!("p{i}"), "400m")).await.unwrap();
    }
    // Four fit (two per node at 400m of 1000m); the fifth cannot.
    let bound = eventually("four pods bound", || {
        let list = pods.list(&ListParams::default()).ok()?.items;
        let bound: Vec<_> = list
            .iter()
            .filter_map(|p| p.spec.as_ref()?.node_name.clone())
            .collect();
        (bound.len() == 4).then_some(bound)
    })
    .await;
    assert_eq!(bound.iter().filter(|n| *n == "a").count(), 2);
    assert_eq!(bound.iter().filter(|n| *n == "b").count(), 2);
    let pending = pods
        .list(&ListParams::default().fields("spec.nodeName="))
        .unwrap()
        .items;
    assert_eq!(pending.len(), 1);
    let name = pending[0].metadata.name.clone().unwrap();
    let failed = eventually("FailedScheduling", || {
        events_for(&env, &name)
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    assert_eq!(
        failed.message.as_deref(),
        Some("0/2 nodes are available: 2 Insufficient cpu.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inter_pod_affinity_sees_bound_pods_and_namespace_labels() {
    use k8s_openapi::api::core::v1::Namespace;
    let env = env().await;
    for n in ["n1", "n2", "n3"] {
        add_node(&env, n, "4", &[("kubernetes.io/hostname", n)], None).await;
    }
    let namespaces: Api<Namespace> = Api::all(&env.api, Actor::You);
    namespaces
        .create(
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "team-a", "labels": {"team": "a"}}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let team_a: Api<Pod> = Api::namespaced(&env.api, "team-a", Actor::You);
    let mut cache = pod("cache", "100m");
    cache.metadata.labels = Some([("app".to_string(), "cache".to_string())].into());
    team_a.create(cache).await.unwrap();
    let cache_node = eventually("cache bound", || team_a.get("cache").ok()?.spec?.node_name).await;

    // web (in default) wants to be next to the cache of any namespace labelled team=a.
    let pods: Api<Pod> = Api::namespaced(&env.api, "default", Actor::You);
    let mut web = pod("web", "100m");
    web.spec.as_mut().unwrap().affinity = Some(
        serde_json::from_value(serde_json::json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"app": "cache"}},
                "namespaceSelector": {"matchLabels": {"team": "a"}},
                "topologyKey": "kubernetes.io/hostname",
            }]
        }}))
        .unwrap(),
    );
    pods.create(web).await.unwrap();
    let web_node = eventually("web bound", || pods.get("web").ok()?.spec?.node_name).await;
    assert_eq!(web_node, cache_node);

    // Another web pod whose term only looks in its own namespace finds no cache: it waits, and
    // says why on every node.
    let mut lost = pod("lost", "100m");
    lost.spec.as_mut().unwrap().affinity = Some(
        serde_json::from_value(serde_json::json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"app": "cache"}},
                "topologyKey": "kubernetes.io/hostname",
            }]
        }}))
        .unwrap(),
    );
    pods.create(lost).await.unwrap();
    let failed = eventually("FailedScheduling", || {
        events_for(&env, "lost")
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    assert_eq!(
        failed.message.as_deref(),
        Some("0/3 nodes are available: 3 node(s) didn't match pod affinity rules.")
    );
}
