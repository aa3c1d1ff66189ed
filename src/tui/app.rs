//! The event loop: terminal events (crossterm's `EventStream`), the API's watches, the trace
//! bus, the results of API calls, SIGINT/SIGTERM, and timers that run only when needed (the
//! animation while an arrow is drawn, the one-second clock while ages are on screen). A frame
//! is drawn only when the state changed, at most every 10 ms. The terminal is restored on every
//! way out, panics included (ratatui's hook).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event as KEvent, Namespace, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::action::{Action, Effect};
use super::keymap::{self, Mode};
use super::model::ObjKey;
use super::sequence::TUI_WATCHER;
use super::state::{ClusterInfo, State};
use super::theme::Theme;
use super::update::{followed_len, update};
use super::view;
use crate::api::ApiError;
use crate::api::runtime::watcher::watcher;
use crate::api::{Api, DeleteParams, ListParams, Patch};
use crate::cluster::{Cluster, KUBECONFIG_FILE};
use crate::kubelet::logs::LogRequest;
use crate::kubelet::runtime::LogOptions;
use crate::scheduler::Records;
use crate::scheduler::queue::SchedulingQueue;
use crate::trace::Actor;

/// Frames are drawn at most this often.
const FRAME_GAP: Duration = Duration::from_millis(10);

pub struct Options {
    pub theme: Theme,
    /// The scheduler's decision records (what `GET /kubox/v1/decisions/…` serves), for Why.
    pub decisions: Option<Arc<Records>>,
    /// The scheduler's queue (its read-only view), for `:queue`.
    pub queue: Option<Arc<SchedulingQueue>>,
    /// Where the log goes while the TUI owns the terminal.
    pub log_file: Option<std::path::PathBuf>,
}

/// What the status bar says about `cluster`.
fn info(cluster: &Cluster, log_file: Option<std::path::PathBuf>) -> ClusterInfo {
    ClusterInfo {
        runtime: cluster.runtime_note.clone(),
        api: cluster.http_address.map(|a| format!("http://{a}")),
        kubeconfig: cluster.data_dir().join(KUBECONFIG_FILE),
        store_file: cluster.data_dir().join(crate::store::STORE_FILE),
        log_file,
    }
}

/// The key's action in the current mode: a bound command, or text for the editor.
pub fn key_action(state: &State, key: ratatui::crossterm::event::KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let mode = state.mode();
    match keymap::resolve(mode, &key) {
        Some(c) => Some(Action::Command(c)),
        None if mode == Mode::Editor => Some(Action::EditorKey(key)),
        None if mode == Mode::Prompt => Some(Action::PromptKey(key)),
        None => None,
    }
}

/// Runs the TUI on this terminal until the user quits or a signal comes.
pub async fn run(cluster: &Cluster, options: Options) -> Result<(), String> {
    let decisions = options.decisions;
    let queue = options.queue;
    let mut state = State::new(
        info(cluster, options.log_file),
        options.theme,
        Timestamp::now(),
    );
    state.model.reader = Some(super::model::api_reader(&cluster.api));
    // Subscribe before reading the ring, so no step falls between the two; `Traces` drops the
    // live copies of steps the ring already gave.
    let mut steps = cluster.trace.subscribe();
    for step in cluster.trace.recent() {
        update(&mut state, Action::Step(step));
    }
    let who = Actor::Client(TUI_WATCHER.to_string());
    if let Ok(list) = Api::<Namespace>::all(&cluster.api, who.clone()).list(&ListParams::default())
        && let Ok(rev) = list.resource_version.parse::<u64>()
    {
        state.traces.max_rev = state.traces.max_rev.max(rev);
    }
    let mut pods = Box::pin(watcher(
        Api::<Pod>::all(&cluster.api, who.clone()),
        ListParams::default(),
    ));
    let mut nodes = Box::pin(watcher(
        Api::<Node>::all(&cluster.api, who.clone()),
        ListParams::default(),
    ));
    let mut events = Box::pin(watcher(
        Api::<KEvent>::all(&cluster.api, who),
        ListParams::default(),
    ));
    let mut gate = cluster.trace.watch_gate();
    let (tx, mut results) = mpsc::unbounded_channel::<Action>();
    let signal = crate::cluster::shutdown_signal();
    tokio::pin!(signal);

    let mut terminal =
        ratatui::try_init().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    mouse_capture(true);
    let mut keys = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut render_at: Option<Instant> = Some(Instant::now());
    let mut logs_task: Option<tokio::task::JoinHandle<()>> = None;
    let outcome = loop {
        let now = Instant::now();
        let frame_due = state
            .playback
            .next_frame(now.into_std(), followed_len(&state))
            .map(Instant::from_std);
        let ages_shown = !state.model.pods.items.is_empty() || state.viewer.is_some();
        let action = tokio::select! {
            biased;
            _ = &mut signal => Some(Action::Signal),
            _ = async { tokio::time::sleep_until(render_at.unwrap_or(now)).await }, if render_at.is_some() => {
                render_at = None;
                state.dirty = false;
                if let Err(e) = terminal.draw(|f| view::render(f, &state)) {
                    break Err(format!("cannot draw: {e}"));
                }
                None
            }
            ev = keys.next() => match ev {
                Some(Ok(Event::Key(k))) => key_action(&state, k),
                Some(Ok(Event::Resize(..))) => Some(Action::Resize),
                Some(Ok(Event::Mouse(m))) => mouse_action(m),
                Some(Ok(_)) => None,
                Some(Err(e)) => break Err(format!("cannot read the terminal: {e}")),
                None => break Ok(()),
            },
            Some(a) = results.recv() => Some(a),
            Ok(()) = gate.changed() => Some(Action::Gate {
                on: cluster.trace.step_mode(),
                held: cluster.trace.held(),
            }),
            Some(ev) = pods.next() => watched(ev, Action::Pod),
            Some(ev) = nodes.next() => watched(ev, Action::Node),
            Some(ev) = events.next() => watched(ev, Action::Event),
            step = steps.next() => match step {
                Some(Ok(step)) => Some(Action::Step(step)),
                Some(Err(n)) => Some(Action::Lagged(n)),
                None => None,
            },
            _ = async { tokio::time::sleep_until(frame_due.unwrap_or(now)).await }, if frame_due.is_some() => {
                Some(Action::Frame(Instant::now().into_std()))
            }
            _ = clock.tick(), if ages_shown => Some(Action::Clock(Timestamp::now())),
        };
        if let Some(action) = action {
            match update(&mut state, action) {
                Some(Effect::Quit) => break Ok(()),
                Some(Effect::LoadDecisions(key)) => {
                    let records = decisions
                        .as_ref()
                        .map(|r| r.for_pod(&format!("{}/{}", key.0, key.1)))
                        .unwrap_or_default();
                    if let Some(a) = update(&mut state, Action::Decisions(key, records)) {
                        tracing::debug!(?a, "unexpected effect after loading decisions");
                    }
                }
                Some(Effect::LoadQueue) => {
                    let rows = queue.as_ref().map(|q| queue_rows(q)).unwrap_or_default();
                    if let Some(a) = update(&mut state, Action::Queue(rows)) {
                        tracing::debug!(?a, "unexpected effect after reading the queue");
                    }
                }
                Some(Effect::StopLogs) => {
                    if let Some(task) = logs_task.take() {
                        task.abort();
                    }
                }
                Some(Effect::FollowLogs {
                    key,
                    container,
                    previous,
                    generation,
                }) => {
                    if let Some(task) = logs_task.take() {
                        task.abort();
                    }
                    let request = LogRequest {
                        container: Some(container),
                        previous,
                        options: LogOptions {
                            follow: !previous,
                            tail: Some(1000),
                            since: None,
                            timestamps: false,
                        },
                    };
                    logs_task = Some(follow_logs(cluster, key, request, generation, tx.clone()));
                }
                Some(Effect::StepMode(on)) => cluster.trace.set_step_mode(on),
                Some(Effect::StepNext) => {
                    cluster.trace.step();
                }
                Some(effect) => carry_out(cluster, effect, tx.clone()),
                None => {}
            }
        }
        if state.dirty && render_at.is_none() {
            render_at = Some(Instant::now() + FRAME_GAP);
        }
    };
    if let Some(task) = logs_task {
        task.abort();
    }
    // Whatever waits at the gate goes on: the TUI that could let it through is leaving.
    cluster.trace.set_step_mode(false);
    mouse_capture(false);
    ratatui::restore();
    outcome
}

/// Mouse reports on (clicks and the wheel) or off again. A panic turns them off before
/// ratatui's own hook restores the rest of the terminal.
fn mouse_capture(on: bool) {
    use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    use ratatui::crossterm::execute;
    let mut out = std::io::stdout();
    let result = if on {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
            previous(info);
        }));
        execute!(out, EnableMouseCapture)
    } else {
        execute!(out, DisableMouseCapture)
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "mouse reports could not be switched");
    }
}

/// A mouse report as an action: a left click, or the wheel (three lines a notch).
fn mouse_action(ev: ratatui::crossterm::event::MouseEvent) -> Option<Action> {
    use ratatui::crossterm::event::{MouseButton, MouseEventKind};
    match ev.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click(ev.column, ev.row)),
        MouseEventKind::ScrollDown => Some(Action::Wheel(3)),
        MouseEventKind::ScrollUp => Some(Action::Wheel(-3)),
        _ => None,
    }
}

/// The scheduler's queue as the view shows it, countdowns taken now.
fn queue_rows(queue: &SchedulingQueue) -> Vec<super::state::QueueRow> {
    let now = Instant::now();
    queue
        .view()
        .into_iter()
        .map(|e| super::state::QueueRow {
            key: e.key.to_string(),
            lane: e.lane,
            priority: e.priority,
            attempts: e.attempts,
            retry_in: e.retry_at.map(|at| at.saturating_duration_since(now)),
        })
        .collect()
}

/// Streams a container's output from its node's kubelet, as `pods/log` does for kubectl.
fn follow_logs(
    cluster: &Cluster,
    key: ObjKey,
    request: LogRequest,
    generation: u64,
    tx: mpsc::UnboundedSender<Action>,
) -> tokio::task::JoinHandle<()> {
    let api = Api::<Pod>::namespaced(&cluster.api, &key.0, Actor::You);
    let kubelets = cluster.kubelets.clone();
    tokio::spawn(async move {
        let result = async {
            let pod = api.get(&key.1)?;
            let kubelet = crate::kubelet::logs::node_kubelet(&kubelets, &pod)?;
            let mut stream = kubelet.logs(&pod, &request).await?;
            while let Some(chunk) = stream.next().await {
                if tx.send(Action::LogChunk(generation, chunk?)).is_err() {
                    break;
                }
            }
            Ok::<(), ApiError>(())
        }
        .await;
        let _ = tx.send(Action::LogEnd(generation, result.err().map(|e| e.message)));
    })
}

/// `kubectl drain NODE --force`: cordon, then evict every pod bound to the node through
/// `pods/eviction`, skipping mirror pods (their kubelet owns them) and pods already going.
/// Answers how many were evicted.
async fn drain(server: &crate::api::ApiServer, node: &str) -> Result<usize, ApiError> {
    let nodes = Api::<Node>::all(server, Actor::You);
    let patch = Patch::Merge(serde_json::json!({"spec": {"unschedulable": true}}));
    nodes.patch(node, &patch).await?;
    let pods = Api::<Pod>::all(server, Actor::You)
        .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))?;
    let caller = crate::api::Caller::new(Actor::You);
    let mut evicted = 0;
    for pod in pods.items {
        let mirror = pod
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
        if mirror || pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        match server
            .evict(ns, name, &DeleteParams::default(), &caller)
            .await
        {
            Ok(()) => evicted += 1,
            // Gone meanwhile: kubectl drain counts that as done.
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(evicted)
}

fn watched<K>(
    ev: Result<crate::api::runtime::watcher::Event<K>, crate::api::ApiError>,
    wrap: fn(Box<crate::api::runtime::watcher::Event<K>>) -> Action,
) -> Option<Action> {
    match ev {
        Ok(ev) => Some(wrap(Box::new(ev))),
        Err(e) => {
            tracing::warn!(error = %e, "a watch of the TUI failed; it re-lists");
            None
        }
    }
}

/// Runs an effect against the API in its own task; the answer comes back as an action.
fn carry_out(cluster: &Cluster, effect: Effect, tx: mpsc::UnboundedSender<Action>) {
    let server = cluster.api.clone();
    match effect {
        Effect::Apply { pod, replace } => {
            let ns = replace
                .as_ref()
                .map(|k| k.0.clone())
                .or_else(|| pod.metadata.namespace.clone())
                .unwrap_or_else(|| "default".to_string());
            let api = Api::<Pod>::namespaced(&server, &ns, Actor::You);
            tokio::spawn(async move {
                let result = match replace {
                    None => api.create(*pod).await,
                    Some(key) => api.replace(&key.1, *pod).await,
                };
                let result = result.map(|p| -> ObjKey {
                    (
                        p.metadata.namespace.unwrap_or(ns),
                        p.metadata.name.unwrap_or_default(),
                    )
                });
                let _ = tx.send(Action::Applied(result));
            });
        }
        Effect::Delete(key) => {
            let api = Api::<Pod>::namespaced(&server, &key.0, Actor::You);
            tokio::spawn(async move {
                let result = api
                    .delete(&key.1, &DeleteParams::default())
                    .await
                    .map(|_| ());
                let _ = tx.send(Action::Deleted(key, result));
            });
        }
        Effect::Cordon { node, cordon } => {
            let api = Api::<Node>::all(&server, Actor::You);
            tokio::spawn(async move {
                let patch = Patch::Merge(serde_json::json!({"spec": {"unschedulable": cordon}}));
                let result = api.patch(&node, &patch).await.map(|_| ());
                let _ = tx.send(Action::Cordoned(node, cordon, result));
            });
        }
        Effect::Drain(node) => {
            tokio::spawn(async move {
                let result = drain(&server, &node).await;
                let _ = tx.send(Action::Drained(node, result));
            });
        }
        Effect::SwitchKubelet { node, running } => {
            // The switch `POST /kubox/v1/nodes/{node}/kubelet/stop|start` turns.
            if let Some(kubelet) = cluster.kubelets.iter().find(|k| k.node_name() == node) {
                kubelet.set_running(running);
                let _ = tx.send(Action::KubeletSwitched(node, kubelet.is_running()));
            }
        }
        Effect::Kill { key, container } => {
            let api = Api::<Pod>::namespaced(&server, &key.0, Actor::You);
            let kubelets = cluster.kubelets.clone();
            tokio::spawn(async move {
                let result = async {
                    let pod = api.get(&key.1).map_err(|e| e.message)?;
                    let kubelet = crate::kubelet::logs::node_kubelet(&kubelets, &pod)
                        .map_err(|e| e.message)?;
                    kubelet.kill_container(&pod, &container).await
                }
                .await;
                let _ = tx.send(Action::Killed(key, container, result));
            });
        }
        Effect::Quit
        | Effect::LoadDecisions(_)
        | Effect::LoadQueue
        | Effect::FollowLogs { .. }
        | Effect::StopLogs
        | Effect::StepMode(_)
        | Effect::StepNext => {}
    }
}
