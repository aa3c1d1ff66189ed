//! Real kubectl against `kubox serve`, asserting on what kubectl prints. Skips (saying why) when
//! kubectl is not installed, unless KUBOX_REQUIRE_KUBECTL=1, as CI sets.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Served, serve};

fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("KUBOX_REQUIRE_KUBECTL").is_err(),
            "KUBOX_REQUIRE_KUBECTL is set but kubectl is not on PATH"
        );
        eprintln!("skipped: kubectl is not on PATH");
    }
    found
}

struct Kubectl<'a> {
    served: &'a Served,
    cache: tempfile::TempDir,
}

impl Kubectl<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(self.served.data.join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.cache.path())
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            common::text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs and expects failure; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} should fail: {}",
            common::text(&out)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `brief`: the POD's container exits 0 that long after it starts (the simulator's script).
fn brief_pod(dir: &Path, after: &str, policy: &str) -> String {
    write(
        dir,
        "brief.yaml",
        &POD.replace(
            "name: web\n",
            &format!(
                "name: brief\n  annotations: {{sim.kubox.io/exit-app: \"0 after {after}\"}}\n"
            ),
        )
        .replace("spec:\n", &format!("spec:\n  restartPolicy: {policy}\n")),
    )
}

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: app
    image: busybox:1.36
";

#[test]
fn kubectl_works_against_kubox() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(&dir.path().join("data"));
    let k = Kubectl {
        served: &served,
        cache: tempfile::tempdir().unwrap(),
    };

    let version = k.ok(&["version"]);
    assert!(
        version.contains("Server Version: v1.32.0-kubox"),
        "{version}"
    );

    let resources = k.ok(&["api-resources"]);
    let rows: Vec<String> = resources
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for line in [
        "events ev v1 true Event",
        "namespaces ns v1 false Namespace",
        "nodes no v1 false Node",
        "pods po v1 true Pod",
        "leases coordination.k8s.io/v1 true Lease",
        "priorityclasses pc scheduling.k8s.io/v1 false PriorityClass",
    ] {
        assert!(
            rows.iter().any(|r| r == line),
            "missing {line:?} in\n{resources}"
        );
    }

    let ns = k.ok(&["get", "ns"]);
    for name in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        assert!(ns.contains(name), "{ns}");
    }

    let empty = k.run(&["get", "pods"]);
    assert!(empty.status.success());
    assert_eq!(
        String::from_utf8_lossy(&empty.stderr).trim(),
        "No resources found in default namespace."
    );

    let file = write(dir.path(), "pod.yaml", POD);
    assert_eq!(k.ok(&["create", "-f", &file]).trim(), "pod/web created");
    let again = k.fails(&["create", "-f", &file]);
    assert!(
        again.contains(r#"Error from server (AlreadyExists): error when creating "#)
            && again.contains(r#"pods "web" already exists"#),
        "{again}"
    );

    let yaml = k.ok(&["get", "pod", "web", "-o", "yaml"]);
    for want in [
        "kind: Pod",
        "name: web",
        "restartPolicy: Always",
        "qosClass: BestEffort",
    ] {
        assert!(yaml.contains(want), "missing {want:?} in\n{yaml}");
    }
    let jsonpath = k.ok(&["get", "pod", "web", "-o", "jsonpath={.spec.schedulerName}"]);
    assert_eq!(jsonpath, "default-scheduler");

    assert_eq!(
        k.ok(&["label", "pod", "web", "tier=front"]).trim(),
        "pod/web labeled"
    );
    let labels = k.ok(&["get", "pods", "-l", "tier=front", "-o", "name"]);
    assert_eq!(labels.trim(), "pod/web");

    let missing = k.fails(&["get", "pod", "nope"]);
    assert_eq!(
        missing.trim(),
        r#"Error from server (NotFound): pods "nope" not found"#
    );

    let bad = write(
        dir.path(),
        "bad.yaml",
        &POD.replace("    image: busybox:1.36\n", ""),
    );
    let invalid = k.fails(&["create", "-f", &bad]);
    assert!(
        invalid.contains(r#"The Pod "web" is invalid: spec.containers[0].image: Required value"#),
        "{invalid}"
    );

    let typo = write(
        dir.path(),
        "typo.yaml",
        &POD.replace("name: web\n", "name: typo\n")
            .replace("    image:", "    imagee: x\n    image:"),
    );
    let strict = k.fails(&["create", "-f", &typo]);
    assert!(
        strict.contains(r#"unknown field "spec.containers[0].imagee""#),
        "{strict}"
    );

    assert_eq!(
        k.ok(&["delete", "pod", "web"]).trim(),
        r#"pod "web" deleted"#
    );
    let gone = k.run(&["get", "pods"]);
    assert_eq!(
        String::from_utf8_lossy(&gone.stderr).trim(),
        "No resources found in default namespace."
    );

    served.stop();
}

/// What `kubectl get` prints comes from kubox's server-side Tables, and `kubectl apply` relies on
/// strategic merge patch and the last-applied annotation.
#[test]
fn kubectl_tables_apply_watch_and_events() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(&dir.path().join("data"));
    let k = Kubectl {
        served: &served,
        cache: tempfile::tempdir().unwrap(),
    };
    let file = write(dir.path(), "pod.yaml", POD);
    assert_eq!(k.ok(&["apply", "-f", &file]).trim(), "pod/web created");
    assert_eq!(k.ok(&["apply", "-f", &file]).trim(), "pod/web unchanged");
    let changed = write(
        dir.path(),
        "pod2.yaml",
        &POD.replace("    app: web\n", "    app: web\n    tier: front\n"),
    );
    assert_eq!(
        k.ok(&["apply", "-f", &changed]).trim(),
        "pod/web configured"
    );
    assert_eq!(
        k.ok(&[
            "get",
            "pod",
            "web",
            "-o",
            "jsonpath={.metadata.labels.tier}"
        ]),
        "front"
    );

    let header = |out: &str| {
        out.lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let pods = k.ok(&["get", "pods"]);
    assert_eq!(header(&pods), "NAME READY STATUS RESTARTS AGE", "{pods}");
    assert!(pods.lines().nth(1).unwrap().starts_with("web "), "{pods}");
    let wide = k.ok(&["get", "pods", "-o", "wide"]);
    assert_eq!(
        header(&wide),
        "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES",
        "{wide}"
    );
    let all = k.ok(&["get", "pods", "-A", "--show-labels"]);
    assert_eq!(
        header(&all),
        "NAMESPACE NAME READY STATUS RESTARTS AGE LABELS",
        "{all}"
    );
    assert!(all.contains("tier=front"), "{all}");
    let sorted = k.ok(&["get", "pods", "--sort-by=.metadata.name"]);
    assert!(
        sorted.lines().nth(1).unwrap().starts_with("web "),
        "{sorted}"
    );
    let ns = k.ok(&["get", "ns"]);
    assert_eq!(header(&ns), "NAME STATUS AGE", "{ns}");
    let pc = k.ok(&["get", "priorityclasses"]);
    assert_eq!(
        header(&pc),
        "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY",
        "{pc}"
    );
    assert!(
        pc.lines()
            .any(|l| l.starts_with("system-node-critical ") && l.contains("2000001000   false")),
        "{pc}"
    );
    let unknown = write(
        dir.path(),
        "critical.yaml",
        &POD.replace("name: web\n", "name: critical\n")
            .replace("spec:\n", "spec:\n  priorityClassName: nope\n"),
    );
    let refused = k.fails(&["create", "-f", &unknown]);
    assert!(
        refused
            .contains(r#"pods "critical" is forbidden: no PriorityClass with name nope was found"#),
        "{refused}"
    );
    assert!(ns.contains("default           Active"), "{ns}");

    // The pod runs on one of the three simulated nodes.
    let mut pods = String::new();
    for _ in 0..100 {
        pods = k.ok(&["get", "pods"]);
        if pods.contains("Running") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let row: Vec<&str> = pods.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..4], ["web", "1/1", "Running", "0"], "{pods}");
    // Logs come from the pod's kubelet (here its simulated container's output).
    assert_eq!(
        k.ok(&["logs", "web"]),
        "kubox-sim: started app (image busybox:1.36)\n"
    );
    assert_eq!(
        k.fails(&["logs", "web", "-c", "nope"]).trim(),
        "error: container nope is not valid for pod web"
    );
    assert_eq!(
        k.ok(&["wait", "--for=condition=Ready", "pod/web", "--timeout=10s"])
            .trim(),
        "pod/web condition met"
    );
    // logs -f follows until the container ends (here a scripted exit three seconds after it starts).
    let brief = brief_pod(dir.path(), "3s", "Never");
    k.ok(&["create", "-f", &brief]);
    k.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/brief",
        "--timeout=10s",
    ]);
    let followed = k.ok(&["logs", "-f", "brief", "--request-timeout=20s"]);
    assert_eq!(
        followed,
        "kubox-sim: started app (image busybox:1.36)\nkubox-sim: exited with code 0\n"
    );
    let nodes = k.ok(&["get", "nodes"]);
    assert_eq!(header(&nodes), "NAME STATUS ROLES AGE VERSION", "{nodes}");
    assert!(nodes.contains("node-3   Ready    <none>"), "{nodes}");

    // A pod no node can take: the scheduler says why, in Kubernetes' words.
    let nowhere = write(
        dir.path(),
        "nowhere.yaml",
        &POD.replace("name: web\n", "name: nowhere\n")
            .replace("spec:\n", "spec:\n  nodeSelector: {disk: ssd}\n"),
    );
    k.ok(&["create", "-f", &nowhere]);
    let mut events = String::new();
    for _ in 0..50 {
        events = k.ok(&["get", "events"]);
        if events.contains("FailedScheduling") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        header(&events),
        "LAST SEEN TYPE REASON OBJECT MESSAGE",
        "{events}"
    );
    let flat = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            .collect()
    };
    let seen = flat(&events);
    for line in [
        "Warning FailedScheduling pod/nowhere 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
        "Normal Pulling pod/web Pulling image \"busybox:1.36\"",
        "Normal Created pod/web Created container: app",
        "Normal Started pod/web Started container app",
    ] {
        assert!(
            seen.iter().any(|l| l.starts_with(line)),
            "missing {line:?} in\n{events}"
        );
    }
    assert!(
        events.contains("Successfully assigned default/web to node-"),
        "{events}"
    );
    let describe = k.ok(&["describe", "pod", "nowhere"]);
    assert!(
        describe.contains("FailedScheduling") && describe.contains("default-scheduler"),
        "{describe}"
    );
    // The scheduler's records, at kubox's own path.
    let why: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "--raw", "/kubox/v1/decisions/default/nowhere"]))
            .unwrap();
    let first = &why["attempts"][0];
    assert!(
        first["outcome"]["unschedulable"]
            .as_str()
            .unwrap()
            .starts_with(
                "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
            ),
        "{why}"
    );
    assert_eq!(first["filter"][0]["plugin"], "NodeAffinity", "{why}");
    let web: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "--raw", "/kubox/v1/decisions/default/web"])).unwrap();
    assert!(
        web["attempts"][0]["outcome"]["scheduled"]
            .as_str()
            .unwrap()
            .starts_with("node-"),
        "{web}"
    );
    assert_eq!(
        web["attempts"][0]["scores"].as_array().unwrap().len(),
        3,
        "{web}"
    );
    k.ok(&["delete", "pod", "nowhere"]);

    // A Table watch: the current row, then the row again when it changes; the stream ends at
    // the request timeout.
    let watch = k
        .command(&["get", "pods", "-w", "--request-timeout=3s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    k.ok(&["label", "pod", "web", "seen=yes"]);
    let out = watch.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    assert_eq!(header(&out), "NAME READY STATUS RESTARTS AGE", "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("web ")).count(),
        2,
        "{out}"
    );
    served.stop();
}

#[test]
fn kubectl_exec_and_a_watch_that_sees_pending_turn_running() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(&dir.path().join("data"));
    let k = Kubectl {
        served: &served,
        cache: tempfile::tempdir().unwrap(),
    };
    // A pod no node takes yet: it waits, Pending, until a node gets the label it selects.
    let file = write(
        dir.path(),
        "pod.yaml",
        &POD.replace("spec:\n", "spec:\n  nodeSelector: {disk: ssd}\n"),
    );
    k.ok(&["create", "-f", &file]);
    let mut watch = k
        .command(&["get", "pods", "-w", "--request-timeout=20s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let next_line = |seen: &mut Vec<String>| {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(15))
            .unwrap_or_else(|_| panic!("the watch printed no more lines: {seen:#?}"));
        let words = line.split_whitespace().collect::<Vec<_>>().join(" ");
        seen.push(words.clone());
        words
    };
    assert_eq!(next_line(&mut seen), "NAME READY STATUS RESTARTS AGE");
    assert!(
        next_line(&mut seen).starts_with("web 0/1 Pending 0 "),
        "{seen:#?}"
    );
    k.ok(&["label", "node", "node-2", "disk=ssd"]);
    while !next_line(&mut seen).starts_with("web 1/1 Running 0 ") {}
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("web 0/1 ContainerCreating 0 ")),
        "the watch shows the kubelet creating the container: {seen:#?}"
    );
    assert_eq!(
        k.ok(&["get", "pod", "web", "-o", "jsonpath={.spec.nodeName}"]),
        "node-2"
    );

    // exec: output, exit codes, stdin, and the errors kubectl shows on real clusters.
    assert_eq!(
        k.ok(&["exec", "web", "--", "echo", "hi", "there"]),
        "hi there\n"
    );
    assert_eq!(k.ok(&["exec", "web", "--", "hostname"]), "web\n");
    let out = k.run(&["exec", "web", "--", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", common::text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "command terminated with exit code 3"
    );
    let mut cat = k
        .command(&["exec", "-i", "web", "--", "cat"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = cat.stdin.take().unwrap();
        stdin.write_all(b"one\ntwo\n").unwrap();
    }
    let out = cat.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\ntwo\n");
    assert!(out.status.success());
    assert_eq!(
        k.fails(&["exec", "web", "-c", "nope", "--", "true"]).trim(),
        "Error from server (BadRequest): container nope is not valid for pod web"
    );
    assert_eq!(
        k.fails(&["exec", "ghost", "--", "true"]).trim(),
        "Error from server (NotFound): pods \"ghost\" not found"
    );
    // A container that is not running: the kubelet's words, through the failed upgrade.
    let brief = brief_pod(dir.path(), "0s", "OnFailure");
    k.ok(&["create", "-f", &brief]);
    k.ok(&[
        "wait",
        "--for=jsonpath={.status.phase}=Succeeded",
        "pod/brief",
        "--timeout=10s",
    ]);
    let refused = k.fails(&["exec", "brief", "--", "true"]);
    assert!(
        refused.contains(
            "cannot exec into a container in a completed pod; current phase is Succeeded"
        ),
        "{refused}"
    );
    served.stop();
}

#[test]
fn node_faults_cordon_drain_and_a_stopped_kubelet() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = common::serve_with(
        &dir.path().join("data"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--runtime",
            "sim",
            "--node-monitor-grace-period",
            "2",
        ],
    );
    let k = Kubectl {
        served: &served,
        cache: tempfile::tempdir().unwrap(),
    };
    let wait_for = |args: &[&str], what: &dyn Fn(&str) -> bool| -> String {
        let mut out = String::new();
        for _ in 0..150 {
            out = k.ok(args);
            if what(&out) {
                return out;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("kubectl {args:?} never showed it: {out}");
    };
    // Cordoned nodes take no new pods.
    assert_eq!(k.ok(&["cordon", "node-1"]).trim(), "node/node-1 cordoned");
    assert_eq!(k.ok(&["cordon", "node-2"]).trim(), "node/node-2 cordoned");
    for name in ["a", "b", "c"] {
        k.ok(&["run", name, "--image=busybox:1.36"]);
    }
    let nodes = wait_for(
        &["get", "pods", "-o", "jsonpath={.items[*].spec.nodeName}"],
        &|out| out.split_whitespace().count() == 3,
    );
    assert_eq!(nodes, "node-3 node-3 node-3");
    let listed = k.ok(&["get", "nodes"]);
    assert!(
        listed.contains("node-1   Ready,SchedulingDisabled"),
        "{listed}"
    );
    // Drain: cordon and evict through the Eviction API; kubectl waits until they are gone.
    let drained = k.ok(&["drain", "node-3", "--force", "--timeout=30s"]);
    for name in ["a", "b", "c"] {
        assert!(
            drained.contains(&format!("pod/{name} evicted")),
            "{drained}"
        );
    }
    assert!(drained.contains("node/node-3 drained"), "{drained}");
    assert_eq!(k.ok(&["get", "pods", "-o", "name"]), "");
    for node in ["node-1", "node-2", "node-3"] {
        k.ok(&["uncordon", node]);
    }

    // A stopped kubelet: its node turns NotReady after the grace period, tainted unreachable.
    k.ok(&[
        "run",
        "web",
        "--image=busybox:1.36",
        "--overrides",
        r#"{"spec":{"nodeName":"node-2"}}"#,
    ]);
    wait_for(&["get", "pod", "web"], &|out| out.contains("Running"));
    let stopped = k.ok(&[
        "create",
        "--raw",
        "/kubox/v1/nodes/node-2/kubelet/stop",
        "-f",
        "/dev/null",
    ]);
    assert!(stopped.contains("\"running\":false"), "{stopped}");
    wait_for(&["get", "node", "node-2"], &|out| {
        out.contains("node-2   NotReady")
    });
    let taints = k.ok(&[
        "get",
        "node",
        "node-2",
        "-o",
        "jsonpath={.spec.taints[*].key}",
    ]);
    assert_eq!(
        taints,
        "node.kubernetes.io/unreachable node.kubernetes.io/unreachable"
    );
    let ready = k.ok(&[
        "get",
        "node",
        "node-2",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Ready\")].message}",
    ]);
    assert_eq!(ready, "Kubelet stopped posting node status.");
    wait_for(
        &[
            "get",
            "pod",
            "web",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ],
        &|out| out == "False",
    );
    let events = k.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=web",
    ]);
    assert!(
        events.contains("NodeNotReady") && events.contains("Node is not ready"),
        "{events}"
    );
    // Started again: Ready, untainted, the pod still there and Ready.
    k.ok(&[
        "create",
        "--raw",
        "/kubox/v1/nodes/node-2/kubelet/start",
        "-f",
        "/dev/null",
    ]);
    wait_for(&["get", "node", "node-2"], &|out| {
        out.contains("node-2   Ready")
    });
    wait_for(
        &["get", "node", "node-2", "-o", "jsonpath={.spec.taints}"],
        &|out| out.is_empty(),
    );
    wait_for(
        &[
            "get",
            "pod",
            "web",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ],
        &|out| out == "True",
    );
    served.stop();
}
