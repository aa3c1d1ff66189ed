//! The scheduler's plugins and one-pod decisions: a table per plugin, the exact FailedScheduling
//! message, and the property that no placement exceeds a node's allocatable resources.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerImage, ContainerPort, Node, NodeAffinity as K8sNodeAffinity,
    NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, NodeStatus, Pod, PodSpec,
    PreferredSchedulingTerm, ResourceRequirements, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubox::scheduler::framework::{
    Code, CycleState, FilterPlugin, NodeInfo, PodInfo, ScorePlugin, Snapshot,
};
use kubox::scheduler::plugins::{
    default_framework, image_locality, node_affinity::NodeAffinity, node_name::NodeName,
    node_ports::NodePorts, node_resources_fit::NodeResourcesFit,
    node_unschedulable::NodeUnschedulable, taint_toleration::TaintToleration,
};
use kubox::scheduler::schedule_one::{Outcome, num_feasible_nodes_to_find, schedule};
use proptest::prelude::*;

fn q(s: &str) -> Quantity {
    Quantity(s.to_string())
}

struct NodeB(Node);

fn node(name: &str, cpu: &str, mem: &str, pods: &str) -> NodeB {
    NodeB(Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::new()),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            allocatable: Some(
                [
                    ("cpu".to_string(), q(cpu)),
                    ("memory".to_string(), q(mem)),
                    ("pods".to_string(), q(pods)),
                ]
                .into(),
            ),
            ..NodeStatus::default()
        }),
    })
}

impl NodeB {
    fn label(mut self, k: &str, v: &str) -> Self {
        self.0
            .metadata
            .labels
            .get_or_insert_default()
            .insert(k.into(), v.into());
        self
    }
    fn taint(mut self, k: &str, v: &str, effect: &str) -> Self {
        self.0
            .spec
            .get_or_insert_default()
            .taints
            .get_or_insert_default()
            .push(Taint {
                key: k.into(),
                value: Some(v.into()),
                effect: effect.into(),
                ..Taint::default()
            });
        self
    }
    fn cordon(mut self) -> Self {
        self.0.spec.get_or_insert_default().unschedulable = Some(true);
        self
    }
    fn image(mut self, name: &str, mb: i64) -> Self {
        self.0
            .status
            .get_or_insert_default()
            .images
            .get_or_insert_default()
            .push(ContainerImage {
                names: Some(vec![name.into()]),
                size_bytes: Some(mb * 1024 * 1024),
            });
        self
    }
    fn info(self) -> NodeInfo {
        NodeInfo::new(Arc::new(self.0))
    }
}

struct PodB(Pod);

fn pod(name: &str) -> PodB {
    PodB(Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
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
        status: None,
    })
}

impl PodB {
    fn spec(&mut self) -> &mut PodSpec {
        self.0.spec.as_mut().unwrap()
    }
    fn requests(mut self, cpu: &str, mem: &str) -> Self {
        let mut r = BTreeMap::new();
        if !cpu.is_empty() {
            r.insert("cpu".to_string(), q(cpu));
        }
        if !mem.is_empty() {
            r.insert("memory".to_string(), q(mem));
        }
        self.spec().containers[0].resources = Some(ResourceRequirements {
            requests: Some(r),
            ..Default::default()
        });
        self
    }
    fn selector(mut self, k: &str, v: &str) -> Self {
        self.spec()
            .node_selector
            .get_or_insert_default()
            .insert(k.into(), v.into());
        self
    }
    fn tolerate(
        mut self,
        key: Option<&str>,
        op: &str,
        value: Option<&str>,
        effect: Option<&str>,
    ) -> Self {
        self.spec()
            .tolerations
            .get_or_insert_default()
            .push(Toleration {
                key: key.map(Into::into),
                operator: Some(op.into()),
                value: value.map(Into::into),
                effect: effect.map(Into::into),
                ..Toleration::default()
            });
        self
    }
    fn host_port(mut self, port: i32) -> Self {
        self.spec().containers[0].ports = Some(vec![ContainerPort {
            container_port: port,
            host_port: Some(port),
            ..Default::default()
        }]);
        self
    }
    fn required(mut self, key: &str, op: &str, values: &[&str]) -> Self {
        let term = NodeSelectorTerm {
            match_expressions: Some(vec![NodeSelectorRequirement {
                key: key.into(),
                operator: op.into(),
                values: Some(values.iter().map(|v| v.to_string()).collect()),
            }]),
            match_fields: None,
        };
        let aff = self
            .spec()
            .affinity
            .get_or_insert_default()
            .node_affinity
            .get_or_insert_default();
        aff.required_during_scheduling_ignored_during_execution
            .get_or_insert_with(|| NodeSelector {
                node_selector_terms: Vec::new(),
            })
            .node_selector_terms
            .push(term);
        self
    }
    fn preferred(mut self, weight: i32, key: &str, value: &str) -> Self {
        let aff: &mut K8sNodeAffinity = self
            .spec()
            .affinity
            .get_or_insert_with(Affinity::default)
            .node_affinity
            .get_or_insert_default();
        aff.preferred_during_scheduling_ignored_during_execution
            .get_or_insert_default()
            .push(PreferredSchedulingTerm {
                weight,
                preference: NodeSelectorTerm {
                    match_expressions: Some(vec![NodeSelectorRequirement {
                        key: key.into(),
                        operator: "In".into(),
                        values: Some(vec![value.into()]),
                    }]),
                    match_fields: None,
                },
            });
        self
    }
    fn build(self) -> Pod {
        self.0
    }
}

fn filter(plugin: &dyn FilterPlugin, p: &Pod, n: &NodeInfo) -> (Code, Vec<String>) {
    let s = plugin.filter(&CycleState::default(), p, n);
    (s.code, s.reasons)
}

fn ok() -> (Code, Vec<String>) {
    (Code::Success, vec![])
}

#[test]
fn node_resources_fit_filter() {
    let mut n = node("n", "1", "1Gi", "2").info();
    let p = pod("p").requests("600m", "600Mi").build();
    assert_eq!(filter(&NodeResourcesFit::default(), &p, &n), ok());
    n.add_pod(Arc::new(PodInfo::new(Arc::new(p.clone()))));
    assert_eq!(
        filter(&NodeResourcesFit::default(), &p, &n),
        (
            Code::Unschedulable,
            vec!["Insufficient cpu".into(), "Insufficient memory".into()]
        )
    );
    n.add_pod(Arc::new(PodInfo::new(Arc::new(pod("tiny").build()))));
    let none = pod("none").build();
    assert_eq!(
        filter(&NodeResourcesFit::default(), &none, &n),
        (Code::Unschedulable, vec!["Too many pods".into()])
    );
    // Zero requests fit anywhere there is a pod slot; the 100m/200MB defaults are for scoring only.
    let roomy = node("r", "1", "1Gi", "10").info();
    assert_eq!(filter(&NodeResourcesFit::default(), &none, &roomy), ok());
}

#[test]
fn least_allocated_scores_and_counts_defaults_for_empty_requests() {
    let n = node("n", "1", "1000Mi", "10").info();
    let p = pod("p").requests("500m", "500Mi").build();
    let s = NodeResourcesFit::default()
        .score(&CycleState::default(), &p, &n)
        .unwrap();
    assert_eq!(s, 50);
    let empty = pod("e").build();
    // 100m of 1000m → 90; 200 MB of 1000 MiB → 80; average 85.
    assert_eq!(
        NodeResourcesFit::default()
            .score(&CycleState::default(), &empty, &n)
            .unwrap(),
        85
    );
}

#[test]
fn taint_toleration_filter_and_score() {
    let n = node("n", "1", "1Gi", "10")
        .taint("dedicated", "gpu", "NoSchedule")
        .info();
    let p = pod("p").build();
    assert_eq!(
        filter(&TaintToleration, &p, &n),
        (
            Code::UnschedulableAndUnresolvable,
            vec!["node(s) had untolerated taint {dedicated: gpu}".into()]
        )
    );
    let eq = pod("p")
        .tolerate(Some("dedicated"), "Equal", Some("gpu"), Some("NoSchedule"))
        .build();
    assert_eq!(filter(&TaintToleration, &eq, &n), ok());
    let wrong_value = pod("p")
        .tolerate(Some("dedicated"), "Equal", Some("cpu"), None)
        .build();
    assert_eq!(
        filter(&TaintToleration, &wrong_value, &n).0,
        Code::UnschedulableAndUnresolvable
    );
    let exists_any = pod("p").tolerate(None, "Exists", None, None).build();
    assert_eq!(filter(&TaintToleration, &exists_any, &n), ok());
    let wrong_effect = pod("p")
        .tolerate(Some("dedicated"), "Exists", None, Some("NoExecute"))
        .build();
    assert_eq!(
        filter(&TaintToleration, &wrong_effect, &n).0,
        Code::UnschedulableAndUnresolvable
    );

    let soft = node("s", "1", "1Gi", "10")
        .taint("flaky", "", "PreferNoSchedule")
        .info();
    assert_eq!(
        filter(&TaintToleration, &p, &soft),
        ok(),
        "PreferNoSchedule never filters"
    );
    let nodes = [Arc::new(soft), Arc::new(node("c", "1", "1Gi", "10").info())];
    let mut scores: Vec<i64> = nodes
        .iter()
        .map(|n| {
            TaintToleration
                .score(&CycleState::default(), &p, n)
                .unwrap()
        })
        .collect();
    TaintToleration.normalize(&CycleState::default(), &p, &nodes, &mut scores);
    assert_eq!(scores, [0, 100]);
}

#[test]
fn node_affinity_operators_selector_and_preferences() {
    let n = node("node-1", "1", "1Gi", "10")
        .label("zone", "a")
        .label("gpus", "4")
        .label("disk", "ssd")
        .info();
    let fits = |p: Pod| filter(&NodeAffinity, &p, &n).0 == Code::Success;
    assert!(fits(pod("p").selector("disk", "ssd").build()));
    assert!(!fits(pod("p").selector("disk", "hdd").build()));
    assert!(fits(pod("p").required("zone", "In", &["a", "b"]).build()));
    assert!(!fits(pod("p").required("zone", "NotIn", &["a"]).build()));
    assert!(fits(pod("p").required("gpus", "Exists", &[]).build()));
    assert!(!fits(
        pod("p").required("gpus", "DoesNotExist", &[]).build()
    ));
    assert!(fits(pod("p").required("gpus", "Gt", &["2"]).build()));
    assert!(!fits(pod("p").required("gpus", "Lt", &["2"]).build()));
    assert!(
        !fits(pod("p").required("missing", "In", &["x"]).build()),
        "a key the node lacks does not match In"
    );
    assert!(fits(pod("p").required("missing", "NotIn", &["x"]).build()));
    // Terms are ORed.
    assert!(fits(
        pod("p")
            .required("zone", "In", &["z"])
            .required("disk", "In", &["ssd"])
            .build()
    ));
    assert_eq!(
        filter(&NodeAffinity, &pod("p").selector("disk", "hdd").build(), &n).1,
        vec!["node(s) didn't match Pod's node affinity/selector".to_string()]
    );
    let prefer = pod("p")
        .preferred(30, "zone", "a")
        .preferred(70, "zone", "b")
        .build();
    assert_eq!(
        NodeAffinity
            .score(&CycleState::default(), &prefer, &n)
            .unwrap(),
        30
    );
}

/// NodePorts and NodeAffinity skip pods with nothing for them to check (their PreFilter says
/// Skip, as kube-scheduler's), and still reject when there is.
#[test]
fn ports_and_node_affinity_run_only_for_pods_that_ask() {
    let mut busy = node("busy", "1", "1Gi", "10").label("disk", "ssd").info();
    busy.add_pod(Arc::new(PodInfo::new(Arc::new(
        pod("a").host_port(8080).build(),
    ))));
    let snap = snapshot(vec![busy, node("free", "1", "1Gi", "10").info()]);
    let fw = default_framework();
    let verdicts = |p: &Pod| -> Vec<(String, &'static str)> {
        schedule(&fw, p, &snap, 0)
            .verdicts
            .iter()
            .map(|v| (v.node.to_string(), v.status.plugin))
            .collect()
    };
    assert_eq!(
        verdicts(&pod("web").host_port(8080).build()),
        [("busy".into(), "NodePorts"), ("free".into(), "")]
    );
    assert_eq!(
        verdicts(&pod("web").selector("disk", "ssd").build()),
        [("busy".into(), ""), ("free".into(), "NodeAffinity")]
    );
    assert_eq!(
        verdicts(&pod("web").build()),
        [("busy".into(), ""), ("free".into(), "")]
    );
}

#[test]
fn ports_cordon_and_node_name() {
    let mut n = node("node-1", "1", "1Gi", "10").info();
    n.add_pod(Arc::new(PodInfo::new(Arc::new(
        pod("a").host_port(8080).build(),
    ))));
    assert_eq!(
        filter(&NodePorts, &pod("b").host_port(8080).build(), &n),
        (
            Code::Unschedulable,
            vec!["node(s) didn't have free ports for the requested pod ports".into()]
        )
    );
    assert_eq!(
        filter(&NodePorts, &pod("b").host_port(9090).build(), &n),
        ok()
    );

    let cordoned = node("c", "1", "1Gi", "10").cordon().info();
    assert_eq!(
        filter(&NodeUnschedulable, &pod("p").build(), &cordoned).1,
        vec!["node(s) were unschedulable".to_string()]
    );
    let tolerant = pod("p")
        .tolerate(
            Some("node.kubernetes.io/unschedulable"),
            "Exists",
            None,
            Some("NoSchedule"),
        )
        .build();
    assert_eq!(filter(&NodeUnschedulable, &tolerant, &cordoned), ok());

    let mut named = pod("p").build();
    named.spec.as_mut().unwrap().node_name = Some("other".into());
    assert_eq!(
        filter(&NodeName, &named, &n).1,
        vec!["node(s) didn't match the requested node name".to_string()]
    );
}

#[test]
fn image_locality_priority_curve() {
    assert_eq!(image_locality::calculate_priority(0, 1), 0);
    assert_eq!(
        image_locality::calculate_priority(1000 * 1024 * 1024, 1),
        100
    );
    assert_eq!(
        image_locality::calculate_priority(2000 * 1024 * 1024, 1),
        100
    );
}

fn snapshot(nodes: Vec<NodeInfo>) -> Snapshot {
    Snapshot::new(nodes.into_iter().map(Arc::new).collect())
}

#[test]
fn failed_scheduling_message_is_kubernetes_format() {
    let snap = snapshot(vec![
        node("node-1", "500m", "1Gi", "10").info(),
        node("node-2", "4", "8Gi", "10")
            .taint("dedicated", "gpu", "NoSchedule")
            .info(),
        node("node-3", "4", "8Gi", "10")
            .taint("dedicated", "gpu", "NoSchedule")
            .info(),
    ]);
    let p = pod("web").requests("1", "").build();
    let d = schedule(&default_framework(), &p, &snap, 0);
    assert_eq!(
        d.outcome,
        Outcome::Unschedulable {
            message: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}. \
                      preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, \
                      2 Preemption is not helpful for scheduling.".into()
        }
    );
    let rejected: Vec<_> = d
        .verdicts
        .iter()
        .map(|v| (&*v.node, v.status.plugin))
        .collect();
    assert_eq!(
        rejected,
        [
            ("node-1", "NodeResourcesFit"),
            ("node-2", "TaintToleration"),
            ("node-3", "TaintToleration")
        ]
    );
    // What the queue keeps to know which cluster events may help the pod.
    assert_eq!(
        d.unschedulable_plugins,
        ["NodeResourcesFit", "TaintToleration"]
    );
    let empty = schedule(&default_framework(), &p, &snapshot(vec![]), 0);
    assert_eq!(
        empty.outcome,
        Outcome::Unschedulable {
            message: "no nodes available to schedule pods".into()
        }
    );
}

#[test]
fn scoring_picks_the_emptier_node_and_records_every_plugin() {
    let mut busy = node("busy", "2", "4Gi", "10").info();
    busy.add_pod(Arc::new(PodInfo::new(Arc::new(
        pod("x").requests("1500m", "3Gi").build(),
    ))));
    let snap = snapshot(vec![busy, node("idle", "2", "4Gi", "10").info()]);
    let d = schedule(
        &default_framework(),
        &pod("web").requests("100m", "128Mi").build(),
        &snap,
        0,
    );
    assert_eq!(
        d.outcome,
        Outcome::Scheduled {
            node: "idle".into()
        }
    );
    assert_eq!(d.scores.len(), 2);
    let plugins: Vec<_> = d
        .scores
        .plugins_of(0)
        .iter()
        .map(|p| (p.plugin, p.weight))
        .collect();
    assert_eq!(
        plugins,
        [
            ("TaintToleration", 3),
            ("NodeAffinity", 2),
            ("NodeResourcesFit", 1),
            ("NodeResourcesBalancedAllocation", 1),
            ("ImageLocality", 1)
        ]
    );
    for (i, s) in d.scores.iter().enumerate() {
        let plugins = d.scores.plugins_of(i);
        assert_eq!(s.total, plugins.iter().map(|p| p.weighted).sum::<i64>());
        for p in plugins {
            assert_eq!(p.weighted, p.normalized * p.weight);
        }
    }
}

#[test]
fn image_locality_tips_the_balance() {
    let snap = snapshot(vec![
        node("plain", "2", "4Gi", "10").info(),
        node("cached", "2", "4Gi", "10")
            .image("docker.io/library/busybox:1.36", 500)
            .info(),
    ]);
    let d = schedule(&default_framework(), &pod("web").build(), &snap, 0);
    assert_eq!(
        d.outcome,
        Outcome::Scheduled {
            node: "cached".into()
        }
    );
}

#[test]
fn many_nodes_are_sampled_as_kube_scheduler_does() {
    assert_eq!(num_feasible_nodes_to_find(50), 50);
    assert_eq!(num_feasible_nodes_to_find(1000), 420);
    assert_eq!(num_feasible_nodes_to_find(5000), 500);
    let nodes: Vec<_> = (0..1000)
        .map(|i| node(&format!("n{i:04}"), "4", "8Gi", "110").info())
        .collect();
    let d = schedule(
        &default_framework(),
        &pod("web").build(),
        &snapshot(nodes),
        0,
    );
    assert!(d.sampled);
    assert_eq!(d.nodes_feasible, 420);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_placement_exceeds_allocatable(
        nodes in prop::collection::vec((1u32..8, 1u32..16, 1u32..6), 1..6),
        pods in prop::collection::vec((0u32..3000, 0u32..4096), 1..40),
    ) {
        let mut infos: Vec<NodeInfo> = nodes
            .iter()
            .enumerate()
            .map(|(i, (cpu, gi, max_pods))| node(&format!("n{i}"), &cpu.to_string(), &format!("{gi}Gi"), &max_pods.to_string()).info())
            .collect();
        let fw = default_framework();
        for (i, (milli, mi)) in pods.iter().enumerate() {
            let p = pod(&format!("p{i}")).requests(&format!("{milli}m"), &format!("{mi}Mi")).build();
            let snap = snapshot(infos.clone());
            if let Outcome::Scheduled { node } = schedule(&fw, &p, &snap, i).outcome {
                let target = infos.iter_mut().find(|n| *n.name == *node).unwrap();
                target.add_pod(Arc::new(PodInfo::new(Arc::new(p))));
            }
        }
        for n in &infos {
            prop_assert!(n.requested.milli_cpu <= n.allocatable.milli_cpu, "{} cpu", n.name);
            prop_assert!(n.requested.memory <= n.allocatable.memory, "{} memory", n.name);
            prop_assert!(n.pods.len() as i64 <= n.allocatable.pods, "{} pods", n.name);
        }
    }
}

/// A pod from JSON (metadata and spec), in `default`, with one container.
fn pod_json(name: &str, labels: serde_json::Value, spec: serde_json::Value) -> Pod {
    let mut p: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": spec,
    }))
    .unwrap();
    p.spec.as_mut().unwrap().containers = pod(name).build().spec.unwrap().containers;
    p
}

fn zoned(name: &str, zone: &str) -> NodeInfo {
    node(name, "4", "8Gi", "110")
        .label("kubernetes.io/hostname", name)
        .label("zone", zone)
        .info()
}

/// Schedules each pod in turn on `nodes`, placing it where it went; the outcomes in order.
fn schedule_in_turn(nodes: &mut [NodeInfo], pods: Vec<Pod>) -> Vec<Outcome> {
    let fw = default_framework();
    pods.into_iter()
        .enumerate()
        .map(|(i, p)| {
            let snap = snapshot(nodes.to_vec());
            let outcome = schedule(&fw, &p, &snap, i).outcome;
            if let Outcome::Scheduled { node } = &outcome {
                let target = nodes.iter_mut().find(|n| *n.name == **node).unwrap();
                target.add_pod(Arc::new(PodInfo::new(Arc::new(p))));
            }
            outcome
        })
        .collect()
}

fn scheduled_on(outcomes: &[Outcome]) -> Vec<&str> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Scheduled { node } => Some(node.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn required_anti_affinity_puts_one_replica_per_node_and_explains_the_rest() {
    let replica = |i: usize| {
        pod_json(
            &format!("web-{i}"),
            serde_json::json!({"app": "web"}),
            serde_json::json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
            ]}}}),
        )
    };
    let mut nodes = vec![zoned("n1", "a"), zoned("n2", "a"), zoned("n3", "b")];
    let outcomes = schedule_in_turn(&mut nodes, (0..4).map(replica).collect());
    let mut placed = scheduled_on(&outcomes);
    placed.sort();
    assert_eq!(placed, ["n1", "n2", "n3"]);
    assert_eq!(
        outcomes[3],
        Outcome::Unschedulable {
            message: "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. \
                      preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
                .into()
        }
    );
    // A pod the replicas' anti-affinity selects, without terms of its own, is kept out too.
    let intruder = pod_json(
        "intruder",
        serde_json::json!({"app": "web"}),
        serde_json::json!({}),
    );
    assert_eq!(
        schedule_in_turn(&mut nodes, vec![intruder]),
        [Outcome::Unschedulable {
            message: "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules. \
                      preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
                .into()
        }]
    );
}

#[test]
fn hard_topology_spread_fills_zones_evenly_and_explains_why_not() {
    let replica = |i: usize| {
        pod_json(
            &format!("web-{i}"),
            serde_json::json!({"app": "web"}),
            serde_json::json!({"topologySpreadConstraints": [{
                "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}},
            }]}),
        )
    };
    // Zone a has three nodes, zone b one: spreading by zone still alternates.
    let mut nodes = vec![
        zoned("a1", "a"),
        zoned("a2", "a"),
        zoned("a3", "a"),
        zoned("b1", "b"),
        node("bare", "4", "8Gi", "110").info(),
    ];
    let outcomes = schedule_in_turn(&mut nodes, (0..6).map(replica).collect());
    let placed = scheduled_on(&outcomes);
    assert_eq!(placed.len(), 6);
    let (mut a, mut b) = (0i32, 0i32);
    for n in placed {
        match n.chars().next() {
            Some('a') => a += 1,
            Some('b') => b += 1,
            _ => panic!("{n} has no zone"),
        }
        assert!((a - b).abs() <= 1, "zones a {a}, b {b}");
    }

    // b1 is full: the next replica would make zone a two ahead.
    let mut full = vec![
        zoned("a1", "a"),
        node("b1", "0", "8Gi", "110")
            .label("kubernetes.io/hostname", "b1")
            .label("zone", "b")
            .info(),
        node("bare", "4", "8Gi", "110").info(),
    ];
    let mut p = replica(0);
    p.spec.as_mut().unwrap().containers[0].resources = Some(ResourceRequirements {
        requests: Some([("cpu".to_string(), q("100m"))].into()),
        ..Default::default()
    });
    let outcomes = schedule_in_turn(&mut full, vec![p.clone(), p]);
    assert_eq!(scheduled_on(&outcomes), ["a1"]);
    assert_eq!(
        outcomes[1],
        Outcome::Unschedulable {
            message: "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label). \
                      preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.".into()
        }
    );
}

#[test]
fn soft_spread_and_preferred_affinity_are_scored_with_weight_two() {
    let mut nodes = vec![zoned("a1", "a"), zoned("b1", "b")];
    nodes[0].add_pod(Arc::new(PodInfo::new(Arc::new(pod_json(
        "web-0",
        serde_json::json!({"app": "web"}),
        serde_json::json!({}),
    )))));
    let p = pod_json(
        "web-1",
        serde_json::json!({"app": "web"}),
        serde_json::json!({
            "topologySpreadConstraints": [{
                "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": "web"}},
            }],
            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "zone"}}
            ]}},
        }),
    );
    let d = schedule(&default_framework(), &p, &snapshot(nodes), 0);
    assert_eq!(d.outcome, Outcome::Scheduled { node: "b1".into() });
    let (b1, _) = d.scores.find("b1").unwrap();
    let plugins: Vec<_> = d
        .scores
        .plugins_of(b1)
        .iter()
        .map(|p| (p.plugin, p.normalized, p.weight))
        .collect();
    assert_eq!(
        &plugins[3..5],
        [("PodTopologySpread", 100, 2), ("InterPodAffinity", 100, 2)]
    );
    let (a1, _) = d.scores.find("a1").unwrap();
    let a1 = d.scores.plugins_of(a1);
    assert_eq!((a1[3].normalized, a1[4].normalized), (0, 0));
}

#[test]
fn a_plugin_error_before_scoring_is_a_scheduling_error() {
    let p = pod_json(
        "web",
        serde_json::json!({"app": "web"}),
        serde_json::json!({"topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]},
        }]}),
    );
    let d = schedule(
        &default_framework(),
        &p,
        &snapshot(vec![zoned("a1", "a"), zoned("b1", "b")]),
        0,
    );
    assert_eq!(
        d.outcome,
        Outcome::Error {
            message: "running PreScore plugin \"PodTopologySpread\": calculating preScoreState: obtaining pod's soft topology spread constraints: \"Gt\" is not a valid label selector operator".into()
        }
    );
}
