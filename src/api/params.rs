//! Parameters of the verbs, named as the Kubernetes REST API names them.

use std::time::Duration;

use super::error::ApiError;
use super::resource::Kind;
use super::selector::{FieldSelector, LabelSelector};

/// `?labelSelector=&fieldSelector=` of list and watch.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
}

impl ListParams {
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_string());
        self
    }

    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_string());
        self
    }
}

/// A watch: which objects, from where, and how the stream behaves.
#[derive(Debug, Clone, Default)]
pub struct WatchParams {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// `None`, `""` or `"0"`: start with ADDED events for the current objects. Otherwise only
    /// changes after this revision.
    pub resource_version: Option<String>,
    /// Send BOOKMARK events carrying the current revision when the stream is idle.
    pub allow_bookmarks: bool,
    /// End the stream after this long (`timeoutSeconds`); `None` never ends it.
    pub timeout: Option<Duration>,
}

impl WatchParams {
    pub fn from_list(list: &ListParams) -> Self {
        WatchParams {
            label_selector: list.label_selector.clone(),
            field_selector: list.field_selector.clone(),
            ..WatchParams::default()
        }
    }

    pub fn at(mut self, resource_version: impl Into<String>) -> Self {
        self.resource_version = Some(resource_version.into());
        self
    }

    pub fn bookmarks(mut self) -> Self {
        self.allow_bookmarks = true;
        self
    }
}

/// `DeleteOptions`.
#[derive(Debug, Clone, Default)]
pub struct DeleteParams {
    pub grace_period_seconds: Option<i64>,
    /// `preconditions.uid`
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`
    pub resource_version: Option<String>,
}

impl DeleteParams {
    pub fn grace(seconds: i64) -> Self {
        DeleteParams {
            grace_period_seconds: Some(seconds),
            ..DeleteParams::default()
        }
    }
}

/// A patch body and its type (`Content-Type`).
#[derive(Debug, Clone)]
pub enum Patch {
    /// `application/merge-patch+json` (RFC 7386)
    Merge(serde_json::Value),
    /// `application/json-patch+json` (RFC 6902)
    Json(json_patch::Patch),
    /// `application/strategic-merge-patch+json`: lists merged by their keys (see `strategic`)
    Strategic(serde_json::Value),
}

/// Selectors parsed and checked against the kind's field labels.
#[derive(Debug, Clone)]
pub(crate) struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn parse<K: Kind>(
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Selectors, ApiError> {
        let labels = match label_selector {
            Some(s) if !s.is_empty() => {
                LabelSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?
            }
            _ => LabelSelector::everything(),
        };
        let fields = match field_selector {
            Some(s) if !s.is_empty() => {
                FieldSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?
            }
            _ => FieldSelector::everything(),
        };
        if let Some(bad) = fields.fields().find(|f| !K::FIELD_LABELS.contains(f)) {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {bad}"
            )));
        }
        Ok(Selectors { labels, fields })
    }

    pub fn is_everything(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    pub fn matches<K: Kind>(&self, obj: &K) -> bool {
        self.labels.matches(obj.metadata().labels.as_ref())
            && self.fields.matches(|f| obj.field_value(f))
    }
}
