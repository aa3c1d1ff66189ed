//! Scheduling-related pod spec validation (v1.32): tolerations (and the update rule that
//! only allows additions), taint effects, node affinity / node selector terms, pod
//! (anti-)affinity terms and topology spread constraints.

use k8s_openapi::api::core::v1::{
    Affinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodAffinityTerm, Toleration,
    TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use super::field::{FieldError, Path};
use super::messages as msg;
use super::meta::{NameKind, validate_label_name, validate_labels};
use super::names::is_valid_label_value;
use super::opt_str;

/// The taint effects Kubernetes accepts, in the order its messages list them.
pub const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// Go `validateTaintEffect`.
pub(crate) fn validate_taint_effect(
    effect: &str,
    allow_empty: bool,
    path: &Path,
) -> Vec<FieldError> {
    if !allow_empty && effect.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    if TAINT_EFFECTS.contains(&effect) {
        Vec::new()
    } else {
        vec![FieldError::not_supported(path, effect, &TAINT_EFFECTS)]
    }
}

/// Go `ValidateTolerations`.
pub fn validate_tolerations(tolerations: &[Toleration], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, t) in tolerations.iter().enumerate() {
        let idx = path.index(i);
        let (key, operator, value, effect) = (
            opt_str(&t.key),
            opt_str(&t.operator),
            opt_str(&t.value),
            opt_str(&t.effect),
        );
        if !key.is_empty() {
            errs.extend(validate_label_name(key, &idx.child("key")));
        }
        if key.is_empty() && operator != "Exists" {
            errs.push(FieldError::invalid(
                idx.child("operator"),
                operator,
                msg::TOLERATION_EMPTY_KEY,
            ));
        }
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                idx.child("effect"),
                effect,
                msg::TOLERATION_SECONDS_EFFECT,
            ));
        }
        match operator {
            "Equal" | "" => {
                let problems = is_valid_label_value(value);
                if !problems.is_empty() {
                    errs.push(FieldError::invalid(
                        idx.child("operator"),
                        value,
                        problems.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(FieldError::invalid(
                        idx.child("operator"),
                        value,
                        msg::TOLERATION_EXISTS_VALUE,
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                idx.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() {
            errs.extend(validate_taint_effect(effect, true, &idx.child("effect")));
        }
    }
    errs
}

/// Go `validateOnlyAddedTolerations`: existing tolerations may only change their
/// `tolerationSeconds`; the new list is then validated in full.
pub fn validate_only_added_tolerations(
    new: &[Toleration],
    old: &[Toleration],
    path: &Path,
) -> Vec<FieldError> {
    for old_t in old {
        let kept = new.iter().any(|new_t| {
            let mut clone = old_t.clone();
            clone.toleration_seconds = new_t.toleration_seconds;
            clone == *new_t
        });
        if !kept {
            return vec![FieldError::forbidden(path, msg::TOLERATION_MODIFIED)];
        }
    }
    validate_tolerations(new, path)
}

/// Go `validateAffinity` (label-selector details of pod affinity are left out).
pub fn validate_affinity(affinity: Option<&Affinity>, path: &Path) -> Vec<FieldError> {
    let Some(affinity) = affinity else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    if let Some(na) = &affinity.node_affinity {
        let na_path = path.child("nodeAffinity");
        if let Some(required) = &na.required_during_scheduling_ignored_during_execution {
            errs.extend(validate_node_selector(
                required,
                &na_path.child("requiredDuringSchedulingIgnoredDuringExecution"),
            ));
        }
        let preferred_path = na_path.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, term) in na
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .enumerate()
        {
            let idx = preferred_path.index(i);
            if term.weight <= 0 || term.weight > 100 {
                errs.push(FieldError::invalid(
                    idx.child("weight"),
                    term.weight,
                    msg::WEIGHT_RANGE,
                ));
            }
            errs.extend(validate_node_selector_term(
                &term.preference,
                true,
                &idx.child("preference"),
            ));
        }
    }
    if let Some(pa) = &affinity.pod_affinity {
        let pa_path = path.child("podAffinity");
        errs.extend(validate_pod_affinity_terms(
            pa.required_during_scheduling_ignored_during_execution
                .as_deref(),
            &pa_path.child("requiredDuringSchedulingIgnoredDuringExecution"),
        ));
        errs.extend(validate_weighted_terms(
            pa.preferred_during_scheduling_ignored_during_execution
                .as_deref(),
            &pa_path.child("preferredDuringSchedulingIgnoredDuringExecution"),
        ));
    }
    if let Some(paa) = &affinity.pod_anti_affinity {
        let paa_path = path.child("podAntiAffinity");
        errs.extend(validate_pod_affinity_terms(
            paa.required_during_scheduling_ignored_during_execution
                .as_deref(),
            &paa_path.child("requiredDuringSchedulingIgnoredDuringExecution"),
        ));
        errs.extend(validate_weighted_terms(
            paa.preferred_during_scheduling_ignored_during_execution
                .as_deref(),
            &paa_path.child("preferredDuringSchedulingIgnoredDuringExecution"),
        ));
    }
    errs
}

/// Go `ValidateNodeSelector`.
fn validate_node_selector(selector: &NodeSelector, path: &Path) -> Vec<FieldError> {
    let terms_path = path.child("nodeSelectorTerms");
    if selector.node_selector_terms.is_empty() {
        return vec![FieldError::required(
            terms_path,
            msg::NODE_SELECTOR_TERM_REQUIRED,
        )];
    }
    selector
        .node_selector_terms
        .iter()
        .enumerate()
        .flat_map(|(i, term)| validate_node_selector_term(term, false, &terms_path.index(i)))
        .collect()
}

/// Go `ValidateNodeSelectorTerm`.
fn validate_node_selector_term(
    term: &NodeSelectorTerm,
    allow_invalid_values: bool,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let exprs_path = path.child("matchExpressions");
    for (j, req) in term.match_expressions.iter().flatten().enumerate() {
        errs.extend(validate_node_selector_requirement(
            req,
            allow_invalid_values,
            &exprs_path.index(j),
        ));
    }
    let fields_path = path.child("matchFields");
    for (j, req) in term.match_fields.iter().flatten().enumerate() {
        errs.extend(validate_node_field_selector_requirement(
            req,
            &fields_path.index(j),
        ));
    }
    errs
}

/// Go `ValidateNodeSelectorRequirement`.
fn validate_node_selector_requirement(
    req: &NodeSelectorRequirement,
    allow_invalid_values: bool,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => {
            errs.push(FieldError::required(
                path.child("values"),
                msg::SELECTOR_VALUES_IN,
            ));
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            errs.push(FieldError::forbidden(
                path.child("values"),
                msg::SELECTOR_VALUES_EXISTS,
            ));
        }
        "Gt" | "Lt" if values.len() != 1 => {
            errs.push(FieldError::required(
                path.child("values"),
                msg::SELECTOR_VALUES_GT,
            ));
        }
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
        other => errs.push(FieldError::invalid(
            path.child("operator"),
            other,
            msg::NOT_A_SELECTOR_OPERATOR,
        )),
    }
    errs.extend(validate_label_name(&req.key, &path.child("key")));
    if !allow_invalid_values {
        let values_path = path.child("values");
        for (i, value) in values.iter().enumerate() {
            for m in is_valid_label_value(value) {
                errs.push(FieldError::invalid(values_path.index(i), value, m));
            }
        }
    }
    errs
}

/// Go `ValidateNodeFieldSelectorRequirement` (only `metadata.name`).
fn validate_node_field_selector_requirement(
    req: &NodeSelectorRequirement,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "In" | "NotIn" if values.len() != 1 => {
            errs.push(FieldError::required(
                path.child("values"),
                msg::FIELD_SELECTOR_ONE_VALUE,
            ));
        }
        "In" | "NotIn" => {}
        other => errs.push(FieldError::invalid(
            path.child("operator"),
            other,
            msg::NOT_A_SELECTOR_OPERATOR,
        )),
    }
    if req.key != "metadata.name" {
        errs.push(FieldError::invalid(
            path.child("key"),
            &req.key,
            msg::NOT_A_FIELD_SELECTOR_KEY,
        ));
    } else {
        let values_path = path.child("values");
        for (i, v) in values.iter().enumerate() {
            for m in NameKind::DnsSubdomain.check(v, false) {
                errs.push(FieldError::invalid(values_path.index(i), v, m));
            }
        }
    }
    errs
}

fn validate_pod_affinity_terms(terms: Option<&[PodAffinityTerm]>, path: &Path) -> Vec<FieldError> {
    terms
        .unwrap_or_default()
        .iter()
        .enumerate()
        .flat_map(|(i, term)| validate_pod_affinity_term(term, &path.index(i)))
        .collect()
}

fn validate_weighted_terms(
    terms: Option<&[WeightedPodAffinityTerm]>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (j, term) in terms.unwrap_or_default().iter().enumerate() {
        let idx = path.index(j);
        if term.weight <= 0 || term.weight > 100 {
            errs.push(FieldError::invalid(
                idx.child("weight"),
                term.weight,
                msg::WEIGHT_RANGE,
            ));
        }
        errs.extend(validate_pod_affinity_term(
            &term.pod_affinity_term,
            &idx.child("podAffinityTerm"),
        ));
    }
    errs
}

/// Go `validatePodAffinityTerm` (selector, namespaces, matchLabelKeys and mismatchLabelKeys,
/// topologyKey).
fn validate_pod_affinity_term(term: &PodAffinityTerm, path: &Path) -> Vec<FieldError> {
    let mut errs =
        validate_label_selector(term.label_selector.as_ref(), &path.child("labelSelector"));
    errs.extend(validate_label_selector(
        term.namespace_selector.as_ref(),
        &path.child("namespaceSelector"),
    ));
    for name in term.namespaces.iter().flatten() {
        for m in NameKind::DnsLabel.check(name, false) {
            errs.push(FieldError::invalid(path.child("namespace"), name, m));
        }
    }
    errs.extend(validate_match_label_keys_and_mismatch_label_keys(
        path,
        term.match_label_keys.as_deref().unwrap_or_default(),
        term.mismatch_label_keys.as_deref().unwrap_or_default(),
        term.label_selector.as_ref(),
    ));
    if term.topology_key.is_empty() {
        errs.push(FieldError::required(
            path.child("topologyKey"),
            msg::CAN_NOT_BE_EMPTY,
        ));
    }
    errs.extend(validate_label_name(
        &term.topology_key,
        &path.child("topologyKey"),
    ));
    errs
}

/// Go `validateMatchLabelKeysAndMismatchLabelKeys`, run on the selector as defaulting left it
/// (with the `In`/`NotIn` requirements built from the keys): every key a valid label name and
/// only with a selector; a `matchLabelKeys` key not also in the user's selector (it shows up
/// twice in the merged one — the error's path is the term's, indexed, as Kubernetes writes
/// it); no key in both lists.
fn validate_match_label_keys_and_mismatch_label_keys(
    path: &Path,
    match_label_keys: &[String],
    mismatch_label_keys: &[String],
    selector: Option<&LabelSelector>,
) -> Vec<FieldError> {
    let mut errs = validate_label_keys(&path.child("matchLabelKeys"), match_label_keys, selector);
    errs.extend(validate_label_keys(
        &path.child("mismatchLabelKeys"),
        mismatch_label_keys,
        selector,
    ));
    if let Some(selector) = selector {
        // The last index of each key, as a Go map filled in order keeps it.
        let index_of = |key: &str| match_label_keys.iter().rposition(|k| k == key);
        let mut seen: std::collections::HashSet<&str> = selector
            .match_labels
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        for expr in selector.match_expressions.iter().flatten() {
            let key = expr.key.as_str();
            if let Some(i) = index_of(key)
                && seen.contains(key)
            {
                errs.push(FieldError::invalid(
                    path.index(i),
                    key,
                    msg::MATCH_LABEL_KEYS_IN_SELECTOR,
                ));
            }
            seen.insert(key);
        }
    }
    for (i, key) in match_label_keys.iter().enumerate() {
        if mismatch_label_keys.contains(key) {
            errs.push(FieldError::invalid(
                path.child("matchLabelKeys").index(i),
                key,
                msg::MATCH_LABEL_KEYS_IN_MISMATCH,
            ));
        }
    }
    errs
}

/// Go `validateLabelKeys` (for matchLabelKeys or mismatchLabelKeys).
fn validate_label_keys(
    path: &Path,
    keys: &[String],
    selector: Option<&LabelSelector>,
) -> Vec<FieldError> {
    if keys.is_empty() {
        return Vec::new();
    }
    if selector.is_none() {
        return vec![FieldError::forbidden(
            path,
            msg::LABEL_KEYS_WITHOUT_SELECTOR,
        )];
    }
    keys.iter()
        .enumerate()
        .flat_map(|(i, key)| validate_label_name(key, &path.index(i)))
        .collect()
}

/// apimachinery `ValidateLabelSelector`.
pub fn validate_label_selector(selector: Option<&LabelSelector>, path: &Path) -> Vec<FieldError> {
    let Some(selector) = selector else {
        return Vec::new();
    };
    let mut errs = validate_labels(selector.match_labels.as_ref(), &path.child("matchLabels"));
    let exprs_path = path.child("matchExpressions");
    for (i, expr) in selector.match_expressions.iter().flatten().enumerate() {
        errs.extend(validate_label_selector_requirement(
            expr,
            &exprs_path.index(i),
        ));
    }
    errs
}

fn validate_label_selector_requirement(
    req: &LabelSelectorRequirement,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => {
            errs.push(FieldError::required(
                path.child("values"),
                msg::SELECTOR_VALUES_IN,
            ));
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            errs.push(FieldError::forbidden(
                path.child("values"),
                msg::SELECTOR_VALUES_EXISTS,
            ));
        }
        "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
        other => errs.push(FieldError::invalid(
            path.child("operator"),
            other,
            msg::NOT_A_SELECTOR_OPERATOR,
        )),
    }
    errs.extend(validate_label_name(&req.key, &path.child("key")));
    for (i, value) in values.iter().enumerate() {
        for m in is_valid_label_value(value) {
            errs.push(FieldError::invalid(path.child("values").index(i), value, m));
        }
    }
    errs
}

/// Go `validateTopologySpreadConstraints` (maxSkew, topologyKey, whenUnsatisfiable,
/// duplicates, minDomains, node inclusion policies, labelSelector).
pub fn validate_topology_spread(
    constraints: &[TopologySpreadConstraint],
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, c) in constraints.iter().enumerate() {
        let sub = path.index(i);
        if c.max_skew <= 0 {
            errs.push(FieldError::invalid(
                sub.child("maxSkew"),
                c.max_skew,
                msg::IS_NOT_POSITIVE,
            ));
        }
        if c.topology_key.is_empty() {
            errs.push(FieldError::required(
                sub.child("topologyKey"),
                msg::CAN_NOT_BE_EMPTY,
            ));
        }
        if !["DoNotSchedule", "ScheduleAnyway"].contains(&c.when_unsatisfiable.as_str()) {
            errs.push(FieldError::not_supported(
                sub.child("whenUnsatisfiable"),
                &c.when_unsatisfiable,
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        let repeated = constraints[i + 1..].iter().any(|other| {
            other.topology_key == c.topology_key && other.when_unsatisfiable == c.when_unsatisfiable
        });
        if repeated {
            errs.push(FieldError::duplicate(
                sub.child("{topologyKey, whenUnsatisfiable}"),
                format!("{{{}, {}}}", c.topology_key, c.when_unsatisfiable),
            ));
        }
        errs.extend(validate_min_domains(c, &sub.child("minDomains")));
        for (field, policy) in [
            ("nodeAffinityPolicy", &c.node_affinity_policy),
            ("nodeTaintsPolicy", &c.node_taints_policy),
        ] {
            if let Some(policy) = policy.as_deref()
                && !["Honor", "Ignore"].contains(&policy)
            {
                errs.push(FieldError::not_supported(
                    sub.child(field),
                    policy,
                    &["Honor", "Ignore"],
                ));
            }
        }
        errs.extend(validate_label_selector(
            c.label_selector.as_ref(),
            &sub.child("labelSelector"),
        ));
    }
    errs
}

fn validate_min_domains(c: &TopologySpreadConstraint, path: &Path) -> Vec<FieldError> {
    let Some(min) = c.min_domains else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    if min <= 0 {
        errs.push(FieldError::invalid(path, min, msg::IS_NOT_POSITIVE));
    }
    if c.when_unsatisfiable != "DoNotSchedule" {
        errs.push(FieldError::invalid(
            path,
            min,
            format!(
                "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {}",
                c.when_unsatisfiable
            ),
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeAffinity, PodAntiAffinity, PreferredSchedulingTerm};

    fn toleration(
        key: &str,
        operator: &str,
        value: &str,
        effect: &str,
        seconds: Option<i64>,
    ) -> Toleration {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Toleration {
            key: some(key),
            operator: some(operator),
            value: some(value),
            effect: some(effect),
            toleration_seconds: seconds,
        }
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn tolerations() {
        let path = Path::new("spec").child("tolerations");
        let cases: Vec<(Toleration, Vec<&str>)> = vec![
            (
                toleration("dedicated", "Equal", "gpu", "NoSchedule", None),
                vec![],
            ),
            (toleration("", "Exists", "", "", None), vec![]),
            (
                toleration("", "Equal", "", "", None),
                vec![
                    "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be \
                      Exists when `key` is empty, which means \"match all values and all keys\"",
                ],
            ),
            (
                toleration("k", "Exists", "", "NoSchedule", Some(5)),
                vec![
                    "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be \
                      'NoExecute' when `tolerationSeconds` is set",
                ],
            ),
            (
                toleration("k", "Exists", "v", "", None),
                vec![
                    "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty \
                      when `operator` is 'Exists'",
                ],
            ),
            (
                toleration("k", "Maybe", "", "", None),
                vec![
                    "spec.tolerations[0].operator: Unsupported value: \"Maybe\": supported \
                      values: \"Equal\", \"Exists\"",
                ],
            ),
            (
                toleration("k", "Equal", "v", "Sometimes", None),
                vec![
                    "spec.tolerations[0].effect: Unsupported value: \"Sometimes\": supported \
                      values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                ],
            ),
            (
                toleration("k", "Equal", "-x", "", None),
                vec![
                    "spec.tolerations[0].operator: Invalid value: \"-x\": a valid label must be \
                      an empty string or consist of alphanumeric characters, '-', '_' or '.', and \
                      must start and end with an alphanumeric character (e.g. 'MyValue',  or \
                      'my_value',  or '12345', regex used for validation is \
                      '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                ],
            ),
        ];
        for (t, expected) in cases {
            assert_eq!(
                messages(&validate_tolerations(std::slice::from_ref(&t), &path)),
                expected,
                "{t:?}"
            );
        }
    }

    #[test]
    fn tolerations_only_grow() {
        let path = Path::new("spec").child("tolerations");
        let a = toleration("a", "Exists", "", "NoExecute", Some(300));
        let b = toleration("b", "Exists", "", "", None);
        let a_changed_seconds = toleration("a", "Exists", "", "NoExecute", Some(10));
        assert!(
            validate_only_added_tolerations(
                &[a.clone(), b.clone()],
                std::slice::from_ref(&a),
                &path
            )
            .is_empty()
        );
        assert!(
            validate_only_added_tolerations(&[a_changed_seconds], std::slice::from_ref(&a), &path)
                .is_empty()
        );
        assert_eq!(
            messages(&validate_only_added_tolerations(&[b], &[a], &path)),
            vec![
                "spec.tolerations: Forbidden: existing toleration can not be modified except its \
                  tolerationSeconds"
            ]
        );
    }

    #[test]
    fn affinity() {
        let path = Path::new("spec").child("affinity");
        let affinity = Affinity {
            node_affinity: Some(NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(vec![
                            NodeSelectorRequirement {
                                key: "zone".into(),
                                operator: "In".into(),
                                values: None,
                            },
                            NodeSelectorRequirement {
                                key: "zone".into(),
                                operator: "Near".into(),
                                values: Some(vec!["a".into()]),
                            },
                        ]),
                        match_fields: Some(vec![NodeSelectorRequirement {
                            key: "spec.nodeName".into(),
                            operator: "In".into(),
                            values: Some(vec!["n".into()]),
                        }]),
                    }],
                }),
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    PreferredSchedulingTerm {
                        weight: 0,
                        preference: NodeSelectorTerm::default(),
                    },
                ]),
            }),
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![
                    PodAffinityTerm::default(),
                ]),
                ..PodAntiAffinity::default()
            }),
            ..Affinity::default()
        };
        let n = "spec.affinity.nodeAffinity";
        let req =
            format!("{n}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]");
        assert_eq!(
            messages(&validate_affinity(Some(&affinity), &path)),
            vec![
                format!("{req}.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"),
                format!("{req}.matchExpressions[1].operator: Invalid value: \"Near\": not a valid selector operator"),
                format!("{req}.matchFields[0].key: Invalid value: \"spec.nodeName\": not a valid field selector key"),
                format!("{n}.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"),
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty".to_string(),
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must be non-empty".to_string(),
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".to_string(),
            ]
        );
        let empty = Affinity {
            node_affinity: Some(NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector::default()),
                ..NodeAffinity::default()
            }),
            ..Affinity::default()
        };
        assert_eq!(
            messages(&validate_affinity(Some(&empty), &path)),
            vec![format!(
                "{n}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term"
            )]
        );
    }

    /// Go `validateMatchLabelKeysAndMismatchLabelKeys`, on selectors as defaulting leaves them
    /// (each matchLabelKeys key merged in as `In`, each mismatchLabelKeys key as `NotIn`).
    #[test]
    fn match_label_keys_and_mismatch_label_keys() {
        let path = Path::new("spec").child("affinity");
        let required = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution";
        let preferred = "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm";
        let name_part = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
        let cases: Vec<(&str, serde_json::Value, Vec<String>)> = vec![
            (
                "keys merged into the selector once: valid",
                serde_json::json!({
                    "labelSelector": {"matchLabels": {"app": "web"}, "matchExpressions": [
                        {"key": "version", "operator": "In", "values": ["v1"]},
                        {"key": "tenant", "operator": "NotIn", "values": ["a"]},
                    ]},
                    "matchLabelKeys": ["version"],
                    "mismatchLabelKeys": ["tenant"],
                    "topologyKey": "zone",
                }),
                vec![],
            ),
            (
                "keys without a labelSelector",
                serde_json::json!({
                    "matchLabelKeys": ["version"],
                    "mismatchLabelKeys": ["tenant"],
                    "topologyKey": "zone",
                }),
                vec![
                    format!(
                        "{required}[0].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set"
                    ),
                    format!(
                        "{required}[0].mismatchLabelKeys: Forbidden: must not be specified when labelSelector is not set"
                    ),
                ],
            ),
            (
                "keys that are not label names",
                serde_json::json!({
                    "labelSelector": {"matchLabels": {"app": "web"}},
                    "matchLabelKeys": ["-version"],
                    "mismatchLabelKeys": ["ok", "tenant_"],
                    "topologyKey": "zone",
                }),
                vec![
                    format!(
                        "{required}[0].matchLabelKeys[0]: Invalid value: \"-version\": {name_part}"
                    ),
                    format!(
                        "{required}[0].mismatchLabelKeys[1]: Invalid value: \"tenant_\": {name_part}"
                    ),
                ],
            ),
            (
                "a matchLabelKeys key the user's selector has too (twice once merged); a \
                 mismatchLabelKeys key may be",
                serde_json::json!({
                    "labelSelector": {"matchLabels": {"version": "v1"}, "matchExpressions": [
                        {"key": "tenant", "operator": "In", "values": ["a", "b"]},
                        {"key": "version", "operator": "In", "values": ["v1"]},
                        {"key": "tenant", "operator": "NotIn", "values": ["a"]},
                    ]},
                    "matchLabelKeys": ["version"],
                    "mismatchLabelKeys": ["tenant"],
                    "topologyKey": "zone",
                }),
                vec![format!(
                    "{required}[0][0]: Invalid value: \"version\": exists in both matchLabelKeys and labelSelector"
                )],
            ),
            (
                "a key in both lists",
                serde_json::json!({
                    "labelSelector": {"matchExpressions": [
                        {"key": "version", "operator": "In", "values": ["v1"]},
                        {"key": "tenant", "operator": "In", "values": ["a"]},
                        {"key": "tenant", "operator": "NotIn", "values": ["a"]},
                    ]},
                    "matchLabelKeys": ["version", "tenant"],
                    "mismatchLabelKeys": ["tenant"],
                    "topologyKey": "zone",
                }),
                vec![
                    format!(
                        "{required}[0][1]: Invalid value: \"tenant\": exists in both matchLabelKeys and labelSelector"
                    ),
                    format!(
                        "{required}[0].matchLabelKeys[1]: Invalid value: \"tenant\": exists in both matchLabelKeys and mismatchLabelKeys"
                    ),
                ],
            ),
        ];
        for (what, term, want) in cases {
            let term: PodAffinityTerm = serde_json::from_value(term).unwrap();
            let affinity = Affinity {
                pod_affinity: Some(k8s_openapi::api::core::v1::PodAffinity {
                    required_during_scheduling_ignored_during_execution: Some(vec![term]),
                    ..Default::default()
                }),
                ..Affinity::default()
            };
            assert_eq!(
                messages(&validate_affinity(Some(&affinity), &path)),
                want,
                "{what}"
            );
        }

        // A preferred term's path.
        let term: PodAffinityTerm = serde_json::from_value(serde_json::json!({
            "labelSelector": {"matchExpressions": [
                {"key": "k", "operator": "In", "values": ["v"]},
                {"key": "k", "operator": "NotIn", "values": ["v"]},
            ]},
            "matchLabelKeys": ["k"],
            "mismatchLabelKeys": ["k"],
            "topologyKey": "zone",
        }))
        .unwrap();
        let affinity = Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    WeightedPodAffinityTerm {
                        weight: 10,
                        pod_affinity_term: term,
                    },
                ]),
                ..PodAntiAffinity::default()
            }),
            ..Affinity::default()
        };
        assert_eq!(
            messages(&validate_affinity(Some(&affinity), &path)),
            vec![
                format!(
                    "{preferred}[0]: Invalid value: \"k\": exists in both matchLabelKeys and labelSelector"
                ),
                format!(
                    "{preferred}.matchLabelKeys[0]: Invalid value: \"k\": exists in both matchLabelKeys and mismatchLabelKeys"
                ),
            ]
        );
    }

    #[test]
    fn topology_spread() {
        let path = Path::new("spec").child("topologySpreadConstraints");
        let c = TopologySpreadConstraint {
            max_skew: 0,
            topology_key: "zone".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            min_domains: Some(2),
            ..TopologySpreadConstraint::default()
        };
        let bad = TopologySpreadConstraint {
            max_skew: 1,
            when_unsatisfiable: "Never".into(),
            node_taints_policy: Some("Maybe".into()),
            ..TopologySpreadConstraint::default()
        };
        assert_eq!(
            messages(&validate_topology_spread(&[c.clone(), c, bad], &path)),
            vec![
                "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
                "spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{zone, ScheduleAnyway}\"",
                "spec.topologySpreadConstraints[0].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
                "spec.topologySpreadConstraints[1].maxSkew: Invalid value: 0: must be greater than zero",
                "spec.topologySpreadConstraints[1].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
                "spec.topologySpreadConstraints[2].topologyKey: Required value: can not be empty",
                "spec.topologySpreadConstraints[2].whenUnsatisfiable: Unsupported value: \"Never\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\"",
                "spec.topologySpreadConstraints[2].nodeTaintsPolicy: Unsupported value: \"Maybe\": supported values: \"Honor\", \"Ignore\"",
            ]
        );
    }
}
