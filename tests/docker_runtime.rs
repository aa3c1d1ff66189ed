//! The Docker runtime against a real daemon, through the `Runtime` trait: sandboxes, shared
//! network namespaces, exit reasons, OOM kills, graceful stops, logs, images and events.
//! Skips (saying why) without a daemon, unless KUBOX_REQUIRE_DOCKER=1, as CI sets.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::CreateContainerOptionsBuilder;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kubox::kubelet::runtime::docker::{DockerRuntime, PAUSE_IMAGE};
use kubox::kubelet::runtime::exec::ExecRequest;
use kubox::kubelet::runtime::{
    LABEL_CLUSTER, LABEL_CONTAINER_NAME, LABEL_DOCKER_TYPE, LABEL_NODE, LABEL_POD_NAME,
    LABEL_POD_NAMESPACE, LABEL_POD_UID, LABEL_RESTART_COUNT, LogOptions, PodRef, PodStatus,
    Runtime, RuntimeError, State,
};

use common::docker::{TEST_IMAGE, TestNode, docker, test_cluster, wait_for_pod, within};

const LIMIT: Duration = Duration::from_secs(30);

fn running(name: &'static str) -> impl Fn(&PodStatus) -> bool {
    move |s| s.latest(name).is_some_and(|c| c.state == State::Running)
}

fn exited(name: &'static str) -> impl Fn(&PodStatus) -> bool {
    move |s| s.latest(name).is_some_and(|c| c.state == State::Exited)
}

/// Runs a sandbox for `pod` and one shell container in it; returns (sandbox, container).
async fn run_shell(
    rt: &DockerRuntime,
    node: &TestNode,
    pod: &PodRef,
    name: &str,
    script: &str,
) -> (String, String) {
    let sandbox = rt.run_sandbox(&node.sandbox(pod)).await.unwrap();
    let id = rt
        .create_container(&node.shell(pod, &sandbox, name, script))
        .await
        .unwrap();
    rt.start_container(&id).await.unwrap();
    (sandbox, id)
}

async fn all_logs(rt: &DockerRuntime, id: &str, options: &LogOptions) -> String {
    let mut stream = rt.logs(id, options).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn sandbox_and_container_run_with_kubernetes_names_and_labels() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let pod = PodRef {
        namespace: "default".into(),
        name: "web".into(),
        uid: uuid::Uuid::new_v4().to_string(),
    };

    // Timings for BENCHMARKS.md-style notes; printed, never asserted.
    let start = Instant::now();
    let sandbox = rt.run_sandbox(&node.sandbox(&pod)).await.unwrap();
    let sandbox_ms = start.elapsed().as_millis();
    let id = rt
        .create_container(&node.shell(&pod, &sandbox, "app", "exec sleep 300"))
        .await
        .unwrap();
    rt.start_container(&id).await.unwrap();
    let both_ms = start.elapsed().as_millis();
    let status = rt.pod_status(&node.name, &pod).await.unwrap();
    assert_eq!(status.latest("app").unwrap().state, State::Running);
    eprintln!(
        "run_sandbox: {sandbox_ms} ms; sandbox + create + start container: {both_ms} ms; \
         pod_status: {} ms",
        start.elapsed().as_millis() - both_ms
    );

    let sb = status.sandbox().unwrap();
    assert_eq!(
        (sb.id.as_str(), sb.attempt, sb.ready),
        (sandbox.as_str(), 0, true)
    );
    let ip: std::net::Ipv4Addr = sb.ip.as_deref().expect("pod IP").parse().unwrap();
    assert!(!ip.is_unspecified());
    let app = status.latest("app").unwrap();
    assert_eq!(app.id, id);
    assert_eq!((app.attempt, app.hash), (0, 0x1234_abcd));
    assert_eq!(app.image, TEST_IMAGE);
    assert_eq!(
        app.image_id,
        rt.image_present(TEST_IMAGE).await.unwrap().unwrap()
    );
    assert!(app.image_id.starts_with("sha256:"));
    assert!(app.started_at.is_some());
    assert_eq!(
        (app.finished_at, app.exit_code, &app.reason),
        (None, None, &None)
    );

    // As the kubelet named and labelled them on Docker, plus kubox's node label.
    let docker = rt.client();
    let c = docker.inspect_container(&id, None).await.unwrap();
    assert_eq!(
        c.name.as_deref(),
        Some(format!("/k8s_app_web_default_{}_0", pod.uid).as_str())
    );
    let labels = c.config.unwrap().labels.unwrap();
    assert_eq!(labels[LABEL_POD_NAME], "web");
    assert_eq!(labels[LABEL_POD_NAMESPACE], "default");
    assert_eq!(labels[LABEL_POD_UID], pod.uid);
    assert_eq!(labels[LABEL_CONTAINER_NAME], "app");
    assert_eq!(labels[LABEL_DOCKER_TYPE], "container");
    assert_eq!(labels[LABEL_RESTART_COUNT], "0");
    assert_eq!(labels[LABEL_NODE], node.name);
    let network = c.host_config.unwrap().network_mode.unwrap();
    assert_eq!(network, format!("container:{sandbox}"));

    let s = docker.inspect_container(&sandbox, None).await.unwrap();
    assert_eq!(
        s.name.as_deref(),
        Some(format!("/k8s_POD_web_default_{}_0", pod.uid).as_str())
    );
    let s_config = s.config.unwrap();
    assert_eq!(s_config.image.as_deref(), Some(PAUSE_IMAGE));
    assert_eq!(s_config.hostname.as_deref(), Some("web"));
    let labels = s_config.labels.unwrap();
    assert_eq!(labels[LABEL_CONTAINER_NAME], "POD");
    assert_eq!(labels[LABEL_DOCKER_TYPE], "podsandbox");

    // list_pods sees the same pod.
    let pods = rt.list_pods(&node.name).await.unwrap();
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0], status);

    // Teardown: stop the container, the sandbox, then remove both.
    let stop = Instant::now();
    rt.stop_container(&id, Duration::from_secs(2))
        .await
        .unwrap();
    rt.stop_sandbox(&sandbox).await.unwrap();
    eprintln!(
        "stop container (sleep ignores SIGTERM as PID 1, 2 s grace) + sandbox: {} ms",
        stop.elapsed().as_millis()
    );
    let stopped = rt.pod_status(&node.name, &pod).await.unwrap();
    assert!(!stopped.sandbox().unwrap().ready);
    assert_eq!(stopped.latest("app").unwrap().state, State::Exited);
    rt.remove_container(&id).await.unwrap();
    rt.remove_sandbox(&sandbox).await.unwrap();
    assert_eq!(
        rt.pod_status(&node.name, &pod).await.unwrap(),
        PodStatus::empty(pod.clone())
    );
    assert!(rt.list_pods(&node.name).await.unwrap().is_empty());
    assert_eq!(
        rt.remove_container(&id).await,
        Err(RuntimeError::NotFound(id.clone()))
    );
}

#[tokio::test]
async fn containers_of_a_pod_share_localhost() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let pod = node.pod("pair");
    let (sandbox, _server) = run_shell(
        &rt,
        &node,
        &pod,
        "server",
        "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www",
    )
    .await;
    let client = rt
        .create_container(&node.shell(
            &pod,
            &sandbox,
            "client",
            "for i in $(seq 1 100); do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1",
        ))
        .await
        .unwrap();
    rt.start_container(&client).await.unwrap();
    let status = wait_for_pod(&rt, &node.name, &pod, LIMIT, exited("client")).await;
    let c = status.latest("client").unwrap();
    let logs = all_logs(&rt, &client, &LogOptions::default()).await;
    assert_eq!(c.exit_code, Some(0), "client logs: {logs}");
    assert_eq!(logs, "hello-from-server\n");
    assert_eq!(status.latest("server").unwrap().state, State::Running);
}

#[tokio::test]
async fn exec_runs_in_the_container_with_streams_stdin_and_exit_codes() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let pod = node.pod("execs");
    let (_, id) = run_shell(
        &rt,
        &node,
        &pod,
        "app",
        "echo ready > /tmp/mark; exec sleep 300",
    )
    .await;
    wait_for_pod(&rt, &node.name, &pod, LIMIT, running("app")).await;
    let request = |cmd: &[&str], stdin: bool| ExecRequest {
        command: cmd.iter().map(|s| s.to_string()).collect(),
        stdin,
        stdout: true,
        stderr: true,
        tty: false,
    };
    // It runs inside the container: the file the container wrote is there.
    let r = rt
        .exec(&id, &request(&["cat", "/tmp/mark"], false))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!((r.stdout.as_slice(), r.exit_code), (&b"ready\n"[..], 0));
    // stdout and stderr stay apart; the exit code is the command's.
    let r = rt
        .exec(
            &id,
            &request(&["sh", "-c", "echo out; echo err >&2; exit 7"], false),
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(
        (r.stdout.as_slice(), r.stderr.as_slice(), r.exit_code),
        (&b"out\n"[..], &b"err\n"[..], 7)
    );
    // stdin reaches the command; closing it ends `cat`.
    let mut session = rt.exec(&id, &request(&["cat"], true)).await.unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = session.stdin.take().unwrap();
        stdin.write_all(b"one\ntwo\n").await.unwrap();
        stdin.shutdown().await.unwrap();
    }
    let r = within(LIMIT, "cat to end", session.collect())
        .await
        .unwrap();
    assert_eq!((r.stdout.as_slice(), r.exit_code), (&b"one\ntwo\n"[..], 0));
    // A missing executable: the daemon's words and exit code 126 or 127, as `docker exec` gives.
    let r = rt
        .exec(&id, &request(&["no-such-tool"], false))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(matches!(r.exit_code, 126 | 127), "{r:?}");
    // A stopped container takes no exec.
    rt.stop_container(&id, Duration::from_secs(1))
        .await
        .unwrap();
    let err = rt.exec(&id, &request(&["true"], false)).await.unwrap_err();
    assert!(err.to_string().contains("is not running"), "{err}");
}

#[tokio::test]
async fn exit_codes_become_completed_and_error() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let pod = node.pod("jobs");
    let (sandbox, _) = run_shell(&rt, &node, &pod, "ok", "exit 0").await;
    let failing = rt
        .create_container(&node.shell(&pod, &sandbox, "fail", "echo failing >&2; exit 1"))
        .await
        .unwrap();
    rt.start_container(&failing).await.unwrap();
    let status = wait_for_pod(&rt, &node.name, &pod, LIMIT, |s| {
        exited("ok")(s) && exited("fail")(s)
    })
    .await;
    let ok = status.latest("ok").unwrap();
    assert_eq!(
        (ok.exit_code, ok.reason.as_deref()),
        (Some(0), Some("Completed"))
    );
    // (No order between started_at and finished_at here: for a container this short the
    // daemon's finish time, from the exit event, can precede its recorded start time.)
    assert!(ok.started_at.is_some() && ok.finished_at.is_some());
    let fail = status.latest("fail").unwrap();
    assert_eq!(
        (fail.exit_code, fail.reason.as_deref()),
        (Some(1), Some("Error"))
    );
}

#[tokio::test]
async fn a_missing_executable_cannot_run() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let pod = node.pod("broken");
    let sandbox = rt.run_sandbox(&node.sandbox(&pod)).await.unwrap();
    let config = node.container(
        &pod,
        &sandbox,
        Container {
            name: "app".into(),
            image: Some(TEST_IMAGE.into()),
            command: Some(vec!["/no/such/binary".into()]),
            ..Default::default()
        },
    );
    let id = rt.create_container(&config).await.unwrap();
    let err = rt.start_container(&id).await.unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Start(m) if m.contains("/no/such/binary")),
        "{err:?}"
    );
    let status = rt.pod_status(&node.name, &pod).await.unwrap();
    let app = status.latest("app").unwrap();
    assert_eq!(app.state, State::Exited);
    assert_eq!(app.reason.as_deref(), Some("ContainerCannotRun"));
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("/no/such/binary")
    );

    // A second container of the same name and attempt is refused by the daemon.
    let err = rt.create_container(&config).await.unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Create(m) if m.contains("already in use")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_memory_limit_ends_in_oom_killed() {
    let Some(rt) = docker().await else { return };
    // Docker 20.10 now and then loses the OOM flag of a container the kernel did kill (exit
    // 137, reason Error); such a run says nothing about kubox, so it is tried again (3 at most).
    for attempt in 1..=3 {
        let node = TestNode::new();
        let pod = node.pod("hungry");
        let sandbox = rt.run_sandbox(&node.sandbox(&pod)).await.unwrap();
        let container = Container {
            name: "app".into(),
            image: Some(TEST_IMAGE.into()),
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                r#"x=$(head -c 64m /dev/zero | tr "\0" a); echo survived"#.into(),
            ]),
            resources: Some(ResourceRequirements {
                limits: Some([("memory".to_string(), Quantity("8Mi".into()))].into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let id = rt
            .create_container(&node.container(&pod, &sandbox, container))
            .await
            .unwrap();
        let host = rt.client().inspect_container(&id, None).await.unwrap();
        assert_eq!(host.host_config.unwrap().memory, Some(8 << 20));
        rt.start_container(&id).await.unwrap();
        let status = wait_for_pod(&rt, &node.name, &pod, LIMIT, exited("app")).await;
        let app = status.latest("app").unwrap();
        assert_eq!(app.exit_code, Some(137), "{app:?}");
        if app.reason.as_deref() == Some("Error") && attempt < 3 {
            eprintln!("attempt {attempt}: Docker lost the OOM flag; trying again");
            continue;
        }
        assert_eq!(app.reason.as_deref(), Some("OOMKilled"), "{app:?}");
        return;
    }
}

#[tokio::test]
async fn stop_sends_sigterm_first() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let pod = node.pod("graceful");
    let (sandbox, id) = run_shell(
        &rt,
        &node,
        &pod,
        "app",
        r#"trap 'echo got SIGTERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"#,
    )
    .await;
    wait_for_pod(&rt, &node.name, &pod, LIMIT, running("app")).await;
    // Wait until the trap is set (the script printed `ready`).
    within(LIMIT, "the script's start", async {
        while !all_logs(&rt, &id, &LogOptions::default())
            .await
            .contains("ready")
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;

    let start = Instant::now();
    rt.stop_container(&id, Duration::from_secs(20))
        .await
        .unwrap();
    // Well before the grace period: the trap ran, no SIGKILL was needed.
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let status = rt.pod_status(&node.name, &pod).await.unwrap();
    let app = status.latest("app").unwrap();
    assert_eq!(
        (app.exit_code, app.reason.as_deref()),
        (Some(0), Some("Completed"))
    );
    assert_eq!(
        all_logs(&rt, &id, &LogOptions::default()).await,
        "ready\ngot SIGTERM\n"
    );

    rt.remove_container(&id).await.unwrap();
    let start = Instant::now();
    rt.stop_sandbox(&sandbox).await.unwrap();
    // The pause process exits on SIGTERM: no wait for a SIGKILL.
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    let status = rt.pod_status(&node.name, &pod).await.unwrap();
    assert!(status.containers.is_empty());
    assert!(!status.sandbox().unwrap().ready);
    rt.remove_sandbox(&sandbox).await.unwrap();
    assert!(rt.list_pods(&node.name).await.unwrap().is_empty());
}

#[tokio::test]
async fn logs_follow_tail_and_timestamps() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let pod = node.pod("chatty");
    let (_, id) = run_shell(
        &rt,
        &node,
        &pod,
        "app",
        // stdout and stderr are two pipes: a pause keeps their lines in order.
        "for i in 1 2 3 4 5; do echo line-$i; done; sleep 0.3; echo oops >&2; sleep 1; echo last",
    )
    .await;

    // Following from the start: everything, stdout and stderr merged, and the stream ends
    // when the container does.
    let follow = LogOptions {
        follow: true,
        ..Default::default()
    };
    let text = within(LIMIT, "following the logs", all_logs(&rt, &id, &follow)).await;
    assert_eq!(text, "line-1\nline-2\nline-3\nline-4\nline-5\noops\nlast\n");
    let status = rt.pod_status(&node.name, &pod).await.unwrap();
    assert_eq!(status.latest("app").unwrap().state, State::Exited);

    let tail = LogOptions {
        tail: Some(2),
        ..Default::default()
    };
    assert_eq!(all_logs(&rt, &id, &tail).await, "oops\nlast\n");

    let stamped = LogOptions {
        tail: Some(1),
        timestamps: true,
        ..Default::default()
    };
    let line = all_logs(&rt, &id, &stamped).await;
    let (stamp, rest) = line.split_once(' ').unwrap();
    stamp.parse::<k8s_openapi::jiff::Timestamp>().unwrap();
    assert_eq!(rest, "last\n");

    let future = LogOptions {
        since: Some(
            k8s_openapi::jiff::Timestamp::now() + k8s_openapi::jiff::SignedDuration::from_secs(60),
        ),
        ..Default::default()
    };
    assert_eq!(all_logs(&rt, &id, &future).await, "");

    assert!(matches!(
        rt.logs("no-such-container-kubox", &LogOptions::default())
            .await,
        Err(RuntimeError::NotFound(_))
    ));
}

#[tokio::test]
async fn containers_without_the_node_label_are_never_listed() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let docker = rt.client();
    let foreign_name = format!("kubox-test-foreign-{}", node.name);
    let other_node_name = format!("kubox-test-other-node-{}", node.name);
    let pod = node.pod("web");
    // One without any label, one that looks like a Kubernetes pod but has no kubox node
    // label, one labelled for another node.
    let plain = ContainerCreateBody {
        image: Some(TEST_IMAGE.into()),
        cmd: Some(vec!["sleep".into(), "300".into()]),
        ..Default::default()
    };
    let k8s_labels: HashMap<String, String> = HashMap::from([
        (LABEL_POD_NAME.into(), pod.name.clone()),
        (LABEL_POD_NAMESPACE.into(), pod.namespace.clone()),
        (LABEL_POD_UID.into(), pod.uid.clone()),
        (LABEL_CONTAINER_NAME.into(), "app".into()),
        (LABEL_DOCKER_TYPE.into(), "container".into()),
    ]);
    let mut other_node_labels = k8s_labels.clone();
    other_node_labels.insert(LABEL_NODE.into(), format!("{}-other", node.name));
    for (name, labels) in [
        (foreign_name.clone(), None),
        (format!("{foreign_name}-k8s"), Some(k8s_labels)),
        (other_node_name.clone(), Some(other_node_labels)),
    ] {
        node.also_remove(&name);
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let body = ContainerCreateBody {
            labels,
            ..plain.clone()
        };
        let created = docker.create_container(Some(options), body).await.unwrap();
        docker.start_container(&created.id, None).await.unwrap();
    }

    assert!(rt.list_pods(&node.name).await.unwrap().is_empty());
    assert_eq!(
        rt.pod_status(&node.name, &pod).await.unwrap(),
        PodStatus::empty(pod.clone())
    );

    // With a pod of its own on the node, only that pod is listed.
    let own = node.pod("own");
    let (_, id) = run_shell(&rt, &node, &own, "app", "exec sleep 300").await;
    let pods = rt.list_pods(&node.name).await.unwrap();
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].pod, own);
    assert_eq!(pods[0].containers.len(), 1);
    assert_eq!(pods[0].containers[0].id, id);
}

#[tokio::test]
async fn images_listed_present_and_pull_failures() {
    let Some(rt) = docker().await else { return };
    let version = rt.version().await.unwrap();
    assert_eq!(version.name, "docker");
    assert!(!version.version.is_empty());
    assert_eq!(version.node_info(), format!("docker://{}", version.version));

    let id = rt.image_present(TEST_IMAGE).await.unwrap().unwrap();
    assert!(id.starts_with("sha256:"));
    let images = rt.list_images().await.unwrap();
    let image = images
        .iter()
        .find(|i| i.id == id)
        .expect("test image listed");
    assert!(image.names.contains(&TEST_IMAGE.to_string()), "{image:?}");
    assert!(image.size_bytes > 1_000_000, "{image:?}");
    assert_eq!(
        rt.image_present("kubox-test/not-here:1").await.unwrap(),
        None
    );

    // No registry answers here: the pull fails with the daemon's message.
    let calls = Arc::new(Mutex::new(0));
    let seen = calls.clone();
    let result = within(
        Duration::from_secs(120),
        "a failing pull",
        rt.pull_image("kubox-test/does-not-exist:1", &move |_| {
            *seen.lock().unwrap() += 1;
        }),
    )
    .await;
    match result {
        Err(RuntimeError::Pull(message)) => assert!(!message.is_empty()),
        other => panic!("expected a pull error, got {other:?}"),
    }
    assert_eq!(*calls.lock().unwrap(), 0);

    let invalid = rt.pull_image("Not/A Valid:ref", &|_| {}).await;
    assert!(
        matches!(&invalid, Err(RuntimeError::InvalidImageName(m)) if m.contains("invalid reference format")),
        "{invalid:?}"
    );
    assert!(matches!(
        rt.image_present("library/Upper").await,
        Err(RuntimeError::InvalidImageName(_))
    ));
}

/// Two clusters (two data dirs) with the same node name on one daemon: each runtime lists,
/// watches, stops and removes only what carries its own cluster's label.
#[tokio::test]
async fn another_clusters_containers_on_the_same_node_are_not_ours() {
    let Some(ours) = docker().await else { return };
    let theirs = ours.for_cluster(&format!("{}-other", test_cluster()));
    let node = TestNode::new();
    let mut our_events = ours.events(&node.name).await.unwrap();
    let their_pod = node.pod("theirs");
    let (their_sandbox, their_app) =
        run_shell(&theirs, &node, &their_pod, "app", "exec sleep 300").await;
    let labels = ours
        .client()
        .inspect_container(&their_app, None)
        .await
        .unwrap()
        .config
        .unwrap()
        .labels
        .unwrap();
    assert_eq!(labels[LABEL_CLUSTER], theirs.cluster());
    assert_eq!(labels[LABEL_NODE], node.name);

    // Not listed, not in a pod's status, not in the event stream.
    assert!(ours.list_pods(&node.name).await.unwrap().is_empty());
    assert_eq!(
        ours.pod_status(&node.name, &their_pod).await.unwrap(),
        PodStatus::empty(their_pod.clone())
    );
    let our_pod = node.pod("ours");
    let (our_sandbox, our_app) = run_shell(&ours, &node, &our_pod, "app", "exec sleep 300").await;
    within(LIMIT, "our own start event", async {
        loop {
            let event = our_events.next().await.expect("event stream ended");
            assert_eq!(
                event.pod_uid, our_pod.uid,
                "another cluster's event: {event:?}"
            );
            if event.container_id == our_app && event.action == "start" {
                break;
            }
        }
    })
    .await;
    let pods = ours.list_pods(&node.name).await.unwrap();
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].pod, our_pod);
    assert_eq!(
        theirs.list_pods(&node.name).await.unwrap()[0].pod,
        their_pod
    );

    // Never stopped or removed, even when named by id.
    for id in [&their_app, &their_sandbox] {
        assert_eq!(
            ours.stop_container(id, Duration::from_secs(1)).await,
            Err(RuntimeError::NotFound(id.clone()))
        );
        assert_eq!(
            ours.remove_container(id).await,
            Err(RuntimeError::NotFound(id.clone()))
        );
    }
    assert_eq!(
        ours.stop_sandbox(&their_sandbox).await,
        Err(RuntimeError::NotFound(their_sandbox.clone()))
    );
    let still = theirs.pod_status(&node.name, &their_pod).await.unwrap();
    assert!(still.sandbox().unwrap().ready, "{still:#?}");
    assert_eq!(still.latest("app").unwrap().state, State::Running);

    // Each removes its own.
    for (rt, ids) in [
        (&ours, [&our_app, &our_sandbox]),
        (&theirs, [&their_app, &their_sandbox]),
    ] {
        for id in ids {
            rt.remove_container(id).await.unwrap();
        }
    }
    assert!(theirs.list_pods(&node.name).await.unwrap().is_empty());
}

#[tokio::test]
async fn events_arrive_for_start_and_die() {
    let Some(rt) = docker().await else { return };
    let node = TestNode::new();
    let pod = node.pod("eventful");
    let mut events = rt.events(&node.name).await.unwrap();
    let (sandbox, id) = run_shell(&rt, &node, &pod, "app", "sleep 0.2").await;
    let mut seen = Vec::new();
    within(LIMIT, "start and die events", async {
        while !(seen.contains(&(id.clone(), "start".to_string()))
            && seen.contains(&(id.clone(), "die".to_string())))
        {
            let event = events.next().await.expect("event stream ended");
            assert_eq!(event.pod_uid, pod.uid);
            seen.push((event.container_id, event.action));
        }
    })
    .await;
    // The sandbox's own start came first.
    assert!(
        seen.contains(&(sandbox.clone(), "start".to_string())),
        "{seen:?}"
    );
}

#[tokio::test]
async fn an_absent_daemon_is_unavailable_quickly() {
    // Nothing listens on this socket.
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}/docker.sock", dir.path().display());
    let err = DockerRuntime::connect_to(&missing, "cluster-1")
        .await
        .unwrap_err();
    assert!(matches!(err, RuntimeError::Unavailable(_)), "{err:?}");

    // Something listens but never answers: the ping's time limit applies.
    let path = dir.path().join("silent.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let start = Instant::now();
    let err = DockerRuntime::connect_to(&format!("unix://{}", path.display()), "cluster-1")
        .await
        .unwrap_err();
    assert!(matches!(err, RuntimeError::Unavailable(_)), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    hold.abort();
}

/// A daemon that answers the handshake, then goes away: later calls are `Unavailable`, not
/// panics.
#[tokio::test]
async fn a_daemon_that_went_away_is_unavailable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        // Answers /_ping and /version, each on a connection it then closes.
        for _ in 0..2 {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).await.unwrap();
                assert!(n > 0);
                request.extend_from_slice(&buf[..n]);
            }
            let head = String::from_utf8_lossy(&request).to_string();
            let body = if head.contains("/_ping") {
                "OK".to_string()
            } else {
                r#"{"Version":"20.10.24","ApiVersion":"1.41","Arch":"amd64"}"#.to_string()
            };
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n\
                 Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            conn.write_all(response.as_bytes()).await.unwrap();
        }
    });
    let rt = DockerRuntime::connect_to(&format!("unix://{}", path.display()), "cluster-1")
        .await
        .unwrap();
    server.await.unwrap();
    std::fs::remove_file(&path).unwrap();

    for result in [
        rt.list_pods("node-1").await.map(|_| ()),
        rt.start_container("abc").await,
        rt.stop_container("abc", Duration::from_secs(1)).await,
        rt.remove_container("abc").await,
        rt.create_container(&TestNode::new().shell(&TestNode::new().pod("p"), "sb", "app", "true"))
            .await
            .map(|_| ()),
        rt.pull_image("busybox:1.36", &|_| {}).await.map(|_| ()),
        rt.image_present("busybox:1.36").await.map(|_| ()),
        rt.events("node-1").await.map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(RuntimeError::Unavailable(_))),
            "{result:?}"
        );
    }
}
