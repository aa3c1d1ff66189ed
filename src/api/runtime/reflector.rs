//! `reflector`: a local cache of one kind, fed by a [`super::watcher`] stream. Readers clone the
//! cheap [`Store`] handle and read `Arc`s; the cache swaps in a whole new view at each `InitDone`,
//! so readers never see half a re-list.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures::{Stream, StreamExt};
use tokio::sync::watch;

use super::watcher::Event;
use crate::api::error::ApiError;
use crate::api::resource::Kind;

/// `(namespace, name)`; namespace is empty for cluster-scoped kinds.
pub type ObjectKey = (String, String);

pub fn key_of<K: Kind>(obj: &K) -> ObjectKey {
    let meta = obj.metadata();
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// The read side of the cache.
pub struct Store<K> {
    objects: Arc<RwLock<HashMap<ObjectKey, Arc<K>>>>,
    ready: watch::Receiver<bool>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Self {
        Store {
            objects: self.objects.clone(),
            ready: self.ready.clone(),
        }
    }
}

impl<K: Kind> Store<K> {
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        objects
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Every cached object, in no particular order.
    pub fn state(&self) -> Vec<Arc<K>> {
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        objects.values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.objects.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once the first list has been loaded.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Waits for the first list to be loaded.
    pub async fn wait_until_ready(&self) {
        let mut ready = self.ready.clone();
        let _ = ready.wait_for(|r| *r).await;
    }
}

/// The write side, owned by the reflector stream.
pub struct Writer<K> {
    objects: Arc<RwLock<HashMap<ObjectKey, Arc<K>>>>,
    ready: watch::Sender<bool>,
    buffer: Option<HashMap<ObjectKey, Arc<K>>>,
}

/// A new, empty cache: its reader and its writer.
pub fn store<K: Kind>() -> (Store<K>, Writer<K>) {
    let objects = Arc::new(RwLock::new(HashMap::new()));
    let (ready_tx, ready_rx) = watch::channel(false);
    (
        Store {
            objects: objects.clone(),
            ready: ready_rx,
        },
        Writer {
            objects,
            ready: ready_tx,
            buffer: None,
        },
    )
}

impl<K: Kind> Writer<K> {
    pub fn apply(&mut self, event: &Event<K>) {
        match event {
            Event::Init => self.buffer = Some(HashMap::new()),
            Event::InitApply(obj) => {
                if let Some(buffer) = &mut self.buffer {
                    buffer.insert(key_of(&**obj), obj.clone());
                }
            }
            Event::InitDone => {
                if let Some(buffer) = self.buffer.take() {
                    *self.objects.write().unwrap_or_else(|p| p.into_inner()) = buffer;
                }
                self.ready.send_replace(true);
            }
            Event::Apply(obj) => {
                let mut objects = self.objects.write().unwrap_or_else(|p| p.into_inner());
                objects.insert(key_of(&**obj), obj.clone());
            }
            Event::Delete(obj) => {
                let mut objects = self.objects.write().unwrap_or_else(|p| p.into_inner());
                objects.remove(&key_of(&**obj));
            }
        }
    }
}

/// Passes the watcher's events through, applying each to the cache first.
pub fn reflector<K: Kind, S>(
    mut writer: Writer<K>,
    stream: S,
) -> impl Stream<Item = Result<Event<K>, ApiError>>
where
    S: Stream<Item = Result<Event<K>, ApiError>>,
{
    stream.map(move |ev| {
        if let Ok(ev) = &ev {
            writer.apply(ev);
        }
        ev
    })
}
