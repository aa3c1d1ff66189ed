//! Spare capacity trimmed from decoded objects that components keep.
//!
//! serde decodes a JSON array into a `Vec` that grows as it goes, and a `Vec` of k8s-openapi
//! structs starts at four slots: one container status reserves room for four (~700 bytes
//! each), five pod conditions reserve eight. Over 10,000 pods held by the scheduler, the
//! kubelets and the TUI that spare room was a third of the decoded pods' heap. The watch path
//! trims each object it shares (see `shared.rs`), once, right after decoding it.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Node, Pod};

fn shrink<T>(v: &mut Option<Vec<T>>) {
    if let Some(v) = v {
        v.shrink_to_fit();
    }
}

fn shrink_container(c: &mut Container) {
    shrink(&mut c.args);
    shrink(&mut c.command);
    shrink(&mut c.env);
    shrink(&mut c.env_from);
    shrink(&mut c.ports);
    shrink(&mut c.resize_policy);
    shrink(&mut c.volume_devices);
    shrink(&mut c.volume_mounts);
}

fn shrink_status(s: &mut ContainerStatus) {
    shrink(&mut s.allocated_resources_status);
    shrink(&mut s.volume_mounts);
}

pub(crate) fn pod(pod: &mut Pod) {
    let meta = &mut pod.metadata;
    shrink(&mut meta.finalizers);
    shrink(&mut meta.managed_fields);
    shrink(&mut meta.owner_references);
    if let Some(spec) = &mut pod.spec {
        spec.containers.shrink_to_fit();
        spec.containers.iter_mut().for_each(shrink_container);
        if let Some(init) = &mut spec.init_containers {
            init.shrink_to_fit();
            init.iter_mut().for_each(shrink_container);
        }
        shrink(&mut spec.ephemeral_containers);
        shrink(&mut spec.host_aliases);
        shrink(&mut spec.image_pull_secrets);
        shrink(&mut spec.readiness_gates);
        shrink(&mut spec.resource_claims);
        shrink(&mut spec.scheduling_gates);
        shrink(&mut spec.tolerations);
        shrink(&mut spec.topology_spread_constraints);
        shrink(&mut spec.volumes);
    }
    if let Some(status) = &mut pod.status {
        shrink(&mut status.conditions);
        shrink(&mut status.host_ips);
        shrink(&mut status.pod_ips);
        shrink(&mut status.resource_claim_statuses);
        for statuses in [
            &mut status.container_statuses,
            &mut status.init_container_statuses,
            &mut status.ephemeral_container_statuses,
        ]
        .into_iter()
        .flatten()
        {
            statuses.shrink_to_fit();
            statuses.iter_mut().for_each(shrink_status);
        }
    }
}

pub(crate) fn node(node: &mut Node) {
    shrink(&mut node.metadata.finalizers);
    shrink(&mut node.metadata.managed_fields);
    if let Some(spec) = &mut node.spec {
        shrink(&mut spec.pod_cidrs);
        shrink(&mut spec.taints);
    }
    if let Some(status) = &mut node.status {
        shrink(&mut status.addresses);
        shrink(&mut status.conditions);
        if let Some(images) = &mut status.images {
            images.shrink_to_fit();
            for image in images {
                shrink(&mut image.names);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decoded_pod_keeps_no_spare_slots_and_the_same_content() {
        let json = serde_json::json!({
            "metadata": {"name": "web", "finalizers": ["a"]},
            "spec": {"containers": [{"name": "app", "image": "busybox", "args": ["sleep", "1"]}],
                     "tolerations": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "containerStatuses": [{"name": "app", "image": "busybox", "imageID": "",
                                              "ready": true, "restartCount": 0}],
                       "podIPs": [{"ip": "10.0.0.1"}]},
        });
        let decoded: Pod = serde_json::from_value(json).unwrap();
        let mut trimmed = decoded.clone();
        pod(&mut trimmed);
        assert_eq!(trimmed, decoded);
        let spec = trimmed.spec.as_ref().unwrap();
        let status = trimmed.status.as_ref().unwrap();
        assert_eq!(spec.containers.capacity(), 1);
        assert_eq!(spec.tolerations.as_ref().unwrap().capacity(), 2);
        assert_eq!(status.conditions.as_ref().unwrap().capacity(), 1);
        assert_eq!(status.container_statuses.as_ref().unwrap().capacity(), 1);
        assert_eq!(status.pod_ips.as_ref().unwrap().capacity(), 1);
    }
}
