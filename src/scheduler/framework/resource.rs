//! Resource arithmetic as the scheduler does it: what a pod requests (containers summed, init
//! containers as a maximum, overhead added), the non-zero variant used only for scoring (100m CPU
//! and 200 MB for a container that requests nothing), and what a node can allocate.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

use crate::api::quantity::Quantity;

/// CPU a container without a CPU request counts as, for scoring only.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory a container without a memory request counts as, for scoring only (200 MB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resource {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// Pods (for allocatable: how many the node may run).
    pub pods: i64,
}

impl Resource {
    pub fn add(&mut self, other: &Resource) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.pods += other.pods;
    }

    pub fn sub(&mut self, other: &Resource) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.pods -= other.pods;
    }

    fn max(&mut self, other: &Resource) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
    }

    /// From a resource list (requests, limits, capacity). Unparseable quantities count as zero:
    /// the API server already refused them on the way in.
    pub fn from_list(list: Option<&BTreeMap<String, K8sQuantity>>) -> Resource {
        let mut r = Resource::default();
        for (name, q) in list.into_iter().flatten() {
            let Ok(q) = Quantity::from_k8s(q) else {
                continue;
            };
            let clamp = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
            match name.as_str() {
                "cpu" => r.milli_cpu = clamp(q.milli_value()),
                "memory" => r.memory = clamp(q.value()),
                "ephemeral-storage" => r.ephemeral_storage = clamp(q.value()),
                "pods" => r.pods = clamp(q.value()),
                _ => {}
            }
        }
        r
    }
}

fn container_requests(c: &Container) -> Resource {
    Resource::from_list(c.resources.as_ref().and_then(|r| r.requests.as_ref()))
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// What a pod requests: app containers and sidecars summed, each classic init container as a
/// maximum over that sum (it runs alone), plus the pod overhead. `non_zero` applies the scoring
/// defaults to containers that request no CPU or memory.
pub fn pod_requests(pod: &Pod, non_zero: bool) -> Resource {
    let Some(spec) = pod.spec.as_ref() else {
        return Resource::default();
    };
    let req = |c: &Container| {
        let mut r = container_requests(c);
        if non_zero {
            if r.milli_cpu == 0 {
                r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
            }
            if r.memory == 0 {
                r.memory = DEFAULT_MEMORY_REQUEST;
            }
        }
        r
    };
    let mut total = Resource::default();
    for c in &spec.containers {
        total.add(&req(c));
    }
    let mut sidecars = Resource::default();
    let mut init_max = Resource::default();
    for c in spec.init_containers.iter().flatten() {
        if is_sidecar(c) {
            sidecars.add(&req(c));
            init_max.max(&sidecars);
        } else {
            let mut during = req(c);
            during.add(&sidecars);
            init_max.max(&during);
        }
    }
    total.add(&sidecars);
    total.max(&init_max);
    if let Some(overhead) = spec.overhead.as_ref() {
        total.add(&Resource::from_list(Some(overhead)));
    }
    total
}

/// What a node can give to pods: `status.allocatable`, or its capacity when that is missing.
pub fn node_allocatable(node: &Node) -> Resource {
    let status = node.status.as_ref();
    let list = status
        .and_then(|s| s.allocatable.as_ref())
        .or_else(|| status.and_then(|s| s.capacity.as_ref()));
    Resource::from_list(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, ResourceRequirements};

    fn container(cpu: Option<&str>, mem: Option<&str>, sidecar: bool) -> Container {
        let mut requests = BTreeMap::new();
        if let Some(c) = cpu {
            requests.insert("cpu".to_string(), K8sQuantity(c.into()));
        }
        if let Some(m) = mem {
            requests.insert("memory".to_string(), K8sQuantity(m.into()));
        }
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                requests: Some(requests),
                ..ResourceRequirements::default()
            }),
            restart_policy: sidecar.then(|| "Always".to_string()),
            ..Container::default()
        }
    }

    #[test]
    fn requests_sum_containers_and_take_init_maximum() {
        let pod = Pod {
            spec: Some(PodSpec {
                containers: vec![
                    container(Some("100m"), Some("64Mi"), false),
                    container(Some("200m"), None, false),
                ],
                init_containers: Some(vec![container(Some("1"), Some("1Mi"), false)]),
                ..PodSpec::default()
            }),
            ..Pod::default()
        };
        let r = pod_requests(&pod, false);
        assert_eq!((r.milli_cpu, r.memory), (1000, 64 * 1024 * 1024));
        // For scoring, the container with no memory request counts 200 MB.
        let n = pod_requests(&pod, true);
        assert_eq!(n.memory, 64 * 1024 * 1024 + DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn no_requests_count_as_zero_except_for_scoring() {
        let pod = Pod {
            spec: Some(PodSpec {
                containers: vec![container(None, None, false)],
                ..PodSpec::default()
            }),
            ..Pod::default()
        };
        assert_eq!(pod_requests(&pod, false), Resource::default());
        let n = pod_requests(&pod, true);
        assert_eq!((n.milli_cpu, n.memory), (100, 200 * 1024 * 1024));
    }

    #[test]
    fn sidecars_add_to_the_app_containers() {
        let pod = Pod {
            spec: Some(PodSpec {
                containers: vec![container(Some("100m"), None, false)],
                init_containers: Some(vec![container(Some("50m"), None, true)]),
                ..PodSpec::default()
            }),
            ..Pod::default()
        };
        assert_eq!(pod_requests(&pod, false).milli_cpu, 150);
    }
}
