//! The event recorder components use to tell what happened (`Scheduled`, `Pulling`, `Started`...),
//! as client-go's record.EventRecorder does: one core/v1 Event per distinct (object, type, reason,
//! message, source); a repeat bumps `count` and `lastTimestamp` on the same object instead of
//! writing a new one.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;

use super::error::ApiError;
use super::server::{ApiServer, Caller, now};
use crate::trace::Actor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// What makes two events "the same" for aggregation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AggregateKey {
    kind: String,
    namespace: String,
    name: String,
    uid: String,
    /// `spec.containers{app}`: events about different containers of one pod stay apart.
    field_path: String,
    type_: EventType,
    reason: String,
    message: String,
}

/// How many distinct events the recorder remembers for aggregation.
const REMEMBERED: usize = 4096;

pub struct EventRecorder {
    server: ApiServer,
    caller: Caller,
    source: EventSource,
    seen: Mutex<HashMap<AggregateKey, String>>,
}

impl EventRecorder {
    /// A recorder for `component` (e.g. `default-scheduler`, `kubelet`) on `host` (a node name).
    pub fn new(server: &ApiServer, component: &str, host: Option<&str>, actor: Actor) -> Self {
        EventRecorder {
            server: server.clone(),
            caller: Caller::new(actor),
            source: EventSource {
                component: Some(component.to_string()),
                host: host.map(str::to_string),
            },
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records an event about `regarding`; returns the Event object as stored.
    pub async fn record(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) -> Result<Event, ApiError> {
        let namespace = regarding
            .namespace
            .clone()
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let key = AggregateKey {
            kind: regarding.kind.clone().unwrap_or_default(),
            namespace: namespace.clone(),
            name: regarding.name.clone().unwrap_or_default(),
            uid: regarding.uid.clone().unwrap_or_default(),
            field_path: regarding.field_path.clone().unwrap_or_default(),
            type_,
            reason: reason.to_string(),
            message: message.to_string(),
        };
        let known = self.lock().get(&key).cloned();
        if let Some(name) = known {
            let bumped = self
                .server
                .modify::<Event>(Some(&namespace), &name, &self.caller, |ev| {
                    let mut ev = ev.clone();
                    ev.count = Some(ev.count.unwrap_or(1) + 1);
                    ev.last_timestamp = Some(now());
                    Ok(ev)
                })
                .await;
            match bumped {
                Ok(ev) => return Ok(ev),
                // Deleted meanwhile: start a new one.
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let name = format!("{}.{:x}", key.name, Timestamp::now().as_nanosecond().max(0));
        let now = now();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: regarding.clone(),
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            source: Some(self.source.clone()),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            count: Some(1),
            type_: Some(type_.as_str().to_string()),
            reporting_component: self.source.component.clone(),
            reporting_instance: self.source.host.clone(),
            ..Event::default()
        };
        let created = self
            .server
            .create(Some(&namespace), event, &self.caller)
            .await?;
        let mut seen = self.lock();
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(key, name);
        Ok(created)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AggregateKey, String>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A reference to `obj` for an event's `involvedObject`.
pub fn object_reference<K: super::Kind>(obj: &K) -> ObjectReference {
    let meta = obj.metadata();
    ObjectReference {
        api_version: Some(K::API_VERSION.to_string()),
        kind: Some(K::KIND.to_string()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: None,
    }
}
