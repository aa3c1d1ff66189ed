//! Shared by the end-to-end tests: a `kubox serve` child process and its log lines.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const KUBOX: &str = env!("CARGO_BIN_EXE_kubox");

pub struct Served {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
    pub data: PathBuf,
}

/// Starts `kubox serve` on `data` with extra arguments and waits until it says it is up.
pub fn serve_with(data: &Path, extra: &[&str]) -> Served {
    let mut child = Command::new(KUBOX)
        .args(["serve", "--data-dir"])
        .arg(data)
        .args(extra)
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
    let served = Served {
        child,
        lines,
        data: data.to_path_buf(),
    };
    served.wait_for("kubox is up");
    served
}

/// `kubox serve` on a free port, three nodes on the simulated runtime (the same on every
/// machine, Docker or not).
pub fn serve(data: &Path) -> Served {
    serve_with(data, &["--listen", "127.0.0.1:0", "--runtime", "sim"])
}

impl Served {
    pub fn wait_for(&self, text: &str) -> String {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| {
                    panic!(
                        "kubox never logged {text:?}; it logged:\n{}",
                        seen.join("\n")
                    )
                });
            if line.contains(text) {
                return line;
            }
            seen.push(line);
        }
    }

    pub fn signal(&self, sig: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: plain kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }

    pub fn stop(mut self) {
        self.signal(libc::SIGTERM);
        self.wait_for("stopped cleanly");
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn kubox(args: &[&str], dir: &Path) -> Output {
    Command::new(KUBOX)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Served {
    /// The port from the kubeconfig kubox wrote.
    pub fn wait_for_port(&self) -> u16 {
        let config = std::fs::read_to_string(self.data.join("kubeconfig")).unwrap();
        let server = config
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: http://127.0.0.1:"))
            .expect("server line");
        server.parse().unwrap()
    }
}

pub mod docker;

/// The events about `name` in `default`, oldest first, as `Type Reason: message`.
pub fn event_lines(api: &kubox::api::ApiServer, name: &str) -> Vec<String> {
    use k8s_openapi::api::core::v1::Event;
    use kubox::api::{Api, ListParams};
    let events: Api<Event> = Api::namespaced(api, "default", kubox::trace::Actor::You);
    let mut list = events
        .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
        .unwrap()
        .items;
    list.sort_by_key(|e| {
        e.metadata
            .resource_version
            .clone()
            .unwrap_or_default()
            .parse::<u64>()
            .unwrap_or(0)
    });
    list.into_iter()
        .map(|e| {
            format!(
                "{} {}: {}",
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        })
        .collect()
}

/// The pod's phase, "" before it has one.
pub fn phase(p: &k8s_openapi::api::core::v1::Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}
