//! The scheduler as a component, through the API: it sees pods and nodes only by watching, and
//! its decisions arrive as bindings, events and conditions.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    Container, Event, Node, NodeSpec, NodeStatus, Pod, PodCondition, PodSpec, ResourceRequirements,
    Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubox::api::{Api, ApiServer, DeleteParams, ListParams, Patch};
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
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. \
             preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
             2 No preemption victims found for incoming pod."
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
        Some(
            "0/2 nodes are available: 2 Insufficient cpu. \
             preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
        )
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
        Some(
            "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. \
             preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        )
    );

    // A cache in its own namespace is what it waited for: that pod's binding (an assigned
    // pod's add) moves it back to the active queue at once, not at the 5-minute flush.
    let mut local = pod("local-cache", "100m");
    local.metadata.labels = Some([("app".to_string(), "cache".to_string())].into());
    pods.create(local).await.unwrap();
    let local_node = eventually("local-cache bound", || {
        pods.get("local-cache").ok()?.spec?.node_name
    })
    .await;
    let lost_node = eventually("lost bound", || pods.get("lost").ok()?.spec?.node_name).await;
    assert_eq!(lost_node, local_node);
}

/// A pod already bound to `node` (as if scheduled earlier), with a priority: 0, or that of the
/// PriorityClass `p<priority>` (see [`priority_classes`]).
fn bound(name: &str, node: &str, cpu: &str, priority: i32) -> Pod {
    let mut p = pod(name, cpu);
    let spec = p.spec.as_mut().unwrap();
    spec.node_name = Some(node.into());
    if priority != 0 {
        spec.priority_class_name = Some(format!("p{priority}"));
    }
    p
}

/// PriorityClasses `p<value>`: the API server's Priority admission gives pods their value.
async fn priority_classes(env: &Env, values: &[i32]) {
    let classes: Api<k8s_openapi::api::scheduling::v1::PriorityClass> =
        Api::all(&env.api, Actor::You);
    for v in values {
        classes
            .create(
                serde_json::from_value(serde_json::json!({
                    "metadata": {"name": format!("p{v}")}, "value": v,
                }))
                .unwrap(),
            )
            .await
            .unwrap();
    }
}

fn condition(pod: &Pod, type_: &str) -> Option<PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .cloned()
}

fn event(env: &Env, pod: &str, reason: &str, message: &str) -> Option<Event> {
    events_for(env, pod)
        .into_iter()
        .find(|e| e.reason.as_deref() == Some(reason) && e.message.as_deref() == Some(message))
}

/// Preemption end to end, through the API. The victims keep their default grace period (30 s):
/// kubox has no kubelet yet, so — as in a real cluster while the kubelet stops the containers —
/// a preempted pod stays Terminating (deletionTimestamp set) and keeps its room, and the
/// preemptor waits on its nominated node. The test then confirms the deletion as the kubelet
/// would once the containers are gone (a grace-0 delete), and the preemptor lands there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_priority_pod_preempts_the_cheapest_victims_and_waits_for_them() {
    let env = env().await;
    add_node(&env, "node-1", "1", &[], None).await;
    add_node(&env, "node-2", "1", &[], None).await;
    priority_classes(&env, &[50, 100]).await;
    let pods: Api<Pod> = Api::namespaced(&env.api, "default", Actor::You);
    // node-1: two priority-0 pods; node-2: a priority-50 and a priority-0 pod. Both are full.
    for (name, node, cpu, priority) in [
        ("low-a", "node-1", "600m", 0),
        ("low-b", "node-1", "400m", 0),
        ("mid-c", "node-2", "600m", 50),
        ("low-d", "node-2", "400m", 0),
    ] {
        pods.create(bound(name, node, cpu, priority)).await.unwrap();
    }
    // The scheduler has seen them all once a small pod of the same priority cannot fit (and
    // cannot preempt its peers).
    pods.create(pod("probe", "100m")).await.unwrap();
    eventually("the probe to fail", || {
        event(
            &env,
            "probe",
            "FailedScheduling",
            "0/2 nodes are available: 2 Insufficient cpu. \
             preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        )
    })
    .await;
    pods.delete("probe", &DeleteParams::default())
        .await
        .unwrap();

    let mut high = pod("high", "500m");
    high.spec.as_mut().unwrap().priority_class_name = Some("p100".into());
    let high = pods.create(high).await.unwrap();
    let uid = high.metadata.uid.clone().unwrap();

    // Either node would do with one victim; node-1's victim has the lower priority. On node-1,
    // low-b (400m) can stay: only low-a goes.
    let victim = eventually("low-a to be preempted", || {
        pods.get("low-a")
            .ok()
            .filter(|p| p.metadata.deletion_timestamp.is_some())
    })
    .await;
    assert_eq!(victim.metadata.deletion_grace_period_seconds, Some(30));
    let disruption = condition(&victim, "DisruptionTarget").expect("DisruptionTarget");
    assert_eq!(
        (
            disruption.status.as_str(),
            disruption.reason.as_deref(),
            disruption.message.as_deref()
        ),
        (
            "True",
            Some("PreemptionByScheduler"),
            Some("default-scheduler: preempting to accommodate a higher priority pod")
        )
    );
    let preempted = eventually("the Preempted event", || {
        event(
            &env,
            "low-a",
            "Preempted",
            &format!("Preempted by pod {uid} on node node-1"),
        )
    })
    .await;
    assert_eq!(preempted.type_.as_deref(), Some("Normal"));
    assert_eq!(
        preempted.involved_object.uid, victim.metadata.uid,
        "the event is about the victim"
    );
    assert_eq!(
        preempted.source.unwrap().component.as_deref(),
        Some("default-scheduler")
    );

    // The attempt that preempted still failed, and says why; the pod is nominated.
    eventually("FailedScheduling for the preempting attempt", || {
        event(
            &env,
            "high",
            "FailedScheduling",
            "0/2 nodes are available: 2 Insufficient cpu.",
        )
    })
    .await;
    let waiting = eventually("nominatedNodeName", || {
        pods.get("high").ok().filter(|p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.nominated_node_name.is_some())
        })
    })
    .await;
    assert_eq!(
        waiting
            .status
            .as_ref()
            .unwrap()
            .nominated_node_name
            .as_deref(),
        Some("node-1")
    );
    assert!(waiting.spec.unwrap().node_name.is_none());
    let first = &env.scheduler.records().for_pod("default/high")[0];
    let recorded = first
        .decision
        .preemption()
        .expect("the preemption is recorded");
    assert_eq!(recorded.nominated_node, "node-1");
    let victims: Vec<_> = recorded.victims.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(victims, ["low-a"]);

    // A cluster event while the victim terminates: the pod is tried again, and waits for its
    // victim rather than preempting more.
    let nodes: Api<Node> = Api::all(&env.api, Actor::You);
    nodes
        .patch(
            "node-2",
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"touched": "yes"}}})),
        )
        .await
        .unwrap();
    eventually("the retry to wait for the victim", || {
        event(
            &env,
            "high",
            "FailedScheduling",
            "0/2 nodes are available: 2 Insufficient cpu. \
             preemption: not eligible due to a terminating pod on the nominated node.",
        )
    })
    .await;
    for name in ["low-b", "mid-c", "low-d"] {
        let p = pods.get(name).unwrap();
        assert!(p.metadata.deletion_timestamp.is_none(), "{name} stays");
    }

    // The kubelet's confirmation: the victim is gone, and the pod goes to its nominated node.
    pods.delete("low-a", &DeleteParams::grace(0)).await.unwrap();
    let node = eventually("high bound", || pods.get("high").ok()?.spec?.node_name).await;
    assert_eq!(node, "node-1");
    eventually("the Scheduled event", || {
        event(
            &env,
            "high",
            "Scheduled",
            "Successfully assigned default/high to node-1",
        )
    })
    .await;
    assert!(pods.get_opt("low-a").unwrap().is_none());
}

/// Preemption for anti-affinity: the only way to place a pod that avoids `app=db` pods per host
/// is to evict the lower-priority db pod; the dry run uncounts it (InterPodAffinity's
/// RemovePod), so that host is a candidate and the unrelated pods stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_preempts_the_lower_priority_pod_it_is_anti_affine_to() {
    let env = env().await;
    add_node(&env, "n1", "4", &[("kubernetes.io/hostname", "n1")], None).await;
    add_node(&env, "n2", "4", &[("kubernetes.io/hostname", "n2")], None).await;
    priority_classes(&env, &[100, 1000]).await;
    let pods: Api<Pod> = Api::namespaced(&env.api, "default", Actor::You);
    let labelled = |mut p: Pod, app: &str| {
        p.metadata.labels = Some([("app".to_string(), app.to_string())].into());
        p
    };
    for (name, app, node, priority) in [
        ("db-low", "db", "n1", 0),
        ("web-low", "web", "n1", 0),
        ("db-vip", "db", "n2", 1000),
    ] {
        pods.create(labelled(bound(name, node, "100m", priority), app))
            .await
            .unwrap();
    }
    let avoiding_db = |name: &str, class: Option<&str>| {
        let mut p = labelled(pod(name, "100m"), "web");
        let spec = p.spec.as_mut().unwrap();
        spec.priority_class_name = class.map(String::from);
        spec.affinity = Some(
            serde_json::from_value(serde_json::json!({"podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [{
                    "labelSelector": {"matchLabels": {"app": "db"}},
                    "topologyKey": "kubernetes.io/hostname",
                }]
            }}))
            .unwrap(),
        );
        p
    };
    // The scheduler has seen the bound pods once a priority-0 pod avoiding db fails.
    pods.create(avoiding_db("probe", None)).await.unwrap();
    eventually("the probe to fail", || {
        event(
            &env,
            "probe",
            "FailedScheduling",
            "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. \
             preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        )
    })
    .await;
    pods.delete("probe", &DeleteParams::grace(0)).await.unwrap();

    pods.create(avoiding_db("web", Some("p100"))).await.unwrap();
    let victim = eventually("db-low to be preempted", || {
        pods.get("db-low")
            .ok()
            .filter(|p| p.metadata.deletion_timestamp.is_some())
    })
    .await;
    assert!(condition(&victim, "DisruptionTarget").is_some());
    let waiting = eventually("nominatedNodeName", || {
        pods.get("web")
            .ok()?
            .status?
            .nominated_node_name
            .filter(|n| !n.is_empty())
    })
    .await;
    assert_eq!(waiting, "n1");
    for name in ["web-low", "db-vip"] {
        let p = pods.get(name).unwrap();
        assert!(p.metadata.deletion_timestamp.is_none(), "{name} stays");
    }
    pods.delete("db-low", &DeleteParams::grace(0))
        .await
        .unwrap();
    let node = eventually("web bound", || pods.get("web").ok()?.spec?.node_name).await;
    assert_eq!(node, "n1");
}

/// matchLabelKeys narrow an anti-affinity term to the pods sharing the pod's own value (the API
/// merges them into the selector on create): a new version may share the node with the old one,
/// a second pod of the same version may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anti_affinity_match_label_keys_repel_only_the_same_version() {
    let env = env().await;
    add_node(&env, "n1", "4", &[("kubernetes.io/hostname", "n1")], None).await;
    let pods: Api<Pod> = Api::namespaced(&env.api, "default", Actor::You);
    let versioned = |name: &str, version: &str| {
        let mut p = pod(name, "100m");
        p.metadata.labels = Some(
            [("app", "web"), ("version", version)]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
        );
        p.spec.as_mut().unwrap().affinity = Some(
            serde_json::from_value(serde_json::json!({"podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [{
                    "labelSelector": {"matchLabels": {"app": "web"}},
                    "matchLabelKeys": ["version"],
                    "topologyKey": "kubernetes.io/hostname",
                }]
            }}))
            .unwrap(),
        );
        p
    };
    pods.create(versioned("web-v1", "v1")).await.unwrap();
    eventually("web-v1 bound", || pods.get("web-v1").ok()?.spec?.node_name).await;
    pods.create(versioned("web-v2", "v2")).await.unwrap();
    let node = eventually("web-v2 bound", || pods.get("web-v2").ok()?.spec?.node_name).await;
    assert_eq!(node, "n1");
    pods.create(versioned("web-v2b", "v2")).await.unwrap();
    let failed = eventually("FailedScheduling", || {
        events_for(&env, "web-v2b")
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    assert!(
        failed
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("didn't match pod anti-affinity rules"),
        "{failed:?}"
    );
}
