//! Builders the plugins' unit tests share: nodes with labels, pods written as JSON, snapshots.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use serde_json::{Value, json};

use crate::scheduler::framework::{
    CycleState, FilterPlugin, NodeInfo, PodInfo, PreFilterPlugin, PreScorePlugin, ScorePlugin,
    Snapshot, Status,
};

/// A node with these labels (and `kubernetes.io/hostname` set to its name unless given).
pub fn node(name: &str, labels: &[(&str, &str)]) -> NodeInfo {
    let mut l: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    l.entry("kubernetes.io/hostname").or_insert(json!(name));
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": l},
        "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
    }))
    .unwrap();
    NodeInfo::new(Arc::new(node))
}

/// A node without any label (not even a hostname).
pub fn unlabeled(name: &str) -> NodeInfo {
    let mut n = (*node(name, &[]).node).clone();
    n.metadata.labels = None;
    NodeInfo::new(Arc::new(n))
}

/// The node (without its pods) with one more taint.
pub fn taint(node: &NodeInfo, key: &str, value: &str, effect: &str) -> NodeInfo {
    let mut n = (*node.node).clone();
    n.spec
        .get_or_insert_default()
        .taints
        .get_or_insert_default()
        .push(Taint {
            key: key.into(),
            value: Some(value.into()),
            effect: effect.into(),
            ..Taint::default()
        });
    NodeInfo::new(Arc::new(n))
}

/// A pod in `default` with these labels; `spec` is merged into a one-container spec.
pub fn pod(name: &str, labels: &[(&str, &str)], spec: Value) -> Pod {
    let mut s = json!({"containers": [{"name": "app", "image": "busybox:1.36"}]});
    if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), spec) {
        s.extend(extra);
    }
    let l: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "labels": l},
        "spec": s,
    }))
    .unwrap()
}

pub fn with_namespace(mut pod: Pod, namespace: &str) -> Pod {
    pod.metadata.namespace = Some(namespace.into());
    pod
}

/// Places `pod` on the node, as the cache does for a bound pod.
pub fn place(node: &mut NodeInfo, pod: Pod) {
    node.add_pod(Arc::new(PodInfo::new(Arc::new(pod))));
}

pub fn snapshot(nodes: Vec<NodeInfo>) -> Snapshot {
    Snapshot::new(nodes.into_iter().map(Arc::new).collect())
}

/// Runs PreFilter, then Filter on every node of the snapshot (unless PreFilter skipped):
/// the PreFilter status and `(node, status)` per node.
pub fn filter_all<P: PreFilterPlugin + FilterPlugin>(
    plugin: &P,
    pod: &Pod,
    snap: &Snapshot,
) -> (Status, Vec<(String, Status)>) {
    let mut state = CycleState::default();
    let pre = plugin.pre_filter(&mut state, pod, snap);
    if !pre.is_success() {
        return (pre, Vec::new());
    }
    let verdicts = snap
        .nodes
        .iter()
        .map(|n| (n.name.to_string(), plugin.filter(&state, pod, n)))
        .collect();
    (pre, verdicts)
}

/// Runs PreScore over `feasible` (names in the snapshot), then Score and normalize: the
/// PreScore status and `(node, raw, normalized)` per feasible node.
pub fn score_all<P: PreScorePlugin + ScorePlugin>(
    plugin: &P,
    pod: &Pod,
    snap: &Snapshot,
    feasible: &[&str],
) -> (Status, Vec<(String, i64, i64)>) {
    let nodes: Vec<Arc<NodeInfo>> = feasible
        .iter()
        .map(|name| snap.get(name).expect("feasible node in snapshot").clone())
        .collect();
    let mut state = CycleState::default();
    let pre = plugin.pre_score(&mut state, pod, &nodes, snap);
    if !pre.is_success() {
        return (pre, Vec::new());
    }
    let raw: Vec<i64> = nodes
        .iter()
        .map(|n| plugin.score(&state, pod, n).unwrap())
        .collect();
    let mut normalized = raw.clone();
    plugin.normalize(&state, pod, &nodes, &mut normalized);
    let rows = nodes
        .iter()
        .zip(raw.iter().zip(&normalized))
        .map(|(n, (r, s))| (n.name.to_string(), *r, *s))
        .collect();
    (pre, rows)
}
