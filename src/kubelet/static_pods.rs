//! Static pods: the kubelet's file source. Each node reads its own directory,
//! `<manifests>/<node>/*.yaml` (as each kubelet has its own `staticPodPath`), every second.
//! A manifest added starts its pod without the scheduler; changed, restarts it; removed, stops
//! it. Each runs as `<name>-<node>` with the uid derived from the node, the file and its
//! content (the `kubernetes.io/config.hash`), and appears in the API as a mirror pod carrying
//! `kubernetes.io/config.mirror: <hash>`. Deleting the mirror pod does not stop the static
//! pod: the kubelet puts the mirror back, as Kubernetes' does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use tokio_util::sync::CancellationToken;

use super::run::Kubelet;
use crate::api::validation::field::invalid_message;
use crate::api::validation::pod::validate_pod_create;
use crate::api::yaml::{decode, parse_manifests};
use crate::api::{Api, DeleteParams};

pub const ANNOTATION_SOURCE: &str = "kubernetes.io/config.source";
pub const ANNOTATION_HASH: &str = "kubernetes.io/config.hash";
pub const ANNOTATION_MIRROR: &str = "kubernetes.io/config.mirror";

/// How often the directory is read.
pub const POLL: Duration = Duration::from_secs(1);

/// True for a mirror pod (the API's picture of a static pod, which the kubelet never runs
/// from the API).
pub fn is_mirror(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(ANNOTATION_MIRROR))
}

/// The static pod a mirror pod stands for (its config hash, which is the static pod's uid).
pub fn mirror_of(pod: &Pod) -> Option<&str> {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_MIRROR))
        .map(String::as_str)
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Reads one manifest file into the static pod the kubelet runs.
pub fn static_pod(path: &Path, text: &str, node: &str) -> Result<Pod, String> {
    let manifests = parse_manifests(text).map_err(|e| e.to_string())?;
    let [manifest] = manifests.as_slice() else {
        return Err(format!(
            "a static pod manifest holds one Pod; this one holds {}",
            manifests.len()
        ));
    };
    let mut pod: Pod = decode(manifest).map_err(|e| e.to_string())?;
    let name = pod.metadata.name.clone().unwrap_or_default();
    if name.is_empty() {
        return Err("metadata.name: Required value".into());
    }
    let hash = format!(
        "{:016x}",
        fnv(format!("{node}\n{}\n{text}", path.display()).as_bytes())
    );
    let full = format!("{name}-{node}");
    pod.metadata.name = Some(full.clone());
    pod.metadata
        .namespace
        .get_or_insert_with(|| "default".to_string());
    pod.metadata.uid = Some(hash.clone());
    let annotations = pod
        .metadata
        .annotations
        .get_or_insert_with(Default::default);
    annotations.insert(ANNOTATION_SOURCE.into(), "file".into());
    annotations.insert(ANNOTATION_HASH.into(), hash);
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.node_name = Some(node.to_string());
    crate::api::defaults::default_pod(&mut pod);
    let errors = validate_pod_create(&pod);
    if !errors.is_empty() {
        return Err(invalid_message("Pod", &full, &errors));
    }
    Ok(pod)
}

/// The mirror pod the API shows for `pod` on `node`.
pub fn mirror_pod(pod: &Pod, node: &Node) -> Pod {
    let mut mirror = pod.clone();
    let hash = pod.metadata.uid.clone().unwrap_or_default();
    mirror.metadata.uid = None;
    mirror.metadata.resource_version = None;
    mirror
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(ANNOTATION_MIRROR.into(), hash);
    mirror.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        kind: "Node".into(),
        name: node.metadata.name.clone().unwrap_or_default(),
        uid: node.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    }]);
    mirror.status = None;
    mirror
}

/// The manifest files of a directory, sorted.
fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
        })
        .collect();
    files.sort();
    files
}

impl Kubelet {
    /// The file source: reads this node's manifest directory every [`POLL`] until `stop`.
    pub(crate) async fn static_pods(self: Arc<Self>, dir: PathBuf, stop: CancellationToken) {
        let mut running: HashMap<PathBuf, Arc<Pod>> = HashMap::new();
        let mut broken: HashMap<PathBuf, String> = HashMap::new();
        loop {
            let mut seen = HashMap::new();
            for path in manifest_files(&dir) {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                match static_pod(&path, &text, self.node_name()) {
                    Ok(pod) => {
                        broken.remove(&path);
                        seen.insert(path, Arc::new(pod));
                    }
                    Err(e) => {
                        if broken.get(&path) != Some(&e) {
                            tracing::warn!(node = %self.node_name(), file = %path.display(), error = %e, "static pod manifest refused");
                            broken.insert(path, e);
                        }
                    }
                }
            }
            // Gone or changed: stop the old pod (its mirror goes with it).
            for (path, old) in running.clone() {
                let same = seen
                    .get(&path)
                    .is_some_and(|new| new.metadata.uid == old.metadata.uid);
                if !same {
                    running.remove(&path);
                    self.stop_static(&old).await;
                }
            }
            for (path, pod) in seen {
                if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(path) {
                    self.start_static(&pod, &stop);
                    slot.insert(pod);
                }
            }
            for pod in running.values() {
                self.ensure_mirror(pod).await;
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    fn start_static(self: &Arc<Self>, pod: &Arc<Pod>, stop: &CancellationToken) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        self.static_uids().insert(uid);
        self.dispatch(pod.clone(), stop);
    }

    async fn stop_static(&self, pod: &Pod) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        self.static_uids().remove(&uid);
        self.forget_worker(&uid);
        let pods: Api<Pod> = Api::namespaced(
            &self.api,
            pod.metadata.namespace.as_deref().unwrap_or("default"),
            self.actor(),
        );
        let name = pod.metadata.name.clone().unwrap_or_default();
        if let Ok(Some(mirror)) = pods.get_opt(&name)
            && mirror_of(&mirror) == Some(uid.as_str())
        {
            let _ = pods.delete(&name, &DeleteParams::grace(0)).await;
        }
    }

    /// Puts the mirror pod in place: created when missing, replaced when it stands for another
    /// version of the manifest or is being deleted.
    async fn ensure_mirror(&self, pod: &Pod) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let pods: Api<Pod> = Api::namespaced(
            &self.api,
            pod.metadata.namespace.as_deref().unwrap_or("default"),
            self.actor(),
        );
        match pods.get_opt(&name) {
            Ok(Some(m))
                if mirror_of(&m) == Some(uid.as_str())
                    && m.metadata.deletion_timestamp.is_none() =>
            {
                return;
            }
            Ok(Some(_)) => {
                let _ = pods.delete(&name, &DeleteParams::grace(0)).await;
            }
            Ok(None) => {}
            Err(_) => return,
        }
        let nodes: Api<Node> = Api::all(&self.api, self.actor());
        let Ok(Some(node)) = nodes.get_opt(self.node_name()) else {
            return;
        };
        match pods.create(mirror_pod(pod, &node)).await {
            Ok(_) => {
                // The mirror has the status the static pod has; write it now.
                self.poke(&uid);
            }
            Err(e) => {
                tracing::debug!(pod = %name, error = %e, "could not create the mirror pod")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: busybox\n";

    #[test]
    fn a_manifest_becomes_the_node_s_static_pod() {
        let pod = static_pod(Path::new("/m/node-1/web.yaml"), MANIFEST, "node-1").unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("web-node-1"));
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("node-1"));
        assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
        let hash = pod.metadata.annotations.as_ref().unwrap()[ANNOTATION_HASH].clone();
        assert_eq!(pod.metadata.uid.as_deref(), Some(hash.as_str()));
        // Another node, or another content: another uid.
        let other = static_pod(Path::new("/m/node-2/web.yaml"), MANIFEST, "node-2").unwrap();
        assert_ne!(other.metadata.uid, pod.metadata.uid);
        let changed = MANIFEST.replace("busybox", "busybox:1.36");
        let changed = static_pod(Path::new("/m/node-1/web.yaml"), &changed, "node-1").unwrap();
        assert_ne!(changed.metadata.uid, pod.metadata.uid);

        let mut node = Node::default();
        node.metadata.name = Some("node-1".into());
        let mirror = mirror_pod(&pod, &node);
        assert!(is_mirror(&mirror));
        assert_eq!(mirror_of(&mirror), Some(hash.as_str()));
        assert_eq!(mirror.metadata.uid, None);
        assert_eq!(
            mirror.metadata.owner_references.as_ref().unwrap()[0].kind,
            "Node"
        );
    }

    #[test]
    fn bad_manifests_say_where() {
        let err = static_pod(
            Path::new("x.yaml"),
            "kind: Pod\napiVersion: v1\nspec: [",
            "n",
        )
        .unwrap_err();
        assert!(err.contains("line"), "{err}");
        let err = static_pod(
            Path::new("x.yaml"),
            &MANIFEST.replace("name: app", "name: APP"),
            "n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("Pod \"web-n\" is invalid: spec.containers[0].name"),
            "{err}"
        );
    }
}
