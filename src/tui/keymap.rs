//! Keymaps as data, one table per mode: each binding has its keys, the command it runs and the
//! words the help screen and key bar show (yazi's `{ on, run, desc }`). The keys are k9s's where
//! k9s has one. Text input gets the first refusal: in the editor only the editor's own bindings
//! are looked up, and every other key is typed (so `q` types a q).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Pick a sample and open it in the editor.
    New,
    /// Edit the selected pod.
    Edit,
    Describe,
    Yaml,
    /// The scheduler's decision about the selected pod.
    Why,
    /// The selected pod's container output.
    Logs,
    /// In the logs: the previous instance of the container (after a restart), or back.
    Previous,
    /// Delete the selected pod (asks first).
    Delete,
    Help,
    Faster,
    Slower,
    /// Draw the selected pod's steps again from the first.
    Replay,
    /// Scroll the sequence panel towards the pod's first steps, or back to the latest.
    SequenceBack,
    SequenceForward,
    /// Close the popup or view on top.
    Close,
    /// Take the highlighted entry (the sample picker).
    Choose,
    /// Send the editor's text to the API server.
    Apply,
    Yes,
    No,
    /// Open the command line (`:theme light`, `:quit`).
    CommandLine,
    /// Open the pod filter (`/web`).
    Filter,
    /// Step mode on or off: the control plane waits at the trace gate before each step.
    StepMode,
    /// In step mode: let the oldest waiting step happen.
    StepNext,
    /// Switch the keys between the pods and the nodes.
    SwitchFocus,
    /// The selected node: `kubectl cordon`.
    Cordon,
    /// The selected node: `kubectl uncordon`.
    Uncordon,
    /// The selected node: `kubectl drain --force` (asks first).
    Drain,
    /// The selected node: stop its kubelet (asks first) or start it again.
    Kubelet,
    /// SIGKILL a container of the selected pod (asks first).
    Kill,
}

/// Which table applies: the one of the topmost thing on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Cluster,
    Picker,
    Editor,
    Viewer,
    Confirm,
    /// The one-line prompt (`:` or `/`): like the editor, it takes typed keys first.
    Prompt,
    Help,
    /// Keys act on the selected node.
    Nodes,
    /// Choosing one of a pod's containers.
    Chooser,
}

impl Mode {
    pub fn title(self) -> &'static str {
        match self {
            Mode::Cluster => "cluster",
            Mode::Picker => "choose a sample",
            Mode::Editor => "YAML editor",
            Mode::Viewer => "describe / YAML / why / logs view",
            Mode::Confirm => "confirm",
            Mode::Prompt => "command line / filter",
            Mode::Help => "help",
            Mode::Nodes => "nodes (tab from the pods)",
            Mode::Chooser => "choose a container",
        }
    }

    pub const ALL: [Mode; 9] = [
        Mode::Cluster,
        Mode::Picker,
        Mode::Editor,
        Mode::Viewer,
        Mode::Confirm,
        Mode::Prompt,
        Mode::Help,
        Mode::Nodes,
        Mode::Chooser,
    ];
}

/// A key with its modifiers (shift is part of the character for printable keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn ch(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

impl Key {
    /// The key as the help screen spells it: `q`, `ctrl-s`, `enter`, `↑`.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::PageUp => "pgup".into(),
            KeyCode::PageDown => "pgdn".into(),
            KeyCode::Home => "home".into(),
            KeyCode::End => "end".into(),
            KeyCode::Tab => "tab".into(),
            other => format!("{other:?}").to_lowercase(),
        };
        if self.ctrl {
            format!("ctrl-{base}")
        } else {
            base
        }
    }

    fn matches(&self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl != self.ctrl {
            return false;
        }
        match (self.code, ev.code) {
            // Terminals differ on whether shift comes with an upper-case letter or `?`.
            (KeyCode::Char(a), KeyCode::Char(b)) => a == b,
            (a, b) => a == b,
        }
    }
}

pub struct Binding {
    pub keys: &'static [Key],
    pub command: Command,
    pub desc: &'static str,
    /// Its word in the one-line key bar; empty: only in help.
    pub bar: &'static str,
}

const fn b(
    keys: &'static [Key],
    command: Command,
    desc: &'static str,
    bar: &'static str,
) -> Binding {
    Binding {
        keys,
        command,
        desc,
        bar,
    }
}

const CLUSTER: &[Binding] = &[
    b(&[ch('n')], Command::New, "new pod from a sample", "new"),
    b(&[ch('e')], Command::Edit, "edit the selected pod", "edit"),
    b(
        &[ch('d')],
        Command::Describe,
        "describe the selected pod",
        "describe",
    ),
    b(&[ch('y')], Command::Yaml, "the selected pod's YAML", "yaml"),
    b(
        &[ch('w')],
        Command::Why,
        "why: the scheduler's decision (filters, scores, FailedScheduling)",
        "why",
    ),
    b(
        &[ch('l')],
        Command::Logs,
        "logs of the selected pod (followed; asks which container when it has several)",
        "logs",
    ),
    b(
        &[ctrl('d')],
        Command::Delete,
        "delete the selected pod",
        "delete",
    ),
    b(
        &[ctrl('k')],
        Command::Kill,
        "kill a container of the selected pod (SIGKILL, as docker kill; the kubelet restarts it per restartPolicy)",
        "kill",
    ),
    b(
        &[code(KeyCode::Tab)],
        Command::SwitchFocus,
        "nodes: select a node (cordon, drain, stop its kubelet)",
        "nodes",
    ),
    b(&[ch('?')], Command::Help, "help: every key", "help"),
    b(
        &[ch(':')],
        Command::CommandLine,
        "command line: :nodes, :queue, :events, :pods, :cordon NODE, :uncordon NODE, :theme NAME, :quit",
        "",
    ),
    b(
        &[ch('/')],
        Command::Filter,
        "filter the pods by name (empty: all)",
        "",
    ),
    b(
        &[ch('q'), ctrl('c')],
        Command::Quit,
        "quit (stops the cluster)",
        "quit",
    ),
    b(
        &[ch('j'), code(KeyCode::Down)],
        Command::Down,
        "next pod",
        "",
    ),
    b(
        &[ch('k'), code(KeyCode::Up)],
        Command::Up,
        "previous pod",
        "",
    ),
    b(
        &[code(KeyCode::PageDown)],
        Command::PageDown,
        "a page down",
        "",
    ),
    b(&[code(KeyCode::PageUp)], Command::PageUp, "a page up", ""),
    b(
        &[ch('g'), code(KeyCode::Home)],
        Command::Top,
        "first pod",
        "",
    ),
    b(
        &[ch('G'), code(KeyCode::End)],
        Command::Bottom,
        "last pod",
        "",
    ),
    b(
        &[ch('s')],
        Command::StepMode,
        "step mode: the control plane waits before each step until you let it go on",
        "step",
    ),
    b(
        &[code(KeyCode::Char(' '))],
        Command::StepNext,
        "step mode: let the next waiting step happen",
        "next step",
    ),
    b(
        &[ch('r')],
        Command::Replay,
        "replay the pod's steps",
        "replay",
    ),
    b(
        &[ch('[')],
        Command::SequenceBack,
        "sequence: earlier steps",
        "",
    ),
    b(
        &[ch(']')],
        Command::SequenceForward,
        "sequence: later steps",
        "",
    ),
    b(
        &[ch('+'), ch('>')],
        Command::Faster,
        "animation faster (up to ×4)",
        "faster",
    ),
    b(
        &[ch('-'), ch('<')],
        Command::Slower,
        "animation slower (down to ×0.25)",
        "slower",
    ),
];

/// k9s's node view keys: `c` cordon, `u` uncordon, `r` drain.
const NODES: &[Binding] = &[
    b(
        &[ch('c')],
        Command::Cordon,
        "cordon the node (kubectl cordon: spec.unschedulable)",
        "cordon",
    ),
    b(
        &[ch('u')],
        Command::Uncordon,
        "uncordon the node (kubectl uncordon)",
        "uncordon",
    ),
    b(
        &[ch('r')],
        Command::Drain,
        "drain: cordon, then evict every pod (kubectl drain --force)",
        "drain",
    ),
    b(
        &[ch('s')],
        Command::Kubelet,
        "stop the node's kubelet (asks first) / start it again",
        "kubelet",
    ),
    b(
        &[code(KeyCode::Char(' '))],
        Command::StepNext,
        "step mode: let the next waiting step happen",
        "next step",
    ),
    b(
        &[code(KeyCode::Tab), code(KeyCode::Esc)],
        Command::SwitchFocus,
        "back to the pods",
        "pods",
    ),
    b(
        &[ch('j'), code(KeyCode::Down)],
        Command::Down,
        "next node",
        "",
    ),
    b(
        &[ch('k'), code(KeyCode::Up)],
        Command::Up,
        "previous node",
        "",
    ),
    b(&[ch('?')], Command::Help, "help: every key", "help"),
    b(&[ch(':')], Command::CommandLine, "command line", ""),
    b(
        &[ch('q'), ctrl('c')],
        Command::Quit,
        "quit (stops the cluster)",
        "quit",
    ),
];

const CHOOSER: &[Binding] = &[
    b(
        &[code(KeyCode::Enter)],
        Command::Choose,
        "take this container",
        "choose",
    ),
    b(
        &[ch('j'), code(KeyCode::Down)],
        Command::Down,
        "next container",
        "down",
    ),
    b(
        &[ch('k'), code(KeyCode::Up)],
        Command::Up,
        "previous container",
        "up",
    ),
    b(
        &[code(KeyCode::Esc), ch('q')],
        Command::Close,
        "back",
        "back",
    ),
    b(&[ctrl('c')], Command::Quit, "quit", ""),
];

const PICKER: &[Binding] = &[
    b(
        &[code(KeyCode::Enter)],
        Command::Choose,
        "open the sample in the editor",
        "open",
    ),
    b(
        &[ch('j'), code(KeyCode::Down)],
        Command::Down,
        "next sample",
        "down",
    ),
    b(
        &[ch('k'), code(KeyCode::Up)],
        Command::Up,
        "previous sample",
        "up",
    ),
    b(
        &[code(KeyCode::Esc), ch('q')],
        Command::Close,
        "back",
        "back",
    ),
    b(&[ctrl('c')], Command::Quit, "quit", ""),
];

const EDITOR: &[Binding] = &[
    b(
        &[ctrl('s')],
        Command::Apply,
        "apply: send to the API server",
        "apply",
    ),
    b(
        &[code(KeyCode::Esc)],
        Command::Close,
        "close the editor (text is lost)",
        "close",
    ),
    b(&[ctrl('c')], Command::Quit, "quit kubox", ""),
];

const VIEWER: &[Binding] = &[
    b(
        &[ch('j'), code(KeyCode::Down)],
        Command::Down,
        "scroll down",
        "down",
    ),
    b(
        &[ch('k'), code(KeyCode::Up)],
        Command::Up,
        "scroll up",
        "up",
    ),
    b(
        &[code(KeyCode::PageDown), ch(' ')],
        Command::PageDown,
        "a page down",
        "",
    ),
    b(&[code(KeyCode::PageUp)], Command::PageUp, "a page up", ""),
    b(&[ch('g'), code(KeyCode::Home)], Command::Top, "top", ""),
    b(
        &[ch('G'), code(KeyCode::End)],
        Command::Bottom,
        "bottom",
        "",
    ),
    b(&[ch('e')], Command::Edit, "edit this pod", "edit"),
    b(
        &[ch('p')],
        Command::Previous,
        "logs: the previous container instance (after a restart) / the current one",
        "previous",
    ),
    b(
        &[code(KeyCode::Esc), ch('q')],
        Command::Close,
        "back",
        "back",
    ),
    b(&[ctrl('c')], Command::Quit, "quit", ""),
];

const CONFIRM: &[Binding] = &[
    b(&[ch('y'), code(KeyCode::Enter)], Command::Yes, "yes", "yes"),
    b(
        &[ch('n'), code(KeyCode::Esc), ch('q')],
        Command::No,
        "no",
        "no",
    ),
    b(&[ctrl('c')], Command::Quit, "quit", ""),
];

const HELP: &[Binding] = &[
    b(
        &[code(KeyCode::Esc), ch('q'), ch('?')],
        Command::Close,
        "back",
        "back",
    ),
    b(&[ctrl('c')], Command::Quit, "quit", ""),
];

const PROMPT: &[Binding] = &[
    b(&[code(KeyCode::Enter)], Command::Choose, "run it", "run"),
    b(&[code(KeyCode::Esc)], Command::Close, "cancel", "cancel"),
    b(&[ctrl('c')], Command::Quit, "quit", ""),
];

pub fn bindings(mode: Mode) -> &'static [Binding] {
    match mode {
        Mode::Cluster => CLUSTER,
        Mode::Picker => PICKER,
        Mode::Editor => EDITOR,
        Mode::Viewer => VIEWER,
        Mode::Confirm => CONFIRM,
        Mode::Prompt => PROMPT,
        Mode::Help => HELP,
        Mode::Nodes => NODES,
        Mode::Chooser => CHOOSER,
    }
}

/// The command `key` runs in `mode`, if any. Key releases (kitty protocol) are ignored.
pub fn resolve(mode: Mode, key: &KeyEvent) -> Option<Command> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    bindings(mode)
        .iter()
        .find(|b| b.keys.iter().any(|k| k.matches(key)))
        .map(|b| b.command)
}

/// The keys of a binding as the bar shows them: `j/↓`.
pub fn keys_label(binding: &Binding) -> String {
    binding
        .keys
        .iter()
        .map(Key::label)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl_key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn cluster_keys_are_k9s_keys() {
        let r = |k| resolve(Mode::Cluster, &k);
        assert_eq!(r(key(KeyCode::Char('q'))), Some(Command::Quit));
        assert_eq!(r(key(KeyCode::Char('n'))), Some(Command::New));
        assert_eq!(r(key(KeyCode::Char('e'))), Some(Command::Edit));
        assert_eq!(r(key(KeyCode::Char('d'))), Some(Command::Describe));
        assert_eq!(r(key(KeyCode::Char('y'))), Some(Command::Yaml));
        assert_eq!(r(ctrl_key('d')), Some(Command::Delete));
        assert_eq!(r(key(KeyCode::Char('?'))), Some(Command::Help));
        assert_eq!(r(key(KeyCode::Down)), Some(Command::Down));
        assert_eq!(r(key(KeyCode::Char('['))), Some(Command::SequenceBack));
        assert_eq!(r(key(KeyCode::Char(']'))), Some(Command::SequenceForward));
        assert_eq!(r(key(KeyCode::Char('x'))), None);
    }

    #[test]
    fn node_keys_are_k9s_node_view_keys() {
        let r = |k| resolve(Mode::Nodes, &k);
        assert_eq!(r(key(KeyCode::Char('c'))), Some(Command::Cordon));
        assert_eq!(r(key(KeyCode::Char('u'))), Some(Command::Uncordon));
        assert_eq!(r(key(KeyCode::Char('r'))), Some(Command::Drain));
        assert_eq!(r(key(KeyCode::Tab)), Some(Command::SwitchFocus));
        assert_eq!(
            resolve(Mode::Cluster, &key(KeyCode::Tab)),
            Some(Command::SwitchFocus)
        );
        assert_eq!(resolve(Mode::Cluster, &ctrl_key('k')), Some(Command::Kill));
    }

    #[test]
    fn shifted_question_mark_is_help() {
        let ev = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(resolve(Mode::Cluster, &ev), Some(Command::Help));
    }

    #[test]
    fn the_editor_leaves_printable_keys_to_the_text() {
        assert_eq!(resolve(Mode::Editor, &key(KeyCode::Char('q'))), None);
        assert_eq!(resolve(Mode::Editor, &key(KeyCode::Char('d'))), None);
        assert_eq!(resolve(Mode::Editor, &ctrl_key('s')), Some(Command::Apply));
        assert_eq!(
            resolve(Mode::Editor, &key(KeyCode::Esc)),
            Some(Command::Close)
        );
    }

    #[test]
    fn key_releases_do_nothing() {
        let mut ev = key(KeyCode::Char('q'));
        ev.kind = KeyEventKind::Release;
        assert_eq!(resolve(Mode::Cluster, &ev), None);
    }

    #[test]
    fn every_binding_has_words_and_no_key_is_bound_twice_in_a_mode() {
        for mode in Mode::ALL {
            let mut seen = Vec::new();
            for b in bindings(mode) {
                assert!(!b.desc.is_empty());
                for k in b.keys {
                    assert!(!seen.contains(k), "{mode:?}: {} bound twice", k.label());
                    seen.push(*k);
                }
            }
        }
    }
}
