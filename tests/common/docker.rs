//! Shared by the Docker-backed tests: a connected runtime or a plain skip, the local test image
//! (no registry is reachable in CI), and a per-test node whose containers are removed at the end.
//!
//! Without a daemon the tests print `skipped: <reason>` and pass, unless
//! `KUBOX_REQUIRE_DOCKER=1` (CI sets it), where a missing daemon fails them.

use std::collections::BTreeMap;
use std::future::Future;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use k8s_openapi::api::core::v1::Container;
use kubox::kubelet::runtime::docker::DockerRuntime;
use kubox::kubelet::runtime::docker::tarball::Tarball;
use kubox::kubelet::runtime::{
    ContainerConfig, LABEL_NODE, PodRef, PodStatus, Runtime, SandboxConfig,
};

/// Busybox from the host's `busybox-static`, imported as a one-layer image.
pub const TEST_IMAGE: &str = "kubox-test/busybox:1";
const BUSYBOX: &str = "/bin/busybox";

/// One import of the test image at a time in this process.
static IMAGE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The cluster id of this test process's runtime ([`docker`]): one per process, so tests in
/// parallel binaries never see each other's containers even on a shared node name.
pub fn test_cluster() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| format!("test-{}", uuid::Uuid::new_v4().simple()))
}

/// The runtime (as cluster [`test_cluster`]) with the test image present, or `None` (said on
/// stderr) without a daemon.
pub async fn docker() -> Option<DockerRuntime> {
    match DockerRuntime::connect(test_cluster()).await {
        Ok(runtime) => {
            ensure_test_image(&runtime).await;
            Some(runtime)
        }
        Err(e) => {
            assert!(
                std::env::var("KUBOX_REQUIRE_DOCKER").is_err(),
                "KUBOX_REQUIRE_DOCKER is set but Docker is not usable: {e}"
            );
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// Imports [`TEST_IMAGE`] from the host's static busybox when the daemon does not have it.
pub async fn ensure_test_image(runtime: &DockerRuntime) {
    let _one_at_a_time = IMAGE_LOCK.lock().await;
    if runtime.image_present(TEST_IMAGE).await.unwrap().is_some() {
        return;
    }
    let busybox = std::fs::read(BUSYBOX).unwrap_or_else(|e| {
        panic!("the Docker tests need {BUSYBOX} from Debian's busybox-static package: {e}")
    });
    assert!(
        is_static_elf(&busybox),
        "{BUSYBOX} is not statically linked; install Debian's busybox-static, not busybox"
    );
    let list = Command::new(BUSYBOX).arg("--list").output().unwrap();
    let applets = String::from_utf8(list.stdout).unwrap();
    let mut tar = Tarball::new();
    tar.dir("bin", 0o755)
        .file("bin/busybox", 0o755, &busybox)
        .dir("tmp", 0o1777)
        .dir("etc", 0o755);
    for applet in applets.lines().filter(|a| !a.is_empty() && *a != "busybox") {
        tar.symlink(&format!("bin/{applet}"), "busybox");
    }
    runtime
        .import_image(TEST_IMAGE, tar.finish(), &[r#"CMD ["sh"]"#])
        .await
        .unwrap();
}

/// An ELF without a `PT_INTERP` program header needs no dynamic loader.
fn is_static_elf(elf: &[u8]) -> bool {
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 {
        return false;
    }
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        elf.get(at..at + 4)
            .is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) != 3)
    })
}

/// A node name of this test's own; everything labelled with it is removed on drop, with the
/// extra containers named by [`TestNode::also_remove`].
pub struct TestNode {
    pub name: String,
    extra: Mutex<Vec<String>>,
}

impl TestNode {
    pub fn new() -> Self {
        TestNode {
            name: format!("test-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            extra: Mutex::new(Vec::new()),
        }
    }

    /// A node of the given name (another cluster's node of the same name as one of this test).
    pub fn named(name: &str) -> Self {
        TestNode {
            name: name.to_string(),
            extra: Mutex::new(Vec::new()),
        }
    }

    pub fn also_remove(&self, container: &str) {
        self.extra.lock().unwrap().push(container.to_string());
    }

    pub fn pod(&self, name: &str) -> PodRef {
        PodRef {
            namespace: "default".into(),
            name: name.into(),
            uid: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub fn sandbox(&self, pod: &PodRef) -> SandboxConfig {
        SandboxConfig {
            pod: pod.clone(),
            node: self.name.clone(),
            attempt: 0,
            hostname: pod.name.clone(),
            port_mappings: Vec::new(),
        }
    }

    /// A container of the test image running `sh -c script`.
    pub fn shell(&self, pod: &PodRef, sandbox: &str, name: &str, script: &str) -> ContainerConfig {
        self.container(
            pod,
            sandbox,
            Container {
                name: name.into(),
                image: Some(TEST_IMAGE.into()),
                command: Some(vec!["sh".into(), "-c".into(), script.into()]),
                ..Default::default()
            },
        )
    }

    pub fn container(&self, pod: &PodRef, sandbox: &str, container: Container) -> ContainerConfig {
        ContainerConfig {
            pod: pod.clone(),
            node: self.name.clone(),
            sandbox_id: sandbox.into(),
            container,
            env: Vec::new(),
            mounts: Vec::new(),
            attempt: 0,
            hash: 0x1234_abcd,
            pod_annotations: BTreeMap::new(),
        }
    }
}

impl Default for TestNode {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let node = self.name.clone();
        let extra = std::mem::take(&mut *self.extra.lock().unwrap());
        // Drop cannot await, and the test's runtime may be shutting down: clean up from a
        // thread with a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(remove_node_containers(&node, &extra));
        });
        let _ = cleanup.join();
    }
}

async fn remove_node_containers(node: &str, extra: &[String]) {
    let Ok(runtime) = DockerRuntime::connect(test_cluster()).await else {
        return;
    };
    let docker = runtime.client();
    let filters =
        std::collections::HashMap::from([("label", vec![format!("{LABEL_NODE}={node}")])]);
    let mut extra = extra.to_vec();
    // A pod worker of the stopped kubelet may still finish the sync it was in (a create after
    // the first sweep was seen in CI): sweep until a listing comes back empty twice in a row.
    let mut quiet = 0;
    for _ in 0..20 {
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let mut ids: Vec<String> = docker
            .list_containers(Some(options))
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.id)
            .collect();
        ids.append(&mut extra);
        quiet = if ids.is_empty() { quiet + 1 } else { 0 };
        if quiet == 2 {
            return;
        }
        for id in ids {
            let options = RemoveContainerOptionsBuilder::default()
                .force(true)
                .v(true)
                .build();
            let _ = docker.remove_container(&id, Some(options)).await;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Polls the pod until `done` holds, at most `limit`.
pub async fn wait_for_pod(
    runtime: &DockerRuntime,
    node: &str,
    pod: &PodRef,
    limit: Duration,
    done: impl Fn(&PodStatus) -> bool,
) -> PodStatus {
    let start = Instant::now();
    loop {
        let status = runtime.pod_status(node, pod).await.unwrap();
        if done(&status) {
            return status;
        }
        assert!(
            start.elapsed() < limit,
            "pod {} never got there in {limit:?}: {status:#?}",
            pod.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `f` with a time limit, failing the test when it runs out.
pub async fn within<T>(limit: Duration, what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| panic!("{what} took more than {limit:?}"))
}
