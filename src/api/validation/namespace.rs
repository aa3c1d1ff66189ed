//! Namespace validation (`ValidateNamespace`, `ValidateNamespaceUpdate`,
//! `ValidateNamespaceStatusUpdate`, v1.32). Namespace names are DNS-1123 *labels*.

use k8s_openapi::api::core::v1::Namespace;

use super::field::{FieldError, Path};
use super::messages as msg;
use super::meta::{
    NameKind, validate_kube_finalizer_name, validate_object_meta, validate_object_meta_update,
};
use super::names::is_qualified_name;
use super::opt_str;

/// Go `ValidateNamespace`: cluster-scoped, DNS-label name, valid spec finalizers.
pub fn validate_namespace(ns: &Namespace) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&ns.metadata, false, NameKind::DnsLabel);
    let path = Path::new("spec").child("finalizers");
    for finalizer in ns.spec.iter().flat_map(|s| s.finalizers.iter().flatten()) {
        errs.extend(
            is_qualified_name(finalizer)
                .into_iter()
                .map(|m| FieldError::invalid(&path, finalizer, m)),
        );
        errs.extend(validate_kube_finalizer_name(finalizer, &path));
    }
    errs
}

/// Go `ValidateNamespaceUpdate` (metadata rules only).
pub fn validate_namespace_update(new: &Namespace, old: &Namespace) -> Vec<FieldError> {
    validate_object_meta_update(&new.metadata, &old.metadata)
}

/// Go `ValidateNamespaceStatusUpdate`: phase `Active` unless deleting, then `Terminating`.
pub fn validate_namespace_status_update(new: &Namespace, old: &Namespace) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata);
    let phase = new
        .status
        .as_ref()
        .map(|s| opt_str(&s.phase))
        .unwrap_or_default();
    let field = Path::new("status").child("Phase");
    if new.metadata.deletion_timestamp.is_none() {
        if phase != "Active" {
            errs.push(FieldError::invalid(
                field,
                phase,
                msg::NAMESPACE_ACTIVE_ONLY,
            ));
        }
    } else if phase != "Terminating" {
        errs.push(FieldError::invalid(
            field,
            phase,
            msg::NAMESPACE_TERMINATING_ONLY,
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NamespaceSpec, NamespaceStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    fn ns(name: &str) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                resource_version: Some("1".into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        }
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn validates_namespaces() {
        assert!(validate_namespace(&ns("team-a")).is_empty());
        assert_eq!(
            messages(&validate_namespace(&ns("team.a"))),
            vec!["metadata.name: Invalid value: \"team.a\": must not contain dots"]
        );
        let mut bad = ns("team-a");
        bad.spec = Some(NamespaceSpec {
            finalizers: Some(vec!["custom".into(), "kubernetes".into()]),
        });
        assert_eq!(
            messages(&validate_namespace(&bad)),
            vec![
                "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"
            ]
        );
    }

    #[test]
    fn validates_namespace_status_updates() {
        let old = ns("team-a");
        let mut new = old.clone();
        new.status = Some(NamespaceStatus {
            phase: Some("Active".into()),
            conditions: None,
        });
        assert!(validate_namespace_status_update(&new, &old).is_empty());
        assert!(validate_namespace_update(&new, &old).is_empty());
        new.status = Some(NamespaceStatus {
            phase: Some("Terminating".into()),
            conditions: None,
        });
        assert_eq!(
            messages(&validate_namespace_status_update(&new, &old)),
            vec![
                "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"
            ]
        );
        let mut deleting_old = old.clone();
        deleting_old.metadata.deletion_timestamp =
            Some(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH));
        let mut deleting = deleting_old.clone();
        deleting.status = Some(NamespaceStatus {
            phase: Some("Active".into()),
            conditions: None,
        });
        assert_eq!(
            messages(&validate_namespace_status_update(&deleting, &deleting_old)),
            vec![
                "status.Phase: Invalid value: \"Active\": may only be 'Terminating' if `deletionTimestamp` is not empty"
            ]
        );
    }
}
