//! Watch fan-out. The writer publishes each commit's events once, as one shared `Arc` batch, to a
//! broadcast ring; every watcher reads the same allocation and filters by key prefix itself. A
//! watcher that falls behind the ring is dropped with [`StoreError::WatcherTooSlow`]; writers never
//! wait for a watcher.
//!
//! The seam between replay and live events: a watcher subscribes to the ring *before* it opens the
//! read transaction it replays the change log from. Any commit the read transaction cannot see is
//! published after the subscription, so it arrives live (no gap); any commit it can see may also
//! arrive live, and is skipped by revision (no duplicate).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use super::{Event, StoreError};

/// The events of one commit, in revision order.
pub type Batch = Arc<[Arc<Event>]>;

/// How many commits a watcher may lag behind before it is dropped (a list-watch then re-lists),
/// by default. A slot keeps its commit's values (and their previous values) alive until it is
/// overwritten, so the ring's length is memory: 16,384 commits of pods held ~20 MB after a
/// burst of 10,000 pods. kube-apiserver's watch cache keeps far fewer (100 events per resource
/// by default).
pub const FANOUT_BUFFER: usize = 2 * 1024;

pub(crate) struct Hub {
    tx: broadcast::Sender<Batch>,
    /// The highest revision whose batch has been handed to the ring.
    published: AtomicU64,
}

impl Hub {
    pub fn new(revision: u64, buffer: usize) -> Self {
        let (tx, _) = broadcast::channel(buffer.max(1));
        Hub {
            tx,
            published: AtomicU64::new(revision),
        }
    }

    pub fn publish(&self, batch: Batch) {
        if let Some(last) = batch.last() {
            let rev = last.rev;
            // No watcher is not an error.
            let _ = self.tx.send(batch);
            self.published.store(rev, Ordering::Release);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Batch> {
        self.tx.subscribe()
    }

    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Acquire)
    }

    pub fn watchers(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// A stream of changes under one key prefix, in revision order, starting after a revision.
pub struct Watcher {
    prefix: Box<str>,
    replay: VecDeque<Arc<Event>>,
    live: broadcast::Receiver<Batch>,
    pending: Option<(Batch, usize)>,
    /// Revision of the last event yielded, or the start point.
    after: u64,
    /// The revision of the snapshot the replay was read from.
    replay_until: u64,
    hub: Arc<Hub>,
    finished: bool,
}

impl Watcher {
    pub(crate) fn new(
        prefix: &str,
        after: u64,
        replay_until: u64,
        replay: VecDeque<Arc<Event>>,
        live: broadcast::Receiver<Batch>,
        hub: Arc<Hub>,
    ) -> Self {
        Watcher {
            prefix: prefix.into(),
            replay,
            live,
            pending: None,
            after,
            replay_until,
            hub,
            finished: false,
        }
    }

    /// The key prefix this watcher follows.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The revision of the last event delivered (or the revision the watch started after).
    pub fn revision(&self) -> u64 {
        self.after
    }

    /// The next change. `None` once the store closed; an error ends the watch.
    pub async fn next(&mut self) -> Option<Result<Arc<Event>, StoreError>> {
        loop {
            if let Some(ev) = self.next_buffered() {
                return Some(Ok(ev));
            }
            if self.finished {
                return None;
            }
            match self.live.recv().await {
                Ok(batch) => self.pending = Some((batch, 0)),
                Err(e) => return self.fail(e),
            }
        }
    }

    /// The next change if one is already here, without waiting.
    pub fn try_next(&mut self) -> Option<Result<Arc<Event>, StoreError>> {
        loop {
            if let Some(ev) = self.next_buffered() {
                return Some(Ok(ev));
            }
            if self.finished {
                return None;
            }
            match self.live.try_recv() {
                Ok(batch) => self.pending = Some((batch, 0)),
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Lagged(n)) => return self.fail(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => return self.fail(RecvError::Closed),
            }
        }
    }

    /// When this watcher has delivered everything committed so far, the store's current revision:
    /// a safe resourceVersion for a bookmark. `None` while events are still queued.
    pub fn progress(&self) -> Option<u64> {
        let published = self.hub.published();
        let idle = self.replay.is_empty() && self.pending.is_none() && self.live.is_empty();
        idle.then_some(published.max(self.after))
    }

    fn next_buffered(&mut self) -> Option<Arc<Event>> {
        while let Some(ev) = self.replay.pop_front() {
            if self.take(&ev) {
                return Some(ev);
            }
        }
        // The replay held every matching change up to its snapshot; live copies of those are
        // duplicates.
        self.after = self.after.max(self.replay_until);
        while let Some((batch, i)) = self.pending.take() {
            if i + 1 < batch.len() {
                self.pending = Some((batch.clone(), i + 1));
            }
            let ev = &batch[i];
            if self.take(ev) {
                return Some(ev.clone());
            }
        }
        None
    }

    fn take(&mut self, ev: &Event) -> bool {
        if ev.rev <= self.after {
            return false;
        }
        self.after = ev.rev;
        ev.key.starts_with(&*self.prefix)
    }

    fn fail(&mut self, e: RecvError) -> Option<Result<Arc<Event>, StoreError>> {
        self.finished = true;
        match e {
            RecvError::Lagged(missed) => Some(Err(StoreError::WatcherTooSlow { missed })),
            RecvError::Closed => None,
        }
    }
}
