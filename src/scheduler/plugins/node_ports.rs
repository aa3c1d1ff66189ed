//! NodePorts: a pod asking for a host port fits only on nodes where no pod holds it (same
//! protocol and port, and the same address or either side on every address).

use k8s_openapi::api::core::v1::Pod;

use super::names::{ERR_NODE_PORTS, NODE_PORTS};
use crate::scheduler::framework::node_info::{HostPort, host_ports};
use crate::scheduler::framework::{
    CycleState, FilterPlugin, NodeInfo, Plugin, PreFilterPlugin, Snapshot, Status,
};

/// The pod's host ports, worked out once per cycle in PreFilter.
const PRE_FILTER_KEY: &str = "PreFilterNodePorts";

pub struct NodePorts;

impl PreFilterPlugin for NodePorts {
    /// As kube-scheduler: a pod without host ports has nothing to check (Skip), so Filter is
    /// not run for it.
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _: &Snapshot) -> Status {
        let ports = host_ports(pod);
        if ports.is_empty() {
            return Status::skip();
        }
        state.write(PRE_FILTER_KEY, ports);
        Status::success()
    }
}

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NODE_PORTS
    }
}

impl FilterPlugin for NodePorts {
    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        let computed;
        let wanted: &[HostPort] = match state.read::<Vec<HostPort>>(PRE_FILTER_KEY) {
            Some(ports) => ports,
            None => {
                computed = host_ports(pod);
                &computed
            }
        };
        let conflict = wanted.iter().any(|(proto, ip, port)| {
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
