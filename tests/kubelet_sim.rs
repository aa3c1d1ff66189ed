//! The kubelet on the simulated runtime, through the API: pods bound to its node run, crash and
//! back off, complete, are refused when privileged, terminate gracefully, and are adopted by a
//! restarted kubelet. Back-off constants are shortened (injected), everything else is as shipped.

mod common;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kubox::api::{Api, ApiServer, DeleteParams};
use kubox::kubelet::backoff::BackoffConfig;
use kubox::kubelet::node::NodeConfig;
use kubox::kubelet::run::{Kubelet, KubeletConfig};
use kubox::kubelet::runtime::Runtime;
use kubox::kubelet::runtime::sim::SimRuntime;
use kubox::store::Store;
use kubox::trace::{Actor, TraceBus};
use serde_json::json;
use tokio_util::sync::CancellationToken;

struct Env {
    dir: tempfile::TempDir,
    api: ApiServer,
    runtime: SimRuntime,
    stop: CancellationToken,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn kubelet_config(dir: &std::path::Path) -> KubeletConfig {
    let mut config = KubeletConfig::new(NodeConfig::default_node(1), dir.join("kubelet"));
    let fast = BackoffConfig {
        initial: Duration::from_millis(300),
        max: Duration::from_millis(1200),
    };
    config.restart_backoff = fast;
    config.image_backoff = fast;
    config.heartbeat = Duration::from_millis(500);
    config.resync = Duration::from_millis(500);
    config
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let trace = TraceBus::new(1000);
    let store = Store::open(dir.path(), trace.clone()).unwrap();
    let api = ApiServer::new(store, trace);
    api.bootstrap().await.unwrap();
    let runtime = SimRuntime::new(Duration::from_millis(1));
    let stop = CancellationToken::new();
    let kubelet = Kubelet::new(&api, Arc::new(runtime.clone()), kubelet_config(dir.path()));
    tokio::spawn(kubelet.run(stop.clone()));
    Env {
        dir,
        api,
        runtime,
        stop,
    }
}

fn pods(env: &Env) -> Api<Pod> {
    Api::namespaced(&env.api, "default", Actor::You)
}

async fn create(env: &Env, value: serde_json::Value) -> Pod {
    let mut value = value;
    value["spec"]["nodeName"] = json!("node-1");
    pods(env)
        .create(serde_json::from_value(value).unwrap())
        .await
        .unwrap()
}

fn pod_json(name: &str, policy: &str, exit: Option<&str>) -> serde_json::Value {
    let mut v = json!({
        "metadata": {"name": name},
        "spec": {"restartPolicy": policy, "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "app", "image": "busybox:1.36"}]},
    });
    if let Some(exit) = exit {
        v["metadata"]["annotations"] = json!({"sim.kubox.io/exit-app": exit});
    }
    v
}

/// Polls the pod until `done` holds (10 s at most).
async fn until(env: &Env, name: &str, what: &str, done: impl Fn(&Pod) -> bool) -> Pod {
    for _ in 0..200 {
        if let Ok(Some(p)) = pods(env).get_opt(name)
            && done(&p)
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = pods(env).get_opt(name).unwrap();
    panic!(
        "pod {name} never {what}: {}",
        serde_json::to_string_pretty(&now).unwrap()
    );
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// The first container's status (null until the kubelet wrote one).
fn app_status(p: &Pod) -> serde_json::Value {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .map(|c| serde_json::to_value(c).unwrap())
        .unwrap_or_default()
}

fn events_for(env: &Env, name: &str) -> Vec<String> {
    common::event_lines(&env.api, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_registers_and_a_pod_runs() {
    let env = env().await;
    let nodes: Api<Node> = Api::all(&env.api, Actor::You);
    let mut node = None;
    for _ in 0..100 {
        node = nodes.get_opt("node-1").unwrap();
        if node.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let node = serde_json::to_value(node.expect("node-1 registered")).unwrap();
    assert_eq!(
        node["metadata"]["labels"]["topology.kubernetes.io/zone"],
        "zone-a"
    );
    assert_eq!(node["status"]["capacity"]["cpu"], "4");
    assert_eq!(node["status"]["conditions"][3]["type"], "Ready");
    assert_eq!(node["status"]["conditions"][3]["status"], "True");
    assert!(
        node["status"]["nodeInfo"]["containerRuntimeVersion"]
            .as_str()
            .unwrap()
            .starts_with("kubox-sim://")
    );

    create(&env, pod_json("web", "Always", None)).await;
    let pod = until(&env, "web", "ran", |p| phase(p) == "Running").await;
    let status = serde_json::to_value(pod.status.as_ref().unwrap()).unwrap();
    assert!(status["podIP"].as_str().unwrap().starts_with("10.88."));
    assert_eq!(status["hostIP"], "172.18.0.2");
    let c = app_status(&pod);
    assert_eq!(c["ready"], true);
    assert!(
        c["containerID"]
            .as_str()
            .unwrap()
            .starts_with("kubox-sim://")
    );
    assert!(c["state"]["running"]["startedAt"].is_string());
    let events = events_for(&env, "web");
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[0], "Normal Pulling: Pulling image \"busybox:1.36\"");
    assert!(
        events[1].starts_with("Normal Pulled: Successfully pulled image \"busybox:1.36\" in "),
        "{events:?}"
    );
    assert_eq!(events[2], "Normal Created: Created container: app");
    assert_eq!(events[3], "Normal Started: Started container app");

    // Nothing changes any more, so nothing is written: the resourceVersion stays.
    let rv = pod.metadata.resource_version.clone();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(pods(&env).get("web").unwrap().metadata.resource_version, rv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_container_crash_loops_with_back_off() {
    let env = env().await;
    create(&env, pod_json("crash", "Always", Some("1 after 0.05s"))).await;
    let pod = until(&env, "crash", "backed off", |p| {
        p.status.is_some()
            && p.status.as_ref().unwrap().container_statuses.is_some()
            && app_status(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    })
    .await;
    let c = app_status(&pod);
    let uid = pod.metadata.uid.clone().unwrap();
    assert_eq!(
        c["state"]["waiting"]["message"],
        format!("back-off 300ms restarting failed container=app pod=crash_default({uid})")
    );
    assert_eq!(c["lastState"]["terminated"]["reason"], "Error");
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(c["restartCount"], 1, "the first restart is immediate");
    assert_eq!(phase(&pod), "Running");
    let events = events_for(&env, "crash");
    assert!(
        events.contains(&format!(
            "Warning BackOff: Back-off restarting failed container app in pod crash_default({uid})"
        )),
        "{events:?}"
    );
    // The back-off doubles: 300ms, 600ms, 1.2s (the cap).
    let pod = until(&env, "crash", "backed off longer", |p| {
        app_status(p)["state"]["waiting"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("back-off 1.2s"))
    })
    .await;
    assert!(app_status(&pod)["restartCount"].as_i64().unwrap() >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_and_failed_pods_stop() {
    let env = env().await;
    create(&env, pod_json("done", "Never", Some("0 after 0.05s"))).await;
    create(&env, pod_json("broken", "Never", Some("2 after 0.05s"))).await;
    create(&env, pod_json("retry", "OnFailure", Some("0 after 0.05s"))).await;
    let done = until(&env, "done", "succeeded", |p| phase(p) == "Succeeded").await;
    assert_eq!(
        app_status(&done)["state"]["terminated"]["reason"],
        "Completed"
    );
    let broken = until(&env, "broken", "failed", |p| phase(p) == "Failed").await;
    assert_eq!(app_status(&broken)["state"]["terminated"]["exitCode"], 2);
    assert_eq!(
        app_status(&broken)["state"]["terminated"]["reason"],
        "Error"
    );
    let retry = until(&env, "retry", "succeeded", |p| phase(p) == "Succeeded").await;
    assert_eq!(app_status(&retry)["restartCount"], 0);
    let ready = &retry.status.as_ref().unwrap().conditions.as_ref().unwrap()[2];
    assert_eq!(
        (
            ready.type_.as_str(),
            ready.status.as_str(),
            ready.reason.as_deref()
        ),
        ("Ready", "False", Some("PodCompleted"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privileged_pods_are_refused_and_deletion_is_graceful() {
    let env = env().await;
    let mut privileged = pod_json("root", "Always", None);
    privileged["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    create(&env, privileged).await;
    let pod = until(&env, "root", "was refused", |p| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some()
    })
    .await;
    let c = app_status(&pod);
    assert_eq!(
        c["state"]["waiting"]["reason"],
        "CreateContainerConfigError"
    );
    assert!(
        c["state"]["waiting"]["message"]
            .as_str()
            .unwrap()
            .contains("kubox refuses privileged container \"app\"")
    );

    create(&env, pod_json("web", "Always", None)).await;
    until(&env, "web", "ran", |p| phase(p) == "Running").await;
    let before = env.runtime.container_count();
    assert!(before >= 2, "sandbox and container");
    pods(&env)
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    for _ in 0..100 {
        if pods(&env).get_opt("web").unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        pods(&env).get_opt("web").unwrap().is_none(),
        "the kubelet confirmed the deletion"
    );
    assert!(
        events_for(&env, "web").contains(&"Normal Killing: Stopping container app".to_string())
    );
    let left = env.runtime.list_pods("node-1").await.unwrap();
    assert!(
        left.iter().all(|p| p.pod.name != "web"),
        "the pod's containers are removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_kubelet_adopts_its_containers_and_removes_orphans() {
    let env = env().await;
    create(&env, pod_json("keep", "Always", None)).await;
    create(&env, pod_json("orphan", "Always", None)).await;
    until(&env, "keep", "ran", |p| phase(p) == "Running").await;
    until(&env, "orphan", "ran", |p| phase(p) == "Running").await;
    let ids = |pods: &[kubox::kubelet::runtime::PodStatus], name: &str| -> Vec<String> {
        let mut ids: Vec<String> = pods
            .iter()
            .filter(|p| p.pod.name == name)
            .flat_map(|p| p.containers.iter().map(|c| c.id.clone()))
            .collect();
        ids.sort();
        ids
    };
    let before = env.runtime.list_pods("node-1").await.unwrap();
    // The kubelet stops; meanwhile one pod is force-deleted through the API.
    env.stop.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    pods(&env)
        .delete("orphan", &DeleteParams::grace(0))
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let kubelet = Kubelet::new(
        &env.api,
        Arc::new(env.runtime.clone()),
        kubelet_config(env.dir.path()),
    );
    tokio::spawn(kubelet.run(stop.clone()));
    let mut after = Vec::new();
    for _ in 0..100 {
        after = env.runtime.list_pods("node-1").await.unwrap();
        if ids(&after, "orphan").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        ids(&after, "orphan").is_empty(),
        "the orphan's containers are removed"
    );
    assert_eq!(
        ids(&after, "keep"),
        ids(&before, "keep"),
        "no new container for the adopted pod"
    );
    assert_eq!(phase(&pods(&env).get("keep").unwrap()), "Running");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_cannot_be_pulled_backs_off() {
    let env = env().await;
    let mut bad = pod_json("nope", "Always", None);
    bad["spec"]["containers"][0]["image"] = json!("does-not-exist:1");
    create(&env, bad).await;
    until(&env, "nope", "backed off", |p| {
        app_status(p)["state"]["waiting"]["reason"] == "ImagePullBackOff"
    })
    .await;
    let events = events_for(&env, "nope");
    for want in [
        "Normal Pulling: Pulling image \"does-not-exist:1\"",
        "Warning Failed: Error: ErrImagePull",
        "Normal BackOff: Back-off pulling image \"does-not-exist:1\"",
        "Warning Failed: Error: ImagePullBackOff",
    ] {
        assert!(
            events.iter().any(|e| e == want),
            "missing {want:?} in {events:?}"
        );
    }
    // ErrImagePull shows in the status only until the next sync, which comes quickly; the
    // events keep it, with the daemon's words.
    assert!(
        events.iter().any(|e| e.starts_with(
            "Warning Failed: Failed to pull image \"does-not-exist:1\": Error response from daemon: pull access denied for does-not-exist:1"
        )),
        "{events:?}"
    );
}
