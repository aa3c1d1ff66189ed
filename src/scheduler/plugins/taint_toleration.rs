//! TaintToleration: a node's NoSchedule and NoExecute taints keep out pods that do not tolerate
//! them; PreferNoSchedule taints lower the score of the nodes that carry them.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Taint, Toleration};

use super::names::{TAINT_TOLERATION, err_untolerated_taint};
use crate::scheduler::framework::{
    CycleState, FilterPlugin, NodeInfo, Plugin, ScorePlugin, Status, default_normalize,
};

pub struct TaintToleration;

/// `v1.Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    if t.key
        .as_deref()
        .is_some_and(|k| !k.is_empty() && k != taint.key)
    {
        return false;
    }
    match t.operator.as_deref() {
        Some("Exists") => true,
        Some("Equal") | Some("") | None => {
            t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        Some(_) => false,
    }
}

/// The first NoSchedule or NoExecute taint of the node the pod does not tolerate
/// (v1helper.FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc).
pub fn untolerated_taint<'a>(pod: &Pod, node: &'a NodeInfo) -> Option<&'a Taint> {
    let tols = tolerations(pod);
    taints(node)
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|taint| !tols.iter().any(|t| tolerates(t, taint)))
}

fn tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or(&[])
}

fn taints(node: &NodeInfo) -> &[Taint] {
    if !node.has_taints {
        return &[];
    }
    node.node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[])
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        TAINT_TOLERATION
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        match untolerated_taint(pod, node) {
            Some(t) => Status::unresolvable(err_untolerated_taint(
                &t.key,
                t.value.as_deref().unwrap_or(""),
            )),
            None => Status::success(),
        }
    }
}

impl ScorePlugin for TaintToleration {
    /// How many PreferNoSchedule taints the pod does not tolerate (fewer is better).
    fn score(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<i64, Status> {
        let tols: Vec<&Toleration> = tolerations(pod)
            .iter()
            .filter(|t| {
                t.effect
                    .as_deref()
                    .is_none_or(|e| e.is_empty() || e == "PreferNoSchedule")
            })
            .collect();
        let count = taints(node)
            .iter()
            .filter(|t| t.effect == "PreferNoSchedule")
            .filter(|taint| !tols.iter().any(|t| tolerates(t, taint)))
            .count();
        Ok(count as i64)
    }

    fn normalize(&self, _: &CycleState, _: &Pod, _: &[Arc<NodeInfo>], scores: &mut [i64]) {
        default_normalize(scores, true);
    }
}
