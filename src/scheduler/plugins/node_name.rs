//! NodeName: a pod that names its node (`spec.nodeName`) fits only there.

use k8s_openapi::api::core::v1::Pod;

use super::names::{ERR_NODE_NAME, NODE_NAME};
use crate::scheduler::framework::{CycleState, FilterPlugin, NodeInfo, Plugin, Status};

pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NODE_NAME
    }
}

impl FilterPlugin for NodeName {
    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        match pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            Some(name) if !name.is_empty() && name != &*node.name => {
                Status::unresolvable(ERR_NODE_NAME)
            }
            _ => Status::success(),
        }
    }
}
