//! The default plugins, one file each, under Kubernetes' names, and the default profile with
//! Kubernetes' score weights.

pub mod balanced_allocation;
pub mod default_preemption;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod names;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

use crate::scheduler::framework::Framework;

/// The default profile: plugins in kube-scheduler's order; scores with its default weights
/// (TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1, PodTopologySpread 2,
/// InterPodAffinity 2, BalancedAllocation 1, ImageLocality 1).
pub fn default_framework() -> Framework {
    let fit = Arc::new(node_resources_fit::NodeResourcesFit::default());
    let taints = Arc::new(taint_toleration::TaintToleration);
    let affinity = Arc::new(node_affinity::NodeAffinity);
    let spread = Arc::new(pod_topology_spread::PodTopologySpread);
    let pod_affinity = Arc::new(inter_pod_affinity::InterPodAffinity::default());
    let ports = Arc::new(node_ports::NodePorts);
    Framework {
        pre_filter: vec![
            affinity.clone(),
            ports.clone(),
            fit.clone(),
            spread.clone(),
            pod_affinity.clone(),
        ],
        filter: vec![
            Arc::new(node_unschedulable::NodeUnschedulable),
            Arc::new(node_name::NodeName),
            taints.clone(),
            affinity.clone(),
            ports,
            fit.clone(),
            spread.clone(),
            pod_affinity.clone(),
        ],
        pre_score: vec![fit.clone(), spread.clone(), pod_affinity.clone()],
        score: vec![
            (taints, 3),
            (affinity, 2),
            (fit, 1),
            (spread, 2),
            (pod_affinity, 2),
            (Arc::new(balanced_allocation::BalancedAllocation), 1),
            (Arc::new(image_locality::ImageLocality), 1),
        ],
        post_filter: vec![Arc::new(default_preemption::DefaultPreemption)],
    }
}
