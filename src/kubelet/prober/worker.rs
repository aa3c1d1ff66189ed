//! One probe of one container (the prober's worker.go): probe every `periodSeconds`, after
//! `initialDelaySeconds` from the container's start, once a startup probe (if any) has passed;
//! settle a result only after `successThreshold` / `failureThreshold` results in a row; say
//! each failure as an `Unhealthy` event; after a failed liveness or startup probe, hold until
//! a new instance of the container runs.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod, Probe};

use super::ProbeKind;
use super::check::{Outcome, Target, check};
use crate::api::events::EventType;
use crate::kubelet::run::Kubelet;

pub struct Worker {
    kubelet: Arc<Kubelet>,
    pod: Arc<Pod>,
    uid: String,
    container: Container,
    kind: ProbeKind,
    probe: Probe,
}

fn seconds(value: Option<i32>, default: u64, min: i32) -> u64 {
    value.filter(|v| *v >= min).map_or(default, |v| v as u64)
}

impl Worker {
    pub fn new(
        kubelet: Arc<Kubelet>,
        pod: Arc<Pod>,
        container: Container,
        kind: ProbeKind,
        probe: Probe,
    ) -> Self {
        Worker {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            kubelet,
            pod,
            container,
            kind,
            probe,
        }
    }

    pub async fn run(self) {
        let period = Duration::from_secs(seconds(self.probe.period_seconds, 10, 1));
        let initial_delay = Duration::from_secs(seconds(self.probe.initial_delay_seconds, 0, 0));
        let success_threshold = seconds(self.probe.success_threshold, 1, 1);
        let failure_threshold = seconds(self.probe.failure_threshold, 3, 1);
        let prober = &self.kubelet.prober;
        let name = self.container.name.clone();
        let mut instance: Option<String> = None;
        let (mut last, mut run, mut on_hold) = (None::<Outcome>, 0u64, false);
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(observed) = prober.observed(&self.uid, &name) else {
                continue;
            };
            if instance.as_deref() != Some(observed.id.as_str()) {
                // A new instance: results start over.
                instance = Some(observed.id.clone());
                (last, run, on_hold) = (None, 0, false);
            }
            if on_hold {
                continue;
            }
            let started = prober.started(&self.uid, &self.container, &observed.id);
            match self.kind {
                ProbeKind::Startup if started => continue,
                ProbeKind::Liveness | ProbeKind::Readiness if !started => continue,
                _ => {}
            }
            if observed.since.elapsed() < initial_delay {
                continue;
            }
            let target = Target {
                container_id: observed.id.clone(),
                pod_ip: observed.pod_ip.clone(),
            };
            let (outcome, message) = check(
                &self.probe,
                &self.container,
                &target,
                self.kubelet.runtime.as_ref(),
            )
            .await;
            if outcome == Outcome::Failure {
                self.kubelet
                    .pod_event(
                        &self.pod,
                        Some(&name),
                        EventType::Warning,
                        "Unhealthy",
                        &format!("{} probe failed: {message}", self.kind.title()),
                    )
                    .await;
            }
            if last == Some(outcome) {
                run += 1;
            } else {
                (last, run) = (Some(outcome), 1);
            }
            let threshold = match outcome {
                Outcome::Success => success_threshold,
                Outcome::Failure => failure_threshold,
            };
            if run < threshold {
                continue;
            }
            if prober.settle(&self.uid, &name, self.kind, &observed.id, outcome) {
                self.kubelet.poke(&self.uid);
            }
            if outcome == Outcome::Failure && self.kind != ProbeKind::Readiness {
                // The container will be killed; wait for the next one.
                on_hold = true;
            }
        }
    }
}
