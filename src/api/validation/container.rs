//! Container validation from `pkg/apis/core/validation/validation.go` (v1.32): names,
//! images, ports, env, envFrom, volume mounts, pull policy, resources, resize policy,
//! probes, lifecycle hooks, security context, and host-port conflicts, for regular and
//! init containers.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvFromSource, EnvVar, EnvVarSource, LifecycleHandler,
    ObjectFieldSelector, Probe, ResourceFieldSelector, ResourceRequirements, SecurityContext,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::field::{FieldError, Path, Value};
use super::messages as msg;
use super::meta::NameKind;
use super::names::{
    is_config_map_key, is_dns1123_label, is_qualified_name, is_relaxed_env_var_name,
    is_valid_port_name, is_valid_port_num,
};
use super::opt_str;
use crate::api::quantity::Quantity;

/// Pod-level facts container validation needs.
pub(crate) struct PodContext<'a> {
    /// Names of the pod's volumes that validated cleanly.
    pub volumes: &'a BTreeSet<String>,
    /// `spec.terminationGracePeriodSeconds`.
    pub grace_period: Option<i64>,
}

/// Go `validateContainers`: `spec.containers: Required value` when empty.
pub(crate) fn validate_containers(
    containers: &[Container],
    ctx: &PodContext<'_>,
    path: &Path,
) -> Vec<FieldError> {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errs = Vec::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, ctr) in containers.iter().enumerate() {
        let idx = path.index(i);
        errs.extend(validate_container_common(ctr, ctx, &idx));
        if !names.insert(ctr.name.as_str()) {
            errs.push(FieldError::duplicate(idx.child("name"), &ctr.name));
        }
        errs.extend(validate_probes_and_lifecycle(ctr, ctx, &idx));
        if ctr.restart_policy.is_some() {
            errs.push(FieldError::forbidden(
                idx.child("restartPolicy"),
                msg::RESTART_POLICY_NON_INIT,
            ));
        }
    }
    errs.extend(host_port_conflicts(containers, path));
    errs
}

/// Go `validateInitContainers`: names unique across regular and init containers,
/// `restartPolicy` only `Always` (sidecars), probes and hooks only on sidecars.
pub(crate) fn validate_init_containers(
    init: &[Container],
    regular: &[Container],
    ctx: &PodContext<'_>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names: BTreeSet<&str> = regular.iter().map(|c| c.name.as_str()).collect();
    for (i, ctr) in init.iter().enumerate() {
        let idx = path.index(i);
        errs.extend(validate_container_common(ctr, ctx, &idx));
        let restart_policy = opt_str(&ctr.restart_policy);
        if ctr.restart_policy.is_some() && restart_policy != "Always" {
            errs.push(FieldError::not_supported(
                idx.child("restartPolicy"),
                restart_policy,
                &["Always"],
            ));
        }
        if names.contains(ctr.name.as_str()) {
            errs.push(FieldError::duplicate(idx.child("name"), &ctr.name));
        } else if !ctr.name.is_empty() {
            names.insert(ctr.name.as_str());
        }
        // Go checks each init container alone, always as index 0 of the list.
        errs.extend(host_port_conflicts(std::slice::from_ref(ctr), path));
        if restart_policy == "Always" {
            errs.extend(validate_probes_and_lifecycle(ctr, ctx, &idx));
        } else {
            errs.extend(forbid_init_probes(ctr, &idx));
        }
    }
    errs
}

fn forbid_init_probes(ctr: &Container, idx: &Path) -> Vec<FieldError> {
    let present = [
        ("lifecycle", ctr.lifecycle.is_some()),
        ("livenessProbe", ctr.liveness_probe.is_some()),
        ("readinessProbe", ctr.readiness_probe.is_some()),
        ("startupProbe", ctr.startup_probe.is_some()),
    ];
    present
        .iter()
        .filter(|(_, set)| *set)
        .map(|(field, _)| FieldError::forbidden(idx.child(field), msg::INIT_WITHOUT_RESTART_ALWAYS))
        .collect()
}

/// Go `validateContainerCommon`.
fn validate_container_common(
    ctr: &Container,
    ctx: &PodContext<'_>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name_path = path.child("name");
    if ctr.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(invalid_each(
            &name_path,
            &ctr.name,
            is_dns1123_label(&ctr.name),
        ));
    }
    if opt_str(&ctr.image).is_empty() {
        errs.push(FieldError::required(path.child("image"), ""));
    }
    errs.extend(validate_termination_message_policy(ctr, path));
    errs.extend(validate_ports(
        ctr.ports.as_deref().unwrap_or_default(),
        &path.child("ports"),
    ));
    errs.extend(validate_env(
        ctr.env.as_deref().unwrap_or_default(),
        &path.child("env"),
    ));
    errs.extend(validate_env_from(
        ctr.env_from.as_deref().unwrap_or_default(),
        &path.child("envFrom"),
    ));
    errs.extend(validate_volume_mounts(
        ctr.volume_mounts.as_deref().unwrap_or_default(),
        ctx.volumes,
        &path.child("volumeMounts"),
    ));
    errs.extend(validate_pull_policy(
        opt_str(&ctr.image_pull_policy),
        &path.child("imagePullPolicy"),
    ));
    errs.extend(validate_resource_requirements(
        ctr.resources.as_ref(),
        &path.child("resources"),
    ));
    errs.extend(validate_resize_policy(ctr, &path.child("resizePolicy")));
    errs.extend(validate_security_context(
        ctr.security_context.as_ref(),
        &path.child("securityContext"),
    ));
    errs
}

fn invalid_each(path: &Path, value: &str, messages: Vec<String>) -> Vec<FieldError> {
    messages
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

fn validate_termination_message_policy(ctr: &Container, path: &Path) -> Vec<FieldError> {
    let field = path.child("terminationMessagePolicy");
    match opt_str(&ctr.termination_message_policy) {
        "File" | "FallbackToLogsOnError" => Vec::new(),
        "" => vec![FieldError::required(field, "")],
        other => vec![FieldError::not_supported(
            field,
            other,
            &["File", "FallbackToLogsOnError"],
        )],
    }
}

/// Go `validateContainerPorts`.
fn validate_ports(ports: &[ContainerPort], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let idx = path.index(i);
        let name = opt_str(&port.name);
        if !name.is_empty() {
            let name_errs = is_valid_port_name(name);
            if !name_errs.is_empty() {
                errs.extend(invalid_each(&idx.child("name"), name, name_errs));
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(idx.child("name"), name));
            }
        }
        if port.container_port == 0 {
            errs.push(FieldError::required(idx.child("containerPort"), ""));
        } else {
            for m in is_valid_port_num(i64::from(port.container_port)) {
                errs.push(FieldError::invalid(
                    idx.child("containerPort"),
                    port.container_port,
                    m,
                ));
            }
        }
        let host_port = port.host_port.unwrap_or_default();
        if host_port != 0 {
            for m in is_valid_port_num(i64::from(host_port)) {
                errs.push(FieldError::invalid(idx.child("hostPort"), host_port, m));
            }
        }
        match opt_str(&port.protocol) {
            "" => errs.push(FieldError::required(idx.child("protocol"), "")),
            "TCP" | "UDP" | "SCTP" => {}
            other => errs.push(FieldError::not_supported(
                idx.child("protocol"),
                other,
                &["SCTP", "TCP", "UDP"],
            )),
        }
    }
    errs
}

/// Go `ValidateEnv` with relaxed names (RelaxedEnvironmentVariableValidation, on in 1.32).
fn validate_env(vars: &[EnvVar], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, var) in vars.iter().enumerate() {
        let idx = path.index(i);
        if var.name.is_empty() {
            errs.push(FieldError::required(idx.child("name"), ""));
        } else {
            errs.extend(invalid_each(
                &idx.child("name"),
                &var.name,
                is_relaxed_env_var_name(&var.name),
            ));
        }
        if let Some(source) = &var.value_from {
            errs.extend(validate_env_source(
                source,
                opt_str(&var.value),
                &idx.child("valueFrom"),
            ));
        }
    }
    errs
}

/// Go `validateEnvVarValueFrom`.
fn validate_env_source(source: &EnvVarSource, value: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut sources = 0;
    if let Some(field_ref) = &source.field_ref {
        sources += 1;
        errs.extend(validate_object_field_selector(
            field_ref,
            &path.child("fieldRef"),
        ));
    }
    if let Some(resource_ref) = &source.resource_field_ref {
        sources += 1;
        errs.extend(validate_resource_field_selector(
            resource_ref,
            &path.child("resourceFieldRef"),
        ));
    }
    if let Some(cm) = &source.config_map_key_ref {
        sources += 1;
        errs.extend(validate_key_selector(
            &cm.name,
            &cm.key,
            &path.child("configMapKeyRef"),
        ));
    }
    if let Some(secret) = &source.secret_key_ref {
        sources += 1;
        errs.extend(validate_key_selector(
            &secret.name,
            &secret.key,
            &path.child("secretKeyRef"),
        ));
    }
    if sources == 0 {
        errs.push(FieldError::invalid(path, "", msg::ENV_ONE_SOURCE));
    } else if !value.is_empty() {
        errs.push(FieldError::invalid(path, "", msg::ENV_VALUE_AND_SOURCE));
    } else if sources > 1 {
        errs.push(FieldError::invalid(path, "", msg::ONE_FIELD_AT_A_TIME));
    }
    errs
}

/// `validEnvDownwardAPIFieldPathExpressions`, sorted as `sets.List` prints them.
const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Labels `ConvertDownwardAPIFieldLabel` accepts for v1 pods.
const CONVERTIBLE_FIELD_PATHS: [&str; 14] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Go `fieldpath.SplitMaybeSubscriptedPath`: `metadata.labels['app']`.
fn split_subscripted(field_path: &str) -> Option<(&str, &str)> {
    let inner = field_path.strip_suffix("']")?;
    let (path, subscript) = inner.split_once("['")?;
    (!path.is_empty()).then_some((path, subscript))
}

/// Go `podshelper.ConvertDownwardAPIFieldLabel` (v1).
fn convert_field_label(version: &str, label: &str) -> Result<String, String> {
    if version != "v1" {
        return Err(format!("unsupported pod version: {version}"));
    }
    if let Some((path, _)) = split_subscripted(label) {
        return match path {
            "metadata.annotations" | "metadata.labels" => Ok(label.to_string()),
            _ => Err(format!("field label does not support subscript: {label}")),
        };
    }
    if label == "spec.host" {
        return Ok("spec.nodeName".to_string());
    }
    if CONVERTIBLE_FIELD_PATHS.contains(&label) {
        Ok(label.to_string())
    } else {
        Err(format!("field label not supported: {label}"))
    }
}

/// Go `validateObjectFieldSelector` for env vars.
fn validate_object_field_selector(sel: &ObjectFieldSelector, path: &Path) -> Vec<FieldError> {
    let version = opt_str(&sel.api_version);
    if version.is_empty() {
        return vec![FieldError::required(path.child("apiVersion"), "")];
    }
    if sel.field_path.is_empty() {
        return vec![FieldError::required(path.child("fieldPath"), "")];
    }
    let internal = match convert_field_label(version, &sel.field_path) {
        Ok(internal) => internal,
        Err(e) => {
            return vec![FieldError::invalid(
                path.child("fieldPath"),
                &sel.field_path,
                msg::field_path_conversion_error(&e),
            )];
        }
    };
    if let Some((field, subscript)) = split_subscripted(&internal) {
        let key = match field {
            "metadata.annotations" => subscript.to_lowercase(),
            "metadata.labels" => subscript.to_string(),
            _ => {
                return vec![FieldError::invalid(
                    path,
                    field,
                    msg::DOES_NOT_SUPPORT_SUBSCRIPT,
                )];
            }
        };
        return invalid_each(path, &key, is_qualified_name(&key));
    }
    if ENV_FIELD_PATHS.contains(&internal.as_str()) {
        Vec::new()
    } else {
        vec![FieldError::not_supported(
            path.child("fieldPath"),
            internal.as_str(),
            &ENV_FIELD_PATHS,
        )]
    }
}

/// `validContainerResourceFieldPathExpressions`, sorted.
const RESOURCE_FIELD_PATHS: [&str; 6] = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

/// Go `validateContainerResourceFieldSelector` (env form: no containerName needed).
fn validate_resource_field_selector(sel: &ResourceFieldSelector, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let hugepages = sel.resource.starts_with("limits.hugepages-")
        || sel.resource.starts_with("requests.hugepages-");
    if sel.resource.is_empty() {
        errs.push(FieldError::required(path.child("resource"), ""));
    } else if !RESOURCE_FIELD_PATHS.contains(&sel.resource.as_str()) && !hugepages {
        errs.push(FieldError::not_supported(
            path.child("resource"),
            &sel.resource,
            &RESOURCE_FIELD_PATHS,
        ));
    }
    if let Some(divisor) = &sel.divisor {
        errs.extend(validate_divisor(&sel.resource, divisor, path));
    }
    errs
}

/// Go `validateContainerResourceDivisor`.
fn validate_divisor(resource: &str, divisor: &K8sQuantity, path: &Path) -> Vec<FieldError> {
    let Ok(q) = Quantity::from_k8s(divisor) else {
        return Vec::new();
    };
    if q.is_zero() {
        return Vec::new();
    }
    const BYTES: [&str; 13] = [
        "1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei",
    ];
    let text = q.to_string();
    let byte_list = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei";
    let problem = match resource {
        "limits.cpu" | "requests.cpu" if !["1m", "1"].contains(&text.as_str()) => {
            Some("only divisor's values 1m and 1 are supported with the cpu resource".to_string())
        }
        "limits.memory" | "requests.memory" if !BYTES.contains(&text.as_str()) => Some(format!(
            "only divisor's values {byte_list} are supported with the memory resource"
        )),
        "limits.ephemeral-storage" | "requests.ephemeral-storage"
            if !BYTES.contains(&text.as_str()) =>
        {
            Some(format!(
                "only divisor's values {byte_list} are supported with the local ephemeral storage resource"
            ))
        }
        r if (r.starts_with("limits.hugepages-") || r.starts_with("requests.hugepages-"))
            && !BYTES.contains(&text.as_str()) =>
        {
            Some(format!(
                "only divisor's values {byte_list} are supported with the hugepages resource"
            ))
        }
        _ => None,
    };
    problem
        .map(|m| vec![FieldError::invalid(path.child("divisor"), resource, m)])
        .unwrap_or_default()
}

/// Go `validateConfigMapKeySelector` / `validateSecretKeySelector`.
fn validate_key_selector(name: &str, key: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = invalid_each(
        &path.child("name"),
        name,
        NameKind::DnsSubdomain.check(name, false),
    );
    if key.is_empty() {
        errs.push(FieldError::required(path.child("key"), ""));
    } else {
        errs.extend(invalid_each(
            &path.child("key"),
            key,
            is_config_map_key(key),
        ));
    }
    errs
}

/// Go `ValidateEnvFrom`.
fn validate_env_from(sources: &[EnvFromSource], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let idx = path.index(i);
        let prefix = opt_str(&source.prefix);
        if !prefix.is_empty() {
            errs.extend(invalid_each(
                &idx.child("prefix"),
                prefix,
                is_relaxed_env_var_name(prefix),
            ));
        }
        let mut count = 0;
        if let Some(cm) = &source.config_map_ref {
            count += 1;
            errs.extend(validate_env_source_name(
                &cm.name,
                &idx.child("configMapRef"),
            ));
        }
        if let Some(secret) = &source.secret_ref {
            count += 1;
            errs.extend(validate_env_source_name(
                &secret.name,
                &idx.child("secretRef"),
            ));
        }
        if count == 0 {
            errs.push(FieldError::invalid(path, "", msg::ENV_FROM_ONE_SOURCE));
        } else if count > 1 {
            errs.push(FieldError::invalid(path, "", msg::ONE_FIELD_AT_A_TIME));
        }
    }
    errs
}

fn validate_env_source_name(name: &str, path: &Path) -> Vec<FieldError> {
    let name_path = path.child("name");
    if name.is_empty() {
        vec![FieldError::required(name_path, "")]
    } else {
        invalid_each(&name_path, name, NameKind::DnsSubdomain.check(name, true))
    }
}

/// Go `ValidateVolumeMounts` (volume devices, propagation and recursiveReadOnly left out).
fn validate_volume_mounts(
    mounts: &[VolumeMount],
    volumes: &BTreeSet<String>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut mount_points: BTreeSet<&str> = BTreeSet::new();
    for (i, mount) in mounts.iter().enumerate() {
        let idx = path.index(i);
        if mount.name.is_empty() {
            errs.push(FieldError::required(idx.child("name"), ""));
        }
        if !volumes.contains(&mount.name) {
            errs.push(FieldError::not_found(idx.child("name"), &mount.name));
        }
        if mount.mount_path.is_empty() {
            errs.push(FieldError::required(idx.child("mountPath"), ""));
        }
        if !mount_points.insert(mount.mount_path.as_str()) {
            errs.push(FieldError::invalid(
                idx.child("mountPath"),
                &mount.mount_path,
                msg::MUST_BE_UNIQUE,
            ));
        }
        let sub_path = opt_str(&mount.sub_path);
        if !sub_path.is_empty() {
            // Go reports these on `volumeMounts.subPath`, without the index.
            errs.extend(validate_local_descending_path(
                sub_path,
                &path.child("subPath"),
            ));
        }
        let expr = opt_str(&mount.sub_path_expr);
        if !expr.is_empty() {
            if !sub_path.is_empty() {
                errs.push(FieldError::invalid(
                    idx.child("subPathExpr"),
                    expr,
                    msg::SUBPATH_EXPR_EXCLUSIVE,
                ));
            }
            errs.extend(validate_local_descending_path(
                expr,
                &path.child("subPathExpr"),
            ));
        }
    }
    errs
}

/// Go `validateLocalDescendingPath`.
pub(crate) fn validate_local_descending_path(target: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if target.starts_with('/') {
        errs.push(FieldError::invalid(
            path,
            target,
            msg::MUST_BE_RELATIVE_PATH,
        ));
    }
    errs.extend(validate_no_backsteps(target, path));
    errs
}

/// Go `validatePathNoBacksteps`.
pub(crate) fn validate_no_backsteps(target: &str, path: &Path) -> Vec<FieldError> {
    if target.split('/').any(|part| part == "..") {
        vec![FieldError::invalid(path, target, msg::NO_BACKSTEPS)]
    } else {
        Vec::new()
    }
}

fn validate_pull_policy(policy: &str, path: &Path) -> Vec<FieldError> {
    match policy {
        "Always" | "IfNotPresent" | "Never" => Vec::new(),
        "" => vec![FieldError::required(path, "")],
        other => vec![FieldError::not_supported(
            path,
            other,
            &["Always", "IfNotPresent", "Never"],
        )],
    }
}

// --- resources ---------------------------------------------------------------------------

const HUGEPAGES_PREFIX: &str = "hugepages-";

fn is_hugepages(name: &str) -> bool {
    name.starts_with(HUGEPAGES_PREFIX)
}

fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Go `IsOvercommitAllowed`.
pub(crate) fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !is_hugepages(name)
}

fn is_extended_resource_name(name: &str) -> bool {
    !is_native_resource(name)
        && !name.starts_with("requests.")
        && is_qualified_name(&format!("requests.{name}")).is_empty()
}

fn is_integer_resource_name(name: &str) -> bool {
    const INTEGER: [&str; 9] = [
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    ];
    INTEGER.contains(&name) || is_extended_resource_name(name)
}

fn is_standard_resource_name(name: &str) -> bool {
    const STANDARD: [&str; 20] = [
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    ];
    STANDARD.contains(&name) || is_hugepages(name) || name.starts_with("requests.hugepages-")
}

/// Go `validateResourceName`.
pub(crate) fn validate_resource_name(name: &str, path: &Path) -> Vec<FieldError> {
    let errs = invalid_each(path, name, is_qualified_name(name));
    if !errs.is_empty() {
        return errs;
    }
    if !name.contains('/') && !is_standard_resource_name(name) {
        return vec![FieldError::invalid(path, name, msg::NOT_STANDARD_RESOURCE)];
    }
    Vec::new()
}

/// Go `validateContainerResourceName`.
fn validate_container_resource_name(name: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_resource_name(name, path);
    let standard_container =
        ["cpu", "memory", "ephemeral-storage"].contains(&name) || is_hugepages(name);
    if !name.contains('/') {
        if !standard_container {
            errs.push(FieldError::invalid(
                path,
                name,
                msg::NOT_STANDARD_CONTAINER_RESOURCE,
            ));
        }
    } else if !is_native_resource(name) && !is_extended_resource_name(name) {
        errs.push(FieldError::invalid(path, name, msg::NOT_EXTENDED_RESOURCE));
    }
    errs
}

/// Parses a resource quantity; a malformed one becomes an `Invalid` error on its field.
/// (Kubernetes rejects it earlier, while decoding: `… cannot be handled as a Pod: <msg>`.)
pub(crate) fn parse_quantity(q: &K8sQuantity, path: &Path) -> Result<Quantity, FieldError> {
    Quantity::from_k8s(q).map_err(|e| FieldError::invalid(path, q.0.as_str(), e.to_string()))
}

/// Go `ValidateResourceQuantityValue`: not negative; whole numbers for integer resources.
pub(crate) fn validate_quantity_value(name: &str, q: &Quantity, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if q.is_negative() {
        errs.push(FieldError::invalid(path, q.to_string(), msg::IS_NEGATIVE));
    }
    if is_integer_resource_name(name) && q.milli_value() % 1000 != 0 {
        // Go prints a Quantity through its String() method, without quotes.
        errs.push(FieldError::invalid(
            path,
            Value::raw(q.to_string()),
            msg::IS_NOT_INTEGER,
        ));
    }
    errs
}

fn hugepage_error(name: &str, q: &Quantity, path: &Path) -> Option<FieldError> {
    let page = name
        .strip_prefix(HUGEPAGES_PREFIX)
        .and_then(|size| Quantity::parse(size).ok());
    let divisible = match page {
        Some(page) if page.nanos() > 0 && page.milli_value() % 1000 == 0 => {
            page.value() != 0 && q.value() % page.value() == 0
        }
        _ => false,
    };
    (!divisible).then(|| {
        FieldError::invalid(
            path,
            q.to_string(),
            format!("{q} is not positive integer multiple of {name}"),
        )
    })
}

type ResourceMap = BTreeMap<String, K8sQuantity>;

/// Go `validateResourceRequirements` for containers (`must be less than or equal to cpu
/// limit of 1`, errors on `…resources.requests`, unkeyed, as in Go).
pub(crate) fn validate_resource_requirements(
    req: Option<&ResourceRequirements>,
    path: &Path,
) -> Vec<FieldError> {
    let empty = ResourceMap::new();
    let limits = req.and_then(|r| r.limits.as_ref()).unwrap_or(&empty);
    let requests = req.and_then(|r| r.requests.as_ref()).unwrap_or(&empty);
    let (lim_path, req_path) = (path.child("limits"), path.child("requests"));
    let mut errs = Vec::new();
    let mut parsed_limits: BTreeMap<&str, Quantity> = BTreeMap::new();
    for (name, raw) in limits {
        let key_path = lim_path.key(name);
        errs.extend(validate_container_resource_name(name, &key_path));
        match parse_quantity(raw, &key_path) {
            Ok(q) => {
                errs.extend(validate_quantity_value(name, &q, &key_path));
                if is_hugepages(name) {
                    errs.extend(hugepage_error(name, &q, &key_path));
                }
                parsed_limits.insert(name, q);
            }
            Err(e) => errs.push(e),
        }
    }
    for (name, raw) in requests {
        let key_path = req_path.key(name);
        errs.extend(validate_container_resource_name(name, &key_path));
        let q = match parse_quantity(raw, &key_path) {
            Ok(q) => q,
            Err(e) => {
                errs.push(e);
                continue;
            }
        };
        errs.extend(validate_quantity_value(name, &q, &key_path));
        errs.extend(compare_with_limit(
            name,
            &q,
            limits,
            &parsed_limits,
            &lim_path,
            &req_path,
        ));
        if is_hugepages(name) {
            errs.extend(hugepage_error(name, &q, &key_path));
        }
    }
    let qos = |m: &ResourceMap| m.keys().any(|k| k == "cpu" || k == "memory");
    let huge = |m: &ResourceMap| m.keys().any(|k| is_hugepages(k));
    if !qos(limits) && !qos(requests) && (huge(limits) || huge(requests)) {
        errs.push(FieldError::forbidden(
            path,
            msg::HUGEPAGES_REQUIRE_CPU_OR_MEMORY,
        ));
    }
    errs
}

fn compare_with_limit(
    name: &str,
    request: &Quantity,
    limits: &ResourceMap,
    parsed_limits: &BTreeMap<&str, Quantity>,
    lim_path: &Path,
    req_path: &Path,
) -> Option<FieldError> {
    if !limits.contains_key(name) {
        return (!is_overcommit_allowed(name))
            .then(|| FieldError::required(lim_path, msg::LIMIT_REQUIRED_NON_OVERCOMMIT));
    }
    let limit = parsed_limits.get(name)?;
    if request != limit && !is_overcommit_allowed(name) {
        let detail = msg::request_not_equal_limit(name, &limit.to_string());
        Some(FieldError::invalid(req_path, request.to_string(), detail))
    } else if request > limit {
        let detail = msg::request_above_limit(name, &limit.to_string());
        Some(FieldError::invalid(req_path, request.to_string(), detail))
    } else {
        None
    }
}

/// Go `validateResizePolicy` (resource and policy values, duplicates).
fn validate_resize_policy(ctr: &Container, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, policy) in ctr.resize_policy.iter().flatten().enumerate() {
        if !seen.insert(policy.resource_name.as_str()) {
            errs.push(FieldError::duplicate(path.index(i), &policy.resource_name));
        }
        match policy.resource_name.as_str() {
            "cpu" | "memory" => {}
            "" => errs.push(FieldError::required(path, "")),
            other => errs.push(FieldError::not_supported(path, other, &["cpu", "memory"])),
        }
        match policy.restart_policy.as_str() {
            "NotRequired" | "RestartContainer" => {}
            "" => errs.push(FieldError::required(path, "")),
            other => errs.push(FieldError::not_supported(
                path,
                other,
                &["NotRequired", "RestartContainer"],
            )),
        }
    }
    errs
}

/// Go `ValidateSecurityContext` (user/group ranges and procMount; capability and
/// privilege rules are left out).
fn validate_security_context(sc: Option<&SecurityContext>, path: &Path) -> Vec<FieldError> {
    let Some(sc) = sc else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    errs.extend(id_range_error(sc.run_as_user, &path.child("runAsUser")));
    errs.extend(id_range_error(sc.run_as_group, &path.child("runAsGroup")));
    if let Some(proc_mount) = sc.proc_mount.as_deref()
        && !["Default", "Unmasked"].contains(&proc_mount)
    {
        errs.push(FieldError::not_supported(
            path.child("procMount"),
            proc_mount,
            &["Default", "Unmasked"],
        ));
    }
    errs
}

/// Go `IsValidUserID` / `IsValidGroupID` (0..=MaxInt32 in v1.32).
pub(crate) fn id_range_error(id: Option<i64>, path: &Path) -> Option<FieldError> {
    let id = id?;
    let max = i64::from(i32::MAX);
    (!(0..=max).contains(&id))
        .then(|| FieldError::invalid(path, id, msg::inclusive_range_error(0, max)))
}

// --- probes and lifecycle ------------------------------------------------------------------

fn validate_probes_and_lifecycle(
    ctr: &Container,
    ctx: &PodContext<'_>,
    idx: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(lifecycle) = &ctr.lifecycle {
        let path = idx.child("lifecycle");
        if let Some(h) = &lifecycle.post_start {
            errs.extend(validate_lifecycle_handler(
                h,
                ctx.grace_period,
                &path.child("postStart"),
            ));
        }
        if let Some(h) = &lifecycle.pre_stop {
            errs.extend(validate_lifecycle_handler(
                h,
                ctx.grace_period,
                &path.child("preStop"),
            ));
        }
    }
    if let Some(probe) = &ctr.liveness_probe {
        let path = idx.child("livenessProbe");
        errs.extend(validate_probe(probe, &path));
        errs.extend(success_threshold_one(probe, &path));
    }
    if let Some(probe) = &ctr.readiness_probe {
        let path = idx.child("readinessProbe");
        errs.extend(validate_probe(probe, &path));
        if let Some(seconds) = probe.termination_grace_period_seconds {
            errs.push(FieldError::invalid(
                path.child("terminationGracePeriodSeconds"),
                seconds,
                msg::NOT_FOR_READINESS,
            ));
        }
    }
    if let Some(probe) = &ctr.startup_probe {
        let path = idx.child("startupProbe");
        errs.extend(validate_probe(probe, &path));
        errs.extend(success_threshold_one(probe, &path));
    }
    errs
}

fn success_threshold_one(probe: &Probe, path: &Path) -> Option<FieldError> {
    let threshold = probe.success_threshold.unwrap_or_default();
    (threshold != 1)
        .then(|| FieldError::invalid(path.child("successThreshold"), threshold, msg::MUST_BE_ONE))
}

/// Go `validateProbe`.
fn validate_probe(probe: &Probe, path: &Path) -> Vec<FieldError> {
    let handler = Handler {
        exec: probe
            .exec
            .as_ref()
            .map(|e| e.command.as_deref().unwrap_or_default()),
        http_get: probe.http_get.as_ref(),
        tcp_port: probe.tcp_socket.as_ref().map(|t| &t.port),
        grpc_port: probe.grpc.as_ref().map(|g| g.port),
        sleep_seconds: None,
    };
    let mut errs = validate_handler(&handler, None, path);
    let numbers = [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ];
    for (field, value) in numbers {
        let value = i64::from(value.unwrap_or_default());
        if value < 0 {
            errs.push(FieldError::invalid(
                path.child(field),
                value,
                msg::IS_NEGATIVE,
            ));
        }
    }
    if let Some(seconds) = probe.termination_grace_period_seconds
        && seconds <= 0
    {
        errs.push(FieldError::invalid(
            path.child("terminationGracePeriodSeconds"),
            seconds,
            msg::MUST_BE_GREATER_THAN_ZERO,
        ));
    }
    errs
}

fn validate_lifecycle_handler(
    h: &LifecycleHandler,
    grace: Option<i64>,
    path: &Path,
) -> Vec<FieldError> {
    let handler = Handler {
        exec: h
            .exec
            .as_ref()
            .map(|e| e.command.as_deref().unwrap_or_default()),
        http_get: h.http_get.as_ref(),
        tcp_port: h.tcp_socket.as_ref().map(|t| &t.port),
        grpc_port: None,
        sleep_seconds: h.sleep.as_ref().map(|s| s.seconds),
    };
    validate_handler(&handler, grace, path)
}

/// Go `commonHandler`.
struct Handler<'a> {
    exec: Option<&'a [String]>,
    http_get: Option<&'a k8s_openapi::api::core::v1::HTTPGetAction>,
    tcp_port: Option<&'a IntOrString>,
    grpc_port: Option<i32>,
    sleep_seconds: Option<i64>,
}

/// Go `validateHandler`: exactly one handler type.
fn validate_handler(h: &Handler<'_>, grace: Option<i64>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut count = 0;
    let mut add = |field: &str, present: bool, checks: &dyn Fn(&Path) -> Vec<FieldError>| {
        if !present {
            return;
        }
        let field_path = path.child(field);
        if count > 0 {
            errs.push(FieldError::forbidden(
                field_path,
                msg::MORE_THAN_ONE_HANDLER,
            ));
        } else {
            count += 1;
            errs.extend(checks(&field_path));
        }
    };
    add("exec", h.exec.is_some(), &|p| match h.exec {
        Some([]) => vec![FieldError::required(p.child("command"), "")],
        _ => Vec::new(),
    });
    add("httpGet", h.http_get.is_some(), &|p| {
        h.http_get
            .map(|g| validate_http_get(g, p))
            .unwrap_or_default()
    });
    add("tcpSocket", h.tcp_port.is_some(), &|p| {
        h.tcp_port
            .map(|port| validate_port_num_or_name(port, &p.child("port")))
            .unwrap_or_default()
    });
    add("grpc", h.grpc_port.is_some(), &|p| {
        let port = IntOrString::Int(h.grpc_port.unwrap_or_default());
        validate_port_num_or_name(&port, &p.child("port"))
    });
    add("sleep", h.sleep_seconds.is_some(), &|p| {
        validate_sleep(h.sleep_seconds.unwrap_or_default(), grace, p)
    });
    if count == 0 {
        errs.push(FieldError::required(path, msg::MUST_SPECIFY_HANDLER));
    }
    errs
}

fn validate_http_get(
    g: &k8s_openapi::api::core::v1::HTTPGetAction,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if opt_str(&g.path).is_empty() {
        errs.push(FieldError::required(path.child("path"), ""));
    }
    errs.extend(validate_port_num_or_name(&g.port, &path.child("port")));
    let scheme = opt_str(&g.scheme);
    if scheme != "HTTP" && scheme != "HTTPS" {
        errs.push(FieldError::not_supported(
            path.child("scheme"),
            scheme,
            &["HTTP", "HTTPS"],
        ));
    }
    for header in g.http_headers.iter().flatten() {
        let ok = !header.name.is_empty()
            && header
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            errs.push(FieldError::invalid(
                path.child("httpHeaders"),
                &header.name,
                msg::regex_error(
                    "a valid HTTP header must consist of alphanumeric characters or '-'",
                    "[-A-Za-z0-9]+",
                    &["X-Header-Name"],
                ),
            ));
        }
    }
    errs
}

/// Go `ValidatePortNumOrName`.
pub(crate) fn validate_port_num_or_name(port: &IntOrString, path: &Path) -> Vec<FieldError> {
    match port {
        IntOrString::Int(n) => is_valid_port_num(i64::from(*n))
            .into_iter()
            .map(|m| FieldError::invalid(path, *n, m))
            .collect(),
        IntOrString::String(name) => invalid_each(path, name, is_valid_port_name(name)),
    }
}

/// Go `validateSleepAction` (zero sleep not allowed: PodLifecycleSleepActionAllowZero is
/// off in 1.32).
fn validate_sleep(seconds: i64, grace: Option<i64>, path: &Path) -> Vec<FieldError> {
    match grace {
        Some(grace) if seconds <= 0 || seconds > grace => vec![FieldError::invalid(
            path,
            seconds,
            format!(
                "must be greater than 0 and less than terminationGracePeriodSeconds ({grace}). \
                 Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."
            ),
        )],
        _ => Vec::new(),
    }
}

/// Go `AccumulateUniqueHostPorts`: `spec.containers[1].ports[0].hostPort: Duplicate value:
/// "TCP//8080"`.
fn host_port_conflicts(containers: &[Container], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (ci, ctr) in containers.iter().enumerate() {
        let ports_path = path.index(ci).child("ports");
        for (pi, port) in ctr.ports.iter().flatten().enumerate() {
            let host_port = port.host_port.unwrap_or_default();
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{host_port}",
                opt_str(&port.protocol),
                opt_str(&port.host_ip)
            );
            if seen.contains(&key) {
                errs.push(FieldError::duplicate(
                    ports_path.index(pi).child("hostPort"),
                    key,
                ));
            } else {
                seen.insert(key);
            }
        }
    }
    errs
}

/// Go `validateContainerOnlyForPod`: no whitespace around the image.
pub(crate) fn image_whitespace_errors(containers: &[Container], path: &Path) -> Vec<FieldError> {
    containers
        .iter()
        .enumerate()
        .filter_map(|(i, ctr)| {
            let image = opt_str(&ctr.image);
            (image.trim() != image).then(|| {
                FieldError::invalid(path.index(i).child("image"), image, msg::IMAGE_WHITESPACE)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! Container rules are exercised end to end in `pod.rs`; these cover the helpers.
    use super::*;

    #[test]
    fn resource_name_classes() {
        assert!(is_overcommit_allowed("cpu"));
        assert!(is_overcommit_allowed("kubernetes.io/foo"));
        assert!(!is_overcommit_allowed("hugepages-2Mi"));
        assert!(!is_overcommit_allowed("example.com/gpu"));
        assert!(is_extended_resource_name("example.com/gpu"));
        assert!(!is_extended_resource_name("requests.example.com/gpu"));
        assert!(is_integer_resource_name("pods"));
        assert!(!is_integer_resource_name("cpu"));
        let path = Path::new("x");
        assert_eq!(
            validate_container_resource_name("example.com/Bad Name", &path)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec![
                "x: Invalid value: \"example.com/Bad Name\": name part must consist of alphanumeric \
                  characters, '-', '_' or '.', and must start and end with an alphanumeric character \
                  (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is \
                  '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "x: Invalid value: \"example.com/Bad Name\": doesn't follow extended resource name standard"
            ]
        );
    }

    #[test]
    fn downward_api_labels() {
        assert_eq!(
            split_subscripted("metadata.labels['app']"),
            Some(("metadata.labels", "app"))
        );
        assert_eq!(split_subscripted("metadata.labels"), None);
        assert_eq!(split_subscripted("['x']"), None);
        assert_eq!(
            convert_field_label("v1", "spec.host"),
            Ok("spec.nodeName".to_string())
        );
        assert_eq!(
            convert_field_label("v2", "metadata.name"),
            Err("unsupported pod version: v2".to_string())
        );
        assert_eq!(
            convert_field_label("v1", "spec.containers['a']"),
            Err("field label does not support subscript: spec.containers['a']".to_string())
        );
    }

    #[test]
    fn ports_and_paths() {
        let path = Path::new("p");
        let render =
            |errs: Vec<FieldError>| errs.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            render(validate_port_num_or_name(&IntOrString::Int(0), &path)),
            vec!["p: Invalid value: 0: must be between 1 and 65535, inclusive"]
        );
        assert!(validate_port_num_or_name(&IntOrString::String("http".into()), &path).is_empty());
        assert_eq!(
            render(validate_local_descending_path("/abs/../x", &path)),
            vec![
                "p: Invalid value: \"/abs/../x\": must be a relative path",
                "p: Invalid value: \"/abs/../x\": must not contain '..'",
            ]
        );
        assert_eq!(
            render(
                id_range_error(Some(i64::from(i32::MAX) + 1), &path)
                    .into_iter()
                    .collect()
            ),
            vec!["p: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive"]
        );
    }
}
