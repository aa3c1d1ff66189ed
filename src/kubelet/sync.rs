//! One pod's sync (the kubelet's `SyncPod`): plan with `compute_pod_actions`, carry the plan out
//! through the runtime (sandbox, image pulls with their back-off, containers with theirs),
//! then write the status the runtime now shows — only when it changed. And the other end of a
//! pod's life: graceful termination and the confirming delete.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod};
use tokio::time::Instant;

use super::backoff::go_duration;
use super::pod_actions::{
    KillReason, compute_pod_actions, container_hash, restart_policy, spec_container,
};
use super::run::{Kubelet, pod_ref};
use super::runtime::{
    ContainerConfig, Mount, PodRef, PodStatus, RuntimeError, SandboxConfig, State,
};
use super::status::{StatusInput, generate};
use crate::api::server::now;
use crate::api::{DeleteParams, EventType};
use crate::trace::{Actor, StepDraft};

/// A container could not be started this time; the status shows it as Waiting with this reason.
struct StartFailure {
    reason: &'static str,
    message: String,
}

/// `format.Pod`: `web_default(<uid>)`.
pub(crate) fn pod_desc(pod: &PodRef) -> String {
    format!("{}_{}({})", pod.name, pod.namespace, pod.uid)
}

/// The kubelet's active-deadline handler's words.
pub const DEADLINE_REASON: &str = "DeadlineExceeded";
pub const DEADLINE_MESSAGE: &str = "Pod was active on the node longer than the specified deadline";

pub(crate) fn trace_key(pod: &PodRef) -> String {
    format!("/registry/pods/{}/{}", pod.namespace, pod.name)
}

/// What kubox will not run without `--allow-privileged`.
pub fn refused_privileges(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if spec.host_network == Some(true) {
        return Some("host networking (spec.hostNetwork)".into());
    }
    if let Some(v) = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.host_path.is_some())
    {
        return Some(format!("hostPath volume {:?}", v.name));
    }
    // Host ports are published on loopback; on another address only when allowed.
    if let Some(m) = super::runtime::port_mappings(pod)
        .into_iter()
        .find(|m| !matches!(m.host_ip.as_str(), "127.0.0.1" | "::1"))
    {
        return Some(format!(
            "hostPort {} on {} (kubox publishes host ports on 127.0.0.1 unless allowed)",
            m.host_port, m.host_ip
        ));
    }
    spec.containers
        .iter()
        .find(|c| {
            c.security_context
                .as_ref()
                .and_then(|s| s.privileged)
                .unwrap_or(false)
        })
        .map(|c| format!("privileged container {:?}", c.name))
}

fn pull_policy(c: &Container) -> &str {
    c.image_pull_policy.as_deref().unwrap_or("IfNotPresent")
}

/// Go's `time.Duration.String()` for pull times: `512ms`, `1.234s`.
fn short_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// The least time between two pull progress reports on the trace bus (layer completions and the
/// end are always reported).
const PULL_REPORT_GAP: Duration = Duration::from_millis(250);

/// Which of a pull's progress reports go onto the trace bus.
#[derive(Default)]
struct PullReports {
    /// When the last one went, and how many layers were done then.
    last: Option<(Instant, u32)>,
}

impl PullReports {
    fn due(&mut self, p: &super::runtime::PullProgress, now: Instant) -> bool {
        let due = match self.last {
            None => true,
            Some((at, layers)) => {
                layers != p.layers_done
                    || (p.bytes_total > 0 && p.bytes_done >= p.bytes_total)
                    || now.duration_since(at) >= PULL_REPORT_GAP
            }
        };
        if due {
            self.last = Some((now, p.layers_done));
        }
        due
    }
}

impl Kubelet {
    /// Syncs one pod; returns when it wants to be woken (a back-off expiring).
    pub(crate) async fn sync_pod(self: &Arc<Self>, pod: &Pod) -> Option<Instant> {
        let pref = pod_ref(pod);
        let status = match self.runtime.pod_status(self.node_name(), &pref).await {
            Ok(s) => self.with_ooms(s),
            Err(e) => {
                tracing::warn!(pod = %pref.name, error = %e, "runtime status unavailable");
                return Some(Instant::now() + Duration::from_secs(1));
            }
        };
        self.note_exits(&status);
        let mut wake = None;
        let deadline = self.active_deadline(pod, &pref);
        if deadline.is_some_and(|d| d <= Instant::now()) {
            self.deadline_exceeded(pod, &pref, &status).await;
            let status = self
                .runtime
                .pod_status(self.node_name(), &pref)
                .await
                .map_or(status, |s| self.with_ooms(s));
            self.write_status(&pref, &status).await;
            return None;
        }
        if let Some(what) = refused_privileges(pod).filter(|_| !self.config.allow_privileged) {
            let message = format!(
                "kubox refuses {what}; start kubox with --allow-privileged to allow privileged containers, host networking, hostPath volumes and host ports off loopback"
            );
            let mut memory = self.memory();
            let failures = memory.failures.entry(pref.uid.clone()).or_default();
            for c in pod.spec.iter().flat_map(|s| &s.containers) {
                failures.insert(
                    c.name.clone(),
                    ("CreateContainerConfigError".into(), message.clone()),
                );
            }
        } else {
            // As Kubernetes' SyncPod: the status of what is there now (a new pod's containers
            // waiting in ContainerCreating) is set before the runtime is asked to act.
            self.write_status(&pref, &status).await;
            wake = self.execute(pod, &pref, &status).await;
        }
        let status = self
            .runtime
            .pod_status(self.node_name(), &pref)
            .await
            .map_or(status, |s| self.with_ooms(s));
        self.note_exits(&status);
        self.prober.observe(&pref.uid, &status);
        self.write_status(&pref, &status).await;
        self.collect_garbage(&status).await;
        match (wake, deadline) {
            (Some(w), Some(d)) => Some(w.min(d)),
            (w, d) => w.or(d),
        }
    }

    /// When `activeDeadlineSeconds` runs out: counted from the pod's `startTime` (the kubelet's
    /// first sync), read once onto tokio's clock.
    fn active_deadline(&self, pod: &Pod, pref: &PodRef) -> Option<Instant> {
        let seconds = pod.spec.as_ref()?.active_deadline_seconds?;
        let first_seen = *self
            .memory()
            .first_seen
            .entry(pref.uid.clone())
            .or_insert_with(|| {
                let running_for = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.start_time.as_ref())
                    .and_then(|t| Duration::try_from(now().0 - t.0).ok())
                    .unwrap_or_default();
                Instant::now()
                    .checked_sub(running_for)
                    .unwrap_or_else(Instant::now)
            });
        Some(first_seen + Duration::from_secs(seconds.max(0) as u64))
    }

    /// The pod ran past its deadline: said once, its containers stopped, and it stays Failed.
    async fn deadline_exceeded(&self, pod: &Pod, pref: &PodRef, status: &PodStatus) {
        let first = self.memory().deadline_exceeded.insert(pref.uid.clone());
        if first {
            self.pod_event(
                pod,
                None,
                EventType::Normal,
                DEADLINE_REASON,
                DEADLINE_MESSAGE,
            )
            .await;
        }
        if status.containers.iter().any(|c| c.state == State::Running) {
            self.teardown_running(pod, status, grace_period(pod)).await;
        }
    }

    pub(crate) fn probe_verdicts(&self, uid: &str) -> super::pod_actions::ProbeVerdicts {
        self.prober.verdicts(uid)
    }

    /// Exited containers the runtime sent an `oom` event for end `OOMKilled`, whatever the
    /// runtime's inspect says.
    fn with_ooms(&self, mut status: PodStatus) -> PodStatus {
        let memory = self.memory();
        let Some(ooms) = memory.oom_killed.get(&status.pod.uid) else {
            return status;
        };
        for c in status
            .containers
            .iter_mut()
            .filter(|c| c.state == State::Exited && ooms.contains(&c.id))
        {
            c.reason = Some("OOMKilled".into());
        }
        status
    }

    fn note_exits(&self, status: &PodStatus) {
        let mut memory = self.memory();
        for c in status
            .containers
            .iter()
            .filter(|c| c.state == State::Exited)
        {
            memory
                .exits_seen
                .entry(c.id.clone())
                .or_insert_with(Instant::now);
        }
    }

    async fn execute(
        self: &Arc<Self>,
        pod: &Pod,
        pref: &PodRef,
        status: &PodStatus,
    ) -> Option<Instant> {
        let actions = compute_pod_actions(pod, status, &self.probe_verdicts(&pref.uid));
        if actions.is_empty() {
            return None;
        }
        let grace = grace_period(pod);
        let key = trace_key(pref);
        if actions.create_sandbox && status.sandbox().is_some() {
            // A new pod gets its first sandbox silently; a replaced one is said (SyncPod).
            self.pod_event(
                pod,
                None,
                EventType::Normal,
                "SandboxChanged",
                "Pod sandbox changed, it will be killed and re-created.",
            )
            .await;
        }
        let restart_on_failure = restart_policy(pod) != "Never";
        for (id, name, why) in &actions.kill {
            let restart = *why == KillReason::SpecChanged || restart_on_failure;
            let message = why.message(name, restart);
            self.pod_event(pod, Some(name), EventType::Normal, "Killing", &message)
                .await;
            self.stop_with_hook(pod, name, id, grace).await;
        }
        if actions.kill_pod {
            let mut rest = status.clone();
            rest.containers
                .retain(|c| !actions.kill.iter().any(|(id, _, _)| *id == c.id));
            self.teardown_running(pod, &rest, grace).await;
        }
        for id in &actions.prune_init {
            let _ = self.runtime.remove_container(id).await;
        }
        let sandbox_id = if actions.create_sandbox {
            let config = SandboxConfig {
                pod: pref.clone(),
                node: self.node_name().to_string(),
                attempt: actions.sandbox_attempt,
                hostname: pref.name.clone(),
                port_mappings: super::runtime::port_mappings(pod),
            };
            self.trace
                .at_gate(|| StepDraft::new(self.actor(), Actor::Docker, &key, "create sandbox"))
                .await;
            let started = std::time::Instant::now();
            match self.runtime.run_sandbox(&config).await {
                Ok(id) => {
                    self.trace.record(|| {
                        StepDraft::new(self.actor(), Actor::Docker, &key, "create sandbox")
                            .took(started.elapsed())
                    });
                    id
                }
                Err(e) => {
                    tracing::warn!(pod = %pref.name, error = %e, "sandbox creation failed");
                    self.pod_event(
                        pod,
                        None,
                        EventType::Warning,
                        "FailedCreatePodSandBox",
                        &format!("Failed to create pod sandbox: {e}"),
                    )
                    .await;
                    return Some(Instant::now() + Duration::from_secs(2));
                }
            }
        } else {
            match status.sandbox() {
                Some(s) => s.id.clone(),
                None => return None,
            }
        };
        let spec = pod.spec.as_ref()?;
        // The pod IP the containers' env or postStart hook may name: the sandbox's, asked of
        // the runtime once for all of them, and only when one of them needs it (another round
        // trip to the daemon on the way to Running otherwise).
        let needs_ip = actions
            .start
            .iter()
            .filter_map(|name| spec_container(spec, name))
            .any(names_pod_ip);
        let pod_ip = if !needs_ip {
            String::new()
        } else if actions.create_sandbox {
            self.runtime
                .pod_status(self.node_name(), pref)
                .await
                .ok()
                .and_then(|s| s.sandbox().and_then(|s| s.ip.clone()))
                .unwrap_or_default()
        } else {
            status
                .sandbox()
                .and_then(|s| s.ip.clone())
                .unwrap_or_default()
        };
        let mut wake: Option<Instant> = None;
        for name in &actions.start {
            let Some(container) = spec_container(spec, name) else {
                continue;
            };
            let restart_key = format!("{}/{}", pref.uid, name);
            // The restart back-off, from the moment the last instance was seen exited.
            let last_exit = status
                .latest(name)
                .filter(|c| c.state == State::Exited)
                .map(|c| (c.id.clone(), c.attempt));
            let mut attempt = status.latest(name).map_or(0, |c| c.attempt + 1);
            if actions.create_sandbox && status.latest(name).is_none() {
                attempt = 0;
            }
            if let Some((id, _)) = &last_exit {
                let seen = self
                    .memory()
                    .exits_seen
                    .get(id)
                    .copied()
                    .unwrap_or_else(Instant::now);
                let in_backoff = self
                    .memory()
                    .restart_backoff
                    .in_backoff_since(&restart_key, seen);
                if in_backoff {
                    let (backoff, retry) = {
                        let m = self.memory();
                        (
                            m.restart_backoff.get(&restart_key),
                            m.restart_backoff.retry_at(&restart_key, seen),
                        )
                    };
                    self.pod_event(
                        pod,
                        Some(name),
                        EventType::Warning,
                        "BackOff",
                        &format!(
                            "Back-off restarting failed container {name} in pod {}",
                            pod_desc(pref)
                        ),
                    )
                    .await;
                    self.set_failure(
                        pref,
                        name,
                        Some(StartFailure {
                            reason: "CrashLoopBackOff",
                            message: format!(
                                "back-off {} restarting failed container={name} pod={}",
                                go_duration(backoff),
                                pod_desc(pref)
                            ),
                        }),
                    );
                    wake = Some(wake.map_or(retry, |w: Instant| w.min(retry)));
                    continue;
                }
                self.memory().restart_backoff.next(&restart_key, seen);
            }
            match self
                .start_container(pod, pref, container, &sandbox_id, &pod_ip, attempt)
                .await
            {
                Ok(()) => self.set_failure(pref, name, None),
                Err((failure, retry)) => {
                    self.set_failure(pref, name, Some(failure));
                    if let Some(retry) = retry {
                        wake = Some(wake.map_or(retry, |w: Instant| w.min(retry)));
                    }
                }
            }
        }
        wake
    }

    fn set_failure(&self, pref: &PodRef, container: &str, failure: Option<StartFailure>) {
        let mut memory = self.memory();
        match failure {
            Some(f) => {
                memory
                    .failures
                    .entry(pref.uid.clone())
                    .or_default()
                    .insert(container.to_string(), (f.reason.to_string(), f.message));
            }
            // A pod that starts cleanly keeps no entry (one per running pod otherwise).
            None => {
                if let Some(failures) = memory.failures.get_mut(&pref.uid) {
                    failures.remove(container);
                    if failures.is_empty() {
                        memory.failures.remove(&pref.uid);
                    }
                }
            }
        }
    }

    /// Ensures the image (per pull policy, with the pull back-off), then creates and starts the
    /// container. A failure comes with when to try again.
    async fn start_container(
        &self,
        pod: &Pod,
        pref: &PodRef,
        container: &Container,
        sandbox_id: &str,
        pod_ip: &str,
        attempt: u32,
    ) -> Result<(), (StartFailure, Option<Instant>)> {
        let name = container.name.as_str();
        let image = container.image.clone().unwrap_or_default();
        let key = trace_key(pref);
        self.trace
            .at_gate(|| StepDraft::new(self.actor(), Actor::Docker, &key, format!("start {name}")))
            .await;
        self.ensure_image(pod, pref, container, &image).await?;

        let config = ContainerConfig {
            pod: pref.clone(),
            node: self.node_name().to_string(),
            sandbox_id: sandbox_id.to_string(),
            container: super::security::effective_container(pod, container),
            env: resolve_env(pod, container, pod_ip, &self.config.node.internal_ip),
            mounts: self.mounts(pod, container).map_err(|message| {
                (
                    StartFailure {
                        reason: "CreateContainerConfigError",
                        message,
                    },
                    None,
                )
            })?,
            attempt,
            hash: container_hash(container),
            pod_annotations: pod.metadata.annotations.clone().unwrap_or_default(),
        };
        let id = match self.runtime.create_container(&config).await {
            Ok(id) => id,
            Err(e) => {
                return Err(self
                    .start_failed(pod, name, "CreateContainerError", &e)
                    .await);
            }
        };
        self.pod_event(
            pod,
            Some(name),
            EventType::Normal,
            "Created",
            &format!("Created container: {name}"),
        )
        .await;
        let started = std::time::Instant::now();
        if let Err(e) = self.runtime.start_container(&id).await {
            return Err(self.start_failed(pod, name, "RunContainerError", &e).await);
        }
        self.trace.record(|| {
            StepDraft::new(self.actor(), Actor::Docker, &key, format!("start {name}"))
                .took(started.elapsed())
        });
        self.pod_event(
            pod,
            Some(name),
            EventType::Normal,
            "Started",
            &format!("Started container {name}"),
        )
        .await;
        if let Err(message) = self.post_start(pod, container, &id, pod_ip).await {
            // A failed postStart hook kills the container; it starts again per policy.
            self.stop_with_hook(pod, name, &id, grace_period(pod)).await;
            return Err((
                StartFailure {
                    reason: "PostStartHookError",
                    message,
                },
                None,
            ));
        }
        Ok(())
    }

    /// A create or start the runtime refused: a Warning `Failed` event (`Error: …`) and the
    /// waiting reason, retried in 2 s.
    async fn start_failed(
        &self,
        pod: &Pod,
        name: &str,
        reason: &'static str,
        e: &RuntimeError,
    ) -> (StartFailure, Option<Instant>) {
        self.pod_event(
            pod,
            Some(name),
            EventType::Warning,
            "Failed",
            &format!("Error: {e}"),
        )
        .await;
        (
            StartFailure {
                reason,
                message: e.to_string(),
            },
            Some(Instant::now() + Duration::from_secs(2)),
        )
    }

    async fn ensure_image(
        &self,
        pod: &Pod,
        pref: &PodRef,
        container: &Container,
        image: &str,
    ) -> Result<(), (StartFailure, Option<Instant>)> {
        let name = container.name.as_str();
        let present = self.runtime.image_present(image).await.ok().flatten();
        let policy = pull_policy(container);
        let must_pull = policy == "Always" || present.is_none();
        if !must_pull {
            self.pod_event(
                pod,
                Some(name),
                EventType::Normal,
                "Pulled",
                &format!("Container image \"{image}\" already present on machine"),
            )
            .await;
            return Ok(());
        }
        if policy == "Never" {
            let message =
                format!("Container image \"{image}\" is not present with pull policy of Never");
            self.pod_event(
                pod,
                Some(name),
                EventType::Warning,
                "ErrImageNeverPull",
                &message,
            )
            .await;
            return Err((
                StartFailure {
                    reason: "ErrImageNeverPull",
                    message,
                },
                None,
            ));
        }
        let pull_key = format!("{}/{image}", pref.uid);
        let failed_at = self.memory().pull_failures.get(&pull_key).copied();
        if let Some(at) = failed_at {
            let (in_backoff, retry) = {
                let m = self.memory();
                (
                    m.image_backoff.in_backoff_since(&pull_key, at),
                    m.image_backoff.retry_at(&pull_key, at),
                )
            };
            if in_backoff {
                let message = format!("Back-off pulling image \"{image}\"");
                self.pod_event(pod, Some(name), EventType::Normal, "BackOff", &message)
                    .await;
                self.pod_event(
                    pod,
                    Some(name),
                    EventType::Warning,
                    "Failed",
                    "Error: ImagePullBackOff",
                )
                .await;
                return Err((
                    StartFailure {
                        reason: "ImagePullBackOff",
                        message,
                    },
                    Some(retry),
                ));
            }
            self.memory().image_backoff.next(&pull_key, at);
        }
        self.pod_event(
            pod,
            Some(name),
            EventType::Normal,
            "Pulling",
            &format!("Pulling image \"{image}\""),
        )
        .await;
        let started = std::time::Instant::now();
        let key = trace_key(pref);
        let trace = self.trace.clone();
        // Docker reports every few kilobytes of every layer; the bus gets a report when a layer
        // completes, when the pull ends, and otherwise at most every PULL_REPORT_GAP.
        let reports = std::sync::Mutex::new(PullReports::default());
        let progress = move |p: super::runtime::PullProgress| {
            let due = reports
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .due(&p, Instant::now());
            if !due {
                return;
            }
            trace.record(|| {
                StepDraft::new(
                    Actor::Docker,
                    Actor::Docker,
                    &key,
                    format!("pulling {}", p.image),
                )
                .progress(crate::trace::Progress {
                    bytes_done: p.bytes_done,
                    bytes_total: p.bytes_total,
                    layers_done: p.layers_done,
                    layers_total: p.layers_total,
                })
            });
        };
        match self.runtime.pull_image(image, &progress).await {
            Ok(_) => {
                self.memory().pull_failures.remove(&pull_key);
                self.memory().image_backoff.forget(&pull_key);
                let took = started.elapsed();
                self.trace.record(|| {
                    StepDraft::new(
                        Actor::Docker,
                        self.actor(),
                        trace_key(pref),
                        format!("pulled {image}"),
                    )
                    .took(took)
                });
                self.pod_event(
                    pod,
                    Some(name),
                    EventType::Normal,
                    "Pulled",
                    &format!(
                        "Successfully pulled image \"{image}\" in {}",
                        short_duration(took)
                    ),
                )
                .await;
                Ok(())
            }
            Err(e) => {
                let reason = match e {
                    RuntimeError::InvalidImageName(_) => "InvalidImageName",
                    _ => "ErrImagePull",
                };
                self.memory()
                    .pull_failures
                    .insert(pull_key.clone(), Instant::now());
                if failed_at.is_none() {
                    self.memory().image_backoff.next(&pull_key, Instant::now());
                }
                self.pod_event(
                    pod,
                    Some(name),
                    EventType::Warning,
                    "Failed",
                    &format!("Failed to pull image \"{image}\": {e}"),
                )
                .await;
                self.pod_event(
                    pod,
                    Some(name),
                    EventType::Warning,
                    "Failed",
                    &format!("Error: {reason}"),
                )
                .await;
                let retry = self
                    .memory()
                    .image_backoff
                    .retry_at(&pull_key, Instant::now());
                Err((
                    StartFailure {
                        reason,
                        message: e.to_string(),
                    },
                    Some(retry),
                ))
            }
        }
    }

    /// emptyDir volumes as directories under the kubelet's root, shared by the pod's containers.
    fn mounts(&self, pod: &Pod, container: &Container) -> Result<Vec<Mount>, String> {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let volumes = pod
            .spec
            .as_ref()
            .and_then(|s| s.volumes.clone())
            .unwrap_or_default();
        let mut mounts = Vec::new();
        for m in container.volume_mounts.iter().flatten() {
            let Some(volume) = volumes.iter().find(|v| v.name == m.name) else {
                return Err(format!("volume {:?} not found", m.name));
            };
            let host_path = if volume.empty_dir.is_some() {
                let dir = self
                    .config
                    .root_dir
                    .join("pods")
                    .join(&uid)
                    .join("volumes")
                    .join(&volume.name);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create emptyDir {:?}: {e}", volume.name))?;
                dir.display().to_string()
            } else if let Some(hp) = &volume.host_path {
                hp.path.clone()
            } else {
                return Err(format!(
                    "volume {:?}: kubox supports emptyDir volumes (and hostPath with --allow-privileged)",
                    volume.name
                ));
            };
            mounts.push(Mount {
                host_path,
                container_path: m.mount_path.clone(),
                read_only: m.read_only.unwrap_or(false),
            });
        }
        Ok(mounts)
    }

    /// Keeps the newest exited instance of each container (for logs --previous and lastState)
    /// and removes older ones (the kubelet's container GC, MaxPerPodContainer 1).
    async fn collect_garbage(&self, status: &PodStatus) {
        // Dead sandboxes other than the latest (replaced ones) hold nothing any more.
        let latest = status.sandboxes.iter().map(|s| s.attempt).max();
        for s in status
            .sandboxes
            .iter()
            .filter(|s| !s.ready && Some(s.attempt) != latest)
        {
            let _ = self.runtime.remove_sandbox(&s.id).await;
        }
        let mut by_name: BTreeMap<&str, Vec<&super::runtime::ContainerStatus>> = BTreeMap::new();
        for c in status
            .containers
            .iter()
            .filter(|c| c.state == State::Exited)
        {
            by_name.entry(c.name.as_str()).or_default().push(c);
        }
        for (_, mut dead) in by_name {
            dead.sort_by_key(|c| std::cmp::Reverse((c.attempt, c.created_at)));
            for c in dead.into_iter().skip(2) {
                let _ = self.runtime.remove_container(&c.id).await;
                self.memory().exits_seen.remove(&c.id);
            }
        }
    }

    async fn write_status(&self, pref: &PodRef, runtime: &PodStatus) {
        // Compare with what the API has now (the pod this worker holds may not show the last
        // write yet, or someone else's since): unchanged means nothing to write. A static pod's
        // status lives on its mirror pod (none yet: nothing to write to).
        let current = match self.api.get::<Pod>(Some(&pref.namespace), &pref.name) {
            Ok(p)
                if p.metadata.uid.as_deref() == Some(pref.uid.as_str())
                    || super::static_pods::mirror_of(&p) == Some(pref.uid.as_str()) =>
            {
                p
            }
            _ => return,
        };
        let pod = &current;
        let failures = self
            .memory()
            .failures
            .get(&pref.uid)
            .cloned()
            .unwrap_or_default();
        let runtime_name = self.runtime_name();
        let host_ip = self.config.node.internal_ip.clone();
        let health = self.prober.health(pod, runtime);
        let terminal = self
            .memory()
            .deadline_exceeded
            .contains(&pref.uid)
            .then_some((DEADLINE_REASON, DEADLINE_MESSAGE));
        let generated = generate(&StatusInput {
            pod,
            runtime,
            failures: &failures,
            runtime_name: &runtime_name,
            host_ip: &host_ip,
            now: now(),
            health: &health,
            terminal,
        });
        // As stored: times to the second, as the API's JSON carries them (the runtime's have
        // nanoseconds, which would make every status look new).
        let generated = serde_json::to_value(&generated)
            .and_then(serde_json::from_value)
            .unwrap_or(generated);
        if pod.status.as_ref() == Some(&generated) {
            return;
        }
        let phase = generated.phase.clone().unwrap_or_default();
        self.trace
            .at_gate(|| {
                StepDraft::new(
                    self.actor(),
                    Actor::ApiServer,
                    trace_key(pref),
                    format!("status {phase}"),
                )
            })
            .await;
        let started = std::time::Instant::now();
        let result = self
            .api
            .modify_status::<Pod>(Some(&pref.namespace), &pref.name, &self.caller(), |cur| {
                // A static pod's status goes to its mirror pod.
                if cur.metadata.uid.as_deref() != Some(pref.uid.as_str())
                    && super::static_pods::mirror_of(cur) != Some(pref.uid.as_str())
                {
                    return Err(crate::api::ApiError::not_found("pods", "", &pref.name));
                }
                let mut next = cur.clone();
                next.status = Some(generate(&StatusInput {
                    pod: cur,
                    runtime,
                    failures: &failures,
                    runtime_name: &runtime_name,
                    host_ip: &host_ip,
                    now: now(),
                    health: &health,
                    terminal,
                }));
                Ok(next)
            })
            .await;
        match result {
            Ok(_) => self.trace.record(|| {
                StepDraft::new(
                    self.actor(),
                    Actor::ApiServer,
                    trace_key(pref),
                    format!("status {phase}"),
                )
                .took(started.elapsed())
            }),
            Err(e) => tracing::debug!(pod = %pref.name, error = %e, "status write failed"),
        }
    }

    /// Stops the pod's running containers (SIGTERM, then SIGKILL after `grace`) and its sandbox.
    async fn teardown_running(&self, pod: &Pod, status: &PodStatus, grace: Duration) {
        let running: Vec<_> = status
            .containers
            .iter()
            .filter(|c| c.state == State::Running)
            .collect();
        for c in &running {
            self.pod_event(
                pod,
                Some(&c.name),
                EventType::Normal,
                "Killing",
                &format!("Stopping container {}", c.name),
            )
            .await;
        }
        let stops = running
            .iter()
            .map(|c| self.stop_with_hook(pod, &c.name, &c.id, grace));
        futures::future::join_all(stops).await;
        for s in status.sandboxes.iter().filter(|s| s.ready) {
            let _ = self.runtime.stop_sandbox(&s.id).await;
        }
    }

    /// Removes everything the runtime holds for a pod.
    pub(crate) async fn teardown(&self, status: &PodStatus, grace: Duration) {
        for c in &status.containers {
            if c.state == State::Running {
                let _ = self.runtime.stop_container(&c.id, grace).await;
            }
            let _ = self.runtime.remove_container(&c.id).await;
        }
        for s in &status.sandboxes {
            let _ = self.runtime.stop_sandbox(&s.id).await;
            let _ = self.runtime.remove_sandbox(&s.id).await;
        }
        let dir = self.config.root_dir.join("pods").join(&status.pod.uid);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A pod being deleted: stop its containers within the grace period, remove them, and
    /// (when `confirm`) tell the API server the pod is gone with a grace-0 delete.
    pub(crate) async fn terminate(&self, pod: &Pod, confirm: bool) {
        let pref = pod_ref(pod);
        let grace = pod.metadata.deletion_grace_period_seconds.map_or_else(
            || grace_period(pod),
            |s| Duration::from_secs(s.max(0) as u64),
        );
        if let Ok(status) = self.runtime.pod_status(self.node_name(), &pref).await {
            self.teardown_running(pod, &status, grace).await;
            self.teardown(&status, Duration::ZERO).await;
        }
        if !confirm {
            return;
        }
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            uid: Some(pref.uid.clone()),
            resource_version: None,
        };
        self.trace
            .at_gate(|| {
                StepDraft::new(
                    self.actor(),
                    Actor::ApiServer,
                    trace_key(&pref),
                    "DELETE pod (grace 0)",
                )
            })
            .await;
        let started = std::time::Instant::now();
        match self
            .api
            .delete::<Pod>(Some(&pref.namespace), &pref.name, &params, &self.caller())
            .await
        {
            Ok(_) => self.trace.record(|| {
                StepDraft::new(
                    self.actor(),
                    Actor::ApiServer,
                    trace_key(&pref),
                    "DELETE pod (grace 0): containers stopped",
                )
                .took(started.elapsed())
            }),
            Err(e) if e.is_not_found() || e.is_conflict() => {}
            Err(e) => {
                tracing::warn!(pod = %pref.name, error = %e, "could not confirm the deletion")
            }
        }
    }
}

fn grace_period(pod: &Pod) -> Duration {
    let secs = pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30);
    Duration::from_secs(secs.max(0) as u64)
}

/// Whether starting `container` needs the pod's IP: its env names `status.podIP(s)`, or its
/// postStart hook is an HTTP GET without a host (which goes to the pod IP).
fn names_pod_ip(container: &Container) -> bool {
    let env = container.env.iter().flatten().any(|e| {
        e.value_from
            .as_ref()
            .and_then(|f| f.field_ref.as_ref())
            .is_some_and(|f| f.field_path.starts_with("status.podIP"))
    });
    let hook = container
        .lifecycle
        .as_ref()
        .and_then(|l| l.post_start.as_ref())
        .and_then(|h| h.http_get.as_ref())
        .is_some_and(|g| g.host.is_none());
    env || hook
}

/// `env` with `valueFrom.fieldRef` resolved (pod name, namespace, uid, IP, node name, host IP,
/// service account) and literal values as given; `$(VAR)` references are expanded as Kubernetes
/// does for earlier variables.
pub fn resolve_env(
    pod: &Pod,
    container: &Container,
    pod_ip: &str,
    host_ip: &str,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for e in container.env.iter().flatten() {
        let value = if let Some(from) = &e.value_from {
            match from.field_ref.as_ref().map(|f| f.field_path.as_str()) {
                Some("metadata.name") => pod.metadata.name.clone().unwrap_or_default(),
                Some("metadata.namespace") => pod.metadata.namespace.clone().unwrap_or_default(),
                Some("metadata.uid") => pod.metadata.uid.clone().unwrap_or_default(),
                Some("status.podIP") => pod_ip.to_string(),
                Some("status.hostIP") => host_ip.to_string(),
                Some("spec.nodeName") => pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_default(),
                Some("spec.serviceAccountName") => pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.service_account_name.clone())
                    .unwrap_or_default(),
                Some(path) if path.starts_with("metadata.labels['") => {
                    let key = path
                        .trim_start_matches("metadata.labels['")
                        .trim_end_matches("']");
                    pod.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(key).cloned())
                        .unwrap_or_default()
                }
                _ => String::new(),
            }
        } else {
            expand(e.value.as_deref().unwrap_or_default(), &out)
        };
        out.push((e.name.clone(), value));
    }
    out
}

/// `$(VAR)` expansion against earlier variables; `$$` escapes; unknown references stay.
fn expand(value: &str, vars: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
        {
            let name = &inner[..end];
            match vars.iter().rev().find(|(n, _)| n == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(bytes_done: u64, layers_done: u32) -> super::super::runtime::PullProgress {
        super::super::runtime::PullProgress {
            image: "nginx:1.27".into(),
            layers_done,
            layers_total: 2,
            bytes_done,
            bytes_total: 100,
        }
    }

    #[test]
    fn pull_reports_are_thinned_but_layers_and_the_end_always_go() {
        let mut r = PullReports::default();
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        assert!(r.due(&report(1, 0), t0), "the first report goes");
        assert!(!r.due(&report(2, 0), ms(10)));
        assert!(!r.due(&report(3, 0), ms(249)));
        assert!(r.due(&report(4, 0), ms(250)), "then one per 250 ms");
        assert!(
            r.due(&report(50, 1), ms(260)),
            "a finished layer goes at once"
        );
        assert!(!r.due(&report(60, 1), ms(270)));
        assert!(r.due(&report(100, 1), ms(280)), "the end goes at once");
    }

    #[test]
    fn env_resolves_field_refs_and_references() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1", "labels": {"app": "x"}},
            "spec": {"nodeName": "node-2", "containers": [{"name": "app", "image": "busybox", "env": [
                {"name": "A", "value": "one"},
                {"name": "B", "value": "$(A)-two $$(A) $(NOPE)"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            ]}]}
        }))
        .unwrap();
        let c = &pod.spec.as_ref().unwrap().containers[0];
        assert!(names_pod_ip(c), "its env names status.podIP");
        let env = resolve_env(&pod, c, "10.88.0.2", "172.18.0.2");
        let got: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            got,
            [
                "A=one",
                "B=one-two $(A) $(NOPE)",
                "POD=web",
                "IP=10.88.0.2",
                "NODE=node-2",
                "APP=x"
            ]
        );
    }

    #[test]
    fn the_pod_ip_is_asked_for_only_when_a_container_names_it() {
        let container = |extra: serde_json::Value| -> Container {
            let mut c = json!({"name": "app", "image": "busybox"});
            c.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value(c).unwrap()
        };
        assert!(!names_pod_ip(&container(json!({}))));
        assert!(!names_pod_ip(&container(json!({"env": [
            {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]}))));
        assert!(names_pod_ip(&container(json!({"env": [
            {"name": "IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}}]}))));
        assert!(names_pod_ip(&container(json!({"lifecycle": {"postStart":
            {"httpGet": {"path": "/", "port": 80}}}}))));
        assert!(!names_pod_ip(&container(json!({"lifecycle": {"postStart":
            {"httpGet": {"host": "example", "path": "/", "port": 80}}}}))));
    }

    #[test]
    fn privileges_are_named() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "app", "image": "x", "securityContext": {"privileged": true}}]}
        }))
        .unwrap();
        assert_eq!(
            refused_privileges(&pod).as_deref(),
            Some("privileged container \"app\"")
        );
        assert_eq!(short_duration(Duration::from_millis(1234)), "1.234s");
        assert_eq!(short_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(short_duration(Duration::from_millis(12)), "12ms");
    }
}
