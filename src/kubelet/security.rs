//! The effective security context of a container (`DetermineEffectiveSecurityContext`): the
//! pod's `securityContext` fields a container can also set (`runAsUser`, `runAsGroup`,
//! `runAsNonRoot`, `seLinuxOptions`, `seccompProfile`, `appArmorProfile`) apply to every
//! container that does not set them itself.

use k8s_openapi::api::core::v1::{Container, Pod, SecurityContext};

/// `container` with the pod-level settings filled in where it has none.
pub fn effective_container(pod: &Pod, container: &Container) -> Container {
    let Some(pod_sc) = pod.spec.as_ref().and_then(|s| s.security_context.as_ref()) else {
        return container.clone();
    };
    let mut c = container.clone();
    let sc = c
        .security_context
        .get_or_insert_with(SecurityContext::default);
    sc.run_as_user = sc.run_as_user.or(pod_sc.run_as_user);
    sc.run_as_group = sc.run_as_group.or(pod_sc.run_as_group);
    sc.run_as_non_root = sc.run_as_non_root.or(pod_sc.run_as_non_root);
    if sc.se_linux_options.is_none() {
        sc.se_linux_options = pod_sc.se_linux_options.clone();
    }
    if sc.seccomp_profile.is_none() {
        sc.seccomp_profile = pod_sc.seccomp_profile.clone();
    }
    if sc.app_armor_profile.is_none() {
        sc.app_armor_profile = pod_sc.app_armor_profile.clone();
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_container_wins_and_the_pod_fills_in() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {
                "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "runAsNonRoot": true},
                "containers": [
                    {"name": "a", "image": "busybox"},
                    {"name": "b", "image": "busybox", "securityContext": {"runAsUser": 2000}},
                ],
            },
        }))
        .unwrap();
        let spec = pod.spec.as_ref().unwrap();
        let a = effective_container(&pod, &spec.containers[0]);
        let sc = a.security_context.unwrap();
        assert_eq!((sc.run_as_user, sc.run_as_group), (Some(1000), Some(3000)));
        assert_eq!(sc.run_as_non_root, Some(true));
        let b = effective_container(&pod, &spec.containers[1]);
        let sc = b.security_context.unwrap();
        assert_eq!((sc.run_as_user, sc.run_as_group), (Some(2000), Some(3000)));
    }
}
