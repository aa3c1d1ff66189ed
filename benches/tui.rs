//! `cargo bench --bench tui`: how long the TUI takes to draw the cluster screen (nodes, pods
//! table, sequence panel) with many pods, at 200×50, off-screen; and how much memory the TUI's
//! own state takes for them. The pods are what the API would deliver (bound, Running); the
//! selected pod sits in the middle of the list. Prints a table; asserts nothing. "state RSS" is
//! what loading the pods added to the process's VmRSS; "process RSS" is the whole process's
//! VmRSS after the frames were drawn (the target for 10,000 pods is at most 150 MiB).

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use kubox::api::runtime::watcher::Event;
use kubox::trace::{Actor, Step};
use kubox::tui::Theme;
use kubox::tui::action::Action;
use kubox::tui::keymap::Command;
use kubox::tui::state::{ClusterInfo, State};
use kubox::tui::update::update;
use kubox::tui::view::Offscreen;
use serde_json::json;

fn node(i: usize) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": format!("node-{i}"), "labels": {"topology.kubernetes.io/zone": "zone-a"}},
        "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "5000"},
            "conditions": [{"type": "Ready", "status": "True"}]}
    }))
    .unwrap()
}

fn pod(i: usize, nodes: usize) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": format!("pod-{i:05}"), "namespace": "default",
            "creationTimestamp": "2026-01-01T00:00:00Z", "uid": format!("u{i}")},
        "spec": {"nodeName": format!("node-{}", i % nodes + 1),
            "containers": [{"name": "app", "image": "busybox:1.36",
                "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]},
        "status": {"phase": "Running", "podIP": "10.88.0.3",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "image": "busybox:1.36", "imageID": "",
                "ready": true, "restartCount": 0,
                "state": {"running": {"startedAt": "2026-01-01T00:00:01Z"}}}]}
    }))
    .unwrap()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// What the 10,000-pod process may use at most, in MiB.
const RSS_TARGET_MIB: f64 = 150.0;

fn run(pods: usize, frames: usize) -> (f64, f64, f64, u64, u64) {
    let before = rss_kib();
    let mut s = State::new(
        ClusterInfo {
            runtime: "runtime: simulated (--runtime sim)".into(),
            api: Some("http://127.0.0.1:6443".into()),
            kubeconfig: "/data/kubeconfig".into(),
            store_file: "/data/kubox.redb".into(),
            log_file: None,
        },
        Theme::dark(),
        "2026-01-01T00:10:00Z".parse().unwrap(),
    );
    for i in 1..=3 {
        update(&mut s, Action::Node(Box::new(Event::Apply(node(i).into()))));
    }
    for i in 0..pods {
        update(
            &mut s,
            Action::Pod(Box::new(Event::Apply(pod(i, 3).into()))),
        );
    }
    // Select the middle pod and give it a sequence of steps, as after a create.
    for _ in 0..pods / 2 / 10 {
        update(&mut s, Action::Command(Command::PageDown));
    }
    let key = s.selected.clone().unwrap();
    let trace_key = format!("/registry/pods/{}/{}", key.0, key.1);
    for seq in 0..40u64 {
        let step = Step {
            seq,
            at: Duration::from_micros(seq * 300),
            from: Actor::ApiServer,
            to: Actor::Store,
            key: trace_key.clone(),
            rev: Some(seq),
            what: "commit update".into(),
            took: Some(Duration::from_micros(300)),
            progress: None,
        };
        update(&mut s, Action::Step(Arc::new(step)));
    }
    let state_kib = rss_kib().saturating_sub(before);
    let mut screen = Offscreen::new(200, 50);
    screen.draw(&s);
    let mut took = Vec::with_capacity(frames);
    for i in 0..frames {
        // Every frame differs (the clock moves), as when ages tick.
        s.now += Duration::from_secs(i as u64);
        let start = Instant::now();
        screen.draw(&s);
        took.push(start.elapsed());
    }
    let process_kib = rss_kib();
    took.sort();
    let mean = took.iter().sum::<Duration>().as_secs_f64() * 1000.0 / frames as f64;
    (
        percentile(&took, 0.5),
        percentile(&took, 0.99),
        mean,
        state_kib,
        process_kib,
    )
}

fn main() {
    println!("TUI frame, cluster screen, 200x50, off-screen (TestBackend), 3 nodes");
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>16} {:>18}",
        "pods", "p50 ms", "p99 ms", "mean ms", "state RSS MiB", "process RSS MiB"
    );
    let mut last = 0.0;
    // The largest first, so its process RSS is not inflated by what smaller runs left behind.
    for (pods, frames) in [(10_000, 200), (2_000, 300), (100, 500)] {
        let (p50, p99, mean, kib, process) = run(pods, frames);
        let process = process as f64 / 1024.0;
        if pods == 10_000 {
            last = process;
        }
        println!(
            "{pods:>8} {p50:>10.3} {p99:>10.3} {mean:>10.3} {:>16.1} {process:>18.1}",
            kib as f64 / 1024.0
        );
    }
    println!("(later rows' state RSS reuses pages the 10,000-pod run freed, so it reads near 0)");
    println!(
        "10,000 pods: this process's RSS {last:.1} MiB after loading and drawing — the TUI \
         alone; the {RSS_TARGET_MIB} MiB target is for the whole kubox, which `cargo bench \
         --bench memory` measures"
    );
}
