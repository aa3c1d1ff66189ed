//! Snapshots of each screen at fixed sizes on ratatui's `TestBackend`. The fixtures are API
//! objects and trace steps shaped as the control plane writes them; the clock is fixed, so ages
//! are stable, and no uid is ever drawn.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::render;
use crate::api::runtime::watcher;
use crate::trace::{Actor, Step};
use crate::tui::action::Action;
use crate::tui::keymap::Command;
use crate::tui::state::{ClusterInfo, State};
use crate::tui::theme::Theme;
use crate::tui::update::update;

fn info() -> ClusterInfo {
    ClusterInfo {
        runtime: "runtime: simulated (--runtime sim)".into(),
        api: Some("http://127.0.0.1:6443".into()),
        kubeconfig: "/data/kubox/kubeconfig".into(),
        store_file: "/data/kubox/kubox.redb".into(),
        log_file: None,
    }
}

fn node(i: usize) -> Node {
    let zone = ["zone-a", "zone-b", "zone-c"][(i - 1) % 3];
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("node-{i}"), "labels": {
            "topology.kubernetes.io/zone": zone
        }},
        "spec": {},
        "status": {
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]
        }
    }))
    .unwrap()
}

fn state(theme: Theme) -> State {
    let mut s = State::new(info(), theme, "2026-01-01T00:10:00Z".parse().unwrap());
    let mut nodes = vec![watcher::Event::Init];
    nodes.extend((1..=3).map(|i| watcher::Event::InitApply(node(i).into())));
    nodes.push(watcher::Event::InitDone);
    for ev in nodes {
        update(&mut s, Action::Node(Box::new(ev)));
    }
    for ev in [watcher::Event::Init, watcher::Event::InitDone] {
        update(&mut s, Action::Pod(Box::new(ev)));
    }
    for ev in [watcher::Event::Init, watcher::Event::InitDone] {
        update(&mut s, Action::Event(Box::new(ev)));
    }
    s.traces.max_rev = 18;
    s
}

fn pending_pod() -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "too-big", "namespace": "default",
            "creationTimestamp": "2026-01-01T00:09:00Z", "uid": "0b5e"},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
            "resources": {"requests": {"cpu": "64", "memory": "1Gi"}}}]},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu."}]}
    }))
    .unwrap()
}

fn running_pod() -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "hello", "namespace": "default",
            "creationTimestamp": "2026-01-01T00:08:00Z", "uid": "7f3a"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "busybox:1.36",
            "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}}]},
        "status": {
            "phase": "Running", "podIP": "10.88.0.3", "hostIP": "172.18.0.2",
            "startTime": "2026-01-01T00:08:00Z",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "True"}
            ],
            "containerStatuses": [{"name": "app", "image": "busybox:1.36", "imageID": "",
                "ready": true, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": "2026-01-01T00:08:00Z"}}}]
        }
    }))
    .unwrap()
}

fn step(seq: u64, ms: f64, from: Actor, to: Actor, key: &str, what: &str) -> Arc<Step> {
    Arc::new(Step {
        seq,
        at: Duration::from_secs_f64(ms / 1000.0),
        from,
        to,
        key: key.into(),
        rev: None,
        what: what.into(),
        took: None,
        progress: None,
    })
}

/// The steps a pod's creation records, as the control plane wrote them in a real run.
fn hello_steps() -> Vec<Arc<Step>> {
    let k = "/registry/pods/default/hello";
    let kubelet = || Actor::Kubelet("node-1".into());
    let mut steps = vec![
        step(1, 0.0, Actor::You, Actor::ApiServer, k, "POST pods"),
        step(2, 2.7, Actor::ApiServer, Actor::Store, k, "commit create"),
        step(3, 2.9, Actor::ApiServer, Actor::You, k, "201 Created"),
        step(4, 3.3, Actor::Store, Actor::Scheduler, k, "watch ADDED"),
        step(
            5,
            3.7,
            Actor::Scheduler,
            Actor::Scheduler,
            k,
            "filter 3 nodes, 3 feasible",
        ),
        step(
            6,
            3.7,
            Actor::Scheduler,
            Actor::Scheduler,
            k,
            "score → node-1",
        ),
        step(
            7,
            3.8,
            Actor::Scheduler,
            Actor::ApiServer,
            k,
            "POST binding pods",
        ),
        step(8, 5.1, Actor::ApiServer, Actor::Store, k, "commit update"),
        step(9, 5.4, Actor::Store, kubelet(), k, "watch ADDED"),
        step(10, 9.1, kubelet(), Actor::ApiServer, k, "status Pending"),
        step(11, 11.0, kubelet(), Actor::Docker, k, "create sandbox"),
        step(12, 23.0, kubelet(), Actor::Docker, k, "start app"),
        step(13, 26.0, kubelet(), Actor::ApiServer, k, "status Running"),
    ];
    let revs = [(2, 19), (3, 19), (4, 19), (8, 20), (9, 20)];
    for (seq, rev) in revs {
        let s = Arc::make_mut(&mut steps[seq - 1]);
        s.rev = Some(rev);
    }
    Arc::make_mut(&mut steps[1]).took = Some(Duration::from_micros(1500));
    Arc::make_mut(&mut steps[11]).took = Some(Duration::from_micros(3200));
    steps
}

fn with_pod(mut s: State, pod: Pod, steps: Vec<Arc<Step>>) -> State {
    for st in steps {
        update(&mut s, Action::Step(st));
    }
    update(
        &mut s,
        Action::Pod(Box::new(watcher::Event::Apply(pod.into()))),
    );
    s
}

fn draw(s: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(f, s)).unwrap();
    t
}

#[test]
fn empty_cluster() {
    let s = state(Theme::dark());
    insta::assert_snapshot!("empty_200x50", draw(&s, 200, 50).backend());
    insta::assert_snapshot!("empty_80x24", draw(&s, 80, 24).backend());
}

#[test]
fn pending_pod_at_both_sizes() {
    let k = "/registry/pods/default/too-big";
    let steps = vec![
        step(1, 0.0, Actor::You, Actor::ApiServer, k, "POST pods"),
        step(2, 1.9, Actor::ApiServer, Actor::Store, k, "commit create"),
        step(3, 2.1, Actor::ApiServer, Actor::You, k, "201 Created"),
        step(4, 2.4, Actor::Store, Actor::Scheduler, k, "watch ADDED"),
        step(
            5,
            2.9,
            Actor::Scheduler,
            Actor::Scheduler,
            k,
            "filter 3 nodes, 0 feasible",
        ),
    ];
    let s = with_pod(state(Theme::dark()), pending_pod(), steps);
    insta::assert_snapshot!("pending_200x50", draw(&s, 200, 50).backend());
    insta::assert_snapshot!("pending_80x24", draw(&s, 80, 24).backend());
}

#[test]
fn running_pod_with_its_sequence() {
    let s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    insta::assert_snapshot!("running_200x50", draw(&s, 200, 50).backend());
    insta::assert_snapshot!("running_80x24", draw(&s, 80, 24).backend());
}

#[test]
fn step_mode_holds_the_scheduler() {
    let mut pod = running_pod();
    pod.spec.as_mut().unwrap().node_name = None;
    pod.status = Some(serde_json::from_value(serde_json::json!({"phase": "Pending"})).unwrap());
    let steps = hello_steps().into_iter().take(4).collect();
    let mut s = with_pod(state(Theme::dark()), pod, steps);
    // Let the four steps' arrows finish drawing, as they would have while the pod waited.
    let later = std::time::Instant::now() + Duration::from_secs(60);
    update(&mut s, Action::Frame(later));
    let held = |id, from, to, what: &str| crate::trace::Held {
        id,
        from,
        to,
        key: "/registry/pods/default/hello".into(),
        what: what.into(),
        since: Duration::from_millis(4),
    };
    update(
        &mut s,
        Action::Gate {
            on: true,
            held: vec![
                held(
                    0,
                    Actor::Scheduler,
                    Actor::Scheduler,
                    "filter and score the nodes",
                ),
                held(
                    1,
                    Actor::Kubelet("node-2".into()),
                    Actor::ApiServer,
                    "status Running",
                ),
            ],
        },
    );
    insta::assert_snapshot!("step_mode_120x30", draw(&s, 120, 30).backend());
    insta::assert_snapshot!("step_mode_80x24", draw(&s, 80, 24).backend());
    update(
        &mut s,
        Action::Gate {
            on: true,
            held: vec![],
        },
    );
    let text = draw(&s, 120, 30).backend().to_string();
    assert!(text.contains("nothing waits at the gate yet"), "{text}");
    update(
        &mut s,
        Action::Gate {
            on: false,
            held: vec![],
        },
    );
    let text = draw(&s, 120, 30).backend().to_string();
    assert!(
        !text.contains("step mode") && !text.contains("STEP MODE"),
        "{text}"
    );
}

#[test]
fn an_image_pull_is_one_row_with_a_progress_bar() {
    let k = "/registry/pods/default/hello";
    let mut steps: Vec<Arc<Step>> = hello_steps().into_iter().take(4).collect();
    for (seq, done, layers) in [(20, 1_000_000, 0), (21, 2_480_000, 1)] {
        let mut s = (*step(
            seq,
            5.0,
            Actor::Docker,
            Actor::Docker,
            k,
            "pulling nginx:1.27",
        ))
        .clone();
        s.progress = Some(crate::trace::Progress {
            bytes_done: done,
            bytes_total: 4_000_000,
            layers_done: layers,
            layers_total: 3,
        });
        steps.push(Arc::new(s));
    }
    let mut s = with_pod(state(Theme::dark()), running_pod(), steps);
    update(
        &mut s,
        Action::Frame(std::time::Instant::now() + Duration::from_secs(60)),
    );
    let text = draw(&s, 160, 40).backend().to_string();
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("pulling nginx"))
        .collect();
    assert_eq!(rows.len(), 1, "the reports fill one row: {text}");
    assert!(
        rows[0].contains("▕") && rows[0].contains("62% · 1/3 layers · 2.5/4.0 MB"),
        "{}",
        rows[0]
    );
    let narrow = draw(&s, 80, 24).backend().to_string();
    assert!(narrow.contains("62%"), "{narrow}");
}

#[test]
fn crash_loop() {
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "crasher", "namespace": "default",
            "creationTimestamp": "2026-01-01T00:09:00Z", "uid": "c1"},
        "spec": {"nodeName": "node-2", "containers": [{"name": "app", "image": "busybox:1.36"}]},
        "status": {
            "phase": "Running", "podIP": "10.88.0.4",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "app", "image": "busybox:1.36", "imageID": "",
                "ready": false, "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": "back-off 40s restarting failed container=app"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                    "startedAt": "2026-01-01T00:09:40Z", "finishedAt": "2026-01-01T00:09:55Z"}}}]
        }
    }))
    .unwrap();
    let s = with_pod(state(Theme::dark()), pod, Vec::new());
    insta::assert_snapshot!("crash_loop_120x30", draw(&s, 120, 30).backend());
}

#[test]
fn why_a_pod_is_pending() {
    use crate::scheduler::framework::{Code, Status};
    use crate::scheduler::run::DecisionRecord;
    use crate::scheduler::schedule_one::{Decision, NodeVerdict, Outcome};
    let mut s = with_pod(state(Theme::dark()), pending_pod(), Vec::new());
    let verdict = |node: &str| NodeVerdict {
        node: node.into(),
        status: Status {
            code: Code::Unschedulable,
            reasons: vec!["Insufficient cpu".into()],
            plugin: "NodeResourcesFit",
        },
    };
    let decision = Decision {
        outcome: Outcome::Unschedulable {
            message: "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are \
                      available: 3 No preemption victims found for incoming pod."
                .into(),
        },
        verdicts: vec![verdict("node-1"), verdict("node-2"), verdict("node-3")],
        scores: Default::default(),
        nodes_total: 3,
        nodes_feasible: 0,
        sampled: false,
        post_filter: None,
        unschedulable_plugins: vec!["NodeResourcesFit"],
    };
    let record = DecisionRecord {
        pod: "default/too-big".into(),
        attempt: 1,
        at: "2026-01-01T00:09:00Z".parse().unwrap(),
        decision: Arc::new(decision),
    };
    let effect = update(&mut s, Action::Command(Command::Why));
    let key = ("default".to_string(), "too-big".to_string());
    assert_eq!(
        effect,
        Some(crate::tui::action::Effect::LoadDecisions(key.clone()))
    );
    update(&mut s, Action::Decisions(key, vec![record]));
    insta::assert_snapshot!("why_pending_100x30", draw(&s, 100, 30).backend());
}

#[test]
fn filter_prompt() {
    let mut s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    update(
        &mut s,
        Action::Pod(Box::new(watcher::Event::Apply(pending_pod().into()))),
    );
    update(&mut s, Action::Command(Command::Filter));
    for c in "too".chars() {
        update(
            &mut s,
            Action::PromptKey(ratatui::crossterm::event::KeyEvent::from(
                ratatui::crossterm::event::KeyCode::Char(c),
            )),
        );
    }
    insta::assert_snapshot!("filter_80x24", draw(&s, 80, 24).backend());
}

#[test]
fn an_arrow_half_drawn() {
    let mut s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    s.playback.shown = 6;
    s.playback.progress = 0.5;
    insta::assert_snapshot!("animating_120x30", draw(&s, 120, 30).backend());
}

#[test]
fn editor_with_a_yaml_error() {
    let mut s = state(Theme::dark());
    update(&mut s, Action::Command(Command::New));
    update(&mut s, Action::Command(Command::Choose));
    // Break the sample: an unclosed flow sequence on the name's line (`  name: [hello`).
    {
        let e = s.editor.as_mut().unwrap();
        e.text.move_cursor(ratatui_textarea::CursorMove::Jump(9, 8));
        e.text.insert_str("[");
    }
    assert!(update(&mut s, Action::Command(Command::Apply)).is_none());
    insta::assert_snapshot!("editor_error_120x30", draw(&s, 120, 30).backend());
    insta::assert_snapshot!("editor_error_80x24", draw(&s, 80, 24).backend());
}

#[test]
fn describe_with_events() {
    let mut s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    let event: Event = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "hello.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "hello", "namespace": "default"},
        "type": "Normal", "reason": "Scheduled", "count": 1,
        "message": "Successfully assigned default/hello to node-1",
        "firstTimestamp": "2026-01-01T00:08:00Z", "lastTimestamp": "2026-01-01T00:08:00Z",
        "source": {"component": "default-scheduler"}
    }))
    .unwrap();
    update(
        &mut s,
        Action::Event(Box::new(watcher::Event::Apply(event.into()))),
    );
    update(&mut s, Action::Command(Command::Describe));
    insta::assert_snapshot!("describe_100x40", draw(&s, 100, 40).backend());
}

#[test]
fn help_and_confirm() {
    let mut s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    update(&mut s, Action::Command(Command::Delete));
    insta::assert_snapshot!("confirm_80x24", draw(&s, 80, 24).backend());
    update(&mut s, Action::Command(Command::No));
    update(&mut s, Action::Command(Command::Help));
    insta::assert_snapshot!("help_120x40", draw(&s, 120, 40).backend());
}

#[test]
fn light_theme_colours() {
    let s = with_pod(
        state(Theme::builtin("light").unwrap()),
        running_pod(),
        hello_steps(),
    );
    // The Debug form of the buffer lists the styles, so the snapshot holds the colours.
    let t = draw(&s, 80, 24);
    insta::assert_debug_snapshot!("light_80x24", t.backend().buffer());
}

#[test]
fn no_color_draws_no_colour() {
    let s = with_pod(
        state(Theme::dark().without_colour()),
        running_pod(),
        hello_steps(),
    );
    let t = draw(&s, 80, 24);
    for cell in t.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset);
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let mut s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    s.playback.shown = 3;
    s.playback.progress = 0.7;
    let sizes = [
        (1, 1),
        (10, 5),
        (20, 3),
        (40, 10),
        (79, 23),
        (109, 60),
        (300, 100),
    ];
    for (w, h) in sizes {
        draw(&s, w, h);
    }
    for c in [
        Command::Help,
        Command::Close,
        Command::Describe,
        Command::Close,
        Command::New,
    ] {
        update(&mut s, Action::Command(c));
        for (w, h) in sizes {
            draw(&s, w, h);
        }
    }
    update(&mut s, Action::Command(Command::Choose));
    for (w, h) in sizes {
        draw(&s, w, h);
    }
}

#[test]
fn the_picker_scrolls_to_the_highlighted_sample() {
    let mut s = state(Theme::dark());
    update(&mut s, Action::Command(Command::New));
    for _ in 0..crate::tui::samples::SAMPLES.len() {
        update(&mut s, Action::Command(Command::Down));
    }
    insta::assert_snapshot!("picker_last_120x40", draw(&s, 120, 40).backend());
    // 14 rows leave 12 for the list: the last sample is still on screen.
    let t = draw(&s, 120, 14);
    let text: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    let last = crate::tui::samples::SAMPLES.last().unwrap().title;
    assert!(text.contains(last), "{last} is not on screen");
}

#[test]
fn a_selected_node_and_the_drain_confirmation() {
    let mut s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    update(&mut s, Action::Command(Command::SwitchFocus));
    update(&mut s, Action::Command(Command::Down));
    insta::assert_snapshot!("node_selected_120x30", draw(&s, 120, 30).backend());
    insta::assert_snapshot!("node_selected_80x24", draw(&s, 80, 24).backend());
    insta::assert_snapshot!("node_selected_200x50", draw(&s, 200, 50).backend());
    update(&mut s, Action::Command(Command::Drain));
    insta::assert_snapshot!("drain_confirm_120x30", draw(&s, 120, 30).backend());
}

fn run_line(s: &mut State, line: &str) -> Option<crate::tui::action::Effect> {
    s.prompt = Some(crate::tui::state::Prompt {
        kind: crate::tui::state::PromptKind::Command,
        text: line.to_string(),
    });
    update(s, Action::Command(Command::Choose))
}

#[test]
fn the_queue_view_shows_three_lanes_with_countdowns() {
    use crate::scheduler::queue::Lane;
    use crate::tui::state::QueueRow;
    use std::time::Duration;
    let mut s = state(Theme::dark());
    assert_eq!(
        run_line(&mut s, "queue"),
        Some(crate::tui::action::Effect::LoadQueue)
    );
    insta::assert_snapshot!("queue_loading_120x30", draw(&s, 120, 30).backend());
    let row = |key: &str, lane, attempts, retry: Option<f64>| QueueRow {
        key: key.to_string(),
        lane,
        priority: 0,
        attempts,
        retry_in: retry.map(Duration::from_secs_f64),
    };
    update(
        &mut s,
        Action::Queue(vec![
            row("default/fresh", Lane::Active, 0, None),
            row("default/too-big", Lane::Unschedulable, 3, Some(287.2)),
            row("default/lonely-x9dbs", Lane::Backoff, 2, Some(1.4)),
            row("default/now", Lane::InFlight, 1, None),
        ]),
    );
    insta::assert_snapshot!("queue_120x30", draw(&s, 120, 30).backend());
    // The clock reads the queue again while the view is open, and not after.
    let now = s.now;
    assert_eq!(
        update(&mut s, Action::Clock(now)),
        Some(crate::tui::action::Effect::LoadQueue)
    );
    update(&mut s, Action::Command(Command::Close));
    assert_eq!(update(&mut s, Action::Clock(now)), None);
}

#[test]
fn the_nodes_view_is_a_table_with_the_node_keys() {
    let mut s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    run_line(&mut s, "nodes");
    assert_eq!(s.mode(), crate::tui::keymap::Mode::Nodes);
    update(&mut s, Action::KubeletSwitched("node-1".into(), false));
    insta::assert_snapshot!("nodes_view_160x30", draw(&s, 160, 30).backend());
    run_line(&mut s, "pods");
    assert!(!s.node_table && !s.node_focus);
}

#[test]
fn a_click_selects_the_pod_row_or_node_under_it_and_the_wheel_scrolls() {
    let mut s = with_pod(state(Theme::dark()), running_pod(), hello_steps());
    let mut second = running_pod();
    second.metadata.name = Some("world".into());
    update(
        &mut s,
        Action::Pod(Box::new(watcher::Event::Apply(second.into()))),
    );
    let t = draw(&s, 200, 50);
    let text = t.backend().to_string();
    let row_of = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not on screen")) as u16
    };
    // The pods table's row of `world`, clicked in its NAME column.
    let world = row_of("│world ");
    update(&mut s, Action::Click(60, world));
    assert_eq!(s.selected.as_ref().map(|k| k.1.as_str()), Some("world"));
    // The box of node-2, clicked inside.
    let node2 = row_of("node-2 Ready");
    update(&mut s, Action::Click(5, node2 + 2));
    assert_eq!(s.selected_node.as_deref(), Some("node-2"));
    assert!(s.node_focus);
    // The wheel moves the selection as ↓/↑ do, in what has the keys (now the nodes).
    draw(&s, 200, 50);
    update(&mut s, Action::Wheel(3));
    assert_eq!(s.selected_node.as_deref(), Some("node-3"));
    // A click outside anything does nothing.
    update(&mut s, Action::Click(199, 49));
    assert_eq!(s.selected_node.as_deref(), Some("node-3"));
}
