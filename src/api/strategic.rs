//! Strategic merge patch (`application/strategic-merge-patch+json`), the server side: applying a
//! patch to a stored object, as `kubectl apply`, `kubectl patch` and `kubectl set image` need.
//!
//! This module owns [`apply`]: the port of `StrategicMergeMapPatch` from
//! `k8s.io/apimachinery/pkg/util/strategicpatch/patch.go` (`mergeMap`, `mergeSlice`,
//! `mergePatchIntoOriginal`, `applyRetainKeysDirective` and their helpers) with the server-side
//! options the API server uses (`MergeParallelList: true`, `IgnoreUnmatchedNulls: true`), and the
//! error texts of `k8s.io/apimachinery/pkg/util/mergepatch/errors.go`.
//!
//! # Semantics
//!
//! * Maps merge recursively; a `null` value deletes the key.
//! * A list field that declares `patchStrategy:"merge"` with a `patchMergeKey` merges element by
//!   element on that key: matching elements merge recursively, new ones are appended, an element
//!   `{"$patch": "delete", <key>: v}` removes every element with that key, and an element
//!   `{"$patch": "replace"}` makes the rest of the patch list replace the list.
//! * A merge list without a merge key (a list of strings, such as `metadata.finalizers`) merges as
//!   a set; `$deleteFromPrimitiveList/<field>` removes values from it.
//! * Every other list is replaced.
//! * `$setElementOrder/<field>` gives the final order of a merged list: the listed elements in that
//!   order, interleaved with server-only elements as Kubernetes' `mergeSortedSlice` does.
//! * `$retainKeys` (sent by kubectl for `patchStrategy:"merge,retainKeys"` fields, that is
//!   `spec.volumes[*]` and `spec.resourceClaims[*]` of a Pod) drops the keys of the original map
//!   that it does not list. As in Kubernetes it is honoured in any map of the patch.
//! * `{"$patch": "replace"}` in a map replaces that map, `{"$patch": "delete"}` empties it.
//!   `$patch: merge` is the default and, as in Kubernetes, is an error when spelled out.
//!
//! # Patch metadata
//!
//! Merge keys and strategies are the Go struct tags `patchStrategy` / `patchMergeKey` of
//! `k8s.io/api/core/v1/types.go` and `k8s.io/apimachinery/pkg/apis/meta/v1/types.go`
//! (Kubernetes 1.32), encoded as a static table keyed by the field's JSON path (`[]` stands for
//! "every element of the list"). Every field listed is `patchStrategy:"merge"`:
//!
//! | kind | path | merge key |
//! |---|---|---|
//! | all five | `metadata.ownerReferences` | `uid` |
//! | all five | `metadata.finalizers` | (set of strings) |
//! | Pod | `spec.volumes` | `name` (+ `retainKeys`) |
//! | Pod | `spec.volumes[].ephemeral.volumeClaimTemplate.metadata.ownerReferences` | `uid` |
//! | Pod | `spec.volumes[].ephemeral.volumeClaimTemplate.metadata.finalizers` | (set of strings) |
//! | Pod | `spec.initContainers`, `spec.containers`, `spec.ephemeralContainers` | `name` |
//! | Pod | `spec.{initContainers,containers,ephemeralContainers}[].ports` | `containerPort` |
//! | Pod | `spec.{initContainers,containers,ephemeralContainers}[].env` | `name` |
//! | Pod | `spec.{initContainers,containers,ephemeralContainers}[].volumeMounts` | `mountPath` |
//! | Pod | `spec.{initContainers,containers,ephemeralContainers}[].volumeDevices` | `devicePath` |
//! | Pod | `spec.imagePullSecrets` | `name` |
//! | Pod | `spec.hostAliases` | `ip` |
//! | Pod | `spec.topologySpreadConstraints` | `topologyKey` |
//! | Pod | `spec.schedulingGates` | `name` |
//! | Pod | `spec.resourceClaims` | `name` (+ `retainKeys`) |
//! | Pod | `status.conditions` | `type` |
//! | Pod | `status.hostIPs`, `status.podIPs` | `ip` |
//! | Pod | `status.resourceClaimStatuses` | `name` (+ `retainKeys`) |
//! | Node | `spec.podCIDRs` | (set of strings) |
//! | Node | `status.conditions`, `status.addresses` | `type` |
//! | Namespace | `status.conditions` | `type` |
//!
//! Everything else is replaced, notably `spec.tolerations`, `spec.readinessGates`,
//! `containers[].envFrom`, `command`, `args`, `resizePolicy`, `resources.claims`, Node
//! `spec.taints`, `status.images`, Namespace `spec.finalizers`, `metadata.managedFields` and the
//! `status.*containerStatuses` lists (their nested tags, `volumeMounts` by `mountPath` and
//! `allocatedResourcesStatus` by `name`, can never apply because the parent list is atomic, so
//! they are not encoded). Event and Lease have no list fields besides metadata. For any other
//! kind the table is empty: maps merge, lists are replaced, directives still work.
//!
//! # Deliberate differences from Go
//!
//! Go leaves some directives and `null`s in values it copies wholesale (a field absent from the
//! original, a replaced list, a `$patch: replace` map) and relies on decoding into typed structs
//! to drop them. kubox stores JSON, so here those values are cleaned instead: `null` map entries,
//! `$retainKeys`, `$setElementOrder/*`, `$deleteFromPrimitiveList/*` keys and list elements
//! carrying `$patch` are removed, and a `{"$patch": "delete"}` map becomes `{}`. A
//! `$setElementOrder` list whose field is absent from the original is merged into an empty list
//! rather than copied raw. Where Go would panic (maps used as set members or merge-key values,
//! `null` list elements) this module compares JSON values or returns an error. Merge keys are
//! looked up by path only: a field unknown to the Go structs gets the default semantics instead of
//! Go's `unable to find api field` error.
//!
//! # Left out
//!
//! Creating patches (`CreateTwoWayMergePatch`, `CreateThreeWayMergePatch`, conflict detection:
//! kubectl does that), OpenAPI-driven metadata for custom resources (the API server answers 415
//! to a strategic merge patch on a custom resource), strict decoding of the patch body, and what
//! the API server does after the merge (typed decoding, defaulting, validation, managed fields).

use std::fmt::Write as _;

use serde_json::{Map, Value};

type JsonMap = Map<String, Value>;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

const GO_MAP: &str = "map[string]interface {}";
const GO_SLICE: &str = "[]interface {}";
/// The Go element type of every merge list without a merge key in the table (all are `[]string`).
const GO_PRIMITIVE_ELEMENT: &str = "string";

/// Why a strategic merge patch could not be applied. The messages are Kubernetes' own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StrategicPatchError {
    /// A list element lacks the merge key (`mergepatch.ErrNoMergeKey`).
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey { map: String, key: String },
    /// A value has the wrong JSON type (`mergepatch.ErrBadArgType`); the types are Go's names.
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        expected: &'static str,
        actual: &'static str,
    },
    /// A `$patch` value that is not allowed there (`mergepatch.ErrBadPatchType`).
    #[error("unknown patch type: {directive} in map: {map}")]
    BadPatchType { directive: String, map: String },
    /// A malformed `$deleteFromPrimitiveList/...` key.
    #[error("invalid patch format of primitive list")]
    BadPatchFormatForPrimitiveList,
    /// A `$retainKeys` that is not a list, or that misses a key the patch sets.
    #[error("invalid patch format of retainKeys")]
    BadPatchFormatForRetainKeys,
    /// A malformed `$setElementOrder...` key.
    #[error("invalid patch format of setElementOrder list")]
    BadPatchFormatForSetElementOrderList,
    /// A list whose elements are lists.
    #[error("lists of lists are not supported")]
    NoListOfLists,
    /// The patch list is not a subsequence of its `$setElementOrder` list.
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n")]
    SetElementOrderMismatch { patch: String, order: String },
    /// A list mixes element types.
    #[error("list element types are not identical: {0}")]
    ListElementTypesDiffer(String),
    /// `$setElementOrder` for a list that is empty on both sides.
    #[error("no elements in any of the given slices")]
    NoListElements,
    /// Maps sent for a merge list that has no merge key (a set of strings).
    #[error("cannot merge lists without merge key for {0}")]
    NoMergeKeyDeclared(&'static str),
    /// `{"$patch": "merge"}` as a list element.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// A list that should hold maps holds something else at this index.
    #[error("value for key {0} is not a map")]
    ListElementNotAMap(usize),
    /// The patch body is not a JSON object.
    #[error("json: cannot unmarshal {0} into Go value of type map[string]interface {{}}")]
    PatchNotAnObject(&'static str),
}

impl StrategicPatchError {
    /// The HTTP status the Kubernetes API server answers with (`interpretStrategicMergePatchError`
    /// in `k8s.io/apiserver/pkg/endpoints/handlers/patch.go`): 400 (reason `BadRequest`) for a
    /// malformed patch, 422 for lists of lists, and 500 with the bare message (reason empty,
    /// which kubectl prints as `Error from server: <message>`) for everything else.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadPatchFormatForPrimitiveList
            | Self::BadPatchFormatForRetainKeys
            | Self::BadPatchFormatForSetElementOrderList
            | Self::PatchNotAnObject(_) => 400,
            Self::NoListOfLists => 422,
            _ => 500,
        }
    }
}

/// Applies the strategic merge patch `patch` to `original`, an object of kind `kind` (`"Pod"`,
/// `"Node"`, `"Namespace"`, `"Event"`, `"Lease"`; any other kind merges maps and replaces lists),
/// and returns the patched object. Neither input is modified.
///
/// A `null` patch changes nothing and a `null` original counts as `{}`, as in Go.
pub fn apply(kind: &str, original: &Value, patch: &Value) -> Result<Value, StrategicPatchError> {
    let patch = match patch {
        Value::Object(patch) => patch.clone(),
        Value::Null => return Ok(original.clone()),
        other => return Err(StrategicPatchError::PatchNotAnObject(json_type_name(other))),
    };
    let original = match original {
        Value::Object(original) => original.clone(),
        Value::Null => JsonMap::new(),
        other => return Err(bad_arg_type(GO_MAP, other)),
    };
    let patcher = Patcher {
        tables: tables_for(kind),
    };
    patcher.merge_map(original, patch, &[]).map(Value::Object)
}

// ---------------------------------------------------------------------------------------------
// Patch metadata
// ---------------------------------------------------------------------------------------------

/// A list field declared `patchStrategy:"merge"` (optionally `"merge,retainKeys"`).
#[derive(Debug, Clone, Copy)]
struct MergeList {
    /// JSON path from the object root; `[]` marks the elements of a list.
    path: &'static str,
    /// `patchMergeKey`; empty for lists of strings, which merge as sets.
    merge_key: &'static str,
    /// Whether the tag also says `retainKeys`. Only clients use it (to build `$retainKeys`); it is
    /// kept so that the table is a faithful copy of the tags.
    #[allow(dead_code)]
    retain_keys: bool,
}

const fn merge(path: &'static str, merge_key: &'static str) -> MergeList {
    MergeList {
        path,
        merge_key,
        retain_keys: false,
    }
}

const fn merge_retain_keys(path: &'static str, merge_key: &'static str) -> MergeList {
    MergeList {
        path,
        merge_key,
        retain_keys: true,
    }
}

/// `metav1.ObjectMeta`.
const OBJECT_META: &[MergeList] = &[
    merge("metadata.ownerReferences", "uid"),
    merge("metadata.finalizers", ""),
];

/// `corev1.PodSpec`, `Container`, `EphemeralContainerCommon`, `PodStatus`.
const POD: &[MergeList] = &[
    merge_retain_keys("spec.volumes", "name"),
    merge(
        "spec.volumes[].ephemeral.volumeClaimTemplate.metadata.ownerReferences",
        "uid",
    ),
    merge(
        "spec.volumes[].ephemeral.volumeClaimTemplate.metadata.finalizers",
        "",
    ),
    merge("spec.initContainers", "name"),
    merge("spec.initContainers[].ports", "containerPort"),
    merge("spec.initContainers[].env", "name"),
    merge("spec.initContainers[].volumeMounts", "mountPath"),
    merge("spec.initContainers[].volumeDevices", "devicePath"),
    merge("spec.containers", "name"),
    merge("spec.containers[].ports", "containerPort"),
    merge("spec.containers[].env", "name"),
    merge("spec.containers[].volumeMounts", "mountPath"),
    merge("spec.containers[].volumeDevices", "devicePath"),
    merge("spec.ephemeralContainers", "name"),
    merge("spec.ephemeralContainers[].ports", "containerPort"),
    merge("spec.ephemeralContainers[].env", "name"),
    merge("spec.ephemeralContainers[].volumeMounts", "mountPath"),
    merge("spec.ephemeralContainers[].volumeDevices", "devicePath"),
    merge("spec.imagePullSecrets", "name"),
    merge("spec.hostAliases", "ip"),
    merge("spec.topologySpreadConstraints", "topologyKey"),
    merge("spec.schedulingGates", "name"),
    merge_retain_keys("spec.resourceClaims", "name"),
    merge("status.conditions", "type"),
    merge("status.hostIPs", "ip"),
    merge("status.podIPs", "ip"),
    merge_retain_keys("status.resourceClaimStatuses", "name"),
];

/// `corev1.NodeSpec`, `NodeStatus`.
const NODE: &[MergeList] = &[
    merge("spec.podCIDRs", ""),
    merge("status.conditions", "type"),
    merge("status.addresses", "type"),
];

/// `corev1.NamespaceStatus`.
const NAMESPACE: &[MergeList] = &[merge("status.conditions", "type")];

fn tables_for(kind: &str) -> &'static [&'static [MergeList]] {
    match kind {
        "Pod" => &[OBJECT_META, POD],
        "Node" => &[OBJECT_META, NODE],
        "Namespace" => &[OBJECT_META, NAMESPACE],
        "Event" | "Lease" => &[OBJECT_META],
        _ => &[],
    }
}

/// The segments of a table path: `a.b[].c` is `a`, `b`, `[]`, `c`.
fn pattern_segments(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.split('.').flat_map(|part| {
        let name = part.trim_end_matches("[]");
        let lists = (part.len() - name.len()) / 2;
        std::iter::once(name).chain(std::iter::repeat_n("[]", lists))
    })
}

fn path_matches(pattern: &str, path: &[String]) -> bool {
    let mut path = path.iter();
    pattern_segments(pattern).all(|segment| path.next().is_some_and(|p| p == segment))
        && path.next().is_none()
}

fn child_path(path: &[String], segment: &str) -> Vec<String> {
    let mut child = Vec::with_capacity(path.len() + 1);
    child.extend_from_slice(path);
    child.push(segment.to_owned());
    child
}

// ---------------------------------------------------------------------------------------------
// The merge
// ---------------------------------------------------------------------------------------------

struct Patcher {
    tables: &'static [&'static [MergeList]],
}

impl Patcher {
    fn lookup(&self, path: &[String]) -> Option<MergeList> {
        self.tables
            .iter()
            .flat_map(|table| table.iter())
            .find(|field| path_matches(field.path, path))
            .copied()
    }

    /// `mergeMap`.
    fn merge_map(
        &self,
        mut original: JsonMap,
        mut patch: JsonMap,
        path: &[String],
    ) -> Result<JsonMap, StrategicPatchError> {
        if let Some(directive) = patch.get(DIRECTIVE_MARKER).cloned() {
            return match directive.as_str() {
                Some(REPLACE_DIRECTIVE) => {
                    patch.remove(DIRECTIVE_MARKER);
                    Ok(sanitize_map(patch))
                }
                Some(DELETE_DIRECTIVE) => Ok(JsonMap::new()),
                _ => Err(bad_patch_type(&directive, &patch)),
            };
        }

        apply_retain_keys(&mut original, &mut patch)?;
        self.merge_set_element_orders(&mut original, &mut patch, path)?;

        for (key, patch_value) in patch {
            let (key, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
                let field = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
                if field.is_empty() {
                    (key, true)
                } else {
                    (field.to_owned(), true)
                }
            } else {
                (key, false)
            };

            if patch_value.is_null() {
                original.remove(&key);
                continue;
            }
            let Some(current) = original.get_mut(&key) else {
                if !is_delete_list {
                    original.insert(key, sanitize(patch_value));
                }
                continue;
            };
            if GoType::of(current) != GoType::of(&patch_value) {
                if !is_delete_list {
                    *current = sanitize(patch_value);
                }
                continue;
            }
            let field_path = child_path(path, &key);
            match (current, patch_value) {
                (Value::Object(current), Value::Object(patch_map)) => {
                    // No field of these kinds declares patchStrategy "replace" on a map.
                    *current = self.merge_map(std::mem::take(current), patch_map, &field_path)?;
                }
                (Value::Array(current), Value::Array(patch_list)) => {
                    *current = self.merge_slice_handler(
                        std::mem::take(current),
                        patch_list,
                        &field_path,
                        is_delete_list,
                    )?;
                }
                (current, patch_value) => *current = patch_value,
            }
        }
        Ok(original)
    }

    /// `mergeSliceHandler`: merge lists merge, every other list is replaced.
    fn merge_slice_handler(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        field_path: &[String],
        is_delete_list: bool,
    ) -> Result<Vec<Value>, StrategicPatchError> {
        match self.lookup(field_path) {
            Some(field) => self.merge_slice(
                original,
                patch,
                field.merge_key,
                is_delete_list,
                &child_path(field_path, "[]"),
            ),
            None => Ok(sanitize_list(patch)),
        }
    }

    /// `mergeSlice`.
    fn merge_slice(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        merge_key: &str,
        is_delete_list: bool,
        element_path: &[String],
    ) -> Result<Vec<Value>, StrategicPatchError> {
        if original.is_empty() && patch.is_empty() {
            return Ok(original);
        }
        let kind = slice_element_type(&[&original, &patch])?;

        let (merged, server_order, patch) = if kind != GoType::Map {
            if is_delete_list {
                return Ok(delete_from_slice(original, &patch));
            }
            let merged = deduplicate(original.iter().chain(&patch).cloned());
            (merged, original, patch)
        } else {
            if merge_key.is_empty() {
                return Err(StrategicPatchError::NoMergeKeyDeclared(
                    GO_PRIMITIVE_ELEMENT,
                ));
            }
            let (original, patch) = merge_slice_with_special_elements(original, patch, merge_key)?;
            let merged = self.merge_slice_without_special_elements(
                original.clone(),
                patch.clone(),
                merge_key,
                element_path,
            )?;
            (merged, original, patch)
        };

        let (patch_items, server_only) = partition(merged, &patch, merge_key)?;
        normalize_element_order(
            patch_items,
            server_only,
            &patch,
            &server_order,
            merge_key,
            kind,
        )
    }

    /// `mergeSliceWithoutSpecialElements`.
    fn merge_slice_without_special_elements(
        &self,
        mut original: Vec<Value>,
        patch: Vec<Value>,
        merge_key: &str,
        element_path: &[String],
    ) -> Result<Vec<Value>, StrategicPatchError> {
        for element in patch {
            let Value::Object(element) = element else {
                return Err(bad_arg_type(GO_MAP, &element));
            };
            let Some(merge_value) = element.get(merge_key) else {
                return Err(no_merge_key(&element, merge_key));
            };
            match find_map_by_key(&original, merge_key, merge_value)? {
                Some(index) => {
                    if let Some(Value::Object(target)) = original.get_mut(index) {
                        *target = self.merge_map(std::mem::take(target), element, element_path)?;
                    }
                }
                None => original.push(sanitize(Value::Object(element))),
            }
        }
        Ok(original)
    }

    /// `mergePatchIntoOriginal`: processes every `$setElementOrder/<field>` of `patch` together
    /// with `<field>`, and removes both from `patch`.
    fn merge_set_element_orders(
        &self,
        original: &mut JsonMap,
        patch: &mut JsonMap,
        path: &[String],
    ) -> Result<(), StrategicPatchError> {
        let keys: Vec<String> = patch
            .keys()
            .filter(|key| key.starts_with(SET_ELEMENT_ORDER_PREFIX))
            .cloned()
            .collect();
        for key in keys {
            let Some(order) = patch.remove(&key) else {
                continue;
            };
            let order = match order {
                Value::Array(order) => order,
                other => return Err(bad_arg_type(GO_SLICE, &other)),
            };
            let field = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?.to_owned();
            let original_list = list_field(original, &field)?;
            let patch_list = list_field(patch, &field)?;

            let field_path = child_path(path, &field);
            let merge_key = self.lookup(&field_path).map_or("", |field| field.merge_key);
            validate_patch_with_set_order_list(
                patch_list.as_deref().unwrap_or_default(),
                &order,
                merge_key,
            )?;

            let original_items = original_list.clone().unwrap_or_default();
            let patch_items = patch_list.clone().unwrap_or_default();
            let merged = match (original_list, patch_list) {
                (Some(original_list), None) => original_list,
                (None, Some(patch_list)) => {
                    self.merge_slice_handler(Vec::new(), patch_list, &field_path, false)?
                }
                (Some(original_list), Some(patch_list)) => {
                    self.merge_slice_handler(original_list, patch_list, &field_path, false)?
                }
                (None, None) => continue,
            };

            let (in_order, server_only) = partition(merged, &order, merge_key)?;
            let kind = slice_element_type(&[&original_items, &patch_items])?;
            let ordered = normalize_element_order(
                in_order,
                server_only,
                &order,
                &original_items,
                merge_key,
                kind,
            )?;
            original.insert(field.clone(), Value::Array(ordered));
            patch.remove(&field);
        }
        Ok(())
    }
}

/// The list at `field` of `map`, if any (`ErrBadArgType` if it is not a list).
fn list_field(map: &JsonMap, field: &str) -> Result<Option<Vec<Value>>, StrategicPatchError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Array(list)) => Ok(Some(list.clone())),
        Some(other) => Err(bad_arg_type(GO_SLICE, other)),
    }
}

/// `extractKey`: the field name after `<prefix>/`.
fn extract_key<'a>(key: &'a str, prefix: &str) -> Result<&'a str, StrategicPatchError> {
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Ok(field),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX => {
            Err(StrategicPatchError::BadPatchFormatForPrimitiveList)
        }
        _ => Err(StrategicPatchError::BadPatchFormatForSetElementOrderList),
    }
}

/// `applyRetainKeysDirective` (server side).
fn apply_retain_keys(
    original: &mut JsonMap,
    patch: &mut JsonMap,
) -> Result<(), StrategicPatchError> {
    let Some(retain) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(StrategicPatchError::BadPatchFormatForRetainKeys);
    };
    let retained = |key: &str| retain.iter().any(|v| v.as_str() == Some(key));
    for (key, value) in patch.iter() {
        if value.is_null()
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !retained(key) {
            return Err(StrategicPatchError::BadPatchFormatForRetainKeys);
        }
    }
    original.retain(|key, _| retained(key));
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch list must be a subsequence of the order list.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<(), StrategicPatchError> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete = if merge_key.is_empty() {
        patch_list.to_vec()
    } else {
        extract_to_delete_items(patch_list.to_vec())?.0
    };
    let (mut patch_index, mut order_index) = (0, 0);
    while let (Some(item), Some(ordered)) = (non_delete.get(patch_index), order.get(order_index)) {
        if contains_directive_marker(item) {
            patch_index += 1;
            continue;
        }
        if merge_key_value_equal(item, ordered, merge_key)? {
            patch_index += 1;
        }
        order_index += 1;
    }
    if patch_index < non_delete.len() && order_index >= order.len() {
        return Err(StrategicPatchError::SetElementOrderMismatch {
            patch: go_v(&Value::Array(patch_list.to_vec())),
            order: go_v(&Value::Array(order.to_vec())),
        });
    }
    Ok(())
}

/// `mergeSliceWithSpecialElements`: applies `$patch: delete` elements to `original` and, with a
/// `$patch: replace` element, makes the rest of the patch the new list. Returns the updated
/// original and the patch without special elements.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), StrategicPatchError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for element in patch {
        let Value::Object(map) = &element else {
            return Err(bad_arg_type(GO_MAP, &element));
        };
        let Some(directive) = map.get(DIRECTIVE_MARKER) else {
            plain.push(element);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let Some(merge_value) = map.get(merge_key) else {
                    return Err(no_merge_key(map, merge_key));
                };
                while let Some(index) = find_map_by_key(&original, merge_key, merge_value)? {
                    original.remove(index);
                }
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => return Err(StrategicPatchError::MergeDirectiveInList),
            _ => return Err(bad_patch_type(directive, map)),
        }
    }
    if replace {
        return Ok((sanitize_list(plain), Vec::new()));
    }
    Ok((original, plain))
}

/// `findMapInSliceBasedOnKeyValue`: the index of the first map whose `key` equals `value`.
fn find_map_by_key(
    list: &[Value],
    key: &str,
    value: &Value,
) -> Result<Option<usize>, StrategicPatchError> {
    for (index, element) in list.iter().enumerate() {
        let Value::Object(map) = element else {
            return Err(StrategicPatchError::ListElementNotAMap(index));
        };
        if map.get(key) == Some(value) {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

/// `deleteFromSlice`.
fn delete_from_slice(current: Vec<Value>, to_delete: &[Value]) -> Vec<Value> {
    current
        .into_iter()
        .filter(|value| !to_delete.contains(value))
        .collect()
}

/// Set union of scalars, first occurrence kept.
fn deduplicate(values: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut unique: Vec<Value> = Vec::new();
    for value in values {
        if !unique.contains(&value) {
            unique.push(value);
        }
    }
    unique
}

/// `extractToDeleteItems`: splits off the `$patch: delete` elements.
fn extract_to_delete_items(
    list: Vec<Value>,
) -> Result<(Vec<Value>, Vec<Value>), StrategicPatchError> {
    let mut keep = Vec::with_capacity(list.len());
    let mut delete = Vec::new();
    for element in list {
        let Value::Object(map) = &element else {
            return Err(bad_arg_type(GO_MAP, &element));
        };
        if map.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(element);
        } else {
            keep.push(element);
        }
    }
    Ok((keep, delete))
}

fn contains_directive_marker(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| map.contains_key(DIRECTIVE_MARKER))
}

/// `mergeKeyValueEqual`.
fn merge_key_value_equal(
    left: &Value,
    right: &Value,
    merge_key: &str,
) -> Result<bool, StrategicPatchError> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let Value::Object(left) = left else {
        return Err(bad_arg_type(GO_MAP, left));
    };
    let Value::Object(right) = right else {
        return Err(bad_arg_type(GO_MAP, right));
    };
    let Some(left_value) = left.get(merge_key) else {
        return Err(no_merge_key(left, merge_key));
    };
    let Some(right_value) = right.get(merge_key) else {
        return Err(no_merge_key(right, merge_key));
    };
    Ok(left_value == right_value)
}

/// `partitionPrimitivesByPresentInList` / `partitionMapsByPresentInList`: the items of `merged`
/// that `by` mentions, and the others (server-only items).
fn partition(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), StrategicPatchError> {
    let mut mentioned = Vec::with_capacity(merged.len());
    let mut server_only = Vec::new();
    for item in merged {
        let found = if merge_key.is_empty() {
            by.contains(&item)
        } else {
            let Value::Object(map) = &item else {
                return Err(bad_arg_type(GO_MAP, &item));
            };
            let Some(value) = map.get(merge_key) else {
                return Err(no_merge_key(map, merge_key));
            };
            find_map_by_key(by, merge_key, value)?.is_some()
        };
        if found {
            mentioned.push(item);
        } else {
            server_only.push(item);
        }
    }
    Ok((mentioned, server_only))
}

/// `normalizeElementOrder`: sorts the patch items by `patch_order` and the server-only items by
/// `server_order`, then interleaves them.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>, StrategicPatchError> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// `normalizeSliceOrder`: a stable sort by position in `order`; `$patch: delete` items go last.
///
/// Go sorts with a comparator that answers "less" whenever an item is missing from `order`; in
/// every call this module makes all items are present, where that comparator and this sort key
/// agree. Missing items would sort last here.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>, StrategicPatchError> {
    let (mut to_sort, to_delete) = if kind == GoType::Map {
        validate_merge_key_in_lists(merge_key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    to_sort.sort_by_key(|item| index_of(order, item, merge_key, kind).unwrap_or(usize::MAX));
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// `validateMergeKeyInLists`.
fn validate_merge_key_in_lists(
    merge_key: &str,
    lists: &[&[Value]],
) -> Result<(), StrategicPatchError> {
    for item in lists.iter().flat_map(|list| list.iter()) {
        let Value::Object(map) = item else {
            return Err(bad_arg_type(GO_MAP, item));
        };
        if !map.contains_key(merge_key) {
            return Err(no_merge_key(map, merge_key));
        }
    }
    Ok(())
}

/// `mergeSortedSlice`: inserts the (sorted) server-only items `left` into the (sorted) patch
/// items `right`, keeping the relative order of both; an item of `left` goes before an item of
/// `right` only when both appear in `server_order` and it comes first there.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Vec<Value> {
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                match (
                    index_of(server_order, l, merge_key, kind),
                    index_of(server_order, r, merge_key, kind),
                ) {
                    (Some(li), Some(ri)) => li < ri,
                    _ => false,
                }
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        merged.extend(next);
    }
    merged
}

/// `index`: the position of `item` in `list`, by merge key for maps and by value otherwise.
fn index_of(list: &[Value], item: &Value, merge_key: &str, kind: GoType) -> Option<usize> {
    if kind == GoType::Map {
        // Go reads a missing key, an explicit null and a non-map alike as nil.
        let key_of = |value: &Value| {
            value
                .as_object()
                .and_then(|map| map.get(merge_key))
                .filter(|key| !key.is_null())
                .cloned()
        };
        let wanted = key_of(item);
        list.iter()
            .position(|candidate| key_of(candidate) == wanted)
    } else {
        list.iter().position(|candidate| candidate == item)
    }
}

/// `sliceElementType`: the common Go type of the elements of all `lists`.
fn slice_element_type(lists: &[&[Value]]) -> Result<GoType, StrategicPatchError> {
    let mut previous: Option<GoType> = None;
    for value in lists.iter().flat_map(|list| list.iter()) {
        let current = GoType::of(value);
        match previous {
            None if current == GoType::Slice => return Err(StrategicPatchError::NoListOfLists),
            None => previous = Some(current),
            Some(previous) if previous != current => {
                let lists = lists
                    .iter()
                    .map(|list| Value::Array(list.to_vec()))
                    .collect();
                return Err(StrategicPatchError::ListElementTypesDiffer(go_v(
                    &Value::Array(lists),
                )));
            }
            Some(_) => {}
        }
    }
    previous.ok_or(StrategicPatchError::NoListElements)
}

// ---------------------------------------------------------------------------------------------
// Cleaning values that are copied wholesale
// ---------------------------------------------------------------------------------------------

/// Removes what Go would leave for the typed decoder to drop: `null` map entries, directive keys,
/// and list elements that carry `$patch`.
fn sanitize(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(sanitize_map(map)),
        Value::Array(list) => Value::Array(sanitize_list(list)),
        other => other,
    }
}

fn sanitize_map(mut map: JsonMap) -> JsonMap {
    if map.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
        return JsonMap::new();
    }
    map.remove(DIRECTIVE_MARKER);
    map.remove(RETAIN_KEYS_DIRECTIVE);
    map.into_iter()
        .filter(|(key, value)| {
            !value.is_null()
                && !key.starts_with(SET_ELEMENT_ORDER_PREFIX)
                && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
        })
        .map(|(key, value)| (key, sanitize(value)))
        .collect()
}

fn sanitize_list(list: Vec<Value>) -> Vec<Value> {
    list.into_iter()
        .filter(|element| !contains_directive_marker(element))
        .map(sanitize)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Go's types and formatting, for faithful error messages
// ---------------------------------------------------------------------------------------------

/// The Go type a JSON value decodes to in the API server (`int64` for integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoType {
    Nil,
    Bool,
    Int,
    Float,
    String,
    Slice,
    Map,
}

impl GoType {
    fn of(value: &Value) -> Self {
        match value {
            Value::Null => Self::Nil,
            Value::Bool(_) => Self::Bool,
            Value::Number(number) if number.is_i64() => Self::Int,
            Value::Number(_) => Self::Float,
            Value::String(_) => Self::String,
            Value::Array(_) => Self::Slice,
            Value::Object(_) => Self::Map,
        }
    }

    /// `reflect.TypeOf(v)` printed with `%s`.
    fn name(self) -> &'static str {
        match self {
            Self::Nil => "%!s(<nil>)",
            Self::Bool => "bool",
            Self::Int => "int64",
            Self::Float => "float64",
            Self::String => "string",
            Self::Slice => GO_SLICE,
            Self::Map => GO_MAP,
        }
    }
}

/// The JSON type name Go's decoder reports.
fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn bad_arg_type(expected: &'static str, actual: &Value) -> StrategicPatchError {
    StrategicPatchError::BadArgType {
        expected,
        actual: GoType::of(actual).name(),
    }
}

fn no_merge_key(map: &JsonMap, key: &str) -> StrategicPatchError {
    StrategicPatchError::NoMergeKey {
        map: go_v(&Value::Object(map.clone())),
        key: key.to_owned(),
    }
}

fn bad_patch_type(directive: &Value, map: &JsonMap) -> StrategicPatchError {
    let mut text = String::new();
    write_go(directive, Verb::S, &mut text);
    StrategicPatchError::BadPatchType {
        directive: text,
        map: go_v(&Value::Object(map.clone())),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    /// `%v`
    V,
    /// `%s`
    S,
}

/// A value as Go's `fmt` prints it with `%v`: `map[a:1 b:[x y]]`.
fn go_v(value: &Value) -> String {
    let mut text = String::new();
    write_go(value, Verb::V, &mut text);
    text
}

fn write_go(value: &Value, verb: Verb, out: &mut String) {
    match value {
        Value::Null => out.push_str(if verb == Verb::V {
            "<nil>"
        } else {
            "%!s(<nil>)"
        }),
        Value::Bool(b) => match verb {
            Verb::V => out.push_str(if *b { "true" } else { "false" }),
            Verb::S => {
                let _ = write!(out, "%!s(bool={b})");
            }
        },
        Value::Number(number) => {
            let (go_type, text) = match number.as_i64() {
                Some(int) => ("int64", int.to_string()),
                None => ("float64", go_float(number.as_f64().unwrap_or(f64::NAN))),
            };
            match verb {
                Verb::V => out.push_str(&text),
                Verb::S => {
                    let _ = write!(out, "%!s({go_type}={text})");
                }
            }
        }
        Value::String(s) => out.push_str(s),
        Value::Array(list) => {
            out.push('[');
            for (i, element) in list.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go(element, verb, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("map[");
            for (i, (key, element)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                write_go(element, verb, out);
            }
            out.push(']');
        }
    }
}

/// A float64 as Go's `%v` prints it (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits,
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`, `1.5e-07`).
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: Vec<char> = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if digits.iter().all(|d| *d == '0') {
        out.push('0');
        return out;
    }
    if !(-4..6).contains(&exponent) {
        let mut rest = digits.iter();
        out.extend(rest.next());
        if digits.len() > 1 {
            out.push('.');
            out.extend(rest);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.unsigned_abs()
        );
    } else if exponent < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            exponent.unsigned_abs() as usize - 1,
        ));
        out.extend(digits.iter());
    } else {
        let integer_digits = exponent.unsigned_abs() as usize + 1;
        out.extend(digits.iter().take(integer_digits));
        out.extend(std::iter::repeat_n(
            '0',
            integer_digits.saturating_sub(digits.len()),
        ));
        if digits.len() > integer_digits {
            out.push('.');
            out.extend(digits.iter().skip(integer_digits));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1 as corev1;
    use serde_json::json;

    fn pod(value: &Value) -> corev1::Pod {
        serde_json::from_value(value.clone()).expect("result decodes as a v1.Pod")
    }

    /// A container as the API server stores it after defaulting.
    fn defaulted_container(name: &str, image: &str) -> Value {
        json!({
            "name": name,
            "image": image,
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
        })
    }

    #[test]
    fn container_merge_by_name_keeps_server_fields() {
        let original = json!({"spec": {"containers": [
            defaulted_container("web", "nginx:1.25"),
            defaulted_container("sidecar", "busybox"),
        ]}});
        let patch = json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}});
        let result = apply("Pod", &original, &patch).unwrap();
        assert_eq!(
            result,
            json!({"spec": {"containers": [
                defaulted_container("web", "nginx:1.27"),
                defaulted_container("sidecar", "busybox"),
            ]}})
        );
    }

    #[test]
    fn set_element_order_orders_the_merged_list() {
        let original = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1"},
            {"name": "b", "image": "b:1"},
            {"name": "c", "image": "c:1"},
        ]}});
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
            "containers": [{"name": "a", "image": "a:2"}],
        }});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"spec": {"containers": [
                {"name": "c", "image": "c:1"},
                {"name": "a", "image": "a:2"},
                {"name": "b", "image": "b:1"},
            ]}})
        );

        // A new element lands where $setElementOrder puts it, not at the end.
        let original = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "new"}, {"name": "b"}],
            "containers": [{"name": "new", "image": "x"}],
        }});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"spec": {"containers": [
                {"name": "a"}, {"name": "new", "image": "x"}, {"name": "b"},
            ]}})
        );
    }

    #[test]
    fn server_only_elements_are_interleaved_like_kubernetes() {
        // "s" is unknown to the patch; mergeSortedSlice keeps it before "b" as in the live list.
        let original =
            json!({"spec": {"containers": [{"name": "a"}, {"name": "s"}, {"name": "b"}]}});
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "b", "image": "b:2"}],
        }});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"spec": {"containers": [
                {"name": "s"}, {"name": "b", "image": "b:2"}, {"name": "a"},
            ]}})
        );
    }

    #[test]
    fn patch_delete_removes_a_container() {
        let original = json!({"spec": {"containers": [
            defaulted_container("web", "nginx"),
            defaulted_container("sidecar", "busybox"),
        ]}});
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "web"}],
            "containers": [{"$patch": "delete", "name": "sidecar"}],
        }});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"spec": {"containers": [defaulted_container("web", "nginx")]}})
        );
    }

    #[test]
    fn null_deletes_a_label() {
        let original =
            json!({"metadata": {"name": "p", "labels": {"app": "nginx", "tier": "web"}}});
        let patch = json!({"metadata": {"labels": {"tier": null, "absent": null}}});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"metadata": {"name": "p", "labels": {"app": "nginx"}}})
        );
    }

    #[test]
    fn env_merges_by_name() {
        let original = json!({"spec": {"containers": [{"name": "app", "env": [
            {"name": "A", "value": "1"},
            {"name": "B", "value": "2"},
            {"name": "C", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
        ]}]}});
        // What kubectl sends after: A changed, B removed, D added (last-applied had A, B, C).
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [{
                "$setElementOrder/env": [{"name": "A"}, {"name": "C"}, {"name": "D"}],
                "env": [
                    {"name": "A", "value": "10"},
                    {"name": "D", "value": "4"},
                    {"$patch": "delete", "name": "B"},
                ],
                "name": "app",
            }],
        }});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"spec": {"containers": [{"name": "app", "env": [
                {"name": "A", "value": "10"},
                {"name": "C", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "D", "value": "4"},
            ]}]}})
        );
    }

    #[test]
    fn ports_merge_by_container_port() {
        let original = json!({"spec": {"containers": [{"name": "web", "ports": [
            {"containerPort": 80, "protocol": "TCP", "name": "http"},
            {"containerPort": 9090, "protocol": "TCP"},
        ]}]}});
        let patch = json!({"spec": {"containers": [{
            "name": "web",
            "$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 443}, {"containerPort": 9090}],
            "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 443}],
        }]}});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"spec": {"containers": [{"name": "web", "ports": [
                {"containerPort": 80, "protocol": "TCP", "name": "web"},
                {"containerPort": 443},
                {"containerPort": 9090, "protocol": "TCP"},
            ]}]}})
        );
    }

    #[test]
    fn finalizers_merge_as_a_set() {
        let original = json!({"metadata": {"finalizers": ["a", "x"]}});
        let patch = json!({"metadata": {"finalizers": ["b", "a"]}});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"metadata": {"finalizers": ["b", "a", "x"]}})
        );

        // As kubectl sends it: last-applied [a], manifest [a, b], live [a, x].
        let patch =
            json!({"metadata": {"$setElementOrder/finalizers": ["a", "b"], "finalizers": ["b"]}});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"metadata": {"finalizers": ["a", "b", "x"]}})
        );
    }

    #[test]
    fn delete_from_primitive_list() {
        let original = json!({"metadata": {"finalizers": ["a", "b", "c", "b"]}});
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zzz"]}});
        assert_eq!(
            apply("Namespace", &original, &patch).unwrap(),
            json!({"metadata": {"finalizers": ["a", "c"]}})
        );
        // Deleting from an absent list does not create it.
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}});
        assert_eq!(
            apply("Namespace", &json!({"metadata": {}}), &patch).unwrap(),
            json!({"metadata": {}})
        );
        assert_eq!(
            apply(
                "Pod",
                &original,
                &json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}})
            ),
            Err(StrategicPatchError::BadPatchFormatForPrimitiveList)
        );
    }

    #[test]
    fn patch_replace_on_a_map_and_a_list() {
        let original = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"containers": [
            {"name": "a", "image": "a"}, {"name": "b", "image": "b"},
        ]}});
        let patch = json!({
            "metadata": {"labels": {"$patch": "replace", "c": "3"}},
            "spec": {"containers": [{"$patch": "replace"}, {"name": "z", "image": "z", "args": null}]},
        });
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"metadata": {"labels": {"c": "3"}}, "spec": {"containers": [{"name": "z", "image": "z"}]}})
        );
        // $patch: delete on a map empties it.
        let patch = json!({"metadata": {"labels": {"$patch": "delete"}}});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap()["metadata"],
            json!({"labels": {}})
        );
    }

    #[test]
    fn retain_keys_drops_the_old_volume_source() {
        let original = json!({"spec": {"volumes": [
            {"name": "data", "emptyDir": {"medium": "Memory"}},
            {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}},
        ]}});
        let patch = json!({"spec": {
            "$setElementOrder/volumes": [{"name": "data"}, {"name": "cfg"}],
            "volumes": [{
                "$retainKeys": ["hostPath", "name"],
                "hostPath": {"path": "/srv"},
                "name": "data",
            }],
        }});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"spec": {"volumes": [
                {"name": "data", "hostPath": {"path": "/srv"}},
                {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}},
            ]}})
        );
        let bad = json!({"spec": {"volumes": [{"$retainKeys": ["name"], "hostPath": {}, "name": "data"}]}});
        assert_eq!(
            apply("Pod", &original, &bad),
            Err(StrategicPatchError::BadPatchFormatForRetainKeys)
        );
    }

    #[test]
    fn missing_merge_key_error() {
        let original = json!({"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}});
        let patch = json!({"spec": {"containers": [{"image": "httpd"}]}});
        let err = apply("Pod", &original, &patch).unwrap_err();
        assert_eq!(
            err.to_string(),
            "map: map[image:httpd] does not contain declared merge key: name"
        );
        assert_eq!(err.http_status(), 500);

        let patch = json!({"spec": {"containers": [{"$patch": "delete", "image": "httpd", "ports": [80]}]}});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap_err().to_string(),
            "map: map[$patch:delete image:httpd ports:[80]] does not contain declared merge key: name"
        );
    }

    #[test]
    fn other_kubernetes_error_messages() {
        let original = json!({
            "metadata": {"labels": {"a": "b"}, "finalizers": []},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        });
        let cases = [
            (
                json!({"metadata": {"labels": {"$patch": "merge"}}}),
                "unknown patch type: merge in map: map[$patch:merge]",
            ),
            (
                json!({"metadata": {"labels": {"$patch": 1}}}),
                "unknown patch type: %!s(int64=1) in map: map[$patch:1]",
            ),
            (
                json!({"spec": {"containers": [{"$patch": "merge", "name": "a"}]}}),
                "merging lists cannot yet be specified in the patch",
            ),
            (
                json!({"spec": {
                    "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                    "containers": [{"name": "b", "x": 1.5}, {"name": "a"}],
                }}),
                "The order in patch list:\n[map[name:b x:1.5] map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:b]]\n",
            ),
            (
                json!({"spec": {"$setElementOrder/containers": "a"}}),
                "expected a []interface {}, but received a string",
            ),
            (
                json!({"spec": {"$setElementOrderX": []}}),
                "invalid patch format of setElementOrder list",
            ),
            (
                json!({"spec": {"containers": ["a"]}}),
                "list element types are not identical: [[map[name:a] map[name:b]] [a]]",
            ),
            (
                json!({"metadata": {"finalizers": [{"a": 1}]}}),
                "cannot merge lists without merge key for string",
            ),
            (
                json!({"spec": {"containers": [[1]]}}),
                "list element types are not identical: [[map[name:a] map[name:b]] [[1]]]",
            ),
        ];
        for (patch, message) in cases {
            let err = apply("Pod", &original, &patch).unwrap_err();
            assert_eq!(err.to_string(), message, "patch {patch}");
        }
        let lists = json!({"metadata": {"finalizers": [["x"]]}});
        let err = apply("Pod", &lists, &json!({"metadata": {"finalizers": [["y"]]}})).unwrap_err();
        assert_eq!(err, StrategicPatchError::NoListOfLists);
        assert_eq!(err.http_status(), 422);

        let err = apply("Pod", &original, &json!([1])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        assert_eq!(err.http_status(), 400);
    }

    /// The live Pod after `kubectl apply` created it from `manifest_v1` (defaults, the token
    /// volume, status), and the annotation kubectl wrote.
    fn live_pod(last_applied: &str) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied},
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "labels": {"app": "nginx"},
                "name": "nginx",
                "namespace": "default",
                "resourceVersion": "12",
                "uid": "0f7c5bcb-3a0a-4a8e-9a49-1d1f5c6a3a11",
            },
            "spec": {
                "containers": [{
                    "image": "nginx:alpine",
                    "imagePullPolicy": "IfNotPresent",
                    "name": "nginx",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "volumeMounts": [{
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                        "name": "kube-api-access-7x2lq",
                        "readOnly": true,
                    }],
                }],
                "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": true,
                "nodeName": "kubox",
                "preemptionPolicy": "PreemptLowerPriority",
                "priority": 0,
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "serviceAccountName": "default",
                "terminationGracePeriodSeconds": 30,
                "tolerations": [
                    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300},
                ],
                "volumes": [{
                    "name": "kube-api-access-7x2lq",
                    "projected": {"defaultMode": 420, "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    ]},
                }],
            },
            "status": {
                "conditions": [
                    {"lastProbeTime": null, "lastTransitionTime": "2025-01-01T00:00:01Z", "status": "True", "type": "Ready"},
                ],
                "phase": "Running",
                "podIP": "10.88.0.5",
                "podIPs": [{"ip": "10.88.0.5"}],
                "qosClass": "BestEffort",
            },
        })
    }

    /// `kubectl.kubernetes.io/last-applied-configuration` as kubectl writes it: the manifest with
    /// `annotations: {}` and the namespace, compact JSON with sorted keys, and a newline.
    fn last_applied(manifest: &Value) -> String {
        let mut manifest = manifest.clone();
        manifest["metadata"]["annotations"] = json!({});
        manifest["metadata"]["namespace"] = json!("default");
        serde_json::to_string(&manifest).unwrap() + "\n"
    }

    fn manifest(image: &str, labels: Value) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"labels": labels, "name": "nginx"},
            "spec": {"containers": [{"image": image, "name": "nginx", "ports": [{"containerPort": 80}]}]},
        })
    }

    #[test]
    fn kubectl_apply_after_changing_image_and_adding_a_label() {
        let v1 = manifest("nginx:alpine", json!({"app": "nginx"}));
        let v2 = manifest("nginx:1.27-alpine", json!({"app": "nginx", "tier": "web"}));
        let live = live_pod(&last_applied(&v1));
        let new_annotation = last_applied(&v2);
        assert_eq!(
            new_annotation,
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"nginx\",\"tier\":\"web\"},\"name\":\"nginx\",\"namespace\":\"default\"},\"spec\":{\"containers\":[{\"image\":\"nginx:1.27-alpine\",\"name\":\"nginx\",\"ports\":[{\"containerPort\":80}]}]}}\n"
        );

        // CreateThreeWayMergePatch(last-applied, manifest + new annotation, live): additions and
        // changes from live to the manifest (the ports are equal once the live protocol is
        // ignored), no deletions from last-applied, and $setElementOrder for the changed list.
        let patch: Value = serde_json::from_str(&format!(
            r#"{{"metadata":{{"annotations":{{"kubectl.kubernetes.io/last-applied-configuration":{}}},"labels":{{"tier":"web"}}}},"spec":{{"$setElementOrder/containers":[{{"name":"nginx"}}],"containers":[{{"image":"nginx:1.27-alpine","name":"nginx"}}]}}}}"#,
            serde_json::to_string(&new_annotation).unwrap()
        ))
        .unwrap();

        let result = apply("Pod", &live, &patch).unwrap();
        let mut expected = live.clone();
        expected["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
            json!(new_annotation);
        expected["metadata"]["labels"]["tier"] = json!("web");
        expected["spec"]["containers"][0]["image"] = json!("nginx:1.27-alpine");
        assert_eq!(result, expected);
        let typed = pod(&result);
        let container = &typed.spec.as_ref().unwrap().containers[0];
        assert_eq!(container.image.as_deref(), Some("nginx:1.27-alpine"));
        assert_eq!(
            container.termination_message_path.as_deref(),
            Some("/dev/termination-log")
        );

        // The same patch again, or the empty patch of an unchanged manifest, changes nothing.
        assert_eq!(apply("Pod", &result, &patch).unwrap(), result);
        assert_eq!(apply("Pod", &result, &json!({})).unwrap(), result);
        assert_eq!(apply("Pod", &result, &Value::Null).unwrap(), result);

        // Removing the label again: kubectl sends it as null.
        let v3 = manifest("nginx:1.27-alpine", json!({"app": "nginx"}));
        let remove: Value = json!({"metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied(&v3)},
            "labels": {"tier": null},
        }});
        let removed = apply("Pod", &result, &remove).unwrap();
        assert_eq!(removed["metadata"]["labels"], json!({"app": "nginx"}));
        pod(&removed);
    }

    #[test]
    fn node_namespace_lease_and_unknown_kinds() {
        let node = json!({
            "spec": {"podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a", "effect": "NoSchedule"}]},
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": "Starting"},
                    {"type": "MemoryPressure", "status": "False"},
                ],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
            },
        });
        let patch = json!({
            "spec": {"podCIDRs": ["fd00::/64"], "taints": [{"key": "b", "effect": "NoExecute"}]},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "addresses": [{"type": "Hostname", "address": "kubox"}],
            },
        });
        let result = apply("Node", &node, &patch).unwrap();
        assert_eq!(
            result,
            json!({
                "spec": {"podCIDRs": ["fd00::/64", "10.0.0.0/24"], "taints": [{"key": "b", "effect": "NoExecute"}]},
                "status": {
                    "conditions": [
                        {"type": "Ready", "status": "True", "reason": "KubeletReady"},
                        {"type": "MemoryPressure", "status": "False"},
                    ],
                    "addresses": [
                        {"type": "Hostname", "address": "kubox"},
                        {"type": "InternalIP", "address": "10.0.0.1"},
                    ],
                },
            })
        );
        serde_json::from_value::<corev1::Node>(result).unwrap();

        let namespace = json!({"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active", "conditions": [{"type": "A", "status": "True"}]}});
        let patch = json!({"spec": {"finalizers": ["other"]}, "status": {"conditions": [{"type": "B", "status": "False"}]}});
        assert_eq!(
            apply("Namespace", &namespace, &patch).unwrap(),
            json!({"spec": {"finalizers": ["other"]}, "status": {"phase": "Active", "conditions": [
                {"type": "B", "status": "False"}, {"type": "A", "status": "True"},
            ]}})
        );

        let lease = json!({"metadata": {"name": "kubox", "ownerReferences": [{"uid": "1", "name": "n"}]}, "spec": {"holderIdentity": "kubox", "leaseDurationSeconds": 40, "renewTime": "2025-01-01T00:00:00.000000Z"}});
        let patch = json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "m"}]}, "spec": {"renewTime": "2025-01-01T00:00:10.000000Z"}});
        let result = apply("Lease", &lease, &patch).unwrap();
        assert_eq!(
            result,
            json!({"metadata": {"name": "kubox", "ownerReferences": [{"uid": "2", "name": "m"}, {"uid": "1", "name": "n"}]}, "spec": {"holderIdentity": "kubox", "leaseDurationSeconds": 40, "renewTime": "2025-01-01T00:00:10.000000Z"}})
        );
        serde_json::from_value::<k8s_openapi::api::coordination::v1::Lease>(result).unwrap();

        let event = json!({"metadata": {"name": "e"}, "count": 1, "involvedObject": {"kind": "Pod", "name": "p"}});
        let patch = json!({"count": 2, "lastTimestamp": "2025-01-01T00:00:00Z"});
        let result = apply("Event", &event, &patch).unwrap();
        assert_eq!(result["count"], json!(2));
        serde_json::from_value::<corev1::Event>(result).unwrap();

        // Unknown kinds: maps merge, lists are replaced, directives still apply.
        let original =
            json!({"metadata": {"finalizers": ["a"], "labels": {"x": "1"}}, "data": {"k": "v"}});
        let patch = json!({"metadata": {"finalizers": ["b"], "labels": {"y": "2"}}, "data": {"$patch": "replace", "n": "m"}});
        assert_eq!(
            apply("ConfigMap", &original, &patch).unwrap(),
            json!({"metadata": {"finalizers": ["b"], "labels": {"x": "1", "y": "2"}}, "data": {"n": "m"}})
        );
    }

    #[test]
    fn directives_and_nulls_never_leak_into_copied_values() {
        let original = json!({"spec": {}});
        let patch = json!({"spec": {
            "containers": [{
                "name": "new",
                "image": null,
                "$setElementOrder/env": [{"name": "A"}],
                "env": [{"name": "A", "value": "1"}, {"$patch": "delete", "name": "B"}],
            }],
            "tolerations": [{"$patch": "replace"}, {"key": "k", "value": null}],
            "securityContext": {"$retainKeys": [], "runAsUser": 1},
        }});
        assert_eq!(
            apply("Pod", &original, &patch).unwrap(),
            json!({"spec": {
                "containers": [{"name": "new", "env": [{"name": "A", "value": "1"}]}],
                "tolerations": [{"key": "k"}],
                "securityContext": {"runAsUser": 1},
            }})
        );
    }

    /// Cases from `patch_test.go` (`customStrategicMergePatchTestCaseData` and
    /// `strategicMergePatchRawTestCases`, current + threeWay = result), with `mergingList` mapped
    /// to `spec.containers` (merge key `name`) and `mergingIntList` to `metadata.finalizers`.
    #[test]
    fn kubernetes_patch_test_cases() {
        fn list(names: Value) -> Value {
            json!({"spec": {"containers": names}})
        }
        fn ints(values: Value) -> Value {
            json!({"metadata": {"finalizers": values}})
        }
        let cases = [
            // unique scalars when merging lists
            (
                ints(json!([1, 2])),
                ints(json!([2, 3])),
                ints(json!([1, 2, 3])),
            ),
            // delete all duplicate entries in a merging list
            (
                list(
                    json!([{"name": 1}, {"name": 1}, {"name": 2, "value": "a"}, {"name": 3}, {"name": 3}]),
                ),
                list(json!([{"name": 1, "$patch": "delete"}, {"name": 3, "$patch": "delete"}])),
                list(json!([{"name": 2, "value": "a"}])),
            ),
            // delete all items from merging list
            (
                list(json!([{"name": 1}, {"name": 2}])),
                list(json!([{"$patch": "replace"}])),
                list(json!([])),
            ),
            // preserve the order from the patch in a merging list
            (
                list(json!([{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}])),
                list(
                    json!([{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "other": "x"}]),
                ),
                list(
                    json!([{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "value": "b", "other": "x"}]),
                ),
            ),
            // preserve the order from the patch in a merging list 2
            (
                list(json!([{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}])),
                list(json!([{"name": 3, "value": "c"}, {"name": 1, "value": "a"}])),
                list(
                    json!([{"name": 2, "value": "b"}, {"name": 3, "value": "c"}, {"name": 1, "value": "a"}]),
                ),
            ),
            // preserve the order from the patch in a merging int list
            (
                ints(json!([1, 2, 3])),
                ints(json!([3, 1, 2])),
                ints(json!([3, 1, 2])),
            ),
            (
                ints(json!([1, 2, 3])),
                ints(json!([3, 1])),
                ints(json!([2, 3, 1])),
            ),
            // $setElementOrder contains item that is not present in the list to be merged
            (
                list(json!([{"name": 1}, {"name": 3}])),
                json!({"spec": {
                    "$setElementOrder/containers": [{"name": 3}, {"name": 2}, {"name": 1}],
                    "containers": [{"name": 3, "value": 3}, {"name": 1, "value": 1}],
                }}),
                list(json!([{"name": 3, "value": 3}, {"name": 1, "value": 1}])),
            ),
            (
                ints(json!([1, 3])),
                json!({"metadata": {"$setElementOrder/finalizers": [3, 2, 1]}}),
                ints(json!([3, 1])),
            ),
            // delete items in lists of scalars
            (
                ints(json!([1, 2, 3, 4])),
                json!({"metadata": {"$setElementOrder/finalizers": [1, 2], "$deleteFromPrimitiveList/finalizers": [3]}}),
                ints(json!([1, 2, 4])),
            ),
            // delete all duplicate items in lists of scalars
            (
                ints(json!([1, 2, 3, 3, 4])),
                json!({"metadata": {"$setElementOrder/finalizers": [1, 2], "$deleteFromPrimitiveList/finalizers": [3]}}),
                ints(json!([1, 2, 4])),
            ),
            // add and delete items in lists of scalars
            (
                ints(json!([1, 2, 3, 4])),
                json!({"metadata": {"$setElementOrder/finalizers": [1, 2, 4], "$deleteFromPrimitiveList/finalizers": [3]}}),
                ints(json!([1, 2, 4])),
            ),
            // merge lists of maps
            (
                list(json!([{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}])),
                json!({"spec": {
                    "$setElementOrder/containers": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
                    "containers": [{"name": 4, "value": 4}, {"name": 3, "value": 3}],
                }}),
                list(json!([
                    {"name": 4, "value": 4},
                    {"name": 1, "other": "a"},
                    {"name": 2, "value": 2, "other": "b"},
                    {"name": 3, "value": 3},
                ])),
            ),
            // add field to map in merging list with conflict
            (
                list(json!([{"name": 1, "other": "a"}, {"name": 3, "value": 2, "other": "b"}])),
                json!({"spec": {
                    "$setElementOrder/containers": [{"name": 1}, {"name": 2}],
                    "containers": [{"name": 1, "value": 1}, {"name": 2, "value": 2}],
                }}),
                list(json!([
                    {"name": 1, "value": 1, "other": "a"},
                    {"name": 2, "value": 2},
                    {"name": 3, "value": 2, "other": "b"},
                ])),
            ),
        ];
        for (original, patch, expected) in cases {
            assert_eq!(
                apply("Pod", &original, &patch).unwrap(),
                expected,
                "{original} + {patch}"
            );
        }
        for (original, patch) in [
            (
                list(json!([{"name": 1}, {"name": 3}, {"name": 2}])),
                json!({"spec": {
                    "$setElementOrder/containers": [{"name": 1}, {"name": 2}, {"name": 3}],
                    "containers": [{"name": 3, "value": 3}, {"name": 1, "value": 1}],
                }}),
            ),
            (
                ints(json!([1, 3, 2])),
                json!({"metadata": {"$setElementOrder/finalizers": [1, 2, 3], "finalizers": [3, 1]}}),
            ),
        ] {
            let err = apply("Pod", &original, &patch).unwrap_err();
            assert!(err.to_string().contains("doesn't match"), "{err}");
        }
    }

    #[test]
    fn go_float_formatting() {
        let cases = [
            (1.5, "1.5"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e21, "1e+21"),
            (0.0, "0"),
            (-0.0, "-0"),
            (123.456, "123.456"),
        ];
        for (f, text) in cases {
            assert_eq!(go_float(f), text, "{f}");
        }
    }

    /// xorshift64*: a small deterministic generator, so that the test needs no extra crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const KEYS: &[&str] = &[
        "metadata",
        "labels",
        "finalizers",
        "ownerReferences",
        "uid",
        "spec",
        "containers",
        "initContainers",
        "name",
        "image",
        "env",
        "ports",
        "containerPort",
        "volumes",
        "status",
        "conditions",
        "type",
        "podCIDRs",
        "addresses",
        "a",
        "b",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "$setElementOrder/env",
        "$setElementOrder/finalizers",
        "$deleteFromPrimitiveList/finalizers",
        "$deleteFromPrimitiveList/",
        "$setElementOrder",
        "$deleteFromPrimitiveList",
    ];
    const STRINGS: &[&str] = &["delete", "replace", "merge", "a", "b", "nginx", "name", ""];

    fn random_value(rng: &mut Rng, depth: usize) -> Value {
        let choice = if depth == 0 {
            rng.below(5)
        } else {
            rng.below(9)
        };
        match choice {
            0 => Value::Null,
            1 => json!(rng.below(2) == 0),
            2 => json!(rng.below(4)),
            3 => json!(rng.below(4) as f64 + 0.5),
            4 => json!(rng.pick(STRINGS)),
            5 | 6 => Value::Array(
                (0..rng.below(4))
                    .map(|_| random_value(rng, depth - 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.below(5))
                    .map(|_| (rng.pick(KEYS).to_owned(), random_value(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    fn has_directive(value: &Value) -> bool {
        match value {
            Value::Object(map) => map.iter().any(|(key, value)| {
                key == DIRECTIVE_MARKER
                    || key == RETAIN_KEYS_DIRECTIVE
                    || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
                    || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
                    || has_directive(value)
            }),
            Value::Array(list) => list.iter().any(has_directive),
            _ => false,
        }
    }

    const NAMES: &[&str] = &["a", "b", "c", "d"];

    /// A list of container-like maps keyed by `name` (sometimes missing, duplicated or with a
    /// `$patch`), so that the merge-by-key and ordering code is exercised with odd data.
    fn random_named_list(rng: &mut Rng, with_directives: bool) -> Value {
        let items = (0..rng.below(5))
            .map(|_| {
                let mut item = JsonMap::new();
                if rng.below(8) != 0 {
                    item.insert("name".into(), json!(rng.pick(NAMES)));
                }
                if rng.below(2) == 0 {
                    item.insert("image".into(), json!(rng.pick(STRINGS)));
                }
                if rng.below(3) == 0 {
                    let env = random_named_list(rng, with_directives);
                    item.insert("env".into(), env);
                }
                if with_directives && rng.below(5) == 0 {
                    item.insert(DIRECTIVE_MARKER.into(), json!(rng.pick(STRINGS)));
                }
                if with_directives && rng.below(6) == 0 {
                    let order: Vec<Value> = (0..rng.below(4))
                        .map(|_| json!({"name": rng.pick(NAMES)}))
                        .collect();
                    item.insert("$setElementOrder/env".into(), Value::Array(order));
                }
                Value::Object(item)
            })
            .collect();
        Value::Array(items)
    }

    #[test]
    fn random_pod_shaped_inputs_never_panic() {
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        let mut ok = 0;
        for _ in 0..20_000 {
            let original = json!({"spec": {"containers": random_named_list(&mut rng, false)},
                "metadata": {"finalizers": [rng.pick(NAMES), rng.pick(NAMES)]}});
            let mut spec = JsonMap::new();
            if rng.below(4) != 0 {
                spec.insert("containers".into(), random_named_list(&mut rng, true));
            }
            if rng.below(2) == 0 {
                let order: Vec<Value> = (0..rng.below(5))
                    .map(|_| json!({"name": rng.pick(NAMES)}))
                    .collect();
                spec.insert("$setElementOrder/containers".into(), Value::Array(order));
            }
            let finalizers: Vec<Value> =
                (0..rng.below(3)).map(|_| json!(rng.pick(NAMES))).collect();
            let meta_key = rng.pick(&[
                "finalizers",
                "$setElementOrder/finalizers",
                "$deleteFromPrimitiveList/finalizers",
            ]);
            let patch = json!({"spec": spec, "metadata": {meta_key: finalizers}});
            if let Ok(result) = apply("Pod", &original, &patch) {
                ok += 1;
                assert!(!has_directive(&result), "{original} + {patch} = {result}");
            }
        }
        assert!(ok > 1_000, "ok {ok}");
    }

    #[test]
    fn random_inputs_never_panic_and_never_leak_directives() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let kinds = ["Pod", "Node", "Namespace", "Event", "Lease", "Other"];
        let (mut ok, mut failed) = (0, 0);
        for i in 0..50_000 {
            let original = random_value(&mut rng, 4);
            let patch = random_value(&mut rng, 4);
            let kind = kinds[i % kinds.len()];
            match apply(kind, &original, &patch) {
                Ok(result) => {
                    ok += 1;
                    if !has_directive(&original) {
                        assert!(
                            !has_directive(&result),
                            "{kind}: {original} + {patch} = {result}"
                        );
                    }
                }
                Err(err) => {
                    failed += 1;
                    assert!(!err.to_string().is_empty());
                }
            }
        }
        assert!(ok > 1_000 && failed > 100, "ok {ok}, failed {failed}");
    }
}
