//! `Api<K>`: the typed in-process client the scheduler, kubelets and TUI use, shaped like
//! kube-rs's. It calls the API server's verbs directly (no HTTP), with its caller identity so the
//! trace shows who did what.

use std::marker::PhantomData;

use k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::error::ApiError;
use super::params::{DeleteParams, ListParams, Patch, WatchParams};
use super::resource::Kind;
use super::server::{ApiServer, Caller, Deleted, ObjectList};
use super::watch::WatchStream;
use crate::trace::Actor;

pub struct Api<K> {
    server: ApiServer,
    namespace: Option<String>,
    caller: Caller,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            server: self.server.clone(),
            namespace: self.namespace.clone(),
            caller: self.caller.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K: Kind> Api<K> {
    /// Objects in one namespace.
    pub fn namespaced(server: &ApiServer, namespace: &str, actor: Actor) -> Self {
        Api {
            server: server.clone(),
            namespace: Some(namespace.to_string()),
            caller: Caller::new(actor),
            _kind: PhantomData,
        }
    }

    /// Cluster-scoped objects, or namespaced objects across all namespaces (list and watch).
    pub fn all(server: &ApiServer, actor: Actor) -> Self {
        Api {
            server: server.clone(),
            namespace: None,
            caller: Caller::new(actor),
            _kind: PhantomData,
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    pub fn actor(&self) -> &Actor {
        &self.caller.actor
    }

    /// The same client pointed at another namespace.
    pub fn within(&self, namespace: &str) -> Self {
        Api {
            namespace: Some(namespace.to_string()),
            ..self.clone()
        }
    }

    fn ns(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    pub fn get(&self, name: &str) -> Result<K, ApiError> {
        self.server.get(self.ns(), name)
    }

    /// `get`, with NotFound as `None`.
    pub fn get_opt(&self, name: &str) -> Result<Option<K>, ApiError> {
        match self.get(name) {
            Ok(obj) => Ok(Some(obj)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn list(&self, params: &ListParams) -> Result<ObjectList<K>, ApiError> {
        self.server.list(self.ns(), params)
    }

    /// A list whose objects are decoded one at a time as they are taken, and its revision.
    pub fn list_lazily(
        &self,
        params: &ListParams,
    ) -> Result<
        (
            impl Iterator<Item = Result<std::sync::Arc<K>, ApiError>> + Send + use<K>,
            String,
        ),
        ApiError,
    > {
        self.server.list_lazily(self.ns(), params)
    }

    pub async fn create(&self, obj: K) -> Result<K, ApiError> {
        self.server.create(self.ns(), obj, &self.caller).await
    }

    pub async fn replace(&self, name: &str, obj: K) -> Result<K, ApiError> {
        self.server
            .replace(self.ns(), name, obj, &self.caller)
            .await
    }

    pub async fn replace_status(&self, name: &str, obj: K) -> Result<K, ApiError> {
        self.server
            .replace_status(self.ns(), name, obj, &self.caller)
            .await
    }

    pub async fn patch(&self, name: &str, patch: &Patch) -> Result<K, ApiError> {
        self.server
            .patch(self.ns(), name, patch, &self.caller)
            .await
    }

    pub async fn patch_status(&self, name: &str, patch: &Patch) -> Result<K, ApiError> {
        self.server
            .patch_status(self.ns(), name, patch, &self.caller)
            .await
    }

    pub async fn delete(&self, name: &str, params: &DeleteParams) -> Result<Deleted<K>, ApiError> {
        self.server
            .delete(self.ns(), name, params, &self.caller)
            .await
    }

    pub fn watch(&self, params: &WatchParams) -> Result<WatchStream<K>, ApiError> {
        self.server.watch(self.ns(), params, &self.caller)
    }
}

impl Api<Pod> {
    /// Binds a pod to a node through the `binding` subresource, as the scheduler does.
    pub async fn bind(&self, name: &str, node: &str) -> Result<Pod, ApiError> {
        let namespace = self.ns().unwrap_or("default").to_string();
        let binding = Binding {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            target: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Node".into()),
                name: Some(node.to_string()),
                ..ObjectReference::default()
            },
        };
        self.server
            .bind(&namespace, name, &binding, &self.caller)
            .await
    }
}
