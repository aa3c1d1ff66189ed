//! `cargo bench --bench memory`: the whole process's memory with 10,000 pods — the cluster
//! in-process (store, API server, scheduler, three kubelets on the simulated runtime, the trace
//! ring), every pod created through the API and Running, and the TUI's state loaded from the
//! API's watches as the TUI loads it, one frame drawn at 200×50. Reads VmRSS and VmHWM (peak)
//! from /proc/self/status. Prints a table; asserts nothing.
//!
//! To see what is live at the measurement: build with `--features system-allocator`, run under
//! heaptrack with `KUBOX_PROFILE_EXIT=1` (the process exits right after measuring, so heaptrack
//! reports everything still held as leaked, by call site). `KUBOX_SMAPS=FILE` copies
//! /proc/self/smaps there at the measurement, to see which mappings hold the RSS.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kubox::api::runtime::{Event, watcher};
use kubox::api::{Api, ListParams};
use kubox::trace::Actor;
use kubox::tui::Theme;
use kubox::tui::action::Action;
use kubox::tui::state::{ClusterInfo, State};
use kubox::tui::update::update;
use kubox::tui::view::Offscreen;
use serde_json::json;

#[path = "common/burst.rs"]
mod burst;

const PODS: usize = 10_000;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "memory"}},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
            "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]},
    }))
    .unwrap()
}

async fn measure() -> (u64, u64, u64, u64) {
    let (dir, cluster) = burst::sim_cluster("5000").await;
    let started = status_kib("VmRSS:");
    burst::create_until_running(&cluster.api, PODS, "mem", pod).await;
    if std::env::var_os("KUBOX_EXP").is_some() {
        for k in &cluster.kubelets {
            k.set_running(false);
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    let cluster_only = status_kib("VmRSS:");
    // The TUI's state, fed as app.rs feeds it: a watcher per kind, until its initial list is in.
    let mut s = State::new(
        ClusterInfo {
            runtime: cluster.runtime_note.clone(),
            api: None,
            kubeconfig: dir.path().join("kubeconfig"),
            store_file: dir.path().join("kubox.redb"),
            log_file: None,
        },
        Theme::dark(),
        k8s_openapi::jiff::Timestamp::now(),
    );
    s.model.reader = Some(kubox::tui::model::api_reader(&cluster.api));
    for step in cluster.trace.recent() {
        update(&mut s, Action::Step(step));
    }
    let who = Actor::Client("kubox TUI".into());
    let mut nodes = Box::pin(watcher(
        Api::<Node>::all(&cluster.api, who.clone()),
        ListParams::default(),
    ));
    let mut pods = Box::pin(watcher(
        Api::<Pod>::all(&cluster.api, who),
        ListParams::default(),
    ));
    while let Some(Ok(ev)) = nodes.next().await {
        let done = matches!(ev, Event::InitDone);
        update(&mut s, Action::Node(Box::new(ev)));
        if done {
            break;
        }
    }
    while let Some(Ok(ev)) = pods.next().await {
        let done = matches!(ev, Event::InitDone);
        update(&mut s, Action::Pod(Box::new(ev)));
        if done {
            break;
        }
    }
    let mut screen = Offscreen::new(200, 50);
    screen.draw(&s);
    assert!(screen.text().contains("mem-"), "the pods are on screen");
    let with_tui = status_kib("VmRSS:");
    let peak = status_kib("VmHWM:");
    if let Some(to) = std::env::var_os("KUBOX_SMAPS") {
        std::fs::copy("/proc/self/smaps", to).unwrap();
    }
    if std::env::var_os("KUBOX_PROFILE_EXIT").is_some() {
        println!("RSS {with_tui} KiB; exiting for the heap profiler");
        std::process::exit(0);
    }
    drop((pods, nodes, s, screen));
    cluster.shutdown().await;
    (started, cluster_only, with_tui, peak)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (started, cluster_only, with_tui, peak) = rt.block_on(measure());
    println!("kubox memory (whole process; simulated runtime, 3 nodes, everything in-process)\n");
    println!("| what | RSS | target | met |");
    println!("|---|---|---|---|");
    println!("| cluster started, empty | {:.1} MiB | | |", mib(started));
    println!(
        "| 10,000 pods in the store, all Running | {:.1} MiB | | |",
        mib(cluster_only)
    );
    let mb = with_tui as f64 * 1024.0 / 1e6;
    println!(
        "| … and the TUI's state loaded, one frame drawn | {:.1} MiB ({mb:.0} MB; peak {:.1} MiB) | ≤ 150 MB | {} |",
        mib(with_tui),
        mib(peak),
        if mb <= 150.0 { "yes" } else { "NO" }
    );
}
