//! The scheduling framework: one trait per extension point (as kube-scheduler's
//! framework/interface.go), the per-cycle state plugins share, and [`Framework`], the ordered
//! plugin sets with their score weights, built from a registry by name. Plugins only decide:
//! none of them calls the API (the running scheduler carries out what PostFilter proposes).

pub mod domain_counts;
pub mod node_info;
pub mod resource;
pub mod status;

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::queue::pod_key;

pub use node_info::{
    AffinityTerm, Labels, NodeInfo, PodAffinityTerms, PodInfo, Snapshot, WeightedAffinityTerm,
};
pub use resource::Resource;
pub use status::{Code, Status};

/// The highest score a plugin may give after normalization.
pub const MAX_NODE_SCORE: i64 = 100;

/// `0/3 nodes are available` (framework.NoNodeAvailableMsg).
pub const NO_NODE_AVAILABLE: &str = "nodes are available";

/// A pod's priority, 0 when unset (corev1helpers.PodPriority).
pub fn pod_priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

/// Data one plugin computes in an early extension point for its later ones, for one pod's cycle.
/// A handful of entries read once per node by the filters: a short list searched in order is
/// cheaper than hashing the key every time. Cloning shares the entries (preemption's dry run
/// clones the state per node); [`CycleState::update`] copies an entry before changing it, so a
/// clone's changes never reach the original.
#[derive(Default, Clone)]
pub struct CycleState {
    data: Vec<(&'static str, Arc<dyn Any + Send + Sync>)>,
    /// Filter plugins whose PreFilter returned Skip: not run for this pod
    /// (kube-scheduler's `SkipFilterPlugins`).
    pub skip_filter_plugins: Vec<&'static str>,
}

impl CycleState {
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        match self.data.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = Arc::new(value),
            None => self.data.push((key, Arc::new(value))),
        }
    }

    /// [`update`](Self::update) for a PreFilterExtension: Success, or kube-scheduler's error
    /// when PreFilter left no state under `key`.
    pub fn update_or_error<T: Any + Send + Sync + Clone>(
        &mut self,
        key: &'static str,
        f: impl FnOnce(&mut T),
    ) -> Status {
        if self.update(key, f) {
            Status::success()
        } else {
            Status::error(format!("error reading {key:?} from cycleState: not found"))
        }
    }

    /// Changes the entry under `key` through `f`: in place when this state alone holds it,
    /// else on a copy that becomes this state's own (copy on write, so a dry run's many
    /// updates copy the entry once); false when there is no such entry of type `T`.
    pub fn update<T: Any + Send + Sync + Clone>(
        &mut self,
        key: &'static str,
        f: impl FnOnce(&mut T),
    ) -> bool {
        let Some((_, entry)) = self.data.iter_mut().find(|(k, _)| *k == key) else {
            return false;
        };
        if Arc::get_mut(entry).is_none() {
            let Some(copy) = entry.downcast_ref::<T>().cloned() else {
                return false;
            };
            *entry = Arc::new(copy);
        }
        match Arc::get_mut(entry).and_then(|v| v.downcast_mut::<T>()) {
            Some(value) => {
                f(value);
                true
            }
            None => false,
        }
    }

    pub fn read<T: Any + Send + Sync>(&self, key: &'static str) -> Option<&T> {
        self.data
            .iter()
            .find(|(k, _)| std::ptr::eq(*k, key) || *k == key)
            .and_then(|(_, v)| v.downcast_ref())
    }
}

pub trait Plugin: Send + Sync {
    /// Kubernetes' plugin name (`NodeResourcesFit`).
    fn name(&self) -> &'static str;
}

pub trait PreFilterPlugin: Plugin {
    /// `Skip` means the plugin has nothing to check for this pod: its Filter is not run.
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status;

    /// How the plugin brings its PreFilter state up to date when a pod is added to or removed
    /// from a node after PreFilter ran (preemption's dry run, nominated pods); `None` for a
    /// plugin whose state does not depend on other pods.
    fn pre_filter_extensions(&self) -> Option<&dyn PreFilterExtensions> {
        None
    }
}

/// kube-scheduler's PreFilterExtensions: update the cycle state computed in PreFilter for
/// `pod` (the pod being scheduled) as if `other` were added to / removed from `node` (`node`
/// as it is after the change).
pub trait PreFilterExtensions: Send + Sync {
    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        other: &PodInfo,
        node: &NodeInfo,
    ) -> Status;

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        other: &PodInfo,
        node: &NodeInfo,
    ) -> Status;
}

pub trait FilterPlugin: Plugin {
    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Status;
}

/// Runs when no node passed the filters, to make the pod schedulable in a later cycle
/// (preemption). It proposes; the running scheduler carries the proposal out.
pub trait PostFilterPlugin: Plugin {
    fn post_filter(
        &self,
        handle: &Handle<'_>,
        state: &CycleState,
        pod: &Pod,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status);
}

/// What a PostFilter plugin may use besides the pod: the framework (to rerun the filters) and
/// the cycle's snapshot (kube-scheduler's framework.Handle, reduced to that).
pub struct Handle<'a> {
    pub framework: &'a Framework,
    pub snapshot: &'a Snapshot,
    /// Where to start among candidate nodes; kube-scheduler draws it at random, kubox rotates it
    /// per cycle (and tests pin it).
    pub offset: usize,
}

/// Why each node was rejected in one cycle (framework.NodeToStatus): a status per node looked
/// at, and one status standing for every node that was not.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeToStatus {
    statuses: BTreeMap<String, Status>,
    absent: Status,
}

impl Default for NodeToStatus {
    /// Nodes not looked at are UnschedulableAndUnresolvable, with no reason (NewDefaultNodeToStatus).
    fn default() -> Self {
        NodeToStatus::new(Status::with_reasons(
            Code::UnschedulableAndUnresolvable,
            Vec::new(),
        ))
    }
}

impl NodeToStatus {
    pub fn new(absent: Status) -> Self {
        NodeToStatus {
            statuses: BTreeMap::new(),
            absent,
        }
    }

    pub fn set(&mut self, node: &str, status: Status) {
        self.statuses.insert(node.to_string(), status);
    }

    pub fn set_absent(&mut self, status: Status) {
        self.absent = status;
    }

    /// The node's status, or the absent nodes' one.
    pub fn get(&self, node: &str) -> &Status {
        self.statuses.get(node).unwrap_or(&self.absent)
    }

    /// The plugins that rejected a node, each once, in the order first seen (the
    /// `UnschedulablePlugins` of kube-scheduler's Diagnosis).
    pub fn rejecting_plugins(&self) -> Vec<&'static str> {
        let mut plugins = Vec::new();
        for s in self.statuses.values().chain([&self.absent]) {
            if s.is_rejection() && !s.plugin.is_empty() && !plugins.contains(&s.plugin) {
                plugins.push(s.plugin);
            }
        }
        plugins
    }

    /// How many nodes have a status of their own.
    pub fn len(&self) -> usize {
        self.statuses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
    }

    /// The nodes of `snapshot` whose status has `code`, in snapshot order (NodesForStatusCode).
    pub fn nodes_with_code<'s>(
        &self,
        snapshot: &'s Snapshot,
        code: Code,
    ) -> Vec<&'s Arc<NodeInfo>> {
        snapshot
            .nodes
            .iter()
            .filter(|n| self.get(&n.name).code == code)
            .collect()
    }
}

/// framework.FitError's text: `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had
/// untolerated taint {dedicated: gpu}.` — the PreFilter message if PreFilter rejected the pod,
/// else every node's reasons counted (absent nodes count with the absent status), rendered
/// `N reason`, sorted as strings; then the PostFilter message (` preemption: ...`) as it is.
pub fn fit_error(
    num_all_nodes: usize,
    statuses: &NodeToStatus,
    pre_filter_msg: &str,
    post_filter_msg: &str,
) -> String {
    let mut msg = format!("0/{num_all_nodes} {NO_NODE_AVAILABLE}:");
    if !pre_filter_msg.is_empty() {
        msg.push_str(&format!(" {pre_filter_msg}."));
    } else {
        let mut histogram: HashMap<&str, usize> = HashMap::new();
        for status in statuses.statuses.values() {
            for reason in &status.reasons {
                *histogram.entry(reason).or_insert(0) += 1;
            }
        }
        let absent = num_all_nodes.saturating_sub(statuses.len());
        if absent > 0 {
            for reason in &statuses.absent.reasons {
                *histogram.entry(reason).or_insert(0) += absent;
            }
        }
        let mut parts: Vec<String> = histogram.iter().map(|(r, n)| format!("{n} {r}")).collect();
        parts.sort();
        if !parts.is_empty() {
            msg.push_str(&format!(" {}.", parts.join(", ")));
        }
    }
    if !post_filter_msg.is_empty() {
        msg.push_str(&format!(" {post_filter_msg}"));
    }
    msg
}

/// What a PostFilter plugin proposes (framework.PostFilterResult, plus what kube-scheduler's
/// plugin would have done itself: the victims to evict).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PostFilterResult {
    /// The node the pod should wait for; empty clears an earlier nomination.
    pub nominated_node: String,
    /// The pods to evict from that node, most important first.
    pub victims: Vec<Arc<PodInfo>>,
    /// Every node where evictions would make room, with its victims, in the order found.
    pub candidates: Vec<Candidate>,
}

/// A node the pod fits on once `victims` are gone.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub node: String,
    /// Most important first.
    pub victims: Vec<Arc<PodInfo>>,
}

pub trait PreScorePlugin: Plugin {
    /// `nodes` are the feasible nodes; `snapshot` holds every node (kube-scheduler's shared
    /// lister). `Skip` means the plugin has nothing to score for this pod: its Score is not run.
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status;
}

pub trait ScorePlugin: Plugin {
    /// The raw score of one node.
    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<i64, Status>;

    /// Maps raw scores onto 0..=100 (kept as they are by default); `scores[i]` is `nodes[i]`'s.
    fn normalize(
        &self,
        _state: &CycleState,
        _pod: &Pod,
        _nodes: &[Arc<NodeInfo>],
        _scores: &mut [i64],
    ) {
    }
}

/// Normalizes scores to 0..=100 by the highest one; `reverse` makes the highest raw score the
/// lowest (kube-scheduler's helper.DefaultNormalizeScore).
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        let scaled = MAX_NODE_SCORE * *s / max;
        *s = if reverse {
            MAX_NODE_SCORE - scaled
        } else {
            scaled
        };
    }
}

/// `filters` in order; the first that does not succeed names itself in the status.
fn run_filters(
    filters: &[&dyn FilterPlugin],
    state: &CycleState,
    pod: &Pod,
    node: &NodeInfo,
) -> Status {
    for plugin in filters {
        let status = plugin.filter(state, pod, node);
        if !status.is_success() {
            return status.by(plugin.name());
        }
    }
    Status::success()
}

/// The plugin sets of one scheduler profile, in order, with score weights.
#[derive(Default, Clone)]
pub struct Framework {
    pub pre_filter: Vec<Arc<dyn PreFilterPlugin>>,
    pub filter: Vec<Arc<dyn FilterPlugin>>,
    pub post_filter: Vec<Arc<dyn PostFilterPlugin>>,
    pub pre_score: Vec<Arc<dyn PreScorePlugin>>,
    pub score: Vec<(Arc<dyn ScorePlugin>, i64)>,
}

impl Framework {
    /// The filters this cycle runs, in order: those whose PreFilter did not skip them. Worked
    /// out once per cycle, not once per node.
    pub fn filters_to_run(&self, state: &CycleState) -> Vec<&dyn FilterPlugin> {
        self.filter
            .iter()
            .filter(|p| !state.skip_filter_plugins.contains(&p.name()))
            .map(|p| p.as_ref())
            .collect()
    }

    /// The filters in order; the first that does not succeed names itself in the status.
    pub fn run_filter_plugins(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        run_filters(&self.filters_to_run(state), state, pod, node)
    }

    /// The filters, with the pods nominated to this node that are at least as important as
    /// `pod` counted as running; if that passes, once more without them, since a nominated pod
    /// may yet land elsewhere (RunFilterPluginsWithNominatedPods). A pod must not take room
    /// freed by a preemption for a pod it yields to.
    pub fn run_filter_plugins_with_nominated_pods(
        &self,
        state: &CycleState,
        pod: &Pod,
        node: &NodeInfo,
        snapshot: &Snapshot,
    ) -> Status {
        self.run_filters_with_nominated_pods(
            &self.filters_to_run(state),
            state,
            pod,
            node,
            snapshot,
        )
    }

    /// [`Framework::run_filter_plugins_with_nominated_pods`] with the cycle's filters
    /// ([`Framework::filters_to_run`]) worked out already.
    pub fn run_filters_with_nominated_pods(
        &self,
        filters: &[&dyn FilterPlugin],
        state: &CycleState,
        pod: &Pod,
        node: &NodeInfo,
        snapshot: &Snapshot,
    ) -> Status {
        let on_node = snapshot.nominated_pods_for_node(&node.name);
        if on_node.is_empty() {
            return run_filters(filters, state, pod, node);
        }
        let key = pod_key(pod);
        let priority = pod_priority(pod);
        let nominated: Vec<&Arc<PodInfo>> = on_node
            .iter()
            .filter(|p| p.key != key && p.priority >= priority)
            .collect();
        if nominated.is_empty() {
            return run_filters(filters, state, pod, node);
        }
        // addNominatedPods: the pods join a copy of the node and of the state.
        let mut with_nominated = node.clone();
        let mut state_with_nominated = state.clone();
        for p in nominated {
            with_nominated.add_pod(p.clone());
            let status = self.run_pre_filter_extension_add_pod(
                &mut state_with_nominated,
                pod,
                p,
                &with_nominated,
            );
            if !status.is_success() {
                return status;
            }
        }
        let status = run_filters(filters, &state_with_nominated, pod, &with_nominated);
        if !status.is_success() {
            return status;
        }
        run_filters(filters, state, pod, node)
    }

    /// Every PreFilter plugin's AddPod (RunPreFilterExtensionAddPod), but those whose PreFilter
    /// returned Skip; the first failure is an Error naming the plugin.
    pub fn run_pre_filter_extension_add_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        added: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        self.run_pre_filter_extensions(state, "AddPod", |ext, state| {
            ext.add_pod(state, pod, added, node)
        })
    }

    /// Every PreFilter plugin's RemovePod (RunPreFilterExtensionRemovePod), but those whose
    /// PreFilter returned Skip; the first failure is an Error naming the plugin.
    pub fn run_pre_filter_extension_remove_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        removed: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        self.run_pre_filter_extensions(state, "RemovePod", |ext, state| {
            ext.remove_pod(state, pod, removed, node)
        })
    }

    fn run_pre_filter_extensions(
        &self,
        state: &mut CycleState,
        operation: &str,
        mut run: impl FnMut(&dyn PreFilterExtensions, &mut CycleState) -> Status,
    ) -> Status {
        for plugin in &self.pre_filter {
            let Some(ext) = plugin.pre_filter_extensions() else {
                continue;
            };
            if state.skip_filter_plugins.contains(&plugin.name()) {
                continue;
            }
            let status = run(ext, state);
            if !status.is_success() {
                return Status::error(format!(
                    "running {operation} on PreFilter plugin {:?}: {status}",
                    plugin.name()
                ))
                .by(plugin.name());
            }
        }
        Status::success()
    }

    /// The PostFilter plugins in order (RunPostFilterPlugins): the first success or
    /// UnschedulableAndUnresolvable answers; otherwise the reasons of all of them, Unschedulable,
    /// with the last proposal that changes the nomination.
    pub fn run_post_filter_plugins(
        &self,
        handle: &Handle<'_>,
        state: &CycleState,
        pod: &Pod,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status) {
        let mut result = None;
        let mut reasons = Vec::new();
        let mut rejector = "";
        for plugin in &self.post_filter {
            let (r, status) = plugin.post_filter(handle, state, pod, statuses);
            match status.code {
                Code::Success => return (r, status),
                Code::UnschedulableAndUnresolvable => return (r, status.by(plugin.name())),
                Code::Unschedulable => {
                    if r.is_some() {
                        result = r;
                    }
                }
                Code::Error | Code::Skip => return (None, status.by(plugin.name())),
            }
            reasons.extend(status.reasons);
            if rejector.is_empty() {
                rejector = plugin.name();
            }
        }
        (
            result,
            Status::with_reasons(Code::Unschedulable, reasons).by(rejector),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_of_the_cycle_state_changes_apart_from_the_original() {
        let mut state = CycleState::default();
        state.write("counts", vec![1, 2]);
        let mut copy = state.clone();
        assert!(copy.update::<Vec<i32>>("counts", |v| v.push(3)));
        assert!(copy.update::<Vec<i32>>("counts", |v| v[0] = 0));
        assert_eq!(copy.read::<Vec<i32>>("counts"), Some(&vec![0, 2, 3]));
        assert_eq!(state.read::<Vec<i32>>("counts"), Some(&vec![1, 2]));
        // The original alone holds its entry now: changed in place.
        assert!(state.update::<Vec<i32>>("counts", |v| v.clear()));
        assert_eq!(state.read::<Vec<i32>>("counts"), Some(&vec![]));
        assert_eq!(copy.read::<Vec<i32>>("counts"), Some(&vec![0, 2, 3]));
        // No entry, or one of another type.
        assert!(!state.update::<Vec<i32>>("missing", |v| v.clear()));
        assert!(!state.update::<String>("counts", |s| s.clear()));
    }
}
