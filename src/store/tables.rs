//! Every redb table of the store, declared once. Nothing else in kubox names a table.

use redb::TableDefinition;

/// Current objects: etcd key (`/registry/pods/default/web`) → encoded [`crate::store::codec`] record.
pub const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");

/// The change log: revision → encoded change. Watch replay reads it; compaction trims its head.
pub const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");

/// Store-wide facts: format marker, current revision, compacted revision.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Key in [`META`]: the revision of the last committed change (0 for an empty store).
pub const META_REVISION: &str = "revision";
/// Key in [`META`]: every change at or below this revision has been removed from [`CHANGES`].
pub const META_COMPACTED: &str = "compacted";
/// Key in [`META`]: marks a file as a kubox store and names its layout version.
pub const META_FORMAT: &str = "kubox-store-format";
/// The layout version this build reads and writes.
pub const FORMAT_VERSION: u64 = 1;
