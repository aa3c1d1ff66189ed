//! The `kubox` binary as a user runs it: serve, a second kubox on the same data dir, backup through
//! the running process, restore refused while it runs, clean shutdown on SIGTERM and SIGINT.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const KUBOX: &str = env!("CARGO_BIN_EXE_kubox");

struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
}

fn serve(dir: &Path) -> Served {
    let mut child = Command::new(KUBOX)
        .args(["serve", "--data-dir"])
        .arg(dir)
        .env("KUBOX_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let served = Served { child, lines };
    served.wait_for("kubox is up");
    served
}

impl Served {
    fn wait_for(&self, text: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("kubox never logged {text:?}"));
            if line.contains(text) {
                return line;
            }
        }
    }

    fn signal(&self, sig: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: plain kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }
}

fn kubox(args: &[&str], dir: &Path) -> Output {
    Command::new(KUBOX)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn serve_backup_restore_and_shutdown_as_a_user_would() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut served = serve(&data);

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
        said.contains("at revision 4"),
        "the four initial namespaces: {said}"
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
        text(&out).contains("restored 4 objects at revision 4"),
        "{}",
        text(&out)
    );
    let mut again = serve(&other);
    again.signal(libc::SIGINT);
    again.wait_for("stopped cleanly");
    assert!(again.child.wait().unwrap().success());
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
