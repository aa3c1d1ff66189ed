//! Backup and restore. A backup is itself a kubox store file: a consistent snapshot (one read
//! transaction) of every table, written durably to a temporary file and renamed into place, so a
//! crash mid-backup never leaves a half-written file under the requested name.
//!
//! Restore refuses a data dir in use (it takes the data dir lock), checks that the backup opens as a
//! kubox store, then swaps the store file by rename.

use std::fs::File;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::error::{OpenError, StoreError, storage};
use super::lock::DirLock;
use super::tables::{CHANGES, META, META_REVISION, OBJECTS};
use super::{STORE_FILE, open_db};

/// What a backup or restore moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub revision: u64,
    pub objects: u64,
}

/// Copies a consistent snapshot of `db` to `to`; returns the snapshot's revision.
pub(crate) fn snapshot(db: &Database, to: &Path) -> Result<u64, StoreError> {
    let partial = partial_path(to);
    let _ = std::fs::remove_file(&partial);
    let result = write_snapshot(db, &partial).and_then(|rev| {
        std::fs::rename(&partial, to).map_err(storage)?;
        sync_parent(to)?;
        Ok(rev)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn write_snapshot(db: &Database, partial: &Path) -> Result<u64, StoreError> {
    let src = db.begin_read().map_err(storage)?;
    let out = Database::create(partial).map_err(storage)?;
    let mut txn = out.begin_write().map_err(storage)?;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(storage)?;
    let revision;
    {
        copy_table(&src, &mut txn, OBJECTS)?;
        copy_table(&src, &mut txn, CHANGES)?;
        copy_table(&src, &mut txn, META)?;
        let meta = src.open_table(META).map_err(storage)?;
        revision = meta
            .get(META_REVISION)
            .map_err(storage)?
            .map_or(0, |g| g.value());
    }
    txn.commit().map_err(storage)?;
    drop(out);
    Ok(revision)
}

fn copy_table<K, V>(
    src: &redb::ReadTransaction,
    dst: &mut redb::WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<(), StoreError>
where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
    for<'a> K::SelfType<'a>: std::borrow::Borrow<K::SelfType<'a>>,
    for<'a> V::SelfType<'a>: std::borrow::Borrow<V::SelfType<'a>>,
{
    let from = src.open_table(def).map_err(storage)?;
    let mut to = dst.open_table(def).map_err(storage)?;
    for entry in from.iter().map_err(storage)? {
        let (k, v) = entry.map_err(storage)?;
        to.insert(k.value(), v.value()).map_err(storage)?;
    }
    Ok(())
}

/// Backs up the store of a data dir no kubox is running on (replaying its write-ahead log
/// first, as a start would).
pub fn backup_offline(dir: &Path, to: &Path) -> Result<SnapshotInfo, BackupError> {
    if !dir.join(STORE_FILE).exists() {
        return Err(OpenError::Damaged {
            path: dir.join(STORE_FILE),
            detail: "no such file: nothing to back up".into(),
        }
        .into());
    }
    let store = super::Store::open(dir, crate::trace::TraceBus::quiet())?;
    let revision = store.backup(to)?;
    Ok(SnapshotInfo {
        revision,
        objects: count_objects(&store.inner.db)?,
    })
}

/// Replaces the store of `dir` with the backup `from`. Refuses while a kubox runs on `dir`.
pub fn restore(dir: &Path, from: &Path) -> Result<SnapshotInfo, BackupError> {
    let _lock = DirLock::acquire(dir)?;
    let info = {
        let backup = open_db(from, false)?;
        let txn = backup.begin_read().map_err(storage)?;
        let meta = txn.open_table(META).map_err(storage)?;
        let revision = meta
            .get(META_REVISION)
            .map_err(storage)?
            .map_or(0, |g| g.value());
        SnapshotInfo {
            revision,
            objects: count_objects(&backup)?,
        }
    };
    let target = dir.join(STORE_FILE);
    let incoming = partial_path(&target);
    std::fs::copy(from, &incoming).map_err(storage)?;
    File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(storage)?;
    // The old store's log must not be replayed onto the restored one: it goes first, so a crash
    // part-way leaves either the old store without its unflushed tail or the restored store.
    match std::fs::remove_file(dir.join(super::wal::WAL_FILE)) {
        Ok(()) => sync_parent(&target)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(storage(e).into()),
    }
    std::fs::rename(&incoming, &target).map_err(storage)?;
    sync_parent(&target)?;
    Ok(info)
}

fn count_objects(db: &Database) -> Result<u64, StoreError> {
    let txn = db.begin_read().map_err(storage)?;
    let objects = txn.open_table(OBJECTS).map_err(storage)?;
    objects.len().map_err(storage)
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}

fn sync_parent(path: &Path) -> Result<(), StoreError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(storage)
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
