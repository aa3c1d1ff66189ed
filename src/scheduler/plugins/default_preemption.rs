//! DefaultPreemption, the PostFilter plugin, as kube-scheduler 1.32's framework/preemption
//! (the Evaluator) and plugins/defaultpreemption: when no node fits a pod, find the nodes where
//! evicting lower-priority pods would make room, keep as few of them as victims as possible, pick
//! one node, and propose it with its victims. It only decides: the running scheduler (`run.rs`)
//! marks and deletes the victims, reports them, and nominates the pod.
//!
//! Left out, on purpose:
//! - PodDisruptionBudgets: kubox has no PDB resource, so no victim ever violates one; the
//!   first tie-break between nodes (fewest PDB violations) always ties and is skipped.
//! - Extenders, and async preemption (alpha in 1.32, off by default).
//!
//! Each node is tried on a copy of the node and of the cycle state: removing a victim (and
//! putting one back) runs the PreFilter plugins' extensions (RemovePod/AddPod), so the counts
//! InterPodAffinity and PodTopologySpread took in PreFilter follow the simulation.

use std::cmp::Ordering;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::names::DEFAULT_PREEMPTION;
use crate::scheduler::framework::{
    Candidate, Code, CycleState, Handle, NodeInfo, NodeToStatus, Plugin, PodInfo, PostFilterPlugin,
    PostFilterResult, Snapshot, Status, fit_error, pod_priority,
};

/// Kubernetes' words, in one table.
pub const ERR_NO_VICTIMS: &str = "No preemption victims found for incoming pod";
pub const ERR_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
pub const NOT_ELIGIBLE_NEVER: &str = "not eligible due to preemptionPolicy=Never.";
pub const NOT_ELIGIBLE_TERMINATING: &str =
    "not eligible due to a terminating pod on the nominated node.";
pub const NO_CANDIDATE: &str = "no candidate node for preemption";
/// What the plugin puts before every message of its own.
pub const MESSAGE_PREFIX: &str = "preemption: ";
/// `spec.preemptionPolicy` of a pod that never preempts.
pub const PREEMPT_NEVER: &str = "Never";
/// The condition the scheduler puts on a victim before deleting it.
pub const DISRUPTION_TARGET: &str = "DisruptionTarget";
pub const REASON_PREEMPTION_BY_SCHEDULER: &str = "PreemptionByScheduler";
/// The Normal event on each victim.
pub const REASON_PREEMPTED: &str = "Preempted";
/// DefaultPreemptionArgs' defaults: how many candidate nodes a dry run looks for.
pub const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
pub const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

/// The DisruptionTarget condition's message: `default-scheduler: preempting to accommodate a
/// higher priority pod`.
pub fn disruption_message(scheduler_name: &str) -> String {
    format!("{scheduler_name}: preempting to accommodate a higher priority pod")
}

/// The `Preempted` event's message: `Preempted by pod <preemptor uid> on node <node>`.
pub fn preempted_message(preemptor_uid: &str, node: &str) -> String {
    format!("Preempted by pod {preemptor_uid} on node {node}")
}

#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultPreemption;

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        DEFAULT_PREEMPTION
    }
}

impl PostFilterPlugin for DefaultPreemption {
    fn post_filter(
        &self,
        handle: &Handle<'_>,
        state: &CycleState,
        pod: &Pod,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status) {
        let (result, status) = preempt(handle, state, pod, statuses);
        let message = status.to_string();
        if message.is_empty() {
            return (result, status);
        }
        (
            result,
            Status::new(status.code, format!("{MESSAGE_PREFIX}{message}")),
        )
    }
}

fn nominated_node_name(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .unwrap_or("")
}

/// The Evaluator's Preempt: eligibility, candidates by dry run, the best candidate.
pub fn preempt(
    handle: &Handle<'_>,
    state: &CycleState,
    pod: &Pod,
    statuses: &NodeToStatus,
) -> (Option<PostFilterResult>, Status) {
    let nominated_status = statuses.get(nominated_node_name(pod));
    if let Err(why) = pod_eligible_to_preempt_others(handle.snapshot, pod, nominated_status) {
        return (None, Status::unschedulable(why));
    }
    let all_nodes = handle.snapshot.nodes.len();
    if all_nodes == 0 {
        return (None, Status::error("no nodes available"));
    }
    // Only nodes a filter found merely Unschedulable can be helped by evicting pods.
    let potential = statuses.nodes_with_code(handle.snapshot, Code::Unschedulable);
    let (candidates, mut node_statuses, errors) = if potential.is_empty() {
        (Vec::new(), NodeToStatus::default(), Vec::new())
    } else {
        let offset = handle.offset % potential.len();
        let wanted = num_candidates(potential.len());
        dry_run_preemption(handle, state, pod, &potential, offset, wanted)
    };
    if !errors.is_empty() && candidates.is_empty() {
        return (None, Status::error(aggregate(&errors)));
    }
    if candidates.is_empty() {
        node_statuses.set_absent(Status::unresolvable(ERR_NOT_HELPFUL));
        let message = fit_error(all_nodes, &node_statuses, "", "");
        // An empty nomination clears the one the pod may carry from an earlier attempt.
        let result = PostFilterResult::default();
        return (Some(result), Status::unschedulable(message));
    }
    let Some(best) = pick_one_node_for_preemption(&candidates) else {
        return (None, Status::unschedulable(NO_CANDIDATE));
    };
    let chosen = candidates[best].clone();
    (
        Some(PostFilterResult {
            nominated_node: chosen.node,
            victims: chosen.victims,
            candidates,
        }),
        Status::success(),
    )
}

/// utilerrors.NewAggregate's text: one error as it is, several as `[a, b]`.
fn aggregate(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Whether `pod` may preempt at all (PodEligibleToPreemptOthers): not with
/// `preemptionPolicy: Never`, and not while pods it already preempted on its nominated node are
/// still terminating — unless that node has become hopeless for it.
pub fn pod_eligible_to_preempt_others(
    snapshot: &Snapshot,
    pod: &Pod,
    nominated_status: &Status,
) -> Result<(), &'static str> {
    let policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.preemption_policy.as_deref());
    if policy == Some(PREEMPT_NEVER) {
        return Err(NOT_ELIGIBLE_NEVER);
    }
    let nominated = nominated_node_name(pod);
    if nominated.is_empty() {
        return Ok(());
    }
    if nominated_status.code == Code::UnschedulableAndUnresolvable {
        return Ok(());
    }
    if let Some(node) = snapshot.get(nominated) {
        let priority = pod_priority(pod);
        let waiting = node
            .pods
            .iter()
            .any(|p| p.priority < priority && p.terminating_by_preemption);
        if waiting {
            return Err(NOT_ELIGIBLE_TERMINATING);
        }
    }
    Ok(())
}

/// Being deleted because the scheduler preempted it (its DisruptionTarget condition says so).
pub fn terminating_by_preemption(pod: &Pod) -> bool {
    if pod.metadata.deletion_timestamp.is_none() {
        return false;
    }
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == DISRUPTION_TARGET))
        .is_some_and(|c| {
            c.status == "True" && c.reason.as_deref() == Some(REASON_PREEMPTION_BY_SCHEDULER)
        })
}

/// How many candidates a dry run looks for among `nodes` potential nodes
/// (calculateNumCandidates): 10% of them, at least 100, at most all.
pub fn num_candidates(nodes: usize) -> usize {
    (nodes * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
        .max(MIN_CANDIDATE_NODES_ABSOLUTE)
        .min(nodes)
}

/// Tries each potential node, from `offset` round, on a copy (DryRunPreemption); stops once
/// `wanted` candidates are found. Returns the candidates, why the other nodes cannot be
/// helped, and the errors met.
fn dry_run_preemption(
    handle: &Handle<'_>,
    state: &CycleState,
    pod: &Pod,
    potential: &[&Arc<NodeInfo>],
    offset: usize,
    wanted: usize,
) -> (Vec<Candidate>, NodeToStatus, Vec<String>) {
    let mut candidates = Vec::new();
    let mut statuses = NodeToStatus::default();
    let mut errors = Vec::new();
    for i in 0..potential.len() {
        let node = potential[(offset + i) % potential.len()];
        let mut copy = NodeInfo::clone(node);
        let mut state_copy = state.clone();
        let status = match select_victims_on_node(handle, &mut state_copy, pod, &mut copy) {
            Ok(victims) if !victims.is_empty() => {
                candidates.push(Candidate {
                    node: node.name.to_string(),
                    victims,
                });
                if candidates.len() >= wanted {
                    break;
                }
                continue;
            }
            Ok(_) => Status::error(format!(
                "expected at least one victim pod on node {:?}",
                node.name
            )),
            Err(status) => status,
        };
        if status.code == Code::Error {
            errors.push(status.to_string());
        }
        statuses.set(&node.name, status);
    }
    (candidates, statuses, errors)
}

/// The fewest pods to evict from `node` (a copy) so `pod` fits (SelectVictimsOnNode): remove
/// every lower-priority pod; if the pod fits then, put them back one by one, most important
/// first, keeping each that still lets the pod fit. The rest are the victims, most important
/// first. `state` (a copy too) follows every removal and addition through the PreFilter
/// extensions.
pub fn select_victims_on_node(
    handle: &Handle<'_>,
    state: &mut CycleState,
    pod: &Pod,
    node: &mut NodeInfo,
) -> Result<Vec<Arc<PodInfo>>, Status> {
    let fw = handle.framework;
    let priority = pod_priority(pod);
    let mut potential: Vec<Arc<PodInfo>> = node
        .pods
        .iter()
        .filter(|p| p.priority < priority)
        .cloned()
        .collect();
    let remove = |state: &mut CycleState, node: &mut NodeInfo, p: &PodInfo| {
        node.remove_pod(&p.key);
        let status = fw.run_pre_filter_extension_remove_pod(state, pod, p, node);
        if status.is_success() {
            Ok(())
        } else {
            Err(status)
        }
    };
    for p in &potential {
        remove(state, node, p)?;
    }
    if potential.is_empty() {
        return Err(Status::unresolvable(ERR_NO_VICTIMS));
    }
    // Affinity of the pod to one of the victims is not worked around (nor in Kubernetes).
    let status = fw.run_filter_plugins_with_nominated_pods(state, pod, node, handle.snapshot);
    if !status.is_success() {
        return Err(status);
    }
    let now = Timestamp::now();
    // A stable sort: equally important pods keep the node's order.
    potential.sort_by(|a, b| more_important_first(a, b, now));
    let mut victims = Vec::new();
    for p in potential {
        node.add_pod(p.clone());
        let status = fw.run_pre_filter_extension_add_pod(state, pod, &p, node);
        if !status.is_success() {
            return Err(status);
        }
        let fits = fw
            .run_filter_plugins_with_nominated_pods(state, pod, node, handle.snapshot)
            .is_success();
        if !fits {
            remove(state, node, &p)?;
            victims.push(p);
        }
    }
    Ok(victims)
}

/// When the pod started, or now for one that has not (GetPodStartTime).
fn start_time(pod: &PodInfo, now: Timestamp) -> Timestamp {
    pod.start_time.unwrap_or(now)
}

/// MoreImportantPod as an ordering: higher priority first, then the one running longer.
fn more_important_first(a: &PodInfo, b: &PodInfo, now: Timestamp) -> Ordering {
    b.priority
        .cmp(&a.priority)
        .then_with(|| start_time(a, now).cmp(&start_time(b, now)))
}

/// The earliest start among the highest-priority victims (GetEarliestPodStartTime).
fn earliest_start_of_most_important(victims: &[Arc<PodInfo>], now: Timestamp) -> Timestamp {
    let top = victims.iter().map(|p| p.priority).max().unwrap_or(0);
    victims
        .iter()
        .filter(|p| p.priority == top)
        .map(|p| start_time(p, now))
        .min()
        .unwrap_or(now)
}

/// The index of the candidate to preempt on (pickOneNodeForPreemption): the lowest
/// highest-priority victim, then the lowest sum of priorities, then the fewest victims, then
/// the latest start among the highest-priority victims, then the first found. (Fewest PDB
/// violations would come first; without PDBs every node ties on it.)
pub fn pick_one_node_for_preemption(candidates: &[Candidate]) -> Option<usize> {
    if candidates.is_empty() {
        return None;
    }
    let now = Timestamp::now();
    let highest =
        |c: &Candidate| -> i128 { -i128::from(c.victims.first().map_or(0, |p| p.priority)) };
    // MaxInt32+1 is added to every priority so negative ones do not favour more victims.
    let sum = |c: &Candidate| -> i128 {
        -c.victims
            .iter()
            .map(|p| i128::from(p.priority) + i128::from(i32::MAX) + 1)
            .sum::<i128>()
    };
    let count = |c: &Candidate| -> i128 { -(c.victims.len() as i128) };
    let latest_start = |c: &Candidate| -> i128 {
        earliest_start_of_most_important(&c.victims, now).as_nanosecond()
    };
    let scores: [&dyn Fn(&Candidate) -> i128; 4] = [&highest, &sum, &count, &latest_start];
    let mut remaining: Vec<usize> = (0..candidates.len()).collect();
    for score in scores {
        let Some(best) = remaining.iter().map(|&i| score(&candidates[i])).max() else {
            break;
        };
        remaining.retain(|&i| score(&candidates[i]) == best);
        if remaining.len() == 1 {
            break;
        }
    }
    remaining.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugins::default_framework;
    use crate::scheduler::schedule_one::{Outcome, schedule};
    use k8s_openapi::api::core::v1::{
        Container, Node, NodeSpec, NodeStatus, PodCondition, PodSpec, PodStatus,
        ResourceRequirements, Taint,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use std::collections::HashMap;

    fn node(name: &str, cpu: &str) -> NodeInfo {
        NodeInfo::new(Arc::new(Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                allocatable: Some(
                    [
                        ("cpu".to_string(), Quantity(cpu.into())),
                        ("memory".to_string(), Quantity("8Gi".into())),
                        ("pods".to_string(), Quantity("110".into())),
                    ]
                    .into(),
                ),
                ..NodeStatus::default()
            }),
        }))
    }

    fn pod(name: &str, cpu: &str, priority: i32) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(format!("uid-{name}")),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                priority: Some(priority),
                containers: vec![Container {
                    name: "app".into(),
                    resources: Some(ResourceRequirements {
                        requests: Some([("cpu".to_string(), Quantity(cpu.into()))].into()),
                        ..ResourceRequirements::default()
                    }),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
            ..Pod::default()
        }
    }

    fn started(mut p: Pod, at: &str) -> Pod {
        p.status.get_or_insert_default().start_time = Some(Time(at.parse().unwrap()));
        p
    }

    fn with(mut n: NodeInfo, pods: Vec<Pod>) -> NodeInfo {
        for p in pods {
            n.add_pod(Arc::new(PodInfo::new(Arc::new(p))));
        }
        n
    }

    fn snapshot(nodes: Vec<NodeInfo>) -> Snapshot {
        Snapshot::new(nodes.into_iter().map(Arc::new).collect())
    }

    fn names(pods: &[Arc<PodInfo>]) -> Vec<&str> {
        pods.iter().map(|p| p.name.as_str()).collect()
    }

    fn message(outcome: &Outcome) -> &str {
        match outcome {
            Outcome::Unschedulable { message } => message,
            other => panic!("expected Unschedulable, got {other:?}"),
        }
    }

    /// Victims on one node for `incoming`, with the default filters.
    fn victims_on(n: NodeInfo, incoming: &Pod) -> Result<Vec<String>, Status> {
        let fw = default_framework();
        let snap = snapshot(vec![n.clone()]);
        let handle = Handle {
            framework: &fw,
            snapshot: &snap,
            offset: 0,
        };
        // The cycle state PreFilter leaves, as the scheduling cycle hands it to PostFilter.
        let mut state = CycleState::default();
        for plugin in &fw.pre_filter {
            if plugin.pre_filter(&mut state, incoming, &snap).code == Code::Skip {
                state.skip_filter_plugins.push(plugin.name());
            }
        }
        let mut copy = n;
        select_victims_on_node(&handle, &mut state, incoming, &mut copy)
            .map(|v| names(&v).into_iter().map(String::from).collect())
    }

    #[test]
    fn victims_are_the_fewest_lower_priority_pods_reprieved_most_important_first() {
        let incoming = pod("high", "500m", 100);
        type Case = (
            &'static str,
            Vec<Pod>,
            Result<Vec<&'static str>, &'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "one of two equal pods is enough; the node's order breaks the tie",
                vec![pod("a", "600m", 0), pod("b", "400m", 0)],
                Ok(vec!["a"]),
            ),
            (
                "the higher-priority pod is reprieved first, the lower one goes",
                vec![pod("low", "500m", 1), pod("mid", "500m", 5)],
                Ok(vec!["low"]),
            ),
            (
                "equal priority: the longer-running pod is reprieved first",
                vec![
                    started(pod("new", "500m", 0), "2024-05-02T00:00:00Z"),
                    started(pod("old", "500m", 0), "2024-05-01T00:00:00Z"),
                ],
                Ok(vec!["new"]),
            ),
            (
                "pods of equal or higher priority are never victims",
                vec![pod("same", "300m", 100), pod("low", "700m", 0)],
                Ok(vec!["low"]),
            ),
            (
                "several victims, most important first",
                vec![
                    pod("p1", "300m", 1),
                    pod("p3", "300m", 3),
                    pod("p2", "300m", 2),
                ],
                Ok(vec!["p2", "p1"]),
            ),
            (
                "no lower-priority pod: nothing to do",
                vec![pod("peer", "1", 100)],
                Err(ERR_NO_VICTIMS),
            ),
            (
                "does not fit even on an empty node: the filter's reason",
                vec![pod("low", "100m", 0), pod("vip", "600m", 1000)],
                Err("Insufficient cpu"),
            ),
        ];
        for (what, pods, want) in cases {
            let got = victims_on(with(node("n", "1"), pods), &incoming);
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{what}"),
                (Err(status), Err(reason)) => {
                    assert_eq!(status.to_string(), reason, "{what}");
                    assert!(status.is_rejection(), "{what}");
                }
                (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
            }
        }
    }

    fn candidate(node: &str, victims: Vec<Pod>) -> Candidate {
        Candidate {
            node: node.into(),
            victims: victims
                .into_iter()
                .map(|p| Arc::new(PodInfo::new(Arc::new(p))))
                .collect(),
        }
    }

    #[test]
    fn node_choice_follows_kubernetes_tie_breaks() {
        let cases: Vec<(&str, Vec<Candidate>, &str)> = vec![
            (
                "lowest highest-priority victim",
                vec![
                    candidate("a", vec![pod("x", "1", 10)]),
                    candidate("b", vec![pod("y", "1", 5), pod("z", "1", 5)]),
                ],
                "b",
            ),
            (
                "then the lowest sum of priorities",
                vec![
                    candidate("a", vec![pod("x", "1", 5), pod("y", "1", 5)]),
                    candidate("b", vec![pod("z", "1", 5), pod("w", "1", 1)]),
                ],
                "b",
            ),
            (
                "negative priorities do not make more victims look cheaper",
                vec![
                    candidate("a", vec![pod("x", "1", -5), pod("y", "1", -5)]),
                    candidate("b", vec![pod("z", "1", -5)]),
                ],
                "b",
            ),
            (
                "then the fewest victims",
                vec![
                    candidate("a", vec![pod("x", "1", 0), pod("y", "1", 0)]),
                    candidate("b", vec![pod("z", "1", 0)]),
                ],
                "b",
            ),
            (
                "then the latest-started highest-priority victims",
                vec![
                    candidate("a", vec![started(pod("x", "1", 3), "2024-05-01T00:00:00Z")]),
                    candidate("b", vec![started(pod("y", "1", 3), "2024-05-03T00:00:00Z")]),
                    candidate("c", vec![started(pod("z", "1", 3), "2024-05-02T00:00:00Z")]),
                ],
                "b",
            ),
            (
                "a victim that has not started counts as starting now",
                vec![
                    candidate("a", vec![started(pod("x", "1", 3), "2024-05-01T00:00:00Z")]),
                    candidate("b", vec![pod("y", "1", 3)]),
                ],
                "b",
            ),
            (
                "then the first found",
                vec![
                    candidate("a", vec![pod("x", "1", 0)]),
                    candidate("b", vec![pod("y", "1", 0)]),
                ],
                "a",
            ),
        ];
        for (what, candidates, want) in cases {
            let i = pick_one_node_for_preemption(&candidates).unwrap();
            assert_eq!(candidates[i].node, want, "{what}");
        }
        assert_eq!(pick_one_node_for_preemption(&[]), None);
    }

    #[test]
    fn candidate_count_is_ten_percent_at_least_a_hundred() {
        assert_eq!(num_candidates(3), 3);
        assert_eq!(num_candidates(500), 100);
        assert_eq!(num_candidates(5000), 500);
    }

    #[test]
    fn preemption_picks_a_node_and_the_failure_still_says_why_no_node_fit() {
        let snap = snapshot(vec![
            with(
                node("node-1", "1"),
                vec![pod("a", "600m", 0), pod("b", "400m", 0)],
            ),
            with(
                node("node-2", "1"),
                vec![pod("c", "600m", 50), pod("d", "400m", 0)],
            ),
        ]);
        let d = schedule(&default_framework(), &pod("high", "500m", 100), &snap, 0);
        // The attempt itself failed; preemption succeeding adds nothing to the message.
        assert_eq!(
            message(&d.outcome),
            "0/2 nodes are available: 2 Insufficient cpu."
        );
        let p = d.preemption().expect("a preemption");
        assert_eq!(p.nominated_node, "node-1");
        assert_eq!(names(&p.victims), ["a"]);
        let considered: Vec<(&str, Vec<&str>)> = p
            .candidates
            .iter()
            .map(|c| (c.node.as_str(), names(&c.victims)))
            .collect();
        assert_eq!(considered, [("node-1", vec!["a"]), ("node-2", vec!["c"])]);
    }

    #[test]
    fn failed_preemption_is_explained_in_kubernetes_words() {
        let tainted = |name: &str| {
            let mut n = (*node(name, "4").node).clone();
            n.spec.get_or_insert_default().taints = Some(vec![Taint {
                key: "dedicated".into(),
                value: Some("gpu".into()),
                effect: "NoSchedule".into(),
                ..Taint::default()
            }]);
            NodeInfo::new(Arc::new(n))
        };
        let snap = snapshot(vec![
            with(node("node-1", "1"), vec![pod("peer", "800m", 100)]),
            tainted("node-2"),
            tainted("node-3"),
        ]);
        let d = schedule(&default_framework(), &pod("high", "500m", 100), &snap, 0);
        assert_eq!(
            message(&d.outcome),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}. \
             preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, \
             2 Preemption is not helpful for scheduling."
        );
        let outcome = d.post_filter.as_ref().unwrap();
        assert_eq!(outcome.status.code, Code::Unschedulable);
        assert_eq!(outcome.status.plugin, DEFAULT_PREEMPTION);
        assert_eq!(
            outcome.result.as_ref().map(|r| r.nominated_node.as_str()),
            Some(""),
            "a failed preemption clears an earlier nomination"
        );
        assert!(d.preemption().is_none());

        // Not even the lower-priority pods' room is enough.
        let snap = snapshot(vec![with(node("node-1", "1"), vec![pod("low", "300m", 0)])]);
        let d = schedule(&default_framework(), &pod("huge", "2", 100), &snap, 0);
        assert_eq!(
            message(&d.outcome),
            "0/1 nodes are available: 1 Insufficient cpu. \
             preemption: 0/1 nodes are available: 1 Insufficient cpu."
        );
    }

    #[test]
    fn preemption_policy_never_does_not_preempt() {
        let snap = snapshot(vec![with(node("node-1", "1"), vec![pod("low", "1", 0)])]);
        let mut never = pod("high", "500m", 100);
        never.spec.as_mut().unwrap().preemption_policy = Some(PREEMPT_NEVER.into());
        let d = schedule(&default_framework(), &never, &snap, 0);
        assert_eq!(
            message(&d.outcome),
            "0/1 nodes are available: 1 Insufficient cpu. \
             preemption: not eligible due to preemptionPolicy=Never."
        );
        assert!(d.preemption().is_none());
        assert_eq!(d.post_filter.unwrap().result, None);

        // The same pod with the default policy preempts.
        let d = schedule(&default_framework(), &pod("high", "500m", 100), &snap, 0);
        assert_eq!(names(&d.preemption().unwrap().victims), ["low"]);
    }

    fn preempted(p: Pod) -> Pod {
        let mut p = p;
        p.metadata.deletion_timestamp = Some(Time("2024-05-01T00:00:30Z".parse().unwrap()));
        p.status.get_or_insert_default().conditions = Some(vec![PodCondition {
            type_: DISRUPTION_TARGET.into(),
            status: "True".into(),
            reason: Some(REASON_PREEMPTION_BY_SCHEDULER.into()),
            ..PodCondition::default()
        }]);
        p
    }

    #[test]
    fn a_pod_waits_for_its_victims_instead_of_preempting_again() {
        let mut waiting = pod("high", "500m", 100);
        waiting.status = Some(PodStatus {
            nominated_node_name: Some("node-1".into()),
            ..PodStatus::default()
        });
        let snap = snapshot(vec![
            with(node("node-1", "1"), vec![preempted(pod("a", "1", 0))]),
            with(node("node-2", "1"), vec![pod("b", "1", 0)]),
        ]);
        let d = schedule(&default_framework(), &waiting, &snap, 0);
        assert_eq!(
            message(&d.outcome),
            "0/2 nodes are available: 2 Insufficient cpu. \
             preemption: not eligible due to a terminating pod on the nominated node."
        );
        assert_eq!(d.post_filter.unwrap().result, None, "the nomination stays");

        // A pod being deleted for another reason does not hold the preemptor back.
        let mut deleted = pod("a", "1", 0);
        deleted.metadata.deletion_timestamp = Some(Time("2024-05-01T00:00:30Z".parse().unwrap()));
        let snap = snapshot(vec![
            with(node("node-1", "1"), vec![deleted]),
            with(node("node-2", "1"), vec![pod("b", "1", 0)]),
        ]);
        let d = schedule(&default_framework(), &waiting, &snap, 0);
        assert!(d.preemption().is_some());
    }

    #[test]
    fn nominated_pods_hold_their_room_against_less_important_pods() {
        let free = snapshot(vec![node("node-1", "1")]);
        let mut nominated = pod("high", "800m", 100);
        nominated.status = Some(PodStatus {
            nominated_node_name: Some("node-1".into()),
            ..PodStatus::default()
        });
        let held = |s: Snapshot| {
            s.with_nominated(HashMap::from([(
                "node-1".to_string(),
                vec![Arc::new(PodInfo::new(Arc::new(nominated.clone())))],
            )]))
        };
        let snap = held(free.clone());
        let fw = default_framework();

        let d = schedule(&fw, &pod("low", "500m", 0), &snap, 0);
        assert!(
            message(&d.outcome).starts_with("0/1 nodes are available: 1 Insufficient cpu."),
            "a lower-priority pod may not take the room"
        );
        let d = schedule(&fw, &pod("peer", "500m", 100), &snap, 0);
        assert!(
            matches!(d.outcome, Outcome::Unschedulable { .. }),
            "nor may an equal one"
        );
        let d = schedule(&fw, &pod("vip", "500m", 1000), &snap, 0);
        assert_eq!(
            d.outcome,
            Outcome::Scheduled {
                node: "node-1".into()
            },
            "a more important pod may"
        );
        let d = schedule(&fw, &nominated, &snap, 0);
        assert_eq!(
            d.outcome,
            Outcome::Scheduled {
                node: "node-1".into()
            },
            "the nominated pod does not count against itself"
        );
        assert_eq!(
            d.verdicts.len(),
            1,
            "its nominated node is tried alone first"
        );
    }
}

/// Preemption with the PreFilter state of InterPodAffinity and PodTopologySpread following the
/// dry run's removals and re-additions (their AddPod/RemovePod).
#[cfg(test)]
mod extension_tests {
    use super::*;
    use crate::scheduler::plugins::default_framework;
    use crate::scheduler::plugins::names::{
        ERR_ANTI_AFFINITY_RULES, ERR_EXISTING_ANTI_AFFINITY, ERR_TOPOLOGY_SPREAD,
    };
    use crate::scheduler::plugins::testing::{node, place, pod, snapshot};
    use crate::scheduler::schedule_one::{Outcome, schedule};
    use serde_json::{Value, json};

    const HOST: &str = "kubernetes.io/hostname";
    const ZONE: &str = "topology.kubernetes.io/zone";

    fn prio(name: &str, app: &str, priority: i32, extra: Value) -> Pod {
        let mut spec = json!({"priority": priority});
        if let (Some(s), Value::Object(extra)) = (spec.as_object_mut(), extra) {
            s.extend(extra);
        }
        pod(name, &[("app", app)], spec)
    }

    fn anti_affinity_to(app: &str, key: &str) -> Value {
        json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}
        ]}}})
    }

    fn on(name: &str, labels: &[(&str, &str)], pods: Vec<Pod>) -> NodeInfo {
        let mut n = node(name, labels);
        for p in pods {
            place(&mut n, p);
        }
        n
    }

    /// The nominated node and every candidate with its victims, or the FailedScheduling text.
    fn preemption(nodes: Vec<NodeInfo>, incoming: &Pod) -> Result<PreemptionSeen, String> {
        let d = schedule(&default_framework(), incoming, &snapshot(nodes), 0);
        let Outcome::Unschedulable { message } = &d.outcome else {
            panic!("expected Unschedulable, got {:?}", d.outcome);
        };
        match d.preemption() {
            Some(p) => Ok((
                p.nominated_node.clone(),
                p.candidates
                    .iter()
                    .map(|c| {
                        let victims = c.victims.iter().map(|v| v.name.clone()).collect();
                        (c.node.clone(), victims)
                    })
                    .collect(),
            )),
            None => Err(message.clone()),
        }
    }

    type PreemptionSeen = (String, Vec<(String, Vec<String>)>);

    fn seen(nominated: &str, candidates: &[(&str, &[&str])]) -> Result<PreemptionSeen, String> {
        Ok((
            nominated.to_string(),
            candidates
                .iter()
                .map(|(n, v)| (n.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        ))
    }

    #[test]
    fn victims_that_affinity_or_spread_counted_are_uncounted_when_removed() {
        let zones = |a: Vec<Pod>, b: Vec<Pod>| {
            vec![
                on("node-a", &[(ZONE, "a")], a),
                on("node-b", &[(ZONE, "b")], b),
            ]
        };
        let spread_web = |extra: Value| {
            let mut spec = json!({
                "topologySpreadConstraints": [{
                    "maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": {"app": "web"}},
                    "nodeAffinityPolicy": "Ignore",
                }],
                "nodeSelector": {ZONE: "a"},
            });
            if let (Some(s), Value::Object(extra)) = (spec.as_object_mut(), extra) {
                s.extend(extra);
            }
            prio("high", "web", 100, spec)
        };
        type Case = (
            &'static str,
            Vec<NodeInfo>,
            Pod,
            Result<PreemptionSeen, String>,
        );
        let cases: Vec<Case> = vec![
            (
                "the pod's anti-affinity: the lower-priority pod it avoids goes, on each host \
                 where it is, the unrelated one stays",
                vec![
                    on(
                        "host-1",
                        &[],
                        vec![
                            prio("db-low", "db", 0, json!({})),
                            prio("web-low", "web", 0, json!({})),
                        ],
                    ),
                    on("host-2", &[], vec![prio("db-low-2", "db", 1, json!({}))]),
                    on("host-3", &[], vec![prio("db-vip", "db", 1000, json!({}))]),
                ],
                prio("high", "web", 100, anti_affinity_to("db", HOST)),
                seen(
                    "host-1",
                    &[("host-1", &["db-low"]), ("host-2", &["db-low-2"])],
                ),
            ),
            (
                "an existing pod's anti-affinity to the incoming pod: that pod goes",
                vec![on(
                    "host-1",
                    &[],
                    vec![
                        prio("guard", "db", 0, anti_affinity_to("web", HOST)),
                        prio("db-low", "db", 0, json!({})),
                    ],
                )],
                prio("high", "web", 100, json!({})),
                seen("host-1", &[("host-1", &["guard"])]),
            ),
            (
                "spread: removing a lower-priority matching pod restores the skew",
                zones(
                    vec![
                        prio("web-low", "web", 0, json!({})),
                        prio("web-vip", "web", 1000, json!({})),
                        prio("db-low", "db", 0, json!({})),
                    ],
                    vec![prio("web-b", "web", 1000, json!({}))],
                ),
                spread_web(json!({})),
                seen("node-a", &[("node-a", &["web-low"])]),
            ),
            (
                "anti-affinity: the pod it avoids is more important; evicting the rest does \
                 not help",
                vec![on(
                    "host-1",
                    &[],
                    vec![
                        prio("db-vip", "db", 1000, json!({})),
                        prio("web-low", "web", 0, json!({})),
                    ],
                )],
                prio("high", "web", 100, anti_affinity_to("db", HOST)),
                Err(format!(
                    "0/1 nodes are available: 1 {ERR_ANTI_AFFINITY_RULES}. preemption: 0/1 nodes \
                     are available: 1 {ERR_ANTI_AFFINITY_RULES}."
                )),
            ),
            (
                "an existing pod's anti-affinity from a more important pod: no preemption",
                vec![on(
                    "host-1",
                    &[],
                    vec![
                        prio("guard", "db", 1000, anti_affinity_to("web", HOST)),
                        prio("db-low", "db", 0, json!({})),
                    ],
                )],
                prio("high", "web", 100, json!({})),
                Err(format!(
                    "0/1 nodes are available: 1 {ERR_EXISTING_ANTI_AFFINITY}. preemption: 0/1 \
                     nodes are available: 1 {ERR_EXISTING_ANTI_AFFINITY}."
                )),
            ),
            (
                "spread: the matching pods in the zone are all more important",
                zones(
                    vec![
                        prio("web-vip", "web", 1000, json!({})),
                        prio("web-vip-2", "web", 1000, json!({})),
                        prio("db-low", "db", 0, json!({})),
                    ],
                    vec![prio("web-b", "web", 1000, json!({}))],
                ),
                spread_web(json!({})),
                Err(format!(
                    "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, \
                     1 {ERR_TOPOLOGY_SPREAD}. preemption: 0/2 nodes are available: 1 \
                     {ERR_NOT_HELPFUL}, 1 {ERR_TOPOLOGY_SPREAD}."
                )),
            ),
        ];
        for (what, nodes, incoming, want) in cases {
            assert_eq!(preemption(nodes, &incoming), want, "{what}");
        }
    }

    /// A more important pod nominated to a node counts for the affinity checks too
    /// (addNominatedPods runs AddPod): a pod anti-affine to it is not scheduled there.
    #[test]
    fn a_nominated_pod_counts_for_anti_affinity() {
        use std::collections::HashMap;
        let nodes = vec![on("host-1", &[], vec![]), on("host-2", &[], vec![])];
        let incoming = prio("web", "web", 100, anti_affinity_to("db", HOST));
        let nominated = Arc::new(PodInfo::new(Arc::new(prio("db", "db", 1000, json!({})))));
        let snap = snapshot(nodes)
            .with_nominated(HashMap::from([("host-1".to_string(), vec![nominated])]));
        let d = schedule(&default_framework(), &incoming, &snap, 0);
        assert_eq!(
            d.outcome,
            Outcome::Scheduled {
                node: "host-2".into()
            }
        );
        let fw = default_framework();
        let mut state = CycleState::default();
        for plugin in &fw.pre_filter {
            if plugin.pre_filter(&mut state, &incoming, &snap).code == Code::Skip {
                state.skip_filter_plugins.push(plugin.name());
            }
        }
        let status =
            fw.run_filter_plugins_with_nominated_pods(&state, &incoming, &snap.nodes[0], &snap);
        assert_eq!(status.to_string(), ERR_ANTI_AFFINITY_RULES);
        assert_eq!(status.plugin, "InterPodAffinity");
    }

    /// Each node is tried on its own copy of the state: what one node's dry run removed is
    /// still counted for the next node.
    #[test]
    fn each_node_is_tried_on_its_own_copy_of_the_state() {
        let fw = default_framework();
        let incoming = prio("high", "web", 100, anti_affinity_to("db", ZONE));
        let snap = snapshot(vec![
            on("n1", &[(ZONE, "a")], vec![prio("db-1", "db", 0, json!({}))]),
            on("n2", &[(ZONE, "a")], vec![prio("db-2", "db", 0, json!({}))]),
        ]);
        let mut state = CycleState::default();
        for plugin in &fw.pre_filter {
            if plugin.pre_filter(&mut state, &incoming, &snap).code == Code::Skip {
                state.skip_filter_plugins.push(plugin.name());
            }
        }
        let handle = Handle {
            framework: &fw,
            snapshot: &snap,
            offset: 0,
        };
        // Zone a holds two db pods, one per node: evicting one node's leaves the other's.
        for n in &snap.nodes {
            let mut copy = NodeInfo::clone(n);
            let mut state_copy = state.clone();
            let got = select_victims_on_node(&handle, &mut state_copy, &incoming, &mut copy);
            assert_eq!(
                got.map_err(|s| s.to_string()),
                Err(ERR_ANTI_AFFINITY_RULES.to_string()),
                "{}",
                n.name
            );
        }
        // The original state is untouched by the copies: n1 is still refused.
        assert_eq!(
            fw.run_filter_plugins(&state, &incoming, &snap.nodes[0])
                .to_string(),
            ERR_ANTI_AFFINITY_RULES
        );
    }
}
