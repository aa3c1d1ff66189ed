//! The scheduling queue, as kube-scheduler's PriorityQueue: three sub-queues.
//!
//! - **activeQ**: pods ready to be tried, highest `spec.priority` first, then earliest arrival
//!   (the PrioritySort plugin's order).
//! - **backoffQ**: pods that failed an attempt and wait out their back-off: 1 s doubling per
//!   attempt to at most 10 s.
//! - **unschedulable**: pods no node fits. They go back when a cluster event could help them (a
//!   node added or changed, a pod deleted, their own spec changed), or after 5 minutes at most.
//!   An event that comes while a pod is being scheduled counts for it when it fails.
//!
//! The queue also keeps the nominator: which pending pods wait for which node after preempting
//! on it (`status.nominatedNodeName`, or the scheduler's own nomination before that status update
//! comes back), so that less important pods do not take the room meanwhile.
//!
//! Time comes from tokio's clock, so tests run on a paused clock.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Back-off after the first failed attempt.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Back-off never grows past this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// An unschedulable pod is retried at least this often, event or not.
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(5 * 60);

/// `namespace/name`.
pub type PodKey = String;

pub fn pod_key(pod: &Pod) -> PodKey {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or("")
    )
}

fn priority(pod: &Pod) -> i32 {
    crate::scheduler::framework::pod_priority(pod)
}

fn nominated_node_name(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .unwrap_or("")
}

fn resource_version(pod: &Pod) -> u64 {
    pod.metadata
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0)
}

/// A pod in the queue and what the queue knows about it.
#[derive(Debug, Clone)]
pub struct QueuedPod {
    pub pod: Arc<Pod>,
    pub key: PodKey,
    /// Failed scheduling attempts so far.
    pub attempts: u32,
    /// When the pod first entered the queue (the tie-breaker after priority).
    pub arrived: Instant,
    /// When the current wait (back-off or unschedulable) started.
    pub since: Instant,
    /// The plugins that rejected the pod in its last attempt (kube-scheduler's
    /// `UnschedulablePlugins`): an assigned pod's arrival only moves pods that one of them
    /// could now let in.
    pub unschedulable_plugins: Vec<&'static str>,
}

impl QueuedPod {
    /// The back-off this pod waits after its attempts: 1 s, 2 s, 4 s, 8 s, then 10 s.
    pub fn backoff(&self) -> Duration {
        if self.attempts == 0 {
            return Duration::ZERO;
        }
        let shift = (self.attempts - 1).min(16);
        INITIAL_BACKOFF.saturating_mul(1 << shift).min(MAX_BACKOFF)
    }

    pub fn backoff_until(&self) -> Instant {
        self.since + self.backoff()
    }
}

/// Ordering in activeQ: higher priority first, then earlier arrival, then key.
struct Active(QueuedPod);

impl PartialEq for Active {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Active {}
impl PartialOrd for Active {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Active {
    fn cmp(&self, other: &Self) -> Ordering {
        priority(&self.0.pod)
            .cmp(&priority(&other.0.pod))
            .then_with(|| other.0.arrived.cmp(&self.0.arrived))
            .then_with(|| other.0.key.cmp(&self.0.key))
    }
}

/// Ordering in backoffQ: the earliest expiry on top.
struct Backoff(QueuedPod);

impl PartialEq for Backoff {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Backoff {}
impl PartialOrd for Backoff {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Backoff {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .backoff_until()
            .cmp(&self.0.backoff_until())
            .then_with(|| other.0.key.cmp(&self.0.key))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Active,
    Backoff,
    Unschedulable,
    /// Popped and being scheduled right now.
    InFlight,
}

/// Why an attempt failed, which decides where the pod waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No node fits: wait for a cluster event (or 5 minutes).
    Unschedulable,
    /// Something went wrong (a bind conflict, an API error): back off and retry.
    Error,
}

/// A cluster change that may make unschedulable pods schedulable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterEvent {
    NodeAdded,
    NodeChanged,
    PodDeleted,
    /// A pod was bound to a node, or a bound pod's labels changed (kube-scheduler's
    /// AssignedPodAdd / AssignedPodUpdate).
    AssignedPodAdded,
    AssignedPodUpdated,
}

/// The plugins that register for assigned pods' adds and label updates (their
/// EventsToRegister): a new pod in a domain can satisfy an affinity term or lower a domain's
/// skew. NodeResourcesFit and the others only gain from deletions, already an event of its own.
const PLUGINS_FOR_ASSIGNED_PODS: [&str; 2] = ["InterPodAffinity", "PodTopologySpread"];

impl ClusterEvent {
    /// Whether this event may help a pod that these plugins rejected (the queueing hint):
    /// node and deletion events move every pod, as before; an assigned pod's arrival only
    /// those rejected by a plugin that counts existing pods.
    fn may_help(self, plugins: &[&'static str]) -> bool {
        match self {
            ClusterEvent::NodeAdded | ClusterEvent::NodeChanged | ClusterEvent::PodDeleted => true,
            ClusterEvent::AssignedPodAdded | ClusterEvent::AssignedPodUpdated => plugins
                .iter()
                .any(|p| PLUGINS_FOR_ASSIGNED_PODS.contains(p)),
        }
    }
}

/// One pod as the queue view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub key: PodKey,
    pub lane: Lane,
    pub priority: i32,
    pub attempts: u32,
    /// When it will be tried again (backoff expiry or the 5-minute flush); `None` when active.
    pub retry_at: Option<Instant>,
}

#[derive(Default)]
struct Lanes {
    active: BinaryHeap<Active>,
    backoff: BinaryHeap<Backoff>,
    unschedulable: HashMap<PodKey, QueuedPod>,
    /// Where each known pod is. Heap entries whose key maps elsewhere (or nowhere) are stale and
    /// skipped when popped: removal from a heap is lazy.
    lane: HashMap<PodKey, (Lane, u64)>,
    /// The latest version of each pod, by key.
    latest: HashMap<PodKey, QueuedPod>,
    generation: u64,
    /// Cluster events so far, and how many there had been when each in-flight pod was popped
    /// (node and deletion events in `events`; assigned pods' adds and updates in
    /// `pod_events`, which only count for pods some plugin of which they may help).
    events: u64,
    pod_events: u64,
    popped_at: HashMap<PodKey, (u64, u64)>,
    /// The nominator: pod → (nominated node, the pod).
    nominated: HashMap<PodKey, (String, Arc<Pod>)>,
}

pub struct SchedulingQueue {
    lanes: std::sync::Mutex<Lanes>,
    ready: Notify,
}

impl Default for SchedulingQueue {
    fn default() -> Self {
        SchedulingQueue::new()
    }
}

impl SchedulingQueue {
    pub fn new() -> Self {
        SchedulingQueue {
            lanes: std::sync::Mutex::new(Lanes::default()),
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new pending pod: straight to activeQ.
    pub fn add(&self, pod: Arc<Pod>) {
        let now = Instant::now();
        let key = pod_key(&pod);
        let mut lanes = self.lock();
        if lanes.latest.contains_key(&key) {
            drop(lanes);
            self.update(pod);
            return;
        }
        let nominated = nominated_node_name(&pod);
        if !nominated.is_empty() {
            lanes
                .nominated
                .insert(key.clone(), (nominated.to_string(), pod.clone()));
        }
        let qp = QueuedPod {
            pod,
            key,
            attempts: 0,
            arrived: now,
            since: now,
            unschedulable_plugins: Vec::new(),
        };
        lanes.put(qp, Lane::Active);
        drop(lanes);
        self.ready.notify_one();
    }

    /// The pod changed. An unschedulable pod whose spec changed gets another try at once (its
    /// own change may be what it needed); elsewhere the new version replaces the old.
    pub fn update(&self, pod: Arc<Pod>) {
        let key = pod_key(&pod);
        let mut lanes = self.lock();
        let Some(mut qp) = lanes.latest.get(&key).cloned() else {
            drop(lanes);
            self.add(pod);
            return;
        };
        let spec_changed = qp.pod.spec != pod.spec;
        lanes.update_nomination(&key, &qp.pod, &pod);
        qp.pod = pod;
        let lane = lanes.lane.get(&key).map_or(Lane::Active, |(l, _)| *l);
        match lane {
            Lane::Unschedulable if spec_changed => {
                lanes.unschedulable.remove(&key);
                lanes.put(qp, Lane::Active);
                drop(lanes);
                self.ready.notify_one();
            }
            Lane::Unschedulable => {
                lanes.unschedulable.insert(key.clone(), qp.clone());
                lanes.latest.insert(key, qp);
            }
            Lane::InFlight => {
                lanes.latest.insert(key, qp);
            }
            Lane::Active | Lane::Backoff => lanes.put(qp, lane),
        }
    }

    /// The pod was deleted or bound: forget it.
    pub fn delete(&self, key: &str) {
        let mut lanes = self.lock();
        lanes.lane.remove(key);
        lanes.latest.remove(key);
        lanes.unschedulable.remove(key);
        lanes.popped_at.remove(key);
        lanes.nominated.remove(key);
    }

    /// Nominates a queued pod to `node` after it preempted there, or clears its nomination
    /// (`node` empty), ahead of the status update saying so (AddNominatedPod, override mode).
    pub fn nominate(&self, pod: Arc<Pod>, node: &str) {
        let key = pod_key(&pod);
        let mut lanes = self.lock();
        lanes.nominated.remove(&key);
        if !node.is_empty() && lanes.latest.contains_key(&key) {
            lanes.nominated.insert(key, (node.to_string(), pod));
        }
    }

    /// The pod was assumed on a node: it no longer waits for one (DeleteNominatedPodIfExists).
    pub fn forget_nomination(&self, key: &str) {
        self.lock().nominated.remove(key);
    }

    /// Every nominated pod and its node.
    pub fn nominated_pods(&self) -> Vec<(String, Arc<Pod>)> {
        let lanes = self.lock();
        let mut out: Vec<(String, Arc<Pod>)> = lanes.nominated.values().cloned().collect();
        out.sort_by_key(|(node, pod)| (node.clone(), pod_key(pod)));
        out
    }

    /// The next pod to schedule, waiting until there is one.
    pub async fn pop(&self) -> QueuedPod {
        loop {
            let notified = self.ready.notified();
            if let Some(qp) = self.try_pop() {
                return qp;
            }
            let next_backoff = self.next_backoff_expiry();
            match next_backoff {
                Some(at) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// The next pod if one is ready now (after moving expired back-offs to activeQ).
    pub fn try_pop(&self) -> Option<QueuedPod> {
        let now = Instant::now();
        let mut lanes = self.lock();
        lanes.flush_backoff(now);
        lanes.flush_unschedulable(now);
        while let Some(Active(qp)) = lanes.active.pop() {
            if lanes.is_current(&qp.key, Lane::Active, &qp) {
                let latest = lanes.latest.get(&qp.key).cloned().unwrap_or(qp);
                let generation = lanes.next_generation();
                lanes
                    .lane
                    .insert(latest.key.clone(), (Lane::InFlight, generation));
                let events = (lanes.events, lanes.pod_events);
                lanes.popped_at.insert(latest.key.clone(), events);
                return Some(latest);
            }
        }
        None
    }

    fn next_backoff_expiry(&self) -> Option<Instant> {
        let lanes = self.lock();
        let backoff = lanes.backoff.peek().map(|b| b.0.backoff_until());
        let unschedulable = lanes
            .unschedulable
            .values()
            .map(|qp| qp.since + MAX_UNSCHEDULABLE)
            .min();
        match (backoff, unschedulable) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// An attempt failed: the pod waits in backoffQ (errors) or the unschedulable lane — unless
    /// a cluster event came while it was being scheduled, which may have been the one it needs:
    /// then it only backs off.
    pub fn requeue(&self, mut qp: QueuedPod, failure: Failure) {
        let mut lanes = self.lock();
        let popped_at = lanes.popped_at.remove(&qp.key);
        // Deleted while in flight: drop it.
        if !lanes.latest.contains_key(&qp.key) {
            return;
        }
        // The newer of the two: the queue's (from the watch) or the caller's (its own write).
        if let Some(latest) = lanes.latest.get(&qp.key)
            && resource_version(&latest.pod) >= resource_version(&qp.pod)
        {
            qp.pod = latest.pod.clone();
        }
        qp.attempts += 1;
        qp.since = Instant::now();
        let missed_event = popped_at.is_some_and(|(events, pod_events)| {
            events < lanes.events
                || (pod_events < lanes.pod_events
                    && ClusterEvent::AssignedPodAdded.may_help(&qp.unschedulable_plugins))
        });
        match failure {
            Failure::Error => lanes.put(qp, Lane::Backoff),
            Failure::Unschedulable if missed_event => lanes.put(qp, Lane::Backoff),
            Failure::Unschedulable => {
                let generation = lanes.next_generation();
                lanes
                    .lane
                    .insert(qp.key.clone(), (Lane::Unschedulable, generation));
                lanes.latest.insert(qp.key.clone(), qp.clone());
                lanes.unschedulable.insert(qp.key.clone(), qp);
            }
        }
        drop(lanes);
        self.ready.notify_one();
    }

    /// A cluster event: every unschedulable pod it may help (by the plugins that rejected it)
    /// moves to backoffQ if its back-off has not run out yet, else to activeQ
    /// (MoveAllToActiveOrBackoffQueue with queueing hints).
    pub fn on_cluster_event(&self, event: ClusterEvent) {
        let now = Instant::now();
        let mut lanes = self.lock();
        match event {
            ClusterEvent::AssignedPodAdded | ClusterEvent::AssignedPodUpdated => {
                lanes.pod_events += 1
            }
            _ => lanes.events += 1,
        }
        if lanes.unschedulable.is_empty() {
            return;
        }
        let keys: Vec<PodKey> = lanes
            .unschedulable
            .iter()
            .filter(|(_, qp)| event.may_help(&qp.unschedulable_plugins))
            .map(|(k, _)| k.clone())
            .collect();
        let moved: Vec<QueuedPod> = keys
            .iter()
            .filter_map(|k| lanes.unschedulable.remove(k))
            .collect();
        let any = !moved.is_empty();
        for qp in moved {
            let lane = if qp.backoff_until() > now {
                Lane::Backoff
            } else {
                Lane::Active
            };
            lanes.put(qp, lane);
        }
        drop(lanes);
        if any {
            self.ready.notify_one();
        }
    }

    /// A read-only view of the three lanes, for the TUI's queue view.
    pub fn view(&self) -> Vec<QueueEntry> {
        let lanes = self.lock();
        let mut out: Vec<QueueEntry> = lanes
            .lane
            .iter()
            .filter_map(|(key, (lane, _))| {
                let qp = lanes.latest.get(key)?;
                let retry_at = match lane {
                    Lane::Backoff => Some(qp.backoff_until()),
                    Lane::Unschedulable => Some(qp.since + MAX_UNSCHEDULABLE),
                    Lane::Active | Lane::InFlight => None,
                };
                Some(QueueEntry {
                    key: key.clone(),
                    lane: *lane,
                    priority: priority(&qp.pod),
                    attempts: qp.attempts,
                    retry_at,
                })
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    pub fn len(&self) -> usize {
        self.lock().lane.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Lanes {
    /// A new version of a queued pod (updateNominatedPod): its status decides its nomination,
    /// except that an update still without one keeps the scheduler's own nomination.
    fn update_nomination(&mut self, key: &str, old: &Pod, new: &Arc<Pod>) {
        let kept = self.nominated.remove(key).map(|(node, _)| node);
        let node = match nominated_node_name(new) {
            "" if nominated_node_name(old).is_empty() => kept,
            "" => None,
            n => Some(n.to_string()),
        };
        if let Some(node) = node {
            self.nominated.insert(key.to_string(), (node, new.clone()));
        }
    }

    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    fn put(&mut self, qp: QueuedPod, lane: Lane) {
        let generation = self.next_generation();
        self.lane.insert(qp.key.clone(), (lane, generation));
        self.latest.insert(qp.key.clone(), qp.clone());
        match lane {
            Lane::Active => self.active.push(Active(qp)),
            Lane::Backoff => self.backoff.push(Backoff(qp)),
            Lane::Unschedulable => {
                self.unschedulable.insert(qp.key.clone(), qp);
            }
            Lane::InFlight => {}
        }
    }

    /// True when a heap entry is the pod's live position (not a stale copy).
    fn is_current(&self, key: &str, lane: Lane, qp: &QueuedPod) -> bool {
        match (self.lane.get(key), self.latest.get(key)) {
            (Some((l, _)), Some(latest)) => {
                *l == lane && latest.since == qp.since && latest.attempts == qp.attempts
            }
            _ => false,
        }
    }

    fn flush_backoff(&mut self, now: Instant) {
        while let Some(top) = self.backoff.peek() {
            if top.0.backoff_until() > now {
                break;
            }
            let Some(Backoff(qp)) = self.backoff.pop() else {
                break;
            };
            if self.is_current(&qp.key, Lane::Backoff, &qp) {
                let latest = self.latest.get(&qp.key).cloned().unwrap_or(qp);
                self.put(latest, Lane::Active);
            }
        }
    }

    fn flush_unschedulable(&mut self, now: Instant) {
        let due: Vec<PodKey> = self
            .unschedulable
            .iter()
            .filter(|(_, qp)| now >= qp.since + MAX_UNSCHEDULABLE)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(qp) = self.unschedulable.remove(&key) {
                self.put(qp, Lane::Active);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, prio: i32) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                priority: Some(prio),
                ..PodSpec::default()
            }),
            ..Pod::default()
        })
    }

    fn names(q: &SchedulingQueue) -> Vec<String> {
        std::iter::from_fn(|| q.try_pop())
            .map(|qp| qp.key)
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn active_queue_orders_by_priority_then_arrival() {
        let q = SchedulingQueue::new();
        q.add(pod("low", 0));
        tokio::time::advance(Duration::from_millis(1)).await;
        q.add(pod("high", 100));
        tokio::time::advance(Duration::from_millis(1)).await;
        q.add(pod("low-later", 0));
        assert_eq!(
            names(&q),
            ["default/high", "default/low", "default/low-later"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_sequence_is_1_2_4_8_10_seconds() {
        let q = SchedulingQueue::new();
        q.add(pod("web", 0));
        let mut qp = q.pop().await;
        let mut waits = Vec::new();
        for _ in 0..6 {
            let failed_at = Instant::now();
            q.requeue(qp, Failure::Error);
            assert!(q.try_pop().is_none(), "not before its back-off");
            qp = q.pop().await;
            waits.push((Instant::now() - failed_at).as_secs());
        }
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(qp.attempts, 6);
    }

    #[tokio::test(start_paused = true)]
    async fn unschedulable_pods_wait_for_a_cluster_event() {
        let q = SchedulingQueue::new();
        q.add(pod("web", 0));
        let qp = q.pop().await;
        q.requeue(qp, Failure::Unschedulable);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(q.try_pop().is_none(), "no event, no retry");
        assert_eq!(q.view()[0].lane, Lane::Unschedulable);
        q.on_cluster_event(ClusterEvent::NodeAdded);
        assert_eq!(q.try_pop().map(|qp| qp.key).as_deref(), Some("default/web"));
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_during_backoff_moves_the_pod_to_backoff_first() {
        let q = SchedulingQueue::new();
        q.add(pod("web", 0));
        let qp = q.pop().await;
        q.requeue(qp, Failure::Unschedulable);
        q.on_cluster_event(ClusterEvent::NodeChanged);
        assert_eq!(q.view()[0].lane, Lane::Backoff);
        assert!(q.try_pop().is_none());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(q.try_pop().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn unschedulable_pods_are_flushed_after_five_minutes() {
        let q = SchedulingQueue::new();
        q.add(pod("web", 0));
        let qp = q.pop().await;
        q.requeue(qp, Failure::Unschedulable);
        let started = Instant::now();
        let again = q.pop().await;
        assert_eq!(again.key, "default/web");
        assert_eq!((Instant::now() - started).as_secs(), 300);
    }

    #[tokio::test(start_paused = true)]
    async fn an_assigned_pod_moves_only_pods_that_affinity_or_spread_rejected() {
        let q = SchedulingQueue::new();
        for (name, plugin) in [
            ("affinity", "InterPodAffinity"),
            ("spread", "PodTopologySpread"),
            ("cpu", "NodeResourcesFit"),
        ] {
            q.add(pod(name, 0));
            let mut qp = q.pop().await;
            qp.unschedulable_plugins = vec![plugin];
            q.requeue(qp, Failure::Unschedulable);
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        q.on_cluster_event(ClusterEvent::AssignedPodAdded);
        let mut moved = Vec::new();
        while let Some(qp) = q.try_pop() {
            moved.push(qp.key);
        }
        moved.sort();
        assert_eq!(moved, ["default/affinity", "default/spread"]);
        let cpu = q
            .view()
            .into_iter()
            .find(|e| e.key == "default/cpu")
            .unwrap();
        assert_eq!(cpu.lane, Lane::Unschedulable);

        // A label change of an assigned pod counts the same; a node event moves everyone.
        q.on_cluster_event(ClusterEvent::AssignedPodUpdated);
        assert!(q.try_pop().is_none());
        q.on_cluster_event(ClusterEvent::NodeAdded);
        assert_eq!(q.try_pop().map(|qp| qp.key).as_deref(), Some("default/cpu"));
    }

    #[tokio::test(start_paused = true)]
    async fn an_assigned_pod_while_in_flight_counts_only_for_affinity_and_spread() {
        let q = SchedulingQueue::new();
        q.add(pod("affinity", 0));
        q.add(pod("cpu", 0));
        let mut a = q.pop().await;
        let mut c = q.pop().await;
        a.unschedulable_plugins = vec!["InterPodAffinity"];
        c.unschedulable_plugins = vec!["NodeResourcesFit"];
        q.on_cluster_event(ClusterEvent::AssignedPodAdded);
        let (a_key, c_key) = (a.key.clone(), c.key.clone());
        q.requeue(a, Failure::Unschedulable);
        q.requeue(c, Failure::Unschedulable);
        let lane = |k: &str| q.view().into_iter().find(|e| e.key == k).unwrap().lane;
        assert_eq!(lane(&a_key), Lane::Backoff);
        assert_eq!(lane(&c_key), Lane::Unschedulable);
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_while_in_flight_is_not_lost() {
        let q = SchedulingQueue::new();
        q.add(pod("web", 0));
        let qp = q.pop().await;
        // A victim's deletion lands while the pod is still being scheduled.
        q.on_cluster_event(ClusterEvent::PodDeleted);
        q.requeue(qp, Failure::Unschedulable);
        assert_eq!(q.view()[0].lane, Lane::Backoff);
        tokio::time::advance(Duration::from_secs(1)).await;
        let qp = q.try_pop().expect("retried after its back-off");

        // Without an event in flight, it waits for one as before.
        q.requeue(qp, Failure::Unschedulable);
        assert_eq!(q.view()[0].lane, Lane::Unschedulable);
    }

    fn nominated(name: &str, prio: i32, node: Option<&str>, rv: &str) -> Arc<Pod> {
        let mut p = (*pod(name, prio)).clone();
        p.metadata.resource_version = Some(rv.into());
        p.status = Some(k8s_openapi::api::core::v1::PodStatus {
            nominated_node_name: node.map(str::to_string),
            ..Default::default()
        });
        Arc::new(p)
    }

    fn nominations(q: &SchedulingQueue) -> Vec<(String, String)> {
        q.nominated_pods()
            .into_iter()
            .map(|(node, p)| (node, pod_key(&p)))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_nominator_follows_the_pods_status_and_the_schedulers_own_word() {
        let q = SchedulingQueue::new();
        // A pod that comes in nominated (after a scheduler restart, say).
        q.add(nominated("a", 10, Some("n1"), "1"));
        q.add(nominated("b", 10, None, "2"));
        assert_eq!(nominations(&q), [("n1".into(), "default/a".into())]);

        // The scheduler nominates b; an update without the status yet keeps it.
        let qp = q.try_pop().unwrap();
        let qp_b = q.try_pop().unwrap();
        assert_eq!(qp_b.key, "default/b");
        q.nominate(qp_b.pod.clone(), "n2");
        q.update(nominated("b", 10, None, "3"));
        assert!(nominations(&q).contains(&("n2".into(), "default/b".into())));

        // Its status says so; then its status clears it.
        q.update(nominated("b", 10, Some("n2"), "4"));
        q.update(nominated("b", 10, None, "5"));
        assert_eq!(nominations(&q), [("n1".into(), "default/a".into())]);

        // The scheduler clears one, and a deleted pod is forgotten.
        q.nominate(qp.pod.clone(), "");
        assert!(nominations(&q).is_empty());
        q.nominate(qp.pod.clone(), "n1");
        q.delete("default/a");
        assert!(nominations(&q).is_empty());
        q.nominate(qp.pod, "n1");
        assert!(
            nominations(&q).is_empty(),
            "a pod not queued is not nominated"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn requeue_keeps_the_newer_of_the_callers_and_the_watchs_pod() {
        let q = SchedulingQueue::new();
        q.add(nominated("web", 0, None, "5"));
        let mut qp = q.pop().await;
        // The scheduler wrote the status (rv 6) before the watch delivered it.
        qp.pod = nominated("web", 0, Some("n1"), "6");
        q.requeue(qp, Failure::Error);
        tokio::time::advance(Duration::from_secs(1)).await;
        let mut qp = q.try_pop().unwrap();
        assert_eq!(qp.pod.metadata.resource_version.as_deref(), Some("6"));
        // The watch got further (rv 7) than the caller's copy.
        q.update(nominated("web", 0, None, "7"));
        qp.pod = nominated("web", 0, Some("n1"), "6");
        q.requeue(qp, Failure::Error);
        tokio::time::advance(Duration::from_secs(2)).await;
        let qp = q.try_pop().unwrap();
        assert_eq!(qp.pod.metadata.resource_version.as_deref(), Some("7"));
    }

    #[tokio::test(start_paused = true)]
    async fn own_spec_change_retries_and_delete_forgets() {
        let q = SchedulingQueue::new();
        q.add(pod("web", 0));
        let qp = q.pop().await;
        q.requeue(qp, Failure::Unschedulable);
        let mut changed = (*pod("web", 0)).clone();
        changed.spec.as_mut().unwrap().node_selector =
            Some([("disk".to_string(), "ssd".to_string())].into());
        q.update(Arc::new(changed));
        let retried = q.try_pop().unwrap();
        assert!(
            retried.pod.spec.as_ref().unwrap().node_selector.is_some(),
            "the latest version is scheduled"
        );
        q.requeue(retried, Failure::Error);
        q.delete("default/web");
        tokio::time::advance(Duration::from_secs(20)).await;
        assert!(q.try_pop().is_none());
        assert!(q.is_empty());
    }
}
