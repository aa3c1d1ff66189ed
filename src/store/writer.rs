//! The single writer: group commit. Callers queue operations; one thread drains the queue, applies
//! everything waiting in one redb transaction, makes the group durable with one append and one
//! `fdatasync` of the write-ahead log ([`super::wal`]), commits the transaction (visible to readers
//! from then on), publishes the events, and only then answers each caller. Writers never wait for
//! each other's flush one by one, and nobody — caller or reader — sees a write before it is on disk.
//!
//! Periodically (log half full, or idle with changes pending, or at shutdown) the writer
//! checkpoints: one durable redb commit, then a fresh log generation.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redb::{Database, Durability, ReadableTable, Table};
use tokio::sync::oneshot;

use super::codec;
use super::error::storage;
use super::tables::{CHANGES, META, META_COMPACTED, META_REVISION, OBJECTS};
use super::wal::{CHECKPOINT_BYTES, Wal};
use super::watch::Hub;
use super::{ChangeKind, Event, StoreError};
use crate::trace::{Actor, StepDraft, TraceBus};

/// Most operations applied in one transaction.
const MAX_BATCH: usize = 4096;
/// The change log keeps at least this many revisions for watch resume.
pub const RETAIN_REVISIONS: u64 = 10_000;
/// Compaction runs once this many revisions beyond the window have piled up.
const COMPACT_SLACK: u64 = 1_000;
/// A checkpoint is due after this many group commits: until one, redb cannot reuse the pages
/// the groups replaced, so the file grows with every commit.
const CHECKPOINT_COMMITS: u32 = 512;
/// An idle writer checkpoints pending changes after this long.
const IDLE_CHECKPOINT: Duration = Duration::from_secs(2);

/// A conditional write.
#[derive(Debug, Clone)]
pub enum Op {
    /// Fails with `AlreadyExists` when the key is present.
    Create { key: String, value: Bytes },
    /// Fails with `NotFound` when absent, `Conflict` when `expected` is set and differs.
    Update {
        key: String,
        value: Bytes,
        expected: Option<u64>,
    },
    /// Fails with `NotFound` when absent, `Conflict` when `expected` is set and differs.
    Delete { key: String, expected: Option<u64> },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Create { key, .. } | Op::Update { key, .. } | Op::Delete { key, .. } => key,
        }
    }
}

pub type Reply = oneshot::Sender<Result<Arc<Event>, StoreError>>;

pub enum Msg {
    Write(Op, Reply),
    /// Finish everything queued before this, checkpoint, then stop.
    Shutdown(oneshot::Sender<()>),
}

pub struct Writer {
    pub db: Arc<Database>,
    pub hub: Arc<Hub>,
    pub trace: TraceBus,
    pub wal: Wal,
    /// Set when redb refused a commit whose changes the log already holds: the in-memory view is
    /// behind the disk, so every later write is refused until kubox restarts and replays.
    pub failed: Option<StoreError>,
    /// The last committed revision and the compacted one; only this thread changes them.
    pub rev: u64,
    pub compacted: u64,
    /// Group commits since the last checkpoint.
    pub since_checkpoint: u32,
}

type Outcome = Result<Arc<Event>, StoreError>;

impl Writer {
    pub fn run(mut self, rx: Receiver<Msg>) {
        let mut batch: Vec<(Op, Reply)> = Vec::with_capacity(64);
        let mut stop: Option<oneshot::Sender<()>> = None;
        while stop.is_none() {
            match spin_then_recv(&rx) {
                Ok(Msg::Write(op, reply)) => batch.push((op, reply)),
                Ok(Msg::Shutdown(done)) => stop = Some(done),
                Err(RecvTimeoutError::Timeout) => {
                    if self.wal.pending_bytes() > 0 {
                        self.checkpoint();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while stop.is_none() && batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(Msg::Write(op, reply)) => batch.push((op, reply)),
                    Ok(Msg::Shutdown(done)) => stop = Some(done),
                    Err(_) => break,
                }
            }
            if !batch.is_empty() {
                self.commit_group(&mut batch);
            }
            if self.since_checkpoint >= CHECKPOINT_COMMITS
                || self.wal.pending_bytes() >= CHECKPOINT_BYTES
            {
                self.checkpoint();
            }
        }
        self.checkpoint();
        // Anything still queued after the shutdown request is refused, never half-done.
        while let Ok(msg) = rx.try_recv() {
            if let Msg::Write(_, reply) = msg {
                let _ = reply.send(Err(StoreError::Closed));
            }
        }
        if let Some(done) = stop {
            let _ = done.send(());
        }
    }

    /// Makes everything committed so far durable in redb itself and starts a new log generation.
    fn checkpoint(&mut self) {
        if self.failed.is_some() {
            return;
        }
        let result = (|| -> Result<(), StoreError> {
            let mut txn = self.db.begin_write().map_err(storage)?;
            txn.set_durability(Durability::Immediate).map_err(storage)?;
            let rev = {
                let meta = txn.open_table(META).map_err(storage)?;
                meta.get(META_REVISION)
                    .map_err(storage)?
                    .map_or(0, |g| g.value())
            };
            txn.commit().map_err(storage)?;
            self.wal.reset(rev).map_err(storage)
        })();
        self.since_checkpoint = 0;
        if let Err(err) = result {
            // The log still holds every change; the next checkpoint or restart tries again.
            tracing::warn!(%err, "store checkpoint failed; the write-ahead log keeps the changes");
        }
    }

    fn commit_group(&mut self, batch: &mut Vec<(Op, Reply)>) {
        if let Some(err) = &self.failed {
            for (_, reply) in batch.drain(..) {
                let _ = reply.send(Err(err.clone()));
            }
            return;
        }
        let started = Instant::now();
        let result = self.apply_all(batch);
        let took = started.elapsed();
        match result {
            Ok(outcomes) => {
                let events: Arc<[Arc<Event>]> = outcomes
                    .iter()
                    .filter_map(|o| o.as_ref().ok().cloned())
                    .collect();
                self.trace_commits(&events, took, batch.len());
                self.hub.publish(events);
                for ((_, reply), outcome) in batch.drain(..).zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(err) => {
                tracing::error!(%err, ops = batch.len(), "store commit failed; no write of the group was applied");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }

    fn trace_commits(&self, events: &[Arc<Event>], took: Duration, group: usize) {
        if !self.trace.is_on() {
            return;
        }
        for ev in events {
            self.trace.record(|| {
                let what = match (ev.kind, ev.prev.is_some()) {
                    (ChangeKind::Delete, _) => "commit delete",
                    (ChangeKind::Put, false) => "commit create",
                    (ChangeKind::Put, true) => "commit update",
                };
                let what = if group > 1 {
                    format!("{what} (group of {group})")
                } else {
                    what.to_string()
                };
                StepDraft::new(Actor::ApiServer, Actor::Store, &*ev.key, what)
                    .rev(ev.rev)
                    .took(took)
            });
        }
    }

    /// One transaction for the whole group. The outer error aborts everything (nothing is
    /// committed or logged); inner errors are per-operation refusals that leave the rest alone.
    fn apply_all(&mut self, batch: &[(Op, Reply)]) -> Result<Vec<Outcome>, StoreError> {
        let mut txn = self.db.begin_write().map_err(storage)?;
        txn.set_durability(Durability::None).map_err(storage)?;
        // Advanced only once the group is committed.
        let (mut rev, mut compacted) = (self.rev, self.compacted);
        let outcomes = {
            let mut objects = txn.open_table(OBJECTS).map_err(storage)?;
            let mut changes = txn.open_table(CHANGES).map_err(storage)?;
            let mut meta = txn.open_table(META).map_err(storage)?;
            let mut outcomes = Vec::with_capacity(batch.len());
            for (op, _) in batch {
                outcomes.push(apply(&mut objects, &mut changes, &mut rev, op)?);
            }
            meta.insert(META_REVISION, rev).map_err(storage)?;
            compacted = compact(&mut changes, &mut meta, rev, compacted)?;
            outcomes
        };
        let events: Vec<Arc<Event>> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().cloned())
            .collect();
        // Durable first: if the log write fails, the transaction is dropped (aborted) unseen.
        self.wal.append(&events).map_err(storage)?;
        if let Err(e) = txn.commit() {
            let err = StoreError::Storage(format!(
                "the store could not apply writes its log already holds ({e}); restart kubox to replay them"
            ));
            self.failed = Some(err.clone());
            return Err(err);
        }
        (self.rev, self.compacted) = (rev, compacted);
        self.since_checkpoint += 1;
        Ok(outcomes)
    }
}

/// How long the writer polls for the next request before it sleeps. A sequential caller sends its
/// next write within a few microseconds of its answer; catching it awake saves a thread wake-up
/// (~15 µs) per write. Spinning stops as soon as the queue stays empty this long.
const SPIN: Duration = Duration::from_micros(50);

fn spin_then_recv(rx: &Receiver<Msg>) -> Result<Msg, RecvTimeoutError> {
    let until = Instant::now() + SPIN;
    loop {
        match rx.try_recv() {
            Ok(msg) => return Ok(msg),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                return Err(RecvTimeoutError::Disconnected);
            }
            Err(std::sync::mpsc::TryRecvError::Empty) if Instant::now() < until => {
                std::hint::spin_loop();
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => return rx.recv_timeout(IDLE_CHECKPOINT),
        }
    }
}

/// Re-applies one logged change during recovery (the change already passed its checks).
pub(crate) fn replay(
    objects: &mut Table<&str, &[u8]>,
    changes: &mut Table<u64, &[u8]>,
    ev: &Event,
) -> Result<(), StoreError> {
    match ev.kind {
        ChangeKind::Put => {
            objects
                .insert(
                    &*ev.key,
                    codec::encode_object(ev.create_rev, ev.rev, &ev.value).as_slice(),
                )
                .map_err(storage)?;
        }
        ChangeKind::Delete => {
            objects.remove(&*ev.key).map_err(storage)?;
        }
    }
    changes
        .insert(ev.rev, codec::encode_change(ev).as_slice())
        .map_err(storage)?;
    Ok(())
}

fn apply(
    objects: &mut Table<&str, &[u8]>,
    changes: &mut Table<u64, &[u8]>,
    rev: &mut u64,
    op: &Op,
) -> Result<Outcome, StoreError> {
    let key = op.key();
    let current = objects
        .get(key)
        .map_err(storage)?
        .map(|g| codec::decode_object(key, g.value()));
    let current = match current {
        Some(None) => {
            return Err(StoreError::Storage(format!(
                "object record for {key} is unreadable"
            )));
        }
        Some(Some(kv)) => Some(kv),
        None => None,
    };
    let refusal = match (op, &current) {
        (Op::Create { .. }, Some(_)) => Some(StoreError::AlreadyExists { key: key.into() }),
        (Op::Update { .. } | Op::Delete { .. }, None) => {
            Some(StoreError::NotFound { key: key.into() })
        }
        (
            Op::Update {
                expected: Some(want),
                ..
            }
            | Op::Delete {
                expected: Some(want),
                ..
            },
            Some(cur),
        ) if cur.mod_rev != *want => Some(StoreError::Conflict {
            key: key.into(),
            expected: *want,
            actual: cur.mod_rev,
        }),
        _ => None,
    };
    if let Some(refusal) = refusal {
        return Ok(Err(refusal));
    }
    *rev += 1;
    let event = match op {
        Op::Create { value, .. } | Op::Update { value, .. } => {
            let create_rev = current.as_ref().map_or(*rev, |c| c.create_rev);
            objects
                .insert(
                    key,
                    codec::encode_object(create_rev, *rev, value).as_slice(),
                )
                .map_err(storage)?;
            Event {
                kind: ChangeKind::Put,
                rev: *rev,
                key: key.into(),
                value: value.clone(),
                create_rev,
                prev: current,
            }
        }
        Op::Delete { .. } => {
            let Some(prev) = current else {
                return Ok(Err(StoreError::NotFound { key: key.into() }));
            };
            objects.remove(key).map_err(storage)?;
            Event {
                kind: ChangeKind::Delete,
                rev: *rev,
                key: key.into(),
                value: Bytes::new(),
                create_rev: prev.create_rev,
                prev: Some(prev),
            }
        }
    };
    changes
        .insert(*rev, codec::encode_change(&event).as_slice())
        .map_err(storage)?;
    Ok(Ok(Arc::new(event)))
}

/// Trims the change log to the retained window; returns the new compacted revision.
pub(crate) fn compact(
    changes: &mut Table<u64, &[u8]>,
    meta: &mut Table<&str, u64>,
    rev: u64,
    compacted: u64,
) -> Result<u64, StoreError> {
    if rev <= compacted + RETAIN_REVISIONS + COMPACT_SLACK {
        return Ok(compacted);
    }
    let cut = rev - RETAIN_REVISIONS;
    changes.retain_in(..=cut, |_, _| false).map_err(storage)?;
    meta.insert(META_COMPACTED, cut).map_err(storage)?;
    Ok(cut)
}
