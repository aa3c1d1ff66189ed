//! Matching pods per topology domain, kept up to date by the cache as pods come and go, so
//! PodTopologySpread does not rescan every node's pods each cycle (../shared/perf.md: precompute
//! per-domain counters). A counter is registered the first time a pod asks for it (computed
//! once by a scan), then maintained on every pod added to or removed from a node; node changes
//! that touch labels clear them all. Bounded: the least recently registered goes first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::node_info::{NodeInfo, PodInfo};
use crate::api::selector::LabelSelector;

/// Counters kept at most.
const KEPT: usize = 64;

/// What is counted: pods of `namespace` picked by `selector`, per value of `topology_key`, over
/// every node carrying that key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CounterKey {
    pub namespace: String,
    pub topology_key: String,
    /// The selector's canonical form.
    pub selector: String,
}

struct Counter {
    selector: LabelSelector,
    counts: HashMap<String, i64>,
}

#[derive(Default)]
struct Inner {
    counters: HashMap<CounterKey, Counter>,
    order: VecDeque<CounterKey>,
}

#[derive(Default)]
pub struct DomainCounts {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for DomainCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainCounts")
            .field("counters", &self.lock().counters.len())
            .finish()
    }
}

/// Whether `pod` counts for `selector` in `namespace` (countPodsMatchSelector: terminating pods
/// do not; an empty selector counts nothing).
pub fn counts(pod: &PodInfo, selector: &LabelSelector, namespace: &str) -> bool {
    !selector.is_empty()
        && !pod.terminating
        && pod.namespace == namespace
        && selector.matches(pod.labels.as_deref())
}

impl DomainCounts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The counts for `key`, registering them with `compute` (a full scan) the first time.
    pub fn get_or_compute(
        &self,
        key: &CounterKey,
        selector: &LabelSelector,
        compute: impl FnOnce() -> HashMap<String, i64>,
    ) -> HashMap<String, i64> {
        if let Some(c) = self.lock().counters.get(key) {
            return c.counts.clone();
        }
        let counts = compute();
        let mut inner = self.lock();
        if inner.order.len() >= KEPT
            && let Some(old) = inner.order.pop_front()
        {
            inner.counters.remove(&old);
        }
        inner.order.push_back(key.clone());
        inner.counters.insert(
            key.clone(),
            Counter {
                selector: selector.clone(),
                counts: counts.clone(),
            },
        );
        counts
    }

    /// `pod` now runs (or is assumed) on `node`: +1 where it counts.
    pub fn pod_added(&self, pod: &PodInfo, node: &NodeInfo) {
        self.apply(pod, node, 1);
    }

    /// `pod` left `node`: −1 where it counted.
    pub fn pod_removed(&self, pod: &PodInfo, node: &NodeInfo) {
        self.apply(pod, node, -1);
    }

    fn apply(&self, pod: &PodInfo, node: &NodeInfo, delta: i64) {
        let mut inner = self.lock();
        if inner.counters.is_empty() {
            return;
        }
        let labels = node.labels();
        for (key, counter) in inner.counters.iter_mut() {
            let Some(value) = labels.and_then(|l| l.get(&key.topology_key)) else {
                continue;
            };
            if counts(pod, &counter.selector, &key.namespace)
                && let Some(n) = counter.counts.get_mut(value)
            {
                *n += delta;
            }
        }
    }

    /// Node labels changed, or nodes came or went: every counter starts over.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.counters.clear();
        inner.order.clear();
    }
}
