//! The kubelet's Node: what it registers (labels, capacity, addresses, nodeInfo), the conditions
//! it keeps, the images it reports, and its Lease heartbeat in `kube-node-lease`.

use std::collections::BTreeMap;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{
    ContainerImage, Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};

use super::runtime::{Image, RuntimeVersion};

/// `kubelet --version` as nodes report it.
pub const KUBELET_VERSION: &str = crate::api::http::discovery::GIT_VERSION;
/// `nodeLeaseDurationSeconds`.
pub const LEASE_DURATION_SECONDS: i32 = 40;
/// The namespace of node leases.
pub const LEASE_NAMESPACE: &str = "kube-node-lease";
/// Images reported in `status.images` at most (`--node-status-max-images`).
pub const MAX_IMAGES: usize = 50;

/// A virtual node as configured: name, labels, taints and capacity.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    /// `cpu`, `memory`, `pods`, `ephemeral-storage`.
    pub capacity: BTreeMap<String, Quantity>,
    pub internal_ip: String,
}

/// The zones default nodes are spread over.
pub const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];

impl NodeConfig {
    /// `node-<i>` (1-based) with Kubernetes' well-known labels, in zone `ZONES[(i-1) % 3]`, and a
    /// virtual capacity of 4 CPUs, 8Gi of memory and 110 pods.
    pub fn default_node(i: usize) -> Self {
        let name = format!("node-{i}");
        let labels = BTreeMap::from([
            ("kubernetes.io/hostname".to_string(), name.clone()),
            ("kubernetes.io/os".to_string(), "linux".to_string()),
            ("kubernetes.io/arch".to_string(), go_arch().to_string()),
            (
                "topology.kubernetes.io/zone".to_string(),
                ZONES[(i - 1) % ZONES.len()].to_string(),
            ),
        ]);
        let capacity = BTreeMap::from([
            ("cpu".to_string(), Quantity("4".into())),
            ("memory".to_string(), Quantity("8Gi".into())),
            ("pods".to_string(), Quantity("110".into())),
            ("ephemeral-storage".to_string(), Quantity("100Gi".into())),
        ]);
        NodeConfig {
            name,
            labels,
            taints: Vec::new(),
            capacity,
            internal_ip: format!("172.18.0.{}", i + 1),
        }
    }

    /// A node from a Node manifest (`--cluster FILE`): its name, labels, taints and capacity;
    /// missing well-known labels and capacity get the defaults of node `i`.
    pub fn from_manifest(node: &Node, i: usize) -> Self {
        let mut config = NodeConfig::default_node(i);
        if let Some(name) = node.metadata.name.clone() {
            config
                .labels
                .insert("kubernetes.io/hostname".into(), name.clone());
            config.name = name;
        }
        for (k, v) in node.metadata.labels.clone().unwrap_or_default() {
            config.labels.insert(k, v);
        }
        config.taints = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        for (k, v) in node
            .status
            .as_ref()
            .and_then(|s| s.capacity.clone())
            .unwrap_or_default()
        {
            config.capacity.insert(k, v);
        }
        config
    }
}

pub use crate::api::http::discovery::go_arch;

fn node_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &Time,
) -> NodeCondition {
    NodeCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: Some(now.clone()),
    }
}

/// The Node the kubelet registers and keeps up to date. `runtime_ok` says whether the container
/// runtime answers (the Ready condition says so when it does not).
pub fn node_object(
    config: &NodeConfig,
    runtime: Option<&RuntimeVersion>,
    images: &[Image],
    now: &Time,
) -> Node {
    let ready = match runtime {
        Some(_) => node_condition(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
            now,
        ),
        None => node_condition(
            "Ready",
            "False",
            "KubeletNotReady",
            "container runtime is down",
            now,
        ),
    };
    let mut images: Vec<&Image> = images.iter().collect();
    images.sort_by_key(|i| std::cmp::Reverse(i.size_bytes));
    Node {
        metadata: ObjectMeta {
            name: Some(config.name.clone()),
            labels: Some(config.labels.clone()),
            annotations: Some(BTreeMap::from([(
                "node.alpha.kubernetes.io/ttl".to_string(),
                "0".to_string(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec {
            taints: (!config.taints.is_empty()).then(|| config.taints.clone()),
            ..NodeSpec::default()
        }),
        status: Some(NodeStatus {
            capacity: Some(config.capacity.clone()),
            allocatable: Some(config.capacity.clone()),
            conditions: Some(vec![
                node_condition(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                    now,
                ),
                node_condition(
                    "DiskPressure",
                    "False",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                    now,
                ),
                node_condition(
                    "PIDPressure",
                    "False",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                    now,
                ),
                ready,
            ]),
            addresses: Some(vec![
                NodeAddress {
                    type_: "InternalIP".into(),
                    address: config.internal_ip.clone(),
                },
                NodeAddress {
                    type_: "Hostname".into(),
                    address: config.name.clone(),
                },
            ]),
            node_info: Some(NodeSystemInfo {
                architecture: go_arch().into(),
                container_runtime_version: runtime
                    .map(RuntimeVersion::node_info)
                    .unwrap_or_default(),
                kernel_version: kernel_version(),
                kube_proxy_version: String::new(),
                kubelet_version: KUBELET_VERSION.into(),
                operating_system: "linux".into(),
                os_image: "kubox".into(),
                boot_id: String::new(),
                machine_id: String::new(),
                system_uuid: String::new(),
            }),
            images: Some(
                images
                    .into_iter()
                    .take(MAX_IMAGES)
                    .map(|i| ContainerImage {
                        names: Some(i.names.clone()),
                        size_bytes: Some(i.size_bytes),
                    })
                    .collect(),
            ),
            ..NodeStatus::default()
        }),
    }
}

fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Copies `fresh`'s status conditions' transition times from `old` where the status did not
/// change, so only heartbeats move.
pub fn keep_transition_times(fresh: &mut NodeStatus, old: Option<&NodeStatus>) {
    let old = old.and_then(|o| o.conditions.as_ref());
    for c in fresh.conditions.iter_mut().flatten() {
        if let Some(prev) = old
            .into_iter()
            .flatten()
            .find(|p| p.type_ == c.type_ && p.status == c.status)
        {
            c.last_transition_time = prev.last_transition_time.clone();
        }
    }
}

/// The node's heartbeat Lease.
pub fn lease(node: &str, now: MicroTime) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(node.to_string()),
            namespace: Some(LEASE_NAMESPACE.to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(node.to_string()),
            lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
            renew_time: Some(now),
            ..LeaseSpec::default()
        }),
    }
}

/// The status of a node's `Ready` condition (`True`, `False`, `Unknown`).
pub fn ready_status(status: Option<&k8s_openapi::api::core::v1::NodeStatus>) -> Option<String> {
    status?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
}
