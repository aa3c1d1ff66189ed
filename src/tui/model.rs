//! What the TUI knows of the cluster: pods, nodes and events as the API's watches delivered them
//! (the reflector's rule: a re-list replaces the view whole at `InitDone`), kept sorted, plus
//! each node's requested resources kept up to date pod by pod so no frame sums every pod.
//!
//! Of each pod the TUI keeps its row ([`PodRow`]), not the decoded pod: ~10 KB a pod with the
//! defaults, 100 MB for 10,000. The views of one pod (describe, YAML, why, edit) read it from
//! the API through [`Model::reader`]; without one (tests) the model keeps every pod it is given.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;

use crate::api::Kind;
use crate::api::http::table::PodColumns;
use crate::api::runtime::watcher;
use crate::scheduler::framework::resource::{Resource, pod_requests};

/// `(namespace, name)`.
pub type ObjKey = (String, String);

fn key_of<K: Kind>(obj: &K) -> ObjKey {
    let m = obj.metadata();
    (
        m.namespace.clone().unwrap_or_default(),
        m.name.clone().unwrap_or_default(),
    )
}

/// The pod's key on the trace bus (its etcd key).
pub fn trace_key(key: &ObjKey) -> String {
    format!("/registry/pods/{}/{}", key.0, key.1)
}

/// One object that changed: its key, what it was and what it is now.
pub type Change<V> = (ObjKey, Option<V>, Option<V>);

/// One kind's objects (as `V`, what the model keeps of each), sorted by key, following a
/// watcher stream.
#[derive(Debug)]
pub struct Objects<V> {
    pub items: BTreeMap<ObjKey, V>,
    relist: Option<BTreeMap<ObjKey, V>>,
    /// True once the first list arrived.
    pub synced: bool,
}

impl<V> Default for Objects<V> {
    fn default() -> Self {
        Objects {
            items: BTreeMap::new(),
            relist: None,
            synced: false,
        }
    }
}

impl<V: Clone> Objects<V> {
    /// Applies one watcher event, keeping `keep(obj)` of each object; returns the objects that
    /// changed as `(key, old, new)` so derived indexes can follow.
    pub fn apply<K: Kind>(
        &mut self,
        ev: watcher::Event<K>,
        keep: impl Fn(Arc<K>) -> V,
    ) -> Vec<Change<V>> {
        match ev {
            watcher::Event::Init => {
                self.relist = Some(BTreeMap::new());
                Vec::new()
            }
            watcher::Event::InitApply(obj) => {
                if let Some(r) = &mut self.relist {
                    r.insert(key_of(&*obj), keep(obj));
                }
                Vec::new()
            }
            watcher::Event::InitDone => {
                self.synced = true;
                let Some(new) = self.relist.take() else {
                    return Vec::new();
                };
                let old = std::mem::replace(&mut self.items, new);
                let mut changes: Vec<_> = self
                    .items
                    .iter()
                    .filter(|(k, _)| !old.contains_key(*k))
                    .map(|(k, n)| (k.clone(), None, Some(n.clone())))
                    .collect();
                for (k, o) in old {
                    let n = self.items.get(&k).cloned();
                    changes.push((k, Some(o), n));
                }
                changes
            }
            watcher::Event::Apply(new) => {
                let k = key_of(&*new);
                let new = keep(new);
                let old = self.items.insert(k.clone(), new.clone());
                vec![(k, old, Some(new))]
            }
            watcher::Event::Delete(obj) => {
                let k = key_of(&*obj);
                let old = self.items.remove(&k);
                vec![(k, old, None)]
            }
        }
    }
}

/// What the TUI keeps of one pod: its row as the API server's printer computes it (the times
/// AGE and RESTARTS count from kept as times), its node, what it holds of that node, and when
/// a crash-looping container restarts.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRow {
    pub columns: PodColumns,
    pub node: Option<String>,
    /// The requests it holds of its node (`pods` = 1) while bound and not finished.
    holds: Option<Resource>,
    /// When its first crash-looping container is restarted (the STATUS countdown).
    pub crash_retry_at: Option<Timestamp>,
}

impl PodRow {
    pub fn of(pod: &Pod) -> PodRow {
        PodRow {
            columns: PodColumns::of(pod),
            node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            holds: holds_resources(pod),
            crash_retry_at: crate::tui::backoff::crash_loop_retry_at(pod).map(|(_, at)| at),
        }
    }
}

/// A pod holds its node's resources while bound, until it finishes.
fn holds_resources(pod: &Pod) -> Option<Resource> {
    pod.spec.as_ref()?.node_name.as_ref()?;
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    let mut r = pod_requests(pod, false);
    r.pods = 1;
    Some(r)
}

/// Reads one pod from the API (in-process: the store's current revision, decoded once and
/// shared with the other in-process readers).
pub type PodReader = Arc<dyn Fn(&ObjKey) -> Option<Arc<Pod>> + Send + Sync>;

/// A reader of the in-process API server.
pub fn api_reader(server: &crate::api::ApiServer) -> PodReader {
    let server = server.clone();
    Arc::new(move |(ns, name): &ObjKey| server.get_shared::<Pod>(Some(ns), name).ok())
}

/// Pods, nodes, events, and what each node's pods request.
#[derive(Default)]
pub struct Model {
    pub pods: Objects<PodRow>,
    pub nodes: Objects<Arc<Node>>,
    pub events: Objects<Arc<Event>>,
    /// Where the views of one pod read it. `None`: from `full`, every pod as delivered.
    pub reader: Option<PodReader>,
    full: HashMap<ObjKey, Arc<Pod>>,
    /// Requests of the pods bound to each node that still hold resources.
    requested: HashMap<String, Resource>,
    /// The pods bound to each node, finished or not (the node's chips).
    on_node: HashMap<String, BTreeSet<ObjKey>>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("pods", &self.pods.items.len())
            .field("nodes", &self.nodes.items.len())
            .field("events", &self.events.items.len())
            .field("reader", &self.reader.is_some())
            .finish()
    }
}

impl Model {
    pub fn apply_pod(&mut self, ev: watcher::Event<Pod>) -> Vec<ObjKey> {
        let relisted = matches!(ev, watcher::Event::InitDone);
        if self.reader.is_none() {
            match &ev {
                watcher::Event::InitApply(p) | watcher::Event::Apply(p) => {
                    self.full.insert(key_of(&**p), p.clone());
                }
                watcher::Event::Delete(p) => {
                    self.full.remove(&key_of(&**p));
                }
                watcher::Event::Init | watcher::Event::InitDone => {}
            }
        }
        let changes = self.pods.apply(ev, |p| PodRow::of(&p));
        if relisted && self.reader.is_none() {
            // A re-list drops what it no longer has.
            let pods = &self.pods.items;
            self.full.retain(|k, _| pods.contains_key(k));
        }
        let mut keys = Vec::with_capacity(changes.len());
        for (k, old, new) in changes {
            if let Some(old) = &old
                && let (Some(node), Some(r)) = (&old.node, &old.holds)
                && let Some(total) = self.requested.get_mut(node)
            {
                total.sub(r);
            }
            if let Some(new) = &new
                && let (Some(node), Some(r)) = (&new.node, &new.holds)
            {
                self.requested.entry(node.clone()).or_default().add(r);
            }
            let old_node = old.as_ref().and_then(|o| o.node.as_ref());
            let new_node = new.as_ref().and_then(|n| n.node.as_ref());
            if old_node != new_node {
                if let Some(node) = old_node
                    && let Some(on) = self.on_node.get_mut(node)
                {
                    on.remove(&k);
                    if on.is_empty() {
                        self.on_node.remove(node);
                    }
                }
                if let Some(node) = new_node {
                    self.on_node
                        .entry(node.clone())
                        .or_default()
                        .insert(k.clone());
                }
            }
            keys.push(k);
        }
        keys
    }

    /// The pod itself, as the API has it now (or as last delivered, without a reader).
    pub fn pod(&self, key: &ObjKey) -> Option<Arc<Pod>> {
        match &self.reader {
            Some(read) => read(key),
            None => self.full.get(key).cloned(),
        }
    }

    pub fn apply_node(&mut self, ev: watcher::Event<Node>) {
        self.nodes.apply(ev, |n| n);
    }

    pub fn apply_event(&mut self, ev: watcher::Event<Event>) {
        self.events.apply(ev, |e| e);
    }

    /// What the pods bound to `node` request (`pods` counts them).
    pub fn requested(&self, node: &str) -> Resource {
        self.requested.get(node).copied().unwrap_or_default()
    }

    /// The pods bound to `node`, in key order.
    pub fn pods_on<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a PodRow> + 'a {
        let on = self.on_node.get(node);
        on.into_iter()
            .flatten()
            .filter_map(|k| self.pods.items.get(k))
    }

    /// How many pods are bound to `node`.
    pub fn pods_on_count(&self, node: &str) -> usize {
        self.on_node.get(node).map_or(0, BTreeSet::len)
    }

    /// The events about one pod, oldest first (by last time seen).
    pub fn events_for(&self, key: &ObjKey) -> Vec<&Arc<Event>> {
        let mut out: Vec<_> = self
            .events
            .items
            .values()
            .filter(|e| {
                let o = &e.involved_object;
                o.kind.as_deref() == Some("Pod")
                    && o.name.as_deref() == Some(key.1.as_str())
                    && o.namespace.as_deref().unwrap_or("default") == key.0
            })
            .collect();
        out.sort_by_key(|e| last_seen(e));
        out
    }
}

/// When an event was last seen: `lastTimestamp`, else `eventTime`, else its creation.
pub fn last_seen(e: &Event) -> Option<k8s_openapi::jiff::Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, node: Option<&str>, cpu: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "nodeName": node,
                "containers": [{"name": "app", "image": "busybox",
                    "resources": {"requests": {"cpu": cpu}}}]
            },
            "status": {"phase": "Running"}
        }))
        .unwrap()
    }

    #[test]
    fn requests_follow_binding_deletion_and_relists() {
        let mut m = Model::default();
        m.apply_pod(watcher::Event::Apply(pod("a", None, "500m").into()));
        assert_eq!(m.requested("node-1").milli_cpu, 0);
        m.apply_pod(watcher::Event::Apply(
            pod("a", Some("node-1"), "500m").into(),
        ));
        m.apply_pod(watcher::Event::Apply(
            pod("b", Some("node-1"), "250m").into(),
        ));
        assert_eq!(m.requested("node-1").milli_cpu, 750);
        assert_eq!(m.requested("node-1").pods, 2);
        m.apply_pod(watcher::Event::Delete(
            pod("a", Some("node-1"), "500m").into(),
        ));
        assert_eq!(m.requested("node-1").milli_cpu, 250);
        // A re-list that no longer has b.
        m.apply_pod(watcher::Event::Init);
        m.apply_pod(watcher::Event::InitApply(
            pod("c", Some("node-1"), "1").into(),
        ));
        m.apply_pod(watcher::Event::InitDone);
        assert_eq!(m.requested("node-1").milli_cpu, 1000);
        assert_eq!(m.pods.items.len(), 1);
    }

    fn on(m: &Model, node: &str) -> Vec<String> {
        assert_eq!(m.pods_on(node).count(), m.pods_on_count(node));
        m.pods_on(node).map(|p| p.columns.name.clone()).collect()
    }

    #[test]
    fn each_node_lists_its_pods_through_binding_finishing_deletion_and_relists() {
        let mut m = Model::default();
        m.apply_pod(watcher::Event::Apply(pod("b", None, "1m").into()));
        assert!(on(&m, "node-1").is_empty());
        for (name, node) in [("b", "node-1"), ("a", "node-1"), ("c", "node-2")] {
            m.apply_pod(watcher::Event::Apply(pod(name, Some(node), "1m").into()));
        }
        assert_eq!(on(&m, "node-1"), ["a", "b"]);
        assert_eq!(on(&m, "node-2"), ["c"]);
        // A finished pod holds no resources but stays on its node's chips.
        let mut done = pod("a", Some("node-1"), "1m");
        done.status.as_mut().unwrap().phase = Some("Succeeded".into());
        m.apply_pod(watcher::Event::Apply(done.into()));
        assert_eq!(on(&m, "node-1"), ["a", "b"]);
        assert_eq!(m.requested("node-1").pods, 1);
        m.apply_pod(watcher::Event::Delete(
            pod("b", Some("node-1"), "1m").into(),
        ));
        assert_eq!(on(&m, "node-1"), ["a"]);
        // A re-list: a is gone, c moved (deleted and made again elsewhere), d is new.
        m.apply_pod(watcher::Event::Init);
        for (name, node) in [("c", "node-1"), ("d", "node-2")] {
            m.apply_pod(watcher::Event::InitApply(
                pod(name, Some(node), "1m").into(),
            ));
        }
        m.apply_pod(watcher::Event::InitDone);
        assert_eq!(on(&m, "node-1"), ["c"]);
        assert_eq!(on(&m, "node-2"), ["d"]);
        assert!(on(&m, "node-3").is_empty());
    }
}
