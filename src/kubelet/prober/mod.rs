//! The prober (the kubelet's prober manager): one worker per probe of each container —
//! liveness, readiness, startup — each on its own period, so no probe waits for another pod's.
//! Results are kept per container instance (a restarted container starts over: not ready, not
//! started) and read by the pod's sync: readiness and startup make the container's `ready` and
//! `started`, a failed liveness or startup probe has it killed and restarted.

pub mod check;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::pod_actions::ProbeVerdicts;
use super::runtime::{PodStatus, State};
use check::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeKind {
    /// As the events say it: `Liveness probe failed: …`.
    pub fn title(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Startup => "Startup",
        }
    }

    pub fn of(self, container: &Container) -> Option<&Probe> {
        match self {
            ProbeKind::Liveness => container.liveness_probe.as_ref(),
            ProbeKind::Readiness => container.readiness_probe.as_ref(),
            ProbeKind::Startup => container.startup_probe.as_ref(),
        }
    }
}

/// The running instance of a container, as the last sync saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub id: String,
    pub pod_ip: String,
    /// When the kubelet first saw this instance running (initialDelaySeconds counts from it).
    pub since: Instant,
}

/// What the status says of a running container: `started` and `ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerHealth {
    pub started: bool,
    pub ready: bool,
}

type ContainerKey = (String, String);

#[derive(Default)]
struct Inner {
    observed: HashMap<ContainerKey, Observed>,
    /// The last settled result per probe: for which instance, and what.
    results: HashMap<(String, String, ProbeKind), (String, Outcome)>,
    workers: HashMap<String, Vec<JoinHandle<()>>>,
}

#[derive(Default)]
pub struct Prober {
    inner: Mutex<Inner>,
}

impl Prober {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes in what the runtime holds for a pod after a sync.
    pub fn observe(&self, uid: &str, status: &PodStatus) {
        let pod_ip = status
            .sandbox()
            .and_then(|s| s.ip.clone())
            .unwrap_or_default();
        let mut inner = self.inner();
        let mut names: Vec<&str> = status.containers.iter().map(|c| c.name.as_str()).collect();
        names.dedup();
        for name in names {
            let key = (uid.to_string(), name.to_string());
            match status.latest(name).filter(|c| c.state == State::Running) {
                Some(c) => {
                    let fresh = inner.observed.get(&key).is_none_or(|o| o.id != c.id);
                    if fresh {
                        inner.observed.insert(
                            key,
                            Observed {
                                id: c.id.clone(),
                                pod_ip: pod_ip.clone(),
                                since: Instant::now(),
                            },
                        );
                    }
                }
                None => {
                    inner.observed.remove(&key);
                }
            }
        }
    }

    pub fn observed(&self, uid: &str, container: &str) -> Option<Observed> {
        self.inner()
            .observed
            .get(&(uid.to_string(), container.to_string()))
            .cloned()
    }

    fn result(&self, uid: &str, container: &str, kind: ProbeKind, id: &str) -> Option<Outcome> {
        self.inner()
            .results
            .get(&(uid.to_string(), container.to_string(), kind))
            .filter(|(for_id, _)| for_id == id)
            .map(|(_, o)| *o)
    }

    /// Settles a probe's result for an instance; true when it changed.
    fn settle(
        &self,
        uid: &str,
        container: &str,
        kind: ProbeKind,
        id: &str,
        outcome: Outcome,
    ) -> bool {
        let key = (uid.to_string(), container.to_string(), kind);
        let value = (id.to_string(), outcome);
        let mut inner = self.inner();
        if inner.results.get(&key) == Some(&value) {
            return false;
        }
        inner.results.insert(key, value);
        true
    }

    /// A startup probe, when the container has one, has succeeded for this instance.
    pub fn started(&self, uid: &str, container: &Container, id: &str) -> bool {
        container.startup_probe.is_none()
            || self.result(uid, &container.name, ProbeKind::Startup, id) == Some(Outcome::Success)
    }

    /// `started` and `ready` of each running container of `pod`.
    pub fn health(&self, pod: &Pod, status: &PodStatus) -> HashMap<String, ContainerHealth> {
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        let mut out = HashMap::new();
        for c in pod.spec.iter().flat_map(|s| &s.containers) {
            let Some(running) = status.latest(&c.name).filter(|s| s.state == State::Running) else {
                continue;
            };
            let started = self.started(uid, c, &running.id);
            let ready = started
                && (c.readiness_probe.is_none()
                    || self.result(uid, &c.name, ProbeKind::Readiness, &running.id)
                        == Some(Outcome::Success));
            out.insert(c.name.clone(), ContainerHealth { started, ready });
        }
        out
    }

    /// The results that change the pod's plan.
    pub fn verdicts(&self, uid: &str) -> ProbeVerdicts {
        let inner = self.inner();
        let mut verdicts = ProbeVerdicts::default();
        for ((for_uid, _, kind), (id, outcome)) in &inner.results {
            if for_uid != uid || *outcome != Outcome::Failure {
                continue;
            }
            match kind {
                ProbeKind::Liveness => verdicts.liveness_failed.insert(id.clone()),
                ProbeKind::Startup => verdicts.startup_failed.insert(id.clone()),
                ProbeKind::Readiness => false,
            };
        }
        verdicts
    }

    fn has_workers(&self, uid: &str) -> bool {
        self.inner().workers.contains_key(uid)
    }

    fn add_workers(&self, uid: &str, handles: Vec<JoinHandle<()>>) {
        self.inner().workers.insert(uid.to_string(), handles);
    }

    /// Stops every worker and forgets everything (the kubelet stopped).
    pub fn clear(&self) {
        let mut inner = self.inner();
        for h in inner.workers.drain().flat_map(|(_, hs)| hs) {
            h.abort();
        }
        inner.observed.clear();
        inner.results.clear();
    }

    /// Stops a pod's workers and forgets its results.
    pub fn remove_pod(&self, uid: &str) {
        let mut inner = self.inner();
        for h in inner.workers.remove(uid).into_iter().flatten() {
            h.abort();
        }
        inner.observed.retain(|(u, _), _| u != uid);
        inner.results.retain(|(u, _, _), _| u != uid);
    }
}

impl super::run::Kubelet {
    /// Starts the probe workers of `pod` once (the spec's probes cannot change).
    pub(crate) fn ensure_probe_workers(self: &Arc<Self>, pod: &Arc<Pod>) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if self.prober.has_workers(&uid) {
            return;
        }
        let mut handles = Vec::new();
        for c in pod.spec.iter().flat_map(|s| &s.containers) {
            for kind in [
                ProbeKind::Startup,
                ProbeKind::Liveness,
                ProbeKind::Readiness,
            ] {
                if let Some(probe) = kind.of(c) {
                    let worker = worker::Worker::new(
                        self.clone(),
                        pod.clone(),
                        c.clone(),
                        kind,
                        probe.clone(),
                    );
                    handles.push(tokio::spawn(worker.run()));
                }
            }
        }
        self.prober.add_workers(&uid, handles);
    }
}
