//! Kubernetes' plugin names and the reason strings each writes into FailedScheduling messages
//! (pkg/scheduler/framework/plugins/*), in one table.

pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";
pub const NODE_UNSCHEDULABLE: &str = "NodeUnschedulable";
pub const NODE_NAME: &str = "NodeName";
pub const TAINT_TOLERATION: &str = "TaintToleration";
pub const NODE_AFFINITY: &str = "NodeAffinity";
pub const NODE_PORTS: &str = "NodePorts";
pub const NODE_RESOURCES_FIT: &str = "NodeResourcesFit";
pub const BALANCED_ALLOCATION: &str = "NodeResourcesBalancedAllocation";
pub const IMAGE_LOCALITY: &str = "ImageLocality";
pub const POD_TOPOLOGY_SPREAD: &str = "PodTopologySpread";
pub const INTER_POD_AFFINITY: &str = "InterPodAffinity";

pub const ERR_UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub const ERR_NODE_NAME: &str = "node(s) didn't match the requested node name";
pub const ERR_NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
pub const ERR_NODE_PORTS: &str = "node(s) didn't have free ports for the requested pod ports";
pub const ERR_TOO_MANY_PODS: &str = "Too many pods";
/// interpodaffinity.ErrReasonExistingAntiAffinityRulesNotMatch
pub const ERR_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// interpodaffinity.ErrReasonAffinityRulesNotMatch
pub const ERR_AFFINITY_RULES: &str = "node(s) didn't match pod affinity rules";
/// interpodaffinity.ErrReasonAntiAffinityRulesNotMatch
pub const ERR_ANTI_AFFINITY_RULES: &str = "node(s) didn't match pod anti-affinity rules";
/// podtopologyspread.ErrReasonConstraintsNotMatch
pub const ERR_TOPOLOGY_SPREAD: &str = "node(s) didn't match pod topology spread constraints";
/// podtopologyspread.ErrReasonNodeLabelNotMatch
pub const ERR_TOPOLOGY_SPREAD_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// `node(s) had untolerated taint {dedicated: gpu}`
pub fn err_untolerated_taint(key: &str, value: &str) -> String {
    format!("node(s) had untolerated taint {{{key}: {value}}}")
}

/// `Insufficient cpu`
pub fn err_insufficient(resource: &str) -> String {
    format!("Insufficient {resource}")
}
