//! `pods/exec`: the kubelet finds the running instance of the container and has the runtime
//! run the command in it. The errors are the kubelet's own plain texts, which kubectl shows
//! after `unable to upgrade connection: `.

use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;

use super::run::{Kubelet, pod_ref};
use super::runtime::State;
use super::runtime::exec::{ExecRequest, ExecSession};
use super::sync::trace_key;
use crate::trace::{Actor, StepDraft};

/// A container that can take an exec: running, on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecTarget {
    pub pod_key: String,
    pub container: String,
    pub id: String,
}

impl Kubelet {
    /// The running instance of `container` in `pod`, or the kubelet's error text.
    pub async fn exec_target(&self, pod: &Pod, container: &str) -> Result<ExecTarget, String> {
        let pref = pod_ref(pod);
        let status = self
            .runtime
            .pod_status(self.node_name(), &pref)
            .await
            .map_err(|e| e.to_string())?;
        match status.latest(container) {
            Some(c) if c.state == State::Running => Ok(ExecTarget {
                pod_key: trace_key(&pref),
                container: container.to_string(),
                id: c.id.clone(),
            }),
            _ => Err(format!("container not found ({container:?})")),
        }
    }

    /// Kills the running instance of `container` (SIGKILL, as `docker kill` does), for the
    /// TUI's "kill a container" — a crash from outside. Only this node's own instance of the
    /// pod's container is found, so nothing else on the daemon can be touched. The kubelet
    /// notices the exit through the runtime's events and restarts it per the restart policy.
    pub async fn kill_container(&self, pod: &Pod, container: &str) -> Result<(), String> {
        let target = self.exec_target(pod, container).await?;
        let started = Instant::now();
        self.runtime
            .kill_container(&target.id)
            .await
            .map_err(|e| e.to_string())?;
        self.trace.record(|| {
            StepDraft::new(
                Actor::You,
                Actor::Docker,
                &target.pod_key,
                format!("kill {} (SIGKILL)", target.container),
            )
            .took(started.elapsed())
        });
        Ok(())
    }

    /// Starts `request` in `target`, leaving `kubelet → Docker: exec …` on the trace bus.
    pub async fn exec(
        &self,
        target: &ExecTarget,
        request: &ExecRequest,
    ) -> Result<ExecSession, String> {
        let started = Instant::now();
        let session = self
            .runtime
            .exec(&target.id, request)
            .await
            .map_err(|e| e.to_string())?;
        self.trace.record(|| {
            StepDraft::new(
                self.actor(),
                Actor::Docker,
                &target.pod_key,
                format!(
                    "exec in {}: {}",
                    target.container,
                    request.command.join(" ")
                ),
            )
            .took(started.elapsed())
        });
        Ok(session)
    }
}
