//! What can go wrong in the store, one enum with a variant per case a caller acts on differently.

use std::path::PathBuf;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A create found the key already present.
    #[error("key {key} already exists")]
    AlreadyExists { key: String },
    /// An update or delete found no object at the key.
    #[error("key {key} not found")]
    NotFound { key: String },
    /// An update or delete expected a revision the object no longer has.
    #[error("key {key} is at revision {actual}, not the expected {expected}")]
    Conflict {
        key: String,
        expected: u64,
        actual: u64,
    },
    /// A watch asked for changes the change log no longer holds (the API's 410 Gone).
    #[error(
        "revision {requested} has been compacted; the oldest revision a watch can resume after is {compacted}"
    )]
    Compacted { requested: u64, compacted: u64 },
    /// A watcher fell further behind than the fan-out buffer holds; it must re-list.
    #[error(
        "watcher fell behind the store by {missed} commits and was dropped; re-list and watch again"
    )]
    WatcherTooSlow { missed: u64 },
    /// The store is shutting down or has shut down.
    #[error("the store is closed")]
    Closed,
    /// The database file could not be read or written.
    #[error("store I/O failed: {0}")]
    Storage(String),
}

/// Errors that keep a store from opening; each names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "the data dir {dir} is in use by another kubox process{pid}; stop it or pick another --data-dir",
        pid = pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    InUse { dir: PathBuf, pid: Option<u32> },
    #[error(
        "the store file {path} is damaged or is not a kubox store ({detail}); kubox left it untouched. \
         Restore a backup with `kubox restore FILE`, or move the file away to start with an empty cluster"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error(
        "the store file {path} was written by a newer kubox (format {found}, this build reads {supported})"
    )]
    TooNew {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error("cannot use the data dir {dir}: {source}")]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn storage<E: std::fmt::Display>(err: E) -> StoreError {
    StoreError::Storage(err.to_string())
}
