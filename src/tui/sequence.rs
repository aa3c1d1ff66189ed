//! The sequence panel's model: the trace bus's steps kept per pod key, and the animation that
//! reveals them one at a time at a human pace. Nothing here makes a step up: every row is a
//! [`Step`] the control plane recorded. Steps queue while an arrow is being drawn, so none is lost.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::trace::{Actor, Step};

/// The API client name the TUI's own watches use; their deliveries are the TUI looking, not a
/// step of the pod's path, so the panel leaves them out.
pub const TUI_WATCHER: &str = "kubox TUI";

/// Steps kept per pod (the oldest go first).
const STEPS_PER_POD: usize = 400;
/// Pods whose steps are kept (the bus's ring keeps more for a restart of the TUI).
const PODS_KEPT: usize = 2_000;

/// How long one arrow takes at ×1.
const STEP_TIME: Duration = Duration::from_millis(600);
/// The speeds `+` and `-` step through.
pub const SPEEDS: [f32; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];
pub const DEFAULT_SPEED: usize = 2;

/// The lifelines, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifeline {
    You,
    ApiServer,
    Store,
    Scheduler,
    Kubelet,
    Docker,
}

impl Lifeline {
    pub const ALL: [Lifeline; 6] = [
        Lifeline::You,
        Lifeline::ApiServer,
        Lifeline::Store,
        Lifeline::Scheduler,
        Lifeline::Kubelet,
        Lifeline::Docker,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The lifeline an actor is drawn on; `None` for the TUI's own watches.
    pub fn of(actor: &Actor) -> Option<Lifeline> {
        Some(match actor {
            Actor::You => Lifeline::You,
            Actor::Client(name) if name == TUI_WATCHER => return None,
            Actor::Client(_) => Lifeline::You,
            Actor::ApiServer => Lifeline::ApiServer,
            Actor::Store => Lifeline::Store,
            Actor::Scheduler => Lifeline::Scheduler,
            Actor::Kubelet(_) => Lifeline::Kubelet,
            Actor::Docker => Lifeline::Docker,
        })
    }
}

/// True when the panel draws `step` (both ends on a lifeline).
pub fn is_drawn(step: &Step) -> bool {
    Lifeline::of(&step.from).is_some() && Lifeline::of(&step.to).is_some()
}

/// The eight steps of a pod's life, in plain words, and how to recognise each in the trace.
pub const EIGHT_STEPS: [&str; 8] = [
    "created via the API",
    "persisted in the store",
    "noticed by the scheduler",
    "bound to a node",
    "noticed by the node's kubelet",
    "run by the container runtime",
    "status reported to the API",
    "Running",
];

/// Which of the eight steps `step` is, if it is one.
pub fn milestone(step: &Step) -> Option<usize> {
    let what = step.what.as_str();
    match (&step.from, &step.to) {
        (Actor::You | Actor::Client(_), Actor::ApiServer) if what == "POST pods" => Some(0),
        (Actor::ApiServer, Actor::Store) if what.starts_with("commit create") => Some(1),
        (Actor::Store, Actor::Scheduler) if what == "watch ADDED" => Some(2),
        (Actor::Scheduler, Actor::ApiServer) if what.contains("binding") => Some(3),
        (Actor::Store, Actor::Kubelet(_)) if what.starts_with("watch") => Some(4),
        (Actor::Kubelet(_), Actor::Docker) if what.starts_with("start") => Some(5),
        (Actor::Kubelet(_), Actor::ApiServer) if what == "status Running" => Some(7),
        (Actor::Kubelet(_), Actor::ApiServer) if what.starts_with("status") => Some(6),
        _ => None,
    }
}

/// Every pod's recorded steps, by key.
#[derive(Debug, Default)]
pub struct Traces {
    by_key: HashMap<String, VecDeque<Arc<Step>>>,
    /// Keys in the order they were first seen, to forget the oldest pod first.
    order: VecDeque<String>,
    /// The last `seq` taken, so the ring's replay and the live feed never double a step.
    last_seq: Option<u64>,
    /// The highest store revision a step carried.
    pub max_rev: u64,
}

impl Traces {
    /// Takes one step from the bus. Returns true when it was new and belongs to a pod.
    pub fn push(&mut self, step: Arc<Step>) -> bool {
        if self.last_seq.is_some_and(|s| step.seq <= s) {
            return false;
        }
        self.last_seq = Some(step.seq);
        if let Some(rev) = step.rev {
            self.max_rev = self.max_rev.max(rev);
        }
        if !step.key.starts_with("/registry/pods/") || !is_drawn(&step) {
            return false;
        }
        let steps = match self.by_key.get_mut(&step.key) {
            Some(steps) => steps,
            None => {
                if self.order.len() == PODS_KEPT
                    && let Some(old) = self.order.pop_front()
                {
                    self.by_key.remove(&old);
                }
                self.order.push_back(step.key.clone());
                self.by_key.entry(step.key.clone()).or_default()
            }
        };
        // A pull's reports are one row that fills up: the latest replaces the one before.
        if step.progress.is_some()
            && let Some(last) = steps.back_mut()
            && last.progress.is_some()
            && last.what == step.what
            && last.from == step.from
        {
            *last = step;
            return true;
        }
        if steps.len() == STEPS_PER_POD {
            steps.pop_front();
        }
        steps.push_back(step);
        true
    }

    /// A new life for `key` (a pod of that name was created again): its old steps go.
    pub fn restart(&mut self, key: &str) {
        if let Some(steps) = self.by_key.get_mut(key) {
            steps.clear();
        }
    }

    pub fn steps(&self, key: &str) -> Option<&VecDeque<Arc<Step>>> {
        self.by_key.get(key)
    }

    pub fn len(&self, key: &str) -> usize {
        self.by_key.get(key).map_or(0, VecDeque::len)
    }
}

/// What the panel shows of the selected pod, and how far its animation is.
#[derive(Debug, Clone, PartialEq)]
pub struct Playback {
    /// The pod key followed.
    pub key: Option<String>,
    /// Steps fully drawn.
    pub shown: usize,
    /// How much of the arrow after `shown` is drawn (0..1), while animating.
    pub progress: f32,
    /// When the arrow being drawn started.
    started: Option<Instant>,
    pub speed: usize,
    /// Steps scrolled back from the latest (0: following the latest).
    pub back: usize,
}

impl Default for Playback {
    fn default() -> Self {
        Playback {
            key: None,
            shown: 0,
            progress: 0.0,
            started: None,
            speed: DEFAULT_SPEED,
            back: 0,
        }
    }
}

impl Playback {
    /// Follows `key`: its past steps are shown at once (`replay: false`) or drawn again.
    pub fn follow(&mut self, key: Option<String>, available: usize, replay: bool) {
        self.key = key;
        self.shown = if replay { 0 } else { available };
        self.progress = 0.0;
        self.started = None;
        self.back = 0;
    }

    /// Scrolls `rows` steps back (towards the first step), or forward with a negative count.
    pub fn scroll(&mut self, rows: isize, available: usize) {
        self.back = self
            .back
            .saturating_add_signed(rows)
            .min(available.saturating_sub(1));
    }

    pub fn speed(&self) -> f32 {
        SPEEDS[self.speed.min(SPEEDS.len() - 1)]
    }

    pub fn faster(&mut self) {
        self.speed = (self.speed + 1).min(SPEEDS.len() - 1);
    }

    pub fn slower(&mut self) {
        self.speed = self.speed.saturating_sub(1);
    }

    fn step_time(&self) -> Duration {
        // Whole microseconds, so a step's time adds up exactly.
        let micros = STEP_TIME.as_micros() as f64 / f64::from(self.speed());
        Duration::from_micros(micros as u64)
    }

    /// True while an arrow is waiting to be drawn or being drawn.
    pub fn is_animating(&self, available: usize) -> bool {
        self.shown < available
    }

    /// Advances the animation to `now` given `available` steps. Returns true if what is drawn
    /// changed.
    pub fn tick(&mut self, now: Instant, available: usize) -> bool {
        if self.shown > available {
            // The steps were trimmed or the pod started again.
            self.shown = available;
            self.started = None;
            self.progress = 0.0;
            return true;
        }
        if self.shown == available {
            return false;
        }
        let step_time = self.step_time();
        let started = *self.started.get_or_insert(now);
        let mut elapsed = now.saturating_duration_since(started);
        let mut start = started;
        while elapsed >= step_time && self.shown < available {
            self.shown += 1;
            elapsed -= step_time;
            start += step_time;
        }
        if self.shown == available {
            self.started = None;
            self.progress = 0.0;
        } else {
            self.started = Some(start);
            self.progress = elapsed.as_secs_f32() / step_time.as_secs_f32();
        }
        true
    }

    /// When the next frame of the animation is due, if one runs.
    pub fn next_frame(&self, now: Instant, available: usize) -> Option<Instant> {
        self.is_animating(available)
            .then(|| now + Duration::from_millis(33))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(seq: u64, from: Actor, to: Actor, what: &str) -> Arc<Step> {
        Arc::new(Step {
            seq,
            at: Duration::from_millis(seq),
            from,
            to,
            key: "/registry/pods/default/web".into(),
            rev: Some(10 + seq),
            what: what.into(),
            took: None,
            progress: None,
        })
    }

    #[test]
    fn a_pulls_reports_fill_one_row() {
        let mut t = Traces::default();
        let pull = |seq, done| {
            let mut s = (*step(seq, Actor::Docker, Actor::Docker, "pulling nginx:1.27")).clone();
            s.progress = Some(crate::trace::Progress {
                bytes_done: done,
                bytes_total: 100,
                layers_done: 0,
                layers_total: 2,
            });
            Arc::new(s)
        };
        t.push(step(
            1,
            Actor::Kubelet("node-1".into()),
            Actor::Docker,
            "create sandbox",
        ));
        assert!(t.push(pull(2, 10)));
        assert!(t.push(pull(3, 60)));
        assert_eq!(t.len("/registry/pods/default/web"), 2);
        let last = t
            .steps("/registry/pods/default/web")
            .unwrap()
            .back()
            .unwrap();
        assert_eq!(last.progress.unwrap().bytes_done, 60);
        assert_eq!(last.seq, 3);
        t.push(step(
            4,
            Actor::Docker,
            Actor::Kubelet("node-1".into()),
            "pulled nginx:1.27",
        ));
        assert!(t.push(pull(5, 5)), "a later pull is a new row");
        assert_eq!(t.len("/registry/pods/default/web"), 4);
    }

    #[test]
    fn traces_skip_replayed_steps_and_the_tuis_own_watches() {
        let mut t = Traces::default();
        assert!(t.push(step(1, Actor::You, Actor::ApiServer, "POST pods")));
        assert!(!t.push(step(1, Actor::You, Actor::ApiServer, "POST pods")));
        let tui = Actor::Client(TUI_WATCHER.into());
        assert!(!t.push(step(2, Actor::Store, tui, "watch ADDED")));
        assert_eq!(t.len("/registry/pods/default/web"), 1);
        assert_eq!(t.max_rev, 12);
    }

    #[test]
    fn playback_reveals_one_step_per_step_time_and_loses_none() {
        let mut p = Playback::default();
        p.follow(Some("k".into()), 0, false);
        let t0 = Instant::now();
        assert!(!p.tick(t0, 0));
        // Three steps arrive at once: they queue.
        assert!(p.tick(t0, 3));
        assert_eq!(p.shown, 0);
        p.tick(t0 + STEP_TIME / 2, 3);
        assert_eq!(p.shown, 0);
        assert!((p.progress - 0.5).abs() < 0.01);
        p.tick(t0 + STEP_TIME * 2 + STEP_TIME / 4, 3);
        assert_eq!(p.shown, 2);
        p.tick(t0 + STEP_TIME * 3, 3);
        assert_eq!(p.shown, 3);
        assert_eq!(p.next_frame(t0, 3), None);
    }

    #[test]
    fn scrolling_back_stays_within_the_steps_and_a_new_pod_resets_it() {
        let mut p = Playback::default();
        p.follow(Some("k".into()), 12, false);
        p.scroll(5, 12);
        p.scroll(5, 12);
        p.scroll(5, 12);
        assert_eq!(p.back, 11);
        p.scroll(-5, 12);
        assert_eq!(p.back, 6);
        p.follow(Some("other".into()), 3, false);
        assert_eq!(p.back, 0);
    }

    #[test]
    fn speed_is_bounded() {
        let mut p = Playback::default();
        for _ in 0..10 {
            p.faster();
        }
        assert_eq!(p.speed(), 4.0);
        for _ in 0..10 {
            p.slower();
        }
        assert_eq!(p.speed(), 0.25);
    }

    #[test]
    fn milestones_name_the_eight_steps() {
        let k = || Actor::Kubelet("node-1".into());
        assert_eq!(
            milestone(&step(1, Actor::You, Actor::ApiServer, "POST pods")),
            Some(0)
        );
        assert_eq!(
            milestone(&step(2, Actor::ApiServer, Actor::Store, "commit create")),
            Some(1)
        );
        assert_eq!(
            milestone(&step(3, k(), Actor::ApiServer, "status Running")),
            Some(7)
        );
        assert_eq!(
            milestone(&step(4, k(), Actor::ApiServer, "status Pending")),
            Some(6)
        );
    }
}
