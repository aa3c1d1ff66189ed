//! The kubelet on a real Docker daemon, through the API: pods bound to its node run in Docker
//! containers named and labelled as Kubernetes did on Docker, share localhost, complete, fail,
//! crash-loop, are OOM-killed, stop gracefully on delete, keep their logs, leave foreign
//! containers alone, are re-adopted by a restarted kubelet, back off on images that cannot be
//! pulled, are restarted quickly when killed by hand, get a new sandbox when theirs dies, and
//! are not written again once synced.
//!
//! Each test has a node of its own (a unique name), so tests run in parallel and clean up what
//! carries their node label. Back-off constants are shortened (injected); the resync period is
//! the shipped one (10 s), so quick reactions come from the Docker event stream, not from
//! polling. Skips (saying why) without a daemon, unless KUBOX_REQUIRE_DOCKER=1, as CI sets.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, EventsOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder,
};
use common::phase;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kubox::api::watch::WatchEvent;
use kubox::api::{Api, ApiServer, DeleteParams, WatchParams};
use kubox::kubelet::backoff::BackoffConfig;
use kubox::kubelet::logs::LogRequest;
use kubox::kubelet::node::NodeConfig;
use kubox::kubelet::run::{Kubelet, KubeletConfig};
use kubox::kubelet::runtime::docker::DockerRuntime;
use kubox::kubelet::runtime::{
    LABEL_CLUSTER, LABEL_CONTAINER_NAME, LABEL_DOCKER_TYPE, LABEL_NODE, LABEL_POD_NAME,
    LABEL_POD_NAMESPACE, LABEL_POD_UID, LogOptions,
};
use kubox::store::Store;
use kubox::trace::{Actor, TraceBus};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use common::docker::{TEST_IMAGE, TestNode, docker};

/// How long anything may take before a test gives up.
const LIMIT: Duration = Duration::from_secs(30);

struct Env {
    dir: tempfile::TempDir,
    api: ApiServer,
    rt: DockerRuntime,
    /// Every kubelet started for this node; all are stopped on drop.
    stops: Mutex<Vec<CancellationToken>>,
    /// Removes every container labelled for this node when dropped, after the kubelets
    /// stopped (it is the last field, dropped after `Env::drop` ran).
    node: TestNode,
}

impl Drop for Env {
    fn drop(&mut self) {
        for stop in self.stops.lock().unwrap().iter() {
            stop.cancel();
        }
        // A pod worker may be in the middle of a Docker call when its kubelet stops; let it
        // finish before the node's containers are removed.
        std::thread::sleep(Duration::from_millis(300));
    }
}

impl Env {
    /// An API server and a Docker runtime, without a kubelet yet; `None` without a daemon.
    async fn new() -> Option<Env> {
        Env::on_node(TestNode::new()).await
    }

    /// [`Env::new`] for a given node (another cluster's node of the same name).
    async fn on_node(node: TestNode) -> Option<Env> {
        let dir = tempfile::tempdir().unwrap();
        let trace = TraceBus::new(1000);
        let store = Store::open(dir.path(), trace.clone()).unwrap();
        let api = ApiServer::new(store, trace);
        api.bootstrap().await.unwrap();
        // This API server's cluster, as `Cluster::start` names it.
        let rt = docker().await?.for_cluster(&api.cluster_id().unwrap());
        Some(Env {
            dir,
            api,
            rt,
            stops: Mutex::new(Vec::new()),
            node,
        })
    }

    /// An API server, a Docker runtime and a running kubelet.
    async fn with_kubelet() -> Option<(Env, Arc<Kubelet>)> {
        let env = Env::new().await?;
        let (kubelet, _) = env.start_kubelet();
        Some((env, kubelet))
    }

    fn config(&self) -> KubeletConfig {
        let mut node = NodeConfig::default_node(1);
        node.name = self.node.name.clone();
        node.labels
            .insert("kubernetes.io/hostname".into(), self.node.name.clone());
        let mut config = KubeletConfig::new(node, self.dir.path().join("kubelet"));
        let fast = BackoffConfig {
            initial: Duration::from_millis(300),
            max: Duration::from_millis(1200),
        };
        config.restart_backoff = fast;
        config.image_backoff = fast;
        config
    }

    /// Starts a kubelet for this node; the token stops it.
    fn start_kubelet(&self) -> (Arc<Kubelet>, CancellationToken) {
        self.start_kubelet_with(self.config())
    }

    fn start_kubelet_with(&self, config: KubeletConfig) -> (Arc<Kubelet>, CancellationToken) {
        let stop = CancellationToken::new();
        self.stops.lock().unwrap().push(stop.clone());
        let kubelet = Kubelet::new(&self.api, Arc::new(self.rt.clone()), config);
        tokio::spawn(kubelet.clone().run(stop.clone()));
        (kubelet, stop)
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(&self.api, "default", Actor::You)
    }

    /// Creates the pod bound to this node.
    async fn create(&self, mut value: serde_json::Value) -> Pod {
        value["spec"]["nodeName"] = json!(self.node.name);
        self.pods()
            .create(serde_json::from_value(value).unwrap())
            .await
            .unwrap()
    }

    fn get(&self, name: &str) -> Option<Pod> {
        self.pods().get_opt(name).unwrap()
    }

    /// Polls the pod until `done` holds.
    async fn until(&self, name: &str, what: &str, done: impl Fn(&Pod) -> bool) -> Pod {
        let start = Instant::now();
        loop {
            if let Some(p) = self.get(name)
                && done(&p)
            {
                return p;
            }
            if start.elapsed() > LIMIT {
                panic!(
                    "pod {name} never {what} in {LIMIT:?}: {}\nevents: {:#?}",
                    serde_json::to_string_pretty(&self.get(name)).unwrap(),
                    self.events_for(name)
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Polls until the pod is gone from the API.
    async fn until_gone(&self, name: &str) {
        let start = Instant::now();
        while self.get(name).is_some() {
            assert!(
                start.elapsed() < LIMIT,
                "pod {name} still in the API after {LIMIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn events_for(&self, name: &str) -> Vec<String> {
        common::event_lines(&self.api, name)
    }

    /// The Docker containers of this node (all states), optionally of one pod uid.
    async fn containers(&self, uid: Option<&str>) -> Vec<ContainerSummary> {
        let mut labels = vec![format!("{LABEL_NODE}={}", self.node.name)];
        if let Some(uid) = uid {
            labels.push(format!("{LABEL_POD_UID}={uid}"));
        }
        let filters = HashMap::from([("label", labels)]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        self.rt
            .client()
            .list_containers(Some(options))
            .await
            .unwrap()
    }

    /// Sorted IDs of the pod's Docker containers.
    async fn container_ids(&self, uid: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .containers(Some(uid))
            .await
            .into_iter()
            .filter_map(|c| c.id)
            .collect();
        ids.sort();
        ids
    }

    /// Every waiting/terminated reason the pod's first container shows, in order, from a
    /// watch (so a status that lasted one write is not missed).
    fn record_reasons(&self, name: &str) -> Arc<Mutex<Vec<String>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let params = WatchParams {
            field_selector: Some(format!("metadata.name={name}")),
            ..WatchParams::default()
        };
        let mut stream = self.pods().watch(&params).unwrap();
        let out = seen.clone();
        tokio::spawn(async move {
            while let Some(ev) = stream.next().await {
                let pod = match ev {
                    WatchEvent::Added(p) | WatchEvent::Modified(p) => p,
                    _ => continue,
                };
                let c = app_status(&pod);
                let reason = c["state"]["waiting"]["reason"]
                    .as_str()
                    .or(c["state"]["terminated"]["reason"].as_str())
                    .or(c["state"]["running"].is_object().then_some("Running"));
                if let Some(reason) = reason {
                    let mut seen = out.lock().unwrap();
                    if seen.last().map(String::as_str) != Some(reason) {
                        seen.push(reason.to_string());
                    }
                }
            }
        });
        seen
    }
}

/// A pod of the test image running `sh -c script` in container `app`.
fn shell_pod(name: &str, policy: &str, script: &str) -> serde_json::Value {
    json!({
        "metadata": {"name": name},
        "spec": {"restartPolicy": policy, "terminationGracePeriodSeconds": 2,
            "containers": [shell_container("app", script)]},
    })
}

fn shell_container(name: &str, script: &str) -> serde_json::Value {
    json!({"name": name, "image": TEST_IMAGE, "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", script]})
}

/// The status of container `name` (null until the kubelet wrote one).
fn container_status(p: &Pod, name: &str) -> serde_json::Value {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.iter().find(|c| c.name == name))
        .map(|c| serde_json::to_value(c).unwrap())
        .unwrap_or_default()
}

fn app_status(p: &Pod) -> serde_json::Value {
    container_status(p, "app")
}

fn uid(p: &Pod) -> String {
    p.metadata.uid.clone().unwrap()
}

/// `docker://<id>` → `<id>`.
fn docker_id(status: &serde_json::Value) -> String {
    let id = status["containerID"].as_str().expect("containerID");
    id.strip_prefix("docker://")
        .unwrap_or_else(|| panic!("containerID {id} is not docker://"))
        .to_string()
}

async fn logs(kubelet: &Kubelet, pod: &Pod, container: Option<&str>, previous: bool) -> String {
    logs_with(kubelet, pod, container, previous, LogOptions::default())
        .await
        .unwrap()
}

async fn logs_with(
    kubelet: &Kubelet,
    pod: &Pod,
    container: Option<&str>,
    previous: bool,
    options: LogOptions,
) -> Result<String, String> {
    let request = LogRequest {
        container: container.map(str::to_string),
        previous,
        options,
    };
    let mut stream = kubelet
        .logs(pod, &request)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
    }
    Ok(String::from_utf8(out).unwrap())
}

/// Polls the container's logs until they contain `text`.
async fn until_logged(kubelet: &Kubelet, pod: &Pod, container: &str, text: &str) {
    let start = Instant::now();
    loop {
        let out = logs(kubelet, pod, Some(container), false).await;
        if out.contains(text) {
            return;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{container} never logged {text:?}: {out:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_runs_in_docker_with_kubernetes_names_and_labels() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let start = Instant::now();
    let mut web = shell_pod("web", "Always", "exec sleep 300");
    web["spec"]["containers"][0]["env"] = json!([
        {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]);
    let created = env.create(web).await;
    let pod = env.until("web", "ran", |p| phase(p) == "Running").await;
    eprintln!(
        "create → Running on Docker (1 container + sandbox): {} ms",
        start.elapsed().as_millis()
    );
    let uid = uid(&created);
    let status = serde_json::to_value(pod.status.as_ref().unwrap()).unwrap();
    let app = app_status(&pod);
    assert_eq!(app["ready"], true);
    assert_eq!(app["started"], true);
    assert_eq!(app["restartCount"], 0);
    assert_eq!(app["image"], TEST_IMAGE);
    assert!(app["state"]["running"]["startedAt"].is_string());

    // Exactly a sandbox and the app container, named and labelled as Kubernetes did on Docker.
    let containers = env.containers(Some(&uid)).await;
    assert_eq!(containers.len(), 2, "{containers:#?}");
    let docker = env.rt.client();
    let app_id = docker_id(&app);
    let inspected = docker.inspect_container(&app_id, None).await.unwrap();
    assert_eq!(inspected.id.as_deref(), Some(app_id.as_str()));
    assert_eq!(
        inspected.name.as_deref(),
        Some(format!("/k8s_app_web_default_{uid}_0").as_str())
    );
    assert!(inspected.state.as_ref().unwrap().running.unwrap());
    let images = env.rt.client().inspect_image(TEST_IMAGE).await.unwrap();
    assert_eq!(app["imageID"].as_str(), images.id.as_deref());
    let labels = inspected.config.as_ref().unwrap().labels.clone().unwrap();
    assert_eq!(labels[LABEL_POD_NAME], "web");
    assert_eq!(labels[LABEL_POD_NAMESPACE], "default");
    assert_eq!(labels[LABEL_POD_UID], uid);
    assert_eq!(labels[LABEL_CONTAINER_NAME], "app");
    assert_eq!(labels[LABEL_DOCKER_TYPE], "container");
    assert_eq!(labels[LABEL_NODE], env.node.name);
    let cluster = env.api.cluster_id().unwrap();
    assert_eq!(labels[LABEL_CLUSTER], cluster);

    let sandbox = containers
        .iter()
        .find(|c| c.id.as_deref() != Some(app_id.as_str()))
        .unwrap();
    let sandbox = docker
        .inspect_container(sandbox.id.as_deref().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(
        sandbox.name.as_deref(),
        Some(format!("/k8s_POD_web_default_{uid}_0").as_str())
    );
    let labels = sandbox.config.as_ref().unwrap().labels.clone().unwrap();
    assert_eq!(labels[LABEL_POD_NAME], "web");
    assert_eq!(labels[LABEL_POD_NAMESPACE], "default");
    assert_eq!(labels[LABEL_POD_UID], uid);
    assert_eq!(labels[LABEL_CONTAINER_NAME], "POD");
    assert_eq!(labels[LABEL_DOCKER_TYPE], "podsandbox");
    assert_eq!(labels[LABEL_NODE], env.node.name);
    assert_eq!(labels[LABEL_CLUSTER], cluster);

    // The pod IP is the sandbox's address on the bridge; the app shares its network.
    let sandbox_ip = sandbox.network_settings.unwrap().networks.unwrap()["bridge"]
        .ip_address
        .clone()
        .unwrap();
    assert!(!sandbox_ip.is_empty());
    assert_eq!(status["podIP"], sandbox_ip);
    assert_eq!(status["podIPs"][0]["ip"], sandbox_ip);
    // The env's fieldRefs, the pod IP among them, as the container got them.
    let app_env = inspected.config.as_ref().unwrap().env.clone().unwrap();
    assert!(app_env.contains(&"MY_POD=web".to_string()), "{app_env:?}");
    assert!(
        app_env.contains(&format!("MY_IP={sandbox_ip}")),
        "{app_env:?}"
    );
    assert_eq!(status["hostIP"], "172.18.0.2");
    assert_eq!(
        inspected.host_config.unwrap().network_mode.unwrap(),
        format!("container:{}", sandbox.id.unwrap())
    );

    let events = env.events_for("web");
    assert_eq!(
        events,
        [
            format!("Normal Pulled: Container image \"{TEST_IMAGE}\" already present on machine"),
            "Normal Created: Created container: app".to_string(),
            "Normal Started: Started container app".to_string(),
        ]
    );

    // The Node says which runtime it runs on.
    let node: Node = Api::all(&env.api, Actor::You).get(&env.node.name).unwrap();
    let version = node
        .status
        .unwrap()
        .node_info
        .unwrap()
        .container_runtime_version;
    assert!(version.starts_with("docker://"), "{version}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_containers_of_a_pod_talk_over_localhost() {
    let Some((env, kubelet)) = Env::with_kubelet().await else {
        return;
    };
    env.create(json!({
        "metadata": {"name": "pair"},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 2, "containers": [
            shell_container("server",
                "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www"),
            shell_container("client",
                "for i in $(seq 1 100); do wget -qO- http://127.0.0.1:8080/index.html && exit 0; sleep 0.1; done; exit 1"),
        ]},
    }))
    .await;
    let pod = env
        .until("pair", "had its client finish", |p| {
            container_status(p, "client")["state"]["terminated"].is_object()
        })
        .await;
    let client = container_status(&pod, "client");
    let out = logs(&kubelet, &pod, Some("client"), false).await;
    assert_eq!(
        client["state"]["terminated"]["exitCode"], 0,
        "client logs: {out}"
    );
    assert_eq!(client["state"]["terminated"]["reason"], "Completed");
    assert_eq!(out, "hello-from-server\n");
    assert!(container_status(&pod, "server")["state"]["running"].is_object());
    assert_eq!(phase(&pod), "Running", "the server still runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_complete_fail_and_crash_loop_with_back_off() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let reasons = env.record_reasons("crash");
    env.create(shell_pod("done", "Never", "exit 0")).await;
    env.create(shell_pod("broken", "Never", "exit 2")).await;
    let crash = env
        .create(shell_pod("crash", "Always", "echo boom; exit 1"))
        .await;

    let done = env
        .until("done", "succeeded", |p| phase(p) == "Succeeded")
        .await;
    let app = app_status(&done);
    assert_eq!(app["state"]["terminated"]["reason"], "Completed");
    assert_eq!(app["state"]["terminated"]["exitCode"], 0);
    assert_eq!(app["restartCount"], 0);
    let broken = env
        .until("broken", "failed", |p| phase(p) == "Failed")
        .await;
    let app = app_status(&broken);
    assert_eq!(app["state"]["terminated"]["reason"], "Error");
    assert_eq!(app["state"]["terminated"]["exitCode"], 2);

    let uid = uid(&crash);
    let pod = env
        .until("crash", "backed off", |p| {
            app_status(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        })
        .await;
    let app = app_status(&pod);
    let message = app["state"]["waiting"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("back-off ")
            && message.ends_with(&format!(
                " restarting failed container=app pod=crash_default({uid})"
            )),
        "{message}"
    );
    assert_eq!(app["lastState"]["terminated"]["reason"], "Error");
    assert_eq!(app["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(phase(&pod), "Running");
    let first = app["restartCount"].as_i64().unwrap();
    assert!(first >= 1, "the first restart is immediate");

    // The restart count grows, the back-off doubles up to its cap (1.2s here).
    let pod = env
        .until("crash", "backed off longer", |p| {
            app_status(p)["restartCount"].as_i64().unwrap_or(0) >= 3
                && app_status(p)["state"]["waiting"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("back-off 1.2s"))
        })
        .await;
    assert!(app_status(&pod)["restartCount"].as_i64().unwrap() > first);
    let events = env.events_for("crash");
    let backoff = format!(
        "Warning BackOff: Back-off restarting failed container app in pod crash_default({uid})"
    );
    assert!(events.contains(&backoff), "{events:?}");
    assert!(
        events.contains(&"Normal Started: Started container app".to_string()),
        "{events:?}"
    );
    let seen = reasons.lock().unwrap().clone();
    assert!(
        seen.iter().any(|r| r == "Error") && seen.iter().any(|r| r == "CrashLoopBackOff"),
        "{seen:?}"
    );
    // Container GC keeps the newest exited instances only, not one per restart.
    let left = env.containers(Some(&uid)).await.len();
    assert!(left <= 4, "{left} containers left for a crash-looping pod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_limit_ends_in_oom_killed() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    // Docker 20.10 now and then loses an OOM kill (exit 137, `OOMKilled: false` and no `oom`
    // event) when its notifications race; the daemon then has nothing to tell, so such a run
    // is tried again. Whatever the daemon did see must show as OOMKilled.
    for attempt in 1..=3 {
        let name = format!("hungry-{attempt}");
        let mut pod = shell_pod(
            &name,
            "Never",
            r#"x=$(head -c 100m /dev/zero | tr "\0" a); echo survived"#,
        );
        pod["spec"]["containers"][0]["resources"] = json!({"limits": {"memory": "16Mi"}});
        env.create(pod).await;
        let failed = env.until(&name, "failed", |p| phase(p) == "Failed").await;
        let app = app_status(&failed);
        assert_eq!(app["state"]["terminated"]["exitCode"], 137, "{app}");
        let id = docker_id(&app);
        let inspected = env.rt.client().inspect_container(&id, None).await.unwrap();
        assert_eq!(inspected.host_config.unwrap().memory, Some(16 << 20));
        assert_eq!(
            failed.status.as_ref().unwrap().qos_class.as_deref(),
            Some("Burstable")
        );
        // An `oom` event that comes after the exit corrects the reason a moment later.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut reason = app["state"]["terminated"]["reason"].clone();
        while reason != "OOMKilled" && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            reason = app_status(&env.get(&name).unwrap())["state"]["terminated"]["reason"].clone();
        }
        if reason == "OOMKilled" {
            return;
        }
        let again = env.rt.client().inspect_container(&id, None).await.unwrap();
        let docker_says = again.state.unwrap().oom_killed;
        assert_eq!(
            docker_says,
            Some(false),
            "Docker says OOMKilled, the pod says {reason}"
        );
        eprintln!("attempt {attempt}: Docker lost the OOM kill of {name}; trying again");
    }
    panic!("three OOM kills in a row lost by Docker");
}

/// The exit codes of the pod's containers as Docker's `die` events report them.
fn record_exit_codes(env: &Env, uid: &str) -> Arc<Mutex<Vec<(String, String)>>> {
    let filters = HashMap::from([
        ("type", vec!["container".to_string()]),
        ("event", vec!["die".to_string()]),
        ("label", vec![format!("{LABEL_POD_UID}={uid}")]),
    ]);
    let options = EventsOptionsBuilder::default().filters(&filters).build();
    let mut stream = env.rt.client().events(Some(options));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(ev)) = stream.next().await {
            let attributes = ev.actor.and_then(|a| a.attributes).unwrap_or_default();
            let name = attributes
                .get(LABEL_CONTAINER_NAME)
                .cloned()
                .unwrap_or_default();
            let code = attributes.get("exitCode").cloned().unwrap_or_default();
            out.lock().unwrap().push((name, code));
        }
    });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_sends_sigterm_and_removes_everything() {
    let Some((env, kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let mut graceful = shell_pod(
        "graceful",
        "Always",
        "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.2; done",
    );
    graceful["spec"]["terminationGracePeriodSeconds"] = json!(20);
    // PID 1 without a handler ignores SIGTERM: only the SIGKILL after the grace period ends it.
    let mut stubborn = shell_pod("stubborn", "Always", "echo ready; exec sleep 300");
    stubborn["spec"]["terminationGracePeriodSeconds"] = json!(3);
    let graceful = env.create(graceful).await;
    let stubborn = env.create(stubborn).await;
    let graceful_exits = record_exit_codes(&env, &uid(&graceful));
    let stubborn_exits = record_exit_codes(&env, &uid(&stubborn));
    for name in ["graceful", "stubborn"] {
        let pod = env.until(name, "ran", |p| phase(p) == "Running").await;
        until_logged(&kubelet, &pod, "app", "ready").await;
    }

    let start = Instant::now();
    env.pods()
        .delete("graceful", &DeleteParams::default())
        .await
        .unwrap();
    env.until_gone("graceful").await;
    let took = start.elapsed();
    eprintln!(
        "delete → gone (SIGTERM handled, grace 20 s): {} ms",
        took.as_millis()
    );
    // The trap ran: no wait for the 20 s grace period, and PID 1 exited 0 by itself.
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        env.containers(Some(&uid(&graceful))).await.is_empty(),
        "the pod's containers are removed from Docker"
    );
    assert!(
        graceful_exits
            .lock()
            .unwrap()
            .contains(&("app".to_string(), "0".to_string())),
        "{:?}",
        graceful_exits.lock().unwrap()
    );
    let events = env.events_for("graceful");
    assert!(
        events.contains(&"Normal Killing: Stopping container app".to_string()),
        "{events:?}"
    );

    let start = Instant::now();
    env.pods()
        .delete("stubborn", &DeleteParams::default())
        .await
        .unwrap();
    env.until_gone("stubborn").await;
    let took = start.elapsed();
    eprintln!(
        "delete → gone (SIGTERM ignored, grace 3 s): {} ms",
        took.as_millis()
    );
    assert!(took >= Duration::from_secs(3), "{took:?}");
    assert!(env.containers(Some(&uid(&stubborn))).await.is_empty());
    assert!(
        stubborn_exits
            .lock()
            .unwrap()
            .contains(&("app".to_string(), "137".to_string())),
        "{:?}",
        stubborn_exits.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_tail_and_previous_after_a_restart() {
    let Some((env, kubelet)) = Env::with_kubelet().await else {
        return;
    };
    // An emptyDir outlives the container: it counts the attempts. The first fails, the
    // second keeps running. (stdout and stderr are two pipes: pauses keep their lines in
    // order.)
    let script = "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; \
                  echo attempt-$n; echo line-1; sleep 0.2; echo line-2 >&2; sleep 0.2; echo line-3; \
                  if [ $n -lt 2 ]; then exit 1; fi; exec sleep 300";
    let mut pod = shell_pod("chatty", "Always", script);
    pod["spec"]["volumes"] = json!([{"name": "data", "emptyDir": {}}]);
    pod["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
    env.create(pod).await;
    let pod = env
        .until("chatty", "restarted", |p| {
            app_status(p)["restartCount"] == 1 && app_status(p)["state"]["running"].is_object()
        })
        .await;
    until_logged(&kubelet, &pod, "app", "line-3").await;
    assert_eq!(
        logs(&kubelet, &pod, None, false).await,
        "attempt-2\nline-1\nline-2\nline-3\n"
    );
    assert_eq!(
        logs(&kubelet, &pod, Some("app"), true).await,
        "attempt-1\nline-1\nline-2\nline-3\n"
    );
    let tail = LogOptions {
        tail: Some(2),
        ..LogOptions::default()
    };
    assert_eq!(
        logs_with(&kubelet, &pod, Some("app"), false, tail.clone())
            .await
            .unwrap(),
        "line-2\nline-3\n"
    );
    assert_eq!(
        logs_with(&kubelet, &pod, Some("app"), true, tail)
            .await
            .unwrap(),
        "line-2\nline-3\n"
    );
    let app = app_status(&pod);
    assert_eq!(app["lastState"]["terminated"]["exitCode"], 1);
    let err = logs_with(&kubelet, &pod, Some("nope"), false, LogOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.contains("container nope is not valid for pod chatty"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_containers_survive_everything() {
    let Some(env) = Env::new().await else {
        return;
    };
    let docker = env.rt.client();
    let plain_name = format!("kubox-test-foreign-{}", env.node.name);
    // One without labels, one that looks like a real kubelet's (Kubernetes labels, no kubox
    // node label), one of another kubox node.
    let k8s_labels = HashMap::from([
        (LABEL_POD_NAME.to_string(), "web".to_string()),
        (LABEL_POD_NAMESPACE.to_string(), "default".to_string()),
        (LABEL_POD_UID.to_string(), uuid::Uuid::new_v4().to_string()),
        (LABEL_CONTAINER_NAME.to_string(), "app".to_string()),
        (LABEL_DOCKER_TYPE.to_string(), "container".to_string()),
    ]);
    let mut other_node = k8s_labels.clone();
    other_node.insert(LABEL_NODE.into(), format!("{}-other", env.node.name));
    // Everything kubox puts on its own, for this very node, but another cluster's id: it looks
    // like an orphan (no such pod in this API), which the kubelet would otherwise remove.
    let cluster = env.api.cluster_id().unwrap();
    let mut other_cluster = k8s_labels.clone();
    other_cluster.insert(LABEL_NODE.into(), env.node.name.clone());
    other_cluster.insert(LABEL_CLUSTER.into(), format!("{cluster}-other"));
    let mut other_cluster_sandbox = other_cluster.clone();
    other_cluster_sandbox.insert(LABEL_DOCKER_TYPE.into(), "podsandbox".into());
    other_cluster_sandbox.insert(LABEL_CONTAINER_NAME.into(), "POD".into());
    let mut foreign = Vec::new();
    for (name, labels) in [
        (plain_name.clone(), None),
        (format!("{plain_name}-k8s"), Some(k8s_labels)),
        (format!("{plain_name}-other-node"), Some(other_node)),
        (format!("{plain_name}-other-cluster"), Some(other_cluster)),
        (
            format!("{plain_name}-other-cluster-sandbox"),
            Some(other_cluster_sandbox),
        ),
    ] {
        env.node.also_remove(&name);
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let body = ContainerCreateBody {
            image: Some(TEST_IMAGE.into()),
            cmd: Some(vec!["sleep".into(), "300".into()]),
            labels,
            ..Default::default()
        };
        let created = docker.create_container(Some(options), body).await.unwrap();
        docker.start_container(&created.id, None).await.unwrap();
        foreign.push(created.id);
    }
    let all_running = || async {
        for id in &foreign {
            let c = docker.inspect_container(id, None).await.unwrap();
            assert!(c.state.unwrap().running.unwrap(), "{:?} stopped", c.name);
        }
    };

    // A kubelet starts (removing orphans), runs a pod, deletes it, stops; another starts.
    let (_, stop) = env.start_kubelet();
    env.create(shell_pod("web", "Always", "exec sleep 300"))
        .await;
    env.until("web", "ran", |p| phase(p) == "Running").await;
    all_running().await;
    env.pods()
        .delete("web", &DeleteParams::grace(1))
        .await
        .unwrap();
    env.until_gone("web").await;
    all_running().await;
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    env.start_kubelet();
    env.create(shell_pod("again", "Always", "exec sleep 300"))
        .await;
    env.until("again", "ran", |p| phase(p) == "Running").await;
    all_running().await;
}

/// A second kubox (its own data dir) with the same node name on the same daemon: its kubelet's
/// start (orphan removal), its pods and their deletion leave the first cluster's pod alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cluster_with_the_same_node_names_leaves_the_first_alone() {
    let Some(first) = Env::new().await else {
        return;
    };
    let Some(second) = Env::on_node(TestNode::named(&first.node.name)).await else {
        return;
    };
    assert_ne!(first.api.cluster_id(), second.api.cluster_id());
    first.start_kubelet();
    let web = first
        .create(shell_pod("web", "Always", "exec sleep 300"))
        .await;
    let before = first.until("web", "ran", |p| phase(p) == "Running").await;
    let ids = first.container_ids(&uid(&web)).await;
    assert_eq!(ids.len(), 2, "sandbox and app");

    // The second cluster's kubelet starts on the same node name, runs a pod of the same name,
    // deletes it.
    second.start_kubelet();
    let theirs = second
        .create(shell_pod("web", "Always", "exec sleep 300"))
        .await;
    second.until("web", "ran", |p| phase(p) == "Running").await;
    assert_eq!(second.container_ids(&uid(&theirs)).await.len(), 2);
    second
        .pods()
        .delete("web", &DeleteParams::grace(1))
        .await
        .unwrap();
    second.until_gone("web").await;
    assert!(second.container_ids(&uid(&theirs)).await.is_empty());

    // Give both kubelets time to relist and sync (and, were either wrong, act).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(first.container_ids(&uid(&web)).await, ids);
    for id in &ids {
        let c = first.rt.client().inspect_container(id, None).await.unwrap();
        assert!(c.state.unwrap().running.unwrap(), "{:?} stopped", c.name);
    }
    let after = first.get("web").unwrap();
    assert_eq!(phase(&after), "Running");
    assert_eq!(
        app_status(&after)["containerID"],
        app_status(&before)["containerID"]
    );
    assert_eq!(app_status(&after)["restartCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_kubelet_adopts_its_containers_and_removes_orphans() {
    let Some(env) = Env::new().await else {
        return;
    };
    let (_, stop) = env.start_kubelet();
    let keep = env
        .create(shell_pod("keep", "Always", "exec sleep 300"))
        .await;
    let orphan = env
        .create(shell_pod("orphan", "Always", "exec sleep 300"))
        .await;
    let leaving = env
        .create(shell_pod(
            "leaving",
            "Always",
            "trap 'exit 0' TERM; while true; do sleep 0.2; done",
        ))
        .await;
    let before = env.until("keep", "ran", |p| phase(p) == "Running").await;
    env.until("orphan", "ran", |p| phase(p) == "Running").await;
    env.until("leaving", "ran", |p| phase(p) == "Running").await;
    let keep_ids = env.container_ids(&uid(&keep)).await;
    assert_eq!(keep_ids.len(), 2, "sandbox and app");
    assert_eq!(env.container_ids(&uid(&orphan)).await.len(), 2);

    // The kubelet stops; its containers keep running; one pod is force-deleted meanwhile,
    // another deleted gracefully (it stays Terminating until a kubelet confirms).
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.pods()
        .delete("orphan", &DeleteParams::grace(0))
        .await
        .unwrap();
    env.pods()
        .delete("leaving", &DeleteParams::grace(20))
        .await
        .unwrap();
    assert!(env.get("orphan").is_none());
    assert_eq!(env.container_ids(&uid(&orphan)).await.len(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        env.get("leaving").is_some(),
        "nobody confirmed the deletion"
    );
    assert_eq!(env.container_ids(&uid(&leaving)).await.len(), 2);

    let start = Instant::now();
    env.start_kubelet();
    while !env.container_ids(&uid(&orphan)).await.is_empty() {
        assert!(start.elapsed() < LIMIT, "the orphan's containers stay");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "kubelet restart → orphan's containers removed: {} ms",
        start.elapsed().as_millis()
    );
    env.until_gone("leaving").await;
    assert!(env.container_ids(&uid(&leaving)).await.is_empty());
    // Give the new kubelet time to sync the adopted pod (and, were it wrong, duplicate it).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        env.container_ids(&uid(&keep)).await,
        keep_ids,
        "the same containers, no duplicates"
    );
    let after = env.get("keep").unwrap();
    assert_eq!(phase(&after), "Running");
    assert_eq!(
        app_status(&after)["containerID"],
        app_status(&before)["containerID"]
    );
    assert_eq!(app_status(&after)["restartCount"], 0);
    let started = env
        .events_for("keep")
        .iter()
        .filter(|e| e.starts_with("Normal Started"))
        .count();
    assert_eq!(started, 1, "{:?}", env.events_for("keep"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_cannot_be_pulled_backs_off() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    const MISSING: &str = "kubox-test/does-not-exist:1";
    let reasons = env.record_reasons("nope");
    let mut always = shell_pod("nope", "Always", "true");
    always["spec"]["containers"][0]["image"] = json!(MISSING);
    always["spec"]["containers"][0]["imagePullPolicy"] = json!("Always");
    env.create(always).await;
    let mut if_not_present = shell_pod("absent", "Always", "true");
    if_not_present["spec"]["containers"][0]["image"] = json!(MISSING);
    env.create(if_not_present).await;

    for name in ["nope", "absent"] {
        let pod = env
            .until(name, "backed off", |p| {
                app_status(p)["state"]["waiting"]["reason"] == "ImagePullBackOff"
            })
            .await;
        let app = app_status(&pod);
        assert_eq!(
            app["state"]["waiting"]["message"],
            format!("Back-off pulling image \"{MISSING}\"")
        );
        assert_eq!(phase(&pod), "Pending");
        let events = env.events_for(name);
        for want in [
            format!("Normal Pulling: Pulling image \"{MISSING}\""),
            "Warning Failed: Error: ErrImagePull".to_string(),
            format!("Normal BackOff: Back-off pulling image \"{MISSING}\""),
            "Warning Failed: Error: ImagePullBackOff".to_string(),
        ] {
            assert!(events.contains(&want), "missing {want:?} in {events:?}");
        }
        let failed = format!("Warning Failed: Failed to pull image \"{MISSING}\": ");
        assert!(
            events
                .iter()
                .any(|e| e.starts_with(&failed) && e.len() > failed.len()),
            "{events:?}"
        );
    }
    let seen = reasons.lock().unwrap().clone();
    let first_pull = seen.iter().position(|r| r == "ErrImagePull");
    let first_backoff = seen.iter().position(|r| r == "ImagePullBackOff");
    assert!(
        matches!((first_pull, first_backoff), (Some(a), Some(b)) if a < b),
        "ErrImagePull, then ImagePullBackOff: {seen:?}"
    );
    // Nothing ran: the sandbox may exist, no app container does.
    let pod = env.get("nope").unwrap();
    let containers = env.containers(Some(&uid(&pod))).await;
    assert!(
        containers
            .iter()
            .all(|c| c.labels.as_ref().unwrap()[LABEL_DOCKER_TYPE] == "podsandbox"),
        "{containers:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_killed_by_hand_is_restarted_quickly() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    env.create(shell_pod("victim", "Always", "exec sleep 300"))
        .await;
    let pod = env.until("victim", "ran", |p| phase(p) == "Running").await;
    let id = docker_id(&app_status(&pod));
    let start = Instant::now();
    env.rt
        .client()
        .kill_container(&id, Some(KillContainerOptionsBuilder::default().build()))
        .await
        .unwrap();
    let pod = env
        .until("victim", "was restarted", |p| {
            app_status(p)["restartCount"] == 1 && app_status(p)["state"]["running"].is_object()
        })
        .await;
    let took = start.elapsed();
    eprintln!(
        "docker kill → restarted (restartCount 1): {} ms",
        took.as_millis()
    );
    // The resync period is 10 s: only the Docker event stream makes this quick.
    assert!(took < Duration::from_secs(2), "{took:?}");
    let app = app_status(&pod);
    assert_ne!(docker_id(&app), id);
    assert_eq!(app["lastState"]["terminated"]["exitCode"], 137);
    assert_eq!(app["lastState"]["terminated"]["reason"], "Error");
    assert_eq!(
        app["lastState"]["terminated"]["containerID"],
        format!("docker://{id}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_pod_is_not_written_again() {
    let Some(env) = Env::new().await else {
        return;
    };
    // Resync often: every sync compares the generated status with the stored one.
    let mut config = env.config();
    config.resync = Duration::from_millis(200);
    env.start_kubelet_with(config);
    env.create(shell_pod("web", "Always", "exec sleep 300"))
        .await;
    env.create(shell_pod("done", "Never", "exit 0")).await;
    env.create(shell_pod("crash", "Never", "exit 3")).await;
    let web = env.until("web", "ran", |p| phase(p) == "Running").await;
    let done = env
        .until("done", "succeeded", |p| phase(p) == "Succeeded")
        .await;
    let crash = env.until("crash", "failed", |p| phase(p) == "Failed").await;
    // Let the finished pods' sandboxes stop (one more status write each).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let versions = |names: &[&str]| -> Vec<Option<String>> {
        names
            .iter()
            .map(|n| env.get(n).unwrap().metadata.resource_version)
            .collect()
    };
    let names = ["web", "done", "crash"];
    let before = versions(&names);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        versions(&names),
        before,
        "statuses rewritten without a change"
    );
    // Finished pods keep their containers (for logs) but not a running sandbox.
    for pod in [&done, &crash] {
        let containers = env.containers(Some(&uid(pod))).await;
        assert_eq!(containers.len(), 2, "{containers:#?}");
        assert!(
            containers
                .iter()
                .all(|c| c.state == Some(ContainerSummaryStateEnum::EXITED)),
            "{containers:#?}"
        );
    }
    assert_eq!(env.containers(Some(&uid(&web))).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sandbox_is_recreated_with_the_containers() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let created = env
        .create(shell_pod("web", "Always", "exec sleep 300"))
        .await;
    let uid = uid(&created);
    let pod = env.until("web", "ran", |p| phase(p) == "Running").await;
    let old_app = docker_id(&app_status(&pod));
    let docker = env.rt.client();
    let sandbox = env
        .containers(Some(&uid))
        .await
        .into_iter()
        .find(|c| c.labels.as_ref().unwrap()[LABEL_DOCKER_TYPE] == "podsandbox")
        .unwrap();
    let start = Instant::now();
    docker
        .kill_container(
            sandbox.id.as_deref().unwrap(),
            Some(KillContainerOptionsBuilder::default().build()),
        )
        .await
        .unwrap();
    let pod = env
        .until("web", "got a new sandbox", |p| {
            app_status(p)["restartCount"] == 1 && app_status(p)["state"]["running"].is_object()
        })
        .await;
    eprintln!(
        "sandbox killed → pod running again: {} ms",
        start.elapsed().as_millis()
    );
    assert_eq!(phase(&pod), "Running");
    assert_ne!(docker_id(&app_status(&pod)), old_app);
    let containers = env.containers(Some(&uid)).await;
    let running: Vec<String> = containers
        .iter()
        .filter(|c| c.state == Some(ContainerSummaryStateEnum::RUNNING))
        .flat_map(|c| c.names.clone().unwrap_or_default())
        .collect();
    let mut want = vec![
        format!("/k8s_POD_web_default_{uid}_1"),
        format!("/k8s_app_web_default_{uid}_1"),
    ];
    let mut got = running.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let sandbox = docker
        .inspect_container(&format!("k8s_POD_web_default_{uid}_1"), None)
        .await
        .unwrap();
    let ip = sandbox.network_settings.unwrap().networks.unwrap()["bridge"]
        .ip_address
        .clone()
        .unwrap();
    assert_eq!(
        pod.status.as_ref().unwrap().pod_ip.as_deref(),
        Some(ip.as_str())
    );
    // The dead sandbox goes at a later sync; the new one stays.
    let start = Instant::now();
    loop {
        let names: Vec<String> = env
            .containers(Some(&uid))
            .await
            .into_iter()
            .flat_map(|c| c.names.unwrap_or_default())
            .collect();
        if !names.contains(&format!("/k8s_POD_web_default_{uid}_0")) {
            assert!(
                names.contains(&format!("/k8s_POD_web_default_{uid}_1")),
                "{names:?}"
            );
            break;
        }
        assert!(
            start.elapsed() < LIMIT,
            "the dead sandbox remains: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let events = env.events_for("web");
    assert!(
        events.contains(
            &"Normal SandboxChanged: Pod sandbox changed, it will be killed and re-created."
                .to_string()
        ),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_that_back_off_or_finished_are_deleted_cleanly() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let mut image = shell_pod("image", "Always", "true");
    image["spec"]["containers"][0]["image"] = json!("kubox-test/does-not-exist:1");
    let pods = [
        env.create(image).await,
        env.create(shell_pod("crash", "Always", "exit 1")).await,
        env.create(shell_pod("done", "Never", "exit 0")).await,
    ];
    env.until("image", "backed off", |p| {
        app_status(p)["state"]["waiting"]["reason"] == "ImagePullBackOff"
    })
    .await;
    env.until("crash", "backed off", |p| {
        app_status(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    })
    .await;
    env.until("done", "succeeded", |p| phase(p) == "Succeeded")
        .await;
    let start = Instant::now();
    for pod in &pods {
        env.pods()
            .delete(
                pod.metadata.name.as_deref().unwrap(),
                &DeleteParams::default(),
            )
            .await
            .unwrap();
    }
    for pod in &pods {
        env.until_gone(pod.metadata.name.as_deref().unwrap()).await;
        assert!(
            env.containers(Some(&uid(pod))).await.is_empty(),
            "{:?} left containers",
            pod.metadata.name
        );
    }
    // Nothing ran that needed its grace period.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_kubelet_continues_a_crash_loop() {
    let Some(env) = Env::new().await else {
        return;
    };
    let (_, stop) = env.start_kubelet();
    let created = env
        .create(shell_pod("crash", "Always", "sleep 0.3; exit 1"))
        .await;
    env.until("crash", "restarted twice", |p| {
        app_status(p)["restartCount"].as_i64().unwrap_or(0) >= 2
    })
    .await;
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let count = app_status(&env.get("crash").unwrap())["restartCount"]
        .as_i64()
        .unwrap();
    env.start_kubelet();
    let pod = env
        .until("crash", "restarted again", |p| {
            app_status(p)["restartCount"].as_i64().unwrap_or(0) > count + 1
        })
        .await;
    assert_eq!(
        app_status(&pod)["lastState"]["terminated"]["reason"],
        "Error"
    );
    // Never more than the newest exited instances and the sandbox.
    let containers = env.containers(Some(&uid(&created))).await;
    let names: Vec<_> = containers.iter().map(|c| c.names.clone()).collect();
    assert!(containers.len() <= 4, "{names:?}");
    let sandboxes = containers
        .iter()
        .filter(|c| c.labels.as_ref().unwrap()[LABEL_DOCKER_TYPE] == "podsandbox")
        .count();
    assert_eq!(sandboxes, 1, "{names:?}");
}

fn ready_condition(p: &Pod) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_readiness_probe_against_busybox_httpd_toggles_ready() {
    let Some((env, kubelet)) = Env::with_kubelet().await else {
        return;
    };
    // httpd serves /www; /www/ready exists only when the script says so.
    let mut container = shell_container(
        "app",
        "mkdir -p /www && httpd -p 8080 -h /www && sleep 3 && touch /www/ready && exec sleep 300",
    );
    container["ports"] = json!([{"name": "http", "containerPort": 8080}]);
    container["readinessProbe"] = json!({"httpGet": {"path": "/ready", "port": "http"},
        "periodSeconds": 1, "failureThreshold": 1});
    env.create(json!({
        "metadata": {"name": "web"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]},
    }))
    .await;
    let pod = env.until("web", "ran", |p| phase(p) == "Running").await;
    assert_eq!(ready_condition(&pod), "False");
    let pod = env
        .until("web", "became ready", |p| ready_condition(p) == "True")
        .await;
    assert_eq!(app_status(&pod)["ready"], true);
    let events = env.events_for("web");
    assert!(
        events.iter().any(|e| e
            == "Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404"),
        "{events:#?}"
    );
    // The file goes away: not ready again, and nothing restarts.
    let target = kubelet
        .exec_target(&pod, "app")
        .await
        .expect("the app container runs");
    let rm = kubox::kubelet::runtime::exec::ExecRequest {
        command: vec!["rm".into(), "/www/ready".into()],
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let r = kubelet
        .exec(&target, &rm)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(r.exit_code, 0, "{r:?}");
    let pod = env
        .until("web", "became unready", |p| ready_condition(p) == "False")
        .await;
    assert_eq!(app_status(&pod)["restartCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_liveness_probe_restarts_the_container_with_the_events() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let mut container = shell_container(
        "app",
        "touch /tmp/healthy; sleep 2; rm /tmp/healthy; exec sleep 300",
    );
    container["livenessProbe"] = json!({"exec": {"command": ["cat", "/tmp/healthy"]},
        "periodSeconds": 1, "failureThreshold": 2});
    env.create(json!({
        "metadata": {"name": "live"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]},
    }))
    .await;
    let pod = env
        .until("live", "restarted", |p| app_status(p)["restartCount"] == 1)
        .await;
    let events = env.events_for("live");
    assert!(
        events.iter().any(|e| e
            == "Warning Unhealthy: Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n"),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e == "Normal Killing: Container app failed liveness probe, will be restarted"),
        "{events:#?}"
    );
    let last = &app_status(&pod)["lastState"]["terminated"];
    assert!(last.is_object(), "{pod:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_container_writes_what_the_app_reads() {
    let Some((env, kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let mut init = shell_container("setup", "echo prepared-by-init > /data/greeting");
    init["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
    let mut app = shell_container("app", "cat /data/greeting; exec sleep 300");
    app["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
    env.create(json!({
        "metadata": {"name": "init"},
        "spec": {"terminationGracePeriodSeconds": 1, "initContainers": [init],
            "containers": [app], "volumes": [{"name": "data", "emptyDir": {}}]},
    }))
    .await;
    let pod = env.until("init", "ran", |p| phase(p) == "Running").await;
    let init_status = serde_json::to_value(
        &pod.status
            .as_ref()
            .unwrap()
            .init_container_statuses
            .as_ref()
            .unwrap()[0],
    )
    .unwrap();
    assert_eq!(init_status["state"]["terminated"]["reason"], "Completed");
    assert_eq!(init_status["ready"], true);
    until_logged(&kubelet, &pod, "app", "prepared-by-init\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_pod_runs_from_its_file_and_survives_its_mirror_s_deletion() {
    let Some(env) = Env::new().await else {
        return;
    };
    let manifests = env.dir.path().join("manifests");
    let mut config = env.config();
    config.manifests = Some(manifests.clone());
    env.start_kubelet_with(config);
    let own = manifests.join(&env.node.name);
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(
        own.join("web.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: app\n    image: {TEST_IMAGE}\n    imagePullPolicy: IfNotPresent\n    command: [sh, -c, 'exec sleep 300']\n"
        ),
    )
    .unwrap();
    let name = format!("static-web-{}", env.node.name);
    let mirror = env.until(&name, "ran", |p| phase(p) == "Running").await;
    let annotations = mirror.metadata.annotations.clone().unwrap();
    assert_eq!(annotations["kubernetes.io/config.source"], "file");
    assert_eq!(
        annotations["kubernetes.io/config.mirror"],
        annotations["kubernetes.io/config.hash"]
    );
    let container = docker_id(&app_status(&mirror));
    // Deleting the mirror pod does not stop the static pod: the mirror comes back, and the
    // same container still runs.
    env.pods()
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    let back = env
        .until(&name, "came back", |p| {
            p.metadata.uid != mirror.metadata.uid && phase(p) == "Running"
        })
        .await;
    assert_eq!(docker_id(&app_status(&back)), container);
    let running = env
        .rt
        .client()
        .inspect_container(&container, None)
        .await
        .unwrap();
    assert_eq!(running.state.and_then(|s| s.running), Some(true));
    // Removing the file stops it, and the mirror goes.
    std::fs::remove_file(own.join("web.yaml")).unwrap();
    env.until_gone(&name).await;
    let start = Instant::now();
    while !env.containers(None).await.is_empty() {
        assert!(
            start.elapsed() < LIMIT,
            "the static pod's containers remain"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_port_is_published_on_loopback() {
    let Some((env, _kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut container = shell_container(
        "web",
        "mkdir -p /www && echo hello-through-the-host-port > /www/index.html && exec httpd -f -p 8080 -h /www",
    );
    container["ports"] = json!([{"containerPort": 8080, "hostPort": port}]);
    env.create(json!({
        "metadata": {"name": "hp"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]},
    }))
    .await;
    env.until("hp", "ran", |p| phase(p) == "Running").await;
    let start = Instant::now();
    let body = loop {
        let got = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").ok()?;
            let mut out = String::new();
            s.read_to_string(&mut out).ok()?;
            Some(out)
        })
        .await
        .unwrap();
        match got {
            Some(text) if text.contains("hello-through-the-host-port") => break text,
            _ if start.elapsed() > LIMIT => panic!("nothing answered on 127.0.0.1:{port}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert!(body.starts_with("HTTP/1."), "{body}");
    // Off loopback, only with --allow-privileged.
    let mut open = shell_container("web", "exec sleep 300");
    open["ports"] = json!([{"containerPort": 8080, "hostPort": port, "hostIP": "0.0.0.0"}]);
    env.create(json!({
        "metadata": {"name": "wide"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [open]},
    }))
    .await;
    let pod = env
        .until("wide", "was refused", |p| {
            container_status(p, "web")["state"]["waiting"]["reason"] == "CreateContainerConfigError"
        })
        .await;
    let message = container_status(&pod, "web")["state"]["waiting"]["message"].clone();
    assert!(
        message
            .as_str()
            .unwrap()
            .contains(&format!("hostPort {port} on 0.0.0.0")),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_security_context_applies_to_its_containers() {
    let Some((env, kubelet)) = Env::with_kubelet().await else {
        return;
    };
    let mut own = shell_container("own", "id -u; id -g; exec sleep 300");
    own["securityContext"] = json!({"runAsUser": 2000});
    env.create(json!({
        "metadata": {"name": "sc"},
        "spec": {"terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsUser": 1000, "runAsGroup": 3000},
            "containers": [shell_container("app", "id -u; id -g; exec sleep 300"), own]},
    }))
    .await;
    let pod = env.until("sc", "ran", |p| phase(p) == "Running").await;
    until_logged(&kubelet, &pod, "app", "1000\n3000\n").await;
    until_logged(&kubelet, &pod, "own", "2000\n3000\n").await;
}
