//! NodeResourcesFit: a pod fits a node only if its requests fit in what the node has left
//! (cpu, memory, ephemeral-storage, and the pod count); scoring prefers the least allocated node
//! (LeastAllocated, the default) or the most (MostAllocated), on cpu and memory with weight 1
//! each, counting requests with the scoring defaults.

use k8s_openapi::api::core::v1::Pod;

use super::names::{ERR_TOO_MANY_PODS, NODE_RESOURCES_FIT, err_insufficient};
use crate::scheduler::framework::resource::pod_requests;
use crate::scheduler::framework::{
    Code, CycleState, FilterPlugin, MAX_NODE_SCORE, NodeInfo, Plugin, ScorePlugin, Status,
};

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
    let want = pod_requests(pod, false);
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

impl FilterPlugin for NodeResourcesFit {
    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        let reasons = insufficient(pod, node);
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
    fn score(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<i64, Status> {
        let want = pod_requests(pod, true);
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
