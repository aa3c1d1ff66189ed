//! coordination.k8s.io/v1 Lease validation (`ValidateLease`, `ValidateLeaseUpdate`, v1.32):
//! DNS-subdomain name in a namespace, positive duration, non-negative transitions, and the
//! coordinated-leader-election strategy fields.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};

use super::field::{FieldError, Path};
use super::messages as msg;
use super::meta::{NameKind, validate_object_meta_generic, validate_object_meta_update_generic};
use super::names::is_qualified_name;
use super::opt_str;

/// Go `ValidateLease`.
pub fn validate_lease(lease: &Lease) -> Vec<FieldError> {
    let mut errs = validate_object_meta_generic(
        &lease.metadata,
        true,
        NameKind::DnsSubdomain,
        &Path::new("metadata"),
    );
    errs.extend(validate_lease_spec(lease.spec.as_ref()));
    errs
}

/// Go `ValidateLeaseUpdate`.
pub fn validate_lease_update(lease: &Lease, old: &Lease) -> Vec<FieldError> {
    let mut errs =
        validate_object_meta_update_generic(&lease.metadata, &old.metadata, &Path::new("metadata"));
    errs.extend(validate_lease_spec(lease.spec.as_ref()));
    errs
}

/// Go `ValidateLeaseSpec`.
fn validate_lease_spec(spec: Option<&LeaseSpec>) -> Vec<FieldError> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let path = Path::new("spec");
    let mut errs = Vec::new();
    if let Some(duration) = spec.lease_duration_seconds
        && duration <= 0
    {
        errs.push(FieldError::invalid(
            path.child("leaseDurationSeconds"),
            duration,
            msg::MUST_BE_GREATER_THAN_ZERO,
        ));
    }
    if let Some(transitions) = spec.lease_transitions
        && transitions < 0
    {
        errs.push(FieldError::invalid(
            path.child("leaseTransitions"),
            transitions,
            msg::IS_NEGATIVE,
        ));
    }
    if let Some(strategy) = spec.strategy.as_deref() {
        errs.extend(validate_strategy(strategy, &path.child("strategy")));
    }
    if !opt_str(&spec.preferred_holder).is_empty() && opt_str(&spec.strategy).is_empty() {
        errs.push(FieldError::forbidden(
            path.child("preferredHolder"),
            msg::PREFERRED_HOLDER_NEEDS_STRATEGY,
        ));
    }
    errs
}

/// Go `ValidateCoordinatedLeaseStrategy` (its errors land on `spec.strategy.strategy`).
fn validate_strategy(strategy: &str, path: &Path) -> Vec<FieldError> {
    let field = path.child("strategy");
    if !strategy.contains('/') {
        if strategy == "OldestEmulationVersion" {
            return Vec::new();
        }
        return vec![FieldError::not_supported(
            field,
            strategy,
            &["OldestEmulationVersion"],
        )];
    }
    is_qualified_name(strategy)
        .into_iter()
        .map(|m| FieldError::invalid(&field, strategy, m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn lease(spec: LeaseSpec) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some("node-1".into()),
                namespace: Some("kube-node-lease".into()),
                resource_version: Some("3".into()),
                ..ObjectMeta::default()
            },
            spec: Some(spec),
        }
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn validates_leases() {
        let good = lease(LeaseSpec {
            holder_identity: Some("node-1".into()),
            lease_duration_seconds: Some(40),
            ..LeaseSpec::default()
        });
        assert!(validate_lease(&good).is_empty());
        assert!(validate_lease_update(&good, &good).is_empty());
        let bad = lease(LeaseSpec {
            lease_duration_seconds: Some(0),
            lease_transitions: Some(-1),
            strategy: Some("Newest".into()),
            ..LeaseSpec::default()
        });
        assert_eq!(
            messages(&validate_lease(&bad)),
            vec![
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
                "spec.strategy.strategy: Unsupported value: \"Newest\": supported values: \"OldestEmulationVersion\"",
            ]
        );
        let holder = lease(LeaseSpec {
            preferred_holder: Some("x".into()),
            ..LeaseSpec::default()
        });
        assert_eq!(
            messages(&validate_lease(&holder)),
            vec!["spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"]
        );
        let mut unnamed = good.clone();
        unnamed.metadata.namespace = None;
        assert_eq!(
            messages(&validate_lease(&unnamed)),
            vec!["metadata.namespace: Required value"]
        );
    }
}
