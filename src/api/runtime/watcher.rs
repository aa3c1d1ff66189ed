//! `watcher`: list, then watch from the list's revision, forever. The stream speaks kube-runtime's
//! vocabulary: `Init`, `InitApply` for each listed object, `InitDone`, then `Apply` / `Delete` for
//! changes. When the watch is compacted away (410) or dropped for being slow, it re-lists and starts
//! over with `Init`, so a consumer rebuilding state from `Init..InitDone` never misses a change.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::mpsc;

use crate::api::error::ApiError;
use crate::api::params::{ListParams, WatchParams};
use crate::api::resource::Kind;
use crate::api::{Api, WatchEvent};

/// Objects come as `Arc`s shared with every other in-process watcher of the same revision.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<K> {
    /// A (re-)list starts: the consumer's view is about to be replaced.
    Init,
    /// An object of the list.
    InitApply(Arc<K>),
    /// The list is complete; live changes follow.
    InitDone,
    /// An object was added or changed.
    Apply(Arc<K>),
    /// An object was deleted (its last state).
    Delete(Arc<K>),
}

/// Wait between failed list attempts, doubling to a cap.
const RETRY_START: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// List-watch `api` with `params` until the returned stream is dropped or the API shuts down.
/// Errors are passed on (the stream keeps going after them).
pub fn watcher<K: Kind>(
    api: Api<K>,
    params: ListParams,
) -> impl Stream<Item = Result<Event<K>, ApiError>> + Send {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(run(api, params, tx));
    futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|ev| (ev, rx)) },
    )
}

type Tx<K> = mpsc::Sender<Result<Event<K>, ApiError>>;

async fn run<K: Kind>(api: Api<K>, params: ListParams, tx: Tx<K>) {
    let mut retry = RETRY_START;
    loop {
        // Decoded one at a time as they are sent: a list of 10,000 pods is not held decoded.
        let (items, resource_version) = match api.list_lazily(&params) {
            Ok(list) => list,
            Err(e) => {
                let closing = e.code == 503;
                if tx.send(Err(e)).await.is_err() || closing {
                    return;
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
                continue;
            }
        };
        retry = RETRY_START;
        if tx.send(Ok(Event::Init)).await.is_err() {
            return;
        }
        for obj in items {
            let ev = obj.map(Event::InitApply);
            if tx.send(ev).await.is_err() {
                return;
            }
        }
        if tx.send(Ok(Event::InitDone)).await.is_err() {
            return;
        }
        match follow(&api, &params, resource_version, &tx).await {
            Ended::Relist => continue,
            Ended::Stop => return,
        }
    }
}

enum Ended {
    Relist,
    Stop,
}

/// Watches from the list's revision until the watch fails (re-list) or the API closes (stop).
async fn follow<K: Kind>(api: &Api<K>, params: &ListParams, rv: String, tx: &Tx<K>) -> Ended {
    let mut stream = match api.watch(&WatchParams::from_list(params).at(rv)) {
        Ok(stream) => stream,
        Err(e) => {
            return if tx.send(Err(e)).await.is_err() {
                Ended::Stop
            } else {
                Ended::Relist
            };
        }
    };
    while let Some(ev) = stream.next().await {
        let out = match ev {
            WatchEvent::Added(obj) | WatchEvent::Modified(obj) => Event::Apply(obj),
            WatchEvent::Deleted(obj) => Event::Delete(obj),
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(e) => {
                tracing::debug!(kind = K::KIND, error = %e, "watch ended; re-listing");
                return Ended::Relist;
            }
        };
        if tx.send(Ok(out)).await.is_err() {
            return Ended::Stop;
        }
    }
    // An in-process watch without a timeout ends only when the store closes.
    Ended::Stop
}
