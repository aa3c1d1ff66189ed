//! One pod, one cycle (kube-scheduler's schedule_one.go, the decision half): filter the snapshot's
//! nodes, score the feasible ones, pick the best — and keep every step as a [`Decision`] so the
//! TUI and the API can explain it. Binding and events are the caller's.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::framework::{Code, CycleState, Framework, NodeInfo, Snapshot, Status};
use super::plugins::image_locality;

/// Below this many nodes every node is checked; above, a share (kube-scheduler's
/// percentageOfNodesToScore, adaptive: 50% − nodes/125, at least 5%, at least 100 nodes).
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;

/// What one filter pass said about one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeVerdict {
    pub node: String,
    /// Success, or the first plugin that rejected the node with its reasons.
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PluginScore {
    pub plugin: &'static str,
    pub raw: i64,
    pub normalized: i64,
    pub weight: i64,
    pub weighted: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeScore {
    pub node: String,
    pub plugins: Vec<PluginScore>,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Scheduled {
        node: String,
    },
    /// No node fits; the message is Kubernetes' FailedScheduling text.
    Unschedulable {
        message: String,
    },
    Error {
        message: String,
    },
}

/// Everything one attempt decided, node by node and plugin by plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    pub verdicts: Vec<NodeVerdict>,
    pub scores: Vec<NodeScore>,
    pub nodes_total: usize,
    pub nodes_feasible: usize,
    /// True when filtering stopped early after finding enough feasible nodes.
    pub sampled: bool,
}

/// How many feasible nodes to look for among `n` (percentageOfNodesToScore).
pub fn num_feasible_nodes_to_find(n: usize) -> usize {
    if n < MIN_FEASIBLE_NODES_TO_FIND {
        return n;
    }
    let percentage = (50i64 - (n as i64) / 125).max(5) as usize;
    (n * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}.`
/// — reasons counted over nodes, rendered `N reason`, sorted as strings.
pub fn fit_error_message(
    nodes_total: usize,
    verdicts: &[NodeVerdict],
    post_filter: Option<&str>,
) -> String {
    let mut histogram: BTreeMap<&str, usize> = BTreeMap::new();
    for v in verdicts.iter().filter(|v| v.status.is_rejection()) {
        for reason in &v.status.reasons {
            *histogram.entry(reason).or_insert(0) += 1;
        }
    }
    let mut parts: Vec<String> = histogram.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    let mut msg = format!("0/{nodes_total} nodes are available:");
    if !parts.is_empty() {
        msg.push_str(&format!(" {}.", parts.join(", ")));
    }
    if let Some(post) = post_filter {
        msg.push_str(&format!(" {post}."));
    }
    msg
}

/// Runs the filters in order, but not those whose PreFilter returned Skip.
fn run_filters(
    fw: &Framework,
    skipped: &HashSet<&'static str>,
    state: &CycleState,
    pod: &Pod,
    node: &NodeInfo,
) -> Status {
    for plugin in fw.filter.iter().filter(|p| !skipped.contains(p.name())) {
        let status = plugin.filter(state, pod, node);
        if !status.is_success() {
            return status.by(plugin.name());
        }
    }
    Status::success()
}

/// Decides where `pod` goes. `start` rotates where filtering begins, as kube-scheduler does, so
/// a sampled search does not always favour the first nodes.
pub fn schedule(fw: &Framework, pod: &Pod, snapshot: &Snapshot, start: usize) -> Decision {
    let total = snapshot.nodes.len();
    let mut decision = Decision {
        outcome: Outcome::Error {
            message: String::new(),
        },
        verdicts: Vec::new(),
        scores: Vec::new(),
        nodes_total: total,
        nodes_feasible: 0,
        sampled: false,
    };
    if total == 0 {
        decision.outcome = Outcome::Unschedulable {
            message: "no nodes available to schedule pods".into(),
        };
        return decision;
    }
    let mut state = CycleState::default();
    // Plugins with nothing to say about this pod (Skip) are not run at the next point, as
    // kube-scheduler's SkipFilterPlugins / SkipScorePlugins.
    let mut skip_filter = HashSet::new();
    for plugin in &fw.pre_filter {
        let status = plugin.pre_filter(&mut state, pod, snapshot);
        match status.code {
            Code::Skip => {
                skip_filter.insert(plugin.name());
                continue;
            }
            Code::Error => {
                decision.outcome = Outcome::Error {
                    message: format!("running PreFilter plugin {:?}: {status}", plugin.name()),
                };
                return decision;
            }
            _ => {}
        }
        if status.is_rejection() {
            let status = status.by(plugin.name());
            decision.outcome = Outcome::Unschedulable {
                message: format!("0/{total} nodes are available: {status}."),
            };
            return decision;
        }
    }
    let want = num_feasible_nodes_to_find(total);
    let mut feasible: Vec<Arc<NodeInfo>> = Vec::new();
    for i in 0..total {
        let node = &snapshot.nodes[(start + i) % total];
        let status = run_filters(fw, &skip_filter, &state, pod, node);
        if status.code == Code::Error {
            decision.outcome = Outcome::Error {
                message: format!("running {} on {}: {status}", status.plugin, node.name),
            };
            return decision;
        }
        if status.is_success() {
            feasible.push(node.clone());
        }
        decision.verdicts.push(NodeVerdict {
            node: node.name.clone(),
            status,
        });
        if feasible.len() >= want {
            decision.sampled = i + 1 < total;
            break;
        }
    }
    decision.nodes_feasible = feasible.len();
    if feasible.is_empty() {
        decision.outcome = Outcome::Unschedulable {
            message: fit_error_message(total, &decision.verdicts, None),
        };
        return decision;
    }
    if feasible.len() == 1 {
        decision.outcome = Outcome::Scheduled {
            node: feasible[0].name.clone(),
        };
        return decision;
    }
    state.write(
        image_locality::STATE_KEY,
        image_locality::Spread {
            total_nodes: total,
            image_nodes: snapshot.image_nodes.clone(),
        },
    );
    let mut skip_score = HashSet::new();
    for plugin in &fw.pre_score {
        let status = plugin.pre_score(&mut state, pod, &feasible, snapshot);
        match status.code {
            Code::Skip => {
                skip_score.insert(plugin.name());
            }
            Code::Success => {}
            _ => {
                decision.outcome = Outcome::Error {
                    message: format!("running PreScore plugin {:?}: {status}", plugin.name()),
                };
                return decision;
            }
        }
    }
    decision.scores = feasible
        .iter()
        .map(|n| NodeScore {
            node: n.name.clone(),
            plugins: Vec::new(),
            total: 0,
        })
        .collect();
    for (plugin, weight) in fw
        .score
        .iter()
        .filter(|(p, _)| !skip_score.contains(p.name()))
    {
        let mut raw = Vec::with_capacity(feasible.len());
        for node in &feasible {
            match plugin.score(&state, pod, node) {
                Ok(s) => raw.push(s),
                Err(status) => {
                    decision.outcome = Outcome::Error {
                        message: format!("scoring with {}: {status}", plugin.name()),
                    };
                    return decision;
                }
            }
        }
        let mut normalized = raw.clone();
        plugin.normalize(&state, pod, &feasible, &mut normalized);
        for (i, score) in decision.scores.iter_mut().enumerate() {
            let weighted = normalized[i] * weight;
            score.total += weighted;
            score.plugins.push(PluginScore {
                plugin: plugin.name(),
                raw: raw[i],
                normalized: normalized[i],
                weight: *weight,
                weighted,
            });
        }
    }
    // The highest total wins; ties go to the node found first (kube-scheduler picks at random).
    let best = decision
        .scores
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.total.cmp(&b.total).then(j.cmp(i)))
        .map(|(_, s)| s.node.clone())
        .unwrap_or_default();
    decision.outcome = Outcome::Scheduled { node: best };
    decision
}
