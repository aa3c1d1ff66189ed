//! `update(&mut State, Action) -> Option<Effect>`: every change of the TUI's state happens here,
//! synchronously and without I/O; what needs the API comes back as an [`Effect`].

use super::action::{Action, Effect};
use super::editor::{Editor, Origin, api_error, parse_pod};
use super::keymap::{Command, Mode};
use super::model::{ObjKey, trace_key};
use super::node_actions;
use super::samples::SAMPLES;
use super::state::{
    ChooseFor, Confirm, Flash, LogBuffer, Prompt, PromptKind, State, ViewKind, Viewer,
};
use super::theme::Theme;
use crate::trace::Actor;

/// Rows PageUp/PageDown move.
const PAGE: usize = 10;

pub fn update(state: &mut State, action: Action) -> Option<Effect> {
    match action {
        Action::Command(c) => {
            state.dirty = true;
            command(state, c)
        }
        Action::EditorKey(key) => {
            if let Some(editor) = &mut state.editor {
                // In step mode an apply waits at the gate with the editor open: its space is
                // the step key until the answer comes (typing would change nothing sent).
                if editor.applying
                    && state.step_mode.is_some()
                    && key.code == ratatui::crossterm::event::KeyCode::Char(' ')
                {
                    return Some(Effect::StepNext);
                }
                // Typing goes back to editing: the diff shown is no longer the edit.
                editor.review = None;
                editor.text.input(key);
                state.dirty = true;
            }
            None
        }
        Action::PromptKey(key) => {
            use ratatui::crossterm::event::KeyCode;
            if let Some(prompt) = &mut state.prompt {
                match key.code {
                    KeyCode::Char(c) => prompt.text.push(c),
                    KeyCode::Backspace => {
                        prompt.text.pop();
                    }
                    _ => {}
                }
                if prompt.kind == PromptKind::Filter {
                    // The filter applies as it is typed.
                    state.filter = prompt.text.clone();
                    keep_selection_listed(state);
                }
                state.dirty = true;
            }
            None
        }
        Action::Resize => {
            state.dirty = true;
            None
        }
        Action::Click(column, row) => {
            // Only on the cluster screen: popups and views cover the rows.
            if matches!(state.mode(), Mode::Cluster | Mode::Nodes) {
                let (pod, node) = {
                    let hits = state.hits.borrow();
                    (hits.pod_at(column, row), hits.node_at(column, row))
                };
                if let Some(key) = pod {
                    state.node_focus = false;
                    state.node_table = false;
                    select(state, Some(key), false);
                    state.dirty = true;
                } else if let Some(node) = node {
                    state.node_focus = true;
                    state.selected_node = Some(node);
                    state.dirty = true;
                }
            }
            None
        }
        Action::Wheel(lines) => {
            // As that many presses of ↓ or ↑ in whatever has the keys (lists, views, pickers).
            let c = if lines > 0 {
                Command::Down
            } else {
                Command::Up
            };
            let mut effect = None;
            if !matches!(
                state.mode(),
                Mode::Editor | Mode::Prompt | Mode::Help | Mode::Confirm
            ) {
                for _ in 0..lines.unsigned_abs() {
                    effect = effect.or(command(state, c));
                }
                state.dirty = true;
            }
            effect
        }
        Action::Frame(now) => {
            let available = followed_len(state);
            if state.playback.tick(now, available) {
                state.dirty = true;
            }
            None
        }
        Action::Clock(now) => {
            state.now = now;
            state.dirty = true;
            // The queue view's countdowns: read the queue again.
            state
                .viewer
                .as_ref()
                .is_some_and(|v| v.kind == ViewKind::Queue)
                .then_some(Effect::LoadQueue)
        }
        Action::Queue(rows) => {
            if state
                .viewer
                .as_ref()
                .is_some_and(|v| v.kind == ViewKind::Queue)
            {
                state.queue = Some(rows);
                state.dirty = true;
            }
            None
        }
        Action::Pod(ev) => {
            state.model.apply_pod(*ev);
            if state.selected.is_none()
                && let Some(first) = state.model.pods.items.keys().next().cloned()
            {
                select(state, Some(first), false);
            }
            state.dirty = true;
            None
        }
        Action::Node(ev) => {
            state.model.apply_node(*ev);
            state.dirty = true;
            None
        }
        Action::Event(ev) => {
            state.model.apply_event(*ev);
            state.dirty = true;
            None
        }
        Action::Step(step) => {
            if step.what == "POST pods" && step.to == Actor::ApiServer {
                let gone = step
                    .key
                    .strip_prefix("/registry/pods/")
                    .and_then(|k| k.split_once('/'))
                    .is_some_and(|(ns, name)| {
                        !state
                            .model
                            .pods
                            .items
                            .contains_key(&(ns.to_string(), name.to_string()))
                    });
                if gone {
                    state.traces.restart(&step.key);
                }
            }
            // A new attempt for the pod whose Why view is open: read the records again.
            let reload = state.viewer.as_ref().and_then(|v| {
                (v.kind == ViewKind::Why
                    && step.from == Actor::Scheduler
                    && step.key == trace_key(&v.key))
                .then(|| v.key.clone())
            });
            state.traces.push(step);
            state.dirty = true;
            reload.map(Effect::LoadDecisions)
        }
        Action::Lagged(n) => {
            state.lagged += n;
            state.dirty = true;
            None
        }
        Action::Applied(result) => {
            state.dirty = true;
            match result {
                Ok(key) => {
                    let created = matches!(
                        state.editor.as_ref().map(|e| &e.origin),
                        Some(Origin::New { .. })
                    );
                    state.editor = None;
                    state.flash = Some(Flash {
                        text: if created {
                            format!(
                                "pod {}/{} created: its steps are drawn below as they happen",
                                key.0, key.1
                            )
                        } else {
                            format!("pod {}/{} updated", key.0, key.1)
                        },
                        error: false,
                    });
                    select(state, Some(key), created);
                }
                Err(e) => {
                    if let Some(editor) = &mut state.editor {
                        editor.applying = false;
                        let err = api_error(&e, &editor.contents());
                        editor.set_error(err);
                    }
                }
            }
            None
        }
        Action::Deleted(key, result) => {
            state.dirty = true;
            state.flash = Some(match result {
                Ok(()) => Flash {
                    text: format!(
                        "pod {}/{} is being deleted: its kubelet stops the containers, then it goes",
                        key.0, key.1
                    ),
                    error: false,
                },
                Err(e) => Flash {
                    text: format!("delete {}/{}: {e}", key.0, key.1),
                    error: true,
                },
            });
            None
        }
        Action::Decisions(key, records) => {
            if state
                .viewer
                .as_ref()
                .is_some_and(|v| v.kind == ViewKind::Why && v.key == key)
            {
                state.decisions = Some((key, records));
                state.dirty = true;
            }
            None
        }
        Action::LogChunk(generation, bytes) => {
            if let Some(logs) = state.logs.as_mut().filter(|l| l.generation == generation) {
                logs.push(&bytes);
                state.dirty = true;
            }
            None
        }
        Action::LogEnd(generation, error) => {
            if let Some(logs) = state.logs.as_mut().filter(|l| l.generation == generation) {
                logs.ended = Some(error);
                state.dirty = true;
            }
            None
        }
        Action::Cordoned(node, cordon, result) => {
            state.dirty = true;
            state.flash = Some(match result {
                Ok(()) if cordon => Flash {
                    text: format!(
                        "{node} cordoned: the scheduler's NodeUnschedulable filter now rejects it; \
                         its pods keep running"
                    ),
                    error: false,
                },
                Ok(()) => Flash {
                    text: format!("{node} uncordoned: new pods may be scheduled there again"),
                    error: false,
                },
                Err(e) => Flash {
                    text: format!("{node}: {e}"),
                    error: true,
                },
            });
            None
        }
        Action::Gate { on, held } => {
            state.dirty = true;
            state.step_mode = on.then_some(held);
            None
        }
        Action::Drained(node, result) => {
            state.dirty = true;
            node_actions::drained(state, node, result);
            None
        }
        Action::KubeletSwitched(node, running) => {
            state.dirty = true;
            node_actions::kubelet_switched(state, node, running);
            None
        }
        Action::Killed(key, container, result) => {
            state.dirty = true;
            node_actions::killed(state, key, container, result);
            None
        }
        Action::Signal => Some(Effect::Quit),
    }
}

/// Steps there are for the pod the sequence panel follows.
pub fn followed_len(state: &State) -> usize {
    state
        .playback
        .key
        .as_deref()
        .map_or(0, |k| state.traces.len(k))
}

fn select(state: &mut State, key: Option<ObjKey>, replay: bool) {
    let trace = key.as_ref().map(trace_key);
    let available = trace.as_deref().map_or(0, |k| state.traces.len(k));
    state.selected = key;
    state.playback.follow(trace, available, replay);
}

fn command(state: &mut State, c: Command) -> Option<Effect> {
    if c == Command::Quit {
        return Some(Effect::Quit);
    }
    state.flash = None;
    match state.mode() {
        Mode::Help => {
            if c == Command::Close {
                state.help = false;
            }
            None
        }
        Mode::Confirm => {
            let confirm = state.confirm.take();
            match (c, confirm) {
                (Command::Yes, Some(confirm)) => Some(node_actions::confirmed(confirm)),
                (Command::No, _) => None,
                (_, confirm) => {
                    state.confirm = confirm;
                    None
                }
            }
        }
        Mode::Chooser => {
            let (key, container, purpose) = node_actions::chooser_command(state, c)?;
            match purpose {
                ChooseFor::Logs => open_logs(state, key, container, false),
                ChooseFor::Kill => {
                    state.confirm = Some(Confirm::Kill { key, container });
                    None
                }
            }
        }
        Mode::Nodes => match c {
            Command::Help => {
                state.help = true;
                None
            }
            Command::CommandLine | Command::StepNext => cluster_command(state, c),
            _ => node_actions::nodes_command(state, c),
        },
        Mode::Editor => editor_command(state, c),
        Mode::Prompt => {
            let prompt = state.prompt.take()?;
            match (c, prompt.kind) {
                (Command::Close, PromptKind::Filter) => {
                    state.filter.clear();
                    None
                }
                (Command::Choose, PromptKind::Filter) => {
                    state.filter = prompt.text;
                    keep_selection_listed(state);
                    None
                }
                (Command::Choose, PromptKind::Command) => run_command_line(state, &prompt.text),
                (Command::Close, PromptKind::Command) => None,
                _ => {
                    state.prompt = Some(prompt);
                    None
                }
            }
        }
        Mode::Picker => {
            let index = state.picker.unwrap_or(0);
            match c {
                Command::Down => state.picker = Some((index + 1).min(SAMPLES.len() - 1)),
                Command::Up => state.picker = Some(index.saturating_sub(1)),
                Command::Close => state.picker = None,
                Command::Choose => {
                    let sample = &SAMPLES[index.min(SAMPLES.len() - 1)];
                    state.picker = None;
                    state.editor = Some(Editor::new(
                        sample.text,
                        Origin::New {
                            sample: sample.file,
                        },
                    ));
                }
                _ => {}
            }
            None
        }
        Mode::Viewer => {
            let Some(viewer) = &mut state.viewer else {
                return None;
            };
            if matches!(viewer.kind, ViewKind::Logs | ViewKind::Events) {
                return logs_command(state, c);
            }
            match c {
                Command::Down => viewer.scroll = viewer.scroll.saturating_add(1),
                Command::Up => viewer.scroll = viewer.scroll.saturating_sub(1),
                Command::PageDown => viewer.scroll = viewer.scroll.saturating_add(PAGE as u16),
                Command::PageUp => viewer.scroll = viewer.scroll.saturating_sub(PAGE as u16),
                Command::Top => viewer.scroll = 0,
                Command::Bottom => viewer.scroll = u16::MAX,
                Command::Close => state.viewer = None,
                Command::Edit if viewer.kind != ViewKind::Queue => {
                    let key = viewer.key.clone();
                    open_editor(state, &key);
                }
                _ => {}
            }
            None
        }
        Mode::Cluster => cluster_command(state, c),
    }
}

/// Opens the logs view of `key`'s `container` and asks for its output.
fn open_logs(state: &mut State, key: ObjKey, container: String, previous: bool) -> Option<Effect> {
    let generation = state.logs.as_ref().map_or(0, |l| l.generation + 1);
    state.logs = Some(LogBuffer {
        key: key.clone(),
        container: container.clone(),
        previous,
        generation,
        ..LogBuffer::default()
    });
    state.viewer = Some(Viewer {
        kind: ViewKind::Logs,
        key: key.clone(),
        scroll: 0,
    });
    Some(Effect::FollowLogs {
        key,
        container,
        previous,
        generation,
    })
}

/// The logs and events views: `scroll` counts lines back from the newest at the bottom.
fn logs_command(state: &mut State, c: Command) -> Option<Effect> {
    let viewer = state.viewer.as_mut()?;
    let logs = viewer.kind == ViewKind::Logs;
    // `scroll` counts lines back from the newest, so the view follows new output at 0.
    match c {
        Command::Up => viewer.scroll = viewer.scroll.saturating_add(1),
        Command::Down => viewer.scroll = viewer.scroll.saturating_sub(1),
        Command::PageUp => viewer.scroll = viewer.scroll.saturating_add(PAGE as u16),
        Command::PageDown => viewer.scroll = viewer.scroll.saturating_sub(PAGE as u16),
        Command::Top => viewer.scroll = u16::MAX,
        Command::Bottom => viewer.scroll = 0,
        Command::Close if !logs => state.viewer = None,
        Command::Close => {
            state.viewer = None;
            state.logs = None;
            return Some(Effect::StopLogs);
        }
        Command::Previous if logs => {
            let key = viewer.key.clone();
            let previous = !state.logs.as_ref().is_some_and(|l| l.previous);
            let container = state
                .logs
                .as_ref()
                .map(|l| l.container.clone())
                .unwrap_or_default();
            return open_logs(state, key, container, previous);
        }
        Command::Edit if logs => {
            let key = viewer.key.clone();
            open_editor(state, &key);
        }
        _ => {}
    }
    None
}

fn editor_command(state: &mut State, c: Command) -> Option<Effect> {
    let editor = state.editor.as_mut()?;
    match c {
        Command::Close if editor.review.is_some() => {
            editor.review = None;
            None
        }
        Command::Close => {
            state.editor = None;
            None
        }
        Command::Apply if !editor.applying => match parse_pod(&editor.contents()) {
            Err(e) => {
                editor.set_error(e);
                None
            }
            Ok(pod) => {
                editor.error = None;
                // Editing: show what changes first; the second ctrl-s applies.
                if matches!(editor.origin, Origin::Edit(_)) && editor.review.is_none() {
                    editor.review = Some(editor.diff().unwrap_or_else(|| {
                        vec![
                            "nothing changed: ctrl-s sends it anyway (the API server \
                              answers 200 OK and writes nothing)"
                                .to_string(),
                        ]
                    }));
                    return None;
                }
                editor.review = None;
                editor.applying = true;
                let replace = match &editor.origin {
                    Origin::Edit(key) => Some(key.clone()),
                    Origin::New { .. } => None,
                };
                Some(Effect::Apply {
                    pod: Box::new(pod),
                    replace,
                })
            }
        },
        _ => None,
    }
}

fn open_editor(state: &mut State, key: &ObjKey) {
    let Some(pod) = state.model.pod(key) else {
        state.flash = Some(Flash {
            text: format!("pod {}/{} is gone", key.0, key.1),
            error: true,
        });
        return;
    };
    match crate::api::yaml::to_yaml(&*pod) {
        Ok(text) => state.editor = Some(Editor::new(&text, Origin::Edit(key.clone()))),
        Err(e) => {
            state.flash = Some(Flash {
                text: format!("cannot write the pod as YAML: {e}"),
                error: true,
            })
        }
    }
}

fn cluster_command(state: &mut State, c: Command) -> Option<Effect> {
    let selected = state.selected.clone();
    let needs_pod = |state: &mut State| {
        if selected.is_none() {
            state.flash = Some(Flash {
                text: "no pod selected: press n to create one".into(),
                error: true,
            });
        }
        selected.clone()
    };
    match c {
        Command::New => state.picker = Some(0),
        Command::Edit => {
            if let Some(key) = needs_pod(state) {
                open_editor(state, &key);
            }
        }
        Command::Logs => {
            if let Some(key) = needs_pod(state)
                && let Some(Ok(container)) =
                    node_actions::choose_container(state, key.clone(), ChooseFor::Logs)
            {
                return open_logs(state, key, container, false);
            }
        }
        Command::Kill => {
            if let Some(key) = needs_pod(state) {
                node_actions::kill(state, key);
            }
        }
        Command::SwitchFocus => node_actions::switch_focus(state),
        Command::Describe | Command::Yaml | Command::Why => {
            if let Some(key) = needs_pod(state) {
                let kind = match c {
                    Command::Describe => ViewKind::Describe,
                    Command::Yaml => ViewKind::Yaml,
                    _ => ViewKind::Why,
                };
                state.viewer = Some(Viewer {
                    kind,
                    key: key.clone(),
                    scroll: 0,
                });
                if kind == ViewKind::Why {
                    state.decisions = None;
                    return Some(Effect::LoadDecisions(key));
                }
            }
        }
        Command::Delete => {
            if let Some(key) = needs_pod(state) {
                state.confirm = Some(Confirm::DeletePod(key));
            }
        }
        Command::Help => state.help = true,
        Command::CommandLine => {
            state.prompt = Some(Prompt {
                kind: PromptKind::Command,
                text: String::new(),
            })
        }
        Command::Filter => {
            state.prompt = Some(Prompt {
                kind: PromptKind::Filter,
                text: state.filter.clone(),
            })
        }
        Command::StepMode => {
            let on = state.step_mode.is_none();
            state.flash = Some(Flash {
                text: if on {
                    "step mode: the API server, the scheduler and the kubelets now wait before \
                     each step — space lets the next one happen, s lets everything go"
                        .into()
                } else {
                    "step mode off: everything that waited goes on, in order".into()
                },
                error: false,
            });
            return Some(Effect::StepMode(on));
        }
        Command::StepNext => {
            if state.step_mode.is_none() {
                state.flash = Some(Flash {
                    text: "step mode is off: press s to make the control plane wait before each \
                           step"
                        .into(),
                    error: true,
                });
            } else {
                return Some(Effect::StepNext);
            }
        }
        Command::Faster => state.playback.faster(),
        Command::Slower => state.playback.slower(),
        Command::Replay => {
            let key = state.selected.clone();
            select(state, key, true);
        }
        Command::SequenceBack | Command::SequenceForward => {
            let available = followed_len(state);
            let rows = if c == Command::SequenceBack { 5 } else { -5 };
            state.playback.scroll(rows, available);
        }
        Command::Up => move_selection(state, -1),
        Command::Down => move_selection(state, 1),
        Command::PageUp => move_selection(state, -(PAGE as isize)),
        Command::PageDown => move_selection(state, PAGE as isize),
        Command::Top => move_selection(state, isize::MIN),
        Command::Bottom => move_selection(state, isize::MAX),
        _ => {}
    }
    None
}

/// `:` commands.
fn run_command_line(state: &mut State, line: &str) -> Option<Effect> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some("q" | "quit"), None) => return Some(Effect::Quit),
        (Some("theme"), Some(name)) => match Theme::builtin(name) {
            Ok(theme) => {
                let mono = state.theme.is_mono();
                state.theme = if mono { theme.without_colour() } else { theme };
                state.flash = Some(Flash {
                    text: if mono {
                        format!("theme {name} (NO_COLOR is set: colours stay off)")
                    } else {
                        format!("theme {name}")
                    },
                    error: false,
                });
            }
            Err(e) => {
                state.flash = Some(Flash {
                    text: e,
                    error: true,
                })
            }
        },
        (Some("pods"), None) => {
            state.viewer = None;
            state.filter.clear();
            state.node_table = false;
            state.node_focus = false;
        }
        (Some("nodes"), None) => {
            state.viewer = None;
            state.node_table = true;
            if !state.node_focus {
                node_actions::switch_focus(state);
            }
        }
        (Some("queue"), None) => {
            state.viewer = Some(Viewer {
                kind: ViewKind::Queue,
                key: (String::new(), String::new()),
                scroll: 0,
            });
            state.queue = None;
            return Some(Effect::LoadQueue);
        }
        (Some(verb @ ("cordon" | "uncordon")), Some(node)) => {
            let cordon = verb == "cordon";
            if state
                .model
                .nodes
                .items
                .contains_key(&(String::new(), node.to_string()))
            {
                return Some(Effect::Cordon {
                    node: node.to_string(),
                    cordon,
                });
            }
            let names: Vec<&str> = state
                .model
                .nodes
                .items
                .keys()
                .map(|k| k.1.as_str())
                .collect();
            state.flash = Some(Flash {
                text: format!("no node {node:?}; nodes: {}", names.join(", ")),
                error: true,
            });
        }
        (Some("events"), None) => {
            state.viewer = Some(Viewer {
                kind: ViewKind::Events,
                key: (String::new(), String::new()),
                // Lines back from the newest event, at the bottom.
                scroll: 0,
            });
        }
        (None, _) => {}
        _ => {
            state.flash = Some(Flash {
                text: format!(
                    "unknown command :{line} — try :theme NAME, :events, :nodes, :queue, :cordon NODE, :uncordon NODE, :pods, :quit"
                ),
                error: true,
            })
        }
    }
    None
}

/// After the filter changed: the selection moves to the first listed pod if it is hidden.
fn keep_selection_listed(state: &mut State) {
    if state.selected_listed().is_some() {
        return;
    }
    let first = state.listed().next().map(|(k, _)| k.clone());
    if first.is_some() {
        select(state, first, false);
    }
}

/// Moves the selection `delta` listed pods down (up when negative; `isize::MIN` and `MAX`: to
/// the first and the last), stopping at the ends. A selected pod that is gone counts from
/// where it was. Walks `delta` pods from the selection, not the whole list.
fn move_selection(state: &mut State, delta: isize) {
    use std::ops::Bound::{Excluded, Unbounded};
    let steps = delta.unsigned_abs();
    let target = match (delta, &state.selected) {
        (isize::MIN, _) | (_, None) if delta <= 0 => state.listed().next(),
        (isize::MAX, _) => state.listed().next_back(),
        (_, None) => state.listed().take(steps).last(),
        (_, Some(sel)) if delta > 0 => state
            .listed_in((Excluded(sel), Unbounded))
            .take(steps)
            .last()
            .or_else(|| state.listed().next_back()),
        (_, Some(sel)) => state
            .listed_in((Unbounded, Excluded(sel)))
            .rev()
            .take(steps)
            .last()
            .or_else(|| state.listed().next()),
    };
    let key = target.map(|(k, _)| k.clone());
    if key.is_some() && key != state.selected {
        select(state, key, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::runtime::watcher;
    use crate::tui::state::ClusterInfo;
    use crate::tui::theme::Theme;
    use k8s_openapi::api::core::v1::Pod;

    fn state() -> State {
        State::new(
            ClusterInfo::default(),
            Theme::dark(),
            "2026-01-01T00:00:00Z".parse().unwrap(),
        )
    }

    fn pod(name: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "busybox"}]}
        }))
        .unwrap()
    }

    #[test]
    fn step_mode_keys_ask_the_gate_and_space_needs_step_mode() {
        let mut s = state();
        let key = |c: char| {
            ratatui::crossterm::event::KeyEvent::from(ratatui::crossterm::event::KeyCode::Char(c))
        };
        // space with step mode off: nothing is let through, and the flash says how to start.
        let space = crate::tui::app::key_action(&s, key(' ')).unwrap();
        assert_eq!(update(&mut s, space), None);
        assert!(s.flash.as_ref().unwrap().error);
        let toggle = crate::tui::app::key_action(&s, key('s')).unwrap();
        assert_eq!(update(&mut s, toggle), Some(Effect::StepMode(true)));
        // The state follows the gate, not the key: the gate's answer turns it on.
        assert!(s.step_mode.is_none());
        update(
            &mut s,
            Action::Gate {
                on: true,
                held: Vec::new(),
            },
        );
        assert_eq!(s.step_mode, Some(Vec::new()));
        let space = crate::tui::app::key_action(&s, key(' ')).unwrap();
        assert_eq!(update(&mut s, space), Some(Effect::StepNext));
        let toggle = crate::tui::app::key_action(&s, key('s')).unwrap();
        assert_eq!(update(&mut s, toggle), Some(Effect::StepMode(false)));
    }

    #[test]
    fn q_in_the_editor_types_a_q() {
        let mut s = state();
        update(&mut s, Action::Command(Command::New));
        update(&mut s, Action::Command(Command::Choose));
        assert_eq!(s.mode(), Mode::Editor);
        // The event loop sends unbound keys to the editor.
        let q = ratatui::crossterm::event::KeyEvent::from(
            ratatui::crossterm::event::KeyCode::Char('q'),
        );
        assert_eq!(crate::tui::keymap::resolve(s.mode(), &q), None);
        update(&mut s, Action::EditorKey(q));
        assert_eq!(s.mode(), Mode::Editor);
        assert!(s.editor.as_ref().unwrap().contents().starts_with('q'));
    }

    #[test]
    fn a_sample_applies_as_a_create() {
        let mut s = state();
        update(&mut s, Action::Command(Command::New));
        update(&mut s, Action::Command(Command::Choose));
        let effect = update(&mut s, Action::Command(Command::Apply));
        match effect {
            Some(Effect::Apply { pod, replace }) => {
                assert_eq!(pod.metadata.name.as_deref(), Some("hello"));
                assert_eq!(replace, None);
            }
            other => panic!("{other:?}"),
        }
        // A second ctrl-s while the first is on its way sends nothing.
        assert_eq!(update(&mut s, Action::Command(Command::Apply)), None);
        let key = ("default".to_string(), "hello".to_string());
        update(&mut s, Action::Applied(Ok(key.clone())));
        assert!(s.editor.is_none());
        assert_eq!(s.selected, Some(key));
    }

    #[test]
    fn an_edit_shows_its_diff_before_it_is_applied() {
        let mut s = state();
        update(
            &mut s,
            Action::Pod(Box::new(watcher::Event::Apply(pod("web").into()))),
        );
        update(&mut s, Action::Command(Command::Edit));
        {
            let e = s.editor.as_mut().unwrap();
            let row = e
                .text
                .lines()
                .iter()
                .position(|l| l.contains("busybox"))
                .unwrap();
            e.text
                .move_cursor(ratatui_textarea::CursorMove::Jump(row as u16, 0));
            e.text.move_cursor(ratatui_textarea::CursorMove::End);
            e.text.insert_str(":1.37");
        }
        assert_eq!(update(&mut s, Action::Command(Command::Apply)), None);
        let diff = s.editor.as_ref().unwrap().review.clone().unwrap();
        assert!(diff.iter().any(|l| l == "-  - image: busybox"), "{diff:?}");
        assert!(
            diff.iter().any(|l| l == "+  - image: busybox:1.37"),
            "{diff:?}"
        );
        // esc goes back to editing; ctrl-s twice applies.
        update(&mut s, Action::Command(Command::Close));
        assert!(s.editor.as_ref().unwrap().review.is_none());
        assert_eq!(update(&mut s, Action::Command(Command::Apply)), None);
        assert!(matches!(
            update(&mut s, Action::Command(Command::Apply)),
            Some(Effect::Apply {
                replace: Some(_),
                ..
            })
        ));
    }

    fn typed(s: &mut State, text: &str) {
        for c in text.chars() {
            let k = ratatui::crossterm::event::KeyEvent::from(
                ratatui::crossterm::event::KeyCode::Char(c),
            );
            assert_eq!(
                crate::tui::keymap::resolve(s.mode(), &k),
                None,
                "{c} is text"
            );
            update(s, Action::PromptKey(k));
        }
    }

    #[test]
    fn the_filter_narrows_the_list_as_it_is_typed_and_esc_clears_it() {
        let mut s = state();
        for n in ["api", "crasher", "web"] {
            update(
                &mut s,
                Action::Pod(Box::new(watcher::Event::Apply(pod(n).into()))),
            );
        }
        update(&mut s, Action::Command(Command::Filter));
        assert_eq!(s.mode(), Mode::Prompt);
        typed(&mut s, "q");
        assert_eq!(s.mode(), Mode::Prompt, "q is text in the prompt");
        // A backspace, as the terminal sends it.
        update(
            &mut s,
            Action::PromptKey(ratatui::crossterm::event::KeyEvent::from(
                ratatui::crossterm::event::KeyCode::Backspace,
            )),
        );
        typed(&mut s, "cr");
        assert_eq!(s.filter, "cr");
        assert_eq!(s.selected.as_ref().unwrap().1, "crasher");
        update(&mut s, Action::Command(Command::Choose));
        assert_eq!(s.mode(), Mode::Cluster);
        update(&mut s, Action::Command(Command::Down));
        assert_eq!(
            s.selected.as_ref().unwrap().1,
            "crasher",
            "only one pod is listed"
        );
        update(&mut s, Action::Command(Command::Filter));
        update(&mut s, Action::Command(Command::Close));
        assert_eq!(s.filter, "");
    }

    #[test]
    fn command_line_switches_theme_and_says_what_it_does_not_know() {
        let mut s = state();
        update(&mut s, Action::Command(Command::CommandLine));
        typed(&mut s, "theme light");
        assert_eq!(update(&mut s, Action::Command(Command::Choose)), None);
        assert_eq!(s.theme.name, "light");
        update(&mut s, Action::Command(Command::CommandLine));
        typed(&mut s, "frobnicate");
        update(&mut s, Action::Command(Command::Choose));
        assert!(s.flash.as_ref().unwrap().error);
        update(&mut s, Action::Command(Command::CommandLine));
        typed(&mut s, "q");
        assert_eq!(
            update(&mut s, Action::Command(Command::Choose)),
            Some(Effect::Quit)
        );
    }

    #[test]
    fn events_open_at_the_newest_and_scroll_back() {
        let mut s = state();
        update(&mut s, Action::Command(Command::CommandLine));
        typed(&mut s, "events");
        update(&mut s, Action::Command(Command::Choose));
        assert_eq!(
            s.viewer.as_ref().map(|v| (v.kind, v.scroll)),
            Some((ViewKind::Events, 0))
        );
        update(&mut s, Action::Command(Command::Up));
        assert_eq!(s.viewer.as_ref().unwrap().scroll, 1);
        assert_eq!(update(&mut s, Action::Command(Command::Previous)), None);
        assert_eq!(update(&mut s, Action::Command(Command::Close)), None);
        assert_eq!(s.mode(), Mode::Cluster);
    }

    #[test]
    fn cordon_names_a_node_that_exists() {
        let mut s = state();
        let node: k8s_openapi::api::core::v1::Node =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "node-1"}})).unwrap();
        update(
            &mut s,
            Action::Node(Box::new(watcher::Event::Apply(node.into()))),
        );
        update(&mut s, Action::Command(Command::CommandLine));
        typed(&mut s, "cordon node-1");
        assert_eq!(
            update(&mut s, Action::Command(Command::Choose)),
            Some(Effect::Cordon {
                node: "node-1".into(),
                cordon: true
            })
        );
        update(&mut s, Action::Command(Command::CommandLine));
        typed(&mut s, "uncordon node-9");
        assert_eq!(update(&mut s, Action::Command(Command::Choose)), None);
        assert_eq!(
            s.flash.as_ref().unwrap().text,
            r#"no node "node-9"; nodes: node-1"#
        );
    }

    #[test]
    fn delete_asks_first() {
        let mut s = state();
        update(
            &mut s,
            Action::Pod(Box::new(watcher::Event::Apply(pod("web").into()))),
        );
        assert_eq!(update(&mut s, Action::Command(Command::Delete)), None);
        assert_eq!(s.mode(), Mode::Confirm);
        assert_eq!(update(&mut s, Action::Command(Command::No)), None);
        assert_eq!(s.mode(), Mode::Cluster);
        update(&mut s, Action::Command(Command::Delete));
        assert_eq!(
            update(&mut s, Action::Command(Command::Yes)),
            Some(Effect::Delete(("default".into(), "web".into())))
        );
    }

    #[test]
    fn selection_moves_and_survives_a_deleted_pod() {
        let mut s = state();
        for n in ["a", "b", "c"] {
            update(
                &mut s,
                Action::Pod(Box::new(watcher::Event::Apply(pod(n).into()))),
            );
        }
        assert_eq!(s.selected.as_ref().unwrap().1, "a");
        update(&mut s, Action::Command(Command::Down));
        assert_eq!(s.selected.as_ref().unwrap().1, "b");
        update(
            &mut s,
            Action::Pod(Box::new(watcher::Event::Delete(pod("b").into()))),
        );
        update(&mut s, Action::Command(Command::Down));
        assert_eq!(s.selected.as_ref().unwrap().1, "c");
        update(&mut s, Action::Command(Command::Top));
        assert_eq!(s.selected.as_ref().unwrap().1, "a");
    }

    #[test]
    fn pages_stop_at_the_ends_and_moves_skip_what_the_filter_hides() {
        let mut s = state();
        let names: Vec<String> = (0..25).map(|i| format!("p{i:02}")).collect();
        for n in &names {
            update(
                &mut s,
                Action::Pod(Box::new(watcher::Event::Apply(pod(n).into()))),
            );
        }
        let at = |s: &State| s.selected.as_ref().unwrap().1.clone();
        update(&mut s, Action::Command(Command::PageDown));
        assert_eq!(at(&s), names[PAGE]);
        for _ in 0..5 {
            update(&mut s, Action::Command(Command::PageDown));
        }
        assert_eq!(at(&s), "p24");
        update(&mut s, Action::Command(Command::Down));
        assert_eq!(at(&s), "p24");
        update(&mut s, Action::Command(Command::PageUp));
        assert_eq!(at(&s), names[24 - PAGE]);
        update(&mut s, Action::Command(Command::Bottom));
        update(&mut s, Action::Command(Command::Up));
        assert_eq!(at(&s), "p23");
        for _ in 0..4 {
            update(&mut s, Action::Command(Command::PageUp));
        }
        assert_eq!(at(&s), "p00");
        update(&mut s, Action::Command(Command::Up));
        assert_eq!(at(&s), "p00");
        // Filtered to p1x: Down walks p10..p19 only, and a hidden selection counts from where
        // it is.
        s.filter = "P1".into();
        update(&mut s, Action::Command(Command::Down));
        assert_eq!(at(&s), "p10");
        update(&mut s, Action::Command(Command::PageDown));
        assert_eq!(at(&s), "p19");
        s.selected = Some(("default".into(), "p05".into()));
        update(&mut s, Action::Command(Command::Up));
        assert_eq!(at(&s), "p10", "nothing listed above p05: the first listed");
        s.selected = Some(("default".into(), "p05".into()));
        update(&mut s, Action::Command(Command::Down));
        assert_eq!(at(&s), "p10");
        update(&mut s, Action::Command(Command::Down));
        assert_eq!(at(&s), "p11");
        s.selected = Some(("default".into(), "p22".into()));
        update(&mut s, Action::Command(Command::Down));
        assert_eq!(at(&s), "p19", "past the end: the last listed");
        update(&mut s, Action::Command(Command::Bottom));
        assert_eq!(at(&s), "p19");
        update(&mut s, Action::Command(Command::Top));
        assert_eq!(at(&s), "p10");
    }

    #[test]
    fn logs_follow_one_request_at_a_time_and_stop_on_close() {
        let mut s = state();
        update(
            &mut s,
            Action::Pod(Box::new(watcher::Event::Apply(pod("web").into()))),
        );
        let key = ("default".to_string(), "web".to_string());
        let first = update(&mut s, Action::Command(Command::Logs));
        assert_eq!(
            first,
            Some(Effect::FollowLogs {
                key: key.clone(),
                container: "app".into(),
                previous: false,
                generation: 0,
            })
        );
        update(&mut s, Action::LogChunk(0, "one\ntw".into()));
        update(&mut s, Action::LogChunk(0, "o\n".into()));
        // p: the previous instance, a new request; the old one's chunks are ignored.
        let second = update(&mut s, Action::Command(Command::Previous));
        assert!(matches!(
            second,
            Some(Effect::FollowLogs {
                previous: true,
                generation: 1,
                ..
            })
        ));
        update(&mut s, Action::LogChunk(0, "late\n".into()));
        update(&mut s, Action::LogChunk(1, "before the restart\n".into()));
        let logs = s.logs.as_ref().unwrap();
        assert_eq!(logs.lines, ["before the restart"]);
        assert_eq!(
            update(&mut s, Action::Command(Command::Close)),
            Some(Effect::StopLogs)
        );
        assert_eq!(s.mode(), Mode::Cluster);
    }

    #[test]
    fn log_lines_split_across_chunks() {
        let mut b = crate::tui::state::LogBuffer::default();
        b.push(b"one\ntw");
        b.push(b"o\nthr");
        assert_eq!(b.lines, ["one", "two"]);
        assert_eq!(b.partial, "thr");
    }

    #[test]
    fn quit_is_an_effect_and_signals_quit_too() {
        let mut s = state();
        assert_eq!(
            update(&mut s, Action::Command(Command::Quit)),
            Some(Effect::Quit)
        );
        assert_eq!(update(&mut s, Action::Signal), Some(Effect::Quit));
    }
}
