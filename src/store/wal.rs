//! The write-ahead log: what makes a write durable before it is acknowledged. Each group commit
//! appends its changes here with one write and one `fdatasync` — the cheapest durable write a disk
//! offers — and only then commits them to redb without a flush. Every so often (a checkpoint) redb
//! flushes durably and the log starts a new generation. After a crash the store opens at redb's
//! last checkpoint and replays the log's records past it. This is etcd's own shape (WAL plus a
//! backend committed in batches); a redb `Durability::Immediate` commit per group costs 1.6–2× a
//! raw `fdatasync` on this machine (see BENCHMARKS.md).
//!
//! Layout: a 4 KiB header (`magic | version | generation | base revision | crc`), then records
//! `len u32 | crc u32 | generation u64 | revision u64 | change`, the crc covering everything after
//! itself. Replay stops at the first record that is torn, from another generation, or out of
//! revision order. The file is preallocated with zeros so appends do not change its size and
//! `fdatasync` has no metadata to flush.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::Event;
use super::codec;

pub const WAL_FILE: &str = "kubox.wal";
const MAGIC: &[u8; 8] = b"KUBOXWAL";
const VERSION: u32 = 1;
const HEADER: u64 = 4096;
const HEADER_BYTES: usize = 8 + 4 + 8 + 8 + 4;
const RECORD_HEAD: usize = 4 + 4 + 8 + 8;
/// The size the log is preallocated to; it grows past it only if a checkpoint is overdue.
pub const PREALLOCATE: u64 = 64 << 20;
/// A checkpoint is due once this much log has been written since the last one.
pub const CHECKPOINT_BYTES: u64 = 32 << 20;

pub struct Wal {
    file: File,
    path: PathBuf,
    generation: u64,
    offset: u64,
    size: u64,
    buf: Vec<u8>,
}

/// A change read back from the log.
pub struct Record {
    pub rev: u64,
    pub event: Event,
}

impl Wal {
    /// Opens (or creates and preallocates) the log; returns it with the records of its current
    /// generation, in order.
    pub fn open(dir: &Path) -> io::Result<(Wal, Vec<Record>)> {
        let path = dir.join(WAL_FILE);
        let fresh = !path.exists();
        // O_DSYNC: each write returns once its data is on disk — one system call where
        // write + fdatasync takes two, and the kernel may use a FUA write instead of a flush.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_DSYNC)
            .open(&path)?;
        let mut wal = Wal {
            file,
            path,
            generation: 0,
            offset: HEADER,
            size: 0,
            buf: Vec::new(),
        };
        if fresh {
            wal.preallocate()?;
            wal.write_header(1, 0)?;
            wal.generation = 1;
            return Ok((wal, Vec::new()));
        }
        wal.size = wal.file.metadata()?.len();
        let Some((generation, _base)) = wal.read_header()? else {
            // A torn or foreign header: nothing in the log can be trusted to belong to this
            // store. Checkpoints always precede a header write, so the store itself is whole.
            tracing::warn!(path = %wal.path.display(), "write-ahead log header unreadable; starting a new log");
            wal.preallocate()?;
            wal.write_header(1, 0)?;
            wal.generation = 1;
            return Ok((wal, Vec::new()));
        };
        wal.generation = generation;
        let records = wal.read_records()?;
        Ok((wal, records))
    }

    fn preallocate(&mut self) -> io::Result<()> {
        // Through a plain handle: one flush at the end instead of one per chunk.
        let plain = OpenOptions::new().write(true).open(&self.path)?;
        let zeros = vec![0u8; 1 << 20];
        let mut at = 0;
        while at < PREALLOCATE {
            plain.write_all_at(&zeros, at)?;
            at += zeros.len() as u64;
        }
        plain.sync_all()?;
        sync_dir(&self.path)?;
        self.size = PREALLOCATE;
        Ok(())
    }

    fn write_header(&mut self, generation: u64, base_rev: u64) -> io::Result<()> {
        let mut h = Vec::with_capacity(HEADER_BYTES);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&VERSION.to_le_bytes());
        h.extend_from_slice(&generation.to_le_bytes());
        h.extend_from_slice(&base_rev.to_le_bytes());
        let crc = crc32fast::hash(&h);
        h.extend_from_slice(&crc.to_le_bytes());
        self.file.write_all_at(&h, 0)
    }

    fn read_header(&self) -> io::Result<Option<(u64, u64)>> {
        let mut h = [0u8; HEADER_BYTES];
        if self.size < HEADER || self.file.read_exact_at(&mut h, 0).is_err() {
            return Ok(None);
        }
        let (body, crc) = h.split_at(HEADER_BYTES - 4);
        if &body[..8] != MAGIC
            || u32::from_le_bytes(body[8..12].try_into().unwrap_or_default()) != VERSION
            || crc32fast::hash(body).to_le_bytes() != crc
        {
            return Ok(None);
        }
        let generation = u64::from_le_bytes(body[12..20].try_into().unwrap_or_default());
        let base = u64::from_le_bytes(body[20..28].try_into().unwrap_or_default());
        Ok(Some((generation, base)))
    }

    fn read_records(&mut self) -> io::Result<Vec<Record>> {
        let mut records = Vec::new();
        let mut at = HEADER;
        let mut last_rev: Option<u64> = None;
        let mut head = [0u8; RECORD_HEAD];
        while at + RECORD_HEAD as u64 <= self.size {
            self.file.read_exact_at(&mut head, at)?;
            let len = u32::from_le_bytes(head[0..4].try_into().unwrap_or_default()) as u64;
            let crc = u32::from_le_bytes(head[4..8].try_into().unwrap_or_default());
            let generation = u64::from_le_bytes(head[8..16].try_into().unwrap_or_default());
            let rev = u64::from_le_bytes(head[16..24].try_into().unwrap_or_default());
            let end = at + RECORD_HEAD as u64 + len;
            if len == 0 || generation != self.generation || end > self.size {
                break;
            }
            if last_rev.is_some_and(|last| rev != last + 1) {
                break;
            }
            let mut payload = vec![0u8; len as usize];
            self.file
                .read_exact_at(&mut payload, at + RECORD_HEAD as u64)?;
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&head[8..]);
            hasher.update(&payload);
            if hasher.finalize() != crc {
                break;
            }
            let Some(event) = codec::decode_change(rev, &payload) else {
                break;
            };
            records.push(Record { rev, event });
            last_rev = Some(rev);
            at = end;
        }
        self.offset = at;
        Ok(records)
    }

    /// Appends the changes of one group commit and makes them durable (one write, one
    /// `fdatasync`).
    pub fn append(&mut self, events: &[std::sync::Arc<Event>]) -> io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        for ev in events {
            let payload = codec::encode_change(ev);
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&self.generation.to_le_bytes());
            hasher.update(&ev.rev.to_le_bytes());
            hasher.update(&payload);
            self.buf
                .extend_from_slice(&(payload.len() as u32).to_le_bytes());
            self.buf.extend_from_slice(&hasher.finalize().to_le_bytes());
            self.buf.extend_from_slice(&self.generation.to_le_bytes());
            self.buf.extend_from_slice(&ev.rev.to_le_bytes());
            self.buf.extend_from_slice(&payload);
        }
        self.file.write_all_at(&self.buf, self.offset)?;
        self.offset += self.buf.len() as u64;
        if self.offset > self.size {
            // Grown past the preallocation: the new length must be durable too.
            self.size = self.offset;
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Bytes of log written since the last checkpoint.
    pub fn pending_bytes(&self) -> u64 {
        self.offset - HEADER
    }

    /// Starts a new generation after a checkpoint made everything up to `base_rev` durable in the
    /// store: the old records stop counting at once.
    pub fn reset(&mut self, base_rev: u64) -> io::Result<()> {
        let next = self.generation + 1;
        self.write_header(next, base_rev)?;
        self.generation = next;
        self.offset = HEADER;
        Ok(())
    }
}

fn sync_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}
