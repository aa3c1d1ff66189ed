//! core/v1 Event validation (v1.32). Through the core/v1 API Kubernetes runs only the
//! legacy checks (`legacyValidateEvent` in `pkg/apis/core/validation/events.go`) and then
//! the generic metadata checks with path-segment names; `involvedObject` is not required.

use k8s_openapi::api::core::v1::Event;

use super::field::{FieldError, Path};
use super::messages as msg;
use super::meta::{NameKind, validate_object_meta};
use super::names::{is_dns1123_subdomain, is_qualified_name};
use super::opt_str;

const REPORTING_INSTANCE_LIMIT: usize = 128;
const ACTION_LIMIT: usize = 128;
const REASON_LIMIT: usize = 128;
const NOTE_LIMIT: usize = 1024;

/// Validates a core/v1 Event on create or update: the legacy rules first; only when they
/// pass, the generic metadata rules (as `rest.BeforeCreate` does).
pub fn validate_event(event: &Event) -> Vec<FieldError> {
    let errs = legacy_validate_event(event);
    if !errs.is_empty() {
        return errs;
    }
    validate_object_meta(&event.metadata, true, NameKind::PathSegment)
}

/// Go `legacyValidateEvent`.
fn legacy_validate_event(event: &Event) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let namespace = opt_str(&event.metadata.namespace);
    let involved_ns = opt_str(&event.involved_object.namespace);
    let ns_path = Path::new("involvedObject").child("namespace");
    if event.event_time.is_none() {
        let mismatch = if involved_ns.is_empty() {
            !namespace.is_empty() && namespace != "default"
        } else {
            namespace != involved_ns
        };
        if mismatch {
            errs.push(FieldError::invalid(
                &ns_path,
                involved_ns,
                msg::EVENT_NAMESPACE_MISMATCH,
            ));
        }
    } else {
        if involved_ns.is_empty() && namespace != "default" && namespace != "kube-system" {
            errs.push(FieldError::invalid(
                &ns_path,
                involved_ns,
                msg::EVENT_NAMESPACE_MISMATCH,
            ));
        }
        errs.extend(validate_new_style_fields(event));
    }
    errs.extend(
        is_dns1123_subdomain(namespace)
            .into_iter()
            .map(|m| FieldError::invalid("namespace", namespace, m)),
    );
    errs
}

/// The checks legacy validation applies to events that carry `eventTime`.
fn validate_new_style_fields(event: &Event) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let controller = opt_str(&event.reporting_component);
    if controller.is_empty() {
        errs.push(FieldError::required("reportingController", ""));
    }
    errs.extend(
        is_qualified_name(controller)
            .into_iter()
            .map(|m| FieldError::invalid("reportingController", controller, m)),
    );
    for (field, value, limit) in [
        (
            "reportingInstance",
            opt_str(&event.reporting_instance),
            REPORTING_INSTANCE_LIMIT,
        ),
        ("action", opt_str(&event.action), ACTION_LIMIT),
        ("reason", opt_str(&event.reason), REASON_LIMIT),
    ] {
        if value.is_empty() {
            errs.push(FieldError::required(field, ""));
        }
        if value.len() > limit {
            errs.push(FieldError::invalid(
                field,
                "",
                msg::at_most_characters(limit),
            ));
        }
    }
    if opt_str(&event.message).len() > NOTE_LIMIT {
        errs.push(FieldError::invalid(
            "message",
            "",
            msg::at_most_characters(NOTE_LIMIT),
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ObjectReference;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};

    fn event(name: &str, namespace: &str, involved_ns: &str) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(namespace.into()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                name: Some("web".into()),
                namespace: (!involved_ns.is_empty()).then(|| involved_ns.into()),
                ..ObjectReference::default()
            },
            reason: Some("Scheduled".into()),
            ..Event::default()
        }
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn validates_legacy_events() {
        assert!(validate_event(&event("web.17f3a", "default", "default")).is_empty());
        assert!(validate_event(&event("node-1.1", "default", "")).is_empty());
        assert_eq!(
            messages(&validate_event(&event("web.1", "team", "default"))),
            vec![
                "involvedObject.namespace: Invalid value: \"default\": does not match event.namespace"
            ]
        );
        assert_eq!(
            messages(&validate_event(&event("a/b", "default", "default"))),
            vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
        );
        assert_eq!(
            messages(&validate_event(&event("", "default", "default"))),
            vec!["metadata.name: Required value: name or generateName is required"]
        );
    }

    #[test]
    fn validates_events_with_event_time() {
        let mut e = event("web.1", "team", "");
        e.event_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::UNIX_EPOCH));
        e.reason = None;
        e.message = Some("x".repeat(1025));
        assert_eq!(
            messages(&validate_event(&e)),
            vec![
                "involvedObject.namespace: Invalid value: \"\": does not match event.namespace",
                "reportingController: Required value",
                "reportingController: Invalid value: \"\": name part must be non-empty",
                "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "reportingInstance: Required value",
                "action: Required value",
                "reason: Required value",
                "message: Invalid value: \"\": can have at most 1024 characters",
            ]
        );
    }
}
