//! `computePodActions`: what must change for a pod's containers to match its spec, given what the
//! runtime holds and what the probes found — a pure plan (the kubelet's kuberuntime_manager.go,
//! init containers included: one at a time, in order, each to completion before the next and
//! before the app containers). Executing the plan and planning again yields nothing to do.

use std::collections::HashSet;

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};

use super::runtime::{ContainerStatus, PodStatus, State};

/// The probe results that change the plan: running containers, by runtime ID, whose liveness
/// or startup probe failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeVerdicts {
    pub liveness_failed: HashSet<String>,
    pub startup_failed: HashSet<String>,
}

/// Why a running container is stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillReason {
    /// Its spec (the image) changed: `Container app definition changed, will be restarted`.
    SpecChanged,
    /// A container that was created but never started (left over by a failed start).
    NotStarted,
    /// `Container app failed liveness probe, will be restarted`.
    FailedLiveness,
    /// `Container app failed startup probe, will be restarted`.
    FailedStartup,
}

impl KillReason {
    /// The `Killing` event's message, as computePodActions words it.
    pub fn message(&self, name: &str, restart: bool) -> String {
        let what = match self {
            KillReason::SpecChanged => format!("Container {name} definition changed"),
            KillReason::NotStarted => return format!("Stopping container {name}"),
            KillReason::FailedLiveness => format!("Container {name} failed liveness probe"),
            KillReason::FailedStartup => format!("Container {name} failed startup probe"),
        };
        if restart {
            format!("{what}, will be restarted")
        } else {
            what
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodActions {
    /// Stop every container and the sandbox.
    pub kill_pod: bool,
    pub create_sandbox: bool,
    /// The attempt number of the sandbox to create.
    pub sandbox_attempt: u32,
    /// Containers to (re)start, by name, in spec order (or the one init container to run next).
    pub start: Vec<String>,
    /// Exited init container instances to remove before a new sandbox runs them all again.
    pub prune_init: Vec<String>,
    /// Containers to stop: `(id, name, why)`.
    pub kill: Vec<(String, String, KillReason)>,
}

impl PodActions {
    pub fn is_empty(&self) -> bool {
        !self.kill_pod
            && !self.create_sandbox
            && self.start.is_empty()
            && self.kill.is_empty()
            && self.prune_init.is_empty()
    }
}

/// A container of the pod by name, app or init.
pub fn spec_container<'a>(spec: &'a PodSpec, name: &str) -> Option<&'a Container> {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)
}

/// `isInitContainerFailed`.
fn init_failed(c: &ContainerStatus) -> bool {
    match c.state {
        State::Exited => c.exit_code != Some(0),
        State::Unknown => true,
        State::Running | State::Created => false,
    }
}

/// Where the init containers stand (`findNextInitContainerToRun`).
#[derive(Debug, PartialEq, Eq)]
enum InitNext<'a> {
    /// All completed (or an app container already runs): on to the app containers.
    Done,
    /// One is running: wait for it.
    Wait,
    /// Run this one next (again, when it failed).
    Run(&'a str),
    /// One failed and the policy says never again: the pod has failed.
    Failed,
}

fn next_init<'a>(spec: &'a PodSpec, status: &PodStatus, policy: &str) -> InitNext<'a> {
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    if inits.is_empty()
        || spec.containers.iter().any(|c| {
            status
                .latest(&c.name)
                .is_some_and(|s| s.state == State::Running)
        })
    {
        return InitNext::Done;
    }
    for c in inits.iter().rev() {
        if let Some(s) = status.latest(&c.name).filter(|s| init_failed(s)) {
            return if should_restart(policy, s.exit_code) {
                InitNext::Run(&c.name)
            } else {
                InitNext::Failed
            };
        }
    }
    for (i, c) in inits.iter().enumerate().rev() {
        match status.latest(&c.name).map(|s| s.state) {
            None => continue,
            Some(State::Running) => return InitNext::Wait,
            Some(State::Exited) if i + 1 == inits.len() => return InitNext::Done,
            Some(State::Exited) => return InitNext::Run(&inits[i + 1].name),
            Some(State::Created | State::Unknown) => return InitNext::Run(&c.name),
        }
    }
    InitNext::Run(&inits[0].name)
}

/// The pod's `restartPolicy` (`Always` when unset).
pub fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

/// `ShouldContainerBeRestarted` for a container that is not running.
pub fn should_restart(policy: &str, exit_code: Option<i32>) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => exit_code != Some(0),
        _ => true,
    }
}

/// FNV-1a over the container's JSON without `resources` (what `io.kubernetes.container.hash`
/// holds): a changed image or command changes it.
pub fn container_hash(container: &Container) -> u64 {
    let mut c = container.clone();
    c.resources = None;
    let bytes = serde_json::to_vec(&c).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

pub fn compute_pod_actions(pod: &Pod, status: &PodStatus, probes: &ProbeVerdicts) -> PodActions {
    let mut actions = PodActions::default();
    let Some(spec) = pod.spec.as_ref() else {
        return actions;
    };
    let policy = restart_policy(pod);
    let sandbox = status.sandbox();
    let anything_running = status.containers.iter().any(|c| c.state == State::Running)
        || sandbox.is_some_and(|s| s.ready);
    let (sandbox_changed, attempt) = match sandbox {
        None => (true, 0),
        Some(s) if !s.ready => (true, s.attempt + 1),
        Some(s) => (false, s.attempt),
    };
    if sandbox_changed {
        // A pod that already ran and will not restart does not get a new sandbox.
        if policy != "Always" && attempt != 0 && !status.containers.is_empty() {
            actions.kill_pod = anything_running;
            return actions;
        }
        actions.kill_pod = anything_running;
        actions.create_sandbox = true;
        actions.sandbox_attempt = attempt;
        if let Some(first) = spec.init_containers.iter().flatten().next() {
            // A new sandbox runs the init containers again, from the first.
            actions.start = vec![first.name.clone()];
            let mut pruned: Vec<String> = status
                .containers
                .iter()
                .filter(|c| {
                    spec.init_containers
                        .iter()
                        .flatten()
                        .any(|i| i.name == c.name)
                })
                .map(|c| c.id.clone())
                .collect();
            pruned.sort();
            actions.prune_init = pruned;
            return actions;
        }
        actions.start = spec
            .containers
            .iter()
            .filter(|c| match status.latest(&c.name) {
                Some(last) if last.state == State::Exited => should_restart(policy, last.exit_code),
                _ => true,
            })
            .map(|c| c.name.clone())
            .collect();
        // A sandbox with nothing to run in it is not worth creating.
        actions.create_sandbox = !actions.start.is_empty();
        return actions;
    }
    match next_init(spec, status, policy) {
        InitNext::Done => {}
        InitNext::Wait => return actions,
        InitNext::Failed => {
            actions.kill_pod = anything_running;
            return actions;
        }
        InitNext::Run(name) => {
            if let Some(last) = status.latest(name).filter(|c| c.state == State::Created) {
                actions
                    .kill
                    .push((last.id.clone(), name.to_string(), KillReason::NotStarted));
            }
            actions.start.push(name.to_string());
            return actions;
        }
    }
    let mut keep = 0;
    for c in &spec.containers {
        match status.latest(&c.name) {
            None => actions.start.push(c.name.clone()),
            Some(last) => match last.state {
                State::Running
                    if probes.liveness_failed.contains(&last.id)
                        || probes.startup_failed.contains(&last.id) =>
                {
                    let why = if probes.liveness_failed.contains(&last.id) {
                        KillReason::FailedLiveness
                    } else {
                        KillReason::FailedStartup
                    };
                    actions.kill.push((last.id.clone(), c.name.clone(), why));
                    if policy != "Never" {
                        actions.start.push(c.name.clone());
                    }
                }
                State::Running if last.hash != container_hash(c) => {
                    actions
                        .kill
                        .push((last.id.clone(), c.name.clone(), KillReason::SpecChanged));
                    actions.start.push(c.name.clone());
                }
                State::Running => keep += 1,
                State::Created => {
                    actions
                        .kill
                        .push((last.id.clone(), c.name.clone(), KillReason::NotStarted));
                    actions.start.push(c.name.clone());
                }
                State::Exited | State::Unknown => {
                    if should_restart(policy, last.exit_code) {
                        actions.start.push(c.name.clone());
                    }
                }
            },
        }
    }
    if keep == 0 && actions.start.is_empty() {
        // Nothing runs and nothing will: the pod is done; stop its sandbox. A container killed
        // for its probe keeps its own words.
        actions.kill_pod = anything_running;
        actions.kill.retain(|(_, _, why)| {
            matches!(why, KillReason::FailedLiveness | KillReason::FailedStartup)
        });
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::runtime::{ContainerStatus, PodRef, SandboxStatus};
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    fn plan(pod: &Pod, status: &PodStatus) -> PodActions {
        compute_pod_actions(pod, status, &ProbeVerdicts::default())
    }

    fn pod(policy: &str, containers: &[&str]) -> Pod {
        let containers: Vec<_> = containers
            .iter()
            .map(|n| json!({"name": n, "image": "busybox"}))
            .collect();
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {"restartPolicy": policy, "containers": containers},
        }))
        .unwrap()
    }

    fn runtime(sandbox: Option<bool>, containers: &[(&str, State, Option<i32>, u64)]) -> PodStatus {
        let at = Timestamp::UNIX_EPOCH;
        PodStatus {
            pod: PodRef {
                namespace: "default".into(),
                name: "web".into(),
                uid: "u1".into(),
            },
            sandboxes: sandbox
                .map(|ready| SandboxStatus {
                    id: "s".into(),
                    attempt: 0,
                    ready,
                    ip: Some("10.0.0.2".into()),
                    created_at: at,
                })
                .into_iter()
                .collect(),
            containers: containers
                .iter()
                .enumerate()
                .map(|(i, (name, state, code, hash))| ContainerStatus {
                    id: format!("c{i}"),
                    name: name.to_string(),
                    attempt: 0,
                    hash: *hash,
                    image: "busybox".into(),
                    image_id: String::new(),
                    state: *state,
                    created_at: at,
                    started_at: None,
                    finished_at: None,
                    exit_code: *code,
                    reason: None,
                    message: None,
                })
                .collect(),
        }
    }

    #[test]
    fn plans_like_compute_pod_actions() {
        let p = pod("Always", &["app", "side"]);
        let h = container_hash(&p.spec.as_ref().unwrap().containers[0]);
        let hs = container_hash(&p.spec.as_ref().unwrap().containers[1]);

        // Nothing yet: a sandbox and every container.
        let a = plan(&p, &runtime(None, &[]));
        assert!(a.create_sandbox && !a.kill_pod);
        assert_eq!(a.start, ["app", "side"]);

        // All running with the same spec: nothing to do.
        let running = runtime(
            Some(true),
            &[
                ("app", State::Running, None, h),
                ("side", State::Running, None, hs),
            ],
        );
        assert!(plan(&p, &running).is_empty());

        // One exited: restart it under Always, also on success.
        let exited = runtime(
            Some(true),
            &[
                ("app", State::Exited, Some(0), h),
                ("side", State::Running, None, hs),
            ],
        );
        assert_eq!(plan(&p, &exited).start, ["app"]);
        let on_failure = pod("OnFailure", &["app", "side"]);
        assert!(plan(&on_failure, &exited).is_empty());

        // A changed image: stop and start again.
        let changed = runtime(
            Some(true),
            &[
                ("app", State::Running, None, h ^ 1),
                ("side", State::Running, None, hs),
            ],
        );
        let a = plan(&p, &changed);
        assert_eq!(
            a.kill,
            [("c0".to_string(), "app".to_string(), KillReason::SpecChanged)]
        );
        assert_eq!(a.start, ["app"]);

        // The sandbox died: a new one (attempt 1) and everything restarted.
        let dead = runtime(Some(false), &[("app", State::Running, None, h)]);
        let a = plan(&p, &dead);
        assert!(a.create_sandbox && a.kill_pod);
        assert_eq!(a.sandbox_attempt, 1);
    }

    #[test]
    fn finished_pods_stop_their_sandbox_once() {
        let p = pod("Never", &["app"]);
        let h = container_hash(&p.spec.as_ref().unwrap().containers[0]);
        let done = runtime(Some(true), &[("app", State::Exited, Some(1), h)]);
        let a = plan(&p, &done);
        assert!(a.kill_pod && a.start.is_empty() && !a.create_sandbox);
        // Once the sandbox is stopped there is nothing left to do, and no new sandbox.
        let stopped = runtime(Some(false), &[("app", State::Exited, Some(1), h)]);
        assert!(plan(&p, &stopped).is_empty());
    }

    fn pod_with_init(policy: &str, inits: &[&str], containers: &[&str]) -> Pod {
        let mut p = pod(policy, containers);
        p.spec.as_mut().unwrap().init_containers = Some(
            inits
                .iter()
                .map(|n| Container {
                    name: n.to_string(),
                    image: Some("busybox".into()),
                    ..Container::default()
                })
                .collect(),
        );
        p
    }

    #[test]
    fn init_containers_run_one_at_a_time_before_the_app() {
        let p = pod_with_init("Always", &["first", "second"], &["app"]);
        let spec = p.spec.as_ref().unwrap();
        let h = |n: &str| container_hash(spec_container(spec, n).unwrap());
        // A new pod: a sandbox and the first init container only.
        let a = plan(&p, &runtime(None, &[]));
        assert!(a.create_sandbox);
        assert_eq!(a.start, ["first"]);
        // The first is running: wait.
        let running = runtime(Some(true), &[("first", State::Running, None, h("first"))]);
        assert!(plan(&p, &running).is_empty());
        // The first completed: the second.
        let done = runtime(Some(true), &[("first", State::Exited, Some(0), h("first"))]);
        assert_eq!(plan(&p, &done).start, ["second"]);
        // Both completed: the app containers.
        let both = runtime(
            Some(true),
            &[
                ("first", State::Exited, Some(0), h("first")),
                ("second", State::Exited, Some(0), h("second")),
            ],
        );
        assert_eq!(plan(&p, &both).start, ["app"]);
        // The second failed: it runs again (Always and OnFailure), or the pod fails (Never).
        let failed = runtime(
            Some(true),
            &[
                ("first", State::Exited, Some(0), h("first")),
                ("second", State::Exited, Some(1), h("second")),
            ],
        );
        assert_eq!(plan(&p, &failed).start, ["second"]);
        let never = pod_with_init("Never", &["first", "second"], &["app"]);
        let a = plan(&never, &failed);
        assert!(a.start.is_empty() && a.kill_pod, "{a:?}");
        // Once an app container runs, the init containers are done whatever the runtime kept.
        let app = runtime(Some(true), &[("app", State::Running, None, h("app"))]);
        assert!(plan(&p, &app).is_empty());
    }

    #[test]
    fn a_failed_liveness_or_startup_probe_kills_and_restarts_per_policy() {
        let p = pod("Always", &["app"]);
        let h = container_hash(&p.spec.as_ref().unwrap().containers[0]);
        let status = runtime(Some(true), &[("app", State::Running, None, h)]);
        let mut probes = ProbeVerdicts::default();
        probes.liveness_failed.insert("c0".into());
        let a = compute_pod_actions(&p, &status, &probes);
        assert_eq!(
            a.kill,
            [(
                "c0".to_string(),
                "app".to_string(),
                KillReason::FailedLiveness
            )]
        );
        assert_eq!(a.start, ["app"]);
        assert_eq!(
            KillReason::FailedLiveness.message("app", true),
            "Container app failed liveness probe, will be restarted"
        );
        let never = pod("Never", &["app"]);
        let mut probes = ProbeVerdicts::default();
        probes.startup_failed.insert("c0".into());
        let a = compute_pod_actions(&never, &status, &probes);
        assert_eq!(a.kill[0].2, KillReason::FailedStartup);
        assert!(a.start.is_empty());
        assert_eq!(
            KillReason::FailedStartup.message("app", false),
            "Container app failed startup probe"
        );
    }

    /// Carries a plan out on a model of the runtime, as the kubelet does when nothing fails.
    fn execute(pod: &Pod, status: &mut PodStatus, plan: &PodActions) {
        let at = Timestamp::UNIX_EPOCH;
        if plan.kill_pod {
            for c in status
                .containers
                .iter_mut()
                .filter(|c| c.state == State::Running)
            {
                c.state = State::Exited;
                c.exit_code = Some(137);
            }
            for s in status.sandboxes.iter_mut() {
                s.ready = false;
            }
        }
        for (id, _, _) in &plan.kill {
            if let Some(c) = status.containers.iter_mut().find(|c| &c.id == id) {
                c.state = State::Exited;
                c.exit_code = Some(137);
            }
        }
        status
            .containers
            .retain(|c| !plan.prune_init.contains(&c.id));
        if plan.create_sandbox {
            status.sandboxes.push(SandboxStatus {
                id: format!("s{}", plan.sandbox_attempt),
                attempt: plan.sandbox_attempt,
                ready: true,
                ip: None,
                created_at: at,
            });
        }
        for name in &plan.start {
            let spec = spec_container(pod.spec.as_ref().unwrap(), name).unwrap();
            let attempt = status.latest(name).map_or(0, |c| c.attempt + 1);
            status.containers.push(ContainerStatus {
                id: format!("{name}-{attempt}"),
                name: name.clone(),
                attempt,
                hash: container_hash(spec),
                image: String::new(),
                image_id: String::new(),
                state: State::Running,
                created_at: at,
                started_at: None,
                finished_at: None,
                exit_code: None,
                reason: None,
                message: None,
            });
        }
    }

    const STATES: [State; 4] = [
        State::Created,
        State::Running,
        State::Exited,
        State::Unknown,
    ];

    proptest::proptest! {
        /// Whatever the runtime holds and the probes found, carrying out the plan leaves
        /// nothing more to do.
        #[test]
        fn executing_the_plan_then_planning_again_yields_nothing(
            policy in proptest::sample::select(vec!["Always", "OnFailure", "Never"]),
            sandbox in proptest::option::of(proptest::bool::ANY),
            states in proptest::collection::vec(
                (0u8..4, proptest::option::of(0i32..3), proptest::bool::ANY),
                0..3,
            ),
            init_states in proptest::collection::vec(
                proptest::option::of((0u8..4, 0i32..2)),
                0..3,
            ),
            liveness_fails in proptest::bool::ANY,
        ) {
            let names = ["app", "side", "log"];
            let init_names = ["init-a", "init-b", "init-c"];
            let p = pod_with_init(
                policy,
                &init_names[..init_states.len()],
                &names[..states.len().max(1)],
            );
            let specs = p.spec.as_ref().unwrap().containers.clone();
            let mut containers: Vec<(&str, State, Option<i32>, u64)> = states
                .iter()
                .enumerate()
                .map(|(i, (state, code, same))| {
                    let state = STATES[*state as usize];
                    let hash = container_hash(&specs[i]) ^ u64::from(!same);
                    (names[i], state, if state == State::Exited { code.or(Some(0)) } else { None }, hash)
                })
                .collect();
            for (i, init) in init_states.iter().enumerate() {
                if let Some((state, code)) = init {
                    let state = STATES[*state as usize];
                    let code = (state == State::Exited).then_some(*code);
                    containers.push((init_names[i], state, code, 0));
                }
            }
            let mut status = runtime(sandbox, &containers);
            // Only reachable states: an init container has run only after the ones before it
            // completed.
            let mut reachable = true;
            status.containers.retain(|c| {
                if !init_names.contains(&c.name.as_str()) {
                    return true;
                }
                let keep = reachable;
                reachable &= c.state == State::Exited && c.exit_code == Some(0);
                keep
            });
            let mut probes = ProbeVerdicts::default();
            if liveness_fails {
                probes.liveness_failed.extend(
                    status.containers.iter().filter(|c| c.name == "app").map(|c| c.id.clone()),
                );
            }
            let planned = compute_pod_actions(&p, &status, &probes);
            execute(&p, &mut status, &planned);
            let again = compute_pod_actions(&p, &status, &probes);
            proptest::prop_assert!(again.is_empty(), "plan {planned:?} then {again:?} on {status:?}");
        }
    }
}
