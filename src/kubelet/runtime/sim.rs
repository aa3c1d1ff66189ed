//! A simulated container runtime: containers "run" in memory, on tokio's clock (so tests can pause
//! it), with a configurable start latency. What a container does is read from its pod's
//! annotations, so crash loops and completions can be shown without a daemon:
//!
//! `sim.kubox.io/exit-<container>: "<code> after <seconds>s"` — the container exits with `<code>`
//! that long after it starts (`oom` as the code ends it `OOMKilled`, exit code 137). Without the
//! annotation a container runs until it is stopped. Every pull succeeds unless the image name
//! contains `does-not-exist`. `exec` answers a few commands itself (see `sim_shell`).
//!
//! `sim.kubox.io/health-<container>: "fail after 10s"` scripts how the container answers its
//! probes (`ok`, `fail`, `ok after 5s`, `fail after 10s`, from its start); without it, every
//! probe succeeds. No process or network exists here, so probes of every kind (exec, httpGet,
//! tcpSocket) take their answer from this script.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::jiff::Timestamp;
use tokio::sync::broadcast;

use super::{
    ContainerConfig, ContainerStatus, Image, LogOptions, PodRef, PodStatus, PullProgress, Runtime,
    RuntimeError, RuntimeEvent, RuntimeResult, RuntimeVersion, SandboxConfig, SandboxStatus, State,
};

/// The annotation prefix that scripts a simulated container's exit.
pub const EXIT_ANNOTATION_PREFIX: &str = "sim.kubox.io/exit-";
/// The annotation prefix that scripts how a simulated container answers its probes.
pub const HEALTH_ANNOTATION_PREFIX: &str = "sim.kubox.io/health-";

/// How a simulated container answers probes: healthy or not, switching once, that long after
/// it started (`"fail after 10s"`: healthy for ten seconds, then failing).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Health {
    healthy_at_first: bool,
    switch_after: Option<Duration>,
}

/// `"ok"`, `"fail"`, `"ok after 5s"`, `"fail after 10s"`.
fn parse_health(text: &str) -> Option<Health> {
    let (state, after) = match text.trim().split_once(" after ") {
        Some((state, after)) => {
            let secs: f64 = after.trim().strip_suffix('s')?.parse().ok()?;
            (state.trim(), Some(Duration::from_secs_f64(secs.max(0.0))))
        }
        None => (text.trim(), None),
    };
    let healthy = match state {
        "ok" => true,
        "fail" => false,
        _ => return None,
    };
    Some(match after {
        // "fail after 10s": healthy first; "ok after 5s": failing first.
        Some(after) => Health {
            healthy_at_first: !healthy,
            switch_after: Some(after),
        },
        None => Health {
            healthy_at_first: healthy,
            switch_after: None,
        },
    })
}

#[derive(Debug, Clone)]
struct SimContainer {
    node: String,
    pod: PodRef,
    sandbox: bool,
    status: ContainerStatus,
    sandbox_attempt: u32,
    ip: Option<String>,
    exit: Option<(i32, Duration)>,
    health: Option<Health>,
    /// When it started, on tokio's clock (for the health script).
    started: Option<tokio::time::Instant>,
    logs: Vec<String>,
}

#[derive(Default)]
struct World {
    /// Boxed: the map's spare buckets then cost a pointer each, not a whole container.
    containers: HashMap<String, Box<SimContainer>>,
    /// Container (and sandbox) IDs by pod uid, sorted, so one pod's status does not scan them
    /// all. A pod has a handful: a sorted `Vec`, not a `BTreeSet` node per pod.
    by_pod: HashMap<String, Vec<String>>,
    images: HashSet<String>,
    next_id: u64,
    next_ip: u32,
}

/// The simulated runtime, shared by every kubelet of the process.
#[derive(Clone)]
pub struct SimRuntime {
    world: Arc<Mutex<World>>,
    /// Off: every call fails as a stopped daemon's would (node-fault tests).
    up: Arc<std::sync::atomic::AtomicBool>,
    events: broadcast::Sender<(String, RuntimeEvent)>,
    start_latency: Duration,
}

impl Default for SimRuntime {
    fn default() -> Self {
        Self::new(Duration::ZERO)
    }
}

fn fake_digest(image: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in image.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("sha256:{h:016x}{h:016x}{h:016x}{h:016x}")
}

/// `"1 after 3s"` → `(1, 3s)`; `"oom after 2s"` → `(137 OOMKilled)`.
fn parse_exit(text: &str) -> Option<(i32, Duration)> {
    let (code, after) = text.split_once(" after ")?;
    let code = match code.trim() {
        "oom" => -137,
        c => c.parse().ok()?,
    };
    let secs: f64 = after.trim().strip_suffix('s')?.parse().ok()?;
    Some((code, Duration::from_secs_f64(secs.max(0.0))))
}

impl World {
    fn insert(&mut self, id: String, c: SimContainer) {
        let ids = self.by_pod.entry(c.pod.uid.clone()).or_default();
        if let Err(at) = ids.binary_search(&id) {
            ids.insert(at, id.clone());
        }
        self.containers.insert(id, Box::new(c));
    }

    fn remove(&mut self, id: &str) -> Option<Box<SimContainer>> {
        let c = self.containers.remove(id)?;
        if let Some(ids) = self.by_pod.get_mut(&c.pod.uid) {
            ids.retain(|other| other != id);
            if ids.is_empty() {
                self.by_pod.remove(&c.pod.uid);
            }
        }
        Some(c)
    }
}

impl SimRuntime {
    pub fn new(start_latency: Duration) -> Self {
        let (events, _) = broadcast::channel(4096);
        SimRuntime {
            world: Arc::new(Mutex::new(World::default())),
            up: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            events,
            start_latency,
        }
    }

    /// Stops (`false`) or restarts (`true`) the simulated daemon: while down, every call fails
    /// with [`RuntimeError::Unavailable`]; its containers are still there when it returns.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
    }

    fn check_up(&self) -> RuntimeResult<()> {
        if self.up.load(std::sync::atomic::Ordering::SeqCst) {
            Ok(())
        } else {
            Err(RuntimeError::Unavailable(
                "the simulated daemon is stopped".into(),
            ))
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(&self, node: &str, pod_uid: &str, id: &str, action: &str) {
        let _ = self.events.send((
            node.to_string(),
            RuntimeEvent {
                pod_uid: pod_uid.to_string(),
                container_id: id.to_string(),
                action: action.to_string(),
            },
        ));
    }

    /// Ends a running container now, as if its process exited with `code` (137+OOM for `-137`).
    pub fn exit(&self, id: &str, code: i32) {
        let (node, uid) = {
            let mut w = self.world();
            let Some(c) = w.containers.get_mut(id) else {
                return;
            };
            if c.status.state != State::Running {
                return;
            }
            let (code, reason) = match code {
                -137 => (137, "OOMKilled"),
                0 => (0, "Completed"),
                c => (c, "Error"),
            };
            c.status.state = State::Exited;
            c.status.exit_code = Some(code);
            c.status.reason = Some(reason.to_string());
            c.status.finished_at = Some(Timestamp::now());
            c.logs.push(format!("kubox-sim: exited with code {code}"));
            (c.node.clone(), c.pod.uid.clone())
        };
        self.emit(&node, &uid, id, "die");
    }

    /// Every container (sandboxes included) the simulator holds, for tests.
    pub fn container_count(&self) -> usize {
        self.world().containers.len()
    }

    /// The pods on `node`, or only the pod `uid`.
    fn status_of(&self, node: &str, uid: Option<&str>) -> Vec<PodStatus> {
        let w = self.world();
        let mut by_pod: BTreeMap<String, PodStatus> = BTreeMap::new();
        let chosen: Vec<&SimContainer> = match uid {
            Some(uid) => w
                .by_pod
                .get(uid)
                .into_iter()
                .flatten()
                .filter_map(|id| w.containers.get(id).map(|c| &**c))
                .collect(),
            None => w.containers.values().map(|c| &**c).collect(),
        };
        for c in chosen.into_iter().filter(|c| c.node == node) {
            let entry = by_pod
                .entry(c.pod.uid.clone())
                .or_insert_with(|| PodStatus::empty(c.pod.clone()));
            if c.sandbox {
                entry.sandboxes.push(SandboxStatus {
                    id: c.status.id.clone(),
                    attempt: c.sandbox_attempt,
                    ready: c.status.state == State::Running,
                    ip: c.ip.clone(),
                    created_at: c.status.created_at,
                });
            } else {
                // The digest is derived from the image when reported, not kept per container.
                let mut status = c.status.clone();
                status.image_id = fake_digest(&status.image);
                entry.containers.push(status);
            }
        }
        by_pod.into_values().collect()
    }
}

#[async_trait::async_trait]
impl Runtime for SimRuntime {
    async fn version(&self) -> RuntimeResult<RuntimeVersion> {
        self.check_up()?;
        Ok(RuntimeVersion {
            name: "kubox-sim".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        })
    }

    async fn list_images(&self) -> RuntimeResult<Vec<Image>> {
        self.check_up()?;
        let w = self.world();
        let mut images: Vec<Image> = w
            .images
            .iter()
            .map(|name| Image {
                id: fake_digest(name),
                names: vec![name.clone()],
                size_bytes: 4_000_000,
            })
            .collect();
        images.sort_by(|a, b| a.names.cmp(&b.names));
        Ok(images)
    }

    async fn image_present(&self, image: &str) -> RuntimeResult<Option<String>> {
        self.check_up()?;
        Ok(self
            .world()
            .images
            .contains(image)
            .then(|| fake_digest(image)))
    }

    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> RuntimeResult<String> {
        if image.contains("does-not-exist") {
            return Err(RuntimeError::Pull(format!(
                "Error response from daemon: pull access denied for {image}, repository does not exist or may require 'docker login'"
            )));
        }
        tokio::time::sleep(self.start_latency).await;
        progress(PullProgress {
            image: image.to_string(),
            layers_done: 1,
            layers_total: 1,
            bytes_done: 4_000_000,
            bytes_total: 4_000_000,
        });
        self.world().images.insert(image.to_string());
        Ok(fake_digest(image))
    }

    async fn run_sandbox(&self, config: &SandboxConfig) -> RuntimeResult<String> {
        self.check_up()?;
        tokio::time::sleep(self.start_latency).await;
        let id = {
            let mut w = self.world();
            w.next_id += 1;
            w.next_ip += 1;
            let id = format!("{:064x}", w.next_id);
            let ip = format!("10.88.{}.{}", (w.next_ip / 250) % 250, w.next_ip % 250 + 2);
            let now = Timestamp::now();
            w.insert(
                id.clone(),
                SimContainer {
                    node: config.node.clone(),
                    pod: config.pod.clone(),
                    sandbox: true,
                    sandbox_attempt: config.attempt,
                    ip: Some(ip),
                    exit: None,
                    health: None,
                    started: None,
                    logs: Vec::new(),
                    status: ContainerStatus {
                        id: id.clone(),
                        name: super::SANDBOX_CONTAINER_NAME.into(),
                        attempt: config.attempt,
                        hash: 0,
                        image: "kubox/pause".into(),
                        image_id: String::new(),
                        state: State::Running,
                        created_at: now,
                        started_at: Some(now),
                        finished_at: None,
                        exit_code: None,
                        reason: None,
                        message: None,
                    },
                },
            );
            id
        };
        self.emit(&config.node, &config.pod.uid, &id, "start");
        Ok(id)
    }

    async fn stop_sandbox(&self, id: &str) -> RuntimeResult<()> {
        self.check_up()?;
        let mut w = self.world();
        if let Some(c) = w.containers.get_mut(id)
            && c.status.state == State::Running
        {
            c.status.state = State::Exited;
            c.status.exit_code = Some(0);
            c.status.finished_at = Some(Timestamp::now());
        }
        Ok(())
    }

    async fn remove_sandbox(&self, id: &str) -> RuntimeResult<()> {
        self.check_up()?;
        self.world().remove(id);
        Ok(())
    }

    async fn create_container(&self, config: &ContainerConfig) -> RuntimeResult<String> {
        self.check_up()?;
        let mut w = self.world();
        let Some(sandbox) = w.containers.get(&config.sandbox_id) else {
            return Err(RuntimeError::Create(format!(
                "no such sandbox: {}",
                config.sandbox_id
            )));
        };
        let ip = sandbox.ip.clone();
        w.next_id += 1;
        let id = format!("{:064x}", w.next_id);
        let image = config.container.image.clone().unwrap_or_default();
        let exit = config
            .pod_annotations
            .get(&format!(
                "{EXIT_ANNOTATION_PREFIX}{}",
                config.container.name
            ))
            .and_then(|t| parse_exit(t));
        let health = config
            .pod_annotations
            .get(&format!(
                "{HEALTH_ANNOTATION_PREFIX}{}",
                config.container.name
            ))
            .and_then(|t| parse_health(t));
        w.insert(
            id.clone(),
            SimContainer {
                node: config.node.clone(),
                pod: config.pod.clone(),
                sandbox: false,
                sandbox_attempt: 0,
                ip,
                exit,
                health,
                started: None,
                logs: Vec::new(),
                status: ContainerStatus {
                    id: id.clone(),
                    name: config.container.name.clone(),
                    attempt: config.attempt,
                    hash: config.hash,
                    image_id: String::new(),
                    image,
                    state: State::Created,
                    created_at: Timestamp::now(),
                    started_at: None,
                    finished_at: None,
                    exit_code: None,
                    reason: None,
                    message: None,
                },
            },
        );
        Ok(id)
    }

    async fn start_container(&self, id: &str) -> RuntimeResult<()> {
        self.check_up()?;
        tokio::time::sleep(self.start_latency).await;
        let (node, uid, exit) = {
            let mut w = self.world();
            let Some(c) = w.containers.get_mut(id) else {
                return Err(RuntimeError::NotFound(id.to_string()));
            };
            c.status.state = State::Running;
            c.status.started_at = Some(Timestamp::now());
            c.started = Some(tokio::time::Instant::now());
            c.logs.push(format!(
                "kubox-sim: started {} (image {})",
                c.status.name, c.status.image
            ));
            (c.node.clone(), c.pod.uid.clone(), c.exit)
        };
        if let Some((code, after)) = exit {
            let this = self.clone();
            let id = id.to_string();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                this.exit(&id, code);
            });
        }
        self.emit(&node, &uid, id, "start");
        Ok(())
    }

    async fn stop_container(&self, id: &str, _grace: Duration) -> RuntimeResult<()> {
        self.check_up()?;
        // A simulated process honours SIGTERM at once: exit code 143 (128 + SIGTERM).
        self.exit(id, 143);
        Ok(())
    }

    async fn kill_container(&self, id: &str) -> RuntimeResult<()> {
        self.check_up()?;
        if !self.world().containers.contains_key(id) {
            return Err(RuntimeError::NotFound(id.to_string()));
        }
        // SIGKILL: exit code 137 (128 + 9), as Docker reports a killed container.
        self.exit(id, 137);
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> RuntimeResult<()> {
        self.check_up()?;
        let removed = self.world().remove(id);
        if let Some(c) = removed {
            self.emit(&c.node, &c.pod.uid, id, "destroy");
        }
        Ok(())
    }

    async fn list_pods(&self, node: &str) -> RuntimeResult<Vec<PodStatus>> {
        self.check_up()?;
        Ok(self.status_of(node, None))
    }

    async fn pod_status(&self, node: &str, pod: &PodRef) -> RuntimeResult<PodStatus> {
        self.check_up()?;
        Ok(self
            .status_of(node, Some(&pod.uid))
            .pop()
            .unwrap_or_else(|| PodStatus::empty(pod.clone())))
    }

    async fn simulated_health(&self, container_id: &str) -> Option<bool> {
        let w = self.world();
        let c = w.containers.get(container_id)?;
        let health = c.health.unwrap_or(Health {
            healthy_at_first: true,
            switch_after: None,
        });
        let switched = match (health.switch_after, c.started) {
            (Some(after), Some(started)) => started.elapsed() >= after,
            _ => false,
        };
        Some(health.healthy_at_first != switched)
    }

    async fn exec(
        &self,
        id: &str,
        request: &super::exec::ExecRequest,
    ) -> RuntimeResult<super::exec::ExecSession> {
        self.check_up()?;
        let hostname = {
            let w = self.world();
            let Some(c) = w.containers.get(id) else {
                return Err(RuntimeError::NotFound(id.to_string()));
            };
            if c.status.state != State::Running {
                return Err(RuntimeError::Other(format!(
                    "Container {id} is not running"
                )));
            }
            c.pod.name.clone()
        };
        Ok(super::sim_shell::exec(request, &hostname))
    }

    async fn logs(
        &self,
        id: &str,
        options: &LogOptions,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<Bytes>>> {
        self.check_up()?;
        let lines = {
            let w = self.world();
            let Some(c) = w.containers.get(id) else {
                return Err(RuntimeError::NotFound(id.to_string()));
            };
            c.logs.clone()
        };
        let skip = options
            .tail
            .map_or(0, |t| lines.len().saturating_sub(t as usize));
        let line = |l: &str| Ok(Bytes::from(format!("{l}\n")));
        let now: Vec<RuntimeResult<Bytes>> = lines[skip..].iter().map(|l| line(l)).collect();
        let head = futures::stream::iter(now);
        if !options.follow {
            return Ok(head.boxed());
        }
        // Following: new lines as they come, until the container is no longer running.
        let this = self.clone();
        let id = id.to_string();
        let tail = futures::stream::unfold(lines.len(), move |sent| {
            let this = this.clone();
            let id = id.clone();
            async move {
                loop {
                    let (fresh, running) = {
                        let w = this.world();
                        let c = w.containers.get(&id)?;
                        (
                            c.logs[sent.min(c.logs.len())..].to_vec(),
                            c.status.state == State::Running,
                        )
                    };
                    if !fresh.is_empty() {
                        let text: String = fresh.iter().map(|l| format!("{l}\n")).collect();
                        return Some((Ok(Bytes::from(text)), sent + fresh.len()));
                    }
                    if !running {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
        Ok(head.chain(tail).boxed())
    }

    async fn events(&self, node: &str) -> RuntimeResult<BoxStream<'static, RuntimeEvent>> {
        self.check_up()?;
        let rx = self.events.subscribe();
        let node = node.to_string();
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => return Some((ev, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .filter_map(move |(n, ev)| {
            let keep = n == node;
            async move { keep.then_some(ev) }
        });
        Ok(stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_scripts_parse() {
        assert_eq!(parse_exit("1 after 3s"), Some((1, Duration::from_secs(3))));
        assert_eq!(
            parse_exit("oom after 0.5s"),
            Some((-137, Duration::from_millis(500)))
        );
        assert_eq!(parse_exit("1 later"), None);
        let health = |first, after: Option<u64>| {
            Some(Health {
                healthy_at_first: first,
                switch_after: after.map(Duration::from_secs),
            })
        };
        assert_eq!(parse_health("fail"), health(false, None));
        assert_eq!(parse_health("fail after 10s"), health(true, Some(10)));
        assert_eq!(parse_health("ok after 5s"), health(false, Some(5)));
        assert_eq!(parse_health("sick"), None);
    }
}
