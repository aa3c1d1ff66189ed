//! NodeResourcesFit: a pod fits a node only if its requests fit in what the node has left
//! (cpu, memory, ephemeral-storage, and the pod count); scoring prefers the least allocated node
//! (LeastAllocated, the default) or the most (MostAllocated), on cpu and memory with weight 1
//! each, counting requests with the scoring defaults.

use k8s_openapi::api::core::v1::Pod;

use super::names::{ERR_TOO_MANY_PODS, NODE_RESOURCES_FIT, err_insufficient};
use crate::scheduler::framework::resource::{Resource, pod_requests};
use crate::scheduler::framework::{
    Code, CycleState, FilterPlugin, MAX_NODE_SCORE, NodeInfo, Plugin, PreFilterPlugin,
    PreScorePlugin, ScorePlugin, Snapshot, Status,
};

/// The pod's requests, computed once per cycle in PreFilter (`preFilterState`).
const PRE_FILTER_KEY: &str = "PreFilterNodeResourcesFit";
/// The pod's requests with the scoring defaults, computed once in PreScore.
pub const PRE_SCORE_KEY: &str = "PreScoreNodeResourcesFit";

/// The pod's requests as computed for this cycle (or now, when no extension point ran).
fn requests(state: &CycleState, key: &'static str, pod: &Pod, non_zero: bool) -> Resource {
    state
        .read::<Resource>(key)
        .cloned()
        .unwrap_or_else(|| pod_requests(pod, non_zero))
}

/// The pod's scoring requests (100m / 200MB for containers without any) for this cycle.
pub fn scoring_requests(state: &CycleState, pod: &Pod) -> Resource {
    requests(state, PRE_SCORE_KEY, pod, true)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoringStrategy {
    #[default]
    LeastAllocated,
    MostAllocated,
}

#[derive(Default)]
pub struct NodeResourcesFit {
    pub strategy: ScoringStrategy,
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NODE_RESOURCES_FIT
    }
}

/// Every resource the pod does not fit on the node, in Kubernetes' words and order.
pub fn insufficient(pod: &Pod, node: &NodeInfo) -> Vec<String> {
    insufficient_for(&pod_requests(pod, false), node)
}

fn insufficient_for(want: &Resource, node: &NodeInfo) -> Vec<String> {
    let (alloc, used) = (&node.allocatable, &node.requested);
    let mut reasons = Vec::new();
    if node.pods.len() as i64 + 1 > alloc.pods {
        reasons.push(ERR_TOO_MANY_PODS.to_string());
    }
    if want.milli_cpu > 0 && want.milli_cpu > alloc.milli_cpu - used.milli_cpu {
        reasons.push(err_insufficient("cpu"));
    }
    if want.memory > 0 && want.memory > alloc.memory - used.memory {
        reasons.push(err_insufficient("memory"));
    }
    if want.ephemeral_storage > 0
        && want.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage
    {
        reasons.push(err_insufficient("ephemeral-storage"));
    }
    reasons
}

impl PreFilterPlugin for NodeResourcesFit {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _: &Snapshot) -> Status {
        state.write(PRE_FILTER_KEY, pod_requests(pod, false));
        Status::success()
    }
}

impl PreScorePlugin for NodeResourcesFit {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _: &[std::sync::Arc<NodeInfo>],
        _: &Snapshot,
    ) -> Status {
        state.write(PRE_SCORE_KEY, pod_requests(pod, true));
        Status::success()
    }
}

impl FilterPlugin for NodeResourcesFit {
    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        let reasons = insufficient_for(&requests(state, PRE_FILTER_KEY, pod, false), node);
        if reasons.is_empty() {
            Status::success()
        } else {
            Status::with_reasons(Code::Unschedulable, reasons)
        }
    }
}

fn least_allocated(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

fn most_allocated(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

impl ScorePlugin for NodeResourcesFit {
    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<i64, Status> {
        let want = scoring_requests(state, pod);
        let f = match self.strategy {
            ScoringStrategy::LeastAllocated => least_allocated,
            ScoringStrategy::MostAllocated => most_allocated,
        };
        let cpu = f(
            node.non_zero_requested.milli_cpu + want.milli_cpu,
            node.allocatable.milli_cpu,
        );
        let mem = f(
            node.non_zero_requested.memory + want.memory,
            node.allocatable.memory,
        );
        Ok((cpu + mem) / 2)
    }
}
