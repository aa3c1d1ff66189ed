//! Pod validation on create (`ValidatePodCreate` → `validatePodMetadataAndSpec` →
//! `ValidatePodSpec`, v1.32): metadata, pod-specific annotations, volumes, containers,
//! restart/DNS policies, node selector, security context, affinity, DNS config, gates,
//! topology spread, names of service account / node / priority class / runtime class,
//! `activeDeadlineSeconds`, hostname, tolerations, host aliases, preemption policy,
//! overhead and OS.
//!
//! Validation runs on the *defaulted* object, as in the API server: call
//! [`crate::api::defaults::default_pod`] first (an undefaulted pod fails with e.g.
//! `spec.terminationGracePeriodSeconds: Required value`).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    HostAlias, KeyToPath, Pod, PodDNSConfig, PodSecurityContext, PodSpec, ResourceRequirements,
    Volume,
};

use super::container::{
    PodContext, id_range_error, image_whitespace_errors, validate_containers,
    validate_init_containers, validate_local_descending_path, validate_no_backsteps,
    validate_resource_requirements,
};
use super::field::{FieldError, Path};
use super::messages as msg;
use super::meta::{NameKind, validate_labels, validate_object_meta};
use super::names::{is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_ip};
use super::opt_str;
use super::scheduling::{validate_affinity, validate_tolerations, validate_topology_spread};
use crate::api::quantity::{Quantity, QuantityError};

/// The mirror-pod annotation set on static pods' API copies.
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";
/// The ReplicaSet scale-down preference annotation.
pub const POD_DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

/// Go `ValidatePodCreate`.
pub fn validate_pod_create(pod: &Pod) -> Vec<FieldError> {
    let mut errs = validate_pod_metadata_and_spec(pod, false);
    let spec_path = Path::new("spec");
    let Some(spec) = &pod.spec else {
        return errs;
    };
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        errs.push(FieldError::forbidden(
            spec_path.child("ephemeralContainers"),
            msg::EPHEMERAL_ON_CREATE,
        ));
    }
    let gated = spec
        .scheduling_gates
        .as_ref()
        .is_some_and(|g| !g.is_empty());
    if !opt_str(&spec.node_name).is_empty() && gated {
        errs.push(FieldError::forbidden(
            spec_path.child("nodeName"),
            msg::NODE_NAME_WITH_GATES,
        ));
    }
    errs
}

/// Go `validatePodMetadataAndSpec`. `allow_invalid_deletion_cost` mirrors
/// `PodValidationOptions.AllowInvalidPodDeletionCost` (true on update when the old pod
/// already had an invalid value).
pub(crate) fn validate_pod_metadata_and_spec(
    pod: &Pod,
    allow_invalid_deletion_cost: bool,
) -> Vec<FieldError> {
    let meta_path = Path::new("metadata");
    let spec_path = Path::new("spec");
    let empty = PodSpec::default();
    let spec = pod.spec.as_ref().unwrap_or(&empty);
    let mut errs = validate_object_meta(&pod.metadata, true, NameKind::DnsSubdomain);
    errs.extend(validate_pod_specific_annotations(
        pod,
        &meta_path.child("annotations"),
        allow_invalid_deletion_cost,
    ));
    errs.extend(validate_pod_spec(spec, &spec_path));
    errs.extend(image_whitespace_errors(
        &spec.containers,
        &spec_path.child("containers"),
    ));
    errs.extend(image_whitespace_errors(
        spec.init_containers.as_deref().unwrap_or_default(),
        &spec_path.child("initContainers"),
    ));
    errs
}

/// Go `ValidatePodSpecificAnnotations` (mirror pods, deletion cost).
fn validate_pod_specific_annotations(
    pod: &Pod,
    path: &Path,
    allow_invalid_cost: bool,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(annotations) = &pod.metadata.annotations else {
        return errs;
    };
    let node_name = pod
        .spec
        .as_ref()
        .map(|s| opt_str(&s.node_name))
        .unwrap_or_default();
    if let Some(value) = annotations.get(MIRROR_POD_ANNOTATION)
        && node_name.is_empty()
    {
        errs.push(FieldError::invalid(
            path.key(MIRROR_POD_ANNOTATION),
            value,
            msg::MIRROR_NEEDS_NODE_NAME,
        ));
    }
    if !allow_invalid_cost
        && let Some(value) = annotations.get(POD_DELETION_COST_ANNOTATION)
        && !is_valid_deletion_cost(value)
    {
        errs.push(FieldError::invalid(
            path.key(POD_DELETION_COST_ANNOTATION),
            value,
            msg::DELETION_COST_INT32,
        ));
    }
    errs
}

/// Go `GetDeletionCostFromPodAnnotations`: an int32 without `+` or leading zeros.
pub(crate) fn is_valid_deletion_cost(value: &str) -> bool {
    let valid_first = match value.as_bytes().first() {
        Some(b'-') => true,
        Some(b'0') => value == "0",
        Some(b) => b.is_ascii_digit(),
        None => false,
    };
    valid_first && value.parse::<i32>().is_ok()
}

/// Go `ValidatePodSpec`.
pub fn validate_pod_spec(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if spec.termination_grace_period_seconds.is_none() {
        errs.push(FieldError::required(
            path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let (volumes, volume_errs) = validate_volumes(
        spec.volumes.as_deref().unwrap_or_default(),
        &path.child("volumes"),
    );
    errs.extend(volume_errs);
    let ctx = PodContext {
        volumes: &volumes,
        grace_period: spec.termination_grace_period_seconds,
    };
    errs.extend(validate_containers(
        &spec.containers,
        &ctx,
        &path.child("containers"),
    ));
    errs.extend(validate_init_containers(
        spec.init_containers.as_deref().unwrap_or_default(),
        &spec.containers,
        &ctx,
        &path.child("initContainers"),
    ));
    errs.extend(validate_host_network_ports(spec, path));
    errs.extend(validate_policies(spec, path));
    errs.extend(validate_labels(
        spec.node_selector.as_ref(),
        &path.child("nodeSelector"),
    ));
    errs.extend(validate_pod_security_context(
        spec,
        &path.child("securityContext"),
    ));
    errs.extend(validate_affinity(
        spec.affinity.as_ref(),
        &path.child("affinity"),
    ));
    errs.extend(validate_dns_config(spec, &path.child("dnsConfig")));
    errs.extend(validate_gates(spec, path));
    errs.extend(validate_topology_spread(
        spec.topology_spread_constraints
            .as_deref()
            .unwrap_or_default(),
        &path.child("topologySpreadConstraints"),
    ));
    errs.extend(validate_names_and_deadline(spec, path));
    errs.extend(validate_tolerations(
        spec.tolerations.as_deref().unwrap_or_default(),
        &path.child("tolerations"),
    ));
    errs.extend(validate_host_aliases(
        spec.host_aliases.as_deref().unwrap_or_default(),
        &path.child("hostAliases"),
    ));
    errs.extend(validate_class_names_and_overhead(spec, path));
    errs.extend(validate_os(spec, &path.child("os")));
    errs
}

/// Go `validatePodHostNetworkDeps` for pods: with host networking every container's
/// `hostPort` must equal its `containerPort`.
fn validate_host_network_ports(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    if !spec.host_network.unwrap_or_default() {
        return Vec::new();
    }
    let containers_path = path.child("containers");
    let mut errs = Vec::new();
    for (i, ctr) in spec.containers.iter().enumerate() {
        let ports_path = containers_path.index(i).child("ports");
        for (j, port) in ctr.ports.iter().flatten().enumerate() {
            let host_port = port.host_port.unwrap_or_default();
            if host_port != port.container_port {
                errs.push(FieldError::invalid(
                    ports_path.index(j).child("hostPort"),
                    host_port,
                    msg::HOST_PORT_MUST_MATCH,
                ));
            }
        }
    }
    errs
}

/// Go `validateRestartPolicy` and `validateDNSPolicy`.
fn validate_policies(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let restart = path.child("restartPolicy");
    match opt_str(&spec.restart_policy) {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(restart, "")),
        other => errs.push(FieldError::not_supported(
            restart,
            other,
            &["Always", "OnFailure", "Never"],
        )),
    }
    let dns = path.child("dnsPolicy");
    match opt_str(&spec.dns_policy) {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.push(FieldError::required(dns, "")),
        other => errs.push(FieldError::not_supported(
            dns,
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    errs
}

/// Go `ValidateVolumes`: returns the names of the volumes that validated cleanly (the
/// ones volume mounts may refer to) and the errors.
fn validate_volumes(volumes: &[Volume], path: &Path) -> (BTreeSet<String>, Vec<FieldError>) {
    let mut names = BTreeSet::new();
    let mut errs = Vec::new();
    for (i, vol) in volumes.iter().enumerate() {
        let idx = path.index(i);
        let name_path = idx.child("name");
        let mut el = validate_volume_source(vol, &idx);
        if vol.name.is_empty() {
            el.push(FieldError::required(&name_path, ""));
        } else {
            el.extend(
                is_dns1123_label(&vol.name)
                    .into_iter()
                    .map(|m| FieldError::invalid(&name_path, &vol.name, m)),
            );
        }
        if names.contains(&vol.name) {
            el.push(FieldError::duplicate(&name_path, &vol.name));
        }
        if el.is_empty() {
            names.insert(vol.name.clone());
        } else {
            errs.extend(el);
        }
    }
    (names, errs)
}

/// Go `validateVolumeSource`: exactly one volume type, plus checks for the common ones
/// (emptyDir, hostPath, secret, configMap, persistentVolumeClaim, nfs).
fn validate_volume_source(vol: &Volume, path: &Path) -> Vec<FieldError> {
    let present: [(&str, bool); 30] = [
        ("emptyDir", vol.empty_dir.is_some()),
        ("hostPath", vol.host_path.is_some()),
        ("gitRepo", vol.git_repo.is_some()),
        ("gcePersistentDisk", vol.gce_persistent_disk.is_some()),
        (
            "awsElasticBlockStore",
            vol.aws_elastic_block_store.is_some(),
        ),
        ("secret", vol.secret.is_some()),
        ("nfs", vol.nfs.is_some()),
        ("iscsi", vol.iscsi.is_some()),
        ("glusterfs", vol.glusterfs.is_some()),
        ("flocker", vol.flocker.is_some()),
        (
            "persistentVolumeClaim",
            vol.persistent_volume_claim.is_some(),
        ),
        ("rbd", vol.rbd.is_some()),
        ("cinder", vol.cinder.is_some()),
        ("cephFS", vol.cephfs.is_some()),
        ("quobyte", vol.quobyte.is_some()),
        // Go misspells this path in the "more than 1 volume type" error.
        ("downwarAPI", vol.downward_api.is_some()),
        ("fc", vol.fc.is_some()),
        ("flexVolume", vol.flex_volume.is_some()),
        ("configMap", vol.config_map.is_some()),
        ("azureFile", vol.azure_file.is_some()),
        ("vsphereVolume", vol.vsphere_volume.is_some()),
        ("photonPersistentDisk", vol.photon_persistent_disk.is_some()),
        ("portworxVolume", vol.portworx_volume.is_some()),
        ("azureDisk", vol.azure_disk.is_some()),
        ("storageos", vol.storageos.is_some()),
        ("projected", vol.projected.is_some()),
        ("scaleIO", vol.scale_io.is_some()),
        ("csi", vol.csi.is_some()),
        ("ephemeral", vol.ephemeral.is_some()),
        ("image", vol.image.is_some()),
    ];
    let mut errs = Vec::new();
    let mut count = 0;
    for (field, is_set) in present {
        if !is_set {
            continue;
        }
        if count > 0 {
            errs.push(FieldError::forbidden(
                path.child(field),
                msg::MORE_THAN_ONE_VOLUME_TYPE,
            ));
        } else {
            count += 1;
            errs.extend(validate_one_volume_type(vol, field, &path.child(field)));
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, msg::MUST_SPECIFY_VOLUME_TYPE));
    }
    errs
}

const FILE_MODE_ERROR: &str = "must be a number between 0 and 0777 (octal), both inclusive";

fn validate_one_volume_type(vol: &Volume, field: &str, path: &Path) -> Vec<FieldError> {
    match field {
        "emptyDir" => validate_empty_dir(vol, path),
        "hostPath" => vol
            .host_path
            .as_ref()
            .map(|hp| validate_host_path(&hp.path, hp.type_.as_deref(), path))
            .unwrap_or_default(),
        "secret" => vol
            .secret
            .as_ref()
            .map(|s| {
                let mut errs = Vec::new();
                if opt_str(&s.secret_name).is_empty() {
                    errs.push(FieldError::required(path.child("secretName"), ""));
                }
                errs.extend(validate_mode_and_items(
                    s.default_mode,
                    s.items.as_deref(),
                    path,
                ));
                errs
            })
            .unwrap_or_default(),
        "configMap" => vol
            .config_map
            .as_ref()
            .map(|cm| {
                let mut errs = Vec::new();
                if cm.name.is_empty() {
                    errs.push(FieldError::required(path.child("name"), ""));
                }
                errs.extend(validate_mode_and_items(
                    cm.default_mode,
                    cm.items.as_deref(),
                    path,
                ));
                errs
            })
            .unwrap_or_default(),
        "persistentVolumeClaim" => vol
            .persistent_volume_claim
            .as_ref()
            .filter(|pvc| pvc.claim_name.is_empty())
            .map(|_| vec![FieldError::required(path.child("claimName"), "")])
            .unwrap_or_default(),
        "nfs" => vol
            .nfs
            .as_ref()
            .map(|nfs| validate_nfs(&nfs.server, &nfs.path, path))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn validate_empty_dir(vol: &Volume, path: &Path) -> Vec<FieldError> {
    let negative = vol
        .empty_dir
        .as_ref()
        .and_then(|e| e.size_limit.as_ref())
        .and_then(|q| Quantity::from_k8s(q).ok())
        .is_some_and(|q| q.is_negative());
    if negative {
        vec![FieldError::forbidden(
            path.child("sizeLimit"),
            "SizeLimit field must be a valid resource quantity",
        )]
    } else {
        Vec::new()
    }
}

/// Go `validateNFSVolumeSource`.
fn validate_nfs(server: &str, nfs_path: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if server.is_empty() {
        errs.push(FieldError::required(path.child("server"), ""));
    }
    if nfs_path.is_empty() {
        errs.push(FieldError::required(path.child("path"), ""));
    }
    if !nfs_path.starts_with('/') {
        errs.push(FieldError::invalid(
            path.child("path"),
            nfs_path,
            "must be an absolute path",
        ));
    }
    errs
}

/// Go `validateHostPathVolumeSource`.
fn validate_host_path(host_path: &str, type_: Option<&str>, path: &Path) -> Vec<FieldError> {
    if host_path.is_empty() {
        return vec![FieldError::required(path.child("path"), "")];
    }
    let mut errs = validate_no_backsteps(host_path, &path.child("path"));
    const TYPES: [&str; 8] = [
        "",
        "BlockDevice",
        "CharDevice",
        "Directory",
        "DirectoryOrCreate",
        "File",
        "FileOrCreate",
        "Socket",
    ];
    if let Some(t) = type_
        && !TYPES.contains(&t)
    {
        errs.push(FieldError::not_supported(path.child("type"), t, &TYPES));
    }
    errs
}

fn validate_mode_and_items(
    mode: Option<i32>,
    items: Option<&[KeyToPath]>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(mode) = mode
        && !(0..=0o777).contains(&mode)
    {
        errs.push(FieldError::invalid(
            path.child("defaultMode"),
            mode,
            FILE_MODE_ERROR,
        ));
    }
    let items_path = path.child("items");
    for (i, item) in items.unwrap_or_default().iter().enumerate() {
        let idx = items_path.index(i);
        if item.key.is_empty() {
            errs.push(FieldError::required(idx.child("key"), ""));
        }
        if item.path.is_empty() {
            errs.push(FieldError::required(idx.child("path"), ""));
        }
        errs.extend(validate_local_non_reserved_path(
            &item.path,
            &idx.child("path"),
        ));
        if let Some(mode) = item.mode
            && !(0..=0o777).contains(&mode)
        {
            errs.push(FieldError::invalid(
                idx.child("mode"),
                mode,
                FILE_MODE_ERROR,
            ));
        }
    }
    errs
}

/// Go `ValidateLocalNonReservedPath`.
fn validate_local_non_reserved_path(target: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_local_descending_path(target, path);
    let base = target
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if base.starts_with("..") && errs.is_empty() {
        errs.push(FieldError::invalid(
            path,
            target,
            "must not start with '..'",
        ));
    }
    errs
}

/// Go `validatePodSpecSecurityContext` (ids, shareProcessNamespace vs hostPID,
/// fsGroupChangePolicy, seccomp profile type).
fn validate_pod_security_context(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let Some(sc) = &spec.security_context else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    errs.extend(id_range_error(sc.fs_group, &path.child("fsGroup")));
    errs.extend(id_range_error(sc.run_as_user, &path.child("runAsUser")));
    errs.extend(id_range_error(sc.run_as_group, &path.child("runAsGroup")));
    for (g, gid) in sc.supplemental_groups.iter().flatten().enumerate() {
        errs.extend(id_range_error(
            Some(*gid),
            &path.child("supplementalGroups").index(g),
        ));
    }
    if spec.share_process_namespace == Some(true) && spec.host_pid.unwrap_or_default() {
        errs.push(FieldError::invalid(
            path.child("shareProcessNamespace"),
            true,
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    errs.extend(validate_fs_group_change_policy(sc, path));
    errs.extend(validate_seccomp_profile(sc, &path.child("seccompProfile")));
    errs
}

fn validate_fs_group_change_policy(sc: &PodSecurityContext, path: &Path) -> Vec<FieldError> {
    match sc.fs_group_change_policy.as_deref() {
        Some(p) if p != "Always" && p != "OnRootMismatch" => vec![FieldError::not_supported(
            path.child("fsGroupChangePolicy"),
            p,
            &["Always", "OnRootMismatch"],
        )],
        _ => Vec::new(),
    }
}

fn validate_seccomp_profile(sc: &PodSecurityContext, path: &Path) -> Vec<FieldError> {
    let Some(profile) = &sc.seccomp_profile else {
        return Vec::new();
    };
    let type_path = path.child("type");
    let mut errs = Vec::new();
    match profile.type_.as_str() {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => errs.push(FieldError::required(
            &type_path,
            "type is required when seccompProfile is set",
        )),
        other => errs.push(FieldError::not_supported(
            &type_path,
            other,
            &["Localhost", "RuntimeDefault", "Unconfined"],
        )),
    }
    if profile.type_ == "Localhost" {
        match profile.localhost_profile.as_deref() {
            None => errs.push(FieldError::required(
                path.child("localhostProfile"),
                "must be set when seccomp type is Localhost",
            )),
            Some(p) => errs.extend(validate_local_descending_path(
                p,
                &path.child("localhostProfile"),
            )),
        }
    }
    errs
}

/// Go `validatePodDNSConfig` (strict search validation: RelaxedDNSSearchValidation is off
/// in 1.32).
fn validate_dns_config(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let config = spec.dns_config.as_ref();
    if opt_str(&spec.dns_policy) == "None" {
        let Some(config) = config else {
            return vec![FieldError::required(path, msg::DNS_CONFIG_REQUIRED)];
        };
        if config.nameservers.as_ref().is_none_or(Vec::is_empty) {
            return vec![FieldError::required(
                path.child("nameservers"),
                msg::DNS_NAMESERVER_REQUIRED,
            )];
        }
    }
    config
        .map(|c| validate_dns_config_fields(c, path))
        .unwrap_or_default()
}

fn validate_dns_config_fields(config: &PodDNSConfig, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let nameservers = config.nameservers.as_deref().unwrap_or_default();
    let ns_path = path.child("nameservers");
    if nameservers.len() > 3 {
        errs.push(FieldError::invalid(
            &ns_path,
            super::field::Value::raw(super::field::go_string_slice_literal(nameservers)),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, ns) in nameservers.iter().enumerate() {
        errs.extend(
            is_valid_ip(ns)
                .into_iter()
                .map(|m| FieldError::invalid(ns_path.index(i), ns, m)),
        );
    }
    let searches = config.searches.as_deref().unwrap_or_default();
    let search_path = path.child("searches");
    let rendered = || super::field::Value::raw(super::field::go_string_slice_literal(searches));
    if searches.len() > 32 {
        errs.push(FieldError::invalid(
            &search_path,
            rendered(),
            "must not have more than 32 search paths",
        ));
    }
    if searches.join(" ").len() > 2048 {
        errs.push(FieldError::invalid(
            &search_path,
            rendered(),
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    for (i, search) in searches.iter().enumerate() {
        let trimmed = search.strip_suffix('.').unwrap_or(search);
        errs.extend(
            is_dns1123_subdomain(trimmed)
                .into_iter()
                .map(|m| FieldError::invalid(search_path.index(i), trimmed, m)),
        );
    }
    for (i, option) in config.options.iter().flatten().enumerate() {
        if opt_str(&option.name).is_empty() {
            errs.push(FieldError::required(
                path.child("options").index(i),
                "must not be empty",
            ));
        }
    }
    errs
}

/// Go `validateReadinessGates` and `validateSchedulingGates`.
fn validate_gates(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let readiness = path.child("readinessGates");
    for (i, gate) in spec.readiness_gates.iter().flatten().enumerate() {
        let field = readiness.index(i).child("conditionType");
        errs.extend(
            is_qualified_name(&gate.condition_type)
                .into_iter()
                .map(|m| FieldError::invalid(&field, &gate.condition_type, m)),
        );
    }
    let scheduling = path.child("schedulingGates");
    let mut seen = BTreeSet::new();
    for (i, gate) in spec.scheduling_gates.iter().flatten().enumerate() {
        let field = scheduling.index(i);
        errs.extend(
            is_qualified_name(&gate.name)
                .into_iter()
                .map(|m| FieldError::invalid(&field, &gate.name, m)),
        );
        if !seen.insert(gate.name.as_str()) {
            errs.push(FieldError::duplicate(&field, &gate.name));
        }
    }
    errs
}

/// serviceAccountName, nodeName, activeDeadlineSeconds, hostname, subdomain.
fn validate_names_and_deadline(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (field, value) in [
        ("serviceAccountName", opt_str(&spec.service_account_name)),
        ("nodeName", opt_str(&spec.node_name)),
    ] {
        if !value.is_empty() {
            let field_path = path.child(field);
            errs.extend(
                NameKind::DnsSubdomain
                    .check(value, false)
                    .into_iter()
                    .map(|m| FieldError::invalid(&field_path, value, m)),
            );
        }
    }
    if let Some(deadline) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&deadline)
    {
        errs.push(FieldError::invalid(
            path.child("activeDeadlineSeconds"),
            deadline,
            msg::inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    for (field, value) in [
        ("hostname", opt_str(&spec.hostname)),
        ("subdomain", opt_str(&spec.subdomain)),
    ] {
        if !value.is_empty() {
            let field_path = path.child(field);
            errs.extend(
                is_dns1123_label(value)
                    .into_iter()
                    .map(|m| FieldError::invalid(&field_path, value, m)),
            );
        }
    }
    errs
}

/// Go `ValidateHostAliases`.
fn validate_host_aliases(aliases: &[HostAlias], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, alias) in aliases.iter().enumerate() {
        let idx = path.index(i);
        errs.extend(
            is_valid_ip(&alias.ip)
                .into_iter()
                .map(|m| FieldError::invalid(idx.child("ip"), &alias.ip, m)),
        );
        for (j, host) in alias.hostnames.iter().flatten().enumerate() {
            let host_path = idx.child("hostnames").index(j);
            errs.extend(
                is_dns1123_subdomain(host)
                    .into_iter()
                    .map(|m| FieldError::invalid(&host_path, host, m)),
            );
        }
    }
    errs
}

/// priorityClassName, runtimeClassName, preemptionPolicy, overhead.
fn validate_class_names_and_overhead(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let priority_class = opt_str(&spec.priority_class_name);
    if !priority_class.is_empty() {
        let field = path.child("priorityClassName");
        errs.extend(
            is_dns1123_subdomain(priority_class)
                .into_iter()
                .map(|m| FieldError::invalid(&field, priority_class, m)),
        );
    }
    if let Some(runtime_class) = spec.runtime_class_name.as_deref() {
        let field = path.child("runtimeClassName");
        errs.extend(
            is_dns1123_subdomain(runtime_class)
                .into_iter()
                .map(|m| FieldError::invalid(&field, runtime_class, m)),
        );
    }
    if let Some(policy) = spec.preemption_policy.as_deref() {
        let field = path.child("preemptionPolicy");
        match policy {
            "PreemptLowerPriority" | "Never" => {}
            "" => errs.push(FieldError::required(field, "")),
            other => errs.push(FieldError::not_supported(
                field,
                other,
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
    if let Some(overhead) = &spec.overhead {
        // Go validates overhead as the limits of a ResourceRequirements, hence
        // `spec.overhead.limits[cpu]`.
        let requirements = ResourceRequirements {
            limits: Some(overhead.clone()),
            ..ResourceRequirements::default()
        };
        errs.extend(validate_resource_requirements(
            Some(&requirements),
            &path.child("overhead"),
        ));
    }
    errs
}

/// Go `validateOS`.
fn validate_os(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let Some(os) = &spec.os else {
        return Vec::new();
    };
    match os.name.as_str() {
        "" => vec![FieldError::required(path.child("name"), "cannot be empty")],
        "linux" | "windows" => Vec::new(),
        other => vec![FieldError::not_supported(
            path,
            other,
            &["linux", "windows"],
        )],
    }
}

/// The first malformed resource quantity in a pod, if any. Kubernetes rejects such a pod
/// while decoding, before validation, with 400 Bad Request
/// `Pod in version "v1" cannot be handled as a Pod: <error>`; the API layer can use this
/// to reproduce that instead of the field error [`validate_pod_create`] reports.
pub fn first_quantity_error(pod: &Pod) -> Option<QuantityError> {
    let spec = pod.spec.as_ref()?;
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let resource_maps = containers
        .filter_map(|c| c.resources.as_ref())
        .flat_map(|r| r.limits.iter().chain(r.requests.iter()));
    resource_maps
        .chain(spec.overhead.iter())
        .flat_map(|m| m.values())
        .find_map(|q| Quantity::from_k8s(q).err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validation::fixtures::{messages, pod, web_json, web_with};
    use crate::api::validation::invalid_message;
    use serde_json::{Value as Json, json};

    const LABEL_REGEX: &str = "a lowercase RFC 1123 label must consist of lower case \
        alphanumeric characters or '-', and must start and end with an alphanumeric character \
        (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const SUBDOMAIN_REGEX: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
        alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
        character (e.g. 'example.com', regex used for validation is \
        '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const QUANTITY_REGEX: &str = "quantities must match the regular expression \
        '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    type Edit = fn(&mut Json);

    fn check(cases: &[(&str, Edit, Vec<String>)]) {
        for (name, edit, expected) in cases {
            let p = web_with(*edit);
            assert_eq!(messages(&validate_pod_create(&p)), *expected, "case {name}");
        }
    }

    fn s(text: &str) -> String {
        text.to_string()
    }

    #[test]
    fn a_defaulted_minimal_pod_is_valid() {
        assert!(validate_pod_create(&pod(web_json())).is_empty());
    }

    #[test]
    fn undefaulted_pods_miss_required_fields() {
        let raw: Pod = serde_json::from_value(web_json()).expect("pod");
        assert_eq!(
            messages(&validate_pod_create(&raw)),
            vec![
                "spec.terminationGracePeriodSeconds: Required value",
                "spec.containers[0].terminationMessagePolicy: Required value",
                "spec.containers[0].imagePullPolicy: Required value",
                "spec.restartPolicy: Required value",
                "spec.dnsPolicy: Required value",
            ]
        );
    }

    #[test]
    fn metadata_rules() {
        check(&[
            (
                "bad name",
                |p| p["metadata"]["name"] = json!("Web"),
                vec![format!(
                    "metadata.name: Invalid value: \"Web\": {SUBDOMAIN_REGEX}"
                )],
            ),
            (
                "no name",
                |p| p["metadata"]["name"] = json!(null),
                vec![s(
                    "metadata.name: Required value: name or generateName is required",
                )],
            ),
            (
                "no namespace",
                |p| p["metadata"]["namespace"] = json!(null),
                vec![s("metadata.namespace: Required value")],
            ),
            (
                "mirror without node",
                |p| p["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "x"}),
                vec![s(
                    "metadata.annotations[kubernetes.io/config.mirror]: Invalid value: \"x\": must set spec.nodeName if mirror pod annotation is set",
                )],
            ),
            (
                "deletion cost",
                |p| {
                    p["metadata"]["annotations"] =
                        json!({"controller.kubernetes.io/pod-deletion-cost": "+1"})
                },
                vec![s(
                    "metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: \"+1\": must be a 32bit integer",
                )],
            ),
        ]);
        assert!(is_valid_deletion_cost("-5") && is_valid_deletion_cost("0"));
        assert!(!is_valid_deletion_cost("007") && !is_valid_deletion_cost("99999999999"));
    }

    #[test]
    fn container_rules() {
        check(&[
            (
                "no containers",
                |p| p["spec"]["containers"] = json!([]),
                vec![s("spec.containers: Required value")],
            ),
            (
                "no image",
                |p| p["spec"]["containers"][0]["image"] = json!(null),
                vec![s("spec.containers[0].image: Required value")],
            ),
            (
                "image whitespace",
                |p| p["spec"]["containers"][0]["image"] = json!(" nginx"),
                vec![s(
                    "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace",
                )],
            ),
            (
                "bad name",
                |p| p["spec"]["containers"][0]["name"] = json!("App"),
                vec![format!(
                    "spec.containers[0].name: Invalid value: \"App\": {LABEL_REGEX}"
                )],
            ),
            (
                "empty name",
                |p| p["spec"]["containers"][0]["name"] = json!(""),
                vec![s("spec.containers[0].name: Required value")],
            ),
            (
                "duplicate name",
                |p| {
                    p["spec"]["containers"] =
                        json!([{"name": "app", "image": "a"}, {"name": "app", "image": "b"}])
                },
                vec![s("spec.containers[1].name: Duplicate value: \"app\"")],
            ),
            (
                "init duplicate",
                |p| p["spec"]["initContainers"] = json!([{"name": "app", "image": "a"}]),
                vec![s("spec.initContainers[0].name: Duplicate value: \"app\"")],
            ),
            (
                "pull policy",
                |p| p["spec"]["containers"][0]["imagePullPolicy"] = json!("Sometimes"),
                vec![s(
                    "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                )],
            ),
            (
                "termination message policy",
                |p| p["spec"]["containers"][0]["terminationMessagePolicy"] = json!("Log"),
                vec![s(
                    "spec.containers[0].terminationMessagePolicy: Unsupported value: \"Log\": supported values: \"File\", \"FallbackToLogsOnError\"",
                )],
            ),
            (
                "restartPolicy on container",
                |p| p["spec"]["containers"][0]["restartPolicy"] = json!("Always"),
                vec![s(
                    "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
                )],
            ),
            (
                "init restartPolicy",
                |p| {
                    p["spec"]["initContainers"] =
                        json!([{"name": "init", "image": "a", "restartPolicy": "OnFailure"}])
                },
                vec![s(
                    "spec.initContainers[0].restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"",
                )],
            ),
            (
                "init probe",
                |p| p["spec"]["initContainers"] = json!([{"name": "init", "image": "a", "livenessProbe": {"exec": {"command": ["true"]}}}]),
                vec![s(
                    "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
                )],
            ),
            (
                "sidecar probe",
                |p| p["spec"]["initContainers"] = json!([{"name": "init", "image": "a", "restartPolicy": "Always", "livenessProbe": {"exec": {"command": ["true"]}}}]),
                vec![],
            ),
            (
                "security context",
                |p| {
                    p["spec"]["containers"][0]["securityContext"] =
                        json!({"runAsUser": -1, "procMount": "Masked"})
                },
                vec![
                    s(
                        "spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
                    ),
                    s(
                        "spec.containers[0].securityContext.procMount: Unsupported value: \"Masked\": supported values: \"Default\", \"Unmasked\"",
                    ),
                ],
            ),
        ]);
    }

    #[test]
    fn port_rules() {
        check(&[
            (
                "range",
                |p| {
                    p["spec"]["containers"][0]["ports"] =
                        json!([{"containerPort": 70000, "hostPort": 70000}])
                },
                vec![
                    s(
                        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                    ),
                    s(
                        "spec.containers[0].ports[0].hostPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                    ),
                ],
            ),
            (
                "zero",
                |p| p["spec"]["containers"][0]["ports"] = json!([{"containerPort": 0}]),
                vec![s(
                    "spec.containers[0].ports[0].containerPort: Required value",
                )],
            ),
            (
                "protocol",
                |p| {
                    p["spec"]["containers"][0]["ports"] =
                        json!([{"containerPort": 80, "protocol": "HTTP"}])
                },
                vec![s(
                    "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                )],
            ),
            (
                "names",
                |p| p["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}, {"containerPort": 82, "name": "Web"}]),
                vec![
                    s("spec.containers[0].ports[1].name: Duplicate value: \"web\""),
                    s(
                        "spec.containers[0].ports[2].name: Invalid value: \"Web\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                    ),
                ],
            ),
            (
                "host port conflict",
                |p| {
                    p["spec"]["containers"] = json!([
                    {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]},
                    {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 8080}]}])
                },
                vec![s(
                    "spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\"",
                )],
            ),
            (
                "host network mismatch",
                |p| {
                    p["spec"]["hostNetwork"] = json!(true);
                    p["spec"]["containers"][0]["ports"] =
                        json!([{"containerPort": 80, "hostPort": 81}]);
                },
                vec![s(
                    "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true",
                )],
            ),
        ]);
    }

    #[test]
    fn resource_rules() {
        check(&[
            (
                "bad quantity",
                |p| p["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "abc"}}),
                vec![format!(
                    "spec.containers[0].resources.requests[cpu]: Invalid value: \"abc\": {QUANTITY_REGEX}"
                )],
            ),
            (
                "negative",
                |p| {
                    p["spec"]["containers"][0]["resources"] =
                        json!({"requests": {"memory": "-1Gi"}})
                },
                vec![s(
                    "spec.containers[0].resources.requests[memory]: Invalid value: \"-1Gi\": must be greater than or equal to 0",
                )],
            ),
            (
                "request above limit",
                |p| {
                    p["spec"]["containers"][0]["resources"] =
                        json!({"requests": {"cpu": "2"}, "limits": {"cpu": "1"}})
                },
                vec![s(
                    "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                )],
            ),
            (
                "memory above limit",
                |p| {
                    p["spec"]["containers"][0]["resources"] =
                        json!({"requests": {"memory": "1.5Gi"}, "limits": {"memory": "1Gi"}})
                },
                vec![s(
                    "spec.containers[0].resources.requests: Invalid value: \"1536Mi\": must be less than or equal to memory limit of 1Gi",
                )],
            ),
            (
                "unknown resource",
                |p| p["spec"]["containers"][0]["resources"] = json!({"limits": {"gpu": "1"}}),
                // Defaulting copied the limit into requests, so both lists report it.
                vec![
                    s(
                        "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
                    ),
                    s(
                        "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
                    ),
                    s(
                        "spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
                    ),
                    s(
                        "spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
                    ),
                ],
            ),
            (
                "quota resource",
                |p| p["spec"]["containers"][0]["resources"] = json!({"requests": {"pods": "1"}}),
                vec![s(
                    "spec.containers[0].resources.requests[pods]: Invalid value: \"pods\": must be a standard resource for containers",
                )],
            ),
            (
                "extended without limit",
                |p| {
                    p["spec"]["containers"][0]["resources"] =
                        json!({"requests": {"example.com/gpu": "1"}})
                },
                vec![s(
                    "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
                )],
            ),
            (
                "extended fraction",
                |p| p["spec"]["containers"][0]["resources"] = json!({"limits": {"example.com/gpu": "500m"}, "requests": {"example.com/gpu": "500m"}}),
                vec![
                    s(
                        "spec.containers[0].resources.limits[example.com/gpu]: Invalid value: 500m: must be an integer",
                    ),
                    s(
                        "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: 500m: must be an integer",
                    ),
                ],
            ),
            (
                "extended unequal",
                |p| p["spec"]["containers"][0]["resources"] = json!({"limits": {"example.com/gpu": "2"}, "requests": {"example.com/gpu": "1"}}),
                vec![s(
                    "spec.containers[0].resources.requests: Invalid value: \"1\": must be equal to example.com/gpu limit of 2",
                )],
            ),
            (
                "hugepages alone",
                |p| {
                    p["spec"]["containers"][0]["resources"] =
                        json!({"limits": {"hugepages-2Mi": "3Mi"}})
                },
                vec![
                    s(
                        "spec.containers[0].resources.limits[hugepages-2Mi]: Invalid value: \"3Mi\": 3Mi is not positive integer multiple of hugepages-2Mi",
                    ),
                    s(
                        "spec.containers[0].resources.requests[hugepages-2Mi]: Invalid value: \"3Mi\": 3Mi is not positive integer multiple of hugepages-2Mi",
                    ),
                    s("spec.containers[0].resources: Forbidden: HugePages require cpu or memory"),
                ],
            ),
            (
                "overhead",
                |p| p["spec"]["overhead"] = json!({"cpu": "-1"}),
                vec![s(
                    "spec.overhead.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                )],
            ),
            (
                "resize policy",
                |p| {
                    p["spec"]["containers"][0]["resizePolicy"] =
                        json!([{"resourceName": "gpu", "restartPolicy": "Never"}])
                },
                vec![
                    s(
                        "spec.containers[0].resizePolicy: Unsupported value: \"gpu\": supported values: \"cpu\", \"memory\"",
                    ),
                    s(
                        "spec.containers[0].resizePolicy: Unsupported value: \"Never\": supported values: \"NotRequired\", \"RestartContainer\"",
                    ),
                ],
            ),
        ]);
    }

    #[test]
    fn env_rules() {
        check(&[
            (
                "relaxed names pass",
                |p| {
                    p["spec"]["containers"][0]["env"] =
                        json!([{"name": "1-weird.NAME", "value": "x"}])
                },
                vec![],
            ),
            (
                "equals sign",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": "A=B"}]),
                vec![s(
                    "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                )],
            ),
            (
                "empty name",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": ""}]),
                vec![s("spec.containers[0].env[0].name: Required value")],
            ),
            (
                "no source",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": "A", "valueFrom": {}}]),
                vec![s(
                    "spec.containers[0].env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                )],
            ),
            (
                "value and source",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]),
                vec![s(
                    "spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
                )],
            ),
            (
                "unknown field",
                |p| {
                    p["spec"]["containers"][0]["env"] =
                        json!([{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.foo"}}}])
                },
                vec![s(
                    "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: \"spec.foo\": error converting fieldPath: field label not supported: spec.foo",
                )],
            ),
            (
                "unsupported field",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.restartPolicy"}}}]),
                vec![s(
                    "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: \"spec.restartPolicy\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
                )],
            ),
            (
                "label subscript",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}]),
                vec![],
            ),
            (
                "resource field",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu", "divisor": "2"}}}]),
                vec![s(
                    "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\": supported values: \"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", \"requests.ephemeral-storage\", \"requests.memory\"",
                )],
            ),
            (
                "cpu divisor",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "2"}}}]),
                vec![s(
                    "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: Invalid value: \"limits.cpu\": only divisor's values 1m and 1 are supported with the cpu resource",
                )],
            ),
            (
                "key refs",
                |p| p["spec"]["containers"][0]["env"] = json!([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": ""}, "secretKeyRef": {"name": "Bad", "key": "k"}}}]),
                vec![
                    s("spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value"),
                    format!(
                        "spec.containers[0].env[0].valueFrom.secretKeyRef.name: Invalid value: \"Bad\": {SUBDOMAIN_REGEX}"
                    ),
                    s(
                        "spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not have more than one field specified at a time",
                    ),
                ],
            ),
            (
                "env from",
                |p| p["spec"]["containers"][0]["envFrom"] = json!([{"prefix": "A="}, {"configMapRef": {"name": "c"}, "secretRef": {"name": ""}}]),
                vec![
                    s(
                        "spec.containers[0].envFrom[0].prefix: Invalid value: \"A=\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                    ),
                    s(
                        "spec.containers[0].envFrom: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`",
                    ),
                    s("spec.containers[0].envFrom[1].secretRef.name: Required value"),
                    s(
                        "spec.containers[0].envFrom: Invalid value: \"\": may not have more than one field specified at a time",
                    ),
                ],
            ),
        ]);
    }

    #[test]
    fn volume_rules() {
        check(&[
            (
                "mount of unknown volume",
                |p| {
                    p["spec"]["containers"][0]["volumeMounts"] =
                        json!([{"name": "data", "mountPath": "/data"}])
                },
                vec![s(
                    "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
                )],
            ),
            (
                "duplicate volumes",
                |p| {
                    p["spec"]["volumes"] =
                        json!([{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}])
                },
                vec![s("spec.volumes[1].name: Duplicate value: \"data\"")],
            ),
            (
                "bad volume name",
                |p| {
                    p["spec"]["volumes"] = json!([{"name": "my.data", "emptyDir": {}}]);
                    p["spec"]["containers"][0]["volumeMounts"] =
                        json!([{"name": "my.data", "mountPath": "/d"}]);
                },
                vec![
                    s("spec.volumes[0].name: Invalid value: \"my.data\": must not contain dots"),
                    s("spec.containers[0].volumeMounts[0].name: Not found: \"my.data\""),
                ],
            ),
            (
                "two types",
                |p| {
                    p["spec"]["volumes"] =
                        json!([{"name": "d", "emptyDir": {}, "hostPath": {"path": "/x"}}])
                },
                vec![s(
                    "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
                )],
            ),
            (
                "mount paths",
                |p| {
                    p["spec"]["volumes"] = json!([{"name": "d", "emptyDir": {}}]);
                    p["spec"]["containers"][0]["volumeMounts"] = json!([
                        {"name": "d", "mountPath": "/d"},
                        {"name": "d", "mountPath": "/d", "subPath": "../x"},
                        {"name": "d", "mountPath": ""}]);
                },
                vec![
                    s(
                        "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/d\": must be unique",
                    ),
                    s(
                        "spec.containers[0].volumeMounts.subPath: Invalid value: \"../x\": must not contain '..'",
                    ),
                    s("spec.containers[0].volumeMounts[2].mountPath: Required value"),
                ],
            ),
            (
                "sources",
                |p| {
                    p["spec"]["volumes"] = json!([
                    {"name": "a", "secret": {"defaultMode": 1000}},
                    {"name": "b", "configMap": {"name": "", "items": [{"key": "k", "path": "/abs"}]}},
                    {"name": "c", "persistentVolumeClaim": {"claimName": ""}},
                    {"name": "e", "hostPath": {"path": "/x", "type": "Weird"}}])
                },
                vec![
                    s("spec.volumes[0].secret.secretName: Required value"),
                    s(
                        "spec.volumes[0].secret.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
                    ),
                    s("spec.volumes[1].configMap.name: Required value"),
                    s(
                        "spec.volumes[1].configMap.items[0].path: Invalid value: \"/abs\": must be a relative path",
                    ),
                    s("spec.volumes[2].persistentVolumeClaim.claimName: Required value"),
                    s(
                        "spec.volumes[3].hostPath.type: Unsupported value: \"Weird\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\"",
                    ),
                ],
            ),
        ]);
    }

    #[test]
    fn probe_rules() {
        check(&[
            (
                "no handler",
                |p| p["spec"]["containers"][0]["readinessProbe"] = json!({}),
                vec![s(
                    "spec.containers[0].readinessProbe: Required value: must specify a handler type",
                )],
            ),
            (
                "two handlers",
                |p| {
                    p["spec"]["containers"][0]["readinessProbe"] =
                        json!({"exec": {"command": ["a"]}, "tcpSocket": {"port": 0}})
                },
                vec![s(
                    "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
                )],
            ),
            (
                "liveness threshold",
                |p| p["spec"]["containers"][0]["livenessProbe"] = json!({"httpGet": {"port": "http-port-too-long"}, "successThreshold": 2, "periodSeconds": -1}),
                vec![
                    s(
                        "spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"http-port-too-long\": must be no more than 15 characters",
                    ),
                    s(
                        "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
                    ),
                    s(
                        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
                    ),
                ],
            ),
            (
                "readiness grace",
                |p| {
                    p["spec"]["containers"][0]["readinessProbe"] =
                        json!({"exec": {"command": []}, "terminationGracePeriodSeconds": 5})
                },
                vec![
                    s("spec.containers[0].readinessProbe.exec.command: Required value"),
                    s(
                        "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes",
                    ),
                ],
            ),
            (
                "sleep hook",
                |p| {
                    p["spec"]["containers"][0]["lifecycle"] =
                        json!({"preStop": {"sleep": {"seconds": 60}}})
                },
                vec![s(
                    "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be greater than 0 and less than terminationGracePeriodSeconds (30). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.",
                )],
            ),
        ]);
    }

    #[test]
    fn spec_rules() {
        check(&[
            (
                "restart policy",
                |p| p["spec"]["restartPolicy"] = json!("Sometimes"),
                vec![s(
                    "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                )],
            ),
            (
                "dns policy",
                |p| p["spec"]["dnsPolicy"] = json!("Google"),
                vec![s(
                    "spec.dnsPolicy: Unsupported value: \"Google\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
                )],
            ),
            (
                "dns none",
                |p| p["spec"]["dnsPolicy"] = json!("None"),
                vec![s(
                    "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
                )],
            ),
            (
                "dns config",
                |p| {
                    p["spec"]["dnsConfig"] = json!({"nameservers": ["1.1.1.1", "x"], "searches": ["Bad."], "options": [{}]})
                },
                vec![
                    s(
                        "spec.dnsConfig.nameservers[1]: Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                    ),
                    format!(
                        "spec.dnsConfig.searches[0]: Invalid value: \"Bad\": {SUBDOMAIN_REGEX}"
                    ),
                    s("spec.dnsConfig.options[0]: Required value: must not be empty"),
                ],
            ),
            (
                "deadline",
                |p| p["spec"]["activeDeadlineSeconds"] = json!(0),
                vec![s(
                    "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
                )],
            ),
            (
                "node selector",
                |p| p["spec"]["nodeSelector"] = json!({"disk type": "ssd"}),
                vec![s(
                    "spec.nodeSelector: Invalid value: \"disk type\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                )],
            ),
            (
                "names",
                |p| {
                    p["spec"]["nodeName"] = json!("Node_1");
                    p["spec"]["serviceAccountName"] = json!("SA");
                    p["spec"]["hostname"] = json!("a.b");
                    p["spec"]["priorityClassName"] = json!("High");
                },
                vec![
                    format!("spec.serviceAccountName: Invalid value: \"SA\": {SUBDOMAIN_REGEX}"),
                    format!("spec.nodeName: Invalid value: \"Node_1\": {SUBDOMAIN_REGEX}"),
                    s("spec.hostname: Invalid value: \"a.b\": must not contain dots"),
                    format!("spec.priorityClassName: Invalid value: \"High\": {SUBDOMAIN_REGEX}"),
                ],
            ),
            (
                "preemption",
                |p| p["spec"]["preemptionPolicy"] = json!("Always"),
                vec![s(
                    "spec.preemptionPolicy: Unsupported value: \"Always\": supported values: \"PreemptLowerPriority\", \"Never\"",
                )],
            ),
            (
                "os",
                |p| p["spec"]["os"] = json!({"name": "plan9"}),
                vec![s(
                    "spec.os: Unsupported value: \"plan9\": supported values: \"linux\", \"windows\"",
                )],
            ),
            (
                "gates",
                |p| {
                    p["spec"]["schedulingGates"] = json!([{"name": "g"}, {"name": "g"}]);
                    p["spec"]["readinessGates"] = json!([{"conditionType": "bad type"}]);
                },
                vec![
                    s(
                        "spec.readinessGates[0].conditionType: Invalid value: \"bad type\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                    ),
                    s("spec.schedulingGates[1]: Duplicate value: \"g\""),
                ],
            ),
            (
                "node name with gates",
                |p| {
                    p["spec"]["schedulingGates"] = json!([{"name": "g"}]);
                    p["spec"]["nodeName"] = json!("node-1");
                },
                vec![s(
                    "spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared",
                )],
            ),
            (
                "ephemeral on create",
                |p| {
                    p["spec"]["ephemeralContainers"] =
                        json!([{"name": "debug", "image": "busybox"}])
                },
                vec![s(
                    "spec.ephemeralContainers: Forbidden: cannot be set on create",
                )],
            ),
            (
                "host aliases",
                |p| {
                    p["spec"]["hostAliases"] =
                        json!([{"ip": "999.1.1.1", "hostnames": ["ok.local"]}])
                },
                vec![s(
                    "spec.hostAliases[0].ip: Invalid value: \"999.1.1.1\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )],
            ),
            (
                "pod security context",
                |p| {
                    p["spec"]["securityContext"] = json!({"fsGroup": -1, "fsGroupChangePolicy": "Never", "seccompProfile": {"type": "Localhost"}});
                    p["spec"]["shareProcessNamespace"] = json!(true);
                    p["spec"]["hostPID"] = json!(true);
                },
                vec![
                    s(
                        "spec.securityContext.fsGroup: Invalid value: -1: must be between 0 and 2147483647, inclusive",
                    ),
                    s(
                        "spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled",
                    ),
                    s(
                        "spec.securityContext.fsGroupChangePolicy: Unsupported value: \"Never\": supported values: \"Always\", \"OnRootMismatch\"",
                    ),
                    s(
                        "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost",
                    ),
                ],
            ),
        ]);
    }

    #[test]
    fn formats_the_api_message() {
        let p = web_with(|p| p["spec"]["containers"][0]["image"] = json!(null));
        assert_eq!(
            invalid_message("Pod", "web", &validate_pod_create(&p)),
            "Pod \"web\" is invalid: spec.containers[0].image: Required value"
        );
        let p = web_with(|p| {
            p["spec"]["containers"][0]["image"] = json!(null);
            p["spec"]["restartPolicy"] = json!("Sometimes");
        });
        assert_eq!(
            invalid_message("Pod", "web", &validate_pod_create(&p)),
            "Pod \"web\" is invalid: [spec.containers[0].image: Required value, spec.restartPolicy: \
             Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"]"
        );
    }

    #[test]
    fn finds_undecodable_quantities() {
        let p = web_with(|p| {
            p["spec"]["containers"][0]["resources"] =
                json!({"limits": {"cpu": "1", "memory": "1Gb"}})
        });
        assert_eq!(first_quantity_error(&p), Some(QuantityError::FormatWrong));
        assert_eq!(first_quantity_error(&pod(web_json())), None);
    }
}
