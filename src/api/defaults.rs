//! What kube-apiserver v1.32 fills in on objects before validating them: the v1 scheme
//! defaults (`pkg/apis/core/v1/defaults.go`), the default admission plugins that mutate
//! pods (`DefaultTolerationSeconds`, `Priority`), and the registry strategies'
//! `PrepareForCreate` (pod status `Pending` + QoS class, namespace status and finalizer).
//!
//! uid, creationTimestamp, resourceVersion and `metadata.namespace` are set elsewhere.
//! Left out: the ServiceAccount admission plugin (`serviceAccountName: default` and the
//! `kube-api-access-*` token volume), LimitRanger and pod-level resources (alpha in 1.32).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, HTTPGetAction, Lifecycle, LifecycleHandler, Namespace, Node, Pod, PodAffinityTerm,
    PodCondition, PodSecurityContext, PodSpec, PodStatus, Probe, Taint, Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

use crate::api::quantity::Quantity;

/// `DefaultTerminationGracePeriodSeconds`
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// `DefaultSchedulerName`
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// `TerminationMessagePathDefault`
pub const TERMINATION_MESSAGE_PATH_DEFAULT: &str = "/dev/termination-log";
/// The taint the node lifecycle controller puts on NotReady nodes.
pub const TAINT_NODE_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The taint the node lifecycle controller puts on unreachable nodes.
pub const TAINT_NODE_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// `--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds`.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;
/// The label the API server sets on every namespace.
pub const LABEL_METADATA_NAME: &str = "kubernetes.io/metadata.name";
/// The built-in PriorityClasses and their values.
pub const SYSTEM_PRIORITY_CLASSES: [(&str, i32); 2] = [
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];
/// File mode defaulted on secret, configMap, downwardAPI and projected volumes (0644).
const DEFAULT_VOLUME_MODE: i32 = 0o644;

/// Everything the API server does to a new pod before validation: v1 defaults, the
/// DefaultTolerationSeconds admission step, then `status.phase: Pending` and
/// `status.qosClass` (the status the client sent is replaced, as in Kubernetes). The Priority
/// admission step needs the stored PriorityClasses: `crate::api::admission`.
pub fn default_pod(pod: &mut Pod) {
    default_pod_v1(pod);
    add_default_tolerations(pod);
    prepare_pod_for_create(pod);
}

/// The v1 scheme defaults alone (applied to every decoded pod, on create and update).
pub fn default_pod_v1(pod: &mut Pod) {
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    copy_limits_to_requests(&mut spec.containers);
    if let Some(init) = spec.init_containers.as_mut() {
        copy_limits_to_requests(init);
    }
    spec.enable_service_links.get_or_insert(true);
    if spec.host_network.unwrap_or_default() {
        default_host_network_ports(&mut spec.containers);
        if let Some(init) = spec.init_containers.as_mut() {
            default_host_network_ports(init);
        }
    }
    default_pod_spec(spec);
}

/// Defaults for the pod update path: v1 defaults plus DefaultTolerationSeconds (which
/// Kubernetes runs on update too). Status and priority are left alone.
pub fn default_pod_for_update(pod: &mut Pod) {
    default_pod_v1(pod);
    add_default_tolerations(pod);
}

/// `SetDefaults_Pod`: a container with limits but no request gets request = limit.
fn copy_limits_to_requests(containers: &mut [Container]) {
    for ctr in containers {
        let Some(resources) = ctr.resources.as_mut() else {
            continue;
        };
        let Some(limits) = resources.limits.as_ref() else {
            continue;
        };
        let requests = resources.requests.get_or_insert_with(BTreeMap::new);
        for (name, value) in limits {
            requests
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
    }
}

fn default_host_network_ports(containers: &mut [Container]) {
    for port in containers
        .iter_mut()
        .flat_map(|c| c.ports.iter_mut().flatten())
    {
        if port.host_port.unwrap_or_default() == 0 {
            port.host_port = Some(port.container_port);
        }
    }
}

/// `SetDefaults_PodSpec` plus the generated per-field defaults below it.
fn default_pod_spec(spec: &mut PodSpec) {
    set_if_empty(&mut spec.dns_policy, "ClusterFirst");
    set_if_empty(&mut spec.restart_policy, "Always");
    spec.security_context
        .get_or_insert_with(PodSecurityContext::default);
    spec.termination_grace_period_seconds
        .get_or_insert(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    set_if_empty(&mut spec.scheduler_name, DEFAULT_SCHEDULER_NAME);
    for vol in spec.volumes.iter_mut().flatten() {
        default_volume(vol);
    }
    for ctr in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        default_container(ctr);
    }
    if let Some(overhead) = spec.overhead.as_mut() {
        round_resource_list(overhead);
    }
}

fn set_if_empty(field: &mut Option<String>, value: &str) {
    if field.as_deref().unwrap_or_default().is_empty() {
        *field = Some(value.to_string());
    }
}

/// `SetDefaults_Volume` and the volume-source defaults.
fn default_volume(vol: &mut Volume) {
    let has_source = serde_json::to_value(&*vol)
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().any(|k| k != "name")))
        .unwrap_or(true);
    if !has_source {
        vol.empty_dir = Some(Default::default());
    }
    if let Some(secret) = vol.secret.as_mut() {
        secret.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(cm) = vol.config_map.as_mut() {
        cm.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(downward) = vol.downward_api.as_mut() {
        downward.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(projected) = vol.projected.as_mut() {
        projected.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for source in projected.sources.iter_mut().flatten() {
            if let Some(token) = source.service_account_token.as_mut() {
                token.expiration_seconds.get_or_insert(3600);
            }
        }
    }
    if let Some(host_path) = vol.host_path.as_mut() {
        host_path.type_.get_or_insert_with(String::new);
    }
}

/// `SetDefaults_Container` and the generated defaults of its fields.
fn default_container(ctr: &mut Container) {
    if opt(&ctr.image_pull_policy).is_empty() {
        let policy = default_pull_policy(opt(&ctr.image));
        ctr.image_pull_policy = Some(policy.to_string());
    }
    set_if_empty(
        &mut ctr.termination_message_path,
        TERMINATION_MESSAGE_PATH_DEFAULT,
    );
    set_if_empty(&mut ctr.termination_message_policy, "File");
    for port in ctr.ports.iter_mut().flatten() {
        set_if_empty(&mut port.protocol, "TCP");
    }
    for var in ctr.env.iter_mut().flatten() {
        if let Some(field_ref) = var.value_from.as_mut().and_then(|s| s.field_ref.as_mut()) {
            set_if_empty(&mut field_ref.api_version, "v1");
        }
    }
    for probe in [
        &mut ctr.liveness_probe,
        &mut ctr.readiness_probe,
        &mut ctr.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    if let Some(lifecycle) = ctr.lifecycle.as_mut() {
        default_lifecycle(lifecycle);
    }
    if let Some(resources) = ctr.resources.as_mut() {
        for list in [&mut resources.limits, &mut resources.requests]
            .into_iter()
            .flatten()
        {
            round_resource_list(list);
        }
    }
}

fn opt(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or_default()
}

/// `SetDefaults_Probe`.
fn default_probe(probe: &mut Probe) {
    for (field, value) in [
        (&mut probe.timeout_seconds, 1),
        (&mut probe.period_seconds, 10),
        (&mut probe.success_threshold, 1),
        (&mut probe.failure_threshold, 3),
    ] {
        if field.unwrap_or_default() == 0 {
            *field = Some(value);
        }
    }
    if let Some(http) = probe.http_get.as_mut() {
        default_http_get(http);
    }
}

fn default_lifecycle(lifecycle: &mut Lifecycle) {
    let handlers: [&mut Option<LifecycleHandler>; 2] =
        [&mut lifecycle.post_start, &mut lifecycle.pre_stop];
    for handler in handlers.into_iter().flatten() {
        if let Some(http) = handler.http_get.as_mut() {
            default_http_get(http);
        }
    }
}

/// `SetDefaults_HTTPGetAction`.
fn default_http_get(http: &mut HTTPGetAction) {
    set_if_empty(&mut http.path, "/");
    set_if_empty(&mut http.scheme, "HTTP");
}

/// `SetDefaults_ResourceList`: values rounded up to milli precision and written back the
/// way the API server serializes them (`1.5` → `1500m`). Malformed values are left for
/// validation to report.
fn round_resource_list(list: &mut BTreeMap<String, K8sQuantity>) {
    for value in list.values_mut() {
        if let Ok(q) = Quantity::from_k8s(value) {
            *value = K8sQuantity(q.round_up_milli().to_string());
        }
    }
}

/// `imagePullPolicy` default: `Always` when the image's tag is `latest` (or it has neither
/// tag nor digest), else `IfNotPresent`. An image reference that does not parse gets
/// `IfNotPresent`, as Go ignores the parse error and sees no tag.
pub fn default_pull_policy(image: &str) -> &'static str {
    match image_reference::tag(image) {
        Some(tag) if tag == "latest" => "Always",
        _ => "IfNotPresent",
    }
}

/// The `DefaultTolerationSeconds` admission plugin: tolerate `not-ready` and `unreachable`
/// `NoExecute` taints for 300s unless the pod already tolerates them.
pub fn add_default_tolerations(pod: &mut Pod) {
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    let tolerates = |key: &str| {
        tolerations.iter().any(|t| {
            let t_key = opt(&t.key);
            let effect = opt(&t.effect);
            (t_key == key || t_key.is_empty()) && (effect == "NoExecute" || effect.is_empty())
        })
    };
    let missing: Vec<&str> = [TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE]
        .into_iter()
        .filter(|key| !tolerates(key))
        .collect();
    for key in missing {
        tolerations.push(Toleration {
            key: Some(key.to_string()),
            operator: Some("Exists".to_string()),
            effect: Some("NoExecute".to_string()),
            toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
            value: None,
        });
    }
}

/// The pod strategy's `PrepareForCreate`: a fresh status with phase `Pending`, the QoS
/// class, and the `SchedulingGated` condition for gated pods.
pub fn prepare_pod_for_create(pod: &mut Pod) {
    apply_match_label_keys(pod);
    let qos = qos_class(pod);
    let gated = pod
        .spec
        .as_ref()
        .and_then(|s| s.scheduling_gates.as_ref())
        .is_some_and(|g| !g.is_empty());
    let conditions = gated.then(|| {
        vec![PodCondition {
            type_: "PodScheduled".to_string(),
            status: "False".to_string(),
            reason: Some("SchedulingGated".to_string()),
            message: Some("Scheduling is blocked due to non-empty scheduling gates".to_string()),
            ..PodCondition::default()
        }]
    });
    pod.status = Some(PodStatus {
        phase: Some("Pending".to_string()),
        qos_class: Some(qos.to_string()),
        conditions,
        ..PodStatus::default()
    });
}

/// `applyMatchLabelKeysAndMismatchLabelKeys` (MatchLabelKeysInPodAffinity, on by default since
/// 1.31): in every pod (anti-)affinity term with a label selector, each `matchLabelKeys` key the
/// pod has a label for becomes `key In (value)`, each `mismatchLabelKeys` key `key NotIn
/// (value)`, appended to the selector's expressions. Done once, when the pod is created: the
/// scheduler then only sees ordinary selectors. A nil selector (matches nothing) is left alone.
pub fn apply_match_label_keys(pod: &mut Pod) {
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let Some(affinity) = pod.spec.as_mut().and_then(|s| s.affinity.as_mut()) else {
        return;
    };
    let mut terms: Vec<&mut PodAffinityTerm> = Vec::new();
    if let Some(a) = affinity.pod_affinity.as_mut() {
        terms.extend(
            a.required_during_scheduling_ignored_during_execution
                .iter_mut()
                .flatten(),
        );
        terms.extend(
            a.preferred_during_scheduling_ignored_during_execution
                .iter_mut()
                .flatten()
                .map(|w| &mut w.pod_affinity_term),
        );
    }
    if let Some(a) = affinity.pod_anti_affinity.as_mut() {
        terms.extend(
            a.required_during_scheduling_ignored_during_execution
                .iter_mut()
                .flatten(),
        );
        terms.extend(
            a.preferred_during_scheduling_ignored_during_execution
                .iter_mut()
                .flatten()
                .map(|w| &mut w.pod_affinity_term),
        );
    }
    for term in terms {
        let Some(selector) = term.label_selector.as_mut() else {
            continue;
        };
        let keys = [
            (term.match_label_keys.as_deref(), "In"),
            (term.mismatch_label_keys.as_deref(), "NotIn"),
        ];
        for (keys, operator) in keys {
            for key in keys.unwrap_or(&[]) {
                if let Some(value) = labels.get(key) {
                    selector.match_expressions.get_or_insert_default().push(
                        LabelSelectorRequirement {
                            key: key.clone(),
                            operator: operator.to_string(),
                            values: Some(vec![value.clone()]),
                        },
                    );
                }
            }
        }
    }
}

/// Go `qos.ComputePodQOS` over regular and init containers: `BestEffort` when no
/// container sets a cpu/memory request or limit, `Guaranteed` when every container limits
/// both cpu and memory and the summed requests equal the summed limits, else `Burstable`.
/// Run it on a defaulted pod (limits without requests count as requests then).
pub fn qos_class(pod: &Pod) -> &'static str {
    let Some(spec) = &pod.spec else {
        return "BestEffort";
    };
    let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
    let mut guaranteed = true;
    for ctr in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let resources = ctr.resources.as_ref();
        add_positive(&mut requests, resources.and_then(|r| r.requests.as_ref()));
        let found = add_positive(&mut limits, resources.and_then(|r| r.limits.as_ref()));
        if !(found.contains(&"cpu") && found.contains(&"memory")) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    let matches = requests
        .iter()
        .all(|(name, req)| limits.get(name) == Some(req));
    if guaranteed && matches && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Adds the positive cpu/memory quantities of `list` into `sums`; returns their names.
fn add_positive<'a>(
    sums: &mut BTreeMap<&'a str, i128>,
    list: Option<&'a BTreeMap<String, K8sQuantity>>,
) -> Vec<&'a str> {
    let mut found = Vec::new();
    for (name, raw) in list.into_iter().flatten() {
        if name != "cpu" && name != "memory" {
            continue;
        }
        let nanos = Quantity::from_k8s(raw)
            .map(|q| q.nanos())
            .unwrap_or_default();
        if nanos > 0 {
            found.push(name.as_str());
            let sum = sums.entry(name.as_str()).or_default();
            *sum = sum.saturating_add(nanos);
        }
    }
    found
}

/// Node defaults: resource lists rounded to milli precision and
/// `status.allocatable = status.capacity` when allocatable is unset (`SetDefaults_NodeStatus`).
pub fn default_node(node: &mut Node) {
    let Some(status) = node.status.as_mut() else {
        return;
    };
    for list in [&mut status.capacity, &mut status.allocatable]
        .into_iter()
        .flatten()
    {
        round_resource_list(list);
    }
    if status.allocatable.is_none() {
        status.allocatable = status.capacity.clone();
    }
}

/// The `TaintNodesByCondition` admission step for new nodes: a `node.kubernetes.io/not-ready`
/// `NoSchedule` taint until the node controller sees the node Ready. Not part of
/// [`default_node`]; call it if kubox's node lifecycle removes the taint.
pub fn add_not_ready_taint(node: &mut Node) {
    let spec = node.spec.get_or_insert_with(Default::default);
    let taints = spec.taints.get_or_insert_with(Vec::new);
    let present = taints
        .iter()
        .any(|t| t.key == TAINT_NODE_NOT_READY && t.effect == "NoSchedule");
    if !present {
        taints.push(Taint {
            key: TAINT_NODE_NOT_READY.to_string(),
            effect: "NoSchedule".to_string(),
            value: None,
            time_added: None,
        });
    }
}

/// Namespace defaults on create: the `kubernetes.io/metadata.name` label, the
/// `kubernetes` spec finalizer, and `status.phase: Active` (the namespace strategy resets
/// the status on create).
pub fn default_namespace(ns: &mut Namespace) {
    if let Some(name) = ns.metadata.name.clone().filter(|n| !n.is_empty()) {
        ns.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(LABEL_METADATA_NAME.to_string(), name);
    }
    let spec = ns.spec.get_or_insert_with(Default::default);
    let finalizers = spec.finalizers.get_or_insert_with(Vec::new);
    if !finalizers.iter().any(|f| f == "kubernetes") {
        finalizers.push("kubernetes".to_string());
    }
    ns.status = Some(k8s_openapi::api::core::v1::NamespaceStatus {
        phase: Some("Active".to_string()),
        conditions: None,
    });
}

/// A parser for the image references `docker/distribution/reference.ParseNormalizedNamed`
/// accepts, reduced to what pull-policy defaulting needs: the tag.
mod image_reference {
    /// The tag of `image` after normalization: `Some("latest")` when it has neither tag
    /// nor digest, `None` when it has only a digest or does not parse.
    pub fn tag(image: &str) -> Option<String> {
        let reference = parse(image)?;
        match (reference.tag, reference.has_digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, false) => Some("latest".to_string()),
            (None, true) => None,
        }
    }

    struct Reference<'a> {
        tag: Option<&'a str>,
        has_digest: bool,
    }

    fn parse(image: &str) -> Option<Reference<'_>> {
        if image.len() == 64
            && image
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None; // a bare image ID
        }
        let (domain, remainder) = split_domain(image);
        let remote_name = remainder.split(':').next().unwrap_or_default();
        if remote_name.to_lowercase() != remote_name {
            return None;
        }
        let (name_and_tag, digest) = match remainder.split_once('@') {
            Some((left, digest)) => (left, Some(digest)),
            None => (remainder, None),
        };
        let (path, tag) = match name_and_tag.rsplit_once(':') {
            Some((path, tag)) => (path, Some(tag)),
            None => (name_and_tag, None),
        };
        let valid = valid_domain(domain)
            && path.split('/').all(valid_path_component)
            && domain.len() + 1 + path.len() <= 255
            && tag.is_none_or(valid_tag)
            && digest.is_none_or(valid_digest);
        valid.then_some(Reference {
            tag,
            has_digest: digest.is_some(),
        })
    }

    /// `splitDockerDomain`: the first component is a registry when it has a `.` or `:`,
    /// is `localhost`, or has upper-case letters; otherwise the image is on Docker Hub.
    fn split_domain(name: &str) -> (&str, &str) {
        match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.to_lowercase() != first =>
            {
                (first, rest)
            }
            _ => ("docker.io", name),
        }
    }

    /// `host[:port]` where host is a DNS name or a bracketed IPv6 address.
    fn valid_domain(domain: &str) -> bool {
        if let Some(rest) = domain.strip_prefix('[') {
            let Some((ipv6, after)) = rest.split_once(']') else {
                return false;
            };
            let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(valid_port);
            return ipv6.parse::<std::net::Ipv6Addr>().is_ok() && port_ok;
        }
        let (host, port) = match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        host.split('.').all(valid_domain_component) && port.is_none_or(valid_port)
    }

    fn valid_port(port: &str) -> bool {
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    }

    fn valid_domain_component(c: &str) -> bool {
        let b = c.as_bytes();
        match (b.first(), b.last()) {
            (Some(f), Some(l)) => {
                f.is_ascii_alphanumeric()
                    && l.is_ascii_alphanumeric()
                    && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
            }
            _ => false,
        }
    }

    /// `[a-z0-9]+((?:[._]|__|[-]*)[a-z0-9]+)*`
    fn valid_path_component(c: &str) -> bool {
        let mut rest = c;
        loop {
            let run = rest
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                .count();
            if run == 0 {
                return false;
            }
            rest = &rest[run..];
            if rest.is_empty() {
                return true;
            }
            match separator_len(rest) {
                Some(len) => rest = &rest[len..],
                None => return false,
            }
        }
    }

    fn separator_len(s: &str) -> Option<usize> {
        if s.starts_with("__") {
            return Some(2);
        }
        if s.starts_with('.') || s.starts_with('_') {
            return Some(1);
        }
        let dashes = s.bytes().take_while(|b| *b == b'-').count();
        (dashes > 0).then_some(dashes)
    }

    /// `[\w][\w.-]{0,127}`
    fn valid_tag(tag: &str) -> bool {
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let b = tag.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && word(b[0])
            && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
    }

    /// A digest the distribution library can verify: sha256/sha384/sha512, lowercase hex.
    fn valid_digest(digest: &str) -> bool {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return false;
        };
        let len = match algorithm {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return false,
        };
        hex.len() == len
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::{Value as Json, json};

    fn raw_pod(value: Json) -> Pod {
        serde_json::from_value(value).expect("fixture pod must deserialize")
    }

    fn defaulted(value: Json) -> Json {
        let mut pod = raw_pod(value);
        default_pod(&mut pod);
        serde_json::to_value(pod).expect("pod serializes")
    }

    #[test]
    fn match_label_keys_become_selector_requirements_on_create() {
        let term = |keys: Json| {
            let mut t = json!({"topologyKey": "kubernetes.io/hostname",
                "labelSelector": {"matchLabels": {"app": "web"}}});
            t.as_object_mut()
                .unwrap()
                .extend(keys.as_object().unwrap().clone());
            t
        };
        let pod = defaulted(json!({
            "metadata": {"name": "web", "namespace": "default",
                "labels": {"app": "web", "version": "v2", "tenant": "a"}},
            "spec": {"containers": [{"name": "app", "image": "busybox"}], "affinity": {
                "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 10, "podAffinityTerm": term(json!({"matchLabelKeys": ["version"]}))}]},
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    term(json!({"matchLabelKeys": ["version", "absent"], "mismatchLabelKeys": ["tenant"]})),
                    {"topologyKey": "zone", "matchLabelKeys": ["version"]},
                ]},
            }},
        }));
        let affinity = &pod["spec"]["affinity"];
        assert_eq!(
            affinity["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
                ["labelSelector"],
            json!({"matchLabels": {"app": "web"}, "matchExpressions": [
                {"key": "version", "operator": "In", "values": ["v2"]}]})
        );
        let anti = &affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
        // A key the pod has no label for adds nothing.
        assert_eq!(
            anti[0]["labelSelector"],
            json!({"matchLabels": {"app": "web"}, "matchExpressions": [
                {"key": "version", "operator": "In", "values": ["v2"]},
                {"key": "tenant", "operator": "NotIn", "values": ["a"]}]})
        );
        // Without a selector (matches nothing) the term is left as it is.
        assert_eq!(anti[1].get("labelSelector"), None);
    }

    fn web(container: Json) -> Json {
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"containers": [container]}})
    }

    #[test]
    fn defaults_a_minimal_pod_like_the_api_server() {
        let pod = defaulted(web(json!({"name": "app", "image": "nginx"})));
        assert_eq!(
            pod["spec"],
            json!({
                "containers": [{
                    "name": "app",
                    "image": "nginx",
                    "imagePullPolicy": "Always",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": true,
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30,
                "tolerations": [
                    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
                ]
            })
        );
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"})
        );
    }

    #[test]
    fn keeps_values_the_client_set() {
        let mut value = web(json!({"name": "app", "image": "nginx", "imagePullPolicy": "Never"}));
        value["spec"]["restartPolicy"] = json!("Never");
        value["spec"]["terminationGracePeriodSeconds"] = json!(5);
        value["status"] = json!({"phase": "Running"});
        let pod = defaulted(value);
        assert_eq!(pod["spec"]["restartPolicy"], json!("Never"));
        assert_eq!(pod["spec"]["terminationGracePeriodSeconds"], json!(5));
        assert_eq!(
            pod["spec"]["containers"][0]["imagePullPolicy"],
            json!("Never")
        );
        assert_eq!(pod["status"]["phase"], json!("Pending"));
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        let digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let cases: Vec<(String, &str)> = vec![
            ("nginx".into(), "Always"),
            ("nginx:latest".into(), "Always"),
            ("nginx:1.25".into(), "IfNotPresent"),
            ("library/nginx:1.25-alpine".into(), "IfNotPresent"),
            (format!("nginx@{digest}"), "IfNotPresent"),
            (format!("nginx:latest@{digest}"), "Always"),
            (format!("nginx:1.0@{digest}"), "IfNotPresent"),
            ("localhost:5000/img".into(), "Always"),
            ("host:5000/img".into(), "Always"),
            (
                "registry.example.com:5000/team/app:v2".into(),
                "IfNotPresent",
            ),
            ("registry.example.com/team/app".into(), "Always"),
            ("[::1]:5000/img:latest".into(), "Always"),
            ("Registry.io/img".into(), "Always"),
            ("ghcr.io/org/my_app__x.y-z:latest".into(), "Always"),
            ("NGINX".into(), "IfNotPresent"),
            ("nginx:".into(), "IfNotPresent"),
            ("nginx@sha256:abc".into(), "IfNotPresent"),
            (
                "nginx@md5:e3b0c44298fc1c149afbf4c8996fb924".into(),
                "IfNotPresent",
            ),
            ("a..b".into(), "IfNotPresent"),
            ("http://nginx".into(), "IfNotPresent"),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
                "IfNotPresent",
            ),
            ("".into(), "IfNotPresent"),
            ("busybox:1.36".into(), "IfNotPresent"),
        ];
        for (image, expected) in cases {
            assert_eq!(default_pull_policy(&image), expected, "{image}");
        }
    }

    #[test]
    fn limits_become_requests_and_quantities_are_canonical() {
        let pod = defaulted(web(json!({
            "name": "app",
            "image": "nginx:1.25",
            "resources": {"limits": {"cpu": "1.5", "memory": "1024Mi"}, "requests": {"cpu": "0.5m"}}
        })));
        assert_eq!(
            pod["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "1500m", "memory": "1Gi"}, "requests": {"cpu": "1m", "memory": "1Gi"}})
        );
        assert_eq!(pod["status"]["qosClass"], json!("Burstable"));
    }

    #[test]
    fn qos_classes() {
        let cases: Vec<(Json, Json, &str)> = vec![
            (json!({}), json!(null), "BestEffort"),
            (
                json!({"limits": {"cpu": "1", "memory": "1Gi"}}),
                json!(null),
                "Guaranteed",
            ),
            (
                json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}),
                json!(null),
                "Burstable",
            ),
            (json!({"limits": {"cpu": "1"}}), json!(null), "Burstable"),
            (
                json!({"requests": {"memory": "64Mi"}}),
                json!(null),
                "Burstable",
            ),
            (
                json!({"requests": {"cpu": "0", "memory": "0"}}),
                json!(null),
                "BestEffort",
            ),
            (
                json!({"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "1"}}),
                json!(null),
                "BestEffort",
            ),
            (
                json!({"limits": {"cpu": "1", "memory": "1Gi"}}),
                json!([{"name": "init", "image": "busybox", "resources": {"requests": {"cpu": "1"}}}]),
                "Burstable",
            ),
            (
                json!({"limits": {"cpu": "1", "memory": "1Gi"}}),
                json!([{"name": "init", "image": "busybox", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]),
                "Guaranteed",
            ),
        ];
        for (resources, init, expected) in cases {
            let mut value = web(json!({"name": "app", "image": "x", "resources": resources}));
            value["spec"]["initContainers"] = init;
            let mut pod = raw_pod(value);
            default_pod(&mut pod);
            assert_eq!(qos_class(&pod), expected, "{resources}");
            assert_eq!(
                pod.status.and_then(|s| s.qos_class).as_deref(),
                Some(expected)
            );
        }
        assert_eq!(qos_class(&Pod::default()), "BestEffort");
    }

    #[test]
    fn default_tolerations_respect_existing_ones() {
        let cases: Vec<(Json, usize)> = vec![
            (json!([{"operator": "Exists"}]), 1),
            (
                json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}]),
                2,
            ),
            (
                json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}]),
                2,
            ),
            (
                json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoSchedule"}]),
                3,
            ),
        ];
        for (tolerations, count) in cases {
            let mut value = web(json!({"name": "app", "image": "x"}));
            value["spec"]["tolerations"] = tolerations.clone();
            let mut pod = raw_pod(value);
            add_default_tolerations(&mut pod);
            add_default_tolerations(&mut pod);
            let got = pod.spec.and_then(|s| s.tolerations).map(|t| t.len());
            assert_eq!(got, Some(count), "{tolerations}");
        }
    }

    #[test]
    fn defaults_volumes_probes_and_host_ports() {
        let mut value = web(json!({
            "name": "app",
            "image": "x",
            "ports": [{"containerPort": 80}],
            "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "livenessProbe": {"httpGet": {"port": 80}},
            "lifecycle": {"preStop": {"httpGet": {"port": 80}}}
        }));
        value["spec"]["hostNetwork"] = json!(true);
        value["spec"]["volumes"] = json!([
            {"name": "scratch"},
            {"name": "cfg", "configMap": {"name": "cfg"}},
            {"name": "host", "hostPath": {"path": "/var"}}
        ]);
        value["spec"]["schedulingGates"] = json!([{"name": "wait"}]);
        let pod = defaulted(value);
        let ctr = &pod["spec"]["containers"][0];
        assert_eq!(
            ctr["ports"],
            json!([{"containerPort": 80, "hostPort": 80, "protocol": "TCP"}])
        );
        assert_eq!(
            ctr["env"][0]["valueFrom"]["fieldRef"]["apiVersion"],
            json!("v1")
        );
        assert_eq!(
            ctr["livenessProbe"],
            json!({"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}, "timeoutSeconds": 1,
                   "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(ctr["lifecycle"]["preStop"]["httpGet"]["path"], json!("/"));
        assert_eq!(
            pod["spec"]["volumes"],
            json!([
                {"name": "scratch", "emptyDir": {}},
                {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}},
                {"name": "host", "hostPath": {"path": "/var", "type": ""}}
            ])
        );
        assert_eq!(
            pod["status"]["conditions"],
            json!([{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
                    "message": "Scheduling is blocked due to non-empty scheduling gates"}])
        );
    }

    #[test]
    fn defaults_nodes_and_namespaces() {
        let mut node: Node = serde_json::from_value(json!({
            "metadata": {"name": "node-1"},
            "status": {"capacity": {"cpu": "2", "memory": "4041204Ki", "pods": "110"}}
        }))
        .expect("node");
        default_node(&mut node);
        add_not_ready_taint(&mut node);
        add_not_ready_taint(&mut node);
        let value = serde_json::to_value(&node).expect("node serializes");
        assert_eq!(value["status"]["allocatable"], value["status"]["capacity"]);
        assert_eq!(
            value["spec"]["taints"],
            json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}])
        );

        let mut ns = Namespace {
            metadata: ObjectMeta {
                name: Some("team-a".into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        default_namespace(&mut ns);
        let value = serde_json::to_value(&ns).expect("ns serializes");
        assert_eq!(
            value,
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}
            })
        );
    }

    #[test]
    fn defaulted_pods_validate() {
        let mut pod = raw_pod(json!({
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "containers": [{
                    "name": "app", "image": "nginx:1.25",
                    "ports": [{"containerPort": 80, "name": "http"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                    "readinessProbe": {"httpGet": {"port": "http"}},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]
                }],
                "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
                "volumes": [{"name": "data"}]
            }
        }));
        default_pod(&mut pod);
        assert!(crate::api::validation::validate_pod_create(&pod).is_empty());
        assert_eq!(qos_class(&pod), "Burstable");
    }
}
