//! `cargo bench`: the store and API-core rows of ../shared/perf.md, measured and printed as a
//! table. Numbers are medians over several runs where a run is short; every durable write here is
//! on disk before it is counted. Results go into BENCHMARKS.md by hand, with the machine.

use std::fs::OpenOptions;
use std::io::Write;

use std::time::Instant;

use bytes::Bytes;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubox::api::{Api, ApiServer, ListParams};
use kubox::store::{Op, Store};
use kubox::trace::{Actor, TraceBus};

fn bench_dir() -> tempfile::TempDir {
    // The target dir is on the project's disk; /tmp may be another filesystem.
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir for the benchmark")
}

/// A realistic pod of about 1 KB as JSON.
fn pod_json(name: &str) -> Bytes {
    let pod = Pod {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some("default".into()),
            uid: Some("6f1a4b3e-8a1c-4a7e-9d5e-2b7c1e0f9a31".into()),
            labels: Some(
                [
                    ("app".to_string(), "web".to_string()),
                    ("tier".to_string(), "frontend".to_string()),
                ]
                .into(),
            ),
            annotations: Some([("kubox.dev/padding".to_string(), "x".repeat(420))].into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("busybox:1.36".into()),
                command: Some(vec!["sh".into(), "-c".into(), "sleep 3600".into()]),
                resources: Some(ResourceRequirements {
                    requests: Some(
                        [
                            ("cpu".to_string(), Quantity("100m".into())),
                            ("memory".to_string(), Quantity("64Mi".into())),
                        ]
                        .into(),
                    ),
                    limits: Some(
                        [
                            ("cpu".to_string(), Quantity("200m".into())),
                            ("memory".to_string(), Quantity("128Mi".into())),
                        ]
                        .into(),
                    ),
                    ..ResourceRequirements::default()
                }),
                image_pull_policy: Some("IfNotPresent".into()),
                termination_message_path: Some("/dev/termination-log".into()),
                termination_message_policy: Some("File".into()),
                ..Container::default()
            }],
            restart_policy: Some("Always".into()),
            termination_grace_period_seconds: Some(30),
            dns_policy: Some("ClusterFirst".into()),
            scheduler_name: Some("default-scheduler".into()),
            ..PodSpec::default()
        }),
        status: None,
    };
    Bytes::from(serde_json::to_vec(&pod).unwrap())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

struct Row {
    what: &'static str,
    result: String,
    target: &'static str,
    met: Option<bool>,
}

/// Raw baseline: append 1 KB and fdatasync, as one durable write costs at the least.
fn fdatasync_rate(n: usize) -> f64 {
    let dir = bench_dir();
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("raw"))
        .unwrap();
    let buf = vec![b'k'; 1024];
    let start = Instant::now();
    for _ in 0..n {
        file.write_all(&buf).unwrap();
        file.sync_data().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn single_writer_rate(n: usize) -> f64 {
    let dir = bench_dir();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    let start = Instant::now();
    for i in 0..n {
        store
            .write_blocking(Op::Create {
                key: format!("/registry/pods/default/p{i}"),
                value: pod_json("p"),
            })
            .unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn concurrent_writers_rate(rt: &tokio::runtime::Runtime, writers: usize, per_writer: usize) -> f64 {
    let dir = bench_dir();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    let value = pod_json("p");
    rt.block_on(async {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            let value = value.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..per_writer {
                    store
                        .create(&format!("/registry/pods/w{w}/p{i}"), value.clone())
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        (writers * per_writer) as f64 / start.elapsed().as_secs_f64()
    })
}

/// One writer keeping writes in flight, `watchers` watchers each receiving every event.
fn fanout_rate(rt: &tokio::runtime::Runtime, watchers: usize, events: usize) -> f64 {
    let dir = bench_dir();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..watchers {
            let mut w = store.watch("/registry/pods/", 0).unwrap();
            tasks.push(tokio::spawn(async move {
                let mut seen = 0usize;
                while seen < events {
                    match w.next().await {
                        Some(Ok(_)) => seen += 1,
                        other => panic!("watcher failed: {:?}", other.map(|r| r.map(|_| ()))),
                    }
                }
                seen
            }));
        }
        let value = Bytes::from_static(b"{}");
        let start = Instant::now();
        let mut in_flight = std::collections::VecDeque::new();
        for i in 0..events {
            in_flight.push_back(store.submit(Op::Create {
                key: format!("/registry/pods/default/p{i}"),
                value: value.clone(),
            }));
            if in_flight.len() >= 256 {
                in_flight.pop_front().unwrap().await.unwrap().unwrap();
            }
        }
        for rx in in_flight {
            rx.await.unwrap().unwrap();
        }
        let mut delivered = 0;
        for t in tasks {
            delivered += t.await.unwrap();
        }
        delivered as f64 / start.elapsed().as_secs_f64()
    })
}

fn list_pods_ms(rt: &tokio::runtime::Runtime, pods: usize, runs: usize) -> f64 {
    let dir = bench_dir();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    rt.block_on(async {
        let pending: Vec<_> = (0..pods)
            .map(|i| {
                let name = format!("pod-{i:05}");
                store.submit(Op::Create {
                    key: format!("/registry/pods/default/{name}"),
                    value: pod_json(&name),
                })
            })
            .collect();
        for p in pending {
            p.await.unwrap().unwrap();
        }
    });
    let server = ApiServer::new(store, TraceBus::quiet());
    let api: Api<Pod> = Api::namespaced(&server, "default", Actor::You);
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let list = api.list(&ListParams::default()).unwrap();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(list.items.len(), pods);
    }
    median(times)
}

fn main() {
    // `cargo bench -- <filter>` passes arguments; this binary runs everything.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("kubox store benchmarks ({cores} cores; medians of 5–7 runs)\n");

    // The disk's flush latency drifts between runs here, so raw and store runs alternate and the
    // ratio is taken per pair.
    let mut ratios = Vec::new();
    let mut raw = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..7 {
        let r = fdatasync_rate(500);
        let s = single_writer_rate(500);
        raw.push(r);
        ours.push(s);
        ratios.push(s / r);
    }
    let ratio = median(ratios);
    let mut rows = vec![Row {
        what: "durable writes, one writer (1 KB pods)",
        result: format!(
            "{:.0}/s vs raw fdatasync {:.0}/s = {ratio:.2}×",
            median(ours),
            median(raw)
        ),
        target: "≥ 0.80× raw fdatasync",
        met: Some(ratio >= 0.8),
    }];

    let rates: Vec<f64> = (0..5)
        .map(|_| concurrent_writers_rate(&rt, 64, 400))
        .collect();
    let rate = median(rates);
    rows.push(Row {
        what: "durable writes, 64 concurrent writers (1 KB pods)",
        result: format!("{rate:.0} writes/s"),
        target: "≥ 50,000 writes/s",
        met: Some(rate >= 50_000.0),
    });

    let rates: Vec<f64> = (0..5).map(|_| fanout_rate(&rt, 100, 20_000)).collect();
    let rate = median(rates);
    rows.push(Row {
        what: "watch fan-out, 1 writer, 100 watchers (durable writes)",
        result: format!("{:.2} M deliveries/s", rate / 1e6),
        target: "≥ 1,000,000 deliveries/s",
        met: Some(rate >= 1_000_000.0),
    });

    let ms = list_pods_ms(&rt, 10_000, 7);
    rows.push(Row {
        what: "list 10,000 pods through the API (decode + rv)",
        result: format!("{ms:.1} ms (median of 7)"),
        target: "report",
        met: None,
    });

    println!("| what | result | target | met |");
    println!("|---|---|---|---|");
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "—",
        };
        println!("| {} | {} | {} | {met} |", r.what, r.result, r.target);
    }
}
