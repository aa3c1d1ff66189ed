//! What the TUI knows of the cluster: pods, nodes and events as the API's watches delivered them
//! (the reflector's rule: a re-list replaces the view whole at `InitDone`), kept sorted, plus
//! each node's requested resources kept up to date pod by pod so no frame sums every pod.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Event, Node, Pod};

use crate::api::Kind;
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
pub type Change<K> = (ObjKey, Option<Arc<K>>, Option<Arc<K>>);

/// One kind's objects, sorted by key, following a watcher stream.
#[derive(Debug)]
pub struct Objects<K> {
    pub items: BTreeMap<ObjKey, Arc<K>>,
    relist: Option<BTreeMap<ObjKey, Arc<K>>>,
    /// True once the first list arrived.
    pub synced: bool,
}

impl<K> Default for Objects<K> {
    fn default() -> Self {
        Objects {
            items: BTreeMap::new(),
            relist: None,
            synced: false,
        }
    }
}

impl<K: Kind> Objects<K> {
    /// Applies one watcher event; returns the objects that changed as `(key, old, new)` so
    /// derived indexes can follow.
    pub fn apply(&mut self, ev: watcher::Event<K>) -> Vec<Change<K>> {
        match ev {
            watcher::Event::Init => {
                self.relist = Some(BTreeMap::new());
                Vec::new()
            }
            watcher::Event::InitApply(obj) => {
                if let Some(r) = &mut self.relist {
                    r.insert(key_of(&*obj), obj);
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

/// Pods, nodes, events, and what each node's pods request.
#[derive(Debug, Default)]
pub struct Model {
    pub pods: Objects<Pod>,
    pub nodes: Objects<Node>,
    pub events: Objects<Event>,
    /// Requests of the pods bound to each node that still hold resources.
    requested: HashMap<String, Resource>,
}

/// A pod holds its node's resources until it finishes.
fn holds_resources(pod: &Pod) -> Option<(&str, Resource)> {
    let node = pod.spec.as_ref()?.node_name.as_deref()?;
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    let mut r = pod_requests(pod, false);
    r.pods = 1;
    Some((node, r))
}

impl Model {
    pub fn apply_pod(&mut self, ev: watcher::Event<Pod>) -> Vec<ObjKey> {
        let changes = self.pods.apply(ev);
        let mut keys = Vec::with_capacity(changes.len());
        for (k, old, new) in changes {
            if let Some((node, r)) = old.as_deref().and_then(holds_resources)
                && let Some(total) = self.requested.get_mut(node)
            {
                total.sub(&r);
            }
            if let Some((node, r)) = new.as_deref().and_then(holds_resources) {
                self.requested.entry(node.to_string()).or_default().add(&r);
            }
            keys.push(k);
        }
        keys
    }

    pub fn apply_node(&mut self, ev: watcher::Event<Node>) {
        self.nodes.apply(ev);
    }

    pub fn apply_event(&mut self, ev: watcher::Event<Event>) {
        self.events.apply(ev);
    }

    /// What the pods bound to `node` request (`pods` counts them).
    pub fn requested(&self, node: &str) -> Resource {
        self.requested.get(node).copied().unwrap_or_default()
    }

    /// The pods bound to `node`, in name order. Linear in the pods: called for the nodes on
    /// screen only.
    pub fn pods_on<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Arc<Pod>> + 'a {
        self.pods
            .items
            .values()
            .filter(move |p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
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
}
