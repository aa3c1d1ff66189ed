//! Pod update rules (`ValidatePodUpdate`, `ValidatePodStatusUpdate`, v1.32).
//!
//! After create, a pod's spec may only change in `spec.containers[*].image`,
//! `spec.initContainers[*].image`, `spec.activeDeadlineSeconds` (set, or lowered),
//! `spec.tolerations` (additions; existing ones may change `tolerationSeconds` only),
//! `spec.terminationGracePeriodSeconds` (only from a negative value to 1), scheduling
//! gates (removals) and, while gated, `spec.nodeSelector` (additions). Anything else is
//! `spec: Forbidden: pod updates may not change fields other than …`.
//!
//! Kubernetes appends `cmp.Diff(oldSpec, newSpec)` (a Go struct dump) to that message.
//! kubox appends a compact diff instead: one line per changed field,
//! `spec.containers[0].ports[0].containerPort: 80 -> 8080` (`<unset>` for an absent
//! value). Absent, null, empty lists and empty objects compare equal, and quantities
//! compare by value, like Go's semantic equality (Go does tell a nil pointer from an
//! empty struct; kubox does not).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, PodSpec};
use serde_json::Value as Json;

use super::field::{FieldError, Path, Value, go_map_literal};
use super::messages as msg;
use super::meta::{NameKind, validate_object_meta_update};
use super::names::{is_qualified_name, parse_ip_sloppy};
use super::opt_str;
use super::pod::{
    MIRROR_POD_ANNOTATION, POD_DELETION_COST_ANNOTATION, is_valid_deletion_cost,
    validate_pod_metadata_and_spec,
};
use super::scheduling::validate_only_added_tolerations;
use crate::api::quantity::Quantity;

/// Go `ValidatePodUpdate`. Both pods are the stored (defaulted) forms; the new one should
/// have been through v1 defaulting and the DefaultTolerationSeconds admission step.
pub fn validate_pod_update(new: &Pod, old: &Pod) -> Vec<FieldError> {
    let empty = PodSpec::default();
    let new_spec = new.spec.as_ref().unwrap_or(&empty);
    let old_spec = old.spec.as_ref().unwrap_or(&empty);
    let spec_path = Path::new("spec");

    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata);
    let allow_invalid_cost =
        annotation(old, POD_DELETION_COST_ANNOTATION).is_some_and(|v| !is_valid_deletion_cost(v));
    errs.extend(validate_pod_metadata_and_spec(new, allow_invalid_cost));
    errs.extend(validate_mirror_annotation_update(new, old));

    for (field, new_list, old_list) in [
        (
            "containers",
            new_spec.containers.as_slice(),
            old_spec.containers.as_slice(),
        ),
        (
            "initContainers",
            new_spec.init_containers.as_deref().unwrap_or_default(),
            old_spec.init_containers.as_deref().unwrap_or_default(),
        ),
    ] {
        let (container_errs, stop) =
            validate_container_updates(new_list, old_list, &spec_path.child(field));
        errs.extend(container_errs);
        if stop {
            return errs;
        }
    }
    let (deadline_errs, stop) = validate_deadline_update(new_spec, old_spec, &spec_path);
    errs.extend(deadline_errs);
    if stop {
        return errs;
    }
    errs.extend(validate_only_added_tolerations(
        new_spec.tolerations.as_deref().unwrap_or_default(),
        old_spec.tolerations.as_deref().unwrap_or_default(),
        &spec_path.child("tolerations"),
    ));
    errs.extend(validate_only_deleted_gates(
        new_spec,
        old_spec,
        &spec_path.child("schedulingGates"),
    ));

    let (munged, gate_errs) = munge_updatable_fields(new_spec, old_spec, &spec_path);
    errs.extend(gate_errs);
    let diff = spec_diff(old_spec, &munged);
    if !diff.is_empty() {
        let detail = format!("{}\n{}", msg::pod_updates_forbidden(), diff.join("\n"));
        errs.push(FieldError::forbidden(&spec_path, detail));
    }
    errs
}

fn annotation<'a>(pod: &'a Pod, key: &str) -> Option<&'a String> {
    pod.metadata.annotations.as_ref().and_then(|a| a.get(key))
}

/// Go `ValidatePodSpecificAnnotationUpdates` (mirror pod annotation is immutable).
fn validate_mirror_annotation_update(new: &Pod, old: &Pod) -> Vec<FieldError> {
    let path = Path::new("metadata")
        .child("annotations")
        .key(MIRROR_POD_ANNOTATION);
    match (
        annotation(old, MIRROR_POD_ANNOTATION),
        annotation(new, MIRROR_POD_ANNOTATION),
    ) {
        (Some(o), Some(n)) if o == n => Vec::new(),
        (Some(_), _) => vec![FieldError::forbidden(path, msg::MIRROR_REMOVE_OR_UPDATE)],
        (None, Some(_)) => vec![FieldError::forbidden(path, msg::MIRROR_ADD)],
        (None, None) => Vec::new(),
    }
}

/// Go `ValidateContainerUpdates`: same number of containers, each with an image.
fn validate_container_updates(
    new: &[Container],
    old: &[Container],
    path: &Path,
) -> (Vec<FieldError>, bool) {
    if new.len() != old.len() {
        return (
            vec![FieldError::forbidden(path, msg::ADD_OR_REMOVE_CONTAINERS)],
            true,
        );
    }
    let mut errs = Vec::new();
    for (i, ctr) in new.iter().enumerate() {
        let image = opt_str(&ctr.image);
        let image_path = path.index(i).child("image");
        if image.is_empty() {
            errs.push(FieldError::required(&image_path, ""));
        }
        if image.trim() != image {
            errs.push(FieldError::invalid(
                &image_path,
                image,
                msg::IMAGE_WHITESPACE,
            ));
        }
    }
    (errs, false)
}

/// activeDeadlineSeconds may be set, or lowered, never unset. The flag tells the caller
/// to stop validating (Go returns early for the first two errors).
fn validate_deadline_update(new: &PodSpec, old: &PodSpec, path: &Path) -> (Vec<FieldError>, bool) {
    let field = path.child("activeDeadlineSeconds");
    let max = i64::from(i32::MAX);
    match (new.active_deadline_seconds, old.active_deadline_seconds) {
        (Some(n), _) if !(0..=max).contains(&n) => (
            vec![FieldError::invalid(
                field,
                n,
                msg::inclusive_range_error(0, max),
            )],
            true,
        ),
        (Some(n), Some(o)) if o < n => (
            vec![FieldError::invalid(field, n, msg::DEADLINE_NOT_INCREASED)],
            true,
        ),
        (None, Some(_)) => (
            vec![FieldError::invalid(
                field,
                Value::null(),
                msg::DEADLINE_NOT_UNSET,
            )],
            false,
        ),
        _ => (Vec::new(), false),
    }
}

/// Go `validateOnlyDeletedSchedulingGates`.
fn validate_only_deleted_gates(new: &PodSpec, old: &PodSpec, path: &Path) -> Vec<FieldError> {
    let old_names: Vec<&str> = old
        .scheduling_gates
        .iter()
        .flatten()
        .map(|g| g.name.as_str())
        .collect();
    let mut added: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, gate) in new.scheduling_gates.iter().flatten().enumerate() {
        added.insert(gate.name.as_str(), i);
    }
    added
        .into_iter()
        .filter(|(name, _)| !old_names.contains(name))
        .map(|(name, i)| {
            FieldError::forbidden(path.index(i).child("name"), msg::new_scheduling_gate(name))
        })
        .collect()
}

/// The new spec with every field that may legally change put back to its old value.
fn munge_updatable_fields(new: &PodSpec, old: &PodSpec, path: &Path) -> (PodSpec, Vec<FieldError>) {
    let mut munged = new.clone();
    copy_images(&mut munged.containers, &old.containers);
    if let (Some(new_init), Some(old_init)) = (
        munged.init_containers.as_mut(),
        old.init_containers.as_ref(),
    ) {
        copy_images(new_init, old_init);
    }
    munged.active_deadline_seconds = old.active_deadline_seconds;
    munged.scheduling_gates = old.scheduling_gates.clone();
    munged.tolerations = old.tolerations.clone();
    let was_negative = old.termination_grace_period_seconds.is_some_and(|s| s < 0);
    if was_negative && munged.termination_grace_period_seconds == Some(1) {
        munged.termination_grace_period_seconds = old.termination_grace_period_seconds;
    }
    let mut errs = Vec::new();
    let gated = old.scheduling_gates.as_ref().is_some_and(|g| !g.is_empty());
    if gated && munged.node_selector != old.node_selector {
        errs.extend(validate_node_selector_additions(
            &munged,
            old,
            &path.child("nodeSelector"),
        ));
        munged.node_selector = old.node_selector.clone();
    }
    (munged, errs)
}

fn copy_images(new: &mut [Container], old: &[Container]) {
    for (n, o) in new.iter_mut().zip(old) {
        n.image = o.image.clone();
    }
}

/// Go `validateNodeSelectorMutation` (gated pods may only add node selector entries).
fn validate_node_selector_additions(new: &PodSpec, old: &PodSpec, path: &Path) -> Vec<FieldError> {
    let empty = BTreeMap::new();
    let new_map = new.node_selector.as_ref().unwrap_or(&empty);
    let changed = old
        .node_selector
        .iter()
        .flatten()
        .any(|(k, v)| new_map.get(k) != Some(v));
    if changed {
        let rendered = Value::raw(go_map_literal(new_map.iter()));
        vec![FieldError::invalid(
            path,
            rendered,
            msg::NODE_SELECTOR_ADDITIONS_ONLY,
        )]
    } else {
        Vec::new()
    }
}

// --- compact spec diff -------------------------------------------------------------------

/// One line per changed field between two pod specs (empty when semantically equal).
pub fn spec_diff(old: &PodSpec, new: &PodSpec) -> Vec<String> {
    let old_json = normalize(serde_json::to_value(old).unwrap_or(Json::Null));
    let new_json = normalize(serde_json::to_value(new).unwrap_or(Json::Null));
    let mut lines = Vec::new();
    diff_values("spec", &old_json, &new_json, false, &mut lines);
    lines
}

/// Drops nulls, empty lists and empty objects so absent and empty compare equal.
fn normalize(value: Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalize(v)))
                .filter(|(_, v)| !is_empty_json(v))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

fn is_empty_json(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Object keys whose children are map entries (rendered `[key]`) rather than fields.
const MAP_FIELDS: [&str; 5] = [
    "limits",
    "requests",
    "overhead",
    "nodeSelector",
    "matchLabels",
];
/// Maps whose values are resource quantities.
const QUANTITY_MAPS: [&str; 3] = ["limits", "requests", "overhead"];

fn diff_values(path: &str, old: &Json, new: &Json, quantities: bool, out: &mut Vec<String>) {
    let empty = serde_json::Map::new();
    match (old, new) {
        (Json::Object(_), Json::Null)
        | (Json::Null, Json::Object(_))
        | (Json::Object(_), Json::Object(_)) => {
            let o = old.as_object().unwrap_or(&empty);
            let n = new.as_object().unwrap_or(&empty);
            let parent = path.rsplit(['.', ']']).next().unwrap_or_default();
            let is_map = MAP_FIELDS.contains(&parent);
            let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for key in keys {
                let child = if is_map {
                    format!("{path}[{key}]")
                } else {
                    format!("{path}.{key}")
                };
                let (ov, nv) = (
                    o.get(key).unwrap_or(&Json::Null),
                    n.get(key).unwrap_or(&Json::Null),
                );
                diff_values(
                    &child,
                    ov,
                    nv,
                    is_map && QUANTITY_MAPS.contains(&parent),
                    out,
                );
            }
        }
        (Json::Array(o), Json::Array(n)) => {
            for i in 0..o.len().max(n.len()) {
                let (ov, nv) = (
                    o.get(i).unwrap_or(&Json::Null),
                    n.get(i).unwrap_or(&Json::Null),
                );
                diff_values(&format!("{path}[{i}]"), ov, nv, false, out);
            }
        }
        _ if leaves_equal(old, new, quantities) => {}
        _ => out.push(format!("{path}: {} -> {}", render(old), render(new))),
    }
}

fn leaves_equal(old: &Json, new: &Json, quantities: bool) -> bool {
    if old == new {
        return true;
    }
    match (quantities, old, new) {
        (true, Json::String(a), Json::String(b)) => {
            matches!((Quantity::parse(a.trim()), Quantity::parse(b.trim())), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

fn render(v: &Json) -> String {
    match v {
        Json::Null => "<unset>".to_string(),
        other => other.to_string(),
    }
}

// --- status updates --------------------------------------------------------------------

/// Go `ValidatePodStatusUpdate`: metadata rules, custom condition types, `status.nodeName`
/// untouched, nominatedNodeName a subdomain, qosClass immutable, no terminated container
/// brought back unless the restart policy allows it, pod/host IPs well formed.
pub fn validate_pod_status_update(new: &Pod, old: &Pod) -> Vec<FieldError> {
    let meta_path = Path::new("metadata");
    let status_path = Path::new("status");
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata);
    errs.extend(validate_mirror_annotation_update(new, old));
    errs.extend(validate_pod_conditions(new, &meta_path.child("conditions")));
    let node_name = |p: &Pod| {
        p.spec
            .as_ref()
            .map(|s| opt_str(&s.node_name).to_string())
            .unwrap_or_default()
    };
    if node_name(new) != node_name(old) {
        errs.push(FieldError::forbidden(
            status_path.child("nodeName"),
            msg::MAY_NOT_BE_CHANGED_DIRECTLY,
        ));
    }
    let new_status = new.status.clone().unwrap_or_default();
    let old_status = old.status.clone().unwrap_or_default();
    let nominated = opt_str(&new_status.nominated_node_name);
    if nominated != opt_str(&old_status.nominated_node_name) && !nominated.is_empty() {
        let field = status_path.child("nominatedNodeName");
        for m in NameKind::DnsSubdomain.check(nominated, false) {
            errs.push(FieldError::invalid(&field, nominated, m));
        }
    }
    let qos = opt_str(&new_status.qos_class);
    if qos != opt_str(&old_status.qos_class) {
        errs.push(FieldError::invalid(
            status_path.child("qosClass"),
            qos,
            msg::FIELD_IMMUTABLE,
        ));
    }
    let old_spec = old.spec.clone().unwrap_or_default();
    let restart_policy = opt_str(&old_spec.restart_policy);
    errs.extend(state_transition_errors(
        new_status.container_statuses.as_deref().unwrap_or_default(),
        old_status.container_statuses.as_deref().unwrap_or_default(),
        &status_path.child("containerStatuses"),
        restart_policy,
        &[],
    ));
    let sidecars: Vec<&str> = old_spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(|c| c.name.as_str())
        .collect();
    errs.extend(state_transition_errors(
        new_status
            .init_container_statuses
            .as_deref()
            .unwrap_or_default(),
        old_status
            .init_container_statuses
            .as_deref()
            .unwrap_or_default(),
        &status_path.child("initContainerStatuses"),
        restart_policy,
        &sidecars,
    ));
    errs.extend(state_transition_errors(
        new_status
            .ephemeral_container_statuses
            .as_deref()
            .unwrap_or_default(),
        old_status
            .ephemeral_container_statuses
            .as_deref()
            .unwrap_or_default(),
        &status_path.child("ephemeralContainerStatuses"),
        "Never",
        &[],
    ));
    let pod_ips: Vec<String> = new_status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.clone())
        .collect();
    errs.extend(validate_ip_list(
        &pod_ips,
        &status_path.child("podIPs"),
        "PodIP",
    ));
    let host_ips: Vec<String> = new_status
        .host_ips
        .iter()
        .flatten()
        .map(|p| p.ip.clone())
        .collect();
    errs.extend(validate_host_ips(
        opt_str(&new_status.host_ip),
        &host_ips,
        &status_path.child("hostIPs"),
    ));
    errs
}

/// Go `validatePodConditions`: custom condition types must be qualified names. (Go puts
/// these under `metadata.conditions[i].Type`.)
fn validate_pod_conditions(pod: &Pod, path: &Path) -> Vec<FieldError> {
    const SYSTEM: [&str; 3] = ["PodScheduled", "Ready", "Initialized"];
    let mut errs = Vec::new();
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    for (i, condition) in conditions.into_iter().flatten().enumerate() {
        if SYSTEM.contains(&condition.type_.as_str()) {
            continue;
        }
        let field = path.index(i).child("Type");
        for m in is_qualified_name(&condition.type_) {
            errs.push(FieldError::invalid(&field, &condition.type_, m));
        }
    }
    errs
}

/// Go `ValidateContainerStateTransition` / `ValidateInitContainerStateTransition`.
fn state_transition_errors(
    new: &[ContainerStatus],
    old: &[ContainerStatus],
    path: &Path,
    restart_policy: &str,
    restartable: &[&str],
) -> Vec<FieldError> {
    if restart_policy == "Always" {
        return Vec::new();
    }
    let mut errs = Vec::new();
    for (i, old_status) in old.iter().enumerate() {
        let Some(terminated) = old_status
            .state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
        else {
            continue;
        };
        if terminated.exit_code != 0 && restart_policy == "OnFailure" {
            continue;
        }
        if restartable.contains(&old_status.name.as_str()) {
            continue;
        }
        for new_status in new {
            let still_terminated = new_status
                .state
                .as_ref()
                .is_some_and(|s| s.terminated.is_some());
            if new_status.name == old_status.name && !still_terminated {
                errs.push(FieldError::forbidden(
                    path.index(i).child("state"),
                    msg::NON_TERMINATED_TRANSITION,
                ));
            }
        }
    }
    errs
}

fn go_ip_struct(kind: &str, ip: &str) -> String {
    format!("core.{kind}{{IP:{}}}", super::field::go_quote(ip))
}

fn go_ip_slice(kind: &str, ips: &[String]) -> String {
    let items: Vec<String> = ips.iter().map(|ip| go_ip_struct(kind, ip)).collect();
    format!("[]core.{kind}{{{}}}", items.join(", "))
}

/// Go `netutils.IsDualStackIPStrings`: `Err(ip)` for an unparsable address.
fn is_dual_stack(ips: &[String]) -> Result<bool, String> {
    let (mut v4, mut v6) = (false, false);
    for ip in ips {
        match parse_ip_sloppy(ip) {
            Some(true) => v4 = true,
            Some(false) => v6 = true,
            None => return Err(format!("invalid IP {ip}")),
        }
    }
    Ok(v4 && v6)
}

/// Go `validatePodIPs`.
fn validate_ip_list(ips: &[String], path: &Path, kind: &str) -> Vec<FieldError> {
    let mut errs: Vec<FieldError> = ips
        .iter()
        .enumerate()
        .filter(|(_, ip)| parse_ip_sloppy(ip).is_none())
        .map(|(i, ip)| FieldError::invalid(path.index(i), ip, msg::INVALID_IP))
        .collect();
    if ips.len() > 1 {
        errs.extend(dual_stack_errors(ips, path, kind));
        for (i, ip) in ips.iter().enumerate() {
            if ips[..i].contains(ip) {
                errs.push(FieldError::duplicate(
                    path.index(i),
                    Value::raw(go_ip_struct(kind, ip)),
                ));
            }
        }
    }
    errs
}

fn dual_stack_errors(ips: &[String], path: &Path, kind: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let dual = match is_dual_stack(ips) {
        Ok(dual) => dual,
        Err(e) => {
            errs.push(FieldError::internal(
                path,
                format!("failed to check for dual stack with error:{e}"),
            ));
            false
        }
    };
    if !dual || ips.len() > 2 {
        errs.push(FieldError::invalid(
            path,
            Value::raw(go_ip_slice(kind, ips)),
            msg::ONE_IP_PER_FAMILY,
        ));
    }
    errs
}

/// Go `validateHostIPs`.
fn validate_host_ips(host_ip: &str, ips: &[String], path: &Path) -> Vec<FieldError> {
    let Some(first) = ips.first() else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    if host_ip != first {
        errs.push(FieldError::invalid(
            path.index(0).child("ip"),
            first,
            msg::HOST_IP_MISMATCH,
        ));
    }
    for (i, ip) in ips.iter().enumerate() {
        if parse_ip_sloppy(ip).is_none() {
            errs.push(FieldError::invalid(path.index(i), ip, msg::INVALID_IP));
        }
    }
    if ips.len() > 1 {
        for (i, ip) in ips.iter().enumerate() {
            if ips[..i].contains(ip) {
                errs.push(FieldError::duplicate(
                    path.index(i),
                    Value::raw(go_ip_struct("HostIP", ip)),
                ));
            }
        }
        errs.extend(dual_stack_errors(ips, path, "HostIP"));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validation::fixtures::{messages, web_with};
    use serde_json::{Value as Json, json};

    fn stored() -> Pod {
        web_with(|p| {
            p["metadata"]["uid"] = json!("u-1");
            p["metadata"]["resourceVersion"] = json!("7");
            p["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
            p["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "1"}});
            p["spec"]["tolerations"] =
                json!([{"key": "dedicated", "operator": "Equal", "value": "web"}]);
        })
    }

    fn updated(edit: impl FnOnce(&mut Json)) -> Pod {
        let mut value = serde_json::to_value(stored()).expect("pod serializes");
        edit(&mut value);
        let mut pod: Pod = serde_json::from_value(value).expect("pod deserializes");
        crate::api::defaults::default_pod_for_update(&mut pod);
        pod
    }

    fn forbidden(diff: &[&str]) -> String {
        format!(
            "spec: Forbidden: {}\n{}",
            msg::pod_updates_forbidden(),
            diff.join("\n")
        )
    }

    #[test]
    fn the_forbidden_message_matches_kubernetes() {
        assert_eq!(
            msg::pod_updates_forbidden(),
            "pod updates may not change fields other than `spec.containers[*].image`,\
             `spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` \
             (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` \
             (allow it to be set to 1 if it was previously negative)"
        );
    }

    #[test]
    fn update_rules() {
        let old = stored();
        type Edit = fn(&mut Json);
        let cases: Vec<(&str, Edit, Vec<String>)> = vec![
            ("no change", |_| {}, vec![]),
            (
                "image",
                |p| p["spec"]["containers"][0]["image"] = json!("nginx:1.26"),
                vec![],
            ),
            (
                "labels",
                |p| p["metadata"]["labels"] = json!({"app": "web"}),
                vec![],
            ),
            (
                "same quantity other text",
                |p| p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("1000m"),
                vec![],
            ),
            (
                "port",
                |p| p["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(8080),
                vec![forbidden(&[
                    "spec.containers[0].ports[0].containerPort: 80 -> 8080",
                ])],
            ),
            (
                "cpu",
                |p| p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("2"),
                vec![forbidden(&[
                    "spec.containers[0].resources.requests[cpu]: \"1\" -> \"2\"",
                ])],
            ),
            (
                "grace period",
                |p| p["spec"]["terminationGracePeriodSeconds"] = json!(60),
                vec![forbidden(&["spec.terminationGracePeriodSeconds: 30 -> 60"])],
            ),
            (
                "node selector",
                |p| p["spec"]["nodeSelector"] = json!({"disk": "ssd"}),
                vec![forbidden(&["spec.nodeSelector[disk]: <unset> -> \"ssd\""])],
            ),
            (
                "empty image",
                |p| p["spec"]["containers"][0]["image"] = json!(""),
                vec![
                    s("spec.containers[0].image: Required value"),
                    s("spec.containers[0].image: Required value"),
                ],
            ),
            (
                "deadline set",
                |p| p["spec"]["activeDeadlineSeconds"] = json!(30),
                vec![],
            ),
            (
                "toleration added",
                |p| {
                    p["spec"]["tolerations"]
                        .as_array_mut()
                        .map(|t| t.push(json!({"key": "gpu", "operator": "Exists"})))
                        .unwrap_or_default()
                },
                vec![],
            ),
            // DefaultTolerationSeconds puts the two defaults back; the user's one is gone.
            (
                "toleration removed",
                |p| p["spec"]["tolerations"] = json!([]),
                vec![s(
                    "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
                )],
            ),
            (
                "gate added",
                |p| p["spec"]["schedulingGates"] = json!([{"name": "wait"}]),
                vec![s(
                    "spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new scheduling gate 'wait'",
                )],
            ),
            (
                "metadata",
                |p| {
                    p["metadata"]["name"] = json!("web2");
                    p["metadata"]["resourceVersion"] = json!(null);
                },
                vec![
                    s(
                        "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
                    ),
                    s("metadata.name: Invalid value: \"web2\": field is immutable"),
                ],
            ),
            (
                "mirror annotation",
                |p| p["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "x"}),
                vec![
                    s(
                        "metadata.annotations[kubernetes.io/config.mirror]: Invalid value: \"x\": must set spec.nodeName if mirror pod annotation is set",
                    ),
                    s(
                        "metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not add mirror pod annotation",
                    ),
                ],
            ),
        ];
        for (name, edit, expected) in cases {
            let new = updated(edit);
            assert_eq!(
                messages(&validate_pod_update(&new, &old)),
                expected,
                "case {name}"
            );
        }
    }

    fn s(text: &str) -> String {
        text.to_string()
    }

    #[test]
    fn adding_or_removing_containers_stops_validation() {
        let old = stored();
        let new = updated(|p| {
            p["spec"]["containers"]
                .as_array_mut()
                .map(|c| c.push(json!({"name": "b", "image": "x"})))
                .unwrap_or_default();
        });
        assert_eq!(
            messages(&validate_pod_update(&new, &old)),
            vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
        );
    }

    #[test]
    fn active_deadline_rules() {
        let with_deadline = |d: Json| updated(move |p| p["spec"]["activeDeadlineSeconds"] = d);
        let old = with_deadline(json!(60));
        let cases: Vec<(Json, Vec<&str>)> = vec![
            (json!(30), vec![]),
            (json!(60), vec![]),
            (
                json!(90),
                vec![
                    "spec.activeDeadlineSeconds: Invalid value: 90: must be less than or equal to previous value",
                ],
            ),
            (
                json!(-1),
                vec![
                    "spec.activeDeadlineSeconds: Invalid value: -1: must be between 1 and 2147483647, inclusive",
                    "spec.activeDeadlineSeconds: Invalid value: -1: must be between 0 and 2147483647, inclusive",
                ],
            ),
            (
                json!(null),
                vec![
                    "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value",
                ],
            ),
        ];
        for (deadline, expected) in cases {
            let new = with_deadline(deadline.clone());
            assert_eq!(
                messages(&validate_pod_update(&new, &old)),
                expected,
                "{deadline}"
            );
        }
    }

    #[test]
    fn negative_grace_period_may_become_one() {
        let old = updated(|p| p["spec"]["terminationGracePeriodSeconds"] = json!(-1));
        let new = updated(|p| p["spec"]["terminationGracePeriodSeconds"] = json!(1));
        assert!(validate_pod_update(&new, &old).is_empty());
    }

    #[test]
    fn gated_pods_may_add_node_selectors() {
        let old = updated(|p| {
            p["spec"]["schedulingGates"] = json!([{"name": "wait"}]);
            p["spec"]["nodeSelector"] = json!({"zone": "a"});
        });
        let added = updated(|p| {
            p["spec"]["schedulingGates"] = json!([]);
            p["spec"]["nodeSelector"] = json!({"zone": "a", "disk": "ssd"});
        });
        assert!(validate_pod_update(&added, &old).is_empty());
        let changed = updated(|p| {
            p["spec"]["schedulingGates"] = json!([{"name": "wait"}]);
            p["spec"]["nodeSelector"] = json!({"zone": "b"});
        });
        assert_eq!(
            messages(&validate_pod_update(&changed, &old)),
            vec![
                "spec.nodeSelector: Invalid value: map[string]string{\"zone\":\"b\"}: only additions to spec.nodeSelector are allowed (no mutations or deletions)"
            ]
        );
    }

    #[test]
    fn spec_diff_is_compact() {
        let old = stored();
        let new = updated(|p| {
            p["spec"]["containers"][0]["args"] = json!(["-v"]);
            p["spec"]["containers"][0]["ports"] = json!([]);
        });
        let (old_spec, new_spec) = (old.spec.unwrap_or_default(), new.spec.unwrap_or_default());
        assert_eq!(
            spec_diff(&old_spec, &new_spec),
            vec![
                "spec.containers[0].args: <unset> -> [\"-v\"]",
                "spec.containers[0].ports: [{\"containerPort\":80,\"protocol\":\"TCP\"}] -> <unset>",
            ]
        );
    }

    fn running(name: &str) -> Json {
        json!({"name": name, "image": "x", "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {}}})
    }

    fn terminated(name: &str, code: i32) -> Json {
        json!({"name": name, "image": "x", "imageID": "", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": code}}})
    }

    #[test]
    fn status_update_rules() {
        let base = |policy: &str, statuses: Json| {
            let policy = policy.to_string();
            updated(move |p| {
                p["spec"]["restartPolicy"] = json!(policy);
                p["status"]["containerStatuses"] = statuses;
            })
        };
        let old = base("Never", json!([terminated("app", 0)]));
        let back = base("Never", json!([running("app")]));
        assert_eq!(
            messages(&validate_pod_status_update(&back, &old)),
            vec![
                "status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state"
            ]
        );
        let old_failed = base("OnFailure", json!([terminated("app", 1)]));
        let retry = base("OnFailure", json!([running("app")]));
        assert!(validate_pod_status_update(&retry, &old_failed).is_empty());

        let old = stored();
        type Edit = fn(&mut Json);
        let cases: Vec<(&str, Edit, Vec<&str>)> = vec![
            (
                "running with IPs",
                |p| {
                    p["status"]["phase"] = json!("Running");
                    p["status"]["podIP"] = json!("10.244.1.5");
                    p["status"]["podIPs"] = json!([{"ip": "10.244.1.5"}]);
                    p["status"]["hostIP"] = json!("172.18.0.2");
                    p["status"]["hostIPs"] = json!([{"ip": "172.18.0.2"}]);
                },
                vec![],
            ),
            (
                "node name",
                |p| p["spec"]["nodeName"] = json!("node-1"),
                vec!["status.nodeName: Forbidden: may not be changed directly"],
            ),
            (
                "qos",
                |p| p["status"]["qosClass"] = json!("Guaranteed"),
                vec!["status.qosClass: Invalid value: \"Guaranteed\": field is immutable"],
            ),
            (
                "nominated",
                |p| p["status"]["nominatedNodeName"] = json!("Node"),
                vec![
                    "status.nominatedNodeName: Invalid value: \"Node\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                ],
            ),
            (
                "condition type",
                |p| p["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}, {"type": "my condition", "status": "True"}]),
                vec![
                    "metadata.conditions[1].Type: Invalid value: \"my condition\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                ],
            ),
            (
                "pod ips",
                |p| {
                    p["status"]["podIPs"] =
                        json!([{"ip": "10.0.0.1"}, {"ip": "10.0.0.1"}, {"ip": "nope"}])
                },
                vec![
                    "status.podIPs[2]: Invalid value: \"nope\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                    "status.podIPs: Internal error: failed to check for dual stack with error:invalid IP nope",
                    "status.podIPs: Invalid value: []core.PodIP{core.PodIP{IP:\"10.0.0.1\"}, core.PodIP{IP:\"10.0.0.1\"}, core.PodIP{IP:\"nope\"}}: may specify no more than one IP for each IP family",
                    "status.podIPs[1]: Duplicate value: core.PodIP{IP:\"10.0.0.1\"}",
                ],
            ),
            (
                "host ips",
                |p| {
                    p["status"]["hostIP"] = json!("10.0.0.1");
                    p["status"]["hostIPs"] = json!([{"ip": "10.0.0.2"}, {"ip": "fd00::2"}]);
                },
                vec![
                    "status.hostIPs[0].ip: Invalid value: \"10.0.0.2\": must be equal to `hostIP`",
                ],
            ),
        ];
        for (name, edit, expected) in cases {
            let new = updated(edit);
            assert_eq!(
                messages(&validate_pod_status_update(&new, &old)),
                expected,
                "case {name}"
            );
        }
        let new_uid = updated(|p| p["metadata"]["uid"] = json!("u-2"));
        assert_eq!(
            messages(&validate_pod_status_update(&new_uid, &old)),
            vec!["metadata.uid: Invalid value: \"u-2\": field is immutable"]
        );
    }
}
