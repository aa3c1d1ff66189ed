//! The trace gate: step mode. While it is closed, the control plane really stops before each
//! step that moves a pod along — the API server before it commits a person's pod write, the
//! scheduler before it schedules a pod and before it posts the binding, a kubelet before it asks
//! the runtime to act and before it reports status — and waits until the person lets exactly one
//! step through. Steps pass in the order they arrived, so pausing loses and reorders nothing.
//! Opening the gate (leaving step mode) lets everything waiting through, oldest first.
//!
//! Costs one relaxed atomic load per gate point while step mode is off.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use super::{Actor, StepDraft};

/// A step waiting at the gate: what will happen once it is let through.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// Arrival order at the gate.
    pub id: u64,
    pub from: Actor,
    pub to: Actor,
    /// The object's key (`/registry/pods/default/web`).
    pub key: String,
    pub what: String,
    /// When it arrived, on the trace bus's clock.
    pub since: Duration,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == self.to {
            write!(f, "{}: {}", self.from, self.what)
        } else {
            write!(f, "{} → {}: {}", self.from, self.to, self.what)
        }
    }
}

struct Waiting {
    held: Held,
    go: oneshot::Sender<()>,
}

pub(super) struct Gate {
    closed: AtomicBool,
    next_id: AtomicU64,
    waiting: Mutex<VecDeque<Waiting>>,
    /// Bumped on every change of the waiting line or of the mode; the TUI watches it.
    changed: watch::Sender<u64>,
}

impl Gate {
    pub(super) fn new() -> Self {
        Gate {
            closed: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
            waiting: Mutex::new(VecDeque::new()),
            changed: watch::channel(0).0,
        }
    }

    #[inline]
    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    fn line(&self) -> std::sync::MutexGuard<'_, VecDeque<Waiting>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Waits at the gate if step mode is on; returns at once otherwise.
    pub(super) async fn pass(&self, draft: StepDraft, since: Duration) {
        let rx = {
            let mut line = self.line();
            // Checked under the lock: opening the gate drains the line under the same lock, so
            // a step either queues before the drain (and is let through by it) or sees it open.
            if !self.is_closed() {
                return;
            }
            let (go, rx) = oneshot::channel();
            line.push_back(Waiting {
                held: Held {
                    id: self.next_id.fetch_add(1, Ordering::Relaxed),
                    from: draft.from,
                    to: draft.to,
                    key: draft.key,
                    what: draft.what,
                    since,
                },
                go,
            });
            rx
        };
        self.bump();
        // An error means the gate is gone (the cluster is shutting down): go on.
        let _ = rx.await;
    }

    pub(super) fn set_closed(&self, closed: bool) {
        let released: Vec<Waiting> = {
            let mut line = self.line();
            self.closed.store(closed, Ordering::Relaxed);
            if closed {
                Vec::new()
            } else {
                line.drain(..).collect()
            }
        };
        for w in released {
            let _ = w.go.send(());
        }
        self.bump();
    }

    /// Lets the oldest waiting step through. Steps whose waiter went away (a client that hung
    /// up) are dropped on the way, so one key press always moves something that still waits.
    pub(super) fn advance(&self) -> Option<Held> {
        let passed = {
            let mut line = self.line();
            loop {
                let w = line.pop_front()?;
                if w.go.send(()).is_ok() {
                    break w.held;
                }
            }
        };
        self.bump();
        Some(passed)
    }

    pub(super) fn held(&self) -> Vec<Held> {
        self.line()
            .iter()
            .filter(|w| !w.go.is_closed())
            .map(|w| w.held.clone())
            .collect()
    }

    pub(super) fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
