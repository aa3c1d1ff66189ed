//! The scheduler's cache: every node with the pods bound (or assumed) to it, kept up to date from
//! watch events, and the per-cycle [`Snapshot`], brought up to date incrementally: every change
//! stamps the node with a new generation, and [`Cache::update_snapshot`] replaces only the nodes
//! newer than the snapshot (kube-scheduler's UpdateSnapshot); nodes are shared `Arc`s, copied
//! on write only when they change. A pod is *assumed* on its node the moment the scheduler picks it, before the
//! binding is written, so the next cycle already counts it; a failed bind forgets it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};

use super::framework::domain_counts::DomainCounts;
use super::framework::{Labels, NodeInfo, PodInfo, Snapshot};
use super::queue::pod_key;

/// Stamps a node that just changed with the next generation.
fn stamp(generation: &mut u64, recent: &mut BTreeMap<u64, Arc<str>>, info: &mut Arc<NodeInfo>) {
    *generation += 1;
    let node = Arc::make_mut(info);
    recent.remove(&node.generation);
    node.generation = *generation;
    recent.insert(*generation, node.name.clone());
}

#[derive(Default)]
pub struct Cache {
    nodes: BTreeMap<String, Arc<NodeInfo>>,
    /// Pods on a node that does not exist (yet), kept until it appears.
    orphans: HashMap<String, Vec<Arc<PodInfo>>>,
    /// Each pod's node and its entry there (the same `Arc` as in the node's list).
    pods: HashMap<String, (String, Arc<PodInfo>)>,
    /// Namespaces' labels, for inter-pod affinity's namespace selectors; shared with every
    /// snapshot until one changes.
    namespaces: Arc<HashMap<String, Labels>>,
    /// Pods per topology domain for the selectors pods asked about, kept current here.
    domain_counts: Arc<DomainCounts>,
    /// The last generation handed out; each node carries the one of its latest change.
    generation: u64,
    /// The nodes by the generation of their latest change (kube-scheduler keeps them in a list
    /// ordered by recency), so a snapshot finds what changed without looking at every node.
    recent: BTreeMap<u64, Arc<str>>,
    /// Bumped when a node is added or removed: snapshots older than this are rebuilt.
    node_set_generation: u64,
    /// The pods' label sets, one shared copy of each (pods of one template have the same).
    labels: Interned,
}

/// One shared copy of each label set in use; sets no pod holds any more are swept as the set
/// grows.
#[derive(Default)]
struct Interned {
    sets: std::collections::HashSet<Arc<Labels>>,
    sweep_at: usize,
}

impl Interned {
    fn intern(&mut self, labels: Arc<Labels>) -> Arc<Labels> {
        if let Some(shared) = self.sets.get(&*labels) {
            return shared.clone();
        }
        if self.sets.len() >= self.sweep_at {
            self.sets.retain(|l| Arc::strong_count(l) > 1);
            self.sweep_at = (self.sets.len() * 2).max(64);
        }
        self.sets.insert(labels.clone());
        labels
    }
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
        let added = !self.nodes.contains_key(&name);
        for p in pods {
            info.add_pod(p);
        }
        if let Some(old) = self.nodes.get(&name)
            && *old.images == *info.images
        {
            // Unchanged images keep sharing one map with the snapshot.
            info.images = old.images.clone();
        }
        let mut info = Arc::new(info);
        stamp(&mut self.generation, &mut self.recent, &mut info);
        self.nodes.insert(name, info);
        if added {
            self.node_set_generation = self.generation;
        }
    }

    pub fn remove_node(&mut self, name: &str) {
        if let Some(info) = self.nodes.remove(name) {
            self.recent.remove(&info.generation);
            self.generation += 1;
            self.node_set_generation = self.generation;
            self.domain_counts.clear();
            self.orphans.insert(name.to_string(), info.pods.clone());
        }
    }

    /// A pod bound (or assumed) to `node`; replaces an earlier entry for the same pod.
    pub fn add_pod(&mut self, pod: Arc<Pod>, node: &str) {
        let key = pod_key(&pod);
        self.remove_pod(&key);
        let mut info = PodInfo::new(pod);
        info.labels = info.labels.take().map(|l| self.labels.intern(l));
        let info = Arc::new(info);
        self.pods.insert(key, (node.to_string(), info.clone()));
        match self.nodes.get_mut(node) {
            Some(n) => {
                self.domain_counts.pod_added(&info, n);
                Arc::make_mut(n).add_pod(info);
                stamp(&mut self.generation, &mut self.recent, n);
            }
            None => self.orphans.entry(node.to_string()).or_default().push(info),
        }
    }

    pub fn remove_pod(&mut self, key: &str) {
        let Some((node, entry)) = self.pods.remove(key) else {
            return;
        };
        if let Some(n) = self.nodes.get_mut(&node) {
            if let Some(info) = Arc::make_mut(n).take_entry(&entry) {
                self.domain_counts.pod_removed(&info, n);
                stamp(&mut self.generation, &mut self.recent, n);
            }
        } else if let Some(list) = self.orphans.get_mut(&node) {
            list.retain(|p| !Arc::ptr_eq(p, &entry));
        }
    }

    /// The pod as the cache has it: bound, or assumed (then not `bound`).
    pub fn pod(&self, key: &str) -> Option<&Arc<PodInfo>> {
        self.pods.get(key).map(|(_, info)| info)
    }

    pub fn node_of(&self, key: &str) -> Option<&str> {
        self.pods.get(key).map(|(node, _)| node.as_str())
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

    pub fn node_names(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }

    /// A snapshot of every node, built from scratch.
    pub fn snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot::default();
        self.update_snapshot(&mut snapshot);
        snapshot
    }

    /// Brings `snapshot` up to date: only the nodes changed since it was last updated are
    /// replaced (all of them when nodes were added or removed meanwhile). Nominated pods are
    /// the caller's.
    pub fn update_snapshot(&self, snapshot: &mut Snapshot) {
        if snapshot.node_set_generation != self.node_set_generation
            || snapshot.nodes.len() != self.nodes.len()
        {
            snapshot.rebuild(self.nodes.values().cloned().collect());
        } else {
            for name in self.recent.range(snapshot.generation + 1..).map(|(_, n)| n) {
                let updated = self
                    .nodes
                    .get(&**name)
                    .is_some_and(|n| snapshot.update_node(n.clone()));
                if !updated {
                    snapshot.rebuild(self.nodes.values().cloned().collect());
                    break;
                }
            }
        }
        snapshot.generation = self.generation;
        snapshot.node_set_generation = self.node_set_generation;
        snapshot.namespace_labels = self.namespaces.clone();
        snapshot.domain_counts = self.domain_counts.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugins::testing::{node, pod};
    use serde_json::json;

    fn with_image(name: &str, image: &str) -> Arc<Node> {
        let mut n = (*node(name, &[("zone", "a")]).node).clone();
        n.status.get_or_insert_default().images =
            Some(vec![k8s_openapi::api::core::v1::ContainerImage {
                names: Some(vec![image.into()]),
                size_bytes: Some(100),
            }]);
        Arc::new(n)
    }

    /// What a snapshot shows, to compare an updated one with one built from scratch.
    fn view(s: &Snapshot) -> Vec<String> {
        let mut out: Vec<String> = s
            .nodes
            .iter()
            .map(|n| {
                let mut pods: Vec<&str> = n.pods.iter().map(|p| p.key.as_str()).collect();
                pods.sort();
                format!("{} {:?} {}m", n.name, pods, n.requested.milli_cpu)
            })
            .collect();
        let mut images: Vec<_> = s.image_nodes.iter().collect();
        images.sort();
        out.push(format!("{images:?}"));
        let names = |it: &mut dyn Iterator<Item = &Arc<NodeInfo>>| {
            let mut v: Vec<String> = it.map(|n| n.name.to_string()).collect();
            v.sort();
            v
        };
        out.push(format!("{:?}", names(&mut s.nodes_with_affinity())));
        out.push(format!(
            "{:?}",
            names(&mut s.nodes_with_required_anti_affinity())
        ));
        out
    }

    #[test]
    fn an_updated_snapshot_replaces_only_the_nodes_that_changed() {
        let mut cache = Cache::default();
        for n in ["a", "b", "c"] {
            cache.upsert_node(node(n, &[]).node);
        }
        let mut snap = Snapshot::default();
        cache.update_snapshot(&mut snap);
        assert_eq!(snap.nodes.len(), 3);
        let before: Vec<_> = snap.nodes.clone();

        let p = pod(
            "p",
            &[],
            json!({"containers": [{"name": "c", "image": "x",
            "resources": {"requests": {"cpu": "100m"}}}]}),
        );
        cache.add_pod(Arc::new(p), "b");
        cache.update_snapshot(&mut snap);
        let b = snap.get("b").unwrap();
        assert_eq!(b.pods.len(), 1);
        assert_eq!(b.requested.milli_cpu, 100);
        assert!(!Arc::ptr_eq(b, &before[1]));
        // Untouched nodes are the very same objects: nothing was copied for them.
        assert!(Arc::ptr_eq(snap.get("a").unwrap(), &before[0]));
        assert!(Arc::ptr_eq(snap.get("c").unwrap(), &before[2]));
        // The snapshot of the previous cycle still sees the node as it was.
        assert!(before[1].pods.is_empty());
    }

    #[test]
    fn an_updated_snapshot_matches_one_built_from_scratch() {
        let mut cache = Cache::default();
        let mut snap = Snapshot::default();
        // A fixed pseudo-random sequence of node and pod changes.
        let mut seed: u64 = 7;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let anti = json!({"containers": [{"name": "c", "image": "x"}],
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "w"}}}]}}});
        for step in 0..400 {
            let n = format!("n{}", next(6));
            match next(6) {
                0 => cache.upsert_node(node(&n, &[("zone", "a")]).node),
                1 => cache.upsert_node(with_image(&n, &format!("img{}", next(3)))),
                2 => cache.remove_node(&n),
                3 => {
                    let spec = if next(2) == 0 {
                        anti.clone()
                    } else {
                        json!({"containers": [{"name": "c", "image": "x",
                            "resources": {"requests": {"cpu": "10m"}}}]})
                    };
                    let p = pod(&format!("p{}", next(20)), &[("app", "w")], spec);
                    cache.add_pod(Arc::new(p), &n);
                }
                _ => cache.remove_pod(&format!("default/p{}", next(20))),
            }
            if step % 3 == 0 {
                cache.update_snapshot(&mut snap);
                assert_eq!(view(&snap), view(&cache.snapshot()), "step {step}");
            }
        }
    }

    #[test]
    fn pods_with_the_same_labels_share_one_copy_and_unused_sets_are_swept() {
        let mut cache = Cache::default();
        cache.upsert_node(node("n1", &[("zone", "a")]).node.clone());
        let labels_of = |cache: &Cache, key: &str| cache.pod(key).unwrap().labels.clone().unwrap();
        for i in 0..3 {
            let p = pod(&format!("web-{i}"), &[("app", "web")], json!({}));
            cache.add_pod(Arc::new(p), "n1");
        }
        let p = pod("db", &[("app", "db")], json!({}));
        cache.add_pod(Arc::new(p), "n1");
        let web = labels_of(&cache, "default/web-0");
        assert!(Arc::ptr_eq(&web, &labels_of(&cache, "default/web-2")));
        assert!(!Arc::ptr_eq(&web, &labels_of(&cache, "default/db")));
        assert_eq!(web.get("app").map(String::as_str), Some("web"));
        drop(web);
        // Once no pod has a set, the next sweep lets it go.
        cache.remove_pod("default/db");
        for i in 0..64 {
            let p = pod(&format!("x-{i}"), &[("app", &format!("x{i}"))], json!({}));
            cache.add_pod(Arc::new(p), "n1");
        }
        assert!(
            !cache
                .labels
                .sets
                .iter()
                .any(|l| l.get("app").map(String::as_str) == Some("db")),
            "the db set is swept"
        );
        assert!(
            cache
                .labels
                .sets
                .iter()
                .any(|l| l.get("app").map(String::as_str) == Some("web"))
        );
    }
}
