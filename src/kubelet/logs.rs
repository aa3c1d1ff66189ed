//! `pods/log`: the kubelet finds the container instance (the current one, or the previous with
//! `previous`) and streams its output from the runtime, with the kubelet's own error texts.

use bytes::Bytes;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::Pod;

use super::run::{Kubelet, pod_ref};
use super::runtime::{LogOptions, State};
use crate::api::ApiError;

/// What `kubectl logs` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRequest {
    pub container: Option<String>,
    pub previous: bool,
    pub options: LogOptions,
}

impl Kubelet {
    /// The output of one of `pod`'s containers.
    pub async fn logs(
        &self,
        pod: &Pod,
        request: &LogRequest,
    ) -> Result<BoxStream<'static, Result<Bytes, ApiError>>, ApiError> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let names: Vec<String> = pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
            .collect();
        let container = match (&request.container, names.as_slice()) {
            (Some(c), _) if c.is_empty() && names.len() == 1 => names[0].clone(),
            (Some(c), _) if !c.is_empty() => c.clone(),
            (None, [only]) => only.clone(),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    names.join(" ")
                )));
            }
        };
        if !names.contains(&container) {
            return Err(ApiError::bad_request(format!(
                "container {container} is not valid for pod {name}"
            )));
        }
        let status = self
            .runtime
            .pod_status(self.node_name(), &pod_ref(pod))
            .await
            .map_err(|e| ApiError::unavailable(e.to_string()))?;
        let instance = if request.previous {
            status.previous(&container).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "previous terminated container {container:?} in pod {name:?} not found"
                ))
            })?
        } else {
            match status.latest(&container) {
                Some(c) if c.state != State::Created => c,
                _ => {
                    let reason = pod
                        .status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .and_then(|cs| cs.iter().find(|c| c.name == container))
                        .and_then(|c| c.state.as_ref())
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.clone())
                        .unwrap_or_else(|| "ContainerCreating".into());
                    return Err(ApiError::bad_request(format!(
                        "container {container:?} in pod {name:?} is waiting to start: {reason}"
                    )));
                }
            }
        };
        let stream = self
            .runtime
            .logs(&instance.id, &request.options)
            .await
            .map_err(ApiError::internal)?;
        use futures::StreamExt;
        Ok(stream
            .map(|chunk| chunk.map_err(ApiError::internal))
            .boxed())
    }
}
