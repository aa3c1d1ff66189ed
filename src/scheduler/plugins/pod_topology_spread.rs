//! PodTopologySpread (kube-scheduler's plugins/podtopologyspread): spreads the pods a label
//! selector picks evenly over topology domains (the values of a node label).
//!
//! Hard constraints (`whenUnsatisfiable: DoNotSchedule`): PreFilter counts the matching pods per
//! domain once per cycle, over the nodes that pass the constraint's node inclusion policies
//! (`nodeAffinityPolicy` Honor, `nodeTaintsPolicy` Ignore by default) and carry every topology
//! key; Filter rejects a node where `count + (1 if the pod matches itself) - global minimum`
//! would exceed `maxSkew` (the global minimum is 0 while fewer than `minDomains` domains exist).
//! Soft constraints (`ScheduleAnyway`): PreScore counts the matching pods in the domains of the
//! feasible nodes; Score weighs each count by `ln(domains + 2)`; normalize inverts, so the node
//! whose domains hold the fewest matching pods scores 100. `matchLabelKeys` add the pod's own
//! values of those labels to the selector.
//!
//! Kubernetes gives pods without constraints the cluster's default constraints, but only with a
//! selector built from the Services, ReplicaSets, ReplicationControllers and StatefulSets that
//! own the pod. kubox has none of those objects, so that selector is always empty and such a
//! pod has no constraints here, as it would have in Kubernetes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, TopologySpreadConstraint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

use super::names::{ERR_TOPOLOGY_SPREAD, ERR_TOPOLOGY_SPREAD_MISSING_LABEL, POD_TOPOLOGY_SPREAD};
use super::{node_affinity, taint_toleration};
use crate::api::selector::LabelSelector;
use crate::scheduler::framework::domain_counts::CounterKey;
use crate::scheduler::framework::node_info::pod_namespace;
use crate::scheduler::framework::{
    CycleState, FilterPlugin, Labels, MAX_NODE_SCORE, NodeInfo, Plugin, PodInfo,
    PreFilterExtensions, PreFilterPlugin, PreScorePlugin, ScorePlugin, Snapshot, Status,
};

pub const PRE_FILTER_STATE_KEY: &str = "PreFilterPodTopologySpread";
pub const PRE_SCORE_STATE_KEY: &str = "PreScorePodTopologySpread";

/// Per-node counts of this key are taken in Score, not in PreScore (v1.LabelHostname).
const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
const DO_NOT_SCHEDULE: &str = "DoNotSchedule";
const SCHEDULE_ANYWAY: &str = "ScheduleAnyway";

pub struct PodTopologySpread;

/// One constraint, with its defaults applied.
#[derive(Debug, Clone)]
struct Constraint {
    max_skew: i32,
    topology_key: String,
    selector: LabelSelector,
    min_domains: i32,
    honor_node_affinity: bool,
    honor_node_taints: bool,
}

impl Constraint {
    /// matchNodeInclusionPolicies. `affinity` caches whether the node passes the pod's
    /// nodeSelector and required node affinity, which every constraint may ask.
    fn includes(&self, pod: &Pod, node: &NodeInfo, affinity: &mut Option<bool>) -> bool {
        if self.honor_node_affinity
            && !*affinity.get_or_insert_with(|| node_affinity::node_matches(pod, node))
        {
            return false;
        }
        !(self.honor_node_taints && taint_toleration::untolerated_taint(pod, node).is_some())
    }
}

/// filterTopologySpreadConstraints: the pod's constraints with this `whenUnsatisfiable`.
fn constraints(pod: &Pod, action: &str) -> Result<Vec<Constraint>, String> {
    let pod_labels = pod.metadata.labels.as_ref();
    let spec_constraints: &[TopologySpreadConstraint] = pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_deref())
        .unwrap_or(&[]);
    let mut out = Vec::new();
    for c in spec_constraints
        .iter()
        .filter(|c| c.when_unsatisfiable == action)
    {
        let mut selector = c.label_selector.clone();
        // matchLabelKeys: `key In (the pod's value)` for each key the pod has. A nil selector
        // stays nil (it selects nothing either way).
        let keys = c.match_label_keys.as_deref().unwrap_or(&[]);
        if let Some(s) = selector.as_mut() {
            let extra = keys.iter().filter_map(|k| {
                let v = pod_labels?.get(k)?;
                Some(LabelSelectorRequirement {
                    key: k.clone(),
                    operator: "In".into(),
                    values: Some(vec![v.clone()]),
                })
            });
            s.match_expressions.get_or_insert_default().extend(extra);
        }
        let selector =
            LabelSelector::from_k8s_option(selector.as_ref()).map_err(|e| e.to_string())?;
        let honor = |policy: &Option<String>, default: bool| match policy.as_deref() {
            Some("Honor") => true,
            Some("Ignore") => false,
            _ => default,
        };
        out.push(Constraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: c.min_domains.unwrap_or(1),
            honor_node_affinity: honor(&c.node_affinity_policy, true),
            honor_node_taints: honor(&c.node_taints_policy, false),
        });
    }
    Ok(out)
}

/// The node's value for each constraint's topology key, into `values`; false if one is missing
/// (nodeLabelsMatchSpreadConstraints).
fn topology_values<'a>(
    labels: Option<&'a Labels>,
    constraints: &[Constraint],
    values: &mut Vec<&'a str>,
) -> bool {
    values.clear();
    let Some(labels) = labels else {
        return constraints.is_empty();
    };
    constraints
        .iter()
        .all(|c| match labels.get(&c.topology_key) {
            Some(v) => {
                values.push(v);
                true
            }
            None => false,
        })
}

/// One count map per constraint, sized for a key with a value per node (kube-scheduler's
/// sizeHeuristic).
fn count_maps(constraints: &[Constraint], nodes: usize) -> Vec<HashMap<String, i64>> {
    constraints
        .iter()
        .map(|c| {
            HashMap::with_capacity(if c.topology_key == LABEL_HOSTNAME {
                nodes
            } else {
                0
            })
        })
        .collect()
}

/// countPodsMatchSelector: pods in the namespace that the selector picks, terminating pods
/// aside. An empty selector counts nothing.
fn count_matching(pods: &[Arc<PodInfo>], selector: &LabelSelector, namespace: &str) -> i64 {
    if selector.is_empty() {
        return 0;
    }
    pods.iter()
        .filter(|p| {
            !p.terminating && p.namespace == namespace && selector.matches(p.labels.as_deref())
        })
        .count() as i64
}

fn add(counts: &mut HashMap<String, i64>, value: &str, n: i64) {
    match counts.get_mut(value) {
        Some(c) => *c += n,
        None => {
            counts.insert(value.to_string(), n);
        }
    }
}

/// True when the pod's own node selection cannot exclude a node (no nodeSelector, no required
/// node affinity).
fn selects_every_node(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    spec.node_selector.as_ref().is_none_or(|s| s.is_empty())
        && spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .is_none()
}

/// The common case — one hard constraint that every node with its key takes part in — answered
/// from the counts the cache keeps per domain, instead of scanning every node's pods.
fn kept_counts(
    pod: &Pod,
    constraints: &[Constraint],
    snapshot: &Snapshot,
    namespace: &str,
) -> Option<HashMap<String, i64>> {
    let [c] = constraints else {
        return None;
    };
    if c.selector.is_empty()
        || c.honor_node_taints
        || (c.honor_node_affinity && !selects_every_node(pod))
    {
        return None;
    }
    let key = CounterKey {
        namespace: namespace.to_string(),
        topology_key: c.topology_key.clone(),
        selector: format!("{:?}", c.selector),
    };
    Some(
        snapshot
            .domain_counts
            .get_or_compute(&key, &c.selector, || {
                let mut counts = count_maps(constraints, snapshot.nodes.len()).remove(0);
                for node in &snapshot.nodes {
                    if let Some(value) = node.labels().and_then(|l| l.get(&c.topology_key)) {
                        add(
                            &mut counts,
                            value,
                            count_matching(&node.pods, &c.selector, namespace),
                        );
                    }
                }
                counts
            }),
    )
}

fn self_matches(pod: &Pod, constraints: &[Constraint]) -> Vec<i64> {
    constraints
        .iter()
        .map(|c| i64::from(c.selector.matches(pod.metadata.labels.as_ref())))
        .collect()
}

/// What Filter needs, per hard constraint.
#[derive(Clone)]
struct PreFilterState {
    constraints: Vec<Constraint>,
    /// Matching pods per topology value (every eligible domain is present, even at 0).
    counts: Vec<HashMap<String, i64>>,
    /// The smallest count over the domains (kube-scheduler keeps it as criticalPaths[0]).
    min_counts: Vec<i64>,
    /// 1 where the pod matches the constraint's own selector (it will count once placed);
    /// the same for every node, so worked out once.
    self_match: Vec<i64>,
}

impl PreFilterState {
    /// updateWithPod: `other`, in the incoming `pod`'s namespace, added to (`delta` = 1) or
    /// removed from (`delta` = -1) `node`, for each constraint whose selector picks it and whose
    /// node inclusion policies take the node. The minimum is worked out again over the domains
    /// (kube-scheduler keeps the two smallest as criticalPaths; the minimum is what Filter
    /// reads). A terminating pod was never counted, so it is not uncounted either.
    fn update_with_pod(&mut self, pod: &Pod, other: &PodInfo, node: &NodeInfo, delta: i64) {
        if other.namespace != pod_namespace(pod) || other.terminating {
            return;
        }
        let mut values = Vec::with_capacity(self.constraints.len());
        if !topology_values(node.labels(), &self.constraints, &mut values) {
            return;
        }
        let mut affinity = None;
        for (i, c) in self.constraints.iter().enumerate() {
            if c.selector.is_empty()
                || !c.selector.matches(other.labels.as_deref())
                || !c.includes(pod, node, &mut affinity)
            {
                continue;
            }
            add(&mut self.counts[i], values[i], delta);
            self.min_counts[i] = self.counts[i]
                .values()
                .copied()
                .min()
                .unwrap_or(i64::from(i32::MAX));
        }
    }

    /// The global minimum, or 0 while there are fewer eligible domains than `minDomains`.
    fn min_match(&self, i: usize) -> i64 {
        if (self.counts[i].len() as i64) < i64::from(self.constraints[i].min_domains) {
            0
        } else {
            self.min_counts[i]
        }
    }
}

struct PreScoreState {
    constraints: Vec<Constraint>,
    /// Feasible nodes missing one of the topology keys: they score 0.
    ignored: HashSet<Arc<str>>,
    /// Matching pods per topology value, for the domains of the feasible nodes.
    counts: Vec<HashMap<String, i64>>,
    /// `ln(domains + 2)` per constraint, so counts in a few big domains do not drown those of
    /// many small ones.
    weights: Vec<f64>,
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        POD_TOPOLOGY_SPREAD
    }
}

impl PreFilterPlugin for PodTopologySpread {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status {
        let constraints = match constraints(pod, DO_NOT_SCHEDULE) {
            Ok(c) => c,
            Err(e) => {
                return Status::error(format!(
                    "get constraints from pod: obtaining pod's hard topology spread constraints: {e}"
                ));
            }
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        let namespace = pod_namespace(pod);
        if let Some(counts) = kept_counts(pod, &constraints, snapshot, namespace) {
            let min_counts = vec![
                counts
                    .values()
                    .copied()
                    .min()
                    .unwrap_or(i64::from(i32::MAX)),
            ];
            state.write(
                PRE_FILTER_STATE_KEY,
                PreFilterState {
                    self_match: self_matches(pod, &constraints),
                    constraints,
                    counts: vec![counts],
                    min_counts,
                },
            );
            return Status::success();
        }
        let mut counts = count_maps(&constraints, snapshot.nodes.len());
        let mut values = Vec::with_capacity(constraints.len());
        for node in &snapshot.nodes {
            if !topology_values(node.labels(), &constraints, &mut values) {
                continue;
            }
            let mut affinity = None;
            for (i, c) in constraints.iter().enumerate() {
                if !c.includes(pod, node, &mut affinity) {
                    continue;
                }
                let n = count_matching(&node.pods, &c.selector, namespace);
                add(&mut counts[i], values[i], n);
            }
        }
        let min_counts = counts
            .iter()
            .map(|m| m.values().copied().min().unwrap_or(i64::from(i32::MAX)))
            .collect();
        state.write(
            PRE_FILTER_STATE_KEY,
            PreFilterState {
                self_match: self_matches(pod, &constraints),
                constraints,
                counts,
                min_counts,
            },
        );
        Status::success()
    }

    fn pre_filter_extensions(&self) -> Option<&dyn PreFilterExtensions> {
        Some(self)
    }
}

impl PodTopologySpread {
    fn update_state(
        state: &mut CycleState,
        pod: &Pod,
        other: &PodInfo,
        node: &NodeInfo,
        delta: i64,
    ) -> Status {
        state.update_or_error::<PreFilterState>(PRE_FILTER_STATE_KEY, |s| {
            s.update_with_pod(pod, other, node, delta)
        })
    }
}

impl PreFilterExtensions for PodTopologySpread {
    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        other: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        Self::update_state(state, pod, other, node, 1)
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        other: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        Self::update_state(state, pod, other, node, -1)
    }
}

impl FilterPlugin for PodTopologySpread {
    fn filter(&self, state: &CycleState, _: &Pod, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Status::error(format!(
                "error reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            ));
        };
        let labels = node.labels();
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = labels.and_then(|l| l.get(&c.topology_key)) else {
                return Status::unresolvable(ERR_TOPOLOGY_SPREAD_MISSING_LABEL);
            };
            let self_match = s.self_match[i];
            let count = s.counts[i].get(value).copied().unwrap_or(0);
            if count + self_match - s.min_match(i) > i64::from(c.max_skew) {
                return Status::unschedulable(ERR_TOPOLOGY_SPREAD);
            }
        }
        Status::success()
    }
}

impl PreScorePlugin for PodTopologySpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        if snapshot.nodes.is_empty() {
            return Status::skip();
        }
        let constraints = match constraints(pod, SCHEDULE_ANYWAY) {
            Ok(c) => c,
            Err(e) => {
                return Status::error(format!(
                    "calculating preScoreState: obtaining pod's soft topology spread constraints: {e}"
                ));
            }
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        // The domains to score are those of the feasible nodes; a feasible node without every
        // topology key is left out (requireAllTopologies: always so without system defaults).
        let mut ignored = HashSet::new();
        let mut counts: Vec<HashMap<String, i64>> = count_maps(&constraints, 0);
        let mut values = Vec::with_capacity(constraints.len());
        for node in nodes {
            if !topology_values(node.labels(), &constraints, &mut values) {
                ignored.insert(node.name.clone());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key != LABEL_HOSTNAME {
                    add(&mut counts[i], values[i], 0);
                }
            }
        }
        let weights = constraints
            .iter()
            .zip(&counts)
            .map(|(c, m)| {
                let size = if c.topology_key == LABEL_HOSTNAME {
                    nodes.len() - ignored.len()
                } else {
                    m.len()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        // Pods on every node of the cluster count toward those domains.
        let namespace = pod_namespace(pod);
        for node in &snapshot.nodes {
            if !topology_values(node.labels(), &constraints, &mut values) {
                continue;
            }
            let mut affinity = None;
            for (i, c) in constraints.iter().enumerate() {
                if !c.includes(pod, node, &mut affinity) {
                    continue;
                }
                if let Some(count) = counts[i].get_mut(values[i]) {
                    *count += count_matching(&node.pods, &c.selector, namespace);
                }
            }
        }
        state.write(
            PRE_SCORE_STATE_KEY,
            PreScoreState {
                constraints,
                ignored,
                counts,
                weights,
            },
        );
        Status::success()
    }
}

impl ScorePlugin for PodTopologySpread {
    /// Σ count × weight + (maxSkew − 1) over the constraints, rounded: lower is better.
    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<i64, Status> {
        let s = state
            .read::<PreScoreState>(PRE_SCORE_STATE_KEY)
            .ok_or_else(|| {
                Status::error(format!(
                    "error reading {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
                ))
            })?;
        if s.ignored.contains(&*node.name) {
            return Ok(0);
        }
        let labels = node.labels();
        let mut score = 0.0;
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = labels.and_then(|l| l.get(&c.topology_key)) else {
                continue;
            };
            let count = if c.topology_key == LABEL_HOSTNAME {
                count_matching(&node.pods, &c.selector, pod_namespace(pod))
            } else {
                s.counts[i].get(value).copied().unwrap_or(0)
            };
            score += count as f64 * s.weights[i] + f64::from(c.max_skew - 1);
        }
        Ok(score.round() as i64)
    }

    /// `100 × (max + min − score) / max`: the fewest matching pods score 100; ignored nodes 0.
    fn normalize(&self, state: &CycleState, _: &Pod, nodes: &[Arc<NodeInfo>], scores: &mut [i64]) {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) else {
            return;
        };
        let ignored: Vec<bool> = nodes.iter().map(|n| s.ignored.contains(&*n.name)).collect();
        let mut min = i64::MAX;
        let mut max = 0;
        for (score, _) in scores.iter().zip(&ignored).filter(|(_, ig)| !**ig) {
            min = min.min(*score);
            max = max.max(*score);
        }
        for (score, ignored) in scores.iter_mut().zip(&ignored) {
            *score = if *ignored {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::testing::{
        filter_all, node, place, pod, score_all, snapshot, taint, unlabeled, with_namespace,
    };

    fn spread(constraints: Vec<Value>) -> Value {
        json!({"topologySpreadConstraints": constraints})
    }

    fn hard(key: &str, max_skew: i32, selector: Value) -> Value {
        json!({"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector})
    }

    fn soft(key: &str, max_skew: i32, selector: Value) -> Value {
        json!({"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": selector})
    }

    fn with(mut c: Value, extra: Value) -> Value {
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    }

    fn app(value: &str) -> Value {
        json!({"matchLabels": {"app": value}})
    }

    fn web(i: usize) -> Pod {
        pod(&format!("web-{i}"), &[("app", "web")], json!({}))
    }

    /// Zones a, b, c with one node each (a1, b1, c1), holding this many `app=web` pods.
    fn zones(pods: [usize; 3]) -> Vec<NodeInfo> {
        let mut nodes = vec![
            node("a1", &[("zone", "a")]),
            node("b1", &[("zone", "b")]),
            node("c1", &[("zone", "c")]),
        ];
        let mut i = 0;
        for (n, count) in nodes.iter_mut().zip(pods) {
            for _ in 0..count {
                place(n, web(i));
                i += 1;
            }
        }
        nodes
    }

    fn verdicts(p: &Pod, nodes: Vec<NodeInfo>) -> Vec<(String, Code, Vec<String>)> {
        let (pre, v) = filter_all(&PodTopologySpread, p, &snapshot(nodes));
        if !pre.is_success() {
            return vec![("PreFilter".into(), pre.code, pre.reasons)];
        }
        v.into_iter().map(|(n, s)| (n, s.code, s.reasons)).collect()
    }

    fn fits(p: &Pod, nodes: Vec<NodeInfo>) -> Vec<String> {
        verdicts(p, nodes)
            .into_iter()
            .filter(|(_, c, _)| *c == Code::Success)
            .map(|(n, _, _)| n)
            .collect()
    }

    fn incoming(constraints: Vec<Value>) -> Pod {
        pod("web-new", &[("app", "web")], spread(constraints))
    }

    #[test]
    fn a_pod_without_hard_constraints_is_skipped() {
        let none = pod("web", &[("app", "web")], json!({}));
        assert_eq!(
            verdicts(&none, zones([1, 0, 0])),
            [("PreFilter".to_string(), Code::Skip, vec![])]
        );
        let soft_only = incoming(vec![soft("zone", 1, app("web"))]);
        assert_eq!(verdicts(&soft_only, zones([1, 0, 0]))[0].1, Code::Skip);
    }

    #[test]
    fn max_skew_one_over_three_zones() {
        let p = incoming(vec![hard("zone", 1, app("web"))]);
        assert_eq!(
            verdicts(&p, zones([1, 1, 0])),
            [
                (
                    "a1".to_string(),
                    Code::Unschedulable,
                    vec!["node(s) didn't match pod topology spread constraints".to_string()]
                ),
                (
                    "b1".to_string(),
                    Code::Unschedulable,
                    vec!["node(s) didn't match pod topology spread constraints".to_string()]
                ),
                ("c1".to_string(), Code::Success, vec![]),
            ]
        );
        assert_eq!(fits(&p, zones([1, 1, 1])), ["a1", "b1", "c1"]);
        assert_eq!(fits(&p, zones([2, 1, 1])), ["b1", "c1"]);
        // maxSkew 2 allows one more in the fuller zones.
        let loose = incoming(vec![hard("zone", 2, app("web"))]);
        assert_eq!(fits(&loose, zones([1, 1, 0])), ["a1", "b1", "c1"]);
        assert_eq!(fits(&loose, zones([2, 1, 0])), ["b1", "c1"]);
    }

    #[test]
    fn a_pod_its_own_selector_misses_does_not_add_to_the_skew() {
        // The incoming pod is not app=web: placing it changes no count.
        let p = pod(
            "other",
            &[("app", "other")],
            spread(vec![hard("zone", 1, app("web"))]),
        );
        assert_eq!(fits(&p, zones([1, 0, 0])), ["a1", "b1", "c1"]);
        assert_eq!(fits(&p, zones([2, 0, 0])), ["b1", "c1"]);
    }

    #[test]
    fn a_node_without_the_topology_key_is_rejected_for_good() {
        let mut nodes = zones([0, 0, 0]);
        nodes.push(node("bare", &[]));
        let p = incoming(vec![hard("zone", 1, app("web"))]);
        assert_eq!(
            verdicts(&p, nodes).pop().unwrap(),
            (
                "bare".to_string(),
                Code::UnschedulableAndUnresolvable,
                vec![
                    "node(s) didn't match pod topology spread constraints (missing required label)"
                        .to_string()
                ]
            )
        );
        // A node lacking any key of the constraints is no domain for any of them: x's pods do
        // not count for zone a.
        let mut x = node("x", &[("zone", "a")]);
        place(&mut x, web(0));
        place(&mut x, web(1));
        let nodes = vec![
            node("a1", &[("zone", "a"), ("rack", "r1")]),
            node("b1", &[("zone", "b"), ("rack", "r2")]),
            x,
        ];
        let two = incoming(vec![
            hard("zone", 1, app("web")),
            hard("rack", 1, app("web")),
        ]);
        assert_eq!(fits(&two, nodes), ["a1", "b1"]);
    }

    #[test]
    fn min_domains_counts_missing_domains_as_empty() {
        // Two zones with one pod each: the global minimum is 1, so a third pod fits anywhere...
        let two_zones = || zones([1, 1, 0]).into_iter().take(2).collect::<Vec<_>>();
        let p = incoming(vec![hard("zone", 1, app("web"))]);
        assert_eq!(fits(&p, two_zones()), ["a1", "b1"]);
        // ...unless three domains are required: with only two, the minimum is taken as 0.
        let p = incoming(vec![with(
            hard("zone", 1, app("web")),
            json!({"minDomains": 3}),
        )]);
        assert_eq!(fits(&p, two_zones()), Vec::<String>::new());
        // With three domains present, minDomains 3 is met and the real minimum counts.
        assert_eq!(fits(&p, zones([1, 1, 1])), ["a1", "b1", "c1"]);
    }

    #[test]
    fn every_selector_operator_picks_the_pods_to_count() {
        // a1: two pods app=web tier=front; b1: two pods app=db; c1: nothing yet.
        let mut nodes = zones([0, 0, 0]);
        for i in 0..2 {
            place(
                &mut nodes[0],
                pod(
                    &format!("w{i}"),
                    &[("app", "web"), ("tier", "front")],
                    json!({}),
                ),
            );
            place(
                &mut nodes[1],
                pod(&format!("d{i}"), &[("app", "db")], json!({})),
            );
        }
        let expr = |key: &str, op: &str, values: &[&str]| json!({"matchExpressions": [{"key": key, "operator": op, "values": values}]});
        // The incoming pod matches none of these selectors, so only existing pods count: a
        // zone holding the two selected pods is rejected at maxSkew 1 against the empty zone c.
        let rejected = |selector: Value| {
            let p = pod(
                "new",
                &[("app", "new")],
                spread(vec![hard("zone", 1, selector)]),
            );
            let (_, v) = filter_all(&PodTopologySpread, &p, &snapshot(nodes.clone()));
            v.into_iter()
                .filter(|(_, s)| !s.is_success())
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
        };
        assert_eq!(rejected(app("web")), ["a1"]);
        assert_eq!(rejected(expr("app", "In", &["web", "db"])), ["a1", "b1"]);
        assert_eq!(rejected(expr("app", "NotIn", &["web", "new"])), ["b1"]);
        assert_eq!(rejected(expr("tier", "Exists", &[])), ["a1"]);
        assert_eq!(
            rejected(expr("app", "DoesNotExist", &[])),
            Vec::<String>::new()
        );
        // An empty selector counts nothing (countPodsMatchSelector), nor does a nil one.
        assert_eq!(rejected(json!({})), Vec::<String>::new());
        assert_eq!(rejected(Value::Null), Vec::<String>::new());
    }

    #[test]
    fn only_pods_of_the_namespace_and_not_terminating_count() {
        let mut nodes = zones([0, 0, 0]);
        place(
            &mut nodes[0],
            with_namespace(pod("w", &[("app", "web")], json!({})), "other"),
        );
        let mut leaving = pod("bye", &[("app", "web")], json!({}));
        leaving.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2024-01-01T00:00:00Z".parse().unwrap(),
            ));
        place(&mut nodes[1], leaving);
        let p = incoming(vec![hard("zone", 1, app("web"))]);
        assert_eq!(fits(&p, nodes), ["a1", "b1", "c1"]);
    }

    #[test]
    fn node_inclusion_policies() {
        // c1 is excluded by the pod's nodeSelector (Honor by default): zone c is no domain,
        // so the minimum is 1 and a1/b1 accept a second pod. (c1 passes this filter; it is
        // NodeAffinity that turns it down.)
        let mut a1 = node("a1", &[("zone", "a"), ("pool", "main")]);
        place(&mut a1, web(0));
        let mut b1 = node("b1", &[("zone", "b"), ("pool", "main")]);
        place(&mut b1, web(1));
        let nodes = vec![a1, b1, node("c1", &[("zone", "c")])];
        let selected = |extra: Value| {
            let c = with(hard("zone", 1, app("web")), extra);
            pod(
                "web-new",
                &[("app", "web")],
                json!({"nodeSelector": {"pool": "main"}, "topologySpreadConstraints": [c]}),
            )
        };
        assert_eq!(
            fits(&selected(json!({})), nodes.clone()),
            ["a1", "b1", "c1"]
        );
        assert_eq!(
            fits(
                &selected(json!({"nodeAffinityPolicy": "Ignore"})),
                nodes.clone()
            ),
            ["c1"]
        );

        // A tainted c1 still counts (Ignore by default) unless nodeTaintsPolicy is Honor.
        let mut tainted = zones([1, 1, 0]);
        tainted[2] = taint(&tainted[2], "dedicated", "gpu", "NoSchedule");
        let p = incoming(vec![hard("zone", 1, app("web"))]);
        assert_eq!(fits(&p, tainted.clone()), ["c1"]);
        let honor = incoming(vec![with(
            hard("zone", 1, app("web")),
            json!({"nodeTaintsPolicy": "Honor"}),
        )]);
        assert_eq!(fits(&honor, tainted), ["a1", "b1", "c1"]);
    }

    #[test]
    fn match_label_keys_narrow_the_selector_to_the_pods_own_values() {
        // a1 holds two web pods of an old revision, b1 one of the new one.
        let mut nodes = zones([0, 0, 0]);
        for i in 0..2 {
            place(
                &mut nodes[0],
                pod(
                    &format!("old-{i}"),
                    &[("app", "web"), ("rev", "1")],
                    json!({}),
                ),
            );
        }
        place(
            &mut nodes[1],
            pod("new-0", &[("app", "web"), ("rev", "2")], json!({})),
        );
        let p = |keys: Value| {
            pod(
                "new-1",
                &[("app", "web"), ("rev", "2")],
                spread(vec![with(
                    hard("zone", 1, app("web")),
                    json!({"matchLabelKeys": keys}),
                )]),
            )
        };
        // Counting every web pod: a1 has 2, b1 1, c1 0 → only c1.
        assert_eq!(fits(&p(json!([])), nodes.clone()), ["c1"]);
        // Counting rev=2 only: a1 0, b1 1, c1 0 → a1 and c1.
        assert_eq!(fits(&p(json!(["rev"])), nodes.clone()), ["a1", "c1"]);
        // A key the pod lacks adds nothing.
        assert_eq!(fits(&p(json!(["missing"])), nodes), ["c1"]);
    }

    #[test]
    fn several_constraints_must_all_hold() {
        // a1 and a2 in zone a, b1 in zone b; one web pod on a1. By host a2 and b1 fit, by zone
        // only b1: together only b1.
        let mut a1 = node("a1", &[("zone", "a")]);
        place(&mut a1, web(0));
        let nodes = vec![
            a1,
            node("a2", &[("zone", "a")]),
            node("b1", &[("zone", "b")]),
        ];
        let host = hard("kubernetes.io/hostname", 1, app("web"));
        assert_eq!(
            fits(&incoming(vec![host.clone()]), nodes.clone()),
            ["a2", "b1"]
        );
        let both = incoming(vec![hard("zone", 1, app("web")), host]);
        assert_eq!(fits(&both, nodes), ["b1"]);
    }

    fn scores(p: &Pod, nodes: Vec<NodeInfo>, feasible: &[&str]) -> (Code, Vec<(String, i64, i64)>) {
        let (pre, rows) = score_all(&PodTopologySpread, p, &snapshot(nodes), feasible);
        (pre.code, rows)
    }

    fn row(n: &str, raw: i64, normalized: i64) -> (String, i64, i64) {
        (n.into(), raw, normalized)
    }

    #[test]
    fn soft_constraints_score_the_emptier_domain_higher() {
        let p = incoming(vec![soft("zone", 1, app("web"))]);
        // Three domains: weight ln(5) ≈ 1.609; counts 3, 1, 0.
        assert_eq!(
            scores(&p, zones([3, 1, 0]), &["a1", "b1", "c1"]),
            (
                Code::Success,
                vec![row("a1", 5, 0), row("b1", 2, 60), row("c1", 0, 100)]
            )
        );
        // maxSkew adds maxSkew − 1 to every domain.
        let p = incoming(vec![soft("zone", 3, app("web"))]);
        assert_eq!(
            scores(&p, zones([3, 1, 0]), &["a1", "b1", "c1"]),
            (
                Code::Success,
                vec![row("a1", 7, 28), row("b1", 4, 71), row("c1", 2, 100)]
            )
        );
        // All domains even: every node gets 100.
        let p = incoming(vec![soft("zone", 1, app("web"))]);
        assert_eq!(
            scores(&p, zones([0, 0, 0]), &["a1", "b1", "c1"]).1,
            [row("a1", 0, 100), row("b1", 0, 100), row("c1", 0, 100)]
        );
    }

    #[test]
    fn soft_scoring_counts_only_feasible_domains_but_every_nodes_pods() {
        // a2 shares zone a with a1 (3 pods), which is not feasible; zone c is not feasible at
        // all, so only two domains weigh: ln(4).
        let mut nodes = zones([3, 1, 0]);
        nodes.push(node("a2", &[("zone", "a")]));
        assert_eq!(
            scores(
                &incoming(vec![soft("zone", 1, app("web"))]),
                nodes,
                &["a2", "b1"]
            ),
            (Code::Success, vec![row("a2", 4, 25), row("b1", 1, 100)])
        );
    }

    #[test]
    fn soft_scoring_ignores_feasible_nodes_without_the_key_and_counts_hosts_itself() {
        let mut nodes = zones([2, 1, 0]);
        nodes.push(unlabeled("bare"));
        let p = incoming(vec![soft("kubernetes.io/hostname", 1, app("web"))]);
        // Three hosts weigh ln(5); counts 2, 1, 0; bare has no hostname label: 0.
        assert_eq!(
            scores(&p, nodes, &["a1", "b1", "c1", "bare"]),
            (
                Code::Success,
                vec![
                    row("a1", 3, 0),
                    row("b1", 2, 33),
                    row("c1", 0, 100),
                    row("bare", 0, 0)
                ]
            )
        );
    }

    #[test]
    fn a_pod_without_soft_constraints_is_not_scored() {
        let p = incoming(vec![hard("zone", 1, app("web"))]);
        assert_eq!(scores(&p, zones([1, 0, 0]), &["a1", "b1"]).0, Code::Skip);
    }

    /// The counts the cache keeps per domain stay equal to a fresh scan through pods added,
    /// replaced, made terminating and removed, and through node label changes.
    #[test]
    fn kept_domain_counts_match_a_full_scan() {
        use crate::scheduler::cache::Cache;
        let spec = spread(vec![hard(
            "zone",
            1,
            json!({"matchLabels": {"app": "web"}}),
        )]);
        let incoming = pod("incoming", &[("app", "web")], spec);
        let counts_of = |snap: &Snapshot| -> HashMap<String, i64> {
            let mut state = CycleState::default();
            assert!(
                PodTopologySpread
                    .pre_filter(&mut state, &incoming, snap)
                    .is_success()
            );
            state
                .read::<PreFilterState>(PRE_FILTER_STATE_KEY)
                .unwrap()
                .counts[0]
                .clone()
        };
        let fresh = |cache: &Cache| {
            // The same nodes, in a snapshot with no kept counts: a full scan.
            let snap = cache.snapshot();
            counts_of(&Snapshot::new(snap.nodes.clone()))
        };
        let mut cache = Cache::default();
        for (n, z) in [("n1", "a"), ("n2", "b"), ("n3", "b"), ("n4", "")] {
            let labels: Vec<(&str, &str)> = if z.is_empty() {
                vec![]
            } else {
                vec![("zone", z)]
            };
            cache.upsert_node(node(n, &labels).node.clone());
        }
        let web = |name: &str| Arc::new(pod(name, &[("app", "web")], json!({})));
        cache.add_pod(web("w1"), "n1");
        // Registered here (a scan), kept from now on.
        assert_eq!(counts_of(&cache.snapshot()), fresh(&cache));
        cache.add_pod(web("w2"), "n2");
        cache.add_pod(web("w3"), "n4");
        cache.add_pod(Arc::new(pod("other", &[("app", "db")], json!({}))), "n3");
        cache.add_pod(
            Arc::new(with_namespace(
                pod("elsewhere", &[("app", "web")], json!({})),
                "team",
            )),
            "n3",
        );
        assert_eq!(counts_of(&cache.snapshot()), fresh(&cache));
        // Replaced by a terminating version of itself: no longer counted.
        let mut dying = (*web("w2")).clone();
        dying.metadata.deletion_timestamp = Some(crate::api::server::now());
        cache.add_pod(Arc::new(dying), "n2");
        cache.remove_pod("default/w1");
        let kept = counts_of(&cache.snapshot());
        assert_eq!(kept, fresh(&cache));
        assert_eq!(kept, HashMap::from([("a".into(), 0), ("b".into(), 0)]));
        // A node gains the key: the counts start over and see it.
        cache.upsert_node(node("n4", &[("zone", "c")]).node.clone());
        assert_eq!(counts_of(&cache.snapshot()), fresh(&cache));
        assert_eq!(counts_of(&cache.snapshot())["c"], 1);
    }
}
