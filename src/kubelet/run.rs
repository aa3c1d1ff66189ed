//! The kubelet as a running component: an API client like the real one. It registers its Node,
//! renews its Lease, list-watches the pods bound to it (`spec.nodeName=<node>`) and gives each pod
//! a worker task (the kubelet's pod workers) that syncs it whenever the pod changes, the runtime
//! reports an event for it (PLEG), a back-off expires, or the periodic resync comes round.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::backoff::{Backoff, BackoffConfig};
use super::node::{self, LEASE_NAMESPACE, NodeConfig};
use super::runtime::{PodRef, Runtime, RuntimeVersion};
use crate::api::events::object_reference;
use crate::api::runtime::{Event, watcher};
use crate::api::server::now;
use crate::api::{Api, ApiServer, Caller, EventRecorder, EventType, ListParams};
use crate::trace::{Actor, StepDraft, TraceBus};

#[derive(Debug, Clone)]
pub struct KubeletConfig {
    pub node: NodeConfig,
    /// Privileged containers, host networking and hostPath volumes are refused unless set.
    pub allow_privileged: bool,
    pub restart_backoff: BackoffConfig,
    pub image_backoff: BackoffConfig,
    /// How often the Lease is renewed and the Node status re-checked.
    pub heartbeat: Duration,
    /// Each pod is synced at least this often.
    pub resync: Duration,
    /// Where pods' emptyDir volumes live (`<dir>/pods/<uid>/volumes/<name>`).
    pub root_dir: PathBuf,
    /// This node's static pod manifests (`<--manifests>/<node>/`), read every second.
    pub manifests: Option<PathBuf>,
}

impl KubeletConfig {
    pub fn new(node: NodeConfig, root_dir: PathBuf) -> Self {
        KubeletConfig {
            node,
            allow_privileged: false,
            restart_backoff: BackoffConfig::default(),
            image_backoff: BackoffConfig::default(),
            heartbeat: Duration::from_secs(10),
            resync: Duration::from_secs(10),
            root_dir,
            manifests: None,
        }
    }
}

/// What the kubelet remembers between syncs.
#[derive(Default)]
pub(crate) struct Memory {
    pub restart_backoff: Backoff,
    pub image_backoff: Backoff,
    /// The last start failure per pod uid and container: `(reason, message)` (reasonCache).
    pub failures: HashMap<String, HashMap<String, (String, String)>>,
    /// When each exited container was first seen exited (the back-off's event time).
    pub exits_seen: HashMap<String, Instant>,
    /// When each `uid/image` pull last failed (the pull back-off's event time).
    pub pull_failures: HashMap<String, Instant>,
    /// Containers the runtime reported an `oom` event for, per pod uid. Docker's own
    /// `State.OOMKilled` is sometimes lost when the OOM and exit notifications race; the event
    /// still says it (containerd's CRI takes the event as its word too).
    pub oom_killed: HashMap<String, HashSet<String>>,
    /// When each pod was first synced, on tokio's clock (activeDeadlineSeconds counts from it).
    pub first_seen: HashMap<String, Instant>,
    /// Pods stopped for running past `activeDeadlineSeconds`: Failed for good.
    pub deadline_exceeded: HashSet<String>,
}

/// What a pod's worker is told: the newest version of its pod the watch delivered, or that the
/// pod is gone (with its last state when the watch had it).
enum Mail {
    Empty,
    Pod(Arc<Pod>),
    Gone(Option<Arc<Pod>>),
}

/// A pod worker's mailbox. The worker takes its pod out to sync it and keeps nothing between
/// syncs: a sync with no news (resync, runtime event, back-off, probe) reads the pod back from
/// the API. 10,000 idle workers then hold no decoded pods (~10 KB each with the defaults).
struct Worker {
    mail: Arc<Mutex<Mail>>,
    poke: Arc<Notify>,
    /// Cancelled when the kubelet drops the worker (it stopped, or its pod is gone).
    ended: CancellationToken,
}

impl Worker {
    fn send(&self, mail: Mail) {
        let mut slot = lock(&self.mail);
        // Gone is final: a pod's uid never comes back.
        if !matches!(*slot, Mail::Gone(_)) {
            *slot = mail;
        }
        drop(slot);
        self.poke.notify_one();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.ended.cancel();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub struct Kubelet {
    pub(crate) config: KubeletConfig,
    pub(crate) api: ApiServer,
    pub(crate) runtime: Arc<dyn Runtime>,
    pub(crate) runtime_version: Mutex<Option<RuntimeVersion>>,
    pub(crate) events: EventRecorder,
    pub(crate) trace: TraceBus,
    pub(crate) memory: Mutex<Memory>,
    pub(crate) prober: super::prober::Prober,
    workers: Mutex<HashMap<String, Worker>>,
    /// The uids of the static pods this kubelet runs from its manifest directory.
    static_uids: Mutex<HashSet<String>>,
    /// On: the kubelet runs; off: stopped (a node fault lesson).
    switch: watch::Sender<bool>,
    current_run: Mutex<Option<CancellationToken>>,
}

pub(crate) fn pod_ref(pod: &Pod) -> PodRef {
    PodRef {
        namespace: pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        name: pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
    }
}

/// A pod force-deleted while the watch was away: what is left of it is its name and uid, and a
/// forced delete's grace period, zero.
fn forced_gone(pref: &PodRef) -> Pod {
    Pod {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(pref.name.clone()),
            namespace: Some(pref.namespace.clone()),
            uid: Some(pref.uid.clone()),
            deletion_grace_period_seconds: Some(0),
            ..Default::default()
        },
        ..Default::default()
    }
}

impl Kubelet {
    pub fn new(api: &ApiServer, runtime: Arc<dyn Runtime>, config: KubeletConfig) -> Arc<Self> {
        let actor = Actor::Kubelet(config.node.name.clone());
        let memory = Memory {
            restart_backoff: Backoff::new(config.restart_backoff),
            image_backoff: Backoff::new(config.image_backoff),
            ..Memory::default()
        };
        Arc::new(Kubelet {
            events: EventRecorder::new(api, "kubelet", Some(&config.node.name), actor),
            config,
            api: api.clone(),
            runtime,
            runtime_version: Mutex::new(None),
            trace: api.trace().clone(),
            memory: Mutex::new(memory),
            prober: super::prober::Prober::default(),
            workers: Mutex::new(HashMap::new()),
            static_uids: Mutex::new(HashSet::new()),
            switch: watch::Sender::new(true),
            current_run: Mutex::new(None),
        })
    }

    pub fn node_name(&self) -> &str {
        &self.config.node.name
    }

    pub(crate) fn static_uids(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.static_uids.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells a pod's worker its pod is gone: it stops the containers and ends.
    pub(crate) fn forget_worker(&self, uid: &str) {
        if let Some(w) = self.workers().get(uid) {
            w.send(Mail::Gone(None));
        }
    }

    /// Wakes a pod's worker to sync it now (a probe result changed).
    pub(crate) fn poke(&self, uid: &str) {
        if let Some(w) = self.workers().get(uid) {
            w.poke.notify_one();
        }
    }

    pub(crate) fn actor(&self) -> Actor {
        Actor::Kubelet(self.config.node.name.clone())
    }

    pub(crate) fn caller(&self) -> Caller {
        Caller::new(self.actor())
    }

    pub(crate) fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Worker>> {
        self.workers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The runtime's version, asked once it answers (`None` while it is down).
    pub(crate) fn runtime_version(&self) -> Option<RuntimeVersion> {
        self.runtime_version
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `docker` or `kubox-sim`: the scheme of container IDs.
    pub(crate) fn runtime_name(&self) -> String {
        self.runtime_version()
            .map_or_else(|| "docker".to_string(), |v| v.name)
    }

    /// Runs until `stop` is cancelled, and while switched on ([`Kubelet::set_running`]).
    /// Containers keep running when the kubelet stops; started again (or a new kubelet for the
    /// same node), it adopts them.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut switch = self.switch.subscribe();
        loop {
            if *switch.borrow_and_update() {
                let child = stop.child_token();
                *self.current_run() = Some(child.clone());
                if !*self.switch.borrow() {
                    child.cancel();
                }
                self.clone().run_once(child).await;
                if stop.is_cancelled() {
                    return;
                }
            } else {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    changed = switch.changed() => if changed.is_err() { return },
                }
            }
        }
    }

    /// Stops (`false`) or starts (`true`) this node's kubelet, as stopping its process would:
    /// no heartbeat, no syncs, no status; its containers keep running.
    pub fn set_running(&self, on: bool) {
        self.switch.send_replace(on);
        if !on && let Some(run) = self.current_run().take() {
            run.cancel();
        }
    }

    pub fn is_running(&self) -> bool {
        *self.switch.borrow()
    }

    fn current_run(&self) -> std::sync::MutexGuard<'_, Option<CancellationToken>> {
        self.current_run.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn run_once(self: Arc<Self>, stop: CancellationToken) {
        self.refresh_runtime_version().await;
        if let Err(e) = self.sync_node().await {
            tracing::warn!(node = %self.node_name(), error = %e, "could not register the node");
        }
        self.record_node_event("Starting", "Starting kubelet.")
            .await;
        let mut tasks = vec![
            tokio::spawn(self.clone().heartbeat(stop.clone())),
            tokio::spawn(self.clone().runtime_events()),
        ];
        if let Some(dir) = &self.config.manifests {
            let dir = dir.join(self.node_name());
            tasks.push(tokio::spawn(self.clone().static_pods(dir, stop.clone())));
        }
        self.clone().watch_pods(stop.clone()).await;
        for t in tasks {
            t.abort();
        }
        self.workers().clear();
        self.prober.clear();
        self.static_uids().clear();
    }

    async fn refresh_runtime_version(&self) {
        let version = self.runtime.version().await.ok();
        *self
            .runtime_version
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = version;
    }

    async fn record_node_event(&self, reason: &str, message: &str) {
        let mut reference = k8s_openapi::api::core::v1::ObjectReference {
            kind: Some("Node".into()),
            name: Some(self.node_name().to_string()),
            uid: Some(self.node_name().to_string()),
            ..Default::default()
        };
        reference.namespace = None;
        let _ = self
            .events
            .record(&reference, EventType::Normal, reason, message)
            .await;
    }

    /// Registers the Node, or brings its status up to date (written only when it changed,
    /// heartbeat times aside).
    async fn sync_node(&self) -> Result<(), crate::api::ApiError> {
        let images = self.runtime.list_images().await.unwrap_or_default();
        let version = self.runtime_version();
        let fresh = node::node_object(&self.config.node, version.as_ref(), &images, &now());
        let nodes: Api<Node> = Api::all(&self.api, self.actor());
        match nodes.get_opt(self.node_name())? {
            None => {
                nodes.create(fresh).await?;
                self.record_node_event(
                    "NodeReady",
                    &format!("Node {} status is now: NodeReady", self.node_name()),
                )
                .await;
            }
            Some(current) => {
                let mut status = fresh.status.unwrap_or_default();
                node::keep_transition_times(&mut status, current.status.as_ref());
                let strip = |s: &k8s_openapi::api::core::v1::NodeStatus| {
                    let mut s = s.clone();
                    for c in s.conditions.iter_mut().flatten() {
                        c.last_heartbeat_time = None;
                    }
                    s
                };
                if current.status.as_ref().map(strip) != Some(strip(&status)) {
                    let was_ready = node::ready_status(current.status.as_ref());
                    let ready = node::ready_status(Some(&status));
                    let mut next = current.clone();
                    next.status = Some(status);
                    nodes.replace_status(self.node_name(), next).await?;
                    if ready.as_deref() == Some("True") && was_ready.as_deref() != Some("True") {
                        self.record_node_event(
                            "NodeReady",
                            &format!("Node {} status is now: NodeReady", self.node_name()),
                        )
                        .await;
                    }
                }
            }
        }
        Ok(())
    }

    async fn renew_lease(&self) -> Result<(), crate::api::ApiError> {
        let leases: Api<Lease> = Api::namespaced(&self.api, LEASE_NAMESPACE, self.actor());
        let fresh = node::lease(self.node_name(), MicroTime(now().0));
        match leases.get_opt(self.node_name())? {
            None => {
                leases.create(fresh).await?;
            }
            Some(mut current) => {
                current.spec = fresh.spec;
                leases.replace(self.node_name(), current).await?;
            }
        }
        Ok(())
    }

    async fn heartbeat(self: Arc<Self>, stop: CancellationToken) {
        loop {
            if let Err(e) = self.renew_lease().await {
                tracing::debug!(node = %self.node_name(), error = %e, "lease renewal failed");
            }
            self.refresh_runtime_version().await;
            if let Err(e) = self.sync_node().await {
                tracing::debug!(node = %self.node_name(), error = %e, "node status update failed");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.config.heartbeat) => {}
            }
        }
    }

    /// PLEG: a runtime event for a pod wakes its worker.
    async fn runtime_events(self: Arc<Self>) {
        loop {
            match self.runtime.events(self.node_name()).await {
                Ok(mut events) => {
                    while let Some(ev) = events.next().await {
                        let poke = self.workers().get(&ev.pod_uid).map(|w| w.poke.clone());
                        let Some(poke) = poke else {
                            continue;
                        };
                        if ev.action == "oom" {
                            // Remembered until the pod's worker ends.
                            self.memory()
                                .oom_killed
                                .entry(ev.pod_uid.clone())
                                .or_default()
                                .insert(ev.container_id.clone());
                        }
                        poke.notify_one();
                    }
                }
                Err(e) => {
                    tracing::debug!(node = %self.node_name(), error = %e, "runtime events unavailable");
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn watch_pods(self: Arc<Self>, stop: CancellationToken) {
        let api: Api<Pod> = Api::all(&self.api, self.actor());
        let params = ListParams::default().fields(&format!("spec.nodeName={}", self.node_name()));
        let mut stream = Box::pin(watcher(api, params));
        let mut listed: HashSet<String> = HashSet::new();
        loop {
            let ev = tokio::select! {
                _ = stop.cancelled() => return,
                ev = stream.next() => ev,
            };
            let Some(Ok(ev)) = ev else {
                if ev.is_none() {
                    return;
                }
                continue;
            };
            match ev {
                Event::Init => listed.clear(),
                // Mirror pods stand for static pods, which run from their files.
                Event::InitApply(pod) | Event::Apply(pod) | Event::Delete(pod)
                    if super::static_pods::is_mirror(&pod) => {}
                Event::InitApply(pod) => {
                    listed.insert(pod.metadata.uid.clone().unwrap_or_default());
                    self.dispatch(pod, &stop);
                }
                Event::Apply(pod) => self.dispatch(pod, &stop),
                Event::InitDone => {
                    listed.extend(self.static_uids().iter().cloned());
                    self.remove_orphans(&listed).await;
                    // Static pods started meanwhile are not the API's to end.
                    let statics = self.static_uids().clone();
                    let gone: Vec<String> = self
                        .workers()
                        .keys()
                        .filter(|uid| !listed.contains(*uid) && !statics.contains(*uid))
                        .cloned()
                        .collect();
                    for uid in gone {
                        if let Some(w) = self.workers().get(&uid) {
                            w.send(Mail::Gone(None));
                        }
                    }
                }
                Event::Delete(pod) => {
                    let uid = pod.metadata.uid.clone().unwrap_or_default();
                    if let Some(w) = self.workers().get(&uid) {
                        w.send(Mail::Gone(Some(pod)));
                    }
                }
            }
        }
    }

    /// Containers of pods the API no longer has (deleted while kubox was down) are removed.
    async fn remove_orphans(&self, listed: &HashSet<String>) {
        let Ok(pods) = self.runtime.list_pods(self.node_name()).await else {
            return;
        };
        for pod in pods.into_iter().filter(|p| !listed.contains(&p.pod.uid)) {
            if self.workers().contains_key(&pod.pod.uid) {
                continue;
            }
            tracing::info!(node = %self.node_name(), pod = %pod.pod.name, "removing the containers of a pod that no longer exists");
            self.teardown(&pod, Duration::ZERO).await;
        }
    }

    pub(crate) fn dispatch(self: &Arc<Self>, pod: Arc<Pod>, stop: &CancellationToken) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let mut workers = self.workers();
        if let Some(w) = workers.get(&uid) {
            w.send(Mail::Pod(pod));
            return;
        }
        let pref = pod_ref(&pod);
        self.trace.record(|| {
            StepDraft::new(
                Actor::Store,
                self.actor(),
                super::sync::trace_key(&pref),
                "watch: pod bound",
            )
        });
        let worker = Worker {
            mail: Arc::new(Mutex::new(Mail::Pod(pod))),
            poke: Arc::new(Notify::new()),
            ended: stop.child_token(),
        };
        let task = self.clone().pod_worker(
            pref,
            worker.mail.clone(),
            worker.poke.clone(),
            worker.ended.clone(),
        );
        workers.insert(uid, worker);
        drop(workers);
        tokio::spawn(task);
    }

    /// The pod as the API has it now, if it is still the worker's pod (same uid). Static pods
    /// are not in the API; their workers keep their pod.
    fn read_pod(&self, pref: &PodRef) -> Option<Arc<Pod>> {
        match self
            .api
            .get_shared::<Pod>(Some(&pref.namespace), &pref.name)
        {
            Ok(pod) if pod.metadata.uid.as_deref() == Some(pref.uid.as_str()) => Some(pod),
            Ok(_) => None,
            Err(e) => {
                if !e.is_not_found() {
                    tracing::debug!(pod = %pref.name, error = %e, "could not read the pod back");
                }
                None
            }
        }
    }

    async fn pod_worker(
        self: Arc<Self>,
        pref: PodRef,
        mail: Arc<Mutex<Mail>>,
        poke: Arc<Notify>,
        stop: CancellationToken,
    ) {
        let uid = pref.uid.clone();
        // Static pods come from files, not from the API: their workers keep their pod.
        let is_static = self.static_uids().contains(&uid);
        let mut kept: Option<Arc<Pod>> = None;
        loop {
            let taken = std::mem::replace(&mut *lock(&mail), Mail::Empty);
            let pod = match taken {
                Mail::Gone(last) => {
                    // Gone from the API without our confirmation (a forced delete). Its last
                    // state comes with the watch's DELETED event; after a re-list that missed
                    // it, only its name and uid are left, and a forced delete's grace is zero.
                    let pod = last
                        .or(kept)
                        .unwrap_or_else(|| Arc::new(forced_gone(&pref)));
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        () = Box::pin(self.terminate(&pod, false)) => {}
                    }
                    break;
                }
                Mail::Pod(pod) => pod,
                Mail::Empty => match kept.clone().or_else(|| self.read_pod(&pref)) {
                    Some(pod) => pod,
                    // Deleted meanwhile: the watch's DELETED event is on its way.
                    None => {
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = poke.notified() => {}
                        }
                        continue;
                    }
                },
            };
            if pod.metadata.deletion_timestamp.is_some() {
                // A stopped kubelet stops mid-way, as its process would; started again, it
                // finds the pod still marked for deletion and ends it.
                tokio::select! {
                    _ = stop.cancelled() => return,
                    () = Box::pin(self.terminate(&pod, true)) => {}
                }
                break;
            }
            self.ensure_probe_workers(&pod);
            // Boxed: a sync's future is ~9 KB, and a worker waits far longer than it syncs;
            // unboxed, every idle worker would keep that much (90 MB for 10,000 pods). A
            // stopped kubelet abandons a sync in flight, as its process would: no container is
            // started and no status written after the stop; started again, it plans from what
            // the runtime has.
            let wake = tokio::select! {
                _ = stop.cancelled() => return,
                wake = Box::pin(self.sync_pod(&pod)) => wake,
            };
            if is_static {
                kept = Some(pod);
            } else {
                drop(pod);
            }
            let wait = wake
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or(self.config.resync)
                .min(self.config.resync);
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = poke.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.workers().remove(&uid);
        self.prober.remove_pod(&uid);
        let mut memory = self.memory();
        memory.failures.remove(&uid);
        memory.oom_killed.remove(&uid);
        memory.first_seen.remove(&uid);
        memory.deadline_exceeded.remove(&uid);
        memory
            .pull_failures
            .retain(|k, _| !k.starts_with(&format!("{uid}/")));
        memory.restart_backoff.forget_prefix(&format!("{uid}/"));
        memory.image_backoff.forget_prefix(&format!("{uid}/"));
    }

    /// Records an event about `pod` (and one of its containers when `container` is given).
    pub(crate) async fn pod_event(
        &self,
        pod: &Pod,
        container: Option<&str>,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        let mut reference = object_reference(pod);
        if let Some(c) = container {
            reference.field_path = Some(format!("spec.containers{{{c}}}"));
        }
        if let Err(e) = self.events.record(&reference, type_, reason, message).await {
            tracing::debug!(error = %e, "could not record a kubelet event");
        }
    }
}
