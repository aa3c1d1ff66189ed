//! `generateAPIPodStatus`: the pod's API status from what the runtime holds — container states
//! with their waiting reasons, restart counts and last states, the phase as `getPhase` computes
//! it, and the kubelet-owned conditions (PodReadyToStartContainers, Initialized, Ready,
//! ContainersReady). Pure: the same input gives the same status, so the kubelet writes only when
//! something really changed.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus as ApiContainerStatus, HostIP, Pod, PodCondition, PodIP,
    PodStatus as ApiStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::pod_actions::{restart_policy, should_restart};
use super::prober::ContainerHealth;
use super::runtime::{ContainerStatus, PodStatus, State};

/// The conditions the kubelet owns; the rest (PodScheduled, DisruptionTarget) are kept.
pub const KUBELET_CONDITIONS: [&str; 4] = [
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
];

pub struct StatusInput<'a> {
    pub pod: &'a Pod,
    pub runtime: &'a PodStatus,
    /// The last start failure per container (the kubelet's reasonCache): `(reason, message)`.
    pub failures: &'a HashMap<String, (String, String)>,
    /// `docker` or `kubox-sim`: the scheme of `containerID`.
    pub runtime_name: &'a str,
    pub host_ip: &'a str,
    pub now: Time,
    /// `started` and `ready` of running containers, from their probes (absent: both true).
    pub health: &'a HashMap<String, ContainerHealth>,
    /// The pod failed for good for this `(reason, message)` (DeadlineExceeded).
    pub terminal: Option<(&'a str, &'a str)>,
}

fn time(t: Option<k8s_openapi::jiff::Timestamp>) -> Option<Time> {
    t.map(Time)
}

fn terminated(c: &ContainerStatus, scheme: &str) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: c.exit_code.unwrap_or(0),
            reason: c.reason.clone(),
            message: c.message.clone(),
            started_at: time(c.started_at),
            finished_at: time(c.finished_at),
            container_id: Some(format!("{scheme}://{}", c.id)),
            signal: None,
        }),
        ..ContainerState::default()
    }
}

fn waiting(reason: &str, message: Option<&str>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message: message.map(str::to_string),
        }),
        ..ContainerState::default()
    }
}

fn has_init(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .is_some_and(|i| !i.is_empty())
}

/// `convertToAPIContainerStatuses` for the app containers, or (`init`) the init containers.
fn container_statuses(input: &StatusInput<'_>, init: bool) -> Vec<ApiContainerStatus> {
    let spec = input.pod.spec.as_ref();
    let policy = restart_policy(input.pod);
    let scheme = input.runtime_name;
    // Until the init containers are done, what has not started is PodInitializing.
    let default_reason = if has_init(input.pod) {
        "PodInitializing"
    } else {
        "ContainerCreating"
    };
    let containers = match (spec, init) {
        (Some(s), false) => s.containers.as_slice(),
        (Some(s), true) => s.init_containers.as_deref().unwrap_or_default(),
        (None, _) => &[],
    };
    containers
        .iter()
        .map(|container| {
            let latest = input.runtime.latest(&container.name);
            let previous = input.runtime.previous(&container.name);
            let mut status = ApiContainerStatus {
                name: container.name.clone(),
                image: container.image.clone().unwrap_or_default(),
                image_id: latest.map(|c| c.image_id.clone()).unwrap_or_default(),
                container_id: latest.map(|c| format!("{scheme}://{}", c.id)),
                restart_count: latest.map_or(0, |c| c.attempt as i32),
                ready: false,
                started: Some(false),
                last_state: previous.map(|p| terminated(p, scheme)),
                state: Some(waiting(default_reason, None)),
                ..ApiContainerStatus::default()
            };
            if let Some(c) = latest {
                match c.state {
                    State::Running => {
                        status.state = Some(ContainerState {
                            running: Some(ContainerStateRunning {
                                started_at: time(c.started_at),
                            }),
                            ..ContainerState::default()
                        });
                        let health =
                            input
                                .health
                                .get(&container.name)
                                .copied()
                                .unwrap_or(ContainerHealth {
                                    started: true,
                                    ready: true,
                                });
                        // A running init container is not ready: it is not done.
                        status.ready = health.ready && !init;
                        status.started = Some(health.started);
                    }
                    State::Exited => {
                        status.state = Some(terminated(c, scheme));
                        status.ready = init && c.exit_code == Some(0);
                    }
                    State::Created | State::Unknown => {}
                }
            }
            // A container the kubelet failed to (re)start is Waiting with the failure's reason;
            // the instance that ended moves to lastState.
            let not_running = latest.is_none_or(|c| c.state != State::Running);
            if not_running
                && latest.is_none_or(|c| should_restart(policy, c.exit_code))
                && let Some((reason, message)) = input.failures.get(&container.name)
            {
                if let Some(state) = status.state.take()
                    && state.terminated.is_some()
                {
                    status.last_state = Some(state);
                }
                status.state = Some(waiting(reason, Some(message)));
            }
            if status.container_id.is_none() {
                status.image_id = String::new();
            }
            status
        })
        .collect()
}

/// `getPhase`: init containers first (pending while any is not done, failed when one failed
/// and the policy is Never), then the app containers.
pub fn phase(
    pod: &Pod,
    statuses: &[ApiContainerStatus],
    init_statuses: &[ApiContainerStatus],
) -> &'static str {
    let (mut pending_init, mut failed_init) = (0, 0);
    for c in pod
        .spec
        .iter()
        .flat_map(|s| s.init_containers.iter().flatten())
    {
        let Some(st) = init_statuses.iter().find(|s| s.name == c.name) else {
            pending_init += 1;
            continue;
        };
        let state = st.state.clone().unwrap_or_default();
        if state.running.is_some() {
            pending_init += 1;
        } else if let Some(t) = state.terminated {
            if t.exit_code != 0 {
                failed_init += 1;
            }
        } else if state.waiting.is_some() {
            match st.last_state.as_ref().and_then(|l| l.terminated.as_ref()) {
                Some(t) if t.exit_code != 0 => failed_init += 1,
                Some(_) => {}
                None => pending_init += 1,
            }
        } else {
            pending_init += 1;
        }
    }
    let (mut running, mut waiting, mut stopped, mut succeeded, mut unknown) = (0, 0, 0, 0, 0);
    for c in pod.spec.iter().flat_map(|s| &s.containers) {
        let Some(st) = statuses.iter().find(|s| s.name == c.name) else {
            unknown += 1;
            continue;
        };
        let state = st.state.clone().unwrap_or_default();
        if state.running.is_some() {
            running += 1;
        } else if let Some(t) = state.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if state.waiting.is_some() {
            if st
                .last_state
                .as_ref()
                .is_some_and(|l| l.terminated.is_some())
            {
                stopped += 1;
            } else {
                waiting += 1;
            }
        } else {
            unknown += 1;
        }
    }
    let policy = restart_policy(pod);
    let any_started = statuses.iter().any(|s| {
        s.state
            .as_ref()
            .is_some_and(|st| st.running.is_some() || st.terminated.is_some())
            || s.last_state
                .as_ref()
                .is_some_and(|l| l.terminated.is_some())
    });
    if failed_init > 0 && policy == "Never" {
        "Failed"
    } else if (pending_init > 0 && !any_started) || waiting > 0 {
        "Pending"
    } else if running > 0 && unknown == 0 {
        "Running"
    } else if running == 0 && stopped > 0 && unknown == 0 {
        if policy == "Always" {
            "Running"
        } else if stopped == succeeded {
            "Succeeded"
        } else if policy == "Never" {
            "Failed"
        } else {
            "Running"
        }
    } else {
        "Pending"
    }
}

fn condition(type_: &str, ok: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    PodCondition {
        type_: type_.to_string(),
        status: if ok { "True" } else { "False" }.to_string(),
        reason: reason.map(str::to_string),
        message,
        ..PodCondition::default()
    }
}

/// `GeneratePodInitializedCondition`.
fn initialized(
    phase: &str,
    statuses: &[ApiContainerStatus],
    init_statuses: &[ApiContainerStatus],
) -> PodCondition {
    let incomplete: Vec<&str> = init_statuses
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let app_started = statuses
        .iter()
        .any(|s| s.state.as_ref().is_some_and(|st| st.waiting.is_none()));
    if phase == "Succeeded" && !init_statuses.is_empty() {
        condition("Initialized", true, Some("PodCompleted"), None)
    } else if incomplete.is_empty() || app_started {
        condition("Initialized", true, None, None)
    } else {
        condition(
            "Initialized",
            false,
            Some("ContainersNotInitialized"),
            Some(format!(
                "containers with incomplete status: [{}]",
                incomplete.join(" ")
            )),
        )
    }
}

pub fn generate(input: &StatusInput<'_>) -> ApiStatus {
    let old = input.pod.status.clone().unwrap_or_default();
    let statuses = container_statuses(input, false);
    let init_statuses = container_statuses(input, true);
    let phase = match input.terminal {
        Some(_) => "Failed",
        None => phase(input.pod, &statuses, &init_statuses),
    };
    let sandbox = input.runtime.sandbox().filter(|s| s.ready);
    let pod_ip = sandbox.and_then(|s| s.ip.clone());

    let unready: Vec<&str> = statuses
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let ready_condition = |type_: &str| {
        if phase == "Succeeded" {
            condition(type_, false, Some("PodCompleted"), None)
        } else if unready.is_empty() {
            condition(type_, true, None, None)
        } else {
            condition(
                type_,
                false,
                Some("ContainersNotReady"),
                Some(format!(
                    "containers with unready status: [{}]",
                    unready.join(" ")
                )),
            )
        }
    };
    let mut conditions = vec![
        condition("PodReadyToStartContainers", pod_ip.is_some(), None, None),
        initialized(phase, &statuses, &init_statuses),
        ready_condition("Ready"),
        ready_condition("ContainersReady"),
    ];
    // Transition times move only when the status does.
    let old_conditions = old.conditions.clone().unwrap_or_default();
    for c in &mut conditions {
        c.last_transition_time = old_conditions
            .iter()
            .find(|o| o.type_ == c.type_ && o.status == c.status)
            .and_then(|o| o.last_transition_time.clone())
            .or_else(|| Some(input.now.clone()));
    }
    conditions.extend(
        old_conditions
            .into_iter()
            .filter(|c| !KUBELET_CONDITIONS.contains(&c.type_.as_str())),
    );

    ApiStatus {
        phase: Some(phase.to_string()),
        conditions: Some(conditions),
        host_ip: Some(input.host_ip.to_string()),
        host_ips: Some(vec![HostIP {
            ip: input.host_ip.to_string(),
        }]),
        pod_ip: pod_ip.clone(),
        pod_ips: pod_ip.map(|ip| vec![PodIP { ip }]),
        start_time: old.start_time.clone().or_else(|| Some(input.now.clone())),
        init_container_statuses: (!init_statuses.is_empty()).then_some(init_statuses),
        container_statuses: Some(statuses),
        qos_class: old.qos_class.clone(),
        reason: input.terminal.map(|(r, _)| r.to_string()),
        message: input.terminal.map(|(_, m)| m.to_string()),
        nominated_node_name: old.nominated_node_name.clone(),
        ..ApiStatus::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::runtime::{PodRef, SandboxStatus};
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    fn pod(policy: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {"restartPolicy": policy, "containers": [{"name": "app", "image": "busybox"}]},
            "status": {"phase": "Pending", "qosClass": "BestEffort",
                "conditions": [{"type": "PodScheduled", "status": "True"}]},
        }))
        .unwrap()
    }

    fn rt(containers: Vec<ContainerStatus>) -> PodStatus {
        PodStatus {
            pod: PodRef {
                namespace: "default".into(),
                name: "web".into(),
                uid: "u1".into(),
            },
            sandboxes: vec![SandboxStatus {
                id: "s".into(),
                attempt: 0,
                ready: true,
                ip: Some("10.88.0.5".into()),
                created_at: Timestamp::UNIX_EPOCH,
            }],
            containers,
        }
    }

    fn app(attempt: u32, state: State, exit: Option<i32>) -> ContainerStatus {
        ContainerStatus {
            id: format!("id{attempt}"),
            name: "app".into(),
            attempt,
            hash: 0,
            image: "busybox".into(),
            image_id: "sha256:abc".into(),
            state,
            created_at: Timestamp::UNIX_EPOCH,
            started_at: Some(Timestamp::UNIX_EPOCH),
            finished_at: (state == State::Exited).then_some(Timestamp::UNIX_EPOCH),
            exit_code: exit,
            reason: exit.map(|c| if c == 0 { "Completed" } else { "Error" }.to_string()),
            message: None,
        }
    }

    fn status_of(
        pod: &Pod,
        runtime: &PodStatus,
        failures: &HashMap<String, (String, String)>,
    ) -> ApiStatus {
        generate(&StatusInput {
            pod,
            runtime,
            failures,
            runtime_name: "docker",
            host_ip: "172.18.0.2",
            now: Time(Timestamp::UNIX_EPOCH),
            health: &HashMap::new(),
            terminal: None,
        })
    }

    fn with_init(policy: &str) -> Pod {
        let mut p = pod(policy);
        p.spec.as_mut().unwrap().init_containers = Some(vec![
            serde_json::from_value(json!({"name": "setup", "image": "busybox"})).unwrap(),
        ]);
        p
    }

    fn named(name: &str, mut c: ContainerStatus) -> ContainerStatus {
        c.name = name.into();
        c.id = format!("{name}-{}", c.attempt);
        c
    }

    fn condition_of<'a>(s: &'a serde_json::Value, type_: &str) -> &'a serde_json::Value {
        s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap()
    }

    #[test]
    fn init_containers_hold_the_pod_pending_and_uninitialized() {
        let p = with_init("Always");
        let none = HashMap::new();
        // Running the init container: Pending, PodInitializing for the app, not Initialized.
        let s = json_of(&status_of(
            &p,
            &rt(vec![named("setup", app(0, State::Running, None))]),
            &none,
        ));
        assert_eq!(s["phase"], "Pending");
        assert_eq!(
            s["containerStatuses"][0]["state"]["waiting"]["reason"],
            "PodInitializing"
        );
        assert_eq!(s["initContainerStatuses"][0]["ready"], false);
        let init = condition_of(&s, "Initialized");
        assert_eq!(
            (&init["status"], &init["reason"], &init["message"]),
            (
                &json!("False"),
                &json!("ContainersNotInitialized"),
                &json!("containers with incomplete status: [setup]")
            )
        );
        // Done: Initialized, the init container ready with Completed; the app starts.
        let s = json_of(&status_of(
            &p,
            &rt(vec![
                named("setup", app(0, State::Exited, Some(0))),
                app(0, State::Running, None),
            ]),
            &none,
        ));
        assert_eq!(s["phase"], "Running");
        assert_eq!(condition_of(&s, "Initialized")["status"], "True");
        assert_eq!(s["initContainerStatuses"][0]["ready"], true);
        assert_eq!(
            s["initContainerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        // A failed init container under Never: the pod fails.
        let never = with_init("Never");
        let s = json_of(&status_of(
            &never,
            &rt(vec![named("setup", app(0, State::Exited, Some(1)))]),
            &none,
        ));
        assert_eq!(s["phase"], "Failed");
        // Under Always it is retried: Pending meanwhile.
        let s = json_of(&status_of(
            &p,
            &rt(vec![named("setup", app(0, State::Exited, Some(1)))]),
            &none,
        ));
        assert_eq!(s["phase"], "Pending");
    }

    #[test]
    fn probes_decide_ready_and_started() {
        let p = pod("Always");
        let runtime = rt(vec![app(0, State::Running, None)]);
        let health = HashMap::from([(
            "app".to_string(),
            ContainerHealth {
                started: true,
                ready: false,
            },
        )]);
        let s = json_of(&generate(&StatusInput {
            pod: &p,
            runtime: &runtime,
            failures: &HashMap::new(),
            runtime_name: "docker",
            host_ip: "172.18.0.2",
            now: Time(Timestamp::UNIX_EPOCH),
            health: &health,
            terminal: None,
        }));
        assert_eq!(s["phase"], "Running");
        assert_eq!(s["containerStatuses"][0]["ready"], false);
        assert_eq!(s["containerStatuses"][0]["started"], true);
        let ready = condition_of(&s, "Ready");
        assert_eq!(
            (&ready["status"], &ready["message"]),
            (
                &json!("False"),
                &json!("containers with unready status: [app]")
            )
        );
    }

    #[test]
    fn a_pod_past_its_deadline_fails_with_the_reason() {
        let p = pod("Always");
        let runtime = rt(vec![app(0, State::Exited, Some(137))]);
        let s = json_of(&generate(&StatusInput {
            pod: &p,
            runtime: &runtime,
            failures: &HashMap::new(),
            runtime_name: "docker",
            host_ip: "172.18.0.2",
            now: Time(Timestamp::UNIX_EPOCH),
            health: &HashMap::new(),
            terminal: Some((
                "DeadlineExceeded",
                "Pod was active on the node longer than the specified deadline",
            )),
        }));
        assert_eq!(
            (&s["phase"], &s["reason"], &s["message"]),
            (
                &json!("Failed"),
                &json!("DeadlineExceeded"),
                &json!("Pod was active on the node longer than the specified deadline")
            )
        );
    }

    fn json_of(s: &ApiStatus) -> serde_json::Value {
        serde_json::to_value(s).unwrap()
    }

    #[test]
    fn running_pod_status() {
        let p = pod("Always");
        let s = json_of(&status_of(
            &p,
            &rt(vec![app(0, State::Running, None)]),
            &HashMap::new(),
        ));
        assert_eq!(s["phase"], "Running");
        assert_eq!(s["podIP"], "10.88.0.5");
        assert_eq!(s["containerStatuses"][0]["containerID"], "docker://id0");
        assert_eq!(s["containerStatuses"][0]["ready"], true);
        let types: Vec<_> = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{}={}",
                    c["type"].as_str().unwrap(),
                    c["status"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            types,
            [
                "PodReadyToStartContainers=True",
                "Initialized=True",
                "Ready=True",
                "ContainersReady=True",
                "PodScheduled=True"
            ]
        );
    }

    #[test]
    fn pending_then_crash_loop_then_completed() {
        let p = pod("Always");
        let s = json_of(&status_of(&p, &rt(vec![]), &HashMap::new()));
        assert_eq!(s["phase"], "Pending");
        assert_eq!(
            s["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
        assert_eq!(
            s["conditions"][2]["message"],
            "containers with unready status: [app]"
        );

        let failures = HashMap::from([(
            "app".to_string(),
            (
                "CrashLoopBackOff".to_string(),
                "back-off 10s restarting failed container=app pod=web_default(u1)".to_string(),
            ),
        )]);
        let s = json_of(&status_of(
            &p,
            &rt(vec![app(0, State::Exited, Some(1))]),
            &failures,
        ));
        let c = &s["containerStatuses"][0];
        assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(c["lastState"]["terminated"]["reason"], "Error");
        assert_eq!(s["phase"], "Running");

        let never = pod("Never");
        let s = json_of(&status_of(
            &never,
            &rt(vec![app(0, State::Exited, Some(0))]),
            &HashMap::new(),
        ));
        assert_eq!(s["phase"], "Succeeded");
        assert_eq!(s["conditions"][2]["reason"], "PodCompleted");
        let s = json_of(&status_of(
            &never,
            &rt(vec![app(0, State::Exited, Some(2))]),
            &HashMap::new(),
        ));
        assert_eq!(s["phase"], "Failed");
        assert_eq!(
            s["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            2
        );
    }
}
