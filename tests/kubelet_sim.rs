//! The kubelet on the simulated runtime, through the API: pods bound to its node run, crash and
//! back off, complete, are refused when privileged, terminate gracefully, and are adopted by a
//! restarted kubelet. Back-off constants are shortened (injected), everything else is as shipped.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::phase;
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
    kubelet: Arc<Kubelet>,
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
    env_with_latency(Duration::from_millis(1)).await
}

/// A node whose every simulated runtime call takes `latency`.
async fn env_with_latency(latency: Duration) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let trace = TraceBus::new(1000);
    let store = Store::open(dir.path(), trace.clone()).unwrap();
    let api = ApiServer::new(store, trace);
    api.bootstrap().await.unwrap();
    let runtime = SimRuntime::new(latency);
    let stop = CancellationToken::new();
    let kubelet = Kubelet::new(&api, Arc::new(runtime.clone()), kubelet_config(dir.path()));
    tokio::spawn(kubelet.clone().run(stop.clone()));
    Env {
        dir,
        api,
        runtime,
        kubelet,
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
    until_within(env, name, what, Duration::from_secs(10), done).await
}

/// Polls the pod until `done` holds, `limit` at most.
async fn until_within(
    env: &Env,
    name: &str,
    what: &str,
    limit: Duration,
    done: impl Fn(&Pod) -> bool,
) -> Pod {
    for _ in 0..limit.as_millis() / 50 {
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

// ---- Health: probes, init containers, deadlines, on a paused clock ----

/// `(type reason, message, count)` of the events about `name`, oldest first.
fn counted_events(env: &Env, name: &str) -> Vec<(String, String, i32)> {
    use k8s_openapi::api::core::v1::Event;
    let events: Api<Event> = Api::namespaced(&env.api, "default", Actor::You);
    let mut list = events
        .list(&kubox::api::ListParams::default().fields(&format!("involvedObject.name={name}")))
        .unwrap()
        .items;
    list.sort_by_key(|e| e.first_timestamp.clone().map(|t| t.0));
    list.into_iter()
        .map(|e| {
            (
                format!(
                    "{} {}",
                    e.type_.unwrap_or_default(),
                    e.reason.unwrap_or_default()
                ),
                e.message.unwrap_or_default(),
                e.count.unwrap_or(1),
            )
        })
        .collect()
}

fn event_count(env: &Env, name: &str, reason: &str, message: &str) -> i32 {
    counted_events(env, name)
        .into_iter()
        .filter(|(r, m, _)| r.ends_with(reason) && m == message)
        .map(|(_, _, c)| c)
        .sum()
}

fn probed(name: &str, health: &str, container: serde_json::Value) -> serde_json::Value {
    let mut c = json!({"name": "app", "image": "busybox:1.36",
        "ports": [{"name": "http", "containerPort": 8080}]});
    for (k, v) in container.as_object().unwrap() {
        c[k] = v.clone();
    }
    json!({
        "metadata": {"name": name, "annotations": {"sim.kubox.io/health-app": health}},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [c]},
    })
}

/// Every version of the pod a watch delivers, collected in the background: a paused clock
/// may race past any one state, a watch sees them all.
fn watch_pod(env: &Env, name: &str) -> Arc<std::sync::Mutex<Vec<Pod>>> {
    let mut stream = pods(env)
        .watch(&kubox::api::WatchParams {
            field_selector: Some(format!("metadata.name={name}")),
            ..Default::default()
        })
        .unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<Pod>::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Some(ev) = stream.next().await {
            if let kubox::api::watch::WatchEvent::Added(p)
            | kubox::api::watch::WatchEvent::Modified(p) = ev
            {
                record.lock().unwrap().push(Arc::unwrap_or_clone(p));
            }
        }
    });
    seen
}

fn condition(p: &Pod, type_: &str) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == type_))
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

// A paused clock jumps ahead whenever every task waits, also while the store's writer thread
// syncs the disk; so these tests wait with generous virtual limits and assert on outcomes
// that no amount of extra virtual time can change (restartPolicy Never: one instance only).
const VIRTUAL: Duration = Duration::from_secs(300);

#[tokio::test(start_paused = true)]
async fn a_failing_liveness_probe_kills_the_container_after_three_failures() {
    let env = env().await;
    let mut pod = probed(
        "live",
        "fail after 5s",
        json!({"livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}}}),
    );
    pod["spec"]["restartPolicy"] = json!("Never");
    create(&env, pod).await;
    until_within(&env, "live", "ran", VIRTUAL, |p| phase(p) == "Running").await;
    let pod = until_within(&env, "live", "was killed", VIRTUAL, |p| {
        phase(p) == "Failed"
    })
    .await;
    // Three failures 10 s apart (the defaults), then the kill, in Kubernetes' words; under
    // Never, no restart.
    assert_eq!(
        event_count(&env, "live", "Unhealthy", "Liveness probe failed: "),
        3,
        "{:#?}",
        counted_events(&env, "live")
    );
    assert_eq!(
        event_count(
            &env,
            "live",
            "Killing",
            "Container app failed liveness probe"
        ),
        1
    );
    let c = app_status(&pod);
    assert_eq!(c["state"]["terminated"]["reason"], "Error", "{c}");
    assert_eq!(c["restartCount"], 0);
}

#[tokio::test(start_paused = true)]
async fn a_readiness_probe_holds_ready_until_it_passes() {
    let env = env().await;
    let seen = watch_pod(&env, "ready");
    let created = tokio::time::Instant::now();
    create(
        &env,
        probed(
            "ready",
            "ok after 15s",
            json!({"readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5}}),
        ),
    )
    .await;
    let pod = until_within(&env, "ready", "became ready", VIRTUAL, |p| {
        condition(p, "Ready") == "True"
    })
    .await;
    assert_eq!(app_status(&pod)["ready"], true);
    // Before that, it ran without being ready.
    let unready = seen
        .lock()
        .unwrap()
        .iter()
        .find(|p| phase(p) == "Running")
        .cloned()
        .expect("seen running");
    assert_eq!(app_status(&unready)["ready"], false);
    assert_eq!(condition(&unready, "Ready"), "False");
    assert!(
        created.elapsed() >= Duration::from_secs(15),
        "{:?}",
        created.elapsed()
    );
    assert!(
        event_count(
            &env,
            "ready",
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503"
        ) >= 2
    );
    // Readiness never restarts anything.
    assert_eq!(app_status(&pod)["restartCount"], 0);
}

#[tokio::test(start_paused = true)]
async fn a_startup_probe_holds_liveness_and_kills_when_it_gives_up() {
    let env = env().await;
    let mut pod = probed(
        "slow",
        "fail",
        json!({
            "startupProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1, "failureThreshold": 2},
            "livenessProbe": {"exec": {"command": ["true"]}},
        }),
    );
    pod["spec"]["restartPolicy"] = json!("Never");
    create(&env, pod).await;
    let running = until_within(&env, "slow", "ran", VIRTUAL, |p| phase(p) == "Running").await;
    assert_eq!(app_status(&running)["started"], false);
    assert_eq!(app_status(&running)["ready"], false);
    until_within(&env, "slow", "was killed", VIRTUAL, |p| {
        phase(p) == "Failed"
    })
    .await;
    let events = counted_events(&env, "slow");
    let failures: i32 = events
        .iter()
        .filter(|(r, m, _)| {
            r == "Warning Unhealthy"
                && m.starts_with("Startup probe failed: dial tcp 10.88.")
                && m.ends_with(":8080: connect: connection refused")
        })
        .map(|(_, _, c)| c)
        .sum();
    assert_eq!(failures, 2, "{events:#?}");
    assert_eq!(
        event_count(
            &env,
            "slow",
            "Killing",
            "Container app failed startup probe"
        ),
        1
    );
    // Liveness waits for startup: it never ran.
    assert!(
        !events.iter().any(|(_, m, _)| m.starts_with("Liveness")),
        "{events:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn init_containers_run_in_order_before_the_app() {
    let env = env().await;
    create(
        &env,
        json!({
            // Long enough that many resyncs pass while each runs: the paused clock jumps from
            // timer to timer whenever the tasks wait on the store's fsync, and with a short run
            // it could jump past the status write that shows the first one running.
            "metadata": {"name": "init", "annotations": {
                "sim.kubox.io/exit-first": "0 after 30s",
                "sim.kubox.io/exit-second": "0 after 30s",
            }},
            "spec": {"initContainers": [
                {"name": "first", "image": "busybox:1.36"},
                {"name": "second", "image": "busybox:1.36"},
            ], "containers": [{"name": "app", "image": "busybox:1.36"}]},
        }),
    )
    .await;
    // Every status the pod had, from a watch: the paused clock may race past any one of them.
    let seen = watch_pod(&env, "init");
    let pod = until_within(&env, "init", "ran", VIRTUAL, |p| phase(p) == "Running").await;
    // The watch delivers the Running write too: wait for it, then read what came before.
    until_within(&env, "init", "was watched running", VIRTUAL, |_| {
        seen.lock().unwrap().iter().any(|p| phase(p) == "Running")
    })
    .await;
    let initializing = seen
        .lock()
        .unwrap()
        .iter()
        .find(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.init_container_statuses.as_ref())
                .is_some_and(|i| i[0].state.as_ref().is_some_and(|s| s.running.is_some()))
        })
        .cloned()
        .expect("the first init container was seen running");
    assert_eq!(phase(&initializing), "Pending");
    assert_eq!(condition(&initializing, "Initialized"), "False");
    assert_eq!(
        app_status(&initializing)["state"]["waiting"]["reason"],
        "PodInitializing"
    );
    assert_eq!(condition(&pod, "Initialized"), "True");
    let started: Vec<String> = counted_events(&env, "init")
        .into_iter()
        .filter(|(r, _, _)| r == "Normal Started")
        .map(|(_, m, _)| m)
        .collect();
    assert_eq!(
        started,
        [
            "Started container first",
            "Started container second",
            "Started container app"
        ]
    );
    // A failing init container under Never fails the pod; the app never starts.
    create(
        &env,
        json!({
            "metadata": {"name": "broken", "annotations": {"sim.kubox.io/exit-setup": "1 after 1s"}},
            "spec": {"restartPolicy": "Never",
                "initContainers": [{"name": "setup", "image": "busybox:1.36"}],
                "containers": [{"name": "app", "image": "busybox:1.36"}]},
        }),
    )
    .await;
    let pod = until_within(&env, "broken", "failed", VIRTUAL, |p| phase(p) == "Failed").await;
    assert_eq!(
        app_status(&pod)["state"]["waiting"]["reason"],
        "PodInitializing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pod_past_its_active_deadline_fails() {
    let env = env().await;
    let mut pod = pod_json("deadline", "Always", None);
    pod["spec"]["activeDeadlineSeconds"] = json!(30);
    let started = tokio::time::Instant::now();
    create(&env, pod).await;
    until_within(&env, "deadline", "ran", VIRTUAL, |p| phase(p) == "Running").await;
    let pod = until_within(&env, "deadline", "failed", VIRTUAL, |p| {
        phase(p) == "Failed"
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
    let status = pod.status.as_ref().unwrap();
    assert_eq!(status.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(
        status.message.as_deref(),
        Some("Pod was active on the node longer than the specified deadline")
    );
    assert!(
        app_status(&pod)["state"]["terminated"].is_object(),
        "{}",
        app_status(&pod)
    );
    assert_eq!(
        event_count(
            &env,
            "deadline",
            "DeadlineExceeded",
            "Pod was active on the node longer than the specified deadline"
        ),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_post_start_hook_kills_the_container_and_a_pre_stop_hook_runs_first() {
    let env = env().await;
    create(
        &env,
        json!({
            "metadata": {"name": "hooked"},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                "name": "app", "image": "busybox:1.36",
                "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "exit 3"]}}},
            }]},
        }),
    )
    .await;
    let pod = until_within(&env, "hooked", "failed its hook", VIRTUAL, |p| {
        app_status(p)["state"]["waiting"]["reason"] == "PostStartHookError"
    })
    .await;
    let uid = pod.metadata.uid.clone().unwrap();
    let message = format!(
        "Exec lifecycle hook ([sh -c exit 3]) for Container \"app\" in Pod \"hooked_default({uid})\" failed - error: command 'sh -c exit 3' exited with 3: , message: \"\""
    );
    assert_eq!(
        app_status(&pod)["state"]["waiting"]["message"],
        message.as_str()
    );
    assert!(
        event_count(&env, "hooked", "FailedPostStartHook", &message) >= 1,
        "{:#?}",
        counted_events(&env, "hooked")
    );

    // preStop: a failing hook is said, a sleeping one holds the stop inside the grace period.
    create(
        &env,
        json!({
            "metadata": {"name": "polite"},
            "spec": {"terminationGracePeriodSeconds": 30, "containers": [
                {"name": "app", "image": "busybox:1.36",
                    "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}},
                {"name": "side", "image": "busybox:1.36",
                    "lifecycle": {"preStop": {"exec": {"command": ["false"]}}}},
            ]},
        }),
    )
    .await;
    until_within(&env, "polite", "ran", VIRTUAL, |p| phase(p) == "Running").await;
    let deleting = tokio::time::Instant::now();
    pods(&env)
        .delete("polite", &DeleteParams::default())
        .await
        .unwrap();
    for _ in 0..600 {
        if pods(&env).get_opt("polite").unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        pods(&env).get_opt("polite").unwrap().is_none(),
        "still there"
    );
    assert!(
        deleting.elapsed() >= Duration::from_secs(5),
        "{:?}",
        deleting.elapsed()
    );
    let events = counted_events(&env, "polite");
    assert!(
        events
            .iter()
            .any(|(r, m, _)| r == "Warning FailedPreStopHook"
                && m.starts_with("Exec lifecycle hook ([false]) for Container \"side\"")),
        "{events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_daemon_makes_the_node_not_ready_until_it_returns() {
    let env = env().await;
    create(&env, pod_json("web", "Always", None)).await;
    until(&env, "web", "ran", |p| phase(p) == "Running").await;
    let nodes: Api<Node> = Api::all(&env.api, Actor::You);
    let ready = |message: bool| {
        let node = nodes.get("node-1").unwrap();
        let c = node
            .status
            .unwrap()
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        if message {
            c.message.unwrap_or_default()
        } else {
            c.status
        }
    };
    // The node lifecycle controller, which marks the pods of a node that is not Ready.
    let controller = Arc::new(kubox::controller::node_lifecycle::NodeLifecycle::new(
        &env.api,
        kubox::controller::node_lifecycle::NodeLifecycleConfig {
            monitor_period: Duration::from_millis(100),
            grace_period: Duration::from_secs(30),
        },
    ));
    tokio::spawn(controller.run(env.stop.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.runtime.set_up(false);
    for _ in 0..100 {
        if ready(false) == "False" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready(false), "False");
    assert_eq!(ready(true), "container runtime is down");
    // Its pods are no longer Ready, but keep running; nothing panicked.
    let pod = until(&env, "web", "was marked not ready", |p| {
        condition(p, "Ready") == "False"
    })
    .await;
    assert_eq!(phase(&pod), "Running");
    // The daemon's return heals it all.
    env.runtime.set_up(true);
    for _ in 0..100 {
        if ready(false) == "True" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready(false), "True");
    until(&env, "web", "was ready again", |p| {
        condition(p, "Ready") == "True"
    })
    .await;
    create(&env, pod_json("after", "Always", None)).await;
    until(&env, "after", "ran", |p| phase(p) == "Running").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_container_is_restarted_per_policy() {
    let env = env().await;
    create(&env, pod_json("victim", "Always", None)).await;
    let pod = until(&env, "victim", "ran", |p| {
        app_status(p)["state"]["running"].is_object()
    })
    .await;
    assert_eq!(
        env.kubelet.kill_container(&pod, "nope").await,
        Err("container not found (\"nope\")".to_string())
    );
    env.kubelet.kill_container(&pod, "app").await.unwrap();
    let pod = until(&env, "victim", "restarted", |p| {
        app_status(p)["restartCount"] == 1 && app_status(p)["state"]["running"].is_object()
    })
    .await;
    let c = app_status(&pod);
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 137, "{c}");
    assert_eq!(c["lastState"]["terminated"]["reason"], "Error", "{c}");
}

/// Stopping a kubelet stops its syncs in flight, as stopping its process would: a pod whose
/// containers were being started stays unstarted (and no status says Running) until the kubelet
/// runs again, which then finishes the job. Real time: the store's writer is a thread, which a
/// paused clock would not wait for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_kubelet_abandons_a_sync_in_flight() {
    // Every runtime call takes 400 ms: a sync (sandbox, pull, container) is long in flight.
    let env = env_with_latency(Duration::from_millis(400)).await;
    create(&env, pod_json("slow", "Always", None)).await;
    let mut seen = pods(&env).get("slow").unwrap();
    for _ in 0..200 {
        if app_status(&seen)["state"]["waiting"]["reason"] == "ContainerCreating" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        seen = pods(&env).get("slow").unwrap();
    }
    assert_eq!(
        app_status(&seen)["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    env.kubelet.set_running(false);
    // Unstopped, the sync would have the pod Running within ~1.2 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pod = pods(&env).get("slow").unwrap();
    assert_ne!(phase(&pod), "Running", "no status after the stop");
    let app_running = env
        .runtime
        .list_pods("node-1")
        .await
        .unwrap()
        .iter()
        .flat_map(|p| &p.containers)
        .any(|c| c.name == "app" && c.state == kubox::kubelet::runtime::State::Running);
    assert!(!app_running, "the app was not started after the stop");

    env.kubelet.set_running(true);
    until(&env, "slow", "ran", |p| phase(p) == "Running").await;
}
