//! One pod, one cycle (kube-scheduler's schedule_one.go, the decision half): filter the snapshot's
//! nodes, score the feasible ones, pick the best; when none fits, ask the PostFilter plugins
//! (preemption) — and keep every step as a [`Decision`] so the TUI and the API can explain it.
//! Binding, evictions and events are the caller's.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::framework::{
    Code, CycleState, Framework, Handle, NodeInfo, NodeToStatus, PostFilterResult, Snapshot,
    Status, fit_error,
};
use super::plugins::image_locality;

/// Below this many nodes every node is checked; above, a share (kube-scheduler's
/// percentageOfNodesToScore, adaptive: 50% − nodes/125, at least 5%, at least 100 nodes).
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;

/// What one filter pass said about one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeVerdict {
    /// The node's name, shared with its `NodeInfo`.
    pub node: Arc<str>,
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

/// One feasible node's total; its per-plugin scores are in the [`ScoreTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct NodeScore {
    pub node: Arc<str>,
    pub total: i64,
}

/// The scores of one attempt: a row per feasible node, a column per score plugin that ran,
/// raw and normalized score in each cell (the weighted one is normalized × weight). Kept flat,
/// a few allocations per attempt rather than one per node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoreTable {
    /// The columns: plugin and weight, in the order they ran.
    pub plugins: Vec<(&'static str, i64)>,
    /// The rows, in the order the nodes were found feasible.
    pub nodes: Vec<NodeScore>,
    /// Row-major: node `i`, plugin `j` at `i * plugins.len() + j`.
    raw: Vec<i64>,
    normalized: Vec<i64>,
}

impl ScoreTable {
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, NodeScore> {
        self.nodes.iter()
    }

    /// Row `i`'s scores, plugin by plugin.
    pub fn plugins_of(&self, i: usize) -> Vec<PluginScore> {
        let k = self.plugins.len();
        self.plugins
            .iter()
            .enumerate()
            .map(|(j, &(plugin, weight))| {
                let normalized = self.normalized[i * k + j];
                PluginScore {
                    plugin,
                    raw: self.raw[i * k + j],
                    normalized,
                    weight,
                    weighted: normalized * weight,
                }
            })
            .collect()
    }

    /// The row of `node`, with its position.
    pub fn find(&self, node: &str) -> Option<(usize, &NodeScore)> {
        self.nodes
            .iter()
            .enumerate()
            .find(|(_, s)| &*s.node == node)
    }
}

impl std::ops::Index<usize> for ScoreTable {
    type Output = NodeScore;

    fn index(&self, i: usize) -> &NodeScore {
        &self.nodes[i]
    }
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

/// What the PostFilter plugins (DefaultPreemption) said when no node fit.
#[derive(Debug, Clone, PartialEq)]
pub struct PostFilterOutcome {
    /// Success when preemption found room; otherwise why not — its text is the
    /// ` preemption: ...` part of the FailedScheduling message.
    pub status: Status,
    /// The nomination and the victims; `None` leaves the pod's nomination as it is.
    pub result: Option<PostFilterResult>,
}

/// Everything one attempt decided, node by node and plugin by plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    pub verdicts: Vec<NodeVerdict>,
    pub scores: ScoreTable,
    pub nodes_total: usize,
    pub nodes_feasible: usize,
    /// True when filtering stopped before looking at every node (enough feasible nodes found,
    /// or the nominated node fit).
    pub sampled: bool,
    /// Set when no node fit and PostFilter plugins ran.
    pub post_filter: Option<PostFilterOutcome>,
    /// When no node fit: the plugins that rejected nodes (in PreFilter or Filter), which
    /// decide what cluster events give the pod another try.
    pub unschedulable_plugins: Vec<&'static str>,
}

impl Decision {
    /// The preemption this attempt decided on: the nominated node and its victims.
    pub fn preemption(&self) -> Option<&PostFilterResult> {
        let outcome = self.post_filter.as_ref()?;
        outcome
            .status
            .is_success()
            .then_some(outcome.result.as_ref())
            .flatten()
            .filter(|r| !r.nominated_node.is_empty())
    }
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
/// — reasons counted over the rejected nodes, rendered `N reason`, sorted as strings; then the
/// PostFilter message as it is (` preemption: 0/3 nodes are available: ...`, which brings its
/// own full stop).
pub fn fit_error_message(
    nodes_total: usize,
    verdicts: &[NodeVerdict],
    post_filter: Option<&str>,
) -> String {
    fit_error(
        nodes_total,
        &rejections(verdicts),
        "",
        post_filter.unwrap_or(""),
    )
}

fn rejections(verdicts: &[NodeVerdict]) -> NodeToStatus {
    let mut statuses = NodeToStatus::default();
    for v in verdicts.iter().filter(|v| v.status.is_rejection()) {
        statuses.set(&v.node, v.status.clone());
    }
    statuses
}

fn nominated_node_name(pod: &Pod) -> Option<&str> {
    pod.status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty())
}

/// No node fits: the PostFilter plugins may find a way (preemption); the FailedScheduling
/// message tells what filtering and they found.
fn unschedulable(
    handle: &Handle<'_>,
    state: &CycleState,
    pod: &Pod,
    statuses: &NodeToStatus,
    pre_filter_msg: &str,
    decision: &mut Decision,
) {
    decision.unschedulable_plugins = statuses.rejecting_plugins();
    let mut post_filter_msg = String::new();
    if !handle.framework.post_filter.is_empty() {
        let (result, status) = handle
            .framework
            .run_post_filter_plugins(handle, state, pod, statuses);
        post_filter_msg = status.to_string();
        decision.post_filter = Some(PostFilterOutcome { status, result });
    }
    decision.outcome = Outcome::Unschedulable {
        message: fit_error(
            handle.snapshot.nodes.len(),
            statuses,
            pre_filter_msg,
            &post_filter_msg,
        ),
    };
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
        scores: ScoreTable::default(),
        nodes_total: total,
        nodes_feasible: 0,
        sampled: false,
        post_filter: None,
        unschedulable_plugins: Vec::new(),
    };
    if total == 0 {
        decision.outcome = Outcome::Unschedulable {
            message: "no nodes available to schedule pods".into(),
        };
        return decision;
    }
    let handle = Handle {
        framework: fw,
        snapshot,
        offset: start,
    };
    let mut state = CycleState::default();
    // Plugins with nothing to say about this pod (Skip) are not run at the next point, as
    // kube-scheduler's SkipFilterPlugins / SkipScorePlugins.
    let mut skip_filter = Vec::new();
    for plugin in &fw.pre_filter {
        let status = plugin.pre_filter(&mut state, pod, snapshot);
        match status.code {
            Code::Skip => {
                skip_filter.push(plugin.name());
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
            let pre_filter_msg = status.to_string();
            // Every node shares the PreFilter's verdict, so preemption weighs them all alike.
            let statuses = NodeToStatus::new(status);
            unschedulable(
                &handle,
                &state,
                pod,
                &statuses,
                &pre_filter_msg,
                &mut decision,
            );
            return decision;
        }
    }
    state.skip_filter_plugins = skip_filter;
    // A node nominated by an earlier preemption is likely the only one that fits: try it alone
    // first (evaluateNominatedNode).
    if let Some(node) = nominated_node_name(pod).and_then(|n| snapshot.get(n)) {
        let status = fw.run_filter_plugins_with_nominated_pods(&state, pod, node, snapshot);
        if status.is_success() {
            decision.verdicts.push(NodeVerdict {
                node: node.name.clone(),
                status,
            });
            decision.nodes_feasible = 1;
            decision.sampled = total > 1;
            decision.outcome = Outcome::Scheduled {
                node: node.name.to_string(),
            };
            return decision;
        }
    }
    let want = num_feasible_nodes_to_find(total);
    let mut feasible: Vec<Arc<NodeInfo>> = Vec::with_capacity(want);
    // Most attempts look at a bit more than `want` nodes.
    decision.verdicts.reserve(want + want / 4);
    let filters = fw.filters_to_run(&state);
    for i in 0..total {
        let node = &snapshot.nodes[(start + i) % total];
        let status = fw.run_filters_with_nominated_pods(&filters, &state, pod, node, snapshot);
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
        let statuses = rejections(&decision.verdicts);
        unschedulable(&handle, &state, pod, &statuses, "", &mut decision);
        return decision;
    }
    if feasible.len() == 1 {
        decision.outcome = Outcome::Scheduled {
            node: feasible[0].name.to_string(),
        };
        return decision;
    }
    state.write(
        image_locality::STATE_KEY,
        image_locality::Spread::new(total, snapshot.image_nodes.clone(), pod),
    );
    let mut skip_score = Vec::new();
    for plugin in &fw.pre_score {
        let status = plugin.pre_score(&mut state, pod, &feasible, snapshot);
        match status.code {
            Code::Skip => {
                skip_score.push(plugin.name());
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
    let plugins: Vec<_> = fw
        .score
        .iter()
        .filter(|(p, _)| !skip_score.contains(&p.name()))
        .collect();
    let k = plugins.len();
    let n = feasible.len();
    let mut table = ScoreTable {
        plugins: plugins.iter().map(|(p, w)| (p.name(), *w)).collect(),
        nodes: feasible
            .iter()
            .map(|node| NodeScore {
                node: node.name.clone(),
                total: 0,
            })
            .collect(),
        raw: vec![0; n * k],
        normalized: vec![0; n * k],
    };
    let mut column = vec![0; n];
    for (j, (plugin, weight)) in plugins.iter().enumerate() {
        for (i, node) in feasible.iter().enumerate() {
            match plugin.score(&state, pod, node) {
                Ok(s) => column[i] = s,
                Err(status) => {
                    decision.outcome = Outcome::Error {
                        message: format!("scoring with {}: {status}", plugin.name()),
                    };
                    return decision;
                }
            }
        }
        for (i, &raw) in column.iter().enumerate() {
            table.raw[i * k + j] = raw;
        }
        plugin.normalize(&state, pod, &feasible, &mut column);
        for (i, &normalized) in column.iter().enumerate() {
            table.normalized[i * k + j] = normalized;
            table.nodes[i].total += normalized * weight;
        }
    }
    decision.scores = table;
    // The highest total wins; ties go to the node found first (kube-scheduler picks at random).
    let best = decision
        .scores
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.total.cmp(&b.total).then(j.cmp(i)))
        .map(|(_, s)| s.node.to_string())
        .unwrap_or_default();
    decision.outcome = Outcome::Scheduled { node: best };
    decision
}
