//! One trait over the k8s-openapi types kubox serves, as kube-apiserver's REST strategies are: the
//! generic verbs in [`super::server`] ask the kind only what differs per kind (where it lives in
//! the store, its field labels, defaulting, validation, which part a status write may touch, how
//! it is deleted). No verb is written per kind.

use std::fmt::Debug;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::defaults;
use super::validation::{self, FieldError};

/// A Kubernetes kind kubox stores and serves.
pub trait Kind:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + Serialize
    + DeserializeOwned
    + Clone
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The etcd registry segment: `/registry/<REGISTRY>/...` (Kubernetes keeps nodes under
    /// `minions`).
    const REGISTRY: &'static str;
    const NAMESPACED: bool;
    /// Field selectors this kind supports, beyond none.
    const FIELD_LABELS: &'static [&'static str] = &["metadata.name", "metadata.namespace"];

    /// The value of a supported field label.
    fn field_value(&self, field: &str) -> Option<String> {
        meta_field(self.metadata(), field)
    }

    /// Defaults applied on create (uid, timestamps and resourceVersion are the server's job).
    fn default_on_create(&mut self) {}

    /// Gives back the spare capacity decoding left, for objects that will be kept long.
    fn shrink_to_fit(&mut self) {}

    fn validate_create(&self) -> Vec<FieldError> {
        validation::validate_object_meta(
            self.metadata(),
            Self::NAMESPACED,
            validation::NameKind::DnsSubdomain,
        )
    }

    /// On a main-resource update: carry over what the client may not change here (the status).
    fn prepare_for_update(&mut self, _old: &Self) {}

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        validation::validate_object_meta_update(self.metadata(), old.metadata())
    }

    /// Whether the kind has a `status` subresource.
    fn has_status() -> bool {
        false
    }

    /// On a status update: keep everything but the status (and labels/annotations, which a
    /// status writer may not change either).
    fn prepare_for_status_update(&mut self, _old: &Self) {}

    fn validate_status_update(&self, old: &Self) -> Vec<FieldError> {
        self.validate_update(old)
    }

    /// The grace period a delete gets: `None` or `Some(0)` deletes at once; `Some(n)` marks the
    /// object with a deletionTimestamp and waits for its owner (the kubelet) to finish.
    fn delete_grace_seconds(&self, _requested: Option<i64>) -> Option<i64> {
        None
    }
}

/// Field labels every kind has.
pub fn meta_field(meta: &ObjectMeta, field: &str) -> Option<String> {
    match field {
        "metadata.name" => Some(meta.name.clone().unwrap_or_default()),
        "metadata.namespace" => Some(meta.namespace.clone().unwrap_or_default()),
        _ => None,
    }
}

/// Copies the status of `old` into `new` (main-resource updates), or everything but the status
/// (status updates), for kinds whose `status` is an `Option`.
macro_rules! status_split {
    () => {
        fn has_status() -> bool {
            true
        }

        fn prepare_for_update(&mut self, old: &Self) {
            self.status = old.status.clone();
        }

        fn prepare_for_status_update(&mut self, old: &Self) {
            keep_all_but_status(self, old);
        }
    };
}

/// A status write changes the status only: everything else comes from the stored object.
fn keep_all_but_status<K>(new: &mut K, old: &K)
where
    K: Kind + HasStatus,
{
    let status = new.take_status();
    let rv = new.metadata_mut().resource_version.take();
    *new = old.clone();
    new.put_status(status);
    new.metadata_mut().resource_version = rv;
}

/// Kinds with an optional `status` field.
pub trait HasStatus {
    type Status;
    fn take_status(&mut self) -> Option<Self::Status>;
    fn put_status(&mut self, status: Option<Self::Status>);
}

macro_rules! has_status {
    ($($kind:ty => $status:ty),* $(,)?) => {$(
        impl HasStatus for $kind {
            type Status = $status;
            fn take_status(&mut self) -> Option<$status> {
                self.status.take()
            }
            fn put_status(&mut self, status: Option<$status>) {
                self.status = status;
            }
        }
    )*};
}

has_status!(
    Pod => k8s_openapi::api::core::v1::PodStatus,
    Node => k8s_openapi::api::core::v1::NodeStatus,
    Namespace => k8s_openapi::api::core::v1::NamespaceStatus,
);

impl Kind for Pod {
    const REGISTRY: &'static str = "pods";
    const NAMESPACED: bool = true;
    const FIELD_LABELS: &'static [&'static str] = &[
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ];

    fn field_value(&self, field: &str) -> Option<String> {
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        let s = |v: Option<&String>| Some(v.cloned().unwrap_or_default());
        match field {
            "spec.nodeName" => s(spec.and_then(|s| s.node_name.as_ref())),
            "spec.restartPolicy" => s(spec.and_then(|s| s.restart_policy.as_ref())),
            "spec.schedulerName" => s(spec.and_then(|s| s.scheduler_name.as_ref())),
            "spec.serviceAccountName" => s(spec.and_then(|s| s.service_account_name.as_ref())),
            "spec.hostNetwork" => Some(
                spec.and_then(|s| s.host_network)
                    .unwrap_or(false)
                    .to_string(),
            ),
            "status.phase" => s(status.and_then(|s| s.phase.as_ref())),
            "status.podIP" => s(status.and_then(|s| s.pod_ip.as_ref())),
            "status.nominatedNodeName" => s(status.and_then(|s| s.nominated_node_name.as_ref())),
            _ => meta_field(&self.metadata, field),
        }
    }

    fn default_on_create(&mut self) {
        defaults::default_pod(self);
    }

    fn shrink_to_fit(&mut self) {
        super::shrink::pod(self);
    }

    fn validate_create(&self) -> Vec<FieldError> {
        validation::validate_pod_create(self)
    }

    fn prepare_for_update(&mut self, old: &Self) {
        self.status = old.status.clone();
        // kube-apiserver decodes every update through the v1 defaults (and admission adds the
        // default tolerations), so an update that omits them is not a change.
        defaults::default_pod_for_update(self);
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        validation::validate_pod_update(self, old)
    }

    fn has_status() -> bool {
        true
    }

    fn prepare_for_status_update(&mut self, old: &Self) {
        keep_all_but_status(self, old);
    }

    fn validate_status_update(&self, old: &Self) -> Vec<FieldError> {
        validation::validate_pod_status_update(self, old)
    }

    fn delete_grace_seconds(&self, requested: Option<i64>) -> Option<i64> {
        let spec = self.spec.as_ref();
        let unscheduled = spec
            .and_then(|s| s.node_name.as_deref())
            .is_none_or(str::is_empty);
        let phase = self.status.as_ref().and_then(|s| s.phase.as_deref());
        // As kube-apiserver: a pod no kubelet runs, or one that already ended, goes at once.
        if unscheduled || matches!(phase, Some("Succeeded" | "Failed")) {
            return Some(0);
        }
        let grace = requested
            .or_else(|| spec.and_then(|s| s.termination_grace_period_seconds))
            .unwrap_or(30);
        // A negative grace period means "as soon as possible but not forced".
        Some(if grace < 0 { 1 } else { grace })
    }
}

impl Kind for Node {
    const REGISTRY: &'static str = "minions";
    const NAMESPACED: bool = false;
    const FIELD_LABELS: &'static [&'static str] = &["metadata.name", "spec.unschedulable"];

    fn shrink_to_fit(&mut self) {
        super::shrink::node(self);
    }

    fn field_value(&self, field: &str) -> Option<String> {
        match field {
            "spec.unschedulable" => Some(
                self.spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false)
                    .to_string(),
            ),
            _ => meta_field(&self.metadata, field),
        }
    }

    fn default_on_create(&mut self) {
        defaults::default_node(self);
    }

    fn validate_create(&self) -> Vec<FieldError> {
        validation::validate_node(self)
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        validation::validate_node_update(self, old)
    }

    status_split!();
}

impl Kind for Namespace {
    const REGISTRY: &'static str = "namespaces";
    const NAMESPACED: bool = false;
    const FIELD_LABELS: &'static [&'static str] = &["metadata.name", "status.phase"];

    fn field_value(&self, field: &str) -> Option<String> {
        match field {
            "status.phase" => Some(
                self.status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_default(),
            ),
            _ => meta_field(&self.metadata, field),
        }
    }

    fn default_on_create(&mut self) {
        defaults::default_namespace(self);
    }

    fn validate_create(&self) -> Vec<FieldError> {
        validation::validate_namespace(self)
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        validation::validate_namespace_update(self, old)
    }

    fn validate_status_update(&self, old: &Self) -> Vec<FieldError> {
        validation::validate_namespace_status_update(self, old)
    }

    status_split!();
}

impl Kind for Event {
    const REGISTRY: &'static str = "events";
    const NAMESPACED: bool = true;
    const FIELD_LABELS: &'static [&'static str] = &[
        "metadata.name",
        "metadata.namespace",
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ];

    fn field_value(&self, field: &str) -> Option<String> {
        let o = &self.involved_object;
        let s = |v: &Option<String>| Some(v.clone().unwrap_or_default());
        match field {
            "involvedObject.kind" => s(&o.kind),
            "involvedObject.namespace" => s(&o.namespace),
            "involvedObject.name" => s(&o.name),
            "involvedObject.uid" => s(&o.uid),
            "involvedObject.apiVersion" => s(&o.api_version),
            "involvedObject.resourceVersion" => s(&o.resource_version),
            "involvedObject.fieldPath" => s(&o.field_path),
            "reason" => s(&self.reason),
            "reportingComponent" => s(&self.reporting_component),
            "source" => s(&self.source.as_ref().and_then(|src| src.component.clone())),
            "type" => s(&self.type_),
            _ => meta_field(&self.metadata, field),
        }
    }

    fn validate_create(&self) -> Vec<FieldError> {
        validation::validate_event(self)
    }
}

impl Kind for Lease {
    const REGISTRY: &'static str = "leases";
    const NAMESPACED: bool = true;

    fn validate_create(&self) -> Vec<FieldError> {
        validation::validate_lease(self)
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        validation::validate_lease_update(self, old)
    }
}

impl Kind for PriorityClass {
    const REGISTRY: &'static str = "priorityclasses";
    const NAMESPACED: bool = false;

    /// `SetDefaults_PriorityClass`.
    fn default_on_create(&mut self) {
        self.preemption_policy
            .get_or_insert_with(|| "PreemptLowerPriority".to_string());
    }

    /// Defaulting runs on every decode, updates included.
    fn prepare_for_update(&mut self, _old: &Self) {
        self.default_on_create();
    }

    fn validate_create(&self) -> Vec<FieldError> {
        validation::validate_priority_class(self)
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        validation::validate_priority_class_update(self, old)
    }
}
