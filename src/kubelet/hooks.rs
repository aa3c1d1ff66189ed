//! Container lifecycle hooks (the kubelet's lifecycle handlers): `postStart` right after a
//! container starts (a failure kills it: `PostStartHookError`), `preStop` before it is stopped,
//! inside the grace period. Handlers: exec (in the container), httpGet (to the pod), sleep.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, LifecycleHandler, Pod};

use super::prober::check::{header_pairs, http_get, port as hook_port};
use super::run::{Kubelet, pod_ref};
use super::runtime::exec::ExecRequest;
use super::sync::pod_desc;
use crate::api::EventType;

impl Kubelet {
    /// Runs `handler` for container `id`; the error is the kubelet's event message.
    async fn run_handler(
        &self,
        pod: &Pod,
        container: &Container,
        id: &str,
        handler: &LifecycleHandler,
        pod_ip: &str,
    ) -> Result<(), String> {
        let who = format!(
            "for Container {:?} in Pod {:?}",
            container.name,
            pod_desc(&pod_ref(pod))
        );
        if let Some(exec) = &handler.exec {
            let command = exec.command.clone().unwrap_or_default();
            let request = ExecRequest {
                command: command.clone(),
                stdout: true,
                stderr: true,
                ..ExecRequest::default()
            };
            let outcome = match self.runtime.exec(id, &request).await {
                Ok(session) => session.collect().await,
                Err(e) => Err(e),
            };
            let (error, output) = match outcome {
                Ok(r) if r.exit_code == 0 => return Ok(()),
                Ok(r) => (
                    format!(
                        "command '{}' exited with {}: {}",
                        command.join(" "),
                        r.exit_code,
                        String::from_utf8_lossy(&r.stderr)
                    ),
                    String::from_utf8_lossy(&[r.stdout, r.stderr].concat()).into_owned(),
                ),
                Err(e) => (e.to_string(), String::new()),
            };
            return Err(format!(
                "Exec lifecycle hook ([{}]) {who} failed - error: {error}, message: {output:?}",
                command.join(" ")
            ));
        }
        if let Some(http) = &handler.http_get {
            let path = http.path.clone().unwrap_or_else(|| "/".into());
            let fail =
                |e: String| format!("HTTP lifecycle hook ({path}) {who} failed - error: {e}");
            let port = hook_port(&http.port, container).map_err(fail)?;
            let host = http.host.clone().unwrap_or_else(|| pod_ip.to_string());
            let headers = header_pairs(http);
            let addr = format!("{host}:{port}");
            return match http_get(&addr, &path, &headers, Duration::from_secs(10)).await {
                Ok(_) => Ok(()),
                Err(e) => Err(fail(e)),
            };
        }
        if let Some(sleep) = &handler.sleep {
            tokio::time::sleep(Duration::from_secs(sleep.seconds.max(0) as u64)).await;
            return Ok(());
        }
        Err(format!(
            "lifecycle hook {who} has no handler kubox runs (exec, httpGet, sleep)"
        ))
    }

    /// `postStart`, if any; its failure is recorded as `FailedPostStartHook` and returned.
    pub(crate) async fn post_start(
        &self,
        pod: &Pod,
        container: &Container,
        id: &str,
        pod_ip: &str,
    ) -> Result<(), String> {
        let Some(handler) = container
            .lifecycle
            .as_ref()
            .and_then(|l| l.post_start.as_ref())
        else {
            return Ok(());
        };
        let result = self.run_handler(pod, container, id, handler, pod_ip).await;
        if let Err(message) = &result {
            self.pod_event(
                pod,
                Some(&container.name),
                EventType::Warning,
                "FailedPostStartHook",
                message,
            )
            .await;
        }
        result
    }

    /// Runs `preStop` (if the container has one) within `grace`, then stops the container with
    /// what is left of it.
    pub(crate) async fn stop_with_hook(&self, pod: &Pod, name: &str, id: &str, grace: Duration) {
        let started = Instant::now();
        let container = pod
            .spec
            .as_ref()
            .and_then(|s| super::pod_actions::spec_container(s, name));
        if let Some(container) = container
            && let Some(handler) = container
                .lifecycle
                .as_ref()
                .and_then(|l| l.pre_stop.as_ref())
        {
            let pod_ip = pod
                .status
                .as_ref()
                .and_then(|s| s.pod_ip.clone())
                .unwrap_or_default();
            let hook = self.run_handler(pod, container, id, handler, &pod_ip);
            let failed = match tokio::time::timeout(grace, hook).await {
                Ok(Ok(())) => None,
                Ok(Err(message)) => Some(message),
                Err(_) => Some(format!(
                    "PreStop hook for Container {name:?} in Pod {:?} did not complete in {}s",
                    pod_desc(&pod_ref(pod)),
                    grace.as_secs()
                )),
            };
            if let Some(message) = failed {
                self.pod_event(
                    pod,
                    Some(name),
                    EventType::Warning,
                    "FailedPreStopHook",
                    &message,
                )
                .await;
            }
        }
        let left = grace.saturating_sub(started.elapsed());
        let _ = self.runtime.stop_container(id, left).await;
    }
}
