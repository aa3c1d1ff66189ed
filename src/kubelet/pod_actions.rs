//! `computePodActions`: what must change for a pod's containers to match its spec, given what the
//! runtime holds — a pure plan (the kubelet's kuberuntime_manager.go, without init containers,
//! which come with probes). Executing the plan and planning again yields nothing to do.

use k8s_openapi::api::core::v1::{Container, Pod};

use super::runtime::{PodStatus, State};

/// Why a running container is stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillReason {
    /// Its spec (the image) changed: `Container app definition changed, will be restarted`.
    SpecChanged,
    /// A container that was created but never started (left over by a failed start).
    NotStarted,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodActions {
    /// Stop every container and the sandbox.
    pub kill_pod: bool,
    pub create_sandbox: bool,
    /// The attempt number of the sandbox to create.
    pub sandbox_attempt: u32,
    /// Containers to (re)start, by name, in spec order.
    pub start: Vec<String>,
    /// Containers to stop: `(id, name, why)`.
    pub kill: Vec<(String, String, KillReason)>,
}

impl PodActions {
    pub fn is_empty(&self) -> bool {
        !self.kill_pod && !self.create_sandbox && self.start.is_empty() && self.kill.is_empty()
    }
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

pub fn compute_pod_actions(pod: &Pod, status: &PodStatus) -> PodActions {
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
    let mut keep = 0;
    for c in &spec.containers {
        match status.latest(&c.name) {
            None => actions.start.push(c.name.clone()),
            Some(last) => match last.state {
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
        // Nothing runs and nothing will: the pod is done; stop its sandbox.
        actions.kill_pod = anything_running;
        actions.kill.clear();
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::runtime::{ContainerStatus, PodRef, SandboxStatus};
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

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
        let a = compute_pod_actions(&p, &runtime(None, &[]));
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
        assert!(compute_pod_actions(&p, &running).is_empty());

        // One exited: restart it under Always, also on success.
        let exited = runtime(
            Some(true),
            &[
                ("app", State::Exited, Some(0), h),
                ("side", State::Running, None, hs),
            ],
        );
        assert_eq!(compute_pod_actions(&p, &exited).start, ["app"]);
        let on_failure = pod("OnFailure", &["app", "side"]);
        assert!(compute_pod_actions(&on_failure, &exited).is_empty());

        // A changed image: stop and start again.
        let changed = runtime(
            Some(true),
            &[
                ("app", State::Running, None, h ^ 1),
                ("side", State::Running, None, hs),
            ],
        );
        let a = compute_pod_actions(&p, &changed);
        assert_eq!(
            a.kill,
            [("c0".to_string(), "app".to_string(), KillReason::SpecChanged)]
        );
        assert_eq!(a.start, ["app"]);

        // The sandbox died: a new one (attempt 1) and everything restarted.
        let dead = runtime(Some(false), &[("app", State::Running, None, h)]);
        let a = compute_pod_actions(&p, &dead);
        assert!(a.create_sandbox && a.kill_pod);
        assert_eq!(a.sandbox_attempt, 1);
    }

    #[test]
    fn finished_pods_stop_their_sandbox_once() {
        let p = pod("Never", &["app"]);
        let h = container_hash(&p.spec.as_ref().unwrap().containers[0]);
        let done = runtime(Some(true), &[("app", State::Exited, Some(1), h)]);
        let a = compute_pod_actions(&p, &done);
        assert!(a.kill_pod && a.start.is_empty() && !a.create_sandbox);
        // Once the sandbox is stopped there is nothing left to do, and no new sandbox.
        let stopped = runtime(Some(false), &[("app", State::Exited, Some(1), h)]);
        assert!(compute_pod_actions(&p, &stopped).is_empty());
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
            let spec = pod
                .spec
                .as_ref()
                .unwrap()
                .containers
                .iter()
                .find(|c| &c.name == name)
                .unwrap();
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

    proptest::proptest! {
        /// Whatever the runtime holds, carrying out the plan leaves nothing more to do.
        #[test]
        fn executing_the_plan_then_planning_again_yields_nothing(
            policy in proptest::sample::select(vec!["Always", "OnFailure", "Never"]),
            sandbox in proptest::option::of(proptest::bool::ANY),
            states in proptest::collection::vec(
                (0u8..4, proptest::option::of(0i32..3), proptest::bool::ANY),
                0..3,
            ),
        ) {
            let names = ["app", "side", "log"];
            let p = pod(policy, &names[..states.len().max(1)]);
            let specs = p.spec.as_ref().unwrap().containers.clone();
            let containers: Vec<(&str, State, Option<i32>, u64)> = states
                .iter()
                .enumerate()
                .map(|(i, (state, code, same))| {
                    let state = [State::Created, State::Running, State::Exited, State::Unknown][*state as usize];
                    let hash = container_hash(&specs[i]) ^ u64::from(!same);
                    (names[i], state, if state == State::Exited { code.or(Some(0)) } else { None }, hash)
                })
                .collect();
            let mut status = runtime(sandbox, &containers);
            let plan = compute_pod_actions(&p, &status);
            execute(&p, &mut status, &plan);
            let again = compute_pod_actions(&p, &status);
            proptest::prop_assert!(again.is_empty(), "plan {plan:?} then {again:?} on {status:?}");
        }
    }
}
