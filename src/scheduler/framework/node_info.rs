//! What the scheduler knows about a node: the Node, the pods on it (bound or assumed), their
//! summed requests, the host ports in use and the images present. A [`Snapshot`] of all nodes
//! (and of the pods nominated to them by preemption) is taken once per scheduling cycle and
//! never changes under the plugins.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use super::resource::{Resource, node_allocatable, pod_requests};

/// One pod as the scheduler accounts for it.
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub pod: Arc<Pod>,
    pub key: String,
    pub requests: Resource,
    /// Requests with the scoring defaults (100m CPU, 200 MB) for containers that request none.
    pub non_zero: Resource,
}

impl PodInfo {
    pub fn new(pod: Arc<Pod>) -> Self {
        let key = crate::scheduler::queue::pod_key(&pod);
        let mut requests = pod_requests(&pod, false);
        requests.pods = 1;
        let mut non_zero = pod_requests(&pod, true);
        non_zero.pods = 1;
        PodInfo {
            pod,
            key,
            requests,
            non_zero,
        }
    }
}

/// `(protocol, hostIP, hostPort)`; an empty or `0.0.0.0` host IP means every address.
pub type HostPort = (String, String, i32);

pub fn host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|h| *h > 0)?;
            let ip = p
                .host_ip
                .clone()
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| "0.0.0.0".into());
            Some((p.protocol.clone().unwrap_or_else(|| "TCP".into()), ip, port))
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub node: Arc<Node>,
    pub name: String,
    pub pods: Vec<Arc<PodInfo>>,
    /// Sum of the pods' requests (`pods` = how many pods).
    pub requested: Resource,
    pub non_zero_requested: Resource,
    pub allocatable: Resource,
    pub used_ports: HashSet<HostPort>,
    /// Images present on the node (`status.images`), by every name, with their size in bytes.
    pub images: HashMap<String, i64>,
}

impl NodeInfo {
    pub fn new(node: Arc<Node>) -> Self {
        let name = node.metadata.name.clone().unwrap_or_default();
        let allocatable = node_allocatable(&node);
        let mut images = HashMap::new();
        for image in node
            .status
            .as_ref()
            .and_then(|s| s.images.as_ref())
            .into_iter()
            .flatten()
        {
            for name in image.names.iter().flatten() {
                images.insert(normalized_image(name), image.size_bytes.unwrap_or(0));
            }
        }
        NodeInfo {
            node,
            name,
            pods: Vec::new(),
            requested: Resource::default(),
            non_zero_requested: Resource::default(),
            allocatable,
            used_ports: HashSet::new(),
            images,
        }
    }

    pub fn add_pod(&mut self, info: Arc<PodInfo>) {
        self.requested.add(&info.requests);
        self.non_zero_requested.add(&info.non_zero);
        self.used_ports.extend(host_ports(&info.pod));
        self.pods.push(info);
    }

    /// Removes a pod by key; returns whether it was there.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        let Some(i) = self.pods.iter().position(|p| p.key == key) else {
            return false;
        };
        let info = self.pods.swap_remove(i);
        self.requested.sub(&info.requests);
        self.non_zero_requested.sub(&info.non_zero);
        self.used_ports = self.pods.iter().flat_map(|p| host_ports(&p.pod)).collect();
        true
    }

    pub fn labels(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        self.node.metadata.labels.as_ref()
    }
}

/// `busybox` → `docker.io/library/busybox:latest`, as ImageLocality compares names.
pub fn normalized_image(name: &str) -> String {
    let (repo, tag) = match name.rsplit_once('@') {
        Some(_) => (name.to_string(), String::new()),
        None => {
            let last = name.rsplit('/').next().unwrap_or(name);
            if last.contains(':') {
                (name.to_string(), String::new())
            } else {
                (name.to_string(), ":latest".to_string())
            }
        }
    };
    let first = repo.split('/').next().unwrap_or("");
    let has_registry =
        repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_registry {
        repo
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    format!("{full}{tag}")
}

/// All nodes as one scheduling cycle sees them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub nodes: Vec<Arc<NodeInfo>>,
    /// How many nodes hold each (normalized) image: ImageLocality's spread factor.
    pub image_nodes: HashMap<String, usize>,
    /// Pending pods nominated to each node by an earlier preemption (the queue's nominator):
    /// the filters count those at least as important as the pod at hand as if they ran there.
    pub nominated: HashMap<String, Vec<Arc<PodInfo>>>,
}

impl Snapshot {
    pub fn new(nodes: Vec<Arc<NodeInfo>>) -> Self {
        let mut image_nodes = HashMap::new();
        for n in &nodes {
            for image in n.images.keys() {
                *image_nodes.entry(image.clone()).or_insert(0) += 1;
            }
        }
        Snapshot {
            nodes,
            image_nodes,
            nominated: HashMap::new(),
        }
    }

    /// The same nodes, with the pods nominated to them.
    pub fn with_nominated(mut self, nominated: HashMap<String, Vec<Arc<PodInfo>>>) -> Self {
        self.nominated = nominated;
        self
    }

    pub fn nominated_pods_for_node(&self, node: &str) -> &[Arc<PodInfo>] {
        self.nominated.get(node).map_or(&[], Vec::as_slice)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<NodeInfo>> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_normalize_like_the_image_locality_plugin() {
        assert_eq!(
            normalized_image("busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            normalized_image("busybox:1.36"),
            "docker.io/library/busybox:1.36"
        );
        assert_eq!(normalized_image("me/app"), "docker.io/me/app:latest");
        assert_eq!(
            normalized_image("registry.local:5000/app:v1"),
            "registry.local:5000/app:v1"
        );
        assert_eq!(normalized_image("localhost/app"), "localhost/app:latest");
    }
}
