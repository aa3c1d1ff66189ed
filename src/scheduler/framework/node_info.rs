//! What the scheduler knows about a node: the Node, the pods on it (bound or assumed), their
//! summed requests, the host ports in use and the images present. A [`Snapshot`] of all nodes
//! (and of the pods nominated to them by preemption) is taken once per scheduling cycle and
//! never changes under the plugins.
//!
//! Pods' inter-pod (anti-)affinity terms are parsed once, when the pod enters the cache (as
//! kube-scheduler's framework.PodInfo does), so plugins never re-parse selectors per cycle.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Affinity, Node, Pod, PodAffinityTerm, WeightedPodAffinityTerm};

use super::resource::{Resource, node_allocatable, pod_requests};
use crate::api::selector::LabelSelector;

pub type Labels = BTreeMap<String, String>;

/// A parsed `PodAffinityTerm` (framework.AffinityTerm).
#[derive(Debug, Clone)]
pub struct AffinityTerm {
    /// The namespaces listed, or the pod's own when neither `namespaces` nor `namespaceSelector`
    /// is given (usually one or two: a sorted set is cheaper to search than a hashed one).
    pub namespaces: BTreeSet<String>,
    /// A nil `labelSelector` matches nothing; an empty one everything.
    pub selector: LabelSelector,
    pub topology_key: String,
    /// A nil `namespaceSelector` matches nothing; an empty one every namespace.
    pub namespace_selector: LabelSelector,
}

fn as_selector(
    s: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
) -> Result<LabelSelector, String> {
    LabelSelector::from_k8s_option(s).map_err(|e| e.to_string())
}

pub fn pod_namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("")
}

/// What label selectors read of a pod: its namespace and labels. A decoded pod answers, and so
/// does the scheduler's record of a placed pod ([`PodInfo`]).
pub trait Selectable {
    fn namespace(&self) -> &str;
    fn labels(&self) -> Option<&Labels>;
}

impl Selectable for Pod {
    fn namespace(&self) -> &str {
        pod_namespace(self)
    }
    fn labels(&self) -> Option<&Labels> {
        self.metadata.labels.as_ref()
    }
}

impl Selectable for PodInfo {
    fn namespace(&self) -> &str {
        &self.namespace
    }
    fn labels(&self) -> Option<&Labels> {
        self.labels.as_deref()
    }
}

impl AffinityTerm {
    /// framework.newAffinityTerm.
    pub fn new(pod: &Pod, term: &PodAffinityTerm) -> Result<Self, String> {
        let selector = as_selector(term.label_selector.as_ref())?;
        let listed = term.namespaces.as_deref().unwrap_or(&[]);
        let namespaces = if listed.is_empty() && term.namespace_selector.is_none() {
            BTreeSet::from([pod_namespace(pod).to_string()])
        } else {
            listed.iter().cloned().collect()
        };
        let namespace_selector = as_selector(term.namespace_selector.as_ref())?;
        Ok(AffinityTerm {
            namespaces,
            selector,
            topology_key: term.topology_key.clone(),
            namespace_selector,
        })
    }

    /// Whether `pod` is in the term's namespaces (or in one its namespace selector picks, given
    /// the pod's namespace labels) and its labels match the selector.
    pub fn matches<P: Selectable + ?Sized>(
        &self,
        pod: &P,
        namespace_labels: Option<&Labels>,
    ) -> bool {
        (self.namespaces.contains(pod.namespace())
            || self.namespace_selector.matches(namespace_labels))
            && self.selector.matches(pod.labels())
    }
}

#[derive(Debug, Clone)]
pub struct WeightedAffinityTerm {
    pub term: AffinityTerm,
    pub weight: i32,
}

/// A pod's inter-pod affinity and anti-affinity terms, parsed.
#[derive(Debug, Clone, Default)]
pub struct PodAffinityTerms {
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<WeightedAffinityTerm>,
    pub preferred_anti_affinity: Vec<WeightedAffinityTerm>,
}

fn required_terms(
    pod: &Pod,
    terms: Option<&Vec<PodAffinityTerm>>,
) -> Result<Vec<AffinityTerm>, String> {
    terms
        .into_iter()
        .flatten()
        .map(|t| AffinityTerm::new(pod, t))
        .collect()
}

fn weighted_terms(
    pod: &Pod,
    terms: Option<&Vec<WeightedPodAffinityTerm>>,
) -> Result<Vec<WeightedAffinityTerm>, String> {
    terms
        .into_iter()
        .flatten()
        .map(|t| {
            Ok(WeightedAffinityTerm {
                term: AffinityTerm::new(pod, &t.pod_affinity_term)?,
                weight: t.weight,
            })
        })
        .collect()
}

/// The parsed list, or an empty one with the error noted.
fn keep<T>(errors: &mut Vec<String>, what: &str, parsed: Result<Vec<T>, String>) -> Vec<T> {
    parsed.unwrap_or_else(|e| {
        errors.push(format!("{what}: {e}"));
        Vec::new()
    })
}

impl PodAffinityTerms {
    /// framework.PodInfo.Update: each of the four lists is parsed on its own; a list with a bad
    /// selector is left empty and its error is returned (joined as utilerrors.NewAggregate).
    pub fn parse(pod: &Pod) -> (Self, Option<String>) {
        let affinity: Option<&Affinity> = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
        let pa = affinity.and_then(|a| a.pod_affinity.as_ref());
        let paa = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let mut errors = Vec::new();
        let terms = PodAffinityTerms {
            required_affinity: keep(
                &mut errors,
                "requiredAffinityTerms",
                required_terms(
                    pod,
                    pa.and_then(|a| {
                        a.required_during_scheduling_ignored_during_execution
                            .as_ref()
                    }),
                ),
            ),
            required_anti_affinity: keep(
                &mut errors,
                "requiredAntiAffinityTerms",
                required_terms(
                    pod,
                    paa.and_then(|a| {
                        a.required_during_scheduling_ignored_during_execution
                            .as_ref()
                    }),
                ),
            ),
            preferred_affinity: keep(
                &mut errors,
                "preferredAffinityTerms",
                weighted_terms(
                    pod,
                    pa.and_then(|a| {
                        a.preferred_during_scheduling_ignored_during_execution
                            .as_ref()
                    }),
                ),
            ),
            preferred_anti_affinity: keep(
                &mut errors,
                "preferredAntiAffinityTerms",
                weighted_terms(
                    pod,
                    paa.and_then(|a| {
                        a.preferred_during_scheduling_ignored_during_execution
                            .as_ref()
                    }),
                ),
            ),
        };
        let error = match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(format!("[{}]", errors.join(", "))),
        };
        (terms, error)
    }
}

/// Whether the pod has any inter-pod affinity or anti-affinity (kube-scheduler's podWithAffinity).
pub fn has_pod_affinity(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .is_some_and(|a| a.pod_affinity.is_some() || a.pod_anti_affinity.is_some())
}

/// One pod as the scheduler accounts for it: what its plugins read of a pod already placed,
/// not the decoded pod. The cache holds one per pod in the cluster; a decoded pod with the
/// defaults is ~10 KB, this is a few hundred bytes.
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub key: String,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// Shared by the pods with the same labels (the cache interns them: pods of one template
    /// would otherwise each keep a map node of ~500 bytes).
    pub labels: Option<Arc<Labels>>,
    /// `spec.nodeName` is set (not only assumed by the scheduler).
    pub bound: bool,
    /// `metadata.deletionTimestamp` is set.
    pub terminating: bool,
    /// Being deleted because the scheduler preempted it (its DisruptionTarget condition).
    pub terminating_by_preemption: bool,
    pub priority: i32,
    /// `status.startTime`.
    pub start_time: Option<k8s_openapi::jiff::Timestamp>,
    pub host_ports: Vec<HostPort>,
    /// Any inter-pod affinity or anti-affinity in its spec ([`has_pod_affinity`]).
    pub has_affinity: bool,
    pub requests: Resource,
    /// Requests with the scoring defaults (100m CPU, 200 MB) for containers that request none.
    pub non_zero: Resource,
    /// Its inter-pod (anti-)affinity terms; a list whose selector does not parse is empty.
    pub affinity: PodAffinityTerms,
}

/// The same pod: one key, one uid.
impl PartialEq for PodInfo {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.uid == other.uid
    }
}

impl PodInfo {
    pub fn new(pod: Arc<Pod>) -> Self {
        let key = crate::scheduler::queue::pod_key(&pod);
        let mut requests = pod_requests(&pod, false);
        requests.pods = 1;
        let mut non_zero = pod_requests(&pod, true);
        non_zero.pods = 1;
        // kube-scheduler logs the parse error of a pod already placed and goes on without the
        // bad terms; the incoming pod's are re-parsed (and reported) by InterPodAffinity.
        let (affinity, _) = PodAffinityTerms::parse(&pod);
        let meta = &pod.metadata;
        PodInfo {
            name: meta.name.clone().unwrap_or_default(),
            namespace: pod_namespace(&pod).to_string(),
            uid: meta.uid.clone().unwrap_or_default(),
            labels: meta.labels.clone().map(Arc::new),
            bound: pod.spec.as_ref().is_some_and(|s| s.node_name.is_some()),
            terminating: meta.deletion_timestamp.is_some(),
            terminating_by_preemption:
                crate::scheduler::plugins::default_preemption::terminating_by_preemption(&pod),
            priority: super::pod_priority(&pod),
            start_time: pod
                .status
                .as_ref()
                .and_then(|s| s.start_time.as_ref())
                .map(|t| t.0),
            host_ports: host_ports(&pod),
            has_affinity: has_pod_affinity(&pod),
            key,
            requests,
            non_zero,
            affinity,
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
    /// Shared with every verdict and score row that names the node: naming it copies nothing.
    pub name: Arc<str>,
    pub pods: Vec<Arc<PodInfo>>,
    /// The pods with any inter-pod affinity or anti-affinity (NodeInfo.PodsWithAffinity).
    pub pods_with_affinity: Vec<Arc<PodInfo>>,
    /// The pods with required anti-affinity terms (NodeInfo.PodsWithRequiredAntiAffinity).
    pub pods_with_required_anti_affinity: Vec<Arc<PodInfo>>,
    /// Sum of the pods' requests (`pods` = how many pods).
    pub requested: Resource,
    pub non_zero_requested: Resource,
    pub allocatable: Resource,
    pub used_ports: HashSet<HostPort>,
    /// Images present on the node (`status.images`), by every name, with their size in bytes;
    /// shared by the copies a pod change makes.
    pub images: Arc<HashMap<String, i64>>,
    /// `spec.unschedulable`, and whether `spec.taints` has any: read by the filters of every
    /// node examined, so kept next to the rest instead of behind the `Node`.
    pub unschedulable: bool,
    pub has_taints: bool,
    /// The cache's change counter when this node (or a pod on it) last changed: a snapshot
    /// re-copies only nodes newer than itself (kube-scheduler's NodeInfo.Generation).
    pub generation: u64,
}

impl NodeInfo {
    pub fn new(node: Arc<Node>) -> Self {
        let name: Arc<str> = node.metadata.name.as_deref().unwrap_or_default().into();
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
            name,
            pods: Vec::new(),
            pods_with_affinity: Vec::new(),
            pods_with_required_anti_affinity: Vec::new(),
            requested: Resource::default(),
            non_zero_requested: Resource::default(),
            allocatable,
            used_ports: HashSet::new(),
            images: Arc::new(images),
            unschedulable: node
                .spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false),
            has_taints: node
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .is_some_and(|t| !t.is_empty()),
            generation: 0,
            node,
        }
    }

    pub fn add_pod(&mut self, info: Arc<PodInfo>) {
        self.requested.add(&info.requests);
        self.non_zero_requested.add(&info.non_zero);
        self.used_ports.extend(info.host_ports.iter().cloned());
        if info.has_affinity {
            self.pods_with_affinity.push(info.clone());
        }
        if !info.affinity.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity.push(info.clone());
        }
        self.pods.push(info);
    }

    /// Removes a pod by key; returns whether it was there.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        self.take_pod(key).is_some()
    }

    /// Removes a pod by key and returns it.
    pub fn take_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let i = self.pods.iter().position(|p| p.key == key)?;
        Some(self.take_at(i))
    }

    /// Removes this very entry (the cache's own `Arc`, found by address rather than by
    /// comparing keys) and returns it.
    pub fn take_entry(&mut self, info: &Arc<PodInfo>) -> Option<Arc<PodInfo>> {
        let i = self.pods.iter().position(|p| Arc::ptr_eq(p, info))?;
        Some(self.take_at(i))
    }

    fn take_at(&mut self, i: usize) -> Arc<PodInfo> {
        let info = self.pods.swap_remove(i);
        if info.has_affinity {
            self.pods_with_affinity.retain(|p| !Arc::ptr_eq(p, &info));
        }
        if !info.affinity.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity
                .retain(|p| !Arc::ptr_eq(p, &info));
        }
        self.requested.sub(&info.requests);
        self.non_zero_requested.sub(&info.non_zero);
        // Ports are a set over all the pods: rebuilt only when the pod held any.
        if !info.host_ports.is_empty() {
            self.used_ports = self
                .pods
                .iter()
                .flat_map(|p| p.host_ports.iter().cloned())
                .collect();
        }
        info
    }

    pub fn labels(&self) -> Option<&Labels> {
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

/// All nodes as one scheduling cycle sees them. The scheduler keeps one and brings it up to
/// date before each cycle with [`Snapshot::update_node`] for the nodes that changed since
/// (kube-scheduler's Cache.UpdateSnapshot), so a cycle copies no more than what changed.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub nodes: Vec<Arc<NodeInfo>>,
    /// Where each node is in `nodes`.
    index: HashMap<Arc<str>, usize>,
    /// The nodes (positions in `nodes`) with pods that have any inter-pod affinity, and with
    /// pods that have required anti-affinity (HavePodsWithAffinityList,
    /// HavePodsWithRequiredAntiAffinityList).
    with_affinity: Vec<usize>,
    with_required_anti_affinity: Vec<usize>,
    /// How many nodes hold each (normalized) image: ImageLocality's spread factor.
    pub image_nodes: Arc<HashMap<String, usize>>,
    /// Every namespace's labels, for inter-pod affinity's namespace selectors (the
    /// namespace lister kube-scheduler's InterPodAffinity reads).
    pub namespace_labels: Arc<HashMap<String, Labels>>,
    /// Pending pods nominated to each node by an earlier preemption (the queue's nominator):
    /// the filters count those at least as important as the pod at hand as if they ran there.
    pub nominated: HashMap<String, Vec<Arc<PodInfo>>>,
    /// Per-domain pod counts the cache keeps current (PodTopologySpread's fast path).
    pub domain_counts: Arc<super::domain_counts::DomainCounts>,
    /// The cache generation this snapshot is current with, and the cache's node-set generation
    /// it was built from (a node added or removed means a full rebuild).
    pub generation: u64,
    pub node_set_generation: u64,
}

impl Snapshot {
    pub fn new(nodes: Vec<Arc<NodeInfo>>) -> Self {
        let mut s = Snapshot::default();
        s.rebuild(nodes);
        s
    }

    /// Takes `nodes` as the whole node list, recomputing every index.
    pub fn rebuild(&mut self, nodes: Vec<Arc<NodeInfo>>) {
        let mut image_nodes = HashMap::new();
        for n in &nodes {
            for image in n.images.keys() {
                *image_nodes.entry(image.clone()).or_insert(0) += 1;
            }
        }
        self.index = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        self.nodes = nodes;
        self.image_nodes = Arc::new(image_nodes);
        self.reindex_affinity();
    }

    fn reindex_affinity(&mut self) {
        self.with_affinity.clear();
        self.with_required_anti_affinity.clear();
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.pods_with_affinity.is_empty() {
                self.with_affinity.push(i);
            }
            if !n.pods_with_required_anti_affinity.is_empty() {
                self.with_required_anti_affinity.push(i);
            }
        }
    }

    /// Replaces a node already in the snapshot with its newer version; returns false when the
    /// node is not there (the caller then rebuilds).
    pub fn update_node(&mut self, info: Arc<NodeInfo>) -> bool {
        let Some(&i) = self.index.get(&info.name) else {
            return false;
        };
        let old = std::mem::replace(&mut self.nodes[i], info);
        let new = &self.nodes[i];
        if !Arc::ptr_eq(&old.images, &new.images) && old.images != new.images {
            let counts = Arc::make_mut(&mut self.image_nodes);
            for image in old.images.keys() {
                if let Some(c) = counts.get_mut(image) {
                    *c -= 1;
                    if *c == 0 {
                        counts.remove(image);
                    }
                }
            }
            for image in new.images.keys() {
                *counts.entry(image.clone()).or_insert(0) += 1;
            }
        }
        if old.pods_with_affinity.is_empty() != new.pods_with_affinity.is_empty()
            || old.pods_with_required_anti_affinity.is_empty()
                != new.pods_with_required_anti_affinity.is_empty()
        {
            self.reindex_affinity();
        }
        true
    }

    pub fn with_domain_counts(mut self, counts: Arc<super::domain_counts::DomainCounts>) -> Self {
        self.domain_counts = counts;
        self
    }

    pub fn with_namespaces(mut self, namespace_labels: Arc<HashMap<String, Labels>>) -> Self {
        self.namespace_labels = namespace_labels;
        self
    }

    /// The same nodes, with the pods nominated to them.
    pub fn with_nominated(mut self, nominated: HashMap<String, Vec<Arc<PodInfo>>>) -> Self {
        self.nominated = nominated;
        self
    }

    pub fn nominated_pods_for_node(&self, node: &str) -> &[Arc<PodInfo>] {
        if self.nominated.is_empty() {
            return &[];
        }
        self.nominated.get(node).map_or(&[], Vec::as_slice)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<NodeInfo>> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    /// The nodes with pods that have any inter-pod affinity or anti-affinity.
    pub fn nodes_with_affinity(&self) -> impl Iterator<Item = &Arc<NodeInfo>> {
        self.with_affinity.iter().map(|&i| &self.nodes[i])
    }

    /// The nodes with pods that have required anti-affinity.
    pub fn nodes_with_required_anti_affinity(&self) -> impl Iterator<Item = &Arc<NodeInfo>> {
        self.with_required_anti_affinity
            .iter()
            .map(|&i| &self.nodes[i])
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
