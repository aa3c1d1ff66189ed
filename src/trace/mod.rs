//! The trace bus: the lesson's raw material. Each step of a pod's path is recorded where it really
//! happens (request received, store commit, watch delivered, bind, container started, status
//! written), with a monotonic timestamp, the two actors, the object's key and the revision when
//! there is one. Nothing here invents a step; the UI only replays what was recorded.
//!
//! Recording costs one relaxed atomic load when nobody listens (no subscriber and no ring buffer):
//! the step is built by a closure that is never called.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

mod gate;
pub use gate::Held;

/// Who takes part in a step: the lifelines of the sequence diagram.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The person at the keyboard (the TUI editor, or kubectl in another terminal).
    You,
    ApiServer,
    Store,
    Scheduler,
    /// The kubelet of one node.
    Kubelet(String),
    Docker,
    /// Any other API client, by its name (a controller, a test, `kubox backup`).
    Client(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::You => f.write_str("You"),
            Actor::ApiServer => f.write_str("API server"),
            Actor::Store => f.write_str("store"),
            Actor::Scheduler => f.write_str("scheduler"),
            Actor::Kubelet(node) => write!(f, "kubelet {node}"),
            Actor::Docker => f.write_str("Docker"),
            Actor::Client(name) => f.write_str(name),
        }
    }
}

/// One recorded step: an arrow from one lifeline to another.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Position on the bus; strictly increasing.
    pub seq: u64,
    /// Monotonic time since the bus started.
    pub at: Duration,
    pub from: Actor,
    pub to: Actor,
    /// The object's etcd-style key (`/registry/pods/default/web`).
    pub key: String,
    /// The store revision the step produced or carried, when there is one.
    pub rev: Option<u64>,
    /// What happened, in a few words (`commit`, `watch ADDED`, `POST pods`).
    pub what: String,
    /// How long the step itself took, when it was measured.
    pub took: Option<Duration>,
    /// How far a step that takes a while has come (an image pull), when it reports that.
    pub progress: Option<Progress>,
}

/// An image pull's progress: bytes and layers, as the runtime reports them. Each report is a
/// step with the same `what`; a reader may show the latest in place of the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub layers_done: u32,
    pub layers_total: u32,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}: {}", self.from, self.to, self.what)?;
        if let Some(p) = self.progress {
            write!(
                f,
                ": {}/{} layers, {}/{} bytes",
                p.layers_done, p.layers_total, p.bytes_done, p.bytes_total
            )?;
        }
        if let Some(rev) = self.rev {
            write!(f, " rev {rev}")?;
        }
        if let Some(took) = self.took {
            write!(f, " · {:.1} ms", took.as_secs_f64() * 1000.0)?;
        }
        write!(f, " [{}]", self.key)
    }
}

/// The fields a recorder fills in; the bus adds `seq` and `at`.
#[derive(Debug, Clone)]
pub struct StepDraft {
    pub from: Actor,
    pub to: Actor,
    pub key: String,
    pub rev: Option<u64>,
    pub what: String,
    pub took: Option<Duration>,
    pub progress: Option<Progress>,
}

impl StepDraft {
    pub fn new(from: Actor, to: Actor, key: impl Into<String>, what: impl Into<String>) -> Self {
        StepDraft {
            from,
            to,
            key: key.into(),
            rev: None,
            what: what.into(),
            took: None,
            progress: None,
        }
    }

    pub fn rev(mut self, rev: u64) -> Self {
        self.rev = Some(rev);
        self
    }

    pub fn took(mut self, took: Duration) -> Self {
        self.took = Some(took);
        self
    }

    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// Cheap to clone; every component holds one.
#[derive(Clone)]
pub struct TraceBus {
    inner: Arc<Inner>,
}

struct Inner {
    epoch: Instant,
    seq: AtomicU64,
    /// Subscribers plus one while the ring buffer retains steps.
    listeners: AtomicUsize,
    ring_capacity: usize,
    ring: Mutex<VecDeque<Arc<Step>>>,
    tx: broadcast::Sender<Arc<Step>>,
    gate: gate::Gate,
}

/// How many steps a subscriber may fall behind before it is told it lagged.
const SUBSCRIBER_BUFFER: usize = 4096;

impl TraceBus {
    /// A bus that keeps the last `ring_capacity` steps for late readers (0 keeps none).
    pub fn new(ring_capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        TraceBus {
            inner: Arc::new(Inner {
                epoch: Instant::now(),
                seq: AtomicU64::new(0),
                listeners: AtomicUsize::new(usize::from(ring_capacity > 0)),
                ring_capacity,
                ring: Mutex::new(VecDeque::with_capacity(ring_capacity.min(4096))),
                tx,
                gate: gate::Gate::new(),
            }),
        }
    }

    /// A bus with no ring buffer: free until someone subscribes.
    pub fn quiet() -> Self {
        TraceBus::new(0)
    }

    /// True when a recorded step would reach anyone.
    #[inline]
    pub fn is_on(&self) -> bool {
        self.inner.listeners.load(Ordering::Relaxed) > 0
    }

    /// Records a step; `draft` runs only when someone listens.
    #[inline]
    pub fn record(&self, draft: impl FnOnce() -> StepDraft) {
        if self.is_on() {
            self.publish(draft());
        }
    }

    fn publish(&self, d: StepDraft) {
        let inner = &self.inner;
        let step = Arc::new(Step {
            seq: inner.seq.fetch_add(1, Ordering::Relaxed),
            at: inner.epoch.elapsed(),
            from: d.from,
            to: d.to,
            key: d.key,
            rev: d.rev,
            what: d.what,
            took: d.took,
            progress: d.progress,
        });
        if inner.ring_capacity > 0 {
            let mut ring = inner.ring.lock().unwrap_or_else(|p| p.into_inner());
            if ring.len() == inner.ring_capacity {
                ring.pop_front();
            }
            ring.push_back(step.clone());
        }
        // No receiver is not an error: the ring may be the only listener.
        let _ = inner.tx.send(step);
    }

    /// The retained steps, oldest first.
    pub fn recent(&self) -> Vec<Arc<Step>> {
        let ring = self.inner.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.iter().cloned().collect()
    }

    /// Live steps from now on. Dropping the subscription stops the cost it adds.
    pub fn subscribe(&self) -> Subscription {
        self.inner.listeners.fetch_add(1, Ordering::Relaxed);
        Subscription {
            rx: self.inner.tx.subscribe(),
            bus: self.clone(),
        }
    }

    /// A gate point: in step mode, waits here until the person lets this step through (the
    /// trace gate, `trace/gate.rs`); otherwise returns at once. `draft` names the step about to happen
    /// and runs only in step mode.
    pub async fn at_gate(&self, draft: impl FnOnce() -> StepDraft) {
        if self.inner.gate.is_closed() {
            self.inner.gate.pass(draft(), self.now()).await;
        }
    }

    /// Step mode on (the gate holds every step) or off (everything waiting goes, oldest first).
    pub fn set_step_mode(&self, on: bool) {
        self.inner.gate.set_closed(on);
    }

    pub fn step_mode(&self) -> bool {
        self.inner.gate.is_closed()
    }

    /// Lets the oldest waiting step through; what it was, or `None` when nothing waits.
    pub fn step(&self) -> Option<Held> {
        self.inner.gate.advance()
    }

    /// The steps waiting at the gate, oldest first.
    pub fn held(&self) -> Vec<Held> {
        self.inner.gate.held()
    }

    /// Changes whenever a step arrives at or leaves the gate, or step mode changes.
    pub fn watch_gate(&self) -> watch::Receiver<u64> {
        self.inner.gate.watch()
    }

    /// Time since the bus started, on the same clock as [`Step::at`].
    pub fn now(&self) -> Duration {
        self.inner.epoch.elapsed()
    }
}

impl Default for TraceBus {
    fn default() -> Self {
        TraceBus::quiet()
    }
}

pub struct Subscription {
    rx: broadcast::Receiver<Arc<Step>>,
    bus: TraceBus,
}

impl Subscription {
    /// The next step; `Err(n)` when this subscriber fell `n` steps behind and they were skipped
    /// (the ring buffer still has the recent ones). `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Result<Arc<Step>, u64>> {
        match self.rx.recv().await {
            Ok(step) => Some(Ok(step)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Err(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// A step already waiting, without blocking.
    pub fn try_next(&mut self) -> Option<Result<Arc<Step>, u64>> {
        match self.rx.try_recv() {
            Ok(step) => Some(Ok(step)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(n)),
            Err(_) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.bus.inner.listeners.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(what: &str) -> StepDraft {
        StepDraft::new(
            Actor::ApiServer,
            Actor::Store,
            "/registry/pods/default/web",
            what,
        )
    }

    #[test]
    fn quiet_bus_never_builds_a_step() {
        let bus = TraceBus::quiet();
        let mut built = false;
        bus.record(|| {
            built = true;
            draft("commit")
        });
        assert!(!built);
        assert!(bus.recent().is_empty());
    }

    #[test]
    fn ring_keeps_the_last_steps_in_order() {
        let bus = TraceBus::new(2);
        for what in ["a", "b", "c"] {
            bus.record(|| draft(what));
        }
        let recent: Vec<_> = bus.recent().iter().map(|s| s.what.clone()).collect();
        assert_eq!(recent, ["b", "c"]);
        assert!(bus.recent()[0].seq < bus.recent()[1].seq);
    }

    #[tokio::test]
    async fn step_mode_holds_steps_and_lets_them_through_in_order() {
        let bus = TraceBus::quiet();
        // Off: a gate point costs nothing and never waits.
        bus.at_gate(|| unreachable!("the draft is built only in step mode"))
            .await;
        bus.set_step_mode(true);
        let passed = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for what in ["a", "b", "c"] {
            let (waiter, passed) = (bus.clone(), passed.clone());
            tasks.push(tokio::spawn(async move {
                waiter.at_gate(|| draft(what)).await;
                passed.lock().unwrap().push(what);
            }));
            // Arrival order is the order they are let through.
            while bus.held().len() < tasks.len() {
                tokio::task::yield_now().await;
            }
        }
        let held: Vec<_> = bus.held().iter().map(|h| h.what.clone()).collect();
        assert_eq!(held, ["a", "b", "c"]);
        assert!(passed.lock().unwrap().is_empty(), "nothing passes unasked");
        assert_eq!(bus.step().unwrap().what, "a");
        while passed.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        assert_eq!(*passed.lock().unwrap(), ["a"]);
        assert_eq!(bus.held().len(), 2);
        // Leaving step mode lets the rest through, oldest first.
        bus.set_step_mode(false);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*passed.lock().unwrap(), ["a", "b", "c"]);
        assert!(bus.held().is_empty());
        assert!(bus.step().is_none());
    }

    #[tokio::test]
    async fn a_step_whose_waiter_left_is_skipped() {
        let bus = TraceBus::quiet();
        bus.set_step_mode(true);
        let gone = {
            let bus = bus.clone();
            tokio::spawn(async move { bus.at_gate(|| draft("gone")).await })
        };
        while bus.held().is_empty() {
            tokio::task::yield_now().await;
        }
        gone.abort();
        let _ = gone.await;
        assert!(bus.held().is_empty(), "a waiter that left is not shown");
        let stays = {
            let bus = bus.clone();
            tokio::spawn(async move { bus.at_gate(|| draft("stays")).await })
        };
        while bus.held().is_empty() {
            tokio::task::yield_now().await;
        }
        assert_eq!(bus.step().unwrap().what, "stays");
        stays.await.unwrap();
    }

    #[tokio::test]
    async fn subscriber_sees_steps_and_unsubscribes_on_drop() {
        let bus = TraceBus::quiet();
        let mut sub = bus.subscribe();
        assert!(bus.is_on());
        bus.record(|| draft("commit").rev(42).took(Duration::from_micros(300)));
        let step = sub.next().await.unwrap().unwrap();
        assert_eq!(
            step.to_string(),
            "API server → store: commit rev 42 · 0.3 ms [/registry/pods/default/web]"
        );
        drop(sub);
        assert!(!bus.is_on());
    }
}
