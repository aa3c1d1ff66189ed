//! One decoded object per stored revision, shared by every in-process reader.
//!
//! Every component of kubox list-watches the pods: the scheduler (twice), each kubelet, the node
//! lifecycle controller, the TUI. Decoding a stored pod for each of them would give each its own
//! copy of the same revision (a decoded k8s-openapi `Pod` with status is several KB) and repeat
//! the JSON decode once per watcher. The watch path asks this cache instead: the first reader of
//! `(key, revision)` decodes it, the others get the same `Arc`. Entries are weak, so an object
//! lives exactly as long as some component holds it (the cache keeps nothing alive), and dead
//! entries are swept whenever the map has grown by a quarter of its live size (at least 256)
//! since the last sweep. Until then a dead entry still holds its object's outer allocation (a
//! `Weak` keeps the `Arc`'s block, not the object's contents): ~3 KB for a pod.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::error::ApiError;
use super::resource::Kind;
use super::server::decode;

type Entry = Weak<dyn Any + Send + Sync>;

/// Sweep dead entries once the map has grown by this much beyond its live size.
const MIN_SLACK: usize = 256;

#[derive(Default)]
pub(crate) struct SharedObjects {
    inner: Mutex<Map>,
}

#[derive(Default)]
struct Map {
    entries: HashMap<(Arc<str>, u64), Entry>,
    /// Sweep when `entries` grows past this.
    sweep_at: usize,
}

impl SharedObjects {
    /// The object stored under `key` at revision `rev` (its `resourceVersion`), decoded from
    /// `value` by the first caller and shared with the rest.
    pub(crate) fn get<K: Kind>(
        &self,
        key: &Arc<str>,
        rev: u64,
        value: &[u8],
    ) -> Result<Arc<K>, ApiError> {
        let id = (key.clone(), rev);
        if let Some(obj) = self.lookup::<K>(&id) {
            return Ok(obj);
        }
        // Decoded outside the lock: readers of other objects do not wait for this one.
        let mut decoded: K = decode(value, rev)?;
        // Kept by the components for as long as the object lives: no spare room.
        decoded.shrink_to_fit();
        let obj = Arc::new(decoded);
        let mut map = self.map();
        if let Some(theirs) = map.entries.get(&id).and_then(upgrade::<K>) {
            // Another reader decoded it meanwhile: share theirs.
            return Ok(theirs);
        }
        let weak: Arc<dyn Any + Send + Sync> = obj.clone();
        map.entries.insert(id, Arc::downgrade(&weak));
        if map.entries.len() > map.sweep_at {
            map.entries.retain(|_, w| w.strong_count() > 0);
            let live = map.entries.len();
            map.sweep_at = live + (live / 4).max(MIN_SLACK);
        }
        Ok(obj)
    }

    /// How many decoded objects under `prefix` something still holds.
    pub(crate) fn alive(&self, prefix: &str) -> usize {
        self.map()
            .entries
            .iter()
            .filter(|((key, _), w)| key.starts_with(prefix) && w.strong_count() > 0)
            .count()
    }

    fn lookup<K: Kind>(&self, id: &(Arc<str>, u64)) -> Option<Arc<K>> {
        self.map().entries.get(id).and_then(upgrade::<K>)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, Map> {
        // The map holds no invariant a panicking holder could break.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map().entries.len()
    }
}

fn upgrade<K: Kind>(weak: &Entry) -> Option<Arc<K>> {
    weak.upgrade()?.downcast::<K>().ok()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Node, Pod};

    use super::*;

    fn stored(name: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"metadata": {"name": name}})).unwrap()
    }

    #[test]
    fn readers_of_one_revision_share_one_object() {
        let shared = SharedObjects::default();
        let key: Arc<str> = "/registry/pods/default/web".into();
        let a: Arc<Pod> = shared.get(&key, 7, &stored("web")).unwrap();
        let b: Arc<Pod> = shared.get(&key, 7, &stored("web")).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.metadata.resource_version.as_deref(), Some("7"));
        // Another revision is another object.
        let c: Arc<Pod> = shared.get(&key, 8, &stored("web")).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.metadata.resource_version.as_deref(), Some("8"));
    }

    #[test]
    fn the_cache_keeps_nothing_alive_and_sweeps_dead_entries() {
        let shared = SharedObjects::default();
        let key: Arc<str> = "/registry/pods/default/web".into();
        let first: Arc<Pod> = shared.get(&key, 1, &stored("web")).unwrap();
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(
            weak.upgrade().is_none(),
            "no strong reference stays in the cache"
        );
        // Decoded again once nobody holds it.
        let again: Arc<Pod> = shared.get(&key, 1, &stored("web")).unwrap();
        assert_eq!(again.metadata.name.as_deref(), Some("web"));
        for rev in 2..(MIN_SLACK as u64 * 4) {
            let _dropped: Arc<Pod> = shared.get(&key, rev, &stored("web")).unwrap();
        }
        assert!(
            shared.len() <= MIN_SLACK + 2,
            "dead entries are swept: {} left",
            shared.len()
        );
    }

    #[test]
    fn a_reader_of_another_kind_gets_its_own_decode() {
        let shared = SharedObjects::default();
        let key: Arc<str> = "/registry/things/x".into();
        let pod: Arc<Pod> = shared.get(&key, 3, &stored("x")).unwrap();
        let node: Arc<Node> = shared.get(&key, 3, &stored("x")).unwrap();
        assert_eq!(pod.metadata.name, node.metadata.name);
    }

    #[test]
    fn unreadable_bytes_are_an_error_not_a_cached_object() {
        let shared = SharedObjects::default();
        let key: Arc<str> = "/registry/pods/default/bad".into();
        let err = shared.get::<Pod>(&key, 1, b"{not json").unwrap_err();
        assert_eq!(err.code, 500);
        assert!(shared.get::<Pod>(&key, 1, &stored("bad")).is_ok());
    }
}
