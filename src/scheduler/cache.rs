//! The scheduler's cache: every node with the pods bound (or assumed) to it, kept up to date from
//! watch events, and a cheap per-cycle [`Snapshot`] (nodes are shared `Arc`s, copied only when
//! they change). A pod is *assumed* on its node the moment the scheduler picks it, before the
//! binding is written, so the next cycle already counts it; a failed bind forgets it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};

use super::framework::domain_counts::DomainCounts;
use super::framework::{Labels, NodeInfo, PodInfo, Snapshot};
use super::queue::pod_key;

#[derive(Default)]
pub struct Cache {
    nodes: BTreeMap<String, Arc<NodeInfo>>,
    /// Pods on a node that does not exist (yet), kept until it appears.
    orphans: HashMap<String, Vec<Arc<PodInfo>>>,
    pod_node: HashMap<String, String>,
    /// Namespaces' labels, for inter-pod affinity's namespace selectors; shared with every
    /// snapshot until one changes.
    namespaces: Arc<HashMap<String, Labels>>,
    /// Pods per topology domain for the selectors pods asked about, kept current here.
    domain_counts: Arc<DomainCounts>,
}

impl Cache {
    pub fn upsert_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let mut info = NodeInfo::new(node);
        let pods = match self.nodes.get(&name) {
            Some(old) => {
                if old.labels() != info.labels() {
                    self.domain_counts.clear();
                }
                old.pods.clone()
            }
            None => {
                self.domain_counts.clear();
                self.orphans.remove(&name).unwrap_or_default()
            }
        };
        for p in pods {
            info.add_pod(p);
        }
        self.nodes.insert(name, Arc::new(info));
    }

    pub fn remove_node(&mut self, name: &str) {
        if let Some(info) = self.nodes.remove(name) {
            self.domain_counts.clear();
            self.orphans.insert(name.to_string(), info.pods.clone());
        }
    }

    /// A pod bound (or assumed) to `node`; replaces an earlier entry for the same pod.
    pub fn add_pod(&mut self, pod: Arc<Pod>, node: &str) {
        let key = pod_key(&pod);
        self.remove_pod(&key);
        let info = Arc::new(PodInfo::new(pod));
        match self.nodes.get_mut(node) {
            Some(n) => {
                self.domain_counts.pod_added(&info, n);
                Arc::make_mut(n).add_pod(info);
            }
            None => self.orphans.entry(node.to_string()).or_default().push(info),
        }
        self.pod_node.insert(key, node.to_string());
    }

    pub fn remove_pod(&mut self, key: &str) {
        let Some(node) = self.pod_node.remove(key) else {
            return;
        };
        if let Some(n) = self.nodes.get_mut(&node) {
            if let Some(info) = Arc::make_mut(n).take_pod(key) {
                self.domain_counts.pod_removed(&info, n);
            }
        } else if let Some(list) = self.orphans.get_mut(&node) {
            list.retain(|p| p.key != key);
        }
    }

    pub fn node_of(&self, key: &str) -> Option<&str> {
        self.pod_node.get(key).map(String::as_str)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn upsert_namespace(&mut self, ns: &Namespace) {
        let name = ns.metadata.name.clone().unwrap_or_default();
        let labels = ns.metadata.labels.clone().unwrap_or_default();
        if self.namespaces.get(&name) != Some(&labels) {
            Arc::make_mut(&mut self.namespaces).insert(name, labels);
        }
    }

    pub fn remove_namespace(&mut self, name: &str) {
        if self.namespaces.contains_key(name) {
            Arc::make_mut(&mut self.namespaces).remove(name);
        }
    }

    pub fn namespace_names(&self) -> Vec<String> {
        self.namespaces.keys().cloned().collect()
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.nodes.values().cloned().collect())
            .with_namespaces(self.namespaces.clone())
            .with_domain_counts(self.domain_counts.clone())
    }
}
