//! API errors as Kubernetes reports them: an HTTP code, a `reason`, and the exact message
//! kube-apiserver would write. Converts to a `metav1.Status` for the wire.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ListMeta, Status, StatusCause, StatusDetails,
};

use super::validation::FieldError;
use crate::store::StoreError;

/// `metav1.StatusReason` values kubox produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    NotFound,
    AlreadyExists,
    Conflict,
    Invalid,
    BadRequest,
    Forbidden,
    Expired,
    Gone,
    MethodNotAllowed,
    UnsupportedMediaType,
    InternalError,
    ServiceUnavailable,
    RequestEntityTooLarge,
    Unauthorized,
    /// No reason: what kube-apiserver sends for an error it did not classify.
    Unknown,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotFound => "NotFound",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            Reason::Invalid => "Invalid",
            Reason::BadRequest => "BadRequest",
            Reason::Forbidden => "Forbidden",
            Reason::Expired => "Expired",
            Reason::Gone => "Gone",
            Reason::MethodNotAllowed => "MethodNotAllowed",
            Reason::UnsupportedMediaType => "UnsupportedMediaType",
            Reason::InternalError => "InternalError",
            Reason::ServiceUnavailable => "ServiceUnavailable",
            Reason::RequestEntityTooLarge => "RequestEntityTooLarge",
            Reason::Unauthorized => "Unauthorized",
            Reason::Unknown => "",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: Reason,
    pub message: String,
    pub details: Option<Box<StatusDetails>>,
}

/// The resource as Kubernetes names it in messages: `pods`, or `leases.coordination.k8s.io`.
pub fn qualified_resource(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

fn details(resource: &str, group: &str, name: &str) -> Option<Box<StatusDetails>> {
    Some(Box::new(StatusDetails {
        name: Some(name.to_string()),
        group: (!group.is_empty()).then(|| group.to_string()),
        kind: Some(resource.to_string()),
        ..StatusDetails::default()
    }))
}

impl ApiError {
    fn new(code: u16, reason: Reason, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// `pods "web" not found`
    pub fn not_found(plural: &str, group: &str, name: &str) -> Self {
        ApiError {
            details: details(plural, group, name),
            ..Self::new(
                404,
                Reason::NotFound,
                format!("{} {name:?} not found", qualified_resource(plural, group)),
            )
        }
    }

    /// `pods "web" already exists`
    pub fn already_exists(plural: &str, group: &str, name: &str) -> Self {
        ApiError {
            details: details(plural, group, name),
            ..Self::new(
                409,
                Reason::AlreadyExists,
                format!(
                    "{} {name:?} already exists",
                    qualified_resource(plural, group)
                ),
            )
        }
    }

    /// `Operation cannot be fulfilled on pods "web": <why>`
    pub fn conflict(plural: &str, group: &str, name: &str, why: &str) -> Self {
        ApiError {
            details: details(plural, group, name),
            ..Self::new(
                409,
                Reason::Conflict,
                format!(
                    "Operation cannot be fulfilled on {} {name:?}: {why}",
                    qualified_resource(plural, group)
                ),
            )
        }
    }

    /// The optimistic-concurrency conflict, in Kubernetes' words.
    pub fn modified(plural: &str, group: &str, name: &str) -> Self {
        Self::conflict(plural, group, name, OBJECT_MODIFIED)
    }

    /// `Pod "web" is invalid: spec.containers[0].image: Required value`
    pub fn invalid(kind: &str, group: &str, name: &str, errs: &[FieldError]) -> Self {
        let causes = errs
            .iter()
            .map(|e| StatusCause {
                reason: Some(e.kind.cause_reason().to_string()),
                message: Some(e.body()),
                field: Some(e.field.clone()),
            })
            .collect();
        ApiError {
            code: 422,
            reason: Reason::Invalid,
            message: format!(
                "{} {name:?} is invalid: {}",
                qualified_resource(kind, group),
                super::validation::aggregate(errs)
            ),
            details: Some(Box::new(StatusDetails {
                name: Some(name.to_string()),
                group: (!group.is_empty()).then(|| group.to_string()),
                kind: Some(kind.to_string()),
                causes: Some(causes),
                ..StatusDetails::default()
            })),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, Reason::BadRequest, message)
    }

    /// `namespaces "default" is forbidden: this namespace may not be deleted`
    pub fn forbidden(plural: &str, group: &str, name: &str, why: &str) -> Self {
        ApiError {
            details: details(plural, group, name),
            ..Self::new(
                403,
                Reason::Forbidden,
                format!(
                    "{} {name:?} is forbidden: {why}",
                    qualified_resource(plural, group)
                ),
            )
        }
    }

    /// The watch answer for a compacted revision: `too old resource version: 5 (1042)`.
    pub fn expired(requested: u64, oldest: u64) -> Self {
        Self::new(
            410,
            Reason::Expired,
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// A watcher that fell behind and must re-list.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, Reason::Gone, message)
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(
            500,
            Reason::InternalError,
            format!("Internal error occurred: {message}"),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            Reason::MethodNotAllowed,
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            Reason::UnsupportedMediaType,
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {content_type:?})"
            ),
        )
    }

    /// The 404 for a path that names nothing kubox serves.
    pub fn no_such_path() -> Self {
        Self::new(
            404,
            Reason::NotFound,
            "the server could not find the requested resource",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, Reason::ServiceUnavailable, message)
    }

    /// A strategic merge patch that could not be applied, with the status kube-apiserver's
    /// `interpretStrategicMergePatchError` gives it.
    pub fn strategic_patch(err: &super::strategic::StrategicPatchError) -> Self {
        let reason = match err.http_status() {
            400 => Reason::BadRequest,
            422 => Reason::Invalid,
            _ => Reason::Unknown,
        };
        Self::new(err.http_status(), reason, err.to_string())
    }

    pub fn is_not_found(&self) -> bool {
        self.reason == Reason::NotFound
    }

    pub fn is_conflict(&self) -> bool {
        self.code == 409
    }

    /// The `metav1.Status` body Kubernetes sends with this error.
    pub fn to_status(&self) -> Status {
        Status {
            code: Some(i32::from(self.code)),
            details: self.details.as_deref().cloned(),
            message: Some(self.message.clone()),
            metadata: ListMeta::default(),
            reason: Some(self.reason.as_str().to_string()).filter(|r| !r.is_empty()),
            status: Some("Failure".to_string()),
        }
    }

    /// Maps a store failure that the verb did not expect to an API error.
    pub fn from_store(err: StoreError) -> Self {
        match err {
            StoreError::Closed => Self::unavailable("the store is shutting down"),
            StoreError::Compacted {
                requested,
                compacted,
            } => Self::expired(requested, compacted),
            StoreError::WatcherTooSlow { .. } => Self::gone(err.to_string()),
            other => Self::internal(other),
        }
    }
}

pub const OBJECT_MODIFIED: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_kubernetes() {
        assert_eq!(
            ApiError::not_found("pods", "", "nope").message,
            r#"pods "nope" not found"#
        );
        assert_eq!(
            ApiError::modified("pods", "", "web").message,
            r#"Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again"#
        );
        assert_eq!(
            ApiError::already_exists("leases", "coordination.k8s.io", "node-1").message,
            r#"leases.coordination.k8s.io "node-1" already exists"#
        );
        let status = ApiError::not_found("pods", "", "nope").to_status();
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            serde_json::json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                "message":"pods \"nope\" not found","reason":"NotFound",
                "details":{"name":"nope","kind":"pods"},"code":404})
        );
    }
}
