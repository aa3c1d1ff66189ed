//! Watch streams as kube-apiserver serves them: store changes turned into typed ADDED / MODIFIED /
//! DELETED events, filtered by selectors with Kubernetes' rule that an object entering the
//! selection is ADDED and one leaving it is DELETED; initial ADDED events for a watch from "now";
//! BOOKMARKs when idle; an ERROR event (410 Expired) when the start revision was compacted.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::error::ApiError;
use super::params::{Selectors, WatchParams};
use super::resource::Kind;
use super::shared::SharedObjects;
use crate::store::{ChangeKind, Watcher};
use crate::trace::{Actor, StepDraft, TraceBus};

/// How often an idle watch with bookmarks enabled reports the current revision.
pub const BOOKMARK_INTERVAL: Duration = Duration::from_secs(10);

/// Objects come as `Arc`s: every in-process watcher of one revision shares one decoded object.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent<K> {
    Added(Arc<K>),
    Modified(Arc<K>),
    Deleted(Arc<K>),
    /// The stream has seen everything up to this resourceVersion.
    Bookmark(String),
    /// The stream ends after this (e.g. 410 Expired: re-list).
    Error(ApiError),
}

impl<K> WatchEvent<K> {
    /// The event type as it appears on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        }
    }
}

pub struct WatchStream<K> {
    /// `Err` when the start revision was already compacted: one ERROR event, then the end.
    watcher: Result<Watcher, ApiError>,
    initial: VecDeque<Arc<K>>,
    selectors: Selectors,
    shared: Arc<SharedObjects>,
    bookmarks: Option<(Interval, u64)>,
    deadline: Option<Instant>,
    client: Actor,
    trace: TraceBus,
    done: bool,
}

impl<K: Kind> WatchStream<K> {
    pub(crate) fn new(
        watcher: Result<Watcher, ApiError>,
        initial: Vec<Arc<K>>,
        selectors: Selectors,
        params: &WatchParams,
        client: Actor,
        trace: TraceBus,
        shared: Arc<SharedObjects>,
    ) -> Self {
        let bookmarks = params.allow_bookmarks.then(|| {
            let mut tick =
                tokio::time::interval_at(Instant::now() + BOOKMARK_INTERVAL, BOOKMARK_INTERVAL);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            (tick, 0)
        });
        WatchStream {
            watcher,
            initial: initial.into(),
            selectors,
            shared,
            bookmarks,
            deadline: params.timeout.map(|t| Instant::now() + t),
            client,
            trace,
            done: false,
        }
    }

    /// The next event; `None` when the stream ended (timeout, store closed, or after an ERROR).
    pub async fn next(&mut self) -> Option<WatchEvent<K>> {
        if self.done {
            return None;
        }
        if let Some(obj) = self.initial.pop_front() {
            return Some(WatchEvent::Added(obj));
        }
        let watcher = match &mut self.watcher {
            Ok(w) => w,
            Err(e) => {
                self.done = true;
                return Some(WatchEvent::Error(e.clone()));
            }
        };
        loop {
            let deadline = self.deadline;
            let bookmark_tick = async {
                match &mut self.bookmarks {
                    Some((tick, _)) => {
                        tick.tick().await;
                    }
                    None => std::future::pending().await,
                }
            };
            let timeout = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                change = watcher.next() => match change {
                    Some(Ok(ev)) => {
                        if let Some(out) = translate::<K>(&ev, &self.selectors, &self.shared) {
                            let out = match out {
                                Ok(out) => out,
                                Err(e) => {
                                    self.done = true;
                                    return Some(WatchEvent::Error(e));
                                }
                            };
                            self.trace.record(|| {
                                StepDraft::new(Actor::Store, self.client.clone(), &*ev.key, format!("watch {}", out.type_name()))
                                    .rev(ev.rev)
                            });
                            return Some(out);
                        }
                    }
                    Some(Err(e)) => {
                        self.done = true;
                        return Some(WatchEvent::Error(ApiError::from_store(e)));
                    }
                    None => {
                        self.done = true;
                        return None;
                    }
                },
                _ = bookmark_tick => {
                    if let (Some(rev), Some((_, last))) = (watcher.progress(), self.bookmarks.as_mut())
                        && rev > *last
                    {
                        *last = rev;
                        return Some(WatchEvent::Bookmark(rev.to_string()));
                    }
                }
                _ = timeout => {
                    self.done = true;
                    return None;
                }
            }
        }
    }

    /// The stream as a `futures::Stream`.
    pub fn into_stream(self) -> impl Stream<Item = WatchEvent<K>> + Send {
        futures::stream::unfold(
            self,
            |mut s| async move { s.next().await.map(|ev| (ev, s)) },
        )
    }
}

/// One store change as the watch client sees it, or nothing when it is outside the selection.
fn translate<K: Kind>(
    ev: &crate::store::Event,
    selectors: &Selectors,
    shared: &SharedObjects,
) -> Option<Result<WatchEvent<K>, ApiError>> {
    let decoded = (|| -> Result<Option<WatchEvent<K>>, ApiError> {
        match ev.kind {
            ChangeKind::Put => {
                let cur: Arc<K> = shared.get(&ev.key, ev.rev, &ev.value)?;
                let now_in = selectors.matches(&*cur);
                let was_in = match &ev.prev {
                    None => false,
                    Some(_) if selectors.is_everything() => true,
                    Some(prev) => selectors.matches(&*shared.get::<K>(
                        &prev.key,
                        prev.mod_rev,
                        &prev.value,
                    )?),
                };
                Ok(match (was_in, now_in) {
                    (false, true) => Some(WatchEvent::Added(cur)),
                    (true, true) => Some(WatchEvent::Modified(cur)),
                    (true, false) => Some(WatchEvent::Deleted(cur)),
                    (false, false) => None,
                })
            }
            ChangeKind::Delete => {
                let Some(prev) = &ev.prev else {
                    return Ok(None);
                };
                // The last state, at the revision of its deletion (as kube-apiserver sends it).
                let last: Arc<K> = shared.get(&ev.key, ev.rev, &prev.value)?;
                Ok(selectors
                    .matches(&*last)
                    .then_some(WatchEvent::Deleted(last)))
            }
        }
    })();
    decoded.transpose()
}
