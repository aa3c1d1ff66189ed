//! The scheduling framework: one trait per extension point (as kube-scheduler's
//! framework/interface.go), the per-cycle state plugins share, and [`Framework`], the ordered
//! plugin sets with their score weights, built from a registry by name.

pub mod node_info;
pub mod resource;
pub mod status;

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

pub use node_info::{
    AffinityTerm, Labels, NodeInfo, PodAffinityTerms, PodInfo, Snapshot, WeightedAffinityTerm,
};
pub use resource::Resource;
pub use status::{Code, Status};

/// The highest score a plugin may give after normalization.
pub const MAX_NODE_SCORE: i64 = 100;

/// Data one plugin computes in an early extension point for its later ones, for one pod's cycle.
#[derive(Default)]
pub struct CycleState {
    data: HashMap<&'static str, Box<dyn Any + Send + Sync>>,
}

impl CycleState {
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Box::new(value));
    }

    pub fn read<T: Any + Send + Sync>(&self, key: &'static str) -> Option<&T> {
        self.data.get(key).and_then(|v| v.downcast_ref())
    }
}

pub trait Plugin: Send + Sync {
    /// Kubernetes' plugin name (`NodeResourcesFit`).
    fn name(&self) -> &'static str;
}

pub trait PreFilterPlugin: Plugin {
    /// `Skip` means the plugin has nothing to check for this pod: its Filter is not run.
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status;
}

pub trait FilterPlugin: Plugin {
    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Status;
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

/// The plugin sets of one scheduler profile, in order, with score weights.
#[derive(Default, Clone)]
pub struct Framework {
    pub pre_filter: Vec<Arc<dyn PreFilterPlugin>>,
    pub filter: Vec<Arc<dyn FilterPlugin>>,
    pub pre_score: Vec<Arc<dyn PreScorePlugin>>,
    pub score: Vec<(Arc<dyn ScorePlugin>, i64)>,
}
