//! NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory would be used in equal
//! fractions after placing the pod: score = (1 − standard deviation of the fractions) × 100.

use k8s_openapi::api::core::v1::Pod;

use super::names::BALANCED_ALLOCATION;
use super::node_resources_fit::scoring_requests;
use crate::scheduler::framework::{
    CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, ScorePlugin, Status,
};

pub struct BalancedAllocation;

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        BALANCED_ALLOCATION
    }
}

impl ScorePlugin for BalancedAllocation {
    /// Reads the scoring requests NodeResourcesFit's PreScore computed for this cycle.
    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<i64, Status> {
        let want = scoring_requests(state, pod);
        let fraction = |requested: i64, capacity: i64| {
            if capacity == 0 {
                0.0
            } else {
                (requested as f64 / capacity as f64).min(1.0)
            }
        };
        let cpu = fraction(
            node.non_zero_requested.milli_cpu + want.milli_cpu,
            node.allocatable.milli_cpu,
        );
        let mem = fraction(
            node.non_zero_requested.memory + want.memory,
            node.allocatable.memory,
        );
        // With two resources the standard deviation is half their difference.
        let std = (cpu - mem).abs() / 2.0;
        Ok(((1.0 - std) * MAX_NODE_SCORE as f64) as i64)
    }
}
