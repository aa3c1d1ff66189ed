//! The in-process API server's verbs, as Kubernetes behaves.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, Event, Namespace, Node, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubox::api::runtime::{self, watcher};
use kubox::api::{
    Api, ApiServer, DeleteParams, Deleted, EventRecorder, EventType, ListParams, Patch, Reason,
    WatchEvent, WatchParams,
};
use kubox::store::Store;
use kubox::trace::{Actor, TraceBus};
use serde_json::json;

struct Env {
    _dir: tempfile::TempDir,
    server: ApiServer,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let trace = TraceBus::new(1000);
    let store = Store::open(dir.path(), trace.clone()).unwrap();
    let server = ApiServer::new(store, trace);
    server.bootstrap().await.unwrap();
    Env { _dir: dir, server }
}

fn pod(name: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some([("app".to_string(), "web".to_string())].into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("busybox:1.36".into()),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

fn pods(env: &Env) -> Api<Pod> {
    Api::namespaced(&env.server, "default", Actor::You)
}

#[tokio::test]
async fn create_sets_server_fields_and_get_list_agree() {
    let env = env().await;
    let api = pods(&env);
    let created = api.create(pod("web")).await.unwrap();
    let meta = &created.metadata;
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    assert!(meta.uid.as_deref().is_some_and(|u| u.len() == 36));
    assert!(meta.creation_timestamp.is_some());
    let rv: u64 = meta.resource_version.as_deref().unwrap().parse().unwrap();
    assert_eq!(rv, env.server.store().revision().unwrap());
    assert_eq!(api.get("web").unwrap(), created);

    let list = api.list(&ListParams::default()).unwrap();
    assert_eq!(list.items, vec![created.clone()]);
    assert_eq!(list.resource_version, rv.to_string());

    let again = api.create(pod("web")).await.unwrap_err();
    assert_eq!((again.code, again.reason), (409, Reason::AlreadyExists));
    assert_eq!(again.message, r#"pods "web" already exists"#);

    let missing = api.get("nope").unwrap_err();
    assert_eq!(
        (missing.code, missing.message.as_str()),
        (404, r#"pods "nope" not found"#)
    );

    // The store key is Kubernetes' etcd key.
    let (kv, _) = env
        .server
        .store()
        .get("/registry/pods/default/web")
        .unwrap();
    assert!(kv.is_some());
}

#[tokio::test]
async fn namespaces_exist_at_start_and_are_required() {
    let env = env().await;
    let all: Api<Namespace> = Api::all(&env.server, Actor::You);
    let names: Vec<_> = all
        .list(&ListParams::default())
        .unwrap()
        .items
        .into_iter()
        .map(|n| n.metadata.name.unwrap())
        .collect();
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(names.contains(&ns.to_string()), "{names:?}");
    }
    let err = Api::<Pod>::namespaced(&env.server, "nowhere", Actor::You)
        .create(pod("web"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (404, r#"namespaces "nowhere" not found"#)
    );
    let err = all
        .delete("default", &DeleteParams::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, 403);
    assert_eq!(
        err.message,
        r#"namespaces "default" is forbidden: this namespace may not be deleted"#
    );
}

/// The cluster id (kube-system's uid, which labels kubox's containers) is the same after a
/// restart on the same data dir and differs between data dirs.
#[tokio::test]
async fn the_cluster_id_survives_a_restart_of_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let start = || async {
        let trace = TraceBus::new(100);
        let server = ApiServer::new(Store::open(dir.path(), trace.clone()).unwrap(), trace);
        server.bootstrap().await.unwrap();
        server
    };
    let first = start().await;
    let id = first.cluster_id().unwrap();
    let system: Namespace = first.get(None, "kube-system").unwrap();
    assert_eq!(system.metadata.uid.as_deref(), Some(id.as_str()));
    first.store().close().await;
    drop(first);
    let again = start().await;
    assert_eq!(again.cluster_id().unwrap(), id);
    again.store().close().await;
    assert_ne!(env().await.server.cluster_id().unwrap(), id);
}

#[tokio::test]
async fn stale_update_conflicts_and_unconditional_update_applies() {
    let env = env().await;
    let api = pods(&env);
    let v1 = api.create(pod("web")).await.unwrap();
    let mut change = v1.clone();
    change.metadata.labels = Some([("app".to_string(), "v2".to_string())].into());
    let v2 = api.replace("web", change.clone()).await.unwrap();
    assert!(v2.metadata.resource_version > v1.metadata.resource_version);

    // The same resourceVersion again is stale now.
    let err = api.replace("web", change.clone()).await.unwrap_err();
    assert_eq!((err.code, err.reason), (409, Reason::Conflict));
    assert_eq!(
        err.message,
        r#"Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again"#
    );
    // Without a resourceVersion, the update applies to whatever is current.
    change.metadata.resource_version = None;
    change.metadata.labels = Some([("app".to_string(), "v3".to_string())].into());
    let v3 = api.replace("web", change).await.unwrap();
    assert_eq!(v3.metadata.labels.unwrap()["app"], "v3");
    // Server-owned fields survive a replace that omits them.
    assert_eq!(v3.metadata.uid, v1.metadata.uid);
    assert_eq!(
        v3.metadata.creation_timestamp,
        v1.metadata.creation_timestamp
    );

    // An update that changes nothing writes nothing.
    let before = env.server.store().revision().unwrap();
    let same = api.get("web").unwrap();
    api.replace("web", same).await.unwrap();
    assert_eq!(env.server.store().revision().unwrap(), before);
}

#[tokio::test]
async fn status_and_main_updates_touch_only_their_part() {
    let env = env().await;
    let api = pods(&env);
    api.create(pod("web")).await.unwrap();
    let mut with_status = api.get("web").unwrap();
    with_status.status.get_or_insert_default().phase = Some("Running".into());
    with_status.metadata.labels = Some([("sneaky".to_string(), "yes".to_string())].into());
    let after = api.replace_status("web", with_status).await.unwrap();
    assert_eq!(after.status.unwrap().phase.as_deref(), Some("Running"));
    assert_eq!(
        after.metadata.labels.unwrap().get("sneaky"),
        None,
        "status writes keep metadata"
    );

    let mut main = api.get("web").unwrap();
    main.status.get_or_insert_default().phase = Some("Failed".into());
    let after = api.replace("web", main).await.unwrap();
    assert_eq!(
        after.status.unwrap().phase.as_deref(),
        Some("Running"),
        "main writes keep status"
    );
}

#[tokio::test]
async fn merge_and_json_patches() {
    let env = env().await;
    let api = pods(&env);
    api.create(pod("web")).await.unwrap();
    let patched = api
        .patch(
            "web",
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "front", "app": null}}})),
        )
        .await
        .unwrap();
    let labels = patched.metadata.labels.unwrap();
    assert_eq!(labels.get("tier").map(String::as_str), Some("front"));
    assert!(!labels.contains_key("app"), "null deletes in a merge patch");

    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/containers/0/image", "value": "busybox:1.37"}
    ]))
    .unwrap();
    let patched = api.patch("web", &Patch::Json(ops)).await.unwrap();
    assert_eq!(
        patched.spec.unwrap().containers[0].image.as_deref(),
        Some("busybox:1.37")
    );

    // A resourceVersion in the patch is a precondition.
    let err = api
        .patch(
            "web",
            &Patch::Merge(json!({"metadata": {"resourceVersion": "1", "labels": {"x": "y"}}})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.reason, Reason::Conflict);
}

#[tokio::test]
async fn pod_delete_is_graceful_once_bound() {
    let env = env().await;
    let api = pods(&env);
    api.create(pod("pending")).await.unwrap();
    match api
        .delete("pending", &DeleteParams::default())
        .await
        .unwrap()
    {
        Deleted::Gone(p) => assert_eq!(p.metadata.name.as_deref(), Some("pending")),
        other => panic!("an unscheduled pod is deleted at once, got {other:?}"),
    }
    assert!(api.get("pending").unwrap_err().is_not_found());

    api.create(pod("web")).await.unwrap();
    let bound = api.bind("web", "node-1").await.unwrap();
    assert_eq!(
        bound.spec.as_ref().unwrap().node_name.as_deref(),
        Some("node-1")
    );
    let cond = &bound.status.as_ref().unwrap().conditions.as_ref().unwrap()[0];
    assert_eq!(
        (cond.type_.as_str(), cond.status.as_str()),
        ("PodScheduled", "True")
    );

    let err = api.bind("web", "node-2").await.unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(
        err.message,
        r#"Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "node-1""#
    );

    match api.delete("web", &DeleteParams::default()).await.unwrap() {
        Deleted::Terminating(p) => {
            assert!(p.metadata.deletion_timestamp.is_some());
            assert_eq!(p.metadata.deletion_grace_period_seconds, Some(30));
        }
        other => panic!("a bound pod is deleted gracefully, got {other:?}"),
    }
    assert!(
        api.get("web")
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
    );
    // The kubelet confirms with grace 0; then it is gone.
    assert!(matches!(
        api.delete("web", &DeleteParams::grace(0)).await.unwrap(),
        Deleted::Gone(_)
    ));
    assert!(api.get("web").unwrap_err().is_not_found());
}

#[tokio::test]
async fn selectors_filter_list_and_reject_unknown_fields() {
    let env = env().await;
    let api = pods(&env);
    api.create(pod("a")).await.unwrap();
    let mut other = pod("b");
    other.metadata.labels = Some([("app".to_string(), "db".to_string())].into());
    api.create(other).await.unwrap();
    api.bind("a", "node-1").await.unwrap();

    let names = |p: &ListParams| -> Vec<String> {
        api.list(p)
            .unwrap()
            .items
            .into_iter()
            .map(|p| p.metadata.name.unwrap())
            .collect()
    };
    assert_eq!(names(&ListParams::default().labels("app=web")), ["a"]);
    assert_eq!(
        names(&ListParams::default().fields("spec.nodeName=node-1")),
        ["a"]
    );
    assert_eq!(
        names(&ListParams::default().fields("spec.nodeName=")),
        ["b"]
    );
    assert_eq!(
        names(&ListParams::default().fields("metadata.name=b")),
        ["b"]
    );
    let err = api
        .list(&ListParams::default().fields("spec.bogus=1"))
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (400, "field label not supported: spec.bogus")
    );
}

async fn next<K: kubox::api::Kind>(w: &mut kubox::api::WatchStream<K>) -> WatchEvent<K> {
    tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .expect("event in time")
        .expect("stream open")
}

fn name_of<K: kubox::api::Kind>(ev: &WatchEvent<K>) -> (&'static str, String) {
    let obj = match ev {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => o,
        other => panic!("expected an object event, got {}", other.type_name()),
    };
    (ev.type_name(), obj.metadata().name.clone().unwrap())
}

#[tokio::test]
async fn watch_follows_selector_membership_like_kubernetes() {
    let env = env().await;
    let api = pods(&env);
    api.create(pod("existing")).await.unwrap();

    // rv "0"/empty: synthetic ADDED for what exists, then changes.
    let mut all = api.watch(&WatchParams::default()).unwrap();
    assert_eq!(name_of(&next(&mut all).await), ("ADDED", "existing".into()));

    // The scheduler's view: pods with no node. The kubelet's: pods on node-1.
    let mut unbound = api
        .watch(&WatchParams::from_list(&ListParams::default().fields("spec.nodeName=")).at("0"))
        .unwrap();
    let mut node1 = api
        .watch(&WatchParams {
            field_selector: Some("spec.nodeName=node-1".into()),
            ..WatchParams::default()
        })
        .unwrap();
    assert_eq!(
        name_of(&next(&mut unbound).await),
        ("ADDED", "existing".into())
    );

    api.create(pod("web")).await.unwrap();
    api.bind("web", "node-1").await.unwrap();
    api.delete("web", &DeleteParams::grace(0)).await.unwrap();

    assert_eq!(name_of(&next(&mut all).await), ("ADDED", "web".into()));
    assert_eq!(name_of(&next(&mut all).await), ("MODIFIED", "web".into()));
    let deleted = next(&mut all).await;
    assert_eq!(name_of(&deleted), ("DELETED", "web".into()));

    assert_eq!(name_of(&next(&mut unbound).await), ("ADDED", "web".into()));
    assert_eq!(
        name_of(&next(&mut unbound).await),
        ("DELETED", "web".into()),
        "bound pods leave the unbound view"
    );

    assert_eq!(
        name_of(&next(&mut node1).await),
        ("ADDED", "web".into()),
        "a pod bound to the node enters its view"
    );
    assert_eq!(name_of(&next(&mut node1).await), ("DELETED", "web".into()));

    // From a revision: only what came after it.
    let rv = api
        .get("existing")
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut from = api.watch(&WatchParams::default().at(rv)).unwrap();
    assert_eq!(name_of(&next(&mut from).await), ("ADDED", "web".into()));
}

#[tokio::test]
async fn watch_from_compacted_revision_is_410_expired() {
    let env = env().await;
    let api: Api<Event> = Api::namespaced(&env.server, "default", Actor::You);
    let store = env.server.store();
    let n = kubox::store::RETAIN_REVISIONS + 1500;
    let pending: Vec<_> = (0..n)
        .map(|i| {
            store.submit(kubox::store::Op::Create {
                key: format!("/registry/configmaps/default/c{i}"),
                value: bytes::Bytes::from_static(b"{}"),
            })
        })
        .collect();
    for p in pending {
        p.await.unwrap().unwrap();
    }
    let mut w = api.watch(&WatchParams::default().at("2")).unwrap();
    match next(&mut w).await {
        WatchEvent::Error(e) => {
            assert_eq!((e.code, e.reason), (410, Reason::Expired));
            assert!(
                e.message.starts_with("too old resource version: 2 ("),
                "{}",
                e.message
            );
        }
        other => panic!("expected ERROR, got {}", other.type_name()),
    }
    assert!(w.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn idle_watch_sends_bookmarks_when_asked() {
    let env = env().await;
    let api = pods(&env);
    let rv = env.server.store().revision().unwrap().to_string();
    let mut w = api
        .watch(&WatchParams::default().at(rv.clone()).bookmarks())
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(60), w.next())
        .await
        .expect("a bookmark within a minute");
    match first.unwrap() {
        WatchEvent::Bookmark(at) => assert_eq!(at, rv),
        other => panic!("expected BOOKMARK, got {}", other.type_name()),
    }
}

#[tokio::test]
async fn events_aggregate_repeats() {
    let env = env().await;
    let api = pods(&env);
    let p = api.create(pod("web")).await.unwrap();
    let recorder = EventRecorder::new(&env.server, "default-scheduler", None, Actor::Scheduler);
    let regarding = kubox::api::events::object_reference(&p);
    let first = recorder
        .record(
            &regarding,
            EventType::Warning,
            "FailedScheduling",
            "0/3 nodes are available: 3 Insufficient cpu.",
        )
        .await
        .unwrap();
    for _ in 0..2 {
        recorder
            .record(
                &regarding,
                EventType::Warning,
                "FailedScheduling",
                "0/3 nodes are available: 3 Insufficient cpu.",
            )
            .await
            .unwrap();
    }
    recorder
        .record(
            &regarding,
            EventType::Normal,
            "Scheduled",
            "Successfully assigned default/web to node-2",
        )
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(&env.server, "default", Actor::You);
    let list = events
        .list(&ListParams::default().fields("involvedObject.name=web"))
        .unwrap()
        .items;
    assert_eq!(list.len(), 2);
    let failed = list
        .iter()
        .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .unwrap();
    assert_eq!(failed.metadata.name, first.metadata.name);
    assert_eq!(failed.count, Some(3));
    assert!(failed.last_timestamp >= failed.first_timestamp);
    assert_eq!(
        failed.source.as_ref().unwrap().component.as_deref(),
        Some("default-scheduler")
    );
    assert!(failed.metadata.name.as_deref().unwrap().starts_with("web."));
}

#[tokio::test]
async fn watcher_and_reflector_keep_a_cache() {
    let env = env().await;
    let api = pods(&env);
    api.create(pod("a")).await.unwrap();
    let (cache, writer) = runtime::store::<Pod>();
    let stream = runtime::reflector(writer, watcher(api.clone(), ListParams::default()));
    tokio::pin!(stream);
    assert_eq!(stream.next().await.unwrap().unwrap(), runtime::Event::Init);
    assert!(matches!(
        stream.next().await.unwrap().unwrap(),
        runtime::Event::InitApply(_)
    ));
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        runtime::Event::InitDone
    );
    assert!(cache.is_ready());
    assert!(cache.get("default", "a").is_some());
    api.create(pod("b")).await.unwrap();
    assert!(matches!(
        stream.next().await.unwrap().unwrap(),
        runtime::Event::Apply(_)
    ));
    assert_eq!(cache.len(), 2);
    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(matches!(
        stream.next().await.unwrap().unwrap(),
        runtime::Event::Delete(_)
    ));
    assert!(cache.get("default", "a").is_none());
}

#[tokio::test]
async fn nodes_live_under_minions_and_trace_records_each_step() {
    let env = env().await;
    let mut sub = env.server.trace().subscribe();
    let nodes: Api<Node> = Api::all(&env.server, Actor::Kubelet("node-1".into()));
    nodes
        .create(Node {
            metadata: ObjectMeta {
                name: Some("node-1".into()),
                ..ObjectMeta::default()
            },
            ..Node::default()
        })
        .await
        .unwrap();
    let (kv, _) = env.server.store().get("/registry/minions/node-1").unwrap();
    assert!(kv.is_some());
    let mut steps = Vec::new();
    while let Some(Ok(step)) = sub.try_next() {
        steps.push(step.to_string());
    }
    let rev = env.server.store().revision().unwrap();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(
        steps[0],
        "kubelet node-1 → API server: POST nodes [/registry/minions/node-1]"
    );
    assert!(
        steps[1].starts_with(&format!("API server → store: commit create rev {rev} · ")),
        "{}",
        steps[1]
    );
    assert!(
        steps[2].starts_with(&format!(
            "API server → kubelet node-1: 201 Created rev {rev} · "
        )),
        "{}",
        steps[2]
    );
}

#[tokio::test]
async fn validation_errors_read_as_kubernetes_writes_them() {
    let env = env().await;
    let api = pods(&env);
    let mut bad = pod("web");
    bad.spec.as_mut().unwrap().containers[0].image = None;
    let err = api.create(bad).await.unwrap_err();
    assert_eq!((err.code, err.reason), (422, Reason::Invalid));
    assert_eq!(
        err.message,
        r#"Pod "web" is invalid: spec.containers[0].image: Required value"#
    );
    let cause = &err.details.as_ref().unwrap().causes.as_ref().unwrap()[0];
    assert_eq!(cause.field.as_deref(), Some("spec.containers[0].image"));
    assert_eq!(cause.reason.as_deref(), Some("FieldValueRequired"));

    let err = api.create(pod("Web_1")).await.unwrap_err();
    assert!(
        err.message.starts_with(r#"Pod "Web_1" is invalid: metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain"#),
        "{}",
        err.message
    );

    let mut greedy = pod("greedy");
    greedy.spec.as_mut().unwrap().containers[0].resources =
        Some(k8s_openapi::api::core::v1::ResourceRequirements {
            requests: Some(
                [(
                    "cpu".to_string(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity("2".into()),
                )]
                .into(),
            ),
            limits: Some(
                [(
                    "cpu".to_string(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity("1".into()),
                )]
                .into(),
            ),
            ..Default::default()
        });
    let err = api.create(greedy).await.unwrap_err();
    assert_eq!(
        err.message,
        r#"Pod "greedy" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1"#
    );
}

/// matchLabelKeys are merged into the selector on create, then validated as Kubernetes does:
/// a key the user's selector already has shows up twice, and is refused.
#[tokio::test]
async fn match_label_keys_are_validated_after_they_are_merged() {
    let env = env().await;
    let api = pods(&env);
    let with_term = |name: &str, term: serde_json::Value| {
        let mut p = pod(name);
        p.metadata.labels = Some([("version".to_string(), "v1".to_string())].into());
        p.spec.as_mut().unwrap().affinity = Some(
            serde_json::from_value(json!({"podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [term]
            }}))
            .unwrap(),
        );
        p
    };
    let err = api
        .create(with_term(
            "twice",
            json!({"labelSelector": {"matchLabels": {"version": "v1"}},
                   "matchLabelKeys": ["version"], "topologyKey": "zone"}),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code, 422);
    assert_eq!(
        err.message,
        r#"Pod "twice" is invalid: spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0][0]: Invalid value: "version": exists in both matchLabelKeys and labelSelector"#
    );
    let err = api
        .create(with_term(
            "unselected",
            json!({"mismatchLabelKeys": ["version"], "topologyKey": "zone"}),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        r#"Pod "unselected" is invalid: spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].mismatchLabelKeys: Forbidden: must not be specified when labelSelector is not set"#
    );
    api.create(with_term(
        "fine",
        json!({"labelSelector": {"matchLabels": {"app": "web"}},
               "matchLabelKeys": ["version"], "topologyKey": "zone"}),
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn defaults_are_applied_on_create() {
    let env = env().await;
    let created = pods(&env).create(pod("web")).await.unwrap();
    let spec = created.spec.as_ref().unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(spec.termination_grace_period_seconds, Some(30));
    assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirst"));
    assert_eq!(spec.scheduler_name.as_deref(), Some("default-scheduler"));
    assert_eq!(
        spec.containers[0].image_pull_policy.as_deref(),
        Some("IfNotPresent")
    );
    let status = created.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));

    let mut latest = pod("latest");
    latest.spec.as_mut().unwrap().containers[0].image = Some("busybox".into());
    let created = pods(&env).create(latest).await.unwrap();
    assert_eq!(
        created.spec.unwrap().containers[0]
            .image_pull_policy
            .as_deref(),
        Some("Always")
    );
}

#[tokio::test]
async fn pod_spec_is_immutable_except_the_allowed_fields() {
    let env = env().await;
    let api = pods(&env);
    api.create(pod("web")).await.unwrap();
    // Allowed: the image.
    let mut change = api.get("web").unwrap();
    change.spec.as_mut().unwrap().containers[0].image = Some("busybox:1.37".into());
    api.replace("web", change).await.unwrap();
    // Forbidden: anything else, with Kubernetes' message.
    let mut change = api.get("web").unwrap();
    change.spec.as_mut().unwrap().restart_policy = Some("Never".into());
    let err = api.replace("web", change).await.unwrap_err();
    assert_eq!(err.code, 422);
    assert!(
        err.message.starts_with(
            r#"Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"#
        ),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("spec.restartPolicy"),
        "the message names what changed: {}",
        err.message
    );
}

/// In-process watchers of one revision share one decoded object (the memory of 10,000 pods is
/// paid once, not once per scheduler, kubelet and TUI), and each still sees its own events.
#[tokio::test]
async fn in_process_watchers_share_one_decoded_object_per_revision() {
    fn object<K>(ev: WatchEvent<K>) -> std::sync::Arc<K> {
        match ev {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => o,
            other => panic!("expected an object, got {}", other.type_name()),
        }
    }
    let env = env().await;
    let api = pods(&env);
    let now = WatchParams::default().at(api
        .list(&ListParams::default())
        .unwrap()
        .resource_version
        .clone());
    let mut a = api.watch(&now).unwrap();
    let mut b = api.watch(&now).unwrap();
    let mut on_node = api
        .watch(
            &WatchParams::from_list(&ListParams::default().fields("spec.nodeName=node-1"))
                .at(now.resource_version.clone().unwrap()),
        )
        .unwrap();
    api.create(pod("web")).await.unwrap();
    api.bind("web", "node-1").await.unwrap();

    let (a1, b1) = (object(next(&mut a).await), object(next(&mut b).await));
    assert!(
        std::sync::Arc::ptr_eq(&a1, &b1),
        "one decode for both watchers"
    );
    let (a2, b2) = (object(next(&mut a).await), object(next(&mut b).await));
    assert!(std::sync::Arc::ptr_eq(&a2, &b2));
    assert!(
        !std::sync::Arc::ptr_eq(&a1, &a2),
        "each revision its own object"
    );
    assert_eq!(
        a2.spec.as_ref().unwrap().node_name.as_deref(),
        Some("node-1")
    );
    let bound = next(&mut on_node).await;
    assert_eq!(bound.type_name(), "ADDED");
    assert!(std::sync::Arc::ptr_eq(&object(bound), &a2));

    // A list-watch's list hands out the same object as the watches.
    let (mut items, _) = api.list_lazily(&ListParams::default()).unwrap();
    let listed = items.next().unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(&listed, &a2));
}
