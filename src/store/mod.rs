//! The store: kubox's etcd. One redb file in the data dir holds every object under an etcd-style key
//! (`/registry/pods/<ns>/<name>`), a single global revision (the API's `resourceVersion`), and a
//! change log for watch resume. Writes go through one group-commit writer ([`writer`]); reads are
//! MVCC snapshots taken by the caller; watches replay the change log then follow live commits
//! ([`watch`]); backup and restore copy consistent snapshots ([`backup`]).
//!
//! The store knows bytes and revisions, not Kubernetes: validation, defaulting and JSON belong to
//! `api/`, which is the only caller outside tests and benchmarks.

pub mod backup;
mod codec;
mod error;
mod lock;
mod tables;
mod wal;
pub mod watch;
mod writer;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable};
use tokio::sync::oneshot;

pub use error::{OpenError, StoreError};
pub use lock::DirLock;
pub use watch::Watcher;
pub use writer::{Op, RETAIN_REVISIONS};

use error::storage;
use tables::{CHANGES, FORMAT_VERSION, META, META_COMPACTED, META_FORMAT, META_REVISION, OBJECTS};
use watch::Hub;
use writer::{Msg, Writer};

use crate::trace::TraceBus;

/// The store's file name inside the data dir.
pub const STORE_FILE: &str = "kubox.redb";

/// An object as stored, with its revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Arc<str>,
    pub value: Bytes,
    /// Revision of the write that created the object.
    pub create_rev: u64,
    /// Revision of the last write to the object: its `resourceVersion`.
    pub mod_rev: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A create (when `prev` is `None`) or an update.
    Put,
    Delete,
}

/// One committed change. Shared by `Arc` between the writer's reply and every watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: ChangeKind,
    pub rev: u64,
    pub key: Arc<str>,
    /// The new value of a put; empty for a delete.
    pub value: Bytes,
    pub create_rev: u64,
    /// The object before this change (for a delete: its last state).
    pub prev: Option<KeyValue>,
}

impl Event {
    /// The object after a put, as stored.
    pub fn current(&self) -> Option<KeyValue> {
        (self.kind == ChangeKind::Put).then(|| KeyValue {
            key: self.key.clone(),
            value: self.value.clone(),
            create_rev: self.create_rev,
            mod_rev: self.rev,
        })
    }
}

/// Tuning knobs; the defaults are what kubox runs with.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How many commits a watcher may fall behind before it is dropped.
    pub fanout_buffer: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            fanout_buffer: watch::FANOUT_BUFFER,
        }
    }
}

/// A handle on the open store; clones share it.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: Arc<Database>,
    path: PathBuf,
    requests: std::sync::mpsc::Sender<Msg>,
    hub: Arc<Hub>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    _lock: DirLock,
}

impl Store {
    /// Opens (or creates) the store in `dir`, taking the data dir lock.
    pub fn open(dir: &Path, trace: TraceBus) -> Result<Store, OpenError> {
        Store::open_with(dir, trace, StoreOptions::default())
    }

    pub fn open_with(
        dir: &Path,
        trace: TraceBus,
        options: StoreOptions,
    ) -> Result<Store, OpenError> {
        let lock = DirLock::acquire(dir)?;
        let path = dir.join(STORE_FILE);
        let db = Arc::new(open_db(&path, true)?);
        let io = |source| OpenError::Io {
            dir: dir.to_path_buf(),
            source,
        };
        let (mut wal, records) = wal::Wal::open(dir).map_err(io)?;
        let revision = recover(&db, &mut wal, records).map_err(|e| damaged(&path, e))?;
        let compacted = read_meta(&db, META_COMPACTED).map_err(|e| damaged(&path, e))?;
        let hub = Arc::new(Hub::new(revision, options.fanout_buffer));
        let (requests, rx) = std::sync::mpsc::channel();
        let writer = Writer {
            db: db.clone(),
            hub: hub.clone(),
            trace,
            wal,
            failed: None,
            rev: revision,
            compacted,
            since_checkpoint: 0,
        };
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(io)?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                path,
                requests,
                hub,
                writer: Mutex::new(Some(handle)),
                _lock: lock,
            }),
        })
    }

    /// The redb file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Queues a write and returns at once; the answer arrives once it is durable. Lets one caller
    /// keep many writes in flight.
    pub fn submit(&self, op: Op) -> oneshot::Receiver<Result<Arc<Event>, StoreError>> {
        let (reply, rx) = oneshot::channel();
        if let Err(std::sync::mpsc::SendError(Msg::Write(_, reply))) =
            self.inner.requests.send(Msg::Write(op, reply))
        {
            let _ = reply.send(Err(StoreError::Closed));
        }
        rx
    }

    /// Applies one conditional write; returns once it is durable.
    pub async fn write(&self, op: Op) -> Result<Arc<Event>, StoreError> {
        self.submit(op).await.unwrap_or(Err(StoreError::Closed))
    }

    /// [`Store::write`] for callers outside an async runtime.
    pub fn write_blocking(&self, op: Op) -> Result<Arc<Event>, StoreError> {
        self.submit(op)
            .blocking_recv()
            .unwrap_or(Err(StoreError::Closed))
    }

    pub async fn create(&self, key: &str, value: Bytes) -> Result<Arc<Event>, StoreError> {
        self.write(Op::Create {
            key: key.into(),
            value,
        })
        .await
    }

    pub async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Option<u64>,
    ) -> Result<Arc<Event>, StoreError> {
        self.write(Op::Update {
            key: key.into(),
            value,
            expected,
        })
        .await
    }

    pub async fn delete(&self, key: &str, expected: Option<u64>) -> Result<Arc<Event>, StoreError> {
        self.write(Op::Delete {
            key: key.into(),
            expected,
        })
        .await
    }

    /// One object and the store revision of the snapshot it was read from.
    pub fn get(&self, key: &str) -> Result<(Option<KeyValue>, u64), StoreError> {
        let txn = self.inner.db.begin_read().map_err(storage)?;
        let rev = meta_in(&txn, META_REVISION)?;
        let objects = txn.open_table(OBJECTS).map_err(storage)?;
        let kv = match objects.get(key).map_err(storage)? {
            Some(raw) => Some(
                codec::decode_object(key, raw.value())
                    .ok_or_else(|| StoreError::Storage(format!("unreadable record at {key}")))?,
            ),
            None => None,
        };
        Ok((kv, rev))
    }

    /// Every object whose key starts with `prefix`, in key order, and the snapshot's revision.
    pub fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, u64), StoreError> {
        let (items, rev) = self.list_lazily(prefix)?;
        Ok((items.collect::<Result<_, _>>()?, rev))
    }

    /// Like [`list`](Self::list), but read as the iterator is taken, from one read snapshot that
    /// the iterator holds: a list of 10,000 pods does not sit in memory as one `Vec` while its
    /// reader works through it (a list-watch's initial list). Hold it only while consuming it:
    /// an open snapshot keeps the pages it reads from being reused by later commits.
    pub fn list_lazily(&self, prefix: &str) -> Result<(ListIter, u64), StoreError> {
        let txn = self.inner.db.begin_read().map_err(storage)?;
        let rev = meta_in(&txn, META_REVISION)?;
        let objects = txn.open_table(OBJECTS).map_err(storage)?;
        let range = objects.range(prefix..).map_err(storage)?;
        Ok((
            ListIter {
                range,
                prefix: prefix.into(),
                _snapshot: (objects, txn),
                done: false,
            },
            rev,
        ))
    }

    /// The revision of the last committed write.
    pub fn revision(&self) -> Result<u64, StoreError> {
        let txn = self.inner.db.begin_read().map_err(storage)?;
        meta_in(&txn, META_REVISION)
    }

    /// Changes at or below this revision are gone from the change log.
    pub fn compacted_revision(&self) -> Result<u64, StoreError> {
        let txn = self.inner.db.begin_read().map_err(storage)?;
        meta_in(&txn, META_COMPACTED)
    }

    /// Changes under `prefix` with a revision above `after`: first replayed from the change log,
    /// then live, with no gap and no duplicate between the two.
    pub fn watch(&self, prefix: &str, after: u64) -> Result<Watcher, StoreError> {
        // Subscribe before the snapshot: see the seam argument in `watch`.
        let live = self.inner.hub.subscribe();
        let txn = self.inner.db.begin_read().map_err(storage)?;
        let rev = meta_in(&txn, META_REVISION)?;
        let compacted = meta_in(&txn, META_COMPACTED)?;
        if after < compacted {
            return Err(StoreError::Compacted {
                requested: after,
                compacted,
            });
        }
        let mut replay = VecDeque::new();
        if after < rev {
            let changes = txn.open_table(CHANGES).map_err(storage)?;
            for entry in changes.range(after + 1..=rev).map_err(storage)? {
                let (k, v) = entry.map_err(storage)?;
                let ev = codec::decode_change(k.value(), v.value()).ok_or_else(|| {
                    StoreError::Storage(format!("unreadable change at revision {}", k.value()))
                })?;
                if ev.key.starts_with(prefix) {
                    replay.push_back(Arc::new(ev));
                }
            }
        }
        Ok(Watcher::new(
            prefix,
            after,
            rev,
            replay,
            live,
            self.inner.hub.clone(),
        ))
    }

    /// How many watchers are attached to the fan-out.
    pub fn watcher_count(&self) -> usize {
        self.inner.hub.watchers()
    }

    /// Writes a consistent snapshot of the store to `to` while it keeps running. Returns the
    /// snapshot's revision.
    pub fn backup(&self, to: &Path) -> Result<u64, StoreError> {
        backup::snapshot(&self.inner.db, to)
    }

    /// Finishes every queued write, stops the writer and waits for it. Later writes get
    /// [`StoreError::Closed`]; reads keep working until the last handle is dropped.
    pub async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.inner.requests.send(Msg::Shutdown(done)).is_ok() {
            let _ = wait.await;
        }
        let handle = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

impl Drop for Inner {
    /// The last handle finishes queued writes and waits for the writer, so the file is closed
    /// (and can be reopened) when the drop returns.
    fn drop(&mut self) {
        let (done, _) = oneshot::channel();
        let _ = self.requests.send(Msg::Shutdown(done));
        let handle = self
            .writer
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

/// Opens a redb file as a kubox store, creating the tables when `create` and the file is new.
/// redb's page cache. Its default (1 GiB) would let the cache grow with the store. Components
/// read through watches, not the file, so 8 MiB serves the writer and the gets (at 32 MiB the
/// cache held ~33 MB with 10,000 pods, with no better burst throughput); what falls out is
/// still in the kernel's page cache.
const REDB_CACHE_BYTES: usize = 8 << 20;

/// A damaged file, or one that is not a kubox store, is reported and never rewritten.
pub(crate) fn open_db(path: &Path, create: bool) -> Result<Database, OpenError> {
    let existed = path.exists();
    if !existed && !create {
        return Err(damaged(path, "no such file"));
    }
    // redb's debug builds assert on some corruptions instead of returning an error; either way the
    // answer is the same: the file is damaged, and it is left as it is.
    let opened = std::panic::catch_unwind(|| {
        let mut builder = Database::builder();
        builder.set_check_integrity_on_open(existed);
        builder.set_cache_size(REDB_CACHE_BYTES);
        if existed {
            builder.open(path)
        } else {
            builder.create(path)
        }
    });
    let db = match opened {
        Ok(Ok(db)) => db,
        Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) => {
            return Err(OpenError::InUse {
                dir: path.parent().unwrap_or(path).to_path_buf(),
                pid: None,
            });
        }
        Ok(Err(e)) => return Err(damaged(path, e)),
        Err(_) => return Err(damaged(path, "the database library rejected its contents")),
    };
    if !existed {
        init_tables(&db).map_err(|e| damaged(path, e))?;
    }
    match read_meta(&db, META_FORMAT) {
        Ok(FORMAT_VERSION) => Ok(db),
        Ok(0) => Err(damaged(path, "it has no kubox format marker")),
        Ok(found) => Err(OpenError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        }),
        Err(e) => Err(damaged(path, e)),
    }
}

/// Replays the log's changes past redb's last checkpoint, checkpoints them, and returns the
/// store's revision.
fn recover(
    db: &Database,
    wal: &mut wal::Wal,
    records: Vec<wal::Record>,
) -> Result<u64, StoreError> {
    let durable = read_meta(db, META_REVISION)?;
    let pending: Vec<_> = records.into_iter().filter(|r| r.rev > durable).collect();
    if pending.first().is_some_and(|r| r.rev != durable + 1) {
        return Err(StoreError::Storage(format!(
            "the write-ahead log continues at revision {} but the store ends at {durable}",
            pending[0].rev
        )));
    }
    let mut rev = durable;
    if !pending.is_empty() {
        let mut txn = db.begin_write().map_err(storage)?;
        txn.set_durability(redb::Durability::Immediate)
            .map_err(storage)?;
        {
            let mut objects = txn.open_table(OBJECTS).map_err(storage)?;
            let mut changes = txn.open_table(CHANGES).map_err(storage)?;
            let mut meta = txn.open_table(META).map_err(storage)?;
            for record in &pending {
                writer::replay(&mut objects, &mut changes, &record.event)?;
                rev = record.rev;
            }
            meta.insert(META_REVISION, rev).map_err(storage)?;
            let compacted = meta
                .get(META_COMPACTED)
                .map_err(storage)?
                .map_or(0, |g| g.value());
            writer::compact(&mut changes, &mut meta, rev, compacted)?;
        }
        txn.commit().map_err(storage)?;
        tracing::info!(
            replayed = pending.len(),
            revision = rev,
            "replayed the write-ahead log"
        );
    }
    wal.reset(rev).map_err(storage)?;
    Ok(rev)
}

fn init_tables(db: &Database) -> Result<(), StoreError> {
    let mut txn = db.begin_write().map_err(storage)?;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(storage)?;
    {
        txn.open_table(OBJECTS).map_err(storage)?;
        txn.open_table(CHANGES).map_err(storage)?;
        let mut meta = txn.open_table(META).map_err(storage)?;
        meta.insert(META_FORMAT, FORMAT_VERSION).map_err(storage)?;
        meta.insert(META_REVISION, 0).map_err(storage)?;
        meta.insert(META_COMPACTED, 0).map_err(storage)?;
    }
    txn.commit().map_err(storage)
}

fn read_meta(db: &Database, key: &str) -> Result<u64, StoreError> {
    let txn = db.begin_read().map_err(storage)?;
    meta_in(&txn, key)
}

fn meta_in(txn: &redb::ReadTransaction, key: &str) -> Result<u64, StoreError> {
    let meta = txn.open_table(META).map_err(storage)?;
    Ok(meta.get(key).map_err(storage)?.map_or(0, |g| g.value()))
}

fn damaged(path: &Path, detail: impl std::fmt::Display) -> OpenError {
    OpenError::Damaged {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// The objects under a prefix, read from one snapshot as they are taken
/// ([`Store::list_lazily`]).
pub struct ListIter {
    range: redb::Range<'static, &'static str, &'static [u8]>,
    prefix: Box<str>,
    /// The snapshot the range reads from, kept open for as long as the iterator lives.
    _snapshot: (
        redb::ReadOnlyTable<&'static str, &'static [u8]>,
        redb::ReadTransaction,
    ),
    done: bool,
}

impl Iterator for ListIter {
    type Item = Result<KeyValue, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.range.next()? {
            Ok((k, v)) => {
                let key = k.value();
                if !key.starts_with(&*self.prefix) {
                    self.done = true;
                    return None;
                }
                codec::decode_object(key, v.value())
                    .ok_or_else(|| StoreError::Storage(format!("unreadable record at {key}")))
            }
            Err(e) => Err(storage(e)),
        };
        self.done = item.is_err();
        Some(item)
    }
}
