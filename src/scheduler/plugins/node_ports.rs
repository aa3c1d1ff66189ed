//! NodePorts: a pod asking for a host port fits only on nodes where no pod holds it (same
//! protocol and port, and the same address or either side on every address).

use k8s_openapi::api::core::v1::Pod;

use super::names::{ERR_NODE_PORTS, NODE_PORTS};
use crate::scheduler::framework::node_info::host_ports;
use crate::scheduler::framework::{CycleState, FilterPlugin, NodeInfo, Plugin, Status};

pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NODE_PORTS
    }
}

impl FilterPlugin for NodePorts {
    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        let conflict = host_ports(pod).iter().any(|(proto, ip, port)| {
            node.used_ports.iter().any(|(p, i, n)| {
                p == proto && n == port && (i == ip || i == "0.0.0.0" || ip == "0.0.0.0")
            })
        });
        if conflict {
            Status::unschedulable(ERR_NODE_PORTS)
        } else {
            Status::success()
        }
    }
}
