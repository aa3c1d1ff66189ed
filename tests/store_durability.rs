//! Durability, watch seam, backup/restore and bad-file handling of the store.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use bytes::Bytes;
use kubox::store::backup::{BackupError, backup_offline, restore};
use kubox::store::{ChangeKind, Op, OpenError, Store, StoreError, StoreOptions};
use kubox::trace::TraceBus;

const CHILD_ENV: &str = "KUBOX_CRASH_CHILD_DIR";

/// In the child process: write forever, printing each key once its write is acknowledged.
/// In the parent (normal test run): nothing.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir), TraceBus::quiet()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut out = std::io::stdout().lock();
    rt.block_on(async {
        let mut n = 0u64;
        loop {
            // Several writes in flight so group commit is what gets killed mid-flush.
            let pending: Vec<_> = (0..8)
                .map(|i| {
                    let key = format!("/registry/pods/default/p{}", n + i);
                    let rx = store.submit(Op::Create {
                        key: key.clone(),
                        value: Bytes::from(vec![b'x'; 1024]),
                    });
                    (key, rx)
                })
                .collect();
            for (key, rx) in pending {
                let ev = rx.await.unwrap().unwrap();
                writeln!(out, "ack {key} {}", ev.rev).unwrap();
                out.flush().unwrap();
            }
            n += 8;
        }
    });
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<(String, u64)> = Vec::new();
    for round in 0..5 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let target = 200 + round * 37;
        let mut seen = 0;
        while seen < target {
            let line = lines.next().expect("child kept writing").unwrap();
            if let Some(rest) = line.strip_prefix("ack ") {
                let (key, rev) = rest.split_once(' ').unwrap();
                acked.push((key.to_string(), rev.parse().unwrap()));
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL, mid-burst
        // Acks already printed before the kill still count.
        for line in lines.map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("ack ") {
                let (key, rev) = rest.split_once(' ').unwrap();
                acked.push((key.to_string(), rev.parse().unwrap()));
            }
        }
        child.wait().unwrap();

        let store =
            Store::open(dir.path(), TraceBus::quiet()).expect("store opens cleanly after SIGKILL");
        for (key, rev) in &acked {
            let (kv, _) = store.get(key).unwrap();
            let kv = kv.unwrap_or_else(|| panic!("acknowledged write {key} lost in round {round}"));
            assert_eq!(kv.mod_rev, *rev);
        }
        assert!(store.revision().unwrap() >= acked.iter().map(|a| a.1).max().unwrap());
        // Next round's child writes new keys after the ones that exist.
        let (all, _) = store.list("/registry/pods/").unwrap();
        for kv in all {
            let _ = store.write_blocking(Op::Delete {
                key: kv.key.to_string(),
                expected: None,
            });
        }
        acked.clear();
        drop(store);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_seam_has_no_gap_and_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    for i in 0..50 {
        store
            .create(
                &format!("/registry/pods/default/seed{i}"),
                Bytes::from_static(b"{}"),
            )
            .await
            .unwrap();
    }
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..400 {
                store
                    .create(
                        &format!("/registry/pods/default/race{i}"),
                        Bytes::from_static(b"{}"),
                    )
                    .await
                    .unwrap();
            }
        })
    };
    // Watches started from old revisions while the writes race them.
    let mut watchers = Vec::new();
    for from in [0, 10, 25, 49] {
        watchers.push((from, store.watch("/registry/pods/", from).unwrap()));
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    let last = store.revision().unwrap();
    assert_eq!(last, 450);
    for (from, mut w) in watchers {
        let mut expect = from + 1;
        while expect <= last {
            let ev = w.next().await.unwrap().unwrap();
            assert_eq!(ev.rev, expect, "watch from {from}: gap or duplicate");
            expect += 1;
        }
        assert!(w.try_next().is_none(), "nothing after the last write");
        assert_eq!(w.progress(), Some(last));
    }
}

#[tokio::test]
async fn slow_watcher_is_dropped_and_writers_do_not_wait() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { fanout_buffer: 16 };
    let store = Store::open_with(dir.path(), TraceBus::quiet(), options).unwrap();
    let mut slow = store.watch("/registry/", 0).unwrap();
    // One commit each, more commits than the buffer holds, while the watcher reads nothing: the
    // writes are not held up by it.
    for i in 0..40 {
        store
            .create(&format!("/registry/pods/default/p{i}"), Bytes::new())
            .await
            .unwrap();
    }
    let mut delivered = 0;
    let err = loop {
        match slow.next().await {
            Some(Ok(_)) => delivered += 1,
            Some(Err(e)) => break e,
            None => panic!("watch ended without telling the watcher it was dropped"),
        }
    };
    assert!(
        matches!(err, StoreError::WatcherTooSlow { missed: 24 }),
        "{err}"
    );
    assert_eq!(
        delivered, 0,
        "the lag is reported before stale events are handed out"
    );
    assert!(slow.next().await.is_none(), "a dropped watcher ends");
    // A fresh watch from the last revision it saw works again.
    let mut again = store.watch("/registry/", 0).unwrap();
    assert_eq!(again.next().await.unwrap().unwrap().rev, 1);
}

#[tokio::test]
async fn deletes_carry_last_state_and_compaction_gives_a_distinct_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    let created = store
        .create("/registry/pods/default/web", Bytes::from_static(b"v1"))
        .await
        .unwrap();
    assert_eq!(created.kind, ChangeKind::Put);
    assert!(created.prev.is_none());
    let conflict = store
        .update(
            "/registry/pods/default/web",
            Bytes::from_static(b"v2"),
            Some(99),
        )
        .await;
    assert_eq!(
        conflict.unwrap_err(),
        StoreError::Conflict {
            key: "/registry/pods/default/web".into(),
            expected: 99,
            actual: 1
        }
    );
    let gone = store
        .delete("/registry/pods/default/web", Some(1))
        .await
        .unwrap();
    assert_eq!(gone.kind, ChangeKind::Delete);
    assert_eq!(gone.prev.as_ref().unwrap().value, Bytes::from_static(b"v1"));

    let total = kubox::store::RETAIN_REVISIONS + 2_000;
    let pending: Vec<_> = (0..total)
        .map(|i| {
            store.submit(Op::Create {
                key: format!("/registry/events/default/e{i}"),
                value: Bytes::new(),
            })
        })
        .collect();
    for rx in pending {
        rx.await.unwrap().unwrap();
    }
    let compacted = store.compacted_revision().unwrap();
    assert!(compacted > 0, "the change log was compacted");
    assert!(store.revision().unwrap() - compacted >= kubox::store::RETAIN_REVISIONS);
    match store.watch("/registry/", compacted - 1) {
        Err(StoreError::Compacted {
            requested,
            compacted: c,
        }) => {
            assert_eq!((requested, c), (compacted - 1, compacted))
        }
        other => panic!("expected Compacted, got {:?}", other.map(|_| ())),
    }
    assert!(store.watch("/registry/", compacted).is_ok());
}

#[tokio::test]
async fn backup_restore_round_trip_keeps_objects_and_revision() {
    let live_dir = tempfile::tempdir().unwrap();
    let restore_dir = tempfile::tempdir().unwrap();
    let backup_file = live_dir.path().join("snap.kubox");
    let store = Store::open(live_dir.path(), TraceBus::quiet()).unwrap();
    for i in 0..100 {
        store
            .create(
                &format!("/registry/pods/default/p{i}"),
                Bytes::from(format!("{{\"i\":{i}}}")),
            )
            .await
            .unwrap();
    }
    store
        .delete("/registry/pods/default/p7", None)
        .await
        .unwrap();
    let rev = store.backup(&backup_file).unwrap();
    assert_eq!(rev, 101);
    // Writes after the snapshot are not in it.
    store
        .create("/registry/pods/default/after", Bytes::new())
        .await
        .unwrap();
    let (before, _) = store.list("/registry/").unwrap();

    // Restoring onto the data dir of a running store is refused.
    let refused = restore(live_dir.path(), &backup_file).unwrap_err();
    assert!(
        matches!(refused, BackupError::Open(OpenError::InUse { .. })),
        "{refused}"
    );
    assert!(
        refused
            .to_string()
            .contains(&live_dir.path().display().to_string())
    );

    let info = restore(restore_dir.path(), &backup_file).unwrap();
    assert_eq!((info.revision, info.objects), (101, 99));
    let restored = Store::open(restore_dir.path(), TraceBus::quiet()).unwrap();
    assert_eq!(restored.revision().unwrap(), 101);
    let (items, _) = restored.list("/registry/").unwrap();
    let want: Vec<_> = before
        .into_iter()
        .filter(|kv| &*kv.key != "/registry/pods/default/after")
        .collect();
    assert_eq!(items, want);
    // The next write continues the revision sequence.
    let next = restored
        .create("/registry/pods/default/new", Bytes::new())
        .await
        .unwrap();
    assert_eq!(next.rev, 102);
    // Watch history came along too.
    let mut w = restored.watch("/registry/pods/", 99).unwrap();
    assert_eq!(w.next().await.unwrap().unwrap().rev, 100);

    // Offline backup of a stopped data dir matches the online one.
    drop(restored);
    let offline = restore_dir.path().join("offline.kubox");
    let info = backup_offline(restore_dir.path(), &offline).unwrap();
    assert_eq!((info.revision, info.objects), (102, 100));
}

#[test]
fn second_store_on_same_dir_and_damaged_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    let err = Store::open(dir.path(), TraceBus::quiet()).err().unwrap();
    let msg = err.to_string();
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    drop(store);

    let bad = tempfile::tempdir().unwrap();
    let file = bad.path().join(kubox::store::STORE_FILE);
    std::fs::write(&file, b"this is not a database, it is a shopping list").unwrap();
    let err = Store::open(bad.path(), TraceBus::quiet()).err().unwrap();
    assert!(matches!(err, OpenError::Damaged { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&file.display().to_string()) && msg.contains("kubox restore"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"this is not a database, it is a shopping list",
        "a damaged file is never wiped"
    );

    // A healthy store whose bytes get scribbled over in the middle.
    let scribbled = tempfile::tempdir().unwrap();
    {
        let store = Store::open(scribbled.path(), TraceBus::quiet()).unwrap();
        for i in 0..200 {
            store
                .write_blocking(Op::Create {
                    key: format!("/registry/pods/default/p{i}"),
                    value: Bytes::from(vec![b'y'; 2000]),
                })
                .unwrap();
        }
    }
    let file = scribbled.path().join(kubox::store::STORE_FILE);
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 8192] {
        *b ^= 0x5a;
    }
    std::fs::write(&file, &bytes).unwrap();
    match Store::open(scribbled.path(), TraceBus::quiet()) {
        Err(OpenError::Damaged { path, .. }) => assert_eq!(path, file),
        Err(other) => panic!("expected Damaged, got {other}"),
        Ok(store) => {
            // If the scribble hit only free pages the store is still whole; reads must not panic.
            let _ = store.list("/registry/");
        }
    }
    let _ = Arc::new(());
}
