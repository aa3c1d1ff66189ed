//! InterPodAffinity (kube-scheduler's plugins/interpodaffinity): places a pod near or away from
//! pods chosen by label selector, per topology domain (a node label's value: a hostname, a
//! zone...).
//!
//! PreFilter counts, once per cycle and per topology pair `(key, value)`, the existing pods whose
//! required anti-affinity selects the incoming pod, and the existing pods the incoming pod's
//! required affinity / anti-affinity terms select; Filter then only looks the node's labels up
//! in those counts. PreScore sums, per topology pair, the weights of the preferred terms (the
//! incoming pod's and the existing pods') and of existing pods' required affinity
//! (`hardPodAffinityWeight`); Score adds the node's pairs; normalize scales min..max to 0..100.
//!
//! Namespaces: a term covers the namespaces it lists, else the pod's own; a
//! `namespaceSelector` is resolved against the snapshot's namespace labels.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::names::{
    ERR_AFFINITY_RULES, ERR_ANTI_AFFINITY_RULES, ERR_EXISTING_ANTI_AFFINITY, INTER_POD_AFFINITY,
};
use crate::api::selector::LabelSelector;
use crate::scheduler::framework::node_info::{Selectable, pod_namespace};
use crate::scheduler::framework::{
    AffinityTerm, CycleState, FilterPlugin, Labels, MAX_NODE_SCORE, NodeInfo, Plugin,
    PodAffinityTerms, PodInfo, PreFilterExtensions, PreFilterPlugin, PreScorePlugin, ScorePlugin,
    Snapshot, Status, WeightedAffinityTerm,
};

pub const PRE_FILTER_STATE_KEY: &str = "PreFilterInterPodAffinity";
pub const PRE_SCORE_STATE_KEY: &str = "PreScoreInterPodAffinity";

/// The plugin, with its InterPodAffinityArgs.
pub struct InterPodAffinity {
    /// The score an existing pod's *required* affinity term gives to the topology it is in when
    /// the incoming pod matches it (default 1; 0 turns it off).
    pub hard_pod_affinity_weight: i32,
}

impl Default for InterPodAffinity {
    fn default() -> Self {
        InterPodAffinity {
            hard_pod_affinity_weight: 1,
        }
    }
}

/// Counts (or scores) per topology pair, kept as key → value → n so that a lookup can borrow
/// the node's labels instead of building a pair. A pod's terms name one or two topology keys:
/// the keys are a short list (no hashing per update), the values a map.
#[derive(Debug, Default, Clone)]
struct TopologyCounts(Vec<(String, HashMap<String, i64>)>);

impl TopologyCounts {
    /// Adds `n` to the pair `(key, node's value for key)`, when the node has the key.
    fn update(&mut self, labels: Option<&Labels>, key: &str, n: i64) {
        let Some(value) = labels.and_then(|l| l.get(key)) else {
            return;
        };
        let i = match self.0.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.0.push((key.to_string(), HashMap::new()));
                self.0.len() - 1
            }
        };
        let values = &mut self.0[i].1;
        match values.get_mut(value) {
            Some(c) => *c += n,
            None => {
                values.insert(value.clone(), n);
            }
        }
    }

    /// [`TopologyCounts::update`] for counts of pods: a pair back at 0 is dropped, so that no
    /// pair left means none recorded (kube-scheduler's topologyToMatchedTermCount.update, for
    /// AddPod/RemovePod).
    fn update_count(&mut self, labels: Option<&Labels>, key: &str, n: i64) {
        let Some(value) = labels.and_then(|l| l.get(key)) else {
            return;
        };
        self.update(labels, key, n);
        if let Some(i) = self.0.iter().position(|(k, _)| k == key) {
            let values = &mut self.0[i].1;
            if values.get(value) == Some(&0) {
                values.remove(value);
            }
            if values.is_empty() {
                self.0.remove(i);
            }
        }
    }

    fn get(&self, key: &str, value: &str) -> i64 {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.get(value))
            .copied()
            .unwrap_or(0)
    }

    /// No pair recorded (kube-scheduler's `len(map) == 0`).
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What Filter needs, computed in PreFilter.
#[derive(Clone)]
struct PreFilterState {
    /// Existing pods' required anti-affinity terms that select the incoming pod.
    existing_anti_affinity: TopologyCounts,
    /// Existing pods that match all of the incoming pod's required affinity terms.
    affinity: TopologyCounts,
    /// Existing pods that match one of the incoming pod's required anti-affinity terms.
    anti_affinity: TopologyCounts,
    /// The incoming pod's terms, namespace selectors resolved.
    terms: PodAffinityTerms,
    /// The labels of the incoming pod's namespace (existing pods' terms may select by them).
    namespace_labels: Option<Labels>,
}

impl PreFilterState {
    /// updateWithPod: what `other` on a node labelled `labels` adds to (`n` = 1) or takes
    /// from (`n` = -1) the counts.
    fn update_with_pod(&mut self, pod: &Pod, other: &PodInfo, labels: Option<&Labels>, n: i64) {
        for t in &other.affinity.required_anti_affinity {
            if t.matches(pod, self.namespace_labels.as_ref()) {
                self.existing_anti_affinity
                    .update_count(labels, &t.topology_key, n);
            }
        }
        if pod_matches_all(&self.terms.required_affinity, other) {
            for t in &self.terms.required_affinity {
                self.affinity.update_count(labels, &t.topology_key, n);
            }
        }
        // The incoming pod's terms have their namespace selectors merged: no namespace labels.
        for t in &self.terms.required_anti_affinity {
            if t.matches(other, None) {
                self.anti_affinity.update_count(labels, &t.topology_key, n);
            }
        }
    }
}

struct PreScoreState {
    topology_score: TopologyCounts,
}

/// mergeAffinityTermNamespacesIfNotEmpty: a non-empty namespace selector becomes the list of
/// namespaces it selects now. An empty one (`{}`, every namespace) is kept as it is.
fn merge_namespaces(term: &mut AffinityTerm, namespaces: &HashMap<String, Labels>) {
    if term.namespace_selector.is_empty() {
        return;
    }
    for (name, labels) in namespaces {
        if term.namespace_selector.matches(Some(labels)) {
            term.namespaces.insert(name.clone());
        }
    }
    term.namespace_selector = LabelSelector::nothing();
}

/// True only if there are terms and the pod matches every one (namespace selectors of the
/// incoming pod's terms are already merged, so no namespace labels are needed).
fn pod_matches_all<P: Selectable + ?Sized>(terms: &[AffinityTerm], pod: &P) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod, None))
}

fn pre_filter_state(state: &CycleState) -> Result<&PreFilterState, Status> {
    state
        .read::<PreFilterState>(PRE_FILTER_STATE_KEY)
        .ok_or_else(|| {
            Status::error(format!(
                "error reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            ))
        })
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        INTER_POD_AFFINITY
    }
}

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status {
        let (mut terms, error) = PodAffinityTerms::parse(pod);
        if let Some(e) = error {
            return Status::unresolvable(format!("parsing pod: {e}"));
        }
        for t in terms
            .required_affinity
            .iter_mut()
            .chain(terms.required_anti_affinity.iter_mut())
        {
            merge_namespaces(t, &snapshot.namespace_labels);
        }
        let namespace_labels = snapshot.namespace_labels.get(pod_namespace(pod));

        let mut existing_anti_affinity = TopologyCounts::default();
        for node in snapshot.nodes_with_required_anti_affinity() {
            for existing in &node.pods_with_required_anti_affinity {
                for t in &existing.affinity.required_anti_affinity {
                    if t.matches(pod, namespace_labels) {
                        existing_anti_affinity.update(node.labels(), &t.topology_key, 1);
                    }
                }
            }
        }

        let mut affinity = TopologyCounts::default();
        let mut anti_affinity = TopologyCounts::default();
        if !terms.required_affinity.is_empty() || !terms.required_anti_affinity.is_empty() {
            for node in &snapshot.nodes {
                let labels = node.labels();
                for existing in &node.pods {
                    if pod_matches_all(&terms.required_affinity, &**existing) {
                        for t in &terms.required_affinity {
                            affinity.update(labels, &t.topology_key, 1);
                        }
                    }
                    for t in &terms.required_anti_affinity {
                        if t.matches(&**existing, None) {
                            anti_affinity.update(labels, &t.topology_key, 1);
                        }
                    }
                }
            }
        }

        if existing_anti_affinity.is_empty()
            && terms.required_affinity.is_empty()
            && terms.required_anti_affinity.is_empty()
        {
            return Status::skip();
        }
        state.write(
            PRE_FILTER_STATE_KEY,
            PreFilterState {
                existing_anti_affinity,
                affinity,
                anti_affinity,
                terms,
                namespace_labels: namespace_labels.cloned(),
            },
        );
        Status::success()
    }

    fn pre_filter_extensions(&self) -> Option<&dyn PreFilterExtensions> {
        Some(self)
    }
}

impl InterPodAffinity {
    fn update_state(
        state: &mut CycleState,
        pod: &Pod,
        other: &PodInfo,
        node: &NodeInfo,
        n: i64,
    ) -> Status {
        state.update_or_error::<PreFilterState>(PRE_FILTER_STATE_KEY, |s| {
            s.update_with_pod(pod, other, node.labels(), n)
        })
    }
}

impl PreFilterExtensions for InterPodAffinity {
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

/// Scheduling the pod here would put it in a domain an existing pod's anti-affinity forbids.
fn satisfies_existing_pods_anti_affinity(s: &PreFilterState, labels: Option<&Labels>) -> bool {
    if s.existing_anti_affinity.is_empty() {
        return true;
    }
    !labels
        .into_iter()
        .flatten()
        .any(|(k, v)| s.existing_anti_affinity.get(k, v) > 0)
}

fn satisfies_pod_anti_affinity(s: &PreFilterState, labels: Option<&Labels>) -> bool {
    if s.anti_affinity.is_empty() {
        return true;
    }
    !s.terms.required_anti_affinity.iter().any(|t| {
        labels
            .and_then(|l| l.get(&t.topology_key))
            .is_some_and(|v| s.anti_affinity.get(&t.topology_key, v) > 0)
    })
}

fn satisfies_pod_affinity(s: &PreFilterState, pod: &Pod, labels: Option<&Labels>) -> bool {
    let mut pods_exist = true;
    for t in &s.terms.required_affinity {
        match labels.and_then(|l| l.get(&t.topology_key)) {
            Some(v) => {
                if s.affinity.get(&t.topology_key, v) <= 0 {
                    pods_exist = false;
                }
            }
            // Every topology key of the terms must be on the node.
            None => return false,
        }
    }
    if pods_exist {
        return true;
    }
    // The first pod of a group with affinity to itself: no pod anywhere matches the terms yet,
    // but the pod matches its own terms, so it may go to any node with the topology keys.
    s.affinity.is_empty() && pod_matches_all(&s.terms.required_affinity, pod)
}

impl FilterPlugin for InterPodAffinity {
    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        let s = match pre_filter_state(state) {
            Ok(s) => s,
            Err(status) => return status,
        };
        let labels = node.labels();
        if !satisfies_pod_affinity(s, pod, labels) {
            return Status::unresolvable(ERR_AFFINITY_RULES);
        }
        if !satisfies_pod_anti_affinity(s, labels) {
            return Status::unschedulable(ERR_ANTI_AFFINITY_RULES);
        }
        if !satisfies_existing_pods_anti_affinity(s, labels) {
            return Status::unschedulable(ERR_EXISTING_ANTI_AFFINITY);
        }
        Status::success()
    }
}

/// Adds `weight × multiplier` to the node's topology pair for the term's key, if `pod` matches
/// the term. Returns whether a pair was touched.
fn process_term<P: Selectable + ?Sized>(
    scores: &mut TopologyCounts,
    term: &AffinityTerm,
    weight: i64,
    pod: &P,
    namespace_labels: Option<&Labels>,
    node_labels: &Labels,
    multiplier: i64,
) -> bool {
    if !term.matches(pod, namespace_labels) || !node_labels.contains_key(&term.topology_key) {
        return false;
    }
    scores.update(Some(node_labels), &term.topology_key, weight * multiplier);
    true
}

fn process_terms<P: Selectable + ?Sized>(
    scores: &mut TopologyCounts,
    terms: &[WeightedAffinityTerm],
    pod: &P,
    namespace_labels: Option<&Labels>,
    node_labels: &Labels,
    multiplier: i64,
) -> bool {
    let mut touched = false;
    for t in terms {
        touched |= process_term(
            scores,
            &t.term,
            i64::from(t.weight),
            pod,
            namespace_labels,
            node_labels,
            multiplier,
        );
    }
    touched
}

impl InterPodAffinity {
    /// processExistingPod: what one existing pod contributes to the topology scores.
    fn process_existing_pod(
        &self,
        scores: &mut TopologyCounts,
        incoming_terms: &PodAffinityTerms,
        incoming: &Pod,
        incoming_namespace_labels: Option<&Labels>,
        existing: &PodInfo,
        node_labels: &Labels,
    ) -> bool {
        let mut touched = false;
        // The incoming pod's preferred terms that the existing pod matches (their namespace
        // selectors are merged, so no namespace labels).
        touched |= process_terms(
            scores,
            &incoming_terms.preferred_affinity,
            existing,
            None,
            node_labels,
            1,
        );
        touched |= process_terms(
            scores,
            &incoming_terms.preferred_anti_affinity,
            existing,
            None,
            node_labels,
            -1,
        );
        // The existing pod's terms that the incoming pod matches.
        if self.hard_pod_affinity_weight > 0 {
            for t in &existing.affinity.required_affinity {
                touched |= process_term(
                    scores,
                    t,
                    i64::from(self.hard_pod_affinity_weight),
                    incoming,
                    incoming_namespace_labels,
                    node_labels,
                    1,
                );
            }
        }
        touched |= process_terms(
            scores,
            &existing.affinity.preferred_affinity,
            incoming,
            incoming_namespace_labels,
            node_labels,
            1,
        );
        touched |= process_terms(
            scores,
            &existing.affinity.preferred_anti_affinity,
            incoming,
            incoming_namespace_labels,
            node_labels,
            -1,
        );
        touched
    }
}

impl PreScorePlugin for InterPodAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        if nodes.is_empty() {
            return Status::skip();
        }
        let (mut terms, error) = PodAffinityTerms::parse(pod);
        if let Some(e) = error {
            return Status::error(format!("failed to parse pod: {e}"));
        }
        let has_constraints =
            !terms.preferred_affinity.is_empty() || !terms.preferred_anti_affinity.is_empty();
        for t in terms
            .preferred_affinity
            .iter_mut()
            .chain(terms.preferred_anti_affinity.iter_mut())
        {
            merge_namespaces(&mut t.term, &snapshot.namespace_labels);
        }
        let namespace_labels = snapshot.namespace_labels.get(pod_namespace(pod));

        // Every node of the cluster counts, not only the feasible ones: a pod on a full node
        // still draws its peers to the rest of its zone. Without preferred terms of its own,
        // only pods with affinity can contribute.
        let mut scores = TopologyCounts::default();
        let mut touched = false;
        let nodes: Box<dyn Iterator<Item = &Arc<NodeInfo>>> = if has_constraints {
            Box::new(snapshot.nodes.iter())
        } else {
            Box::new(snapshot.nodes_with_affinity())
        };
        for node in nodes {
            let Some(labels) = node.labels().filter(|l| !l.is_empty()) else {
                continue;
            };
            let pods = if has_constraints {
                &node.pods
            } else {
                &node.pods_with_affinity
            };
            for existing in pods {
                touched |= self.process_existing_pod(
                    &mut scores,
                    &terms,
                    pod,
                    namespace_labels,
                    existing,
                    labels,
                );
            }
        }
        if !touched {
            return Status::skip();
        }
        state.write(
            PRE_SCORE_STATE_KEY,
            PreScoreState {
                topology_score: scores,
            },
        );
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    /// The sum of the topology scores of the node's pairs.
    fn score(&self, state: &CycleState, _: &Pod, node: &NodeInfo) -> Result<i64, Status> {
        let s = state
            .read::<PreScoreState>(PRE_SCORE_STATE_KEY)
            .ok_or_else(|| {
                Status::error(format!(
                    "error reading {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
                ))
            })?;
        let labels = node.labels();
        Ok(s.topology_score
            .0
            .iter()
            .filter_map(|(key, values)| values.get(labels?.get(key)?))
            .sum())
    }

    /// Scales the scores from min..max onto 0..100 (negative scores included).
    fn normalize(&self, state: &CycleState, _: &Pod, _: &[Arc<NodeInfo>], scores: &mut [i64]) {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) else {
            return;
        };
        if s.topology_score.is_empty() || scores.is_empty() {
            return;
        }
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        let diff = max - min;
        for score in scores.iter_mut() {
            let f = if diff > 0 {
                MAX_NODE_SCORE as f64 * ((*score - min) as f64 / diff as f64)
            } else {
                0.0
            };
            *score = f as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use super::*;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::testing::{
        filter_all, node, place, pod, score_all, snapshot, with_namespace,
    };

    fn term(selector: Value, topology_key: &str) -> Value {
        json!({"labelSelector": selector, "topologyKey": topology_key})
    }

    fn affinity(kind: &str, required: Vec<Value>, preferred: Vec<(i32, Value)>) -> Value {
        let preferred: Vec<Value> = preferred
            .into_iter()
            .map(|(w, t)| json!({"weight": w, "podAffinityTerm": t}))
            .collect();
        json!({"affinity": {kind: {
            "requiredDuringSchedulingIgnoredDuringExecution": required,
            "preferredDuringSchedulingIgnoredDuringExecution": preferred,
        }}})
    }

    fn required(kind: &str, terms: Vec<Value>) -> Value {
        affinity(kind, terms, vec![])
    }

    fn app(value: &str) -> Value {
        json!({"matchLabels": {"app": value}})
    }

    /// `(node, code, reasons)` for every node, or the PreFilter status alone if it was not
    /// Success.
    fn verdicts(p: &Pod, nodes: Vec<NodeInfo>) -> Vec<(String, Code, Vec<String>)> {
        let (pre, v) = filter_all(&InterPodAffinity::default(), p, &snapshot(nodes));
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

    fn ok(n: &str) -> (String, Code, Vec<String>) {
        (n.into(), Code::Success, vec![])
    }

    fn no(n: &str, code: Code, reason: &str) -> (String, Code, Vec<String>) {
        (n.into(), code, vec![reason.into()])
    }

    /// Two zones: a1 and a2 in zone a, b1 in zone b; `db` runs on a1.
    fn zones_with_db() -> Vec<NodeInfo> {
        let mut a1 = node("a1", &[("zone", "a")]);
        place(&mut a1, pod("db", &[("app", "db")], json!({})));
        vec![
            a1,
            node("a2", &[("zone", "a")]),
            node("b1", &[("zone", "b")]),
        ]
    }

    #[test]
    fn a_pod_without_inter_pod_affinity_is_skipped() {
        let p = pod("web", &[("app", "web")], json!({}));
        let v = verdicts(&p, zones_with_db());
        assert_eq!(v, [("PreFilter".to_string(), Code::Skip, vec![])]);
    }

    #[test]
    fn required_affinity_follows_the_selected_pods_topology() {
        let zone = pod(
            "web",
            &[("app", "web")],
            required("podAffinity", vec![term(app("db"), "zone")]),
        );
        assert_eq!(
            verdicts(&zone, zones_with_db()),
            [
                ok("a1"),
                ok("a2"),
                no(
                    "b1",
                    Code::UnschedulableAndUnresolvable,
                    "node(s) didn't match pod affinity rules"
                ),
            ]
        );
        let host = pod(
            "web",
            &[],
            required(
                "podAffinity",
                vec![term(app("db"), "kubernetes.io/hostname")],
            ),
        );
        assert_eq!(fits(&host, zones_with_db()), ["a1"]);
    }

    #[test]
    fn affinity_terms_are_anded_and_need_every_topology_key() {
        let mut nodes = zones_with_db();
        nodes.push(node("bare", &[]));
        // Both terms must be met by the same pods: app=db and tier=data (db has no tier).
        let both = pod(
            "web",
            &[],
            required(
                "podAffinity",
                vec![
                    term(app("db"), "zone"),
                    term(json!({"matchLabels": {"tier": "data"}}), "zone"),
                ],
            ),
        );
        assert_eq!(fits(&both, nodes.clone()), Vec::<String>::new());
        // A node without the topology key never fits an affinity term, even for a first pod.
        let first = pod(
            "web",
            &[("app", "web")],
            required("podAffinity", vec![term(app("web"), "zone")]),
        );
        assert_eq!(fits(&first, nodes), ["a1", "a2", "b1"]);
    }

    #[test]
    fn every_selector_operator_picks_the_pods_it_should() {
        // db (app=db, tier=data) runs in zone a; cache (app=cache) in zone b.
        let mut a1 = node("a1", &[("zone", "a")]);
        place(
            &mut a1,
            pod("db", &[("app", "db"), ("tier", "data")], json!({})),
        );
        let mut b1 = node("b1", &[("zone", "b")]);
        place(&mut b1, pod("cache", &[("app", "cache")], json!({})));
        let nodes = vec![a1, b1];
        let zones_for = |selector: Value| {
            let p = pod(
                "web",
                &[],
                required("podAffinity", vec![term(selector, "zone")]),
            );
            fits(&p, nodes.clone())
        };
        let expr = |key: &str, op: &str, values: &[&str]| json!({"matchExpressions": [{"key": key, "operator": op, "values": values}]});
        assert_eq!(zones_for(app("db")), ["a1"]);
        assert_eq!(zones_for(expr("app", "In", &["db", "cache"])), ["a1", "b1"]);
        assert_eq!(zones_for(expr("app", "NotIn", &["db"])), ["b1"]);
        assert_eq!(zones_for(expr("tier", "Exists", &[])), ["a1"]);
        assert_eq!(zones_for(expr("tier", "DoesNotExist", &[])), ["b1"]);
        assert_eq!(zones_for(json!({})), ["a1", "b1"], "{{}} selects every pod");
        // A nil labelSelector selects no pod, and the pod does not match it either.
        let nil = pod(
            "web",
            &[],
            required("podAffinity", vec![json!({"topologyKey": "zone"})]),
        );
        assert_eq!(fits(&nil, nodes), Vec::<String>::new());
    }

    #[test]
    fn the_first_pod_of_a_group_may_go_anywhere_with_the_topology_key() {
        let mut nodes = zones_with_db();
        nodes.push(node("bare", &[]));
        let first = pod(
            "web-0",
            &[("app", "web")],
            required("podAffinity", vec![term(app("web"), "zone")]),
        );
        assert_eq!(fits(&first, nodes.clone()), ["a1", "a2", "b1"]);
        // A pod that does not match its own term gets no such pass.
        let stranger = pod(
            "other",
            &[("app", "other")],
            required("podAffinity", vec![term(app("web"), "zone")]),
        );
        assert_eq!(fits(&stranger, nodes.clone()), Vec::<String>::new());
        // Once one pod of the group runs (web-0 in zone b), the rest follow it.
        nodes[2] = {
            let mut b1 = node("b1", &[("zone", "b")]);
            place(&mut b1, first.clone());
            b1
        };
        let second = pod(
            "web-1",
            &[("app", "web")],
            required("podAffinity", vec![term(app("web"), "zone")]),
        );
        assert_eq!(fits(&second, nodes), ["b1"]);
    }

    #[test]
    fn required_anti_affinity_keeps_the_pod_out_of_the_selected_pods_domains() {
        let p = pod(
            "web",
            &[],
            required("podAntiAffinity", vec![term(app("db"), "zone")]),
        );
        assert_eq!(
            verdicts(&p, zones_with_db()),
            [
                no(
                    "a1",
                    Code::Unschedulable,
                    "node(s) didn't match pod anti-affinity rules"
                ),
                no(
                    "a2",
                    Code::Unschedulable,
                    "node(s) didn't match pod anti-affinity rules"
                ),
                ok("b1"),
            ]
        );
        // A node without the anti-affinity's topology key is not in any forbidden domain.
        let mut nodes = zones_with_db();
        nodes.push(node("bare", &[]));
        assert_eq!(fits(&p, nodes), ["b1", "bare"]);
    }

    #[test]
    fn existing_pods_anti_affinity_keeps_the_incoming_pod_away() {
        // db refuses web pods in its zone.
        let mut a1 = node("a1", &[("zone", "a")]);
        place(
            &mut a1,
            pod(
                "db",
                &[("app", "db")],
                required("podAntiAffinity", vec![term(app("web"), "zone")]),
            ),
        );
        let nodes = vec![
            a1,
            node("a2", &[("zone", "a")]),
            node("b1", &[("zone", "b")]),
        ];
        let web = pod("web", &[("app", "web")], json!({}));
        assert_eq!(
            verdicts(&web, nodes.clone()),
            [
                no(
                    "a1",
                    Code::Unschedulable,
                    "node(s) didn't satisfy existing pods anti-affinity rules"
                ),
                no(
                    "a2",
                    Code::Unschedulable,
                    "node(s) didn't satisfy existing pods anti-affinity rules"
                ),
                ok("b1"),
            ]
        );
        // Pods it does not select are not affected (and the plugin has nothing to check).
        let api = pod("api", &[("app", "api")], json!({}));
        assert_eq!(
            verdicts(&api, nodes),
            [("PreFilter".to_string(), Code::Skip, vec![])]
        );
    }

    #[test]
    fn affinity_is_checked_before_anti_affinity() {
        let mut p = pod(
            "web",
            &[],
            required("podAffinity", vec![term(app("db"), "zone")]),
        );
        let aff = p.spec.as_mut().unwrap().affinity.as_mut().unwrap();
        aff.pod_anti_affinity = serde_json::from_value(json!({
            "requiredDuringSchedulingIgnoredDuringExecution": [term(app("db"), "kubernetes.io/hostname")]
        }))
        .unwrap();
        assert_eq!(
            verdicts(&p, zones_with_db()),
            [
                no(
                    "a1",
                    Code::Unschedulable,
                    "node(s) didn't match pod anti-affinity rules"
                ),
                ok("a2"),
                no(
                    "b1",
                    Code::UnschedulableAndUnresolvable,
                    "node(s) didn't match pod affinity rules"
                ),
            ]
        );
    }

    #[test]
    fn terms_cover_the_pods_namespace_unless_told_otherwise() {
        let mut a1 = node("a1", &[("zone", "a")]);
        place(
            &mut a1,
            with_namespace(pod("db", &[("app", "db")], json!({})), "data"),
        );
        let mut b1 = node("b1", &[("zone", "b")]);
        place(
            &mut b1,
            with_namespace(pod("db", &[("app", "db")], json!({})), "prod"),
        );
        let nodes = vec![a1, b1];
        let namespaces: HashMap<String, Labels> = [
            ("data", [("team", "storage")]),
            ("prod", [("team", "web")]),
            ("default", [("team", "web")]),
        ]
        .into_iter()
        .map(|(n, l)| {
            let labels: BTreeMap<String, String> = l
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            (n.to_string(), labels)
        })
        .collect();
        let snap = snapshot(nodes).with_namespaces(Arc::new(namespaces));
        let zones_for = |extra: Value| {
            let mut t = term(app("db"), "zone");
            t.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let p = pod("web", &[], required("podAffinity", vec![t]));
            let (_, v) = filter_all(&InterPodAffinity::default(), &p, &snap);
            v.into_iter()
                .filter(|(_, s)| s.is_success())
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
        };
        // Own namespace (default): no db there; web matches no own term → nowhere.
        assert_eq!(zones_for(json!({})), Vec::<String>::new());
        assert_eq!(zones_for(json!({"namespaces": ["data"]})), ["a1"]);
        assert_eq!(
            zones_for(json!({"namespaceSelector": {"matchLabels": {"team": "web"}}})),
            ["b1"]
        );
        assert_eq!(
            zones_for(
                json!({"namespaces": ["data"], "namespaceSelector": {"matchLabels": {"team": "web"}}})
            ),
            ["a1", "b1"],
            "namespaces and namespaceSelector are ORed"
        );
        assert_eq!(
            zones_for(json!({"namespaceSelector": {}})),
            ["a1", "b1"],
            "an empty namespaceSelector selects every namespace"
        );
    }

    #[test]
    fn an_existing_pods_namespace_selector_sees_the_incoming_pods_namespace_labels() {
        let mut a1 = node("a1", &[("zone", "a")]);
        place(
            &mut a1,
            with_namespace(
                pod(
                    "db",
                    &[],
                    required(
                        "podAntiAffinity",
                        vec![json!({
                            "labelSelector": {},
                            "topologyKey": "zone",
                            "namespaceSelector": {"matchLabels": {"noisy": "true"}},
                        })],
                    ),
                ),
                "data",
            ),
        );
        let nodes = vec![a1, node("b1", &[("zone", "b")])];
        let namespaces: HashMap<String, Labels> = HashMap::from([(
            "batch".to_string(),
            BTreeMap::from([("noisy".to_string(), "true".to_string())]),
        )]);
        let snap = snapshot(nodes).with_namespaces(Arc::new(namespaces));
        let run = |p: Pod| {
            let (pre, v) = filter_all(&InterPodAffinity::default(), &p, &snap);
            (
                pre.code,
                v.into_iter().filter(|(_, s)| s.is_success()).count(),
            )
        };
        assert_eq!(
            run(with_namespace(pod("job", &[], json!({})), "batch")),
            (Code::Success, 1)
        );
        assert_eq!(run(pod("web", &[], json!({}))), (Code::Skip, 0));
    }

    #[test]
    fn a_selector_that_does_not_parse_makes_the_pod_unschedulable() {
        let p = pod(
            "web",
            &[],
            required(
                "podAffinity",
                vec![term(
                    json!({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]}),
                    "zone",
                )],
            ),
        );
        assert_eq!(
            verdicts(&p, zones_with_db()),
            [(
                "PreFilter".to_string(),
                Code::UnschedulableAndUnresolvable,
                vec![
                    "parsing pod: requiredAffinityTerms: \"Gt\" is not a valid label selector operator"
                        .to_string()
                ]
            )]
        );
    }

    fn scores(p: &Pod, nodes: Vec<NodeInfo>, feasible: &[&str]) -> (Code, Vec<(String, i64, i64)>) {
        let (pre, rows) = score_all(&InterPodAffinity::default(), p, &snapshot(nodes), feasible);
        (pre.code, rows)
    }

    fn row(n: &str, raw: i64, normalized: i64) -> (String, i64, i64) {
        (n.into(), raw, normalized)
    }

    /// Zone a: a1 (db), a2; zone b: b1 (cache); zone c: c1.
    fn three_zones() -> Vec<NodeInfo> {
        let mut a1 = node("a1", &[("zone", "a")]);
        place(&mut a1, pod("db", &[("app", "db")], json!({})));
        let mut b1 = node("b1", &[("zone", "b")]);
        place(&mut b1, pod("cache", &[("app", "cache")], json!({})));
        vec![
            a1,
            node("a2", &[("zone", "a")]),
            b1,
            node("c1", &[("zone", "c")]),
        ]
    }

    #[test]
    fn preferred_affinity_and_anti_affinity_weigh_topologies() {
        let p = pod(
            "web",
            &[],
            affinity(
                "podAffinity",
                vec![],
                vec![
                    (80, term(app("db"), "zone")),
                    (20, term(app("cache"), "zone")),
                ],
            ),
        );
        assert_eq!(
            scores(&p, three_zones(), &["a1", "a2", "b1", "c1"]),
            (
                Code::Success,
                vec![
                    row("a1", 80, 100),
                    row("a2", 80, 100),
                    row("b1", 20, 25),
                    row("c1", 0, 0)
                ]
            )
        );
        let away = pod(
            "web",
            &[],
            affinity(
                "podAntiAffinity",
                vec![],
                vec![
                    (50, term(app("db"), "zone")),
                    (10, term(app("cache"), "zone")),
                ],
            ),
        );
        assert_eq!(
            scores(&away, three_zones(), &["a2", "b1", "c1"]),
            (
                Code::Success,
                vec![row("a2", -50, 0), row("b1", -10, 80), row("c1", 0, 100)]
            )
        );
    }

    #[test]
    fn existing_pods_terms_weigh_too_and_required_affinity_counts_one() {
        // db prefers web pods in its zone (weight 30) and requires web on its host (hard
        // weight 1); cache prefers web pods away from its zone (weight 40).
        let mut a1 = node("a1", &[("zone", "a")]);
        let db = affinity(
            "podAffinity",
            vec![term(app("web"), "kubernetes.io/hostname")],
            vec![(30, term(app("web"), "zone"))],
        );
        place(&mut a1, pod("db", &[("app", "db")], db));
        let mut b1 = node("b1", &[("zone", "b")]);
        place(
            &mut b1,
            pod(
                "cache",
                &[("app", "cache")],
                affinity(
                    "podAntiAffinity",
                    vec![],
                    vec![(40, term(app("web"), "zone"))],
                ),
            ),
        );
        let nodes = vec![
            a1,
            node("a2", &[("zone", "a")]),
            b1,
            node("c1", &[("zone", "c")]),
        ];
        let web = pod("web", &[("app", "web")], json!({}));
        assert_eq!(
            scores(&web, nodes.clone(), &["a1", "a2", "b1", "c1"]),
            (
                Code::Success,
                vec![
                    row("a1", 31, 100),
                    row("a2", 30, 98),
                    row("b1", -40, 0),
                    row("c1", 0, 56)
                ]
            )
        );
        let no_hard = InterPodAffinity {
            hard_pod_affinity_weight: 0,
        };
        let (_, rows) = score_all(&no_hard, &web, &snapshot(nodes.clone()), &["a1", "a2"]);
        assert_eq!(rows, [row("a1", 30, 0), row("a2", 30, 0)]);
        // A pod those terms do not select has nothing to score.
        let other = pod("other", &[("app", "other")], json!({}));
        assert_eq!(scores(&other, nodes, &["a1", "a2"]).0, Code::Skip);
    }

    #[test]
    fn pods_on_infeasible_nodes_still_count_for_their_topology() {
        let p = pod(
            "web",
            &[],
            affinity("podAffinity", vec![], vec![(10, term(app("db"), "zone"))]),
        );
        // a1 (with db) is not feasible; a2 shares its zone.
        assert_eq!(
            scores(&p, three_zones(), &["a2", "c1"]),
            (Code::Success, vec![row("a2", 10, 100), row("c1", 0, 0)])
        );
    }
}
