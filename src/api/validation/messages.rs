//! The one table of Kubernetes v1.32 validation texts kubox reproduces verbatim.
//!
//! Sources (kubernetes/kubernetes): `pkg/apis/core/validation/validation.go` (pod, node,
//! namespace), `pkg/apis/core/validation/events.go`,
//! `pkg/apis/coordination/validation/validation.go`,
//! `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go` (name formats),
//! `staging/src/k8s.io/apimachinery/pkg/api/validation/{objectmeta,generic}.go`,
//! `staging/src/k8s.io/apimachinery/pkg/api/validation/path/name.go`.

// --- apimachinery/pkg/util/validation --------------------------------------------------

/// `dns1123LabelErrMsg`
pub const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case \
     alphanumeric characters or '-', and must start and end with an alphanumeric character";
/// `dns1123LabelFmt`
pub const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
/// `dns1123SubdomainErrorMsg`
pub const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower \
     case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
     character";
/// `dns1123SubdomainFmt`
pub const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
/// `dns1035LabelErrMsg`
pub const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric \
     characters or '-', start with an alphabetic character, and end with an alphanumeric \
     character";
/// `dns1035LabelFmt`
pub const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
/// IsDNS1123Label on a valid subdomain that has dots.
pub const MUST_NOT_CONTAIN_DOTS: &str = "must not contain dots";
/// `qualifiedNameErrMsg`
pub const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', \
     and must start and end with an alphanumeric character";
/// `qualifiedNameFmt`
pub const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
/// Suffix of the "too many slashes" qualified-name error.
pub const QUALIFIED_NAME_PREFIX_HINT: &str =
    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
/// `labelValueErrMsg`
pub const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of \
     alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric \
     character";
/// `labelValueFmt`
pub const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
/// `relaxedEnvVarNameFmtErrMsg` (RelaxedEnvironmentVariableValidation is beta, on, in 1.32).
pub const RELAXED_ENV_VAR_NAME_ERR: &str = "a valid environment variable name must consist only of printable ASCII characters other than '='";
/// `configMapKeyErrMsg`
pub const CONFIG_MAP_KEY_ERR: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
/// `configMapKeyFmt`
pub const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
/// `EmptyError()`
pub const EMPTY_ERROR: &str = "must be non-empty";
/// IsValidPortName texts.
pub const PORT_NAME_CHARSET: &str =
    "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
/// IsValidPortName texts.
pub const PORT_NAME_ONE_LETTER: &str = "must contain at least one letter (a-z)";
/// IsValidPortName texts.
pub const PORT_NAME_CONSECUTIVE_HYPHENS: &str = "must not contain consecutive hyphens";
/// IsValidPortName texts.
pub const PORT_NAME_HYPHEN_ENDS: &str = "must not begin or end with a hyphen";
/// IsValidIP (v1.32).
pub const INVALID_IP: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
/// IsValidCIDR (v1.32).
pub const INVALID_CIDR: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/// `MaxLenError(n)`
pub fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `InclusiveRangeError(lo, hi)`
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// `RegexError(msg, fmt, examples...)`
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let quoted: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{msg} (e.g. {}regex used for validation is '{fmt}')",
        quoted.join(" or ")
    )
}

// --- apimachinery/pkg/api/validation -----------------------------------------------------

/// `FieldImmutableErrorMsg`
pub const FIELD_IMMUTABLE: &str = "field is immutable";
/// `IsNegativeErrorMsg`
pub const IS_NEGATIVE: &str = "must be greater than or equal to 0";
/// ValidateObjectMeta: empty name.
pub const NAME_OR_GENERATE_NAME_REQUIRED: &str = "name or generateName is required";
/// ValidateObjectMeta: namespace on a cluster-scoped object.
pub const NAMESPACE_NOT_ALLOWED: &str = "not allowed on this type";
/// ValidateObjectMetaUpdate: missing resourceVersion.
pub const RESOURCE_VERSION_REQUIRED: &str = "must be specified for an update";
/// ValidateObjectMetaUpdate: generation went down.
pub const GENERATION_DECREMENTED: &str = "must not be decremented";
/// TotalAnnotationSizeLimitB
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * (1 << 10);
/// ValidateOwnerReferences texts.
pub const OWNER_VERSION_EMPTY: &str = "version must not be empty";
/// ValidateOwnerReferences texts.
pub const OWNER_MUST_NOT_BE_EMPTY: &str = "must not be empty";
/// validateKubeFinalizerName
pub const FINALIZER_NOT_QUALIFIED: &str =
    "name is neither a standard finalizer name nor is it fully qualified";

// --- pkg/apis/core/validation: pods --------------------------------------------------------

/// `isNotIntegerErrorMsg`
pub const IS_NOT_INTEGER: &str = "must be an integer";
/// `isNotPositiveErrorMsg`
pub const IS_NOT_POSITIVE: &str = "must be greater than zero";
/// validateContainerOnlyForPod / ValidateContainerUpdates
pub const IMAGE_WHITESPACE: &str = "must not have leading or trailing whitespace";
/// ValidatePodCreate
pub const EPHEMERAL_ON_CREATE: &str = "cannot be set on create";
/// ValidatePodCreate
pub const NODE_NAME_WITH_GATES: &str = "cannot be set until all schedulingGates have been cleared";
/// ValidateVolumeMounts
pub const MUST_BE_UNIQUE: &str = "must be unique";
/// validateLocalDescendingPath
pub const MUST_BE_RELATIVE_PATH: &str = "must be a relative path";
/// validatePathNoBacksteps
pub const NO_BACKSTEPS: &str = "must not contain '..'";
/// ValidateVolumeMounts
pub const SUBPATH_EXPR_EXCLUSIVE: &str = "subPathExpr and subPath are mutually exclusive";
/// validateVolumeSource
pub const MORE_THAN_ONE_VOLUME_TYPE: &str = "may not specify more than 1 volume type";
/// validateVolumeSource
pub const MUST_SPECIFY_VOLUME_TYPE: &str = "must specify a volume type";
/// validateResourceName
pub const NOT_STANDARD_RESOURCE: &str = "must be a standard resource type or fully qualified";
/// validateContainerResourceName
pub const NOT_STANDARD_CONTAINER_RESOURCE: &str = "must be a standard resource for containers";
/// validateContainerResourceName
pub const NOT_EXTENDED_RESOURCE: &str = "doesn't follow extended resource name standard";
/// validateResourceRequirements
pub const LIMIT_REQUIRED_NON_OVERCOMMIT: &str =
    "Limit must be set for non overcommitable resources";
/// validateResourceRequirements
pub const HUGEPAGES_REQUIRE_CPU_OR_MEMORY: &str = "HugePages require cpu or memory";
/// validateEnvVarValueFrom
pub const ENV_ONE_SOURCE: &str =
    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`";
/// validateEnvVarValueFrom
pub const ENV_VALUE_AND_SOURCE: &str = "may not be specified when `value` is not empty";
/// validateEnvVarValueFrom / ValidateEnvFrom
pub const ONE_FIELD_AT_A_TIME: &str = "may not have more than one field specified at a time";
/// ValidateEnvFrom
pub const ENV_FROM_ONE_SOURCE: &str = "must specify one of: `configMapRef` or `secretRef`";
/// validateObjectFieldSelector
pub const DOES_NOT_SUPPORT_SUBSCRIPT: &str = "does not support subscript";
/// validateContainers
pub const RESTART_POLICY_NON_INIT: &str = "may not be set for non-init containers";
/// validateInitContainers
pub const INIT_WITHOUT_RESTART_ALWAYS: &str =
    "may not be set for init containers without restartPolicy=Always";
/// validateHandler
pub const MUST_SPECIFY_HANDLER: &str = "must specify a handler type";
/// validateHandler
pub const MORE_THAN_ONE_HANDLER: &str = "may not specify more than 1 handler type";
/// validateLivenessProbe / validateStartupProbe
pub const MUST_BE_ONE: &str = "must be 1";
/// validateReadinessProbe
pub const NOT_FOR_READINESS: &str = "must not be set for readinessProbes";
/// validateProbe
pub const MUST_BE_GREATER_THAN_ZERO: &str = "must be greater than 0";
/// validatePodHostNetworkDeps
pub const HOST_PORT_MUST_MATCH: &str = "must match `containerPort` when `hostNetwork` is true";
/// ValidateTolerations
pub const TOLERATION_EMPTY_KEY: &str =
    "operator must be Exists when `key` is empty, which means \"match all values and all keys\"";
/// ValidateTolerations
pub const TOLERATION_SECONDS_EFFECT: &str =
    "effect must be 'NoExecute' when `tolerationSeconds` is set";
/// ValidateTolerations
pub const TOLERATION_EXISTS_VALUE: &str = "value must be empty when `operator` is 'Exists'";
/// validateOnlyAddedTolerations
pub const TOLERATION_MODIFIED: &str =
    "existing toleration can not be modified except its tolerationSeconds";
/// ValidateNodeSelectorRequirement
pub const SELECTOR_VALUES_IN: &str = "must be specified when `operator` is 'In' or 'NotIn'";
/// ValidateNodeSelectorRequirement
pub const SELECTOR_VALUES_EXISTS: &str =
    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'";
/// ValidateNodeSelectorRequirement
pub const SELECTOR_VALUES_GT: &str =
    "must be specified single value when `operator` is 'Lt' or 'Gt'";
/// ValidateNodeSelectorRequirement
pub const NOT_A_SELECTOR_OPERATOR: &str = "not a valid selector operator";
/// ValidateNodeFieldSelectorRequirement
pub const FIELD_SELECTOR_ONE_VALUE: &str =
    "must be only one value when `operator` is 'In' or 'NotIn' for node field selector";
/// ValidateNodeFieldSelectorRequirement
pub const NOT_A_FIELD_SELECTOR_KEY: &str = "not a valid field selector key";
/// ValidateNodeSelector
pub const NODE_SELECTOR_TERM_REQUIRED: &str = "must have at least one node selector term";
/// ValidatePreferredSchedulingTerms / validateWeightedPodAffinityTerms
pub const WEIGHT_RANGE: &str = "must be in the range 1-100";
/// validatePodAffinityTerm / ValidateTopologyKey
pub const CAN_NOT_BE_EMPTY: &str = "can not be empty";
/// Pod (anti-)affinity terms' matchLabelKeys / mismatchLabelKeys.
pub const LABEL_KEYS_WITHOUT_SELECTOR: &str = "must not be specified when labelSelector is not set";
pub const MATCH_LABEL_KEYS_IN_SELECTOR: &str = "exists in both matchLabelKeys and labelSelector";
pub const MATCH_LABEL_KEYS_IN_MISMATCH: &str =
    "exists in both matchLabelKeys and mismatchLabelKeys";
/// validatePodDNSConfig
pub const DNS_CONFIG_REQUIRED: &str = "must provide `dnsConfig` when `dnsPolicy` is None";
/// validatePodDNSConfig
pub const DNS_NAMESERVER_REQUIRED: &str =
    "must provide at least one DNS nameserver when `dnsPolicy` is None";
/// ValidatePodSpecificAnnotations
pub const MIRROR_NEEDS_NODE_NAME: &str = "must set spec.nodeName if mirror pod annotation is set";
/// ValidatePodSpecificAnnotations
pub const DELETION_COST_INT32: &str = "must be a 32bit integer";
/// ValidatePodSpecificAnnotationUpdates
pub const MIRROR_REMOVE_OR_UPDATE: &str = "may not remove or update mirror pod annotation";
/// ValidatePodSpecificAnnotationUpdates
pub const MIRROR_ADD: &str = "may not add mirror pod annotation";
/// ValidateContainerUpdates
pub const ADD_OR_REMOVE_CONTAINERS: &str = "pod updates may not add or remove containers";
/// ValidatePodUpdate (activeDeadlineSeconds)
pub const DEADLINE_NOT_INCREASED: &str = "must be less than or equal to previous value";
/// ValidatePodUpdate (activeDeadlineSeconds)
pub const DEADLINE_NOT_UNSET: &str = "must not update from a positive integer to nil value";
/// validateNodeSelectorMutation
pub const NODE_SELECTOR_ADDITIONS_ONLY: &str =
    "only additions to spec.nodeSelector are allowed (no mutations or deletions)";
/// `updatablePodSpecFields` (v1.32, InPlacePodVerticalScaling off by default).
pub const UPDATABLE_POD_SPEC_FIELDS: [&str; 5] = [
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];
/// ValidatePodStatusUpdate
pub const MAY_NOT_BE_CHANGED_DIRECTLY: &str = "may not be changed directly";
/// ValidateContainerStateTransition
pub const NON_TERMINATED_TRANSITION: &str = "may not be transitioned to non-terminated state";
/// validateHostIPs
pub const HOST_IP_MISMATCH: &str = "must be equal to `hostIP`";
/// validatePodIPs / validateHostIPs
pub const ONE_IP_PER_FAMILY: &str = "may specify no more than one IP for each IP family";

/// `pod updates may not change fields other than …` (the diff follows on the next line).
pub fn pod_updates_forbidden() -> String {
    format!(
        "pod updates may not change fields other than {}",
        UPDATABLE_POD_SPEC_FIELDS.join(",")
    )
}

/// validateResourceRequirements: request above limit.
pub fn request_above_limit(resource: &str, limit: &str) -> String {
    format!("must be less than or equal to {resource} limit of {limit}")
}

/// validateResourceRequirements: non-overcommittable request differs from limit.
pub fn request_not_equal_limit(resource: &str, limit: &str) -> String {
    format!("must be equal to {resource} limit of {limit}")
}

/// validateObjectFieldSelector
pub fn field_path_conversion_error(detail: &str) -> String {
    format!("error converting fieldPath: {detail}")
}

/// validateOnlyDeletedSchedulingGates
pub fn new_scheduling_gate(gate: &str) -> String {
    format!("only deletion is allowed, but found new scheduling gate '{gate}'")
}

/// ValidateNoNewFinalizers
pub fn no_new_finalizers(list: &str) -> String {
    format!(
        "no new finalizers can be added if the object is being deleted, found new finalizers {list}"
    )
}

// --- nodes, namespaces, events, leases -----------------------------------------------------

/// validateNodeTaints: duplicate detail.
pub const TAINTS_UNIQUE: &str = "taints must be unique by key and effect pair";
/// ValidateNodeUpdate
pub const POD_CIDR_CHANGE: &str = "node updates may not change podCIDR except from \"\" to valid";
/// ValidateNodeUpdate
pub const PROVIDER_ID_CHANGE: &str =
    "node updates may not change providerID except from \"\" to valid";
/// ValidateNode
pub const ONE_CIDR_PER_FAMILY: &str = "may specify no more than one CIDR for each IP family";
/// ValidateNamespaceStatusUpdate
pub const NAMESPACE_ACTIVE_ONLY: &str = "may only be 'Active' if `deletionTimestamp` is empty";
/// ValidateNamespaceStatusUpdate
pub const NAMESPACE_TERMINATING_ONLY: &str =
    "may only be 'Terminating' if `deletionTimestamp` is not empty";
/// legacyValidateEvent
pub const EVENT_NAMESPACE_MISMATCH: &str = "does not match event.namespace";
/// ValidateLeaseSpec
pub const PREFERRED_HOLDER_NEEDS_STRATEGY: &str = "may only be specified if `strategy` is defined";

/// legacyValidateEvent: length limits.
pub fn at_most_characters(n: usize) -> String {
    format!("can have at most {n} characters")
}

// --- apimachinery/pkg/api/validation/path ---------------------------------------------------

/// IsValidPathSegmentName
pub fn may_not_be(name: &str) -> String {
    format!("may not be '{name}'")
}

/// IsValidPathSegmentName
pub fn may_not_contain(part: &str) -> String {
    format!("may not contain '{part}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_messages() {
        assert_eq!(
            regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"]
            ),
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \
             '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or \
             '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        );
        assert_eq!(
            regex_error("m", "f", &[]),
            "m (regex used for validation is 'f')"
        );
        assert_eq!(max_len_error(63), "must be no more than 63 characters");
        assert_eq!(
            inclusive_range_error(1, 65535),
            "must be between 1 and 65535, inclusive"
        );
        assert!(pod_updates_forbidden().starts_with(
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
        ));
        assert_eq!(
            request_above_limit("cpu", "1"),
            "must be less than or equal to cpu limit of 1"
        );
        assert_eq!(
            request_not_equal_limit("x/y", "1"),
            "must be equal to x/y limit of 1"
        );
        assert_eq!(may_not_be(".."), "may not be '..'");
        assert_eq!(may_not_contain("/"), "may not contain '/'");
        assert_eq!(at_most_characters(128), "can have at most 128 characters");
        assert_eq!(
            new_scheduling_gate("g"),
            "only deletion is allowed, but found new scheduling gate 'g'"
        );
        assert_eq!(
            field_path_conversion_error("x"),
            "error converting fieldPath: x"
        );
        assert_eq!(
            no_new_finalizers("[]string{\"a\"}"),
            "no new finalizers can be added if the object is being deleted, found new finalizers []string{\"a\"}"
        );
    }
}
