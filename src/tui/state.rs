//! The TUI's whole state (the Elm architecture's model): what the API and the trace bus
//! delivered, what is selected, and which popups are open. Only `update` changes it; the views
//! only read it.

use std::ops::RangeBounds;
use std::path::PathBuf;

use k8s_openapi::jiff::Timestamp;

use super::editor::Editor;
use super::keymap::Mode;
use super::model::{Model, ObjKey, PodRow};
use super::sequence::{Playback, Traces};
use super::theme::Theme;
use crate::scheduler::run::DecisionRecord;
use crate::trace::Held;

/// What the status bar says about the cluster this process hosts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterInfo {
    /// `runtime: Docker 27.5.1`, or `runtime: simulated, because …`.
    pub runtime: String,
    /// `http://127.0.0.1:6443`, when the HTTP API listens.
    pub api: Option<String>,
    pub kubeconfig: PathBuf,
    pub store_file: PathBuf,
    /// Where kubox's log goes while the TUI owns the terminal.
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    Describe,
    Yaml,
    /// The scheduler's decisions about the pod.
    Why,
    /// A container's output; `scroll` counts lines back from the end.
    Logs,
    /// Every event of the cluster, oldest first (`:events`; the key is empty).
    Events,
    /// The scheduler's queue: activeQ, backoffQ and the unschedulable pods (`:queue`).
    Queue,
}

/// One pod in the scheduler's queue, as last read (`SchedulingQueue::view`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    /// `namespace/name`.
    pub key: String,
    pub lane: crate::scheduler::queue::Lane,
    pub priority: i32,
    pub attempts: u32,
    /// How long until it is tried again (back-off expiry, or the unschedulable flush).
    pub retry_in: Option<std::time::Duration>,
}

/// Lines kept of a container's output.
pub const LOG_LINES: usize = 5_000;

/// The output of the container the logs view follows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogBuffer {
    pub key: ObjKey,
    pub container: String,
    pub previous: bool,
    /// Which request the chunks must belong to (a new one starts on `p`).
    pub generation: u64,
    pub lines: std::collections::VecDeque<String>,
    /// The end of the output that has no newline yet.
    pub partial: String,
    /// The stream ended: with the kubelet's error, or `None` when the container's output ended.
    pub ended: Option<Option<String>>,
}

impl LogBuffer {
    pub fn push(&mut self, chunk: &[u8]) {
        let text = String::from_utf8_lossy(chunk);
        for (i, piece) in text.split('\n').enumerate() {
            if i > 0 {
                let line = std::mem::take(&mut self.partial);
                if self.lines.len() == LOG_LINES {
                    self.lines.pop_front();
                }
                self.lines.push_back(line);
            }
            self.partial.push_str(piece);
        }
    }
}

/// A read-only text view of one pod (describe or YAML).
#[derive(Debug, Clone, PartialEq)]
pub struct Viewer {
    pub kind: ViewKind,
    pub key: ObjKey,
    pub scroll: u16,
}

/// What the one-line prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// `:` commands.
    Command,
    /// `/` pod filter.
    Filter,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

/// What a confirmation popup asks about (a destructive action waits for `y`).
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Delete a pod (`kubectl delete pod`).
    DeletePod(ObjKey),
    /// Cordon the node and evict its pods (`kubectl drain NODE --force`).
    Drain(String),
    /// Stop the node's kubelet.
    StopKubelet(String),
    /// SIGKILL a container's running instance.
    Kill { key: ObjKey, container: String },
}

/// What the container chooser is choosing for (`kubectl` needs `-c` for multi-container pods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChooseFor {
    Logs,
    Kill,
}

/// The container chooser: a pod's containers, the highlighted one, and what it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Chooser {
    pub key: ObjKey,
    pub containers: Vec<String>,
    pub index: usize,
    pub purpose: ChooseFor,
}

/// Where the last frame drew each pod row and node, so a mouse click can be matched to what
/// is under it. The view writes it while drawing (the only thing drawing writes); `update`
/// reads it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Hits {
    pub pods: Vec<(ratatui::layout::Rect, ObjKey)>,
    pub nodes: Vec<(ratatui::layout::Rect, String)>,
}

impl Hits {
    pub fn clear(&mut self) {
        self.pods.clear();
        self.nodes.clear();
    }

    fn find<T: Clone>(list: &[(ratatui::layout::Rect, T)], column: u16, row: u16) -> Option<T> {
        let at = ratatui::layout::Position::new(column, row);
        list.iter()
            .find(|(r, _)| r.contains(at))
            .map(|(_, v)| v.clone())
    }

    pub fn pod_at(&self, column: u16, row: u16) -> Option<ObjKey> {
        Self::find(&self.pods, column, row)
    }

    pub fn node_at(&self, column: u16, row: u16) -> Option<String> {
        Self::find(&self.nodes, column, row)
    }
}

/// A line at the bottom that says what just happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

#[derive(Debug)]
pub struct State {
    pub model: Model,
    pub traces: Traces,
    pub playback: Playback,
    /// The selected pod (kept by key, so it stays selected as others come and go).
    pub selected: Option<ObjKey>,
    /// The sample picker, with the highlighted sample.
    pub picker: Option<usize>,
    pub editor: Option<Editor>,
    pub viewer: Option<Viewer>,
    /// The destructive action that waits for confirmation.
    pub confirm: Option<Confirm>,
    /// The container chooser (logs or kill of a multi-container pod).
    pub chooser: Option<Chooser>,
    /// Keys move the node selection (tab switches pods ↔ nodes).
    pub node_focus: bool,
    /// The selected node, by name.
    pub selected_node: Option<String>,
    /// The nodes as a table (`:nodes`) instead of boxes beside the pods.
    pub node_table: bool,
    /// The scheduler's queue as last read, while the queue view is open.
    pub queue: Option<Vec<QueueRow>>,
    /// Where the last frame drew pods and nodes (for mouse clicks).
    pub hits: std::cell::RefCell<Hits>,
    /// Nodes whose kubelet this TUI stopped (a kubelet's switch is not in the API).
    pub stopped_kubelets: std::collections::BTreeSet<String>,
    pub help: bool,
    pub info: ClusterInfo,
    pub theme: Theme,
    /// The wall clock ages are computed from.
    pub now: Timestamp,
    pub flash: Option<Flash>,
    /// The scheduler's recorded attempts for the pod of the Why view, as last loaded.
    pub decisions: Option<(ObjKey, Vec<DecisionRecord>)>,
    /// The open prompt, if any.
    pub prompt: Option<Prompt>,
    /// Only pods whose `namespace/name` contains this are listed (empty: all).
    pub filter: String,
    /// The output the logs view shows.
    pub logs: Option<LogBuffer>,
    /// Steps the TUI missed because it fell behind the bus.
    pub lagged: u64,
    /// Step mode: on, with the steps waiting at the trace gate (oldest first); `None`: off.
    pub step_mode: Option<Vec<Held>>,
    /// Something changed since the last frame.
    pub dirty: bool,
}

impl State {
    pub fn new(info: ClusterInfo, theme: Theme, now: Timestamp) -> State {
        State {
            model: Model::default(),
            traces: Traces::default(),
            playback: Playback::default(),
            selected: None,
            picker: None,
            editor: None,
            viewer: None,
            confirm: None,
            chooser: None,
            node_focus: false,
            node_table: false,
            hits: Default::default(),
            queue: None,
            selected_node: None,
            stopped_kubelets: Default::default(),
            help: false,
            info,
            theme,
            now,
            flash: None,
            decisions: None,
            logs: None,
            prompt: None,
            filter: String::new(),
            lagged: 0,
            step_mode: None,
            dirty: true,
        }
    }

    /// The keymap in force: that of the topmost thing on screen.
    pub fn mode(&self) -> Mode {
        if self.help {
            Mode::Help
        } else {
            self.base_mode()
        }
    }

    /// The mode under the help screen.
    pub fn base_mode(&self) -> Mode {
        if self.prompt.is_some() {
            Mode::Prompt
        } else if self.confirm.is_some() {
            Mode::Confirm
        } else if self.chooser.is_some() {
            Mode::Chooser
        } else if self.editor.is_some() {
            Mode::Editor
        } else if self.picker.is_some() {
            Mode::Picker
        } else if self.viewer.is_some() {
            Mode::Viewer
        } else if self.node_focus {
            Mode::Nodes
        } else {
            Mode::Cluster
        }
    }

    /// The pods the table lists: all, or those the filter matches.
    pub fn listed(&self) -> impl DoubleEndedIterator<Item = (&ObjKey, &PodRow)> {
        self.listed_in(..)
    }

    /// The listed pods whose keys are in `range`: a walk from a key, not from the first pod.
    pub fn listed_in<'a, R: RangeBounds<ObjKey>>(
        &'a self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = (&'a ObjKey, &'a PodRow)> + 'a {
        let mut filter = Filter::new(&self.filter);
        self.model
            .pods
            .items
            .range(range)
            .filter(move |(k, _)| filter.matches(k))
    }

    /// The selected pod, if it exists and the filter lists it.
    pub fn selected_listed(&self) -> Option<(&ObjKey, &PodRow)> {
        let key = self.selected.as_ref()?;
        self.model
            .pods
            .items
            .get_key_value(key)
            .filter(|(k, _)| Filter::new(&self.filter).matches(k))
    }

    /// The store revision last seen (from the trace bus's commits).
    pub fn revision(&self) -> u64 {
        self.traces.max_rev
    }
}

/// The `/` filter: a case-insensitive substring of `namespace/name`.
struct Filter {
    lower: String,
    /// `namespace/name` of the key being matched (reused: no allocation per pod).
    buf: String,
}

impl Filter {
    fn new(filter: &str) -> Filter {
        Filter {
            lower: filter.to_lowercase(),
            buf: String::new(),
        }
    }

    fn matches(&mut self, (ns, name): &ObjKey) -> bool {
        if self.lower.is_empty() {
            return true;
        }
        self.buf.clear();
        for part in [ns.as_str(), "/", name.as_str()] {
            // Names are lowercase when the API validated them; others are lowered here.
            if part.bytes().any(|b| b.is_ascii_uppercase()) || !part.is_ascii() {
                self.buf.push_str(&part.to_lowercase());
            } else {
                self.buf.push_str(part);
            }
        }
        self.buf.contains(&self.lower)
    }
}
