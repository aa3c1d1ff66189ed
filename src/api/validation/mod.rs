//! Kubernetes v1.32 validation for the core/v1 objects kubox stores (pods, nodes,
//! namespaces, events) and coordination/v1 leases, with Kubernetes' exact error texts.
//!
//! Entry points: [`validate_pod_create`], [`validate_pod_update`],
//! [`validate_pod_status_update`], [`validate_node`], [`validate_node_update`],
//! [`validate_namespace`], [`validate_namespace_update`],
//! [`validate_namespace_status_update`], [`validate_event`], [`validate_lease`],
//! [`validate_lease_update`]. Each returns a list of [`FieldError`]s; an empty list means
//! valid. Format a rejection with [`invalid_message`] (`Pod "web" is invalid: …`).
//! Objects are expected to be defaulted first (see `crate::api::defaults`).
pub mod container;
pub mod event;
pub mod field;
pub mod lease;
pub mod messages;
pub mod meta;
pub mod names;
pub mod namespace;
pub mod node;
pub mod pod;
pub mod pod_update;
pub mod priority_class;
pub mod scheduling;

pub use event::validate_event;
pub use field::{FieldError, FieldErrorKind, Path, Value, aggregate, invalid_message};
pub use lease::{validate_lease, validate_lease_update};
pub use meta::{NameKind, validate_object_meta, validate_object_meta_update};
pub use namespace::{
    validate_namespace, validate_namespace_status_update, validate_namespace_update,
};
pub use node::{validate_node, validate_node_update};
pub use pod::{first_quantity_error, validate_pod_create};
pub use pod_update::{validate_pod_status_update, validate_pod_update};
pub use priority_class::{validate_priority_class, validate_priority_class_update};

/// The text of an optional string field (`""` when absent), as Go sees a string field.
pub(crate) fn opt_str(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Test helpers: pods built from JSON and defaulted like the API server does.
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::{Value as Json, json};

    use super::FieldError;

    /// A defaulted pod from its JSON form.
    pub fn pod(value: Json) -> Pod {
        let mut pod: Pod = serde_json::from_value(value).expect("fixture pod must deserialize");
        crate::api::defaults::default_pod(&mut pod);
        pod
    }

    /// The JSON of a minimal valid pod `default/web` with one container `app`.
    pub fn web_json() -> Json {
        json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}
        })
    }

    /// `web_json()` changed by `edit`, then defaulted.
    pub fn web_with(edit: impl FnOnce(&mut Json)) -> Pod {
        let mut value = web_json();
        edit(&mut value);
        pod(value)
    }

    /// Rendered error messages.
    pub fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }
}
