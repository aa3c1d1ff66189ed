//! The API server core: the verbs of kube-apiserver, generic over [`Kind`], on top of the store.
//! Everything that writes goes through here: create (default, validate, namespace must exist),
//! update and status update with optimistic concurrency, patch, graceful delete, pod binding, and
//! watch. Each request leaves trace steps (request received, store commit, response).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use k8s_openapi::api::core::v1::{Binding, Namespace, Pod, PodCondition};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;

use super::error::{ApiError, OBJECT_MODIFIED};
use super::params::{DeleteParams, ListParams, Patch, Selectors, WatchParams};
use super::resource::Kind;
use super::shared::SharedObjects;
use super::watch::WatchStream;
use crate::store::{KeyValue, Op, Store, StoreError};
use crate::trace::{Actor, StepDraft, TraceBus};

/// Who is calling (the lifeline the request's trace steps start from), and how.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    /// `dryRun=All`: validate, default and answer as if written, but write nothing.
    pub dry_run: bool,
    /// A person's request (the TUI, or kubectl over HTTP): in step mode its pod writes wait at
    /// the trace gate before they are committed. The components have gates of their own.
    pub person: bool,
}

impl Caller {
    pub fn new(actor: Actor) -> Self {
        Caller {
            person: actor == Actor::You,
            actor,
            dry_run: false,
        }
    }

    /// A request from outside the process (HTTP): someone's, not a component's.
    pub fn from_person(mut self) -> Self {
        self.person = true;
        self
    }

    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }
}

/// A list answer: the items and the revision of the snapshot they were read at.
#[derive(Debug, Clone)]
pub struct ObjectList<K> {
    pub items: Vec<K>,
    pub resource_version: String,
}

/// What a delete did.
#[derive(Debug, Clone)]
pub enum Deleted<K> {
    /// The object is gone; this was its last state.
    Gone(K),
    /// Graceful deletion started: the object carries a deletionTimestamp until its owner is done.
    Terminating(K),
}

impl<K> Deleted<K> {
    pub fn object(&self) -> &K {
        match self {
            Deleted::Gone(k) | Deleted::Terminating(k) => k,
        }
    }
}

/// Which part of an object an update may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Main,
    Status,
    /// The server's own writes (binding, graceful-delete marks): no client-facing strategy.
    System,
}

/// Namespaces that exist from the first start, as in a new Kubernetes cluster.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

#[derive(Clone)]
pub struct ApiServer {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    trace: TraceBus,
    /// Decoded objects shared by the in-process watchers.
    shared: Arc<SharedObjects>,
}

/// The store key of an object: `/registry/pods/default/web`, `/registry/minions/node-1`.
pub fn key_of<K: Kind>(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if K::NAMESPACED => format!("/registry/{}/{ns}/{name}", K::REGISTRY),
        _ => format!("/registry/{}/{name}", K::REGISTRY),
    }
}

/// The key prefix of a list or watch: one namespace, or all of them.
pub fn prefix_of<K: Kind>(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if K::NAMESPACED => format!("/registry/{}/{ns}/", K::REGISTRY),
        _ => format!("/registry/{}/", K::REGISTRY),
    }
}

pub(crate) fn decode<K: Kind>(value: &[u8], mod_rev: u64) -> Result<K, ApiError> {
    let mut obj: K = serde_json::from_slice(value)
        .map_err(|e| ApiError::internal(format!("stored {} is unreadable: {e}", K::KIND)))?;
    obj.metadata_mut().resource_version = Some(mod_rev.to_string());
    Ok(obj)
}

pub(crate) fn decode_kv<K: Kind>(kv: &KeyValue) -> Result<K, ApiError> {
    decode(&kv.value, kv.mod_rev)
}

/// Objects are stored without their resourceVersion: the revision is the store's to give.
fn encode<K: Kind>(obj: &K) -> Result<Bytes, ApiError> {
    let mut obj = obj.clone();
    obj.metadata_mut().resource_version = None;
    serde_json::to_vec(&obj)
        .map(Bytes::from)
        .map_err(ApiError::internal)
}

fn parse_rv(rv: &str) -> Result<u64, ApiError> {
    rv.parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))
}

/// Now, as Kubernetes stores it: `metav1.Time` has whole seconds on the wire.
pub fn now() -> Time {
    Time(whole_seconds(Timestamp::now()))
}

fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

fn name_of<K: Kind>(obj: &K) -> &str {
    obj.metadata().name.as_deref().unwrap_or("")
}

/// `generateName` suffixes: five characters from Kubernetes' alphabet (no vowels, no 0/1/3).
fn generated_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..5]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

impl ApiServer {
    pub fn new(store: Store, trace: TraceBus) -> Self {
        ApiServer {
            inner: Arc::new(Inner {
                store,
                trace,
                shared: Arc::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn trace(&self) -> &TraceBus {
        &self.inner.trace
    }

    /// Creates what a new cluster has from its first start (namespaces, system
    /// PriorityClasses), if missing.
    pub async fn bootstrap(&self) -> Result<(), ApiError> {
        self.ensure_initial_namespaces().await?;
        self.ensure_system_priority_classes().await
    }

    /// The cluster's identity: the uid of its `kube-system` namespace (the id Kubernetes
    /// tooling takes for a cluster's). Created once by [`ApiServer::bootstrap`] (and never
    /// deletable), so it stays the same across restarts of the same data dir.
    pub fn cluster_id(&self) -> Result<String, ApiError> {
        let ns: Namespace = self.get(None, "kube-system")?;
        ns.metadata
            .uid
            .filter(|uid| !uid.is_empty())
            .ok_or_else(|| ApiError::internal("the kube-system namespace has no uid"))
    }

    /// Creates the namespaces a new cluster has, if they are missing.
    pub async fn ensure_initial_namespaces(&self) -> Result<(), ApiError> {
        let caller = Caller::new(Actor::ApiServer);
        for name in INITIAL_NAMESPACES {
            let ns = Namespace {
                metadata: ObjectMeta {
                    name: Some((*name).to_string()),
                    ..ObjectMeta::default()
                },
                ..Namespace::default()
            };
            match self.create(None, ns, &caller).await {
                Ok(_) => {}
                Err(e) if e.reason == super::error::Reason::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn request<K: Kind>(&self, caller: &Caller, verb: &str, key: &str) {
        self.inner.trace.record(|| {
            StepDraft::new(
                caller.actor.clone(),
                Actor::ApiServer,
                key,
                format!("{verb} {}", K::URL_PATH_SEGMENT),
            )
        });
    }

    /// Step mode's gate point of the API server: a person's pod write waits before its commit.
    async fn hold<K: Kind>(&self, caller: &Caller, verb: &str, key: &str) {
        if caller.person && !caller.dry_run && K::URL_PATH_SEGMENT == "pods" {
            self.inner
                .trace
                .at_gate(|| {
                    StepDraft::new(
                        Actor::ApiServer,
                        Actor::Store,
                        key,
                        format!("commit {verb} {}", K::URL_PATH_SEGMENT),
                    )
                })
                .await;
        }
    }

    fn respond(
        &self,
        caller: &Caller,
        key: &str,
        what: String,
        rev: Option<u64>,
        started: Instant,
    ) {
        self.inner.trace.record(|| {
            let mut step = StepDraft::new(Actor::ApiServer, caller.actor.clone(), key, what)
                .took(started.elapsed());
            step.rev = rev;
            step
        });
    }

    /// The namespace an object of `K` lives in, reconciling the request's and the object's.
    fn namespace_for<K: Kind>(
        request_ns: Option<&str>,
        meta: &mut ObjectMeta,
    ) -> Result<Option<String>, ApiError> {
        if !K::NAMESPACED {
            meta.namespace = None;
            return Ok(None);
        }
        let ns = match (request_ns, meta.namespace.as_deref()) {
            (Some(r), Some(o)) if !o.is_empty() && r != o => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            (Some(r), _) => r.to_string(),
            (None, Some(o)) if !o.is_empty() => o.to_string(),
            (None, _) => "default".to_string(),
        };
        meta.namespace = Some(ns.clone());
        Ok(Some(ns))
    }

    /// A namespaced object may only be created in a namespace that exists and is not terminating.
    fn check_namespace(&self, ns: &str) -> Result<(), ApiError> {
        let (kv, _) = self
            .inner
            .store
            .get(&key_of::<Namespace>(None, ns))
            .map_err(ApiError::from_store)?;
        let Some(kv) = kv else {
            return Err(ApiError::not_found("namespaces", "", ns));
        };
        let namespace: Namespace = decode_kv(&kv)?;
        if namespace.metadata.deletion_timestamp.is_some() {
            return Err(ApiError::forbidden(
                "namespaces",
                "",
                ns,
                &format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
            ));
        }
        Ok(())
    }

    pub async fn create<K: Kind>(
        &self,
        namespace: Option<&str>,
        mut obj: K,
        caller: &Caller,
    ) -> Result<K, ApiError> {
        let started = Instant::now();
        let ns = Self::namespace_for::<K>(namespace, obj.metadata_mut())?;
        let meta = obj.metadata_mut();
        if meta.name.as_deref().is_none_or(str::is_empty)
            && let Some(prefix) = meta.generate_name.as_deref().filter(|p| !p.is_empty())
        {
            meta.name = Some(format!("{prefix}{}", generated_suffix()));
        }
        if meta
            .resource_version
            .as_deref()
            .is_some_and(|rv| !rv.is_empty())
        {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        meta.uid = Some(uuid::Uuid::new_v4().to_string());
        meta.creation_timestamp = Some(now());
        meta.deletion_timestamp = None;
        meta.deletion_grace_period_seconds = None;
        meta.generation = Some(1);
        let name = meta.name.clone().unwrap_or_default();
        let key = key_of::<K>(ns.as_deref(), &name);
        self.request::<K>(caller, "POST", &key);

        obj.default_on_create();
        self.admit(&mut obj, &name, true)?;
        let errs = obj.validate_create();
        if !errs.is_empty() {
            return Err(ApiError::invalid(K::KIND, K::GROUP, &name, &errs));
        }
        if let Some(ns) = &ns {
            self.check_namespace(ns)?;
        }
        if caller.dry_run {
            if self
                .inner
                .store
                .get(&key)
                .map_err(ApiError::from_store)?
                .0
                .is_some()
            {
                return Err(ApiError::already_exists(
                    K::URL_PATH_SEGMENT,
                    K::GROUP,
                    &name,
                ));
            }
            self.respond(caller, &key, "201 Created (dry run)".into(), None, started);
            return Ok(obj);
        }
        self.hold::<K>(caller, "POST", &key).await;
        let event = self
            .inner
            .store
            .create(&key, encode(&obj)?)
            .await
            .map_err(|e| match e {
                StoreError::AlreadyExists { .. } => {
                    ApiError::already_exists(K::URL_PATH_SEGMENT, K::GROUP, &name)
                }
                other => ApiError::from_store(other),
            })?;
        obj.metadata_mut().resource_version = Some(event.rev.to_string());
        self.respond(caller, &key, "201 Created".into(), Some(event.rev), started);
        Ok(obj)
    }

    pub fn get<K: Kind>(&self, namespace: Option<&str>, name: &str) -> Result<K, ApiError> {
        decode_kv(&self.stored::<K>(namespace, name)?)
    }

    /// The stored record of one object; NotFound when there is none.
    fn stored<K: Kind>(&self, namespace: Option<&str>, name: &str) -> Result<KeyValue, ApiError> {
        let (kv, _) = self
            .inner
            .store
            .get(&key_of::<K>(namespace, name))
            .map_err(ApiError::from_store)?;
        kv.ok_or_else(|| ApiError::not_found(K::URL_PATH_SEGMENT, K::GROUP, name))
    }

    /// Like [`get`](Self::get), sharing the decoded object with every in-process reader of the
    /// same revision (see [`SharedObjects`]): for components that read an object back often.
    pub fn get_shared<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<K>, ApiError> {
        let kv = self.stored::<K>(namespace, name)?;
        self.inner.shared.get::<K>(&kv.key, kv.mod_rev, &kv.value)
    }

    /// How many decoded objects of kind `K` some in-process component holds (each revision
    /// counted once, however many hold it).
    pub fn decoded_alive<K: Kind>(&self) -> usize {
        self.inner.shared.alive(&prefix_of::<K>(None))
    }

    /// Objects of one namespace (or all, with `None`) that match the selectors.
    pub fn list<K: Kind>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> Result<ObjectList<K>, ApiError> {
        let (items, resource_version) = self.list_lazily(namespace, params)?;
        Ok(ObjectList {
            // A copy only of what a component also holds; the rest is the decoded object itself.
            items: items
                .map(|obj| obj.map(Arc::unwrap_or_clone))
                .collect::<Result<_, _>>()?,
            resource_version,
        })
    }

    /// Like [`list`](Self::list), for a list-watch: each object is read from the store's snapshot
    /// and decoded (and matched against the selectors) only when the iterator reaches it, so
    /// the list is never held whole, and it is the object every in-process watcher of that
    /// revision shares (see [`SharedObjects`]). Also returns the list's revision.
    pub fn list_lazily<K: Kind>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> Result<
        (
            impl Iterator<Item = Result<Arc<K>, ApiError>> + Send + use<K>,
            String,
        ),
        ApiError,
    > {
        let selectors = Selectors::parse::<K>(
            params.label_selector.as_deref(),
            params.field_selector.as_deref(),
        )?;
        let (items, rev) = self.list_selected(namespace, selectors)?;
        Ok((items, rev.to_string()))
    }

    fn list_selected<K: Kind>(
        &self,
        namespace: Option<&str>,
        selectors: Selectors,
    ) -> Result<
        (
            impl Iterator<Item = Result<Arc<K>, ApiError>> + Send + use<K>,
            u64,
        ),
        ApiError,
    > {
        let (kvs, rev) = self
            .inner
            .store
            .list_lazily(&prefix_of::<K>(namespace))
            .map_err(ApiError::from_store)?;
        let shared = self.inner.shared.clone();
        let items = kvs.filter_map(move |kv| {
            let kv = match kv {
                Ok(kv) => kv,
                Err(e) => return Some(Err(ApiError::from_store(e))),
            };
            match shared.get::<K>(&kv.key, kv.mod_rev, &kv.value) {
                Ok(obj) if selectors.matches(&*obj) => Some(Ok(obj)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            }
        });
        Ok((items, rev))
    }

    /// PUT: replaces the object. With `metadata.resourceVersion` set it is a conditional write
    /// (409 on mismatch); without, it applies to whatever is current.
    pub async fn replace<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
        obj: K,
        caller: &Caller,
    ) -> Result<K, ApiError> {
        self.check_name(name, &obj)?;
        self.update_with(namespace, name, Part::Main, caller, "PUT", |_| {
            Ok(obj.clone())
        })
        .await
    }

    /// PUT on `/status`: only the status changes.
    pub async fn replace_status<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
        obj: K,
        caller: &Caller,
    ) -> Result<K, ApiError> {
        self.check_name(name, &obj)?;
        self.update_with(namespace, name, Part::Status, caller, "PUT status", |_| {
            Ok(obj.clone())
        })
        .await
    }

    pub async fn patch<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        caller: &Caller,
    ) -> Result<K, ApiError> {
        self.update_with(namespace, name, Part::Main, caller, "PATCH", |cur| {
            apply_patch(cur, patch)
        })
        .await
    }

    pub async fn patch_status<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        caller: &Caller,
    ) -> Result<K, ApiError> {
        self.update_with(
            namespace,
            name,
            Part::Status,
            caller,
            "PATCH status",
            |cur| apply_patch(cur, patch),
        )
        .await
    }

    /// Read-modify-write of the main resource that retries on conflicts (kube-apiserver's
    /// GuaranteedUpdate): `change` may run more than once, each time on the current object.
    pub async fn modify<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
        caller: &Caller,
        mut change: impl FnMut(&K) -> Result<K, ApiError>,
    ) -> Result<K, ApiError> {
        self.update_with(namespace, name, Part::Main, caller, "PUT", |cur| {
            let mut next = change(cur)?;
            next.metadata_mut().resource_version = None;
            Ok(next)
        })
        .await
    }

    /// [`ApiServer::modify`] for the status subresource.
    pub async fn modify_status<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
        caller: &Caller,
        mut change: impl FnMut(&K) -> Result<K, ApiError>,
    ) -> Result<K, ApiError> {
        self.update_with(namespace, name, Part::Status, caller, "PUT status", |cur| {
            let mut next = change(cur)?;
            next.metadata_mut().resource_version = None;
            Ok(next)
        })
        .await
    }

    fn check_name<K: Kind>(&self, name: &str, obj: &K) -> Result<(), ApiError> {
        let given = name_of(obj);
        if !given.is_empty() && given != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({given}) does not match the name on the URL ({name})"
            )));
        }
        Ok(())
    }

    /// The read-modify-write loop under every update. `change` gets the current object and
    /// returns the desired one. If the desired object names a resourceVersion, that is a
    /// precondition (a mismatch is 409 Conflict); if not, a concurrent write makes the loop read
    /// again and retry, as kube-apiserver's GuaranteedUpdate does.
    async fn update_with<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
        part: Part,
        caller: &Caller,
        verb: &str,
        mut change: impl FnMut(&K) -> Result<K, ApiError>,
    ) -> Result<K, ApiError> {
        let started = Instant::now();
        let key = key_of::<K>(namespace, name);
        self.request::<K>(caller, verb, &key);
        self.hold::<K>(caller, verb, &key).await;
        loop {
            let (kv, _) = self.inner.store.get(&key).map_err(ApiError::from_store)?;
            let Some(kv) = kv else {
                return Err(ApiError::not_found(K::URL_PATH_SEGMENT, K::GROUP, name));
            };
            let old: K = decode_kv(&kv)?;
            let mut new = change(&old)?;
            let precondition = match new.metadata().resource_version.as_deref() {
                Some(rv) if !rv.is_empty() => Some(parse_rv(rv)?),
                _ => None,
            };
            if precondition.is_some_and(|rv| rv != kv.mod_rev) {
                return Err(ApiError::modified(K::URL_PATH_SEGMENT, K::GROUP, name));
            }
            // An unconditional update applies to the current object, as if it had named its
            // revision (kube-apiserver does the same before validating).
            new.metadata_mut().resource_version = Some(kv.mod_rev.to_string());
            self.prepare_update(&mut new, &old, part, namespace)?;
            // Finalizers released on an object being deleted with no grace left: it goes now.
            let finalized = new.metadata().deletion_timestamp.is_some()
                && new.metadata().finalizers.as_ref().is_none_or(Vec::is_empty)
                && new.metadata().deletion_grace_period_seconds.unwrap_or(0) == 0;
            if caller.dry_run {
                self.respond(caller, &key, "200 OK (dry run)".into(), None, started);
                return Ok(new);
            }
            let op = if finalized {
                Op::Delete {
                    key: key.clone(),
                    expected: Some(kv.mod_rev),
                }
            } else {
                let bytes = encode(&new)?;
                if bytes == kv.value {
                    // Nothing changed: no write, no new revision (as kube-apiserver).
                    self.respond(
                        caller,
                        &key,
                        "200 OK (unchanged)".into(),
                        Some(kv.mod_rev),
                        started,
                    );
                    return Ok(old);
                }
                Op::Update {
                    key: key.clone(),
                    value: bytes,
                    expected: Some(kv.mod_rev),
                }
            };
            match self.inner.store.write(op).await {
                Ok(event) => {
                    new.metadata_mut().resource_version = Some(event.rev.to_string());
                    self.respond(caller, &key, "200 OK".into(), Some(event.rev), started);
                    return Ok(new);
                }
                Err(e) => match refused::<K>(e, name, precondition.is_none()) {
                    Some(err) => return Err(err),
                    None => continue,
                },
            }
        }
    }

    /// Admission that reads other objects (the Priority plugin): pods get their priority from
    /// the stored PriorityClasses on create; a PriorityClass may not become a second default.
    fn admit<K: Kind>(&self, obj: &mut K, name: &str, is_create: bool) -> Result<(), ApiError> {
        let obj: &mut dyn std::any::Any = obj;
        let refusal = if let Some(pod) = obj.downcast_mut::<Pod>() {
            if !is_create {
                return Ok(());
            }
            let classes = self
                .list::<PriorityClass>(None, &ListParams::default())?
                .items;
            super::admission::admit_pod(pod, &classes)
        } else if let Some(class) = obj.downcast_mut::<PriorityClass>() {
            let classes = self
                .list::<PriorityClass>(None, &ListParams::default())?
                .items;
            super::admission::admit_priority_class(class, &classes, is_create)
        } else {
            return Ok(());
        };
        refusal.map_err(|why| ApiError::forbidden(K::URL_PATH_SEGMENT, K::GROUP, name, &why))
    }

    /// Creates the PriorityClasses every cluster has, if they are missing.
    pub async fn ensure_system_priority_classes(&self) -> Result<(), ApiError> {
        let caller = Caller::new(Actor::ApiServer);
        for class in super::admission::system_priority_classes() {
            match self.create(None, class, &caller).await {
                Ok(_) => {}
                Err(e) if e.reason == super::error::Reason::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Applies the kind's update strategy and the metadata rules every kind shares.
    fn prepare_update<K: Kind>(
        &self,
        new: &mut K,
        old: &K,
        part: Part,
        namespace: Option<&str>,
    ) -> Result<(), ApiError> {
        let name = name_of(old).to_string();
        {
            let (n, o) = (new.metadata_mut(), old.metadata());
            if n.uid.as_deref().is_some_and(|u| !u.is_empty()) && n.uid != o.uid {
                return Err(ApiError::conflict(
                    K::URL_PATH_SEGMENT,
                    K::GROUP,
                    &name,
                    &format!(
                        "Precondition failed: UID in precondition: {}, UID in object meta: {}",
                        n.uid.as_deref().unwrap_or(""),
                        o.uid.as_deref().unwrap_or("")
                    ),
                ));
            }
            if n.name.as_deref().is_none_or(str::is_empty) {
                n.name = o.name.clone();
            }
            if K::NAMESPACED && n.namespace.as_deref().is_none_or(str::is_empty) {
                n.namespace = namespace.map(str::to_string);
            }
            // Server-owned metadata survives every update.
            n.uid = o.uid.clone();
            n.creation_timestamp = o.creation_timestamp.clone();
            n.generation = o.generation;
            if part != Part::System {
                n.deletion_timestamp = o.deletion_timestamp.clone();
                n.deletion_grace_period_seconds = o.deletion_grace_period_seconds;
            }
        }
        let errs = match part {
            Part::Main => {
                new.prepare_for_update(old);
                self.admit(new, &name, false)?;
                new.validate_update(old)
            }
            Part::Status => {
                if !K::has_status() {
                    return Err(ApiError::not_found(K::URL_PATH_SEGMENT, K::GROUP, &name));
                }
                new.prepare_for_status_update(old);
                new.validate_status_update(old)
            }
            Part::System => Vec::new(),
        };
        if !errs.is_empty() {
            return Err(ApiError::invalid(K::KIND, K::GROUP, &name, &errs));
        }
        Ok(())
    }

    /// DELETE. Pods on a node are deleted gracefully: they get a deletionTimestamp and stay until
    /// their kubelet confirms with a grace-0 delete. Objects with finalizers stay until the
    /// finalizers are removed.
    pub async fn delete<K: Kind>(
        &self,
        namespace: Option<&str>,
        name: &str,
        params: &DeleteParams,
        caller: &Caller,
    ) -> Result<Deleted<K>, ApiError> {
        let started = Instant::now();
        let key = key_of::<K>(namespace, name);
        self.request::<K>(caller, "DELETE", &key);
        if let Some(forbidden) = protected::<K>(name) {
            return Err(forbidden);
        }
        self.hold::<K>(caller, "DELETE", &key).await;
        let precondition = params
            .resource_version
            .as_deref()
            .map(parse_rv)
            .transpose()?;
        loop {
            let (kv, _) = self.inner.store.get(&key).map_err(ApiError::from_store)?;
            let Some(kv) = kv else {
                return Err(ApiError::not_found(K::URL_PATH_SEGMENT, K::GROUP, name));
            };
            let old: K = decode_kv(&kv)?;
            if let Some(uid) = params.uid.as_deref()
                && old.metadata().uid.as_deref() != Some(uid)
            {
                return Err(ApiError::conflict(
                    K::URL_PATH_SEGMENT,
                    K::GROUP,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        old.metadata().uid.as_deref().unwrap_or("")
                    ),
                ));
            }
            if precondition.is_some_and(|rv| rv != kv.mod_rev) {
                return Err(ApiError::conflict(
                    K::URL_PATH_SEGMENT,
                    K::GROUP,
                    name,
                    OBJECT_MODIFIED,
                ));
            }
            let grace = old
                .delete_grace_seconds(params.grace_period_seconds)
                .unwrap_or(0);
            let has_finalizers = old
                .metadata()
                .finalizers
                .as_ref()
                .is_some_and(|f| !f.is_empty());
            let op = if grace == 0 && !has_finalizers {
                Op::Delete {
                    key: key.clone(),
                    expected: Some(kv.mod_rev),
                }
            } else {
                let mut marked = old.clone();
                let meta = marked.metadata_mut();
                let current = meta.deletion_grace_period_seconds;
                if meta.deletion_timestamp.is_some() && current.is_some_and(|c| c <= grace) {
                    // Already terminating with a grace period no longer than asked: nothing to do.
                    return Ok(Deleted::Terminating(old));
                }
                let start = now().0;
                let deadline = start
                    .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(grace))
                    .unwrap_or(start);
                meta.deletion_timestamp = Some(Time(deadline));
                meta.deletion_grace_period_seconds = Some(grace);
                meta.resource_version = None;
                Op::Update {
                    key: key.clone(),
                    value: encode(&marked)?,
                    expected: Some(kv.mod_rev),
                }
            };
            let graceful = matches!(op, Op::Update { .. });
            if caller.dry_run {
                self.respond(caller, &key, "200 OK (dry run)".into(), None, started);
                return Ok(if graceful {
                    Deleted::Terminating(old)
                } else {
                    Deleted::Gone(old)
                });
            }
            match self.inner.store.write(op).await {
                Ok(event) => {
                    let what = if graceful {
                        "200 OK (terminating)"
                    } else {
                        "200 OK (deleted)"
                    };
                    self.respond(caller, &key, what.into(), Some(event.rev), started);
                    let last = match &event.prev {
                        Some(prev) if !graceful => prev.value.clone(),
                        _ => event.value.clone(),
                    };
                    let obj: K = decode(&last, event.rev)?;
                    return Ok(if graceful {
                        Deleted::Terminating(obj)
                    } else {
                        Deleted::Gone(obj)
                    });
                }
                Err(e) => match refused::<K>(e, name, precondition.is_none()) {
                    Some(err) => return Err(err),
                    None => continue,
                },
            }
        }
    }

    /// POST `pods/<name>/binding`: assigns the pod to a node. A pod already bound gets 409.
    pub async fn bind(
        &self,
        namespace: &str,
        name: &str,
        binding: &Binding,
        caller: &Caller,
    ) -> Result<Pod, ApiError> {
        let target = &binding.target;
        if target
            .kind
            .as_deref()
            .is_some_and(|k| !k.is_empty() && k != "Node")
        {
            return Err(ApiError::invalid(
                "Binding",
                "",
                name,
                &[super::validation::FieldError::not_supported(
                    "target.kind",
                    target.kind.as_deref().unwrap_or(""),
                    &["Node", "<empty>"],
                )],
            ));
        }
        let node = target.name.clone().unwrap_or_default();
        if node.is_empty() {
            return Err(ApiError::invalid(
                "Binding",
                "",
                name,
                &[super::validation::FieldError::required("target.name", "")],
            ));
        }
        let uid = binding.metadata.uid.clone();
        self.update_with(
            Some(namespace),
            name,
            Part::System,
            caller,
            "POST binding",
            |pod: &Pod| {
                let bound = |why: String| ApiError::conflict("pods/binding", "", name, &why);
                if let Some(uid) = uid.as_deref()
                    && pod.metadata.uid.as_deref() != Some(uid)
                {
                    return Err(bound(format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        pod.metadata.uid.as_deref().unwrap_or("")
                    )));
                }
                if pod.metadata.deletion_timestamp.is_some() {
                    return Err(bound(format!(
                        "pod {name} is being deleted, cannot be assigned to a host"
                    )));
                }
                let mut pod = pod.clone();
                let spec = pod.spec.get_or_insert_default();
                if let Some(current) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
                    return Err(bound(format!(
                        "pod {name} is already assigned to node {current:?}"
                    )));
                }
                spec.node_name = Some(node.clone());
                set_pod_condition(
                    &mut pod,
                    PodCondition {
                        type_: "PodScheduled".into(),
                        status: "True".into(),
                        last_transition_time: Some(now()),
                        ..PodCondition::default()
                    },
                );
                pod.metadata.resource_version = None;
                Ok(pod)
            },
        )
        .await
    }

    /// Watches objects of `K` in one namespace (or all). See [`WatchParams`] for where it starts.
    pub fn watch<K: Kind>(
        &self,
        namespace: Option<&str>,
        params: &WatchParams,
        caller: &Caller,
    ) -> Result<WatchStream<K>, ApiError> {
        let selectors = Selectors::parse::<K>(
            params.label_selector.as_deref(),
            params.field_selector.as_deref(),
        )?;
        let prefix = prefix_of::<K>(namespace);
        let store = &self.inner.store;
        let start = params
            .resource_version
            .as_deref()
            .filter(|rv| !rv.is_empty() && *rv != "0");
        let (initial, from) = match start {
            Some(rv) => (Vec::new(), parse_rv(rv)?),
            None => {
                let (items, rev) = self.list_selected(namespace, selectors.clone())?;
                (items.collect::<Result<_, _>>()?, rev)
            }
        };
        let watcher = match store.watch(&prefix, from) {
            Ok(w) => Ok(w),
            Err(StoreError::Compacted {
                requested,
                compacted,
            }) => Err(ApiError::expired(requested, compacted)),
            Err(other) => return Err(ApiError::from_store(other)),
        };
        Ok(WatchStream::new(
            watcher,
            initial,
            selectors,
            params,
            caller.actor.clone(),
            self.inner.trace.clone(),
            self.inner.shared.clone(),
        ))
    }
}

/// What a refused conditional write means to a read-modify-write loop: `None` to read again and
/// retry (a concurrent write got there first and the caller named no revision), else the error.
fn refused<K: Kind>(err: StoreError, name: &str, may_retry: bool) -> Option<ApiError> {
    match err {
        StoreError::Conflict { .. } if may_retry => None,
        StoreError::Conflict { .. } => {
            Some(ApiError::modified(K::URL_PATH_SEGMENT, K::GROUP, name))
        }
        StoreError::NotFound { .. } => {
            Some(ApiError::not_found(K::URL_PATH_SEGMENT, K::GROUP, name))
        }
        other => Some(ApiError::from_store(other)),
    }
}

/// Deleting these would break the cluster; Kubernetes refuses them the same way.
fn protected<K: Kind>(name: &str) -> Option<ApiError> {
    (K::REGISTRY == "namespaces" && matches!(name, "default" | "kube-system" | "kube-public"))
        .then(|| ApiError::forbidden("namespaces", "", name, "this namespace may not be deleted"))
}

/// Sets a pod condition, keeping the transition time when the status did not change.
pub fn set_pod_condition(pod: &mut Pod, mut condition: PodCondition) {
    let status = pod.status.get_or_insert_default();
    let conditions = status.conditions.get_or_insert_default();
    match conditions.iter_mut().find(|c| c.type_ == condition.type_) {
        Some(existing) => {
            if existing.status == condition.status {
                condition.last_transition_time = existing.last_transition_time.clone();
            }
            *existing = condition;
        }
        None => conditions.push(condition),
    }
}

fn apply_patch<K: Kind>(current: &K, patch: &Patch) -> Result<K, ApiError> {
    let mut doc = serde_json::to_value(current).map_err(ApiError::internal)?;
    // The patch's own resourceVersion (if any) is the precondition; the current one is not.
    if let Some(meta) = doc.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("resourceVersion");
    }
    match patch {
        Patch::Merge(p) => json_patch::merge(&mut doc, p),
        Patch::Strategic(p) => {
            doc = super::strategic::apply(K::KIND, &doc, p)
                .map_err(|e| ApiError::strategic_patch(&e))?
        }
        Patch::Json(p) => json_patch::patch(&mut doc, p).map_err(|e| {
            ApiError::invalid(
                K::KIND,
                K::GROUP,
                name_of(current),
                &[super::validation::FieldError::invalid(
                    "patch",
                    "",
                    format!("the JSON patch could not be applied: {e}"),
                )],
            )
        })?,
    }
    serde_json::from_value(doc).map_err(|e| {
        ApiError::bad_request(format!("the patch produced an invalid {}: {e}", K::KIND))
    })
}
