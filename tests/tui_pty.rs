//! The TUI as a user drives it: `kubox` on a pseudo-terminal (no tmux), on the simulated
//! runtime. Keys create a pod from the first sample (n, enter, ctrl-s); the API then has it
//! Running; q quits, kubox exits 0 and the terminal is handed back (alternate screen left).

mod common;

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::KUBOX;

/// A pseudo-terminal of `cols`×`rows`: (master, slave).
fn openpty(cols: u16, rows: u16) -> (OwnedFd, OwnedFd) {
    let mut master = -1;
    let mut slave = -1;
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two fds into the integers we pass; the other pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just opened by openpty and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Everything the TUI wrote to the terminal, kept by a reader thread.
struct Screen {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl Screen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, what: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.text().contains(what) {
            assert!(
                start.elapsed() < timeout,
                "the screen never showed {what:?}; it got:\n{}",
                self.text().escape_debug()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `GET path` on the API that `data/kubeconfig` names; the body.
fn api_get(data: &std::path::Path, path: &str) -> Option<String> {
    let config = std::fs::read_to_string(data.join("kubeconfig")).ok()?;
    let server = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: http://"))?
        .to_string();
    let mut conn = std::net::TcpStream::connect(&server).ok()?;
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    Some(answer)
}

#[test]
fn keys_create_a_pod_from_a_sample_and_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (master, slave) = openpty(140, 40);
    let mut command = Command::new(KUBOX);
    command
        .args(["--listen", "127.0.0.1:0", "--runtime", "sim", "--data-dir"])
        .arg(&data)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    // SAFETY: only async-signal-safe calls between fork and exec: a new session, and the pty
    // (stdin) as its controlling terminal, as a terminal emulator does.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let screen = Screen {
        bytes: Arc::new(Mutex::new(Vec::new())),
    };
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let bytes = screen.bytes.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut keys = std::fs::File::from(master);
    let long = Duration::from_secs(30);

    // The first frame: the nodes have registered.
    screen.wait_for("node-3", long);
    screen.wait_for("Ready", long);
    keys.write_all(b"n").unwrap();
    screen.wait_for("sample", long);
    keys.write_all(b"\r").unwrap();
    screen.wait_for("apply", long);
    keys.write_all(b"\x13").unwrap(); // ctrl-s

    // The sample's pod, created through the keys, runs.
    let start = Instant::now();
    loop {
        let pod = api_get(&data, "/api/v1/namespaces/default/pods/hello").unwrap_or_default();
        if pod.contains(r#""phase":"Running""#) {
            break;
        }
        assert!(
            start.elapsed() < long,
            "the pod never ran; the API said:\n{pod}\nthe screen got:\n{}",
            screen.text().escape_debug()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The sequence panel drew the user's request.
    screen.wait_for("POST", long);

    keys.write_all(b"q").unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < long, "kubox did not exit after q");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    // The terminal was handed back: the alternate screen was left.
    screen.wait_for("\x1b[?1049l", Duration::from_secs(5));
    // Mouse reports were asked for (clicks and the wheel), and switched off again.
    screen.wait_for("\x1b[?1000h", Duration::from_secs(1));
    screen.wait_for("\x1b[?1000l", Duration::from_secs(1));
    let log = std::fs::read_to_string(data.join("kubox.log")).unwrap();
    assert!(log.contains("the TUI is open"), "{log}");
}
