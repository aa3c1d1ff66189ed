//! scheduling.k8s.io/v1 PriorityClass validation (`ValidatePriorityClass`,
//! `ValidatePriorityClassUpdate`, v1.32): the `system-` prefix is reserved for the two built-in
//! classes, user classes stay at or below 1,000,000,000, `value` and `preemptionPolicy` never
//! change.

use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::field::{FieldError, Path, Value};
use super::messages as msg;
use super::meta::{NameKind, validate_object_meta_generic, validate_object_meta_update_generic};
use crate::api::defaults::SYSTEM_PRIORITY_CLASSES;

/// `scheduling.HighestUserDefinablePriority`.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;
const SYSTEM_PREFIX: &str = "system-";

/// Go `ValidatePriorityClass`.
pub fn validate_priority_class(pc: &PriorityClass) -> Vec<FieldError> {
    let mut errs = validate_object_meta_generic(
        &pc.metadata,
        false,
        NameKind::DnsSubdomain,
        &Path::new("metadata"),
    );
    let name = pc.metadata.name.as_deref().unwrap_or_default();
    if name.starts_with(SYSTEM_PREFIX) {
        if let Err(why) = known_system_class(name, pc.value, pc.global_default.unwrap_or(false)) {
            errs.push(FieldError::forbidden(
                "metadata.name",
                format!(
                    "priority class names with '{SYSTEM_PREFIX}' prefix are reserved for system use only. error: {why}"
                ),
            ));
        }
    } else if pc.value > HIGHEST_USER_DEFINABLE_PRIORITY {
        errs.push(FieldError::forbidden(
            "value",
            format!(
                "maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"
            ),
        ));
    }
    if let Some(policy) = pc.preemption_policy.as_deref()
        && !matches!(policy, "PreemptLowerPriority" | "Never")
    {
        errs.push(FieldError::not_supported(
            "preemptionPolicy",
            policy,
            &["PreemptLowerPriority", "Never"],
        ));
    }
    errs
}

/// Go `ValidatePriorityClassUpdate`.
pub fn validate_priority_class_update(pc: &PriorityClass, old: &PriorityClass) -> Vec<FieldError> {
    let mut errs =
        validate_object_meta_update_generic(&pc.metadata, &old.metadata, &Path::new("metadata"));
    if pc.value != old.value {
        errs.push(FieldError::forbidden(
            "value",
            "may not be changed in an update.",
        ));
    }
    if pc.preemption_policy != old.preemption_policy {
        let shown = match pc.preemption_policy.as_deref() {
            Some(p) => Value::from(p),
            None => Value::null(),
        };
        errs.push(FieldError::invalid(
            "preemptionPolicy",
            shown,
            msg::FIELD_IMMUTABLE,
        ));
    }
    errs
}

/// Go `scheduling.IsKnownSystemPriorityClass`.
fn known_system_class(name: &str, value: i32, global_default: bool) -> Result<(), String> {
    let Some((_, want)) = SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _)| *n == name) else {
        return Err(format!("{name} is not a known system priority class"));
    };
    if value != *want {
        return Err(format!("value of {name} PriorityClass must be {want}"));
    }
    if global_default {
        return Err(format!(
            "globalDefault of {name} PriorityClass must be false"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validation::fixtures::messages;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pc(name: &str, value: i32) -> PriorityClass {
        PriorityClass {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            value,
            ..PriorityClass::default()
        }
    }

    #[test]
    fn priority_class_rules_and_messages() {
        assert!(validate_priority_class(&pc("high", 1000)).is_empty());
        assert!(validate_priority_class(&pc("system-node-critical", 2_000_001_000)).is_empty());
        assert_eq!(
            messages(&validate_priority_class(&pc("huge", 1_000_000_001))),
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
        );
        assert_eq!(
            messages(&validate_priority_class(&pc("system-mine", 5))),
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"
            ]
        );
        assert_eq!(
            messages(&validate_priority_class(&pc("system-cluster-critical", 5))),
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000"
            ]
        );
        let mut bad = pc("high", 1);
        bad.preemption_policy = Some("Always".into());
        assert_eq!(
            messages(&validate_priority_class(&bad)),
            [
                "preemptionPolicy: Unsupported value: \"Always\": supported values: \"PreemptLowerPriority\", \"Never\""
            ]
        );
    }

    #[test]
    fn value_and_preemption_policy_are_immutable() {
        let mut old = pc("high", 1000);
        old.metadata.resource_version = Some("5".into());
        old.preemption_policy = Some("PreemptLowerPriority".into());
        let mut new = old.clone();
        new.value = 2000;
        new.preemption_policy = Some("Never".into());
        assert_eq!(
            messages(&validate_priority_class_update(&new, &old)),
            [
                "value: Forbidden: may not be changed in an update.",
                "preemptionPolicy: Invalid value: \"Never\": field is immutable"
            ]
        );
    }
}
