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

/// The kubelet of the pod's node, which kube-apiserver would ask for logs and exec; its
/// errors when the pod has no node yet or no kubelet answers for it.
pub fn node_kubelet(
    kubelets: &[std::sync::Arc<Kubelet>],
    pod: &Pod,
) -> Result<std::sync::Arc<Kubelet>, ApiError> {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!("pod {name} does not have a host assigned"))
        })?;
    kubelets
        .iter()
        .find(|k| k.node_name() == node)
        .cloned()
        .ok_or_else(|| ApiError::unavailable(format!("no kubelet answers for node {node}")))
}

/// The container a `log` or `exec` request means: the one named (which must be one of the
/// pod's), or the pod's only container; kube-apiserver's errors otherwise.
pub fn container_to_use(pod: &Pod, requested: Option<&str>) -> Result<String, ApiError> {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let names: Vec<&str> = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.as_str()))
        .collect();
    let container = match (requested.filter(|c| !c.is_empty()), names.as_slice()) {
        (Some(c), _) => c,
        (None, [only]) => only,
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
    Ok(container.to_string())
}

impl Kubelet {
    /// The output of one of `pod`'s containers.
    pub async fn logs(
        &self,
        pod: &Pod,
        request: &LogRequest,
    ) -> Result<BoxStream<'static, Result<Bytes, ApiError>>, ApiError> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let container = container_to_use(pod, request.container.as_deref())?;
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
