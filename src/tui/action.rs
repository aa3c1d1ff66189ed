//! Everything that can happen to the TUI ([`Action`]), and the side effects `update` asks the
//! event loop to carry out ([`Effect`]); their results come back as actions.

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use ratatui::crossterm::event::KeyEvent;

use super::keymap::Command;
use super::model::ObjKey;
use crate::api::ApiError;
use crate::api::runtime::watcher;
use crate::scheduler::run::DecisionRecord;
use crate::trace::{Held, Step};

#[derive(Debug)]
pub enum Action {
    /// A key bound in the current mode.
    Command(Command),
    /// A key for the editor's text.
    EditorKey(KeyEvent),
    /// A key for the prompt's text.
    PromptKey(KeyEvent),
    /// A left click at this cell (column, row).
    Click(u16, u16),
    /// The mouse wheel: lines down (positive) or up.
    Wheel(i16),
    /// The terminal changed size (a redraw is enough).
    Resize,
    /// An animation frame is due.
    Frame(Instant),
    /// The wall clock moved (ages).
    Clock(Timestamp),
    Pod(Box<watcher::Event<Pod>>),
    Node(Box<watcher::Event<Node>>),
    Event(Box<watcher::Event<Event>>),
    /// A step from the trace bus.
    Step(Arc<Step>),
    /// The TUI fell behind the trace bus by this many steps.
    Lagged(u64),
    /// The API server's answer to an apply from the editor.
    Applied(Result<ObjKey, ApiError>),
    /// The API server's answer to a cordon or uncordon.
    Cordoned(String, bool, Result<(), ApiError>),
    /// The API server's answer to a delete.
    Deleted(ObjKey, Result<(), ApiError>),
    /// The scheduler's recorded attempts for a pod (answer to [`Effect::LoadDecisions`]).
    Decisions(ObjKey, Vec<DecisionRecord>),
    /// Output of the followed container (of request `generation`).
    LogChunk(u64, bytes::Bytes),
    /// The followed output ended (an error, or the container's output ended).
    LogEnd(u64, Option<String>),
    /// The trace gate changed: step mode on or off, and the steps waiting at it.
    Gate {
        on: bool,
        held: Vec<Held>,
    },
    /// A drain's outcome: the pods evicted, or the first refusal.
    Drained(String, Result<usize, ApiError>),
    /// The node's kubelet is now running (`true`) or stopped.
    KubeletSwitched(String, bool),
    /// The kubelet's answer to a kill: `Err` is its text (`container not found ("app")`).
    Killed(ObjKey, String, Result<(), String>),
    /// The scheduler's queue (answer to [`Effect::LoadQueue`]).
    Queue(Vec<super::state::QueueRow>),
    /// SIGINT or SIGTERM.
    Signal,
}

/// What `update` wants done outside the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Create `pod` (new) or replace the pod at `replace`.
    Apply {
        pod: Box<Pod>,
        replace: Option<ObjKey>,
    },
    Delete(ObjKey),
    /// Read the scheduler's decision records for a pod.
    LoadDecisions(ObjKey),
    /// Follow a container's output (replacing any other); chunks come back as
    /// [`Action::LogChunk`] with `generation`.
    FollowLogs {
        key: ObjKey,
        container: String,
        previous: bool,
        generation: u64,
    },
    /// Stop following.
    StopLogs,
    /// Read the scheduler's queue (every second while the queue view is open).
    LoadQueue,
    /// Mark a node unschedulable (`kubectl cordon`) or schedulable again.
    Cordon {
        node: String,
        cordon: bool,
    },
    /// Turn step mode on or off.
    StepMode(bool),
    /// Let the oldest step waiting at the gate through.
    StepNext,
    /// Cordon the node, then evict each of its pods through `pods/eviction`
    /// (`kubectl drain NODE --force`: mirror pods are skipped).
    Drain(String),
    /// Start (`true`) or stop the node's kubelet (`Kubelet::set_running`).
    SwitchKubelet {
        node: String,
        running: bool,
    },
    /// SIGKILL the running instance of a container (`Kubelet::kill_container`).
    Kill {
        key: ObjKey,
        container: String,
    },
    Quit,
}
