//! The scheduler as a running component: an API client like kube-scheduler. It list-watches
//! nodes, namespaces and bound pods (for the cache) and unbound pods of `default-scheduler` (for
//! the queue), and
//! runs one cycle per popped pod: decide, assume, bind through `pods/binding`, and tell what
//! happened with Kubernetes' events and the `PodScheduled` condition. When no node fits and
//! preemption found room, it carries the preemption out through the API: each victim gets the
//! `DisruptionTarget` condition, a graceful delete and a `Preempted` event, and the pod gets
//! `status.nominatedNodeName` and waits, unschedulable, until the victims' deletion moves it.
//! Every decision is kept in [`Records`] for "why" views.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, PodCondition};
use k8s_openapi::jiff::Timestamp;
use tokio_util::sync::CancellationToken;

use super::cache::Cache;
use super::framework::{Framework, PodInfo, PostFilterResult, Snapshot, pod_priority};
use super::plugins::default_framework;
use super::plugins::default_preemption::{
    DISRUPTION_TARGET, MESSAGE_PREFIX, REASON_PREEMPTED, REASON_PREEMPTION_BY_SCHEDULER,
    disruption_message, preempted_message,
};
use super::queue::{ClusterEvent, Failure, QueuedPod, SchedulingQueue, pod_key};
use super::schedule_one::{Decision, Outcome, schedule};
use crate::api::events::object_reference;
use crate::api::runtime::{Event, watcher};
use crate::api::server::{now, set_pod_condition};
use crate::api::{
    Api, ApiError, ApiServer, Caller, DeleteParams, EventRecorder, EventType, ListParams,
};
use crate::trace::{Actor, StepDraft, TraceBus};

/// The scheduler's name in pods' `spec.schedulerName` and in its events' source.
pub const SCHEDULER_NAME: &str = "default-scheduler";
/// Pods whose decisions are remembered, and attempts per pod.
const RECORDED_PODS: usize = 1000;
const RECORDED_ATTEMPTS: usize = 10;

/// One scheduling attempt, as remembered.
#[derive(Debug, Clone)]
pub struct DecisionRecord {
    pub pod: String,
    pub attempt: u32,
    pub at: Timestamp,
    /// Shared with the cycle that made it: recording a decision copies nothing.
    pub decision: Arc<Decision>,
}

/// The recent decisions, per pod, bounded.
#[derive(Default)]
pub struct Records {
    inner: Mutex<RecordBook>,
}

/// Attempts by pod, and the pods in the order they were first recorded (oldest evicted first).
type RecordBook = (HashMap<String, VecDeque<DecisionRecord>>, VecDeque<String>);

impl Records {
    fn push(&self, record: DecisionRecord) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (by_pod, order) = &mut *guard;
        if !by_pod.contains_key(&record.pod) {
            order.push_back(record.pod.clone());
            if order.len() > RECORDED_PODS
                && let Some(old) = order.pop_front()
            {
                by_pod.remove(&old);
            }
        }
        let attempts = by_pod.entry(record.pod.clone()).or_default();
        attempts.push_back(record);
        if attempts.len() > RECORDED_ATTEMPTS {
            attempts.pop_front();
        }
    }

    /// The recorded attempts for `namespace/name`, oldest first.
    pub fn for_pod(&self, key: &str) -> Vec<DecisionRecord> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .0
            .get(key)
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default()
    }
}

pub struct Scheduler {
    api: ApiServer,
    framework: Framework,
    queue: Arc<SchedulingQueue>,
    cache: Mutex<Cache>,
    /// The cycles' snapshot, kept between cycles and brought up to date from the cache.
    snapshot: Mutex<Snapshot>,
    records: Arc<Records>,
    events: EventRecorder,
    trace: TraceBus,
    next_start: AtomicUsize,
    /// How long each successful attempt took, pop to bind acknowledged (kube-scheduler's
    /// `scheduling_attempt_duration_seconds`), the most recent ones.
    latencies: Mutex<VecDeque<Duration>>,
}

/// Attempt latencies kept for [`Scheduler::attempt_latencies`].
const KEPT_LATENCIES: usize = 100_000;

fn bound_node(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

fn is_ours(pod: &Pod) -> bool {
    let name = pod
        .spec
        .as_ref()
        .and_then(|s| s.scheduler_name.as_deref())
        .unwrap_or(SCHEDULER_NAME);
    name == SCHEDULER_NAME && pod.metadata.deletion_timestamp.is_none()
}

impl Scheduler {
    pub fn new(api: &ApiServer) -> Arc<Self> {
        Arc::new(Scheduler {
            api: api.clone(),
            framework: default_framework(),
            queue: Arc::new(SchedulingQueue::new()),
            cache: Mutex::new(Cache::default()),
            snapshot: Mutex::new(Snapshot::default()),
            records: Arc::new(Records::default()),
            events: EventRecorder::new(api, SCHEDULER_NAME, None, Actor::Scheduler),
            trace: api.trace().clone(),
            next_start: AtomicUsize::new(0),
            latencies: Mutex::new(VecDeque::new()),
        })
    }

    pub fn queue(&self) -> Arc<SchedulingQueue> {
        self.queue.clone()
    }

    pub fn records(&self) -> Arc<Records> {
        self.records.clone()
    }

    /// The durations of recent successful attempts, from pop to bind acknowledged.
    pub fn attempt_latencies(&self) -> Vec<Duration> {
        let kept = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter().copied().collect()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cache's nodes and the queue's nominated pods, as one cycle sees them: the kept
    /// snapshot, updated with what changed since the last cycle.
    fn snapshot(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        let mut nominated: HashMap<String, Vec<Arc<PodInfo>>> = HashMap::new();
        for (node, pod) in self.queue.nominated_pods() {
            nominated
                .entry(node)
                .or_default()
                .push(Arc::new(PodInfo::new(pod)));
        }
        let mut snapshot = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        self.cache().update_snapshot(&mut snapshot);
        snapshot.nominated = nominated;
        snapshot
    }

    /// Runs until `stop` is cancelled.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let tasks = [
            tokio::spawn(self.clone().watch_nodes()),
            tokio::spawn(self.clone().watch_namespaces()),
            tokio::spawn(self.clone().watch_bound_pods()),
            tokio::spawn(self.clone().watch_pending_pods()),
        ];
        loop {
            let qp = tokio::select! {
                _ = stop.cancelled() => break,
                qp = self.queue.pop() => qp,
            };
            self.clone().schedule_one(qp).await;
        }
        for t in tasks {
            t.abort();
        }
    }

    async fn watch_nodes(self: Arc<Self>) {
        let api: Api<Node> = Api::all(&self.api, Actor::Scheduler);
        let mut seen = HashSet::new();
        let mut stream = Box::pin(watcher(api, ListParams::default()));
        while let Some(ev) = stream.next().await {
            let Ok(ev) = ev else { continue };
            match ev {
                Event::Init => seen.clear(),
                Event::InitApply(node) | Event::Apply(node) => {
                    seen.insert(node.metadata.name.clone().unwrap_or_default());
                    self.cache().upsert_node(node);
                    self.queue.on_cluster_event(ClusterEvent::NodeChanged);
                }
                Event::InitDone => {
                    let mut cache = self.cache();
                    for name in cache.node_names() {
                        if !seen.contains(&name) {
                            cache.remove_node(&name);
                        }
                    }
                    drop(cache);
                    self.queue.on_cluster_event(ClusterEvent::NodeAdded);
                }
                Event::Delete(node) => self
                    .cache()
                    .remove_node(node.metadata.name.as_deref().unwrap_or("")),
            }
        }
    }

    /// Namespace labels, which inter-pod affinity's namespace selectors match.
    async fn watch_namespaces(self: Arc<Self>) {
        let api: Api<Namespace> = Api::all(&self.api, Actor::Scheduler);
        let mut seen = HashSet::new();
        let mut stream = Box::pin(watcher(api, ListParams::default()));
        while let Some(ev) = stream.next().await {
            let Ok(ev) = ev else { continue };
            match ev {
                Event::Init => seen.clear(),
                Event::InitApply(ns) | Event::Apply(ns) => {
                    seen.insert(ns.metadata.name.clone().unwrap_or_default());
                    self.cache().upsert_namespace(&ns);
                }
                Event::InitDone => {
                    let mut cache = self.cache();
                    for name in cache.namespace_names() {
                        if !seen.contains(&name) {
                            cache.remove_namespace(&name);
                        }
                    }
                }
                Event::Delete(ns) => self
                    .cache()
                    .remove_namespace(ns.metadata.name.as_deref().unwrap_or("")),
            }
        }
    }

    async fn watch_bound_pods(self: Arc<Self>) {
        let api: Api<Pod> = Api::all(&self.api, Actor::Scheduler);
        let params = ListParams::default()
            .fields("spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed");
        let mut stream = Box::pin(watcher(api, params));
        while let Some(ev) = stream.next().await {
            let Ok(ev) = ev else { continue };
            match ev {
                Event::InitApply(pod) | Event::Apply(pod) => {
                    let Some(node) = bound_node(&pod).map(str::to_string) else {
                        continue;
                    };
                    let event = {
                        let mut cache = self.cache();
                        // New to the cache, or only assumed until now: an assigned pod's add;
                        // new labels: its update. Anything else (status) helps no one.
                        let event = match cache.pod(&pod_key(&pod)) {
                            None => Some(ClusterEvent::AssignedPodAdded),
                            Some(old) if !old.bound => Some(ClusterEvent::AssignedPodAdded),
                            Some(old) if old.labels.as_deref() != pod.metadata.labels.as_ref() => {
                                Some(ClusterEvent::AssignedPodUpdated)
                            }
                            Some(_) => None,
                        };
                        cache.add_pod(pod, &node);
                        event
                    };
                    if let Some(event) = event {
                        self.queue.on_cluster_event(event);
                    }
                }
                Event::Delete(pod) => {
                    self.cache().remove_pod(&pod_key(&pod));
                    self.queue.on_cluster_event(ClusterEvent::PodDeleted);
                }
                Event::Init | Event::InitDone => {}
            }
        }
    }

    async fn watch_pending_pods(self: Arc<Self>) {
        let api: Api<Pod> = Api::all(&self.api, Actor::Scheduler);
        let params = ListParams::default()
            .fields("spec.nodeName=,status.phase!=Succeeded,status.phase!=Failed");
        let mut stream = Box::pin(watcher(api, params));
        while let Some(ev) = stream.next().await {
            let Ok(ev) = ev else { continue };
            match ev {
                Event::InitApply(pod) | Event::Apply(pod) if is_ours(&pod) => self.queue.add(pod),
                Event::InitApply(pod) | Event::Apply(pod) | Event::Delete(pod) => {
                    self.queue.delete(&pod_key(&pod));
                }
                Event::Init | Event::InitDone => {}
            }
        }
    }

    async fn schedule_one(self: Arc<Self>, qp: QueuedPod) {
        let trace_key = format!("/registry/pods/{}", qp.key);
        // Step mode: the pod waits here, popped and unbound, until the person lets it go on.
        self.trace
            .at_gate(|| {
                StepDraft::new(
                    Actor::Scheduler,
                    Actor::Scheduler,
                    &trace_key,
                    "filter and score the nodes",
                )
            })
            .await;
        let popped = Instant::now();
        let pod = qp.pod.clone();
        let key = qp.key.clone();
        let decision = {
            let snapshot = self.snapshot();
            let start = self.next_start.load(Ordering::Relaxed);
            let decision = schedule(&self.framework, &pod, &snapshot, start);
            // The next cycle starts where this one stopped (nextStartNodeIndex).
            if !snapshot.nodes.is_empty() {
                self.next_start.store(
                    (start + decision.verdicts.len()) % snapshot.nodes.len(),
                    Ordering::Relaxed,
                );
            }
            Arc::new(decision)
        };
        self.trace.record(|| {
            StepDraft::new(
                Actor::Scheduler,
                Actor::Scheduler,
                &trace_key,
                format!(
                    "filter {} nodes, {} feasible",
                    decision.verdicts.len(),
                    decision.nodes_feasible
                ),
            )
        });
        self.records.push(DecisionRecord {
            pod: key.clone(),
            attempt: qp.attempts + 1,
            at: Timestamp::now(),
            decision: decision.clone(),
        });
        match decision.outcome.clone() {
            Outcome::Scheduled { node } => {
                self.trace.record(|| {
                    StepDraft::new(
                        Actor::Scheduler,
                        Actor::Scheduler,
                        &trace_key,
                        format!("score → {node}"),
                    )
                });
                self.queue.forget_nomination(&key);
                self.cache().add_pod(pod.clone(), &node);
                let this = self.clone();
                tokio::spawn(async move { this.bind(qp, node, popped).await });
            }
            Outcome::Unschedulable { mut message } => {
                // What PostFilter wants of the pod's nomination: a node, "" to clear it, or
                // nothing (None) to leave it.
                let mut nomination = decision
                    .post_filter
                    .as_ref()
                    .and_then(|o| o.result.as_ref())
                    .map(|r| r.nominated_node.clone());
                if let Some(preemption) = decision.preemption() {
                    self.trace.record(|| {
                        StepDraft::new(
                            Actor::Scheduler,
                            Actor::Scheduler,
                            &trace_key,
                            format!(
                                "preempt {} pod(s) on {}",
                                preemption.victims.len(),
                                preemption.nominated_node
                            ),
                        )
                    });
                    if let Err(e) = self.preempt(&pod, preemption).await {
                        // As kube-scheduler: the attempt fails with the error, nothing nominated.
                        tracing::warn!(pod = %key, error = %e, "preemption failed");
                        message.push_str(&format!(" {MESSAGE_PREFIX}{e}"));
                        nomination = None;
                    }
                }
                if let Some(node) = &nomination {
                    self.queue.nominate(pod.clone(), node);
                }
                let mut qp = qp;
                qp.unschedulable_plugins = decision.unschedulable_plugins.clone();
                if let Some(updated) = self
                    .report_unschedulable(&pod, &message, nomination.as_deref())
                    .await
                {
                    qp.pod = Arc::new(updated);
                }
                self.queue.requeue(qp, Failure::Unschedulable);
            }
            Outcome::Error { message } => {
                tracing::warn!(pod = %key, %message, "scheduling failed");
                self.queue.requeue(qp, Failure::Error);
            }
        }
    }

    /// The binding cycle: write the binding; on success say so, on failure forget the assumed
    /// pod and retry after a back-off.
    async fn bind(self: Arc<Self>, qp: QueuedPod, node: String, popped: Instant) {
        let pod = qp.pod.clone();
        let ns = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(&self.api, &ns, Actor::Scheduler);
        self.trace
            .at_gate(|| {
                StepDraft::new(
                    Actor::Scheduler,
                    Actor::ApiServer,
                    format!("/registry/pods/{}", qp.key),
                    format!("POST binding → {node}"),
                )
            })
            .await;
        match api.bind(&name, &node).await {
            Ok(bound) => {
                self.queue.delete(&qp.key);
                {
                    let mut kept = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
                    kept.push_back(popped.elapsed());
                    if kept.len() > KEPT_LATENCIES {
                        kept.pop_front();
                    }
                }
                let message = format!("Successfully assigned {ns}/{name} to {node}");
                let reference = object_reference(&bound);
                if let Err(e) = self
                    .events
                    .record(&reference, EventType::Normal, "Scheduled", &message)
                    .await
                {
                    tracing::debug!(error = %e, "could not record the Scheduled event");
                }
            }
            Err(e) => {
                self.cache().remove_pod(&qp.key);
                if e.is_not_found() {
                    self.queue.delete(&qp.key);
                } else {
                    tracing::info!(pod = %qp.key, error = %e, "binding failed; retrying after a back-off");
                    self.queue.requeue(qp, Failure::Error);
                }
            }
        }
    }

    /// Carries out a preemption (prepareCandidate): each victim not already terminating gets
    /// the `DisruptionTarget` condition, a delete with its own grace period and a Normal
    /// `Preempted` event; then less important pods nominated to the node lose their nomination,
    /// as they may no longer fit there. A victim already gone is skipped.
    async fn preempt(
        &self,
        preemptor: &Pod,
        preemption: &PostFilterResult,
    ) -> Result<(), ApiError> {
        let node = &preemption.nominated_node;
        let caller = Caller::new(Actor::Scheduler);
        let scheduler_name = preemptor
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .unwrap_or(SCHEDULER_NAME);
        let condition = PodCondition {
            type_: DISRUPTION_TARGET.into(),
            status: "True".into(),
            reason: Some(REASON_PREEMPTION_BY_SCHEDULER.into()),
            message: Some(disruption_message(scheduler_name)),
            last_transition_time: Some(now()),
            ..PodCondition::default()
        };
        let event = preempted_message(preemptor.metadata.uid.as_deref().unwrap_or(""), node);
        for victim in &preemption.victims {
            if victim.terminating {
                continue;
            }
            let ns = Some(victim.namespace.as_str())
                .filter(|ns| !ns.is_empty())
                .unwrap_or("default");
            let name = victim.name.as_str();
            let marked = self
                .api
                .modify_status::<Pod>(Some(ns), name, &caller, |cur| {
                    let mut next = cur.clone();
                    set_pod_condition(&mut next, condition.clone());
                    Ok(next)
                })
                .await;
            let deleted = match marked {
                Ok(_) => {
                    self.api
                        .delete::<Pod>(Some(ns), name, &DeleteParams::default(), &caller)
                        .await
                }
                Err(e) => Err(e),
            };
            match deleted {
                Ok(_) => {}
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            }
            if let Err(e) = self
                .events
                .record(
                    &k8s_openapi::api::core::v1::ObjectReference {
                        api_version: Some("v1".into()),
                        kind: Some("Pod".into()),
                        name: Some(victim.name.clone()),
                        namespace: Some(ns.to_string()),
                        uid: Some(victim.uid.clone()),
                        ..Default::default()
                    },
                    EventType::Normal,
                    REASON_PREEMPTED,
                    &event,
                )
                .await
            {
                tracing::debug!(error = %e, "could not record the Preempted event");
            }
        }
        self.clear_lower_nominations(preemptor, node).await;
        Ok(())
    }

    /// Pods less important than `preemptor` nominated to `node` lose their nomination
    /// (getLowerPriorityNominatedPods, clearNominatedNodeName).
    async fn clear_lower_nominations(&self, preemptor: &Pod, node: &str) {
        let priority = pod_priority(preemptor);
        let caller = Caller::new(Actor::Scheduler);
        for (nominated_to, pod) in self.queue.nominated_pods() {
            if nominated_to != node || pod_priority(&pod) >= priority {
                continue;
            }
            self.queue.nominate(pod.clone(), "");
            let has_status = pod
                .status
                .as_ref()
                .and_then(|s| s.nominated_node_name.as_deref())
                .is_some_and(|n| !n.is_empty());
            if !has_status {
                continue;
            }
            let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
            let name = pod.metadata.name.as_deref().unwrap_or("");
            let cleared = self
                .api
                .modify_status::<Pod>(Some(ns), name, &caller, |cur| {
                    let mut next = cur.clone();
                    next.status.get_or_insert_default().nominated_node_name = None;
                    Ok(next)
                })
                .await;
            if let Err(e) = cleared {
                tracing::debug!(pod = %pod_key(&pod), error = %e, "could not clear nominatedNodeName");
            }
        }
    }

    /// `PodScheduled=False` with reason `Unschedulable` (and the nomination PostFilter asked for:
    /// a node, or "" to clear it), and a Warning `FailedScheduling` event. Returns the pod as
    /// written.
    async fn report_unschedulable(
        &self,
        pod: &Pod,
        message: &str,
        nomination: Option<&str>,
    ) -> Option<Pod> {
        let ns = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let updated = self
            .api
            .modify_status::<Pod>(Some(&ns), &name, &Caller::new(Actor::Scheduler), |cur| {
                let mut next = cur.clone();
                set_pod_condition(
                    &mut next,
                    PodCondition {
                        type_: "PodScheduled".into(),
                        status: "False".into(),
                        reason: Some("Unschedulable".into()),
                        message: Some(message.to_string()),
                        last_transition_time: Some(now()),
                        ..PodCondition::default()
                    },
                );
                if let Some(node) = nomination {
                    next.status.get_or_insert_default().nominated_node_name =
                        (!node.is_empty()).then(|| node.to_string());
                }
                Ok(next)
            })
            .await;
        let reference = match &updated {
            Ok(p) => object_reference(p),
            Err(_) => object_reference(pod),
        };
        if let Err(e) = self
            .events
            .record(&reference, EventType::Warning, "FailedScheduling", message)
            .await
        {
            tracing::debug!(error = %e, "could not record the FailedScheduling event");
        }
        updated.ok()
    }
}
