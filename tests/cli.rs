//! The `kubox` binary as a user runs it: serve, a second kubox on the same data dir, backup through
//! the running process, restore refused while it runs, clean shutdown on SIGTERM and SIGINT.

mod common;

use common::{kubox, serve, serve_with, text};

#[test]
fn serve_backup_restore_and_shutdown_as_a_user_would() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // No nodes: nothing but the bootstrap objects is written, so revisions are exact.
    let mut served = serve_with(&data, &["--listen", "127.0.0.1:0", "--nodes", "0"]);

    // A second kubox on the same data dir: a clear error naming the dir, no panic.
    let second = kubox(&["serve"], &data);
    assert!(!second.status.success());
    let msg = text(&second);
    assert!(
        msg.contains(&format!(
            "the data dir {} is in use by another kubox process",
            data.display()
        )),
        "{msg}"
    );
    assert!(!msg.contains("panicked"), "{msg}");

    // Backup while it runs goes through the running process.
    let snap = dir.path().join("snap.kubox");
    let out = kubox(&["backup", snap.to_str().unwrap()], &data);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("through the running kubox"), "{said}");
    assert!(
        said.contains("backed up 6 objects at revision 6"),
        "four namespaces and two system PriorityClasses: {said}"
    );

    // Restore onto a running kubox is refused.
    let out = kubox(&["restore", snap.to_str().unwrap()], &data);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is in use by another kubox process"),
        "{}",
        text(&out)
    );

    // SIGTERM: a clean stop.
    served.signal(libc::SIGTERM);
    served.wait_for("stopped cleanly");
    assert!(served.child.wait().unwrap().success());
    assert!(
        !data.join(kubox::admin::SOCKET_FILE).exists(),
        "the control socket is removed"
    );

    // Offline backup and a restore into a fresh data dir, then kubox starts from it.
    let offline = dir.path().join("offline.kubox");
    let out = kubox(&["backup", offline.to_str().unwrap()], &data);
    assert!(text(&out).contains("(offline)"), "{}", text(&out));
    let other = dir.path().join("other");
    let out = kubox(&["restore", snap.to_str().unwrap()], &other);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("restored 6 objects at revision 6"),
        "{}",
        text(&out)
    );
    let mut again = serve(&other);
    again.signal(libc::SIGINT);
    again.wait_for("stopped cleanly");
    assert!(again.child.wait().unwrap().success());

    // A second kubox on the same port: a clear error naming the flag.
    let third = tempfile::tempdir().unwrap();
    let busy = serve(third.path());
    let port = busy.wait_for_port();
    let out = kubox(
        &["serve", "--listen", &format!("127.0.0.1:{port}")],
        dir.path().join("fourth").as_path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("cannot listen on 127.0.0.1:{port} (--listen)")),
        "{}",
        text(&out)
    );
    busy.stop();

    // Non-loopback addresses are refused without --allow-remote and a token.
    let out = kubox(
        &["serve", "--listen", "0.0.0.0:0"],
        dir.path().join("fifth").as_path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is not a loopback address"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_damaged_store_file_is_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kubox.redb"), b"garbage").unwrap();
    let out = kubox(&["serve"], dir.path());
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("is damaged or is not a kubox store"), "{msg}");
    assert!(msg.contains("kubox restore FILE"), "{msg}");
    assert_eq!(
        std::fs::read(dir.path().join("kubox.redb")).unwrap(),
        b"garbage"
    );
}
