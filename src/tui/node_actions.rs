//! What the TUI does to nodes and containers, as `update` steps (no I/O): the node selection
//! (tab switches the keys from the pods to the nodes), cordon, uncordon, drain and the kubelet's
//! switch on the selected node, killing a container of the selected pod, the container chooser
//! (logs and kill of a multi-container pod, as kubectl asks for `-c`), and the confirmations
//! destructive actions wait for.

use super::action::Effect;
use super::keymap::Command;
use super::model::ObjKey;
use super::state::{ChooseFor, Chooser, Confirm, Flash, State};
use crate::api::ApiError;

fn flash(state: &mut State, text: String, error: bool) {
    state.flash = Some(Flash { text, error });
}

fn node_names(state: &State) -> Vec<String> {
    state
        .model
        .nodes
        .items
        .keys()
        .map(|k| k.1.clone())
        .collect()
}

/// Tab: the keys move between the pods and the nodes; the first node is selected at first.
pub fn switch_focus(state: &mut State) {
    state.node_focus = !state.node_focus;
    // Leaving the nodes leaves their table too.
    state.node_table &= state.node_focus;
    if state.node_focus {
        let names = node_names(state);
        if !state
            .selected_node
            .as_ref()
            .is_some_and(|n| names.contains(n))
        {
            state.selected_node = names.into_iter().next();
        }
    }
}

/// The keys of the nodes mode.
pub fn nodes_command(state: &mut State, c: Command) -> Option<Effect> {
    let names = node_names(state);
    let at = state
        .selected_node
        .as_ref()
        .and_then(|n| names.iter().position(|x| x == n));
    let node = at.map(|i| names[i].clone());
    let needs_node = |state: &mut State| {
        if node.is_none() {
            flash(state, "no node registered yet".into(), true);
        }
        node.clone()
    };
    match c {
        Command::SwitchFocus | Command::Close => switch_focus(state),
        Command::Down | Command::Up if !names.is_empty() => {
            let i = at.unwrap_or(0);
            let next = if c == Command::Down {
                (i + 1).min(names.len() - 1)
            } else {
                i.saturating_sub(1)
            };
            state.selected_node = Some(names[next].clone());
        }
        Command::Cordon | Command::Uncordon => {
            if let Some(node) = needs_node(state) {
                return Some(Effect::Cordon {
                    node,
                    cordon: c == Command::Cordon,
                });
            }
        }
        Command::Drain => {
            if let Some(node) = needs_node(state) {
                state.confirm = Some(Confirm::Drain(node));
            }
        }
        Command::Kubelet => {
            if let Some(node) = needs_node(state) {
                if state.stopped_kubelets.contains(&node) {
                    return Some(Effect::SwitchKubelet {
                        node,
                        running: true,
                    });
                }
                state.confirm = Some(Confirm::StopKubelet(node));
            }
        }
        _ => {}
    }
    None
}

/// The containers of a pod, in its spec's order.
fn containers(state: &State, key: &ObjKey) -> Vec<String> {
    state
        .model
        .pod(key)
        .and_then(|p| {
            let spec = p.spec.as_ref()?;
            Some(spec.containers.iter().map(|c| c.name.clone()).collect())
        })
        .unwrap_or_default()
}

/// Logs or kill of `key`: with one container it is that one; with more, the chooser asks.
/// `Ok(container)` when there is nothing to ask.
pub fn choose_container(
    state: &mut State,
    key: ObjKey,
    purpose: ChooseFor,
) -> Option<Result<String, ()>> {
    let containers = containers(state, &key);
    match containers.len() {
        0 => {
            flash(state, format!("pod {}/{} is gone", key.0, key.1), true);
            None
        }
        1 => containers.into_iter().next().map(Ok),
        _ => {
            state.chooser = Some(Chooser {
                key,
                containers,
                index: 0,
                purpose,
            });
            Some(Err(()))
        }
    }
}

/// ctrl-k on a pod: which container, then the confirmation.
pub fn kill(state: &mut State, key: ObjKey) {
    if let Some(Ok(container)) = choose_container(state, key.clone(), ChooseFor::Kill) {
        state.confirm = Some(Confirm::Kill { key, container });
    }
}

/// The chooser's keys; `Ok((key, container, purpose))` when one was taken.
pub fn chooser_command(state: &mut State, c: Command) -> Option<(ObjKey, String, ChooseFor)> {
    let chooser = state.chooser.as_mut()?;
    let last = chooser.containers.len().saturating_sub(1);
    match c {
        Command::Down => chooser.index = (chooser.index + 1).min(last),
        Command::Up => chooser.index = chooser.index.saturating_sub(1),
        Command::Close => state.chooser = None,
        Command::Choose => {
            let chooser = state.chooser.take()?;
            let container = chooser.containers.get(chooser.index)?.clone();
            return Some((chooser.key, container, chooser.purpose));
        }
        _ => {}
    }
    None
}

/// `y` on a confirmation.
pub fn confirmed(confirm: Confirm) -> Effect {
    match confirm {
        Confirm::DeletePod(key) => Effect::Delete(key),
        Confirm::Drain(node) => Effect::Drain(node),
        Confirm::StopKubelet(node) => Effect::SwitchKubelet {
            node,
            running: false,
        },
        Confirm::Kill { key, container } => Effect::Kill { key, container },
    }
}

pub fn drained(state: &mut State, node: String, result: Result<usize, ApiError>) {
    match result {
        Ok(n) => flash(
            state,
            format!(
                "node/{node} cordoned, {n} pod(s) evicted: each got DisruptionTarget and a \
                 graceful delete; bare pods are not recreated elsewhere"
            ),
            false,
        ),
        Err(e) => flash(state, format!("drain {node}: {e}"), true),
    }
}

pub fn kubelet_switched(state: &mut State, node: String, running: bool) {
    if running {
        state.stopped_kubelets.remove(&node);
        flash(
            state,
            format!("kubelet on {node} started: it renews its lease and adopts its containers"),
            false,
        );
    } else {
        state.stopped_kubelets.insert(node.clone());
        flash(
            state,
            format!(
                "kubelet on {node} stopped: its containers keep running; after 40s without a \
                 heartbeat the node lifecycle controller marks it Unknown and taints it unreachable"
            ),
            false,
        );
    }
}

pub fn killed(state: &mut State, key: ObjKey, container: String, result: Result<(), String>) {
    match result {
        Ok(()) => flash(
            state,
            format!(
                "container {container} of {}/{} killed (SIGKILL, exit code 137): the kubelet \
                 notices and restarts it per restartPolicy",
                key.0, key.1
            ),
            false,
        ),
        Err(e) => flash(state, format!("kill {container}: {e}"), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::runtime::watcher;
    use crate::tui::action::Action;
    use crate::tui::keymap::Mode;
    use crate::tui::state::ClusterInfo;
    use crate::tui::theme::Theme;
    use crate::tui::update::update;
    use k8s_openapi::api::core::v1::{Node, Pod};

    fn state() -> State {
        let mut s = State::new(
            ClusterInfo::default(),
            Theme::dark(),
            "2026-01-01T00:00:00Z".parse().unwrap(),
        );
        for i in 1..=3 {
            let node: Node = serde_json::from_value(
                serde_json::json!({"metadata": {"name": format!("node-{i}")}}),
            )
            .unwrap();
            update(
                &mut s,
                Action::Node(Box::new(watcher::Event::Apply(node.into()))),
            );
        }
        s
    }

    fn pod(s: &mut State, name: &str, containers: &[&str]) {
        let containers: Vec<_> = containers
            .iter()
            .map(|c| serde_json::json!({"name": c, "image": "busybox:1.36"}))
            .collect();
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": containers, "nodeName": "node-1"},
        }))
        .unwrap();
        update(s, Action::Pod(Box::new(watcher::Event::Apply(pod.into()))));
    }

    fn cmd(s: &mut State, c: Command) -> Option<Effect> {
        update(s, Action::Command(c))
    }

    #[test]
    fn tab_selects_a_node_and_its_keys_act_on_it() {
        let mut s = state();
        assert_eq!(s.mode(), Mode::Cluster);
        cmd(&mut s, Command::SwitchFocus);
        assert_eq!(s.mode(), Mode::Nodes);
        assert_eq!(s.selected_node.as_deref(), Some("node-1"));
        cmd(&mut s, Command::Down);
        cmd(&mut s, Command::Down);
        cmd(&mut s, Command::Down);
        assert_eq!(s.selected_node.as_deref(), Some("node-3"));
        assert_eq!(
            cmd(&mut s, Command::Cordon),
            Some(Effect::Cordon {
                node: "node-3".into(),
                cordon: true
            })
        );
        // Drain asks first; no answers nothing.
        assert_eq!(cmd(&mut s, Command::Drain), None);
        assert_eq!(s.confirm, Some(Confirm::Drain("node-3".into())));
        assert_eq!(cmd(&mut s, Command::No), None);
        assert_eq!(cmd(&mut s, Command::Drain), None);
        assert_eq!(
            cmd(&mut s, Command::Yes),
            Some(Effect::Drain("node-3".into()))
        );
        cmd(&mut s, Command::SwitchFocus);
        assert_eq!(s.mode(), Mode::Cluster);
    }

    #[test]
    fn the_kubelet_key_stops_after_asking_and_starts_without() {
        let mut s = state();
        cmd(&mut s, Command::SwitchFocus);
        assert_eq!(cmd(&mut s, Command::Kubelet), None);
        assert_eq!(s.confirm, Some(Confirm::StopKubelet("node-1".into())));
        let stop = cmd(&mut s, Command::Yes);
        assert_eq!(
            stop,
            Some(Effect::SwitchKubelet {
                node: "node-1".into(),
                running: false
            })
        );
        update(&mut s, Action::KubeletSwitched("node-1".into(), false));
        assert_eq!(
            cmd(&mut s, Command::Kubelet),
            Some(Effect::SwitchKubelet {
                node: "node-1".into(),
                running: true
            })
        );
    }

    #[test]
    fn kill_asks_which_container_of_a_multi_container_pod() {
        let mut s = state();
        pod(&mut s, "one", &["app"]);
        assert_eq!(cmd(&mut s, Command::Kill), None);
        assert_eq!(
            s.confirm,
            Some(Confirm::Kill {
                key: ("default".into(), "one".into()),
                container: "app".into()
            })
        );
        cmd(&mut s, Command::No);
        pod(&mut s, "two", &["web", "client"]);
        cmd(&mut s, Command::Down);
        assert_eq!(s.selected.as_ref().map(|k| k.1.as_str()), Some("two"));
        cmd(&mut s, Command::Kill);
        assert_eq!(s.mode(), Mode::Chooser);
        cmd(&mut s, Command::Down);
        cmd(&mut s, Command::Choose);
        assert_eq!(
            cmd(&mut s, Command::Yes),
            Some(Effect::Kill {
                key: ("default".into(), "two".into()),
                container: "client".into()
            })
        );
    }

    #[test]
    fn logs_of_a_multi_container_pod_ask_which_container() {
        let mut s = state();
        pod(&mut s, "two", &["web", "client"]);
        assert_eq!(cmd(&mut s, Command::Logs), None);
        assert_eq!(s.mode(), Mode::Chooser);
        cmd(&mut s, Command::Down);
        let effect = cmd(&mut s, Command::Choose);
        assert!(
            matches!(&effect, Some(Effect::FollowLogs { container, .. }) if container == "client"),
            "{effect:?}"
        );
        assert_eq!(s.logs.as_ref().unwrap().container, "client");
        // p (the previous instance) keeps the chosen container.
        let effect = cmd(&mut s, Command::Previous);
        assert!(
            matches!(&effect, Some(Effect::FollowLogs { container, previous: true, .. }) if container == "client"),
            "{effect:?}"
        );
    }
}
