//! The node lifecycle controller (kube-controller-manager's): it watches each node's heartbeat
//! (its Lease renewals), and when a kubelet has been silent longer than the grace period
//! (`--node-monitor-grace-period`, 40 s as in Kubernetes) it marks the node's conditions
//! `Unknown` (`Kubelet stopped posting node status.`), taints it
//! `node.kubernetes.io/unreachable` (NoSchedule and NoExecute), marks its pods not Ready, and
//! says so in events. When the heartbeat returns and the kubelet reports Ready, the taints go.
//! The taint eviction part deletes pods that do not tolerate the NoExecute taint — at once, or
//! after their `tolerationSeconds` (300 s by the DefaultTolerationSeconds default).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, PodCondition, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::events::object_reference;
use crate::api::server::set_pod_condition;
use crate::api::{Api, ApiServer, DeleteParams, EventRecorder, EventType, ListParams};
use crate::kubelet::node::LEASE_NAMESPACE;
use crate::trace::Actor;

pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const STATUS_UNKNOWN_MESSAGE: &str = "Kubelet stopped posting node status.";

#[derive(Debug, Clone, Copy)]
pub struct NodeLifecycleConfig {
    /// How often nodes are checked (`--node-monitor-period`, 5 s).
    pub monitor_period: Duration,
    /// How long a kubelet may be silent before its node is Unknown (40 s).
    pub grace_period: Duration,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            monitor_period: Duration::from_secs(5),
            grace_period: Duration::from_secs(40),
        }
    }
}

pub struct NodeLifecycle {
    api: ApiServer,
    config: NodeLifecycleConfig,
    events: EventRecorder,
    /// Per node: the last renew time seen, and when (on this controller's clock) it changed.
    heard: Mutex<HashMap<String, (Option<MicroTime>, Instant)>>,
    /// Per node: the Ready status seen last pass (a change from True is said and acted on).
    last_ready: Mutex<HashMap<String, String>>,
}

fn actor() -> Actor {
    Actor::Client("node-controller".into())
}

fn unreachable_taints(now: Time) -> [Taint; 2] {
    [
        Taint {
            key: TAINT_UNREACHABLE.into(),
            effect: "NoSchedule".into(),
            time_added: None,
            value: None,
        },
        Taint {
            key: TAINT_UNREACHABLE.into(),
            effect: "NoExecute".into(),
            time_added: Some(now),
            value: None,
        },
    ]
}

fn ready_status(node: &Node) -> Option<String> {
    crate::kubelet::node::ready_status(node.status.as_ref())
}

fn has_unreachable(node: &Node) -> bool {
    node.spec
        .iter()
        .flat_map(|s| s.taints.iter().flatten())
        .any(|t| t.key == TAINT_UNREACHABLE)
}

/// How long `pod` tolerates `taint` (`None`: forever; `Some(0)`: not at all).
fn toleration(pod: &Pod, taint: &Taint) -> Option<Duration> {
    let matching: Vec<Option<i64>> = pod
        .spec
        .iter()
        .flat_map(|s| s.tolerations.iter().flatten())
        .filter(|t| {
            let key_ok = match t.operator.as_deref() {
                Some("Exists") => t
                    .key
                    .as_deref()
                    .is_none_or(|k| k.is_empty() || k == taint.key),
                _ => {
                    t.key.as_deref() == Some(taint.key.as_str())
                        && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
                }
            };
            let effect_ok = t
                .effect
                .as_deref()
                .is_none_or(|e| e.is_empty() || e == taint.effect);
            key_ok && effect_ok
        })
        .map(|t| t.toleration_seconds)
        .collect();
    if matching.is_empty() {
        return Some(Duration::ZERO);
    }
    if matching.iter().any(Option::is_none) {
        return None;
    }
    matching
        .into_iter()
        .flatten()
        .max()
        .map(|s| Duration::from_secs(s.max(0) as u64))
}

impl NodeLifecycle {
    pub fn new(api: &ApiServer, config: NodeLifecycleConfig) -> Self {
        NodeLifecycle {
            api: api.clone(),
            config,
            events: EventRecorder::new(api, "node-controller", None, actor()),
            heard: Mutex::new(HashMap::new()),
            last_ready: Mutex::new(HashMap::new()),
        }
    }

    pub async fn run(self: std::sync::Arc<Self>, stop: CancellationToken) {
        loop {
            if let Err(e) = self.monitor().await {
                tracing::debug!(error = %e, "node lifecycle pass failed");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.config.monitor_period) => {}
            }
        }
    }

    /// One pass over every node.
    pub async fn monitor(&self) -> Result<(), crate::api::ApiError> {
        let nodes: Api<Node> = Api::all(&self.api, actor());
        let leases: Api<Lease> = Api::namespaced(&self.api, LEASE_NAMESPACE, actor());
        let renewals: HashMap<String, Option<MicroTime>> = leases
            .list(&ListParams::default())?
            .items
            .into_iter()
            .map(|l| {
                (
                    l.metadata.name.clone().unwrap_or_default(),
                    l.spec.and_then(|s| s.renew_time),
                )
            })
            .collect();
        for node in nodes.list(&ListParams::default())?.items {
            let name = node.metadata.name.clone().unwrap_or_default();
            let renew = renewals.get(&name).cloned().flatten();
            let silent_for = {
                let mut heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
                let entry = heard
                    .entry(name.clone())
                    .or_insert_with(|| (renew.clone(), Instant::now()));
                if entry.0 != renew {
                    *entry = (renew, Instant::now());
                }
                entry.1.elapsed()
            };
            let mut ready = ready_status(&node);
            if silent_for > self.config.grace_period {
                if ready.as_deref() != Some("Unknown") || !has_unreachable(&node) {
                    self.mark_unreachable(&name).await?;
                    ready = Some("Unknown".into());
                }
            } else if ready.as_deref() == Some("True") && has_unreachable(&node) {
                self.clear_unreachable(&name).await?;
            }
            // Not Ready any more (the kubelet said False, or went silent): said once, and its
            // pods are no longer Ready (MarkPodsNotReady).
            let now_ready = ready.unwrap_or_default();
            let before = self
                .last_ready
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(name.clone(), now_ready.clone());
            if now_ready != "True" && before.as_deref() == Some("True") {
                let _ = self
                    .events
                    .record(
                        &object_reference(&node),
                        EventType::Normal,
                        "NodeNotReady",
                        &format!("Node {name} status is now: NodeNotReady"),
                    )
                    .await;
                self.mark_pods_not_ready(&name).await?;
            }
            self.evict_intolerant(&name).await?;
        }
        Ok(())
    }

    async fn mark_unreachable(&self, name: &str) -> Result<(), crate::api::ApiError> {
        let nodes: Api<Node> = Api::all(&self.api, actor());
        let now = Time(Timestamp::now());
        let node = nodes.get(name)?;
        let mut next = node.clone();
        for c in next
            .status
            .iter_mut()
            .flat_map(|s| s.conditions.iter_mut().flatten())
        {
            if c.status != "Unknown" {
                c.status = "Unknown".into();
                c.reason = Some("NodeStatusUnknown".into());
                c.message = Some(STATUS_UNKNOWN_MESSAGE.into());
                c.last_transition_time = Some(now.clone());
            }
        }
        let node = nodes.replace_status(name, next).await?;
        let mut next = node.clone();
        let taints = next
            .spec
            .get_or_insert_with(Default::default)
            .taints
            .get_or_insert_with(Vec::new);
        for taint in unreachable_taints(now) {
            if !taints
                .iter()
                .any(|t| t.key == taint.key && t.effect == taint.effect)
            {
                taints.push(taint);
            }
        }
        nodes.replace(name, next).await?;
        Ok(())
    }

    /// `MarkPodsNotReady`: the node's pods are no longer Ready.
    async fn mark_pods_not_ready(&self, node: &str) -> Result<(), crate::api::ApiError> {
        let pods: Api<Pod> = Api::all(&self.api, actor());
        let list = pods.list(&ListParams::default().fields(&format!("spec.nodeName={node}")))?;
        let caller = crate::api::Caller::new(actor());
        for pod in list.items {
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let condition = PodCondition {
                type_: "Ready".into(),
                status: "False".into(),
                last_transition_time: Some(Time(Timestamp::now())),
                ..PodCondition::default()
            };
            let marked = self
                .api
                .modify_status::<Pod>(Some(&ns), &name, &caller, |cur| {
                    let mut next = cur.clone();
                    set_pod_condition(&mut next, condition.clone());
                    Ok(next)
                })
                .await;
            if marked.is_ok() {
                let _ = self
                    .events
                    .record(
                        &object_reference(&pod),
                        EventType::Warning,
                        "NodeNotReady",
                        "Node is not ready",
                    )
                    .await;
            }
        }
        Ok(())
    }

    async fn clear_unreachable(&self, name: &str) -> Result<(), crate::api::ApiError> {
        let nodes: Api<Node> = Api::all(&self.api, actor());
        let mut next = nodes.get(name)?;
        if let Some(spec) = next.spec.as_mut() {
            let left: Vec<Taint> = spec
                .taints
                .take()
                .unwrap_or_default()
                .into_iter()
                .filter(|t| t.key != TAINT_UNREACHABLE)
                .collect();
            spec.taints = (!left.is_empty()).then_some(left);
        }
        nodes.replace(name, next).await?;
        Ok(())
    }

    /// Taint eviction: pods on a node with NoExecute taints they do not tolerate (long enough)
    /// are deleted.
    async fn evict_intolerant(&self, node_name: &str) -> Result<(), crate::api::ApiError> {
        let nodes: Api<Node> = Api::all(&self.api, actor());
        let node = nodes.get(node_name)?;
        let taints: Vec<Taint> = node
            .spec
            .iter()
            .flat_map(|s| s.taints.iter().flatten())
            .filter(|t| t.effect == "NoExecute")
            .cloned()
            .collect();
        if taints.is_empty() {
            return Ok(());
        }
        let pods: Api<Pod> = Api::all(&self.api, actor());
        let list =
            pods.list(&ListParams::default().fields(&format!("spec.nodeName={node_name}")))?;
        let now = Timestamp::now();
        for pod in list.items {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let due = taints.iter().any(|taint| match toleration(&pod, taint) {
                None => false,
                Some(limit) => {
                    let added = taint.time_added.as_ref().map_or(now, |t| t.0);
                    let waited = Duration::try_from(now - added).unwrap_or_default();
                    waited >= limit
                }
            });
            if !due {
                continue;
            }
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let _ = self
                .events
                .record(
                    &object_reference(&pod),
                    EventType::Normal,
                    "TaintManagerEviction",
                    &format!("Marking for deletion Pod {ns}/{name}"),
                )
                .await;
            let namespaced: Api<Pod> = Api::namespaced(&self.api, &ns, actor());
            match namespaced.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(tolerations: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [], "tolerations": tolerations},
        }))
        .unwrap()
    }

    #[test]
    fn tolerations_of_the_unreachable_taint() {
        let [_, no_execute] = unreachable_taints(Time(Timestamp::UNIX_EPOCH));
        assert_eq!(
            toleration(&pod(serde_json::json!([])), &no_execute),
            Some(Duration::ZERO)
        );
        let default = pod(
            serde_json::json!([{"key": TAINT_UNREACHABLE, "operator": "Exists",
            "effect": "NoExecute", "tolerationSeconds": 300}]),
        );
        assert_eq!(
            toleration(&default, &no_execute),
            Some(Duration::from_secs(300))
        );
        let forever = pod(serde_json::json!([{"operator": "Exists"}]));
        assert_eq!(toleration(&forever, &no_execute), None);
        let other = pod(serde_json::json!([{"key": "gpu", "operator": "Exists"}]));
        assert_eq!(toleration(&other, &no_execute), Some(Duration::ZERO));
    }
}
