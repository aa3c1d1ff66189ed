//! `metadata` validation shared by every kind: name rules (`NameKind`), labels,
//! annotations, owner references, finalizers, and the create/update rules of
//! `ValidateObjectMeta` / `ValidateObjectMetaUpdate` (apimachinery
//! `pkg/api/validation/objectmeta.go` plus core's finalizer check, v1.32).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use super::field::{FieldError, Path, Value, go_string_slice_literal};
use super::messages::{
    FIELD_IMMUTABLE, FINALIZER_NOT_QUALIFIED, GENERATION_DECREMENTED, IS_NEGATIVE,
    NAME_OR_GENERATE_NAME_REQUIRED, NAMESPACE_NOT_ALLOWED, OWNER_MUST_NOT_BE_EMPTY,
    OWNER_VERSION_EMPTY, RESOURCE_VERSION_REQUIRED, TOTAL_ANNOTATION_SIZE_LIMIT, no_new_finalizers,
};
use super::names::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_qualified_name,
    is_valid_label_value, is_valid_path_segment_name, is_valid_path_segment_prefix,
};

/// Which rule an object's name follows (Go `ValidateNameFunc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// `NameIsDNSSubdomain`: pods, nodes, leases, config maps, ...
    DnsSubdomain,
    /// `NameIsDNSLabel`: namespaces.
    DnsLabel,
    /// `NameIsDNS1035Label`: services.
    Dns1035Label,
    /// `path.ValidatePathSegmentName`: the only rule core/v1 events get.
    PathSegment,
}

impl NameKind {
    /// The messages for `name`; `prefix` is true for `generateName` (a trailing dash is
    /// allowed because random characters follow).
    pub fn check(self, name: &str, prefix: bool) -> Vec<String> {
        let masked = if prefix {
            mask_trailing_dash(name)
        } else {
            name.to_string()
        };
        match self {
            Self::DnsSubdomain => is_dns1123_subdomain(&masked),
            Self::DnsLabel => is_dns1123_label(&masked),
            Self::Dns1035Label => is_dns1035_label(&masked),
            Self::PathSegment if prefix => is_valid_path_segment_prefix(name),
            Self::PathSegment => is_valid_path_segment_name(name),
        }
    }
}

/// Go `maskTrailingDash`: `name[:len-2] + "a"` when the name ends in a dash. Go panics on
/// the one-character name `-`; kubox leaves it unchanged (and so invalid).
fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') {
        let cut = name.len() - 2;
        match name.get(..cut) {
            Some(head) => format!("{head}a"),
            None => name.to_string(),
        }
    } else {
        name.to_string()
    }
}

/// Go `ValidateLabels`: every key a qualified name, every value a label value; errors name
/// the map itself (`metadata.labels`), not the key.
pub fn validate_labels(labels: Option<&BTreeMap<String, String>>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (key, value) in labels.into_iter().flatten() {
        errs.extend(validate_label_name(key, path));
        for msg in is_valid_label_value(value) {
            errs.push(FieldError::invalid(path, value, msg));
        }
    }
    errs
}

/// Go `ValidateLabelName`.
pub fn validate_label_name(name: &str, path: &Path) -> Vec<FieldError> {
    is_qualified_name(name)
        .into_iter()
        .map(|msg| FieldError::invalid(path, name, msg))
        .collect()
}

/// Go `ValidateAnnotations`: keys are qualified names in any case, and keys plus values
/// may total at most 256 KiB.
pub fn validate_annotations(
    annotations: Option<&BTreeMap<String, String>>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0usize;
    for (key, value) in annotations.into_iter().flatten() {
        for msg in is_qualified_name(&key.to_lowercase()) {
            errs.push(FieldError::invalid(path, key, msg));
        }
        total = total.saturating_add(key.len()).saturating_add(value.len());
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

fn validate_owner_reference(owner: &OwnerReference, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let version = owner.api_version.rsplit('/').next().unwrap_or_default();
    if version.is_empty() {
        errs.push(FieldError::invalid(
            path.child("apiVersion"),
            &owner.api_version,
            OWNER_VERSION_EMPTY,
        ));
    }
    if owner.kind.is_empty() {
        errs.push(FieldError::invalid(
            path.child("kind"),
            &owner.kind,
            OWNER_MUST_NOT_BE_EMPTY,
        ));
    }
    if owner.name.is_empty() {
        errs.push(FieldError::invalid(
            path.child("name"),
            &owner.name,
            OWNER_MUST_NOT_BE_EMPTY,
        ));
    }
    if owner.uid.is_empty() {
        errs.push(FieldError::invalid(
            path.child("uid"),
            &owner.uid,
            OWNER_MUST_NOT_BE_EMPTY,
        ));
    }
    errs
}

/// Go `ValidateOwnerReferences` (the banned-owner and single-controller rules are left out).
pub fn validate_owner_references(
    owners: Option<&Vec<OwnerReference>>,
    path: &Path,
) -> Vec<FieldError> {
    owners
        .into_iter()
        .flatten()
        .flat_map(|owner| validate_owner_reference(owner, path))
        .collect()
}

/// Go `ValidateFinalizers`: qualified names, and not both `orphan` and `foregroundDeletion`.
pub fn validate_finalizers(finalizers: Option<&Vec<String>>, path: &Path) -> Vec<FieldError> {
    let list = finalizers.map(Vec::as_slice).unwrap_or_default();
    let mut errs: Vec<FieldError> = list
        .iter()
        .flat_map(|f| {
            is_qualified_name(f)
                .into_iter()
                .map(move |msg| FieldError::invalid(path, f, msg))
        })
        .collect();
    let has = |name: &str| list.iter().any(|f| f == name);
    if has("orphan") && has("foregroundDeletion") {
        errs.push(FieldError::invalid(
            path,
            Value::raw(go_string_slice_literal(list)),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

/// core `validateKubeFinalizerName`: an unqualified finalizer must be a standard one.
pub fn validate_kube_finalizer_name(name: &str, path: &Path) -> Vec<FieldError> {
    const STANDARD: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];
    if !name.contains('/') && !STANDARD.contains(&name) {
        vec![FieldError::invalid(path, name, FINALIZER_NOT_QUALIFIED)]
    } else {
        Vec::new()
    }
}

fn kube_finalizer_errors(meta: &ObjectMeta, path: &Path) -> Vec<FieldError> {
    let finalizers_path = path.child("finalizers");
    meta.finalizers
        .iter()
        .flatten()
        .enumerate()
        .flat_map(|(i, f)| validate_kube_finalizer_name(f, &finalizers_path.index(i)))
        .collect()
}

/// Core `ValidateObjectMeta` on create (generateName, name, namespace, generation, labels,
/// annotations, owner references, finalizers). `metadata.name: Required value: name or
/// generateName is required` when both are empty.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_kind: NameKind,
) -> Vec<FieldError> {
    let path = Path::new("metadata");
    let mut errs = validate_object_meta_generic(meta, namespaced, name_kind, &path);
    errs.extend(kube_finalizer_errors(meta, &path));
    errs
}

/// apimachinery `ValidateObjectMetaAccessor` (no core finalizer rule; used by leases).
pub(crate) fn validate_object_meta_generic(
    meta: &ObjectMeta,
    namespaced: bool,
    name_kind: NameKind,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let generate_name = meta.generate_name.as_deref().unwrap_or_default();
    if !generate_name.is_empty() {
        for msg in name_kind.check(generate_name, true) {
            errs.push(FieldError::invalid(
                path.child("generateName"),
                generate_name,
                msg,
            ));
        }
    }
    let name = meta.name.as_deref().unwrap_or_default();
    if name.is_empty() {
        errs.push(FieldError::required(
            path.child("name"),
            NAME_OR_GENERATE_NAME_REQUIRED,
        ));
    } else {
        for msg in name_kind.check(name, false) {
            errs.push(FieldError::invalid(path.child("name"), name, msg));
        }
    }
    errs.extend(validate_namespace_field(meta, namespaced, path));
    let generation = meta.generation.unwrap_or_default();
    if generation < 0 {
        errs.push(FieldError::invalid(
            path.child("generation"),
            generation,
            IS_NEGATIVE,
        ));
    }
    errs.extend(validate_common_sets(meta, path));
    errs
}

fn validate_namespace_field(meta: &ObjectMeta, namespaced: bool, path: &Path) -> Vec<FieldError> {
    let namespace = meta.namespace.as_deref().unwrap_or_default();
    let field = path.child("namespace");
    match (namespaced, namespace.is_empty()) {
        (true, true) => vec![FieldError::required(field, "")],
        (true, false) => NameKind::DnsLabel
            .check(namespace, false)
            .into_iter()
            .map(|msg| FieldError::invalid(&field, namespace, msg))
            .collect(),
        (false, false) => vec![FieldError::forbidden(field, NAMESPACE_NOT_ALLOWED)],
        (false, true) => Vec::new(),
    }
}

fn validate_common_sets(meta: &ObjectMeta, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_labels(meta.labels.as_ref(), &path.child("labels"));
    errs.extend(validate_annotations(
        meta.annotations.as_ref(),
        &path.child("annotations"),
    ));
    errs.extend(validate_owner_references(
        meta.owner_references.as_ref(),
        &path.child("ownerReferences"),
    ));
    errs.extend(validate_finalizers(
        meta.finalizers.as_ref(),
        &path.child("finalizers"),
    ));
    errs
}

/// Core `ValidateObjectMetaUpdate`: name, namespace, uid, creationTimestamp,
/// deletionTimestamp and deletionGracePeriodSeconds are immutable
/// (`metadata.name: Invalid value: "x": field is immutable`), resourceVersion is required,
/// generation may not go down, no finalizers may be added while deleting.
///
/// The store must fill `resourceVersion` for unconditional updates before calling this, as
/// the API server does.
pub fn validate_object_meta_update(new: &ObjectMeta, old: &ObjectMeta) -> Vec<FieldError> {
    let path = Path::new("metadata");
    let mut errs = validate_object_meta_update_generic(new, old, &path);
    errs.extend(kube_finalizer_errors(new, &path));
    errs
}

pub(crate) fn validate_object_meta_update_generic(
    new: &ObjectMeta,
    old: &ObjectMeta,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if old.deletion_timestamp.is_some() {
        errs.extend(no_new_finalizer_errors(new, old, &path.child("finalizers")));
    }
    let resource_version = new.resource_version.as_deref().unwrap_or_default();
    if resource_version.is_empty() {
        errs.push(FieldError::invalid(
            path.child("resourceVersion"),
            resource_version,
            RESOURCE_VERSION_REQUIRED,
        ));
    }
    let (new_gen, old_gen) = (
        new.generation.unwrap_or_default(),
        old.generation.unwrap_or_default(),
    );
    if new_gen < old_gen {
        errs.push(FieldError::invalid(
            path.child("generation"),
            new_gen,
            GENERATION_DECREMENTED,
        ));
    }
    errs.extend(immutable_meta_errors(new, old, path));
    errs.extend(validate_common_sets(new, path));
    errs
}

fn no_new_finalizer_errors(new: &ObjectMeta, old: &ObjectMeta, path: &Path) -> Vec<FieldError> {
    let old_set: Vec<&String> = old.finalizers.iter().flatten().collect();
    let mut extra: Vec<String> = new
        .finalizers
        .iter()
        .flatten()
        .filter(|f| !old_set.contains(f))
        .cloned()
        .collect();
    extra.sort();
    extra.dedup();
    if extra.is_empty() {
        return Vec::new();
    }
    vec![FieldError::forbidden(
        path,
        no_new_finalizers(&go_string_slice_literal(&extra)),
    )]
}

fn immutable_meta_errors(new: &ObjectMeta, old: &ObjectMeta, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let strings = [
        ("name", text(&new.name), text(&old.name)),
        ("namespace", text(&new.namespace), text(&old.namespace)),
        ("uid", text(&new.uid), text(&old.uid)),
    ];
    for (field, new_value, old_value) in strings {
        if new_value != old_value {
            errs.push(FieldError::invalid(
                path.child(field),
                new_value,
                FIELD_IMMUTABLE,
            ));
        }
    }
    if new.creation_timestamp != old.creation_timestamp {
        let rendered = go_time_string(new.creation_timestamp.as_ref());
        errs.push(FieldError::invalid(
            path.child("creationTimestamp"),
            Value::raw(rendered),
            FIELD_IMMUTABLE,
        ));
    }
    if new.deletion_timestamp != old.deletion_timestamp {
        let rendered = new
            .deletion_timestamp
            .as_ref()
            .map_or_else(Value::null, |t| Value::raw(go_time_string(Some(t))));
        errs.push(FieldError::invalid(
            path.child("deletionTimestamp"),
            rendered,
            FIELD_IMMUTABLE,
        ));
    }
    if new.deletion_grace_period_seconds != old.deletion_grace_period_seconds {
        errs.push(FieldError::invalid(
            path.child("deletionGracePeriodSeconds"),
            Value::opt_int(new.deletion_grace_period_seconds),
            FIELD_IMMUTABLE,
        ));
    }
    errs
}

/// Go's `time.Time.String()` of a metav1.Time in UTC
/// (`2024-05-01 12:00:00 +0000 UTC`; the zero time when absent).
pub fn go_time_string(time: Option<&Time>) -> String {
    let Some(Time(ts)) = time else {
        return "0001-01-01 00:00:00 +0000 UTC".to_string();
    };
    let dt = ts.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC).datetime();
    let base = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let nanos = ts.subsec_nanosecond();
    if nanos == 0 {
        format!("{base} +0000 UTC")
    } else {
        let fraction = format!("{:09}", nanos.unsigned_abs());
        format!("{base}.{} +0000 UTC", fraction.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    const SUBDOMAIN_REGEX: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
        alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
        character (e.g. 'example.com', regex used for validation is \
        '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_REGEX: &str = "a lowercase RFC 1123 label must consist of lower case \
        alphanumeric characters or '-', and must start and end with an alphanumeric character \
        (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    fn meta(name: &str, namespace: &str) -> ObjectMeta {
        ObjectMeta {
            name: (!name.is_empty()).then(|| name.to_string()),
            namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
            ..ObjectMeta::default()
        }
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn object_meta_on_create() {
        let labels = BTreeMap::from([("bad key".to_string(), "-v".to_string())]);
        let annotations = BTreeMap::from([("Example.com/Note".to_string(), "x".to_string())]);
        let cases: Vec<(ObjectMeta, bool, NameKind, Vec<String>)> = vec![
            (meta("web", "default"), true, NameKind::DnsSubdomain, vec![]),
            (
                meta("", "default"),
                true,
                NameKind::DnsSubdomain,
                vec!["metadata.name: Required value: name or generateName is required".into()],
            ),
            (
                meta("Web", "default"),
                true,
                NameKind::DnsSubdomain,
                vec![format!(
                    "metadata.name: Invalid value: \"Web\": {SUBDOMAIN_REGEX}"
                )],
            ),
            (
                meta("web", ""),
                true,
                NameKind::DnsSubdomain,
                vec!["metadata.namespace: Required value".into()],
            ),
            (
                meta("web", "Bad_ns"),
                true,
                NameKind::DnsSubdomain,
                vec![format!(
                    "metadata.namespace: Invalid value: \"Bad_ns\": {LABEL_REGEX}"
                )],
            ),
            (
                meta("node-1", "default"),
                false,
                NameKind::DnsSubdomain,
                vec!["metadata.namespace: Forbidden: not allowed on this type".into()],
            ),
            (
                meta("a.b", ""),
                false,
                NameKind::DnsLabel,
                vec!["metadata.name: Invalid value: \"a.b\": must not contain dots".into()],
            ),
            (
                ObjectMeta {
                    generate_name: Some("web-".into()),
                    namespace: Some("default".into()),
                    ..ObjectMeta::default()
                },
                true,
                NameKind::DnsSubdomain,
                vec!["metadata.name: Required value: name or generateName is required".into()],
            ),
            (
                ObjectMeta {
                    generate_name: Some("Web-".into()),
                    name: Some("web-x".into()),
                    namespace: Some("default".into()),
                    ..ObjectMeta::default()
                },
                true,
                NameKind::DnsSubdomain,
                vec![format!(
                    "metadata.generateName: Invalid value: \"Web-\": {SUBDOMAIN_REGEX}"
                )],
            ),
            (
                ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(annotations),
                    generation: Some(-1),
                    ..meta("web", "default")
                },
                true,
                NameKind::DnsSubdomain,
                vec![
                    "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
                        .into(),
                    "metadata.labels: Invalid value: \"bad key\": name part must consist of \
                     alphanumeric characters, '-', '_' or '.', and must start and end with an \
                     alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex \
                     used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
                        .into(),
                    "metadata.labels: Invalid value: \"-v\": a valid label must be an empty \
                     string or consist of alphanumeric characters, '-', '_' or '.', and must \
                     start and end with an alphanumeric character (e.g. 'MyValue',  or \
                     'my_value',  or '12345', regex used for validation is \
                     '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
                        .into(),
                ],
            ),
            (
                meta("..", "default"),
                true,
                NameKind::PathSegment,
                vec!["metadata.name: Invalid value: \"..\": may not be '..'".into()],
            ),
        ];
        for (m, namespaced, kind, expected) in cases {
            assert_eq!(
                messages(&validate_object_meta(&m, namespaced, kind)),
                expected,
                "{m:?}"
            );
        }
    }

    #[test]
    fn annotation_size_limit() {
        let big = BTreeMap::from([("a".to_string(), "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT))]);
        let m = ObjectMeta {
            annotations: Some(big),
            ..meta("web", "default")
        };
        assert_eq!(
            messages(&validate_object_meta(&m, true, NameKind::DnsSubdomain)),
            vec!["metadata.annotations: Too long: must have at most 262144 bytes"]
        );
    }

    #[test]
    fn finalizers_and_owners() {
        let m = ObjectMeta {
            finalizers: Some(vec![
                "orphan".into(),
                "foregroundDeletion".into(),
                "custom".into(),
            ]),
            owner_references: Some(vec![OwnerReference::default()]),
            ..meta("web", "default")
        };
        assert_eq!(
            messages(&validate_object_meta(&m, true, NameKind::DnsSubdomain)),
            vec![
                "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty",
                "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty",
                "metadata.ownerReferences.name: Invalid value: \"\": must not be empty",
                "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty",
                "metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\", \
                 \"custom\"}: finalizer orphan and foregroundDeletion cannot be both set",
                "metadata.finalizers[2]: Invalid value: \"custom\": name is neither a standard \
                 finalizer name nor is it fully qualified",
            ]
        );
    }

    #[test]
    fn object_meta_on_update() {
        let ts = |s: i64| Time(Timestamp::from_second(s).unwrap_or_default());
        let old = ObjectMeta {
            uid: Some("u1".into()),
            resource_version: Some("5".into()),
            generation: Some(3),
            creation_timestamp: Some(ts(1_700_000_000)),
            deletion_timestamp: Some(ts(1_700_000_100)),
            finalizers: Some(vec!["kubernetes".into()]),
            ..meta("web", "default")
        };
        let new = ObjectMeta {
            name: Some("x".into()),
            namespace: Some("other".into()),
            uid: Some("u2".into()),
            resource_version: None,
            generation: Some(2),
            creation_timestamp: Some(ts(1_700_000_001)),
            deletion_timestamp: None,
            deletion_grace_period_seconds: Some(30),
            finalizers: Some(vec!["kubernetes".into(), "example.com/new".into()]),
            ..ObjectMeta::default()
        };
        assert_eq!(
            messages(&validate_object_meta_update(&new, &old)),
            vec![
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is \
                 being deleted, found new finalizers []string{\"example.com/new\"}",
                "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
                "metadata.generation: Invalid value: 2: must not be decremented",
                "metadata.name: Invalid value: \"x\": field is immutable",
                "metadata.namespace: Invalid value: \"other\": field is immutable",
                "metadata.uid: Invalid value: \"u2\": field is immutable",
                "metadata.creationTimestamp: Invalid value: 2023-11-14 22:13:21 +0000 UTC: field \
                 is immutable",
                "metadata.deletionTimestamp: Invalid value: null: field is immutable",
                "metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable",
            ]
        );
        let same = ObjectMeta {
            resource_version: Some("5".into()),
            ..old.clone()
        };
        assert!(validate_object_meta_update(&same, &old).is_empty());
    }

    #[test]
    fn renders_go_time_and_masks_dashes() {
        let t = Time(Timestamp::new(1_700_000_000, 500_000_000).unwrap_or_default());
        assert_eq!(go_time_string(Some(&t)), "2023-11-14 22:13:20.5 +0000 UTC");
        assert_eq!(go_time_string(None), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(mask_trailing_dash("web-"), "wea");
        assert_eq!(mask_trailing_dash("-"), "-");
        assert!(NameKind::DnsSubdomain.check("web-", true).is_empty());
        assert!(!NameKind::DnsSubdomain.check("-", true).is_empty());
        assert!(NameKind::Dns1035Label.check("svc", false).is_empty());
        assert_eq!(
            NameKind::PathSegment.check("a/", true),
            vec!["may not contain '/'"]
        );
    }
}
