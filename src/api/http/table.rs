//! Server-side `meta.k8s.io/v1` Tables: what kube-apiserver answers when a client sends
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (every `kubectl get` in a terminal).
//!
//! The columns and cells reproduce kube-apiserver 1.32's printers exactly
//! (kubernetes/kubernetes `pkg/printers/internalversion/printers.go`: `AddHandlers`, `printPod`,
//! `printNode`, `printNamespace`, `printEvent`, `printLease`), with ages from apimachinery's
//! `duration.HumanDuration`. Like the apiserver (`pkg/printers/storage`, which calls the printers
//! with `Wide: true`), every column is always sent; kubectl hides the `priority: 1` ones unless
//! `-o wide`. Kinds without a printer get the apiserver's default Table (`Name`, `Created At`).
//!
//! Everything here is pure: objects and the current time in, a serializable [`Table`] out.
//!
//! ```text
//! GET /api/v1/namespaces/default/pods      -> table("Pod", pods.map(pod_row), list_rv, true)
//! GET /api/v1/namespaces/default/pods/web  -> table("Pod", vec![pod_row(..)], pod_rv, true)
//! watch event                              -> table("Pod", vec![pod_row(..)], obj_rv, first_event)
//! ```
//!
//! A Table watch sends column definitions with its first event only (apiserver
//! `handlers/watch.go`, `watchEmbeddedEncoder` switches to `NoHeaders`), hence `with_columns`.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    Container, ContainerStatus, Event, Namespace, Node, Pod, PodCondition,
};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use k8s_openapi::{Metadata, Resource};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::Value;

/// One entry of `columnDefinitions` (`metav1.TableColumnDefinition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ColumnDefinition {
    pub name: &'static str,
    /// An OpenAPI type: `string`, `integer`, `date`...
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// `name` for the column holding the object's name, otherwise empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: i32,
}

/// What each row's `object` holds: the `includeObject` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowObject {
    /// `PartialObjectMetadata` (`includeObject=Metadata`, the default). `-A` needs it for the
    /// NAMESPACE column and `--show-labels` for LABELS.
    #[default]
    Metadata,
    /// The whole object (`includeObject=Object`, what `--sort-by` asks for).
    Full,
    /// `null` (`includeObject=None`).
    None,
}

impl RowObject {
    /// Parses `includeObject`; `None` for a value the apiserver would reject.
    pub fn from_include_object(value: Option<&str>) -> Option<RowObject> {
        match value.unwrap_or("") {
            "" | "Metadata" => Some(RowObject::Metadata),
            "Object" => Some(RowObject::Full),
            "None" => Some(RowObject::None),
            _ => None,
        }
    }
}

/// `metav1.TableRowCondition`: kube-apiserver marks succeeded and failed pods `Completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RowCondition {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub status: &'static str,
    pub reason: &'static str,
    pub message: &'static str,
}

/// One row: the printed cells plus the object they describe.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableRow {
    pub cells: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<RowCondition>,
    pub object: Value,
}

impl TableRow {
    /// Cell `n` as text (what kubectl prints); empty when it is missing or not a string.
    pub fn text(&self, n: usize) -> String {
        self.cells
            .get(n)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

/// `metav1.Table`. Serializes as
/// `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{..},"columnDefinitions":..,"rows":..}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// `metadata.resourceVersion`; omitted when empty.
    pub resource_version: String,
    /// `None` serializes as `null`, what the apiserver sends for `NoHeaders` (watch events after
    /// the first).
    pub column_definitions: Option<Vec<ColumnDefinition>>,
    pub rows: Vec<TableRow>,
}

impl Serialize for Table {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct ListMeta<'a> {
            #[serde(rename = "resourceVersion", skip_serializing_if = "str::is_empty")]
            resource_version: &'a str,
        }
        let mut s = serializer.serialize_struct("Table", 5)?;
        s.serialize_field("kind", "Table")?;
        s.serialize_field("apiVersion", "meta.k8s.io/v1")?;
        s.serialize_field(
            "metadata",
            &ListMeta {
                resource_version: &self.resource_version,
            },
        )?;
        s.serialize_field("columnDefinitions", &self.column_definitions)?;
        s.serialize_field("rows", &self.rows)?;
        s.end()
    }
}

/// A Table of `kind` (a Kind name such as `"Pod"`). `with_columns: false` leaves
/// `columnDefinitions` null, as the apiserver does for watch events after the first.
pub fn table(kind: &str, rows: Vec<TableRow>, resource_version: &str, with_columns: bool) -> Table {
    Table {
        resource_version: resource_version.to_owned(),
        column_definitions: with_columns.then(|| column_definitions(kind)),
        rows,
    }
}

/// A Table of `objects`, one row each.
pub fn table_of<K: Printable>(
    objects: &[K],
    now: Timestamp,
    object: RowObject,
    resource_version: &str,
    with_columns: bool,
) -> Table {
    let rows = objects.iter().map(|o| row(o, now, object)).collect();
    table(K::KIND, rows, resource_version, with_columns)
}

/// The columns kube-apiserver sends for `kind` (a Kind name); the default `Name`/`Created At`
/// pair for kinds without a printer.
pub fn column_definitions(kind: &str) -> Vec<ColumnDefinition> {
    columns(kind).to_vec()
}

fn columns(kind: &str) -> &'static [ColumnDefinition] {
    match kind {
        "Pod" => POD_COLUMNS,
        "Node" => NODE_COLUMNS,
        "Namespace" => NAMESPACE_COLUMNS,
        "Event" => EVENT_COLUMNS,
        "Lease" => LEASE_COLUMNS,
        "PriorityClass" => PRIORITY_CLASS_COLUMNS,
        _ => DEFAULT_COLUMNS,
    }
}

/// A kind with a kube-apiserver printer.
pub trait Printable: Resource + Metadata<Ty = ObjectMeta> + Serialize {
    /// The cells, one per entry of `column_definitions(Self::KIND)`.
    fn cells(&self, now: Timestamp) -> Vec<Value>;

    /// Row conditions (only pods have any).
    fn conditions(&self) -> Vec<RowCondition> {
        Vec::new()
    }
}

/// The row for any printable object.
pub fn row<K: Printable>(obj: &K, now: Timestamp, object: RowObject) -> TableRow {
    TableRow {
        cells: obj.cells(now),
        conditions: obj.conditions(),
        object: row_object(obj, object),
    }
}

pub fn pod_row(pod: &Pod, now: Timestamp, object: RowObject) -> TableRow {
    row(pod, now, object)
}

pub fn node_row(node: &Node, now: Timestamp, object: RowObject) -> TableRow {
    row(node, now, object)
}

pub fn namespace_row(namespace: &Namespace, now: Timestamp, object: RowObject) -> TableRow {
    row(namespace, now, object)
}

pub fn event_row(event: &Event, now: Timestamp, object: RowObject) -> TableRow {
    row(event, now, object)
}

pub fn lease_row(lease: &Lease, now: Timestamp, object: RowObject) -> TableRow {
    row(lease, now, object)
}

/// The apiserver's default row for kinds without a printer (`rest.defaultTableConvertor`):
/// the name and the creation time in RFC 3339.
pub fn default_row<K>(obj: &K, object: RowObject) -> TableRow
where
    K: Resource + Metadata<Ty = ObjectMeta> + Serialize,
{
    let created = obj
        .metadata()
        .creation_timestamp
        .as_ref()
        .map_or(GO_ZERO_TIME, |t| t.0);
    let created = created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    TableRow {
        cells: vec![name_cell(obj.metadata()), Value::String(created)],
        conditions: Vec::new(),
        object: row_object(obj, object),
    }
}

fn row_object<K>(obj: &K, object: RowObject) -> Value
where
    K: Resource + Metadata<Ty = ObjectMeta> + Serialize,
{
    match object {
        RowObject::Metadata => serde_json::json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": serde_json::to_value(obj.metadata()).unwrap_or(Value::Null),
        }),
        RowObject::Full => serde_json::to_value(obj).unwrap_or(Value::Null),
        RowObject::None => Value::Null,
    }
}

// ---------------------------------------------------------------------------------------------
// Durations

/// Go's zero `time.Time` (0001-01-01T00:00:00Z): what `metav1.Time.IsZero` tests for.
const GO_ZERO_TIME: Timestamp = Timestamp::constant(-62_135_596_800, 0);

/// apimachinery's `duration.HumanDuration`: ~2-3 significant figures (`59s`, `2m3s`, `10m`,
/// `3h5m`, `47h`, `2d5h`, `400d`, `2y10d`, `9y`). Slightly negative durations (clock skew
/// under 2s) print `0s`, more negative ones `<invalid>`.
pub fn human_duration(d: SignedDuration) -> String {
    // Go's time.Duration is int64 nanoseconds, and time.Since saturates at its bounds.
    let fallback = if d.is_negative() { i64::MIN } else { i64::MAX };
    let nanos = i64::try_from(d.as_nanos()).unwrap_or(fallback);
    let seconds = nanos / 1_000_000_000;
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = nanos / 60_000_000_000;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = nanos / 3_600_000_000_000;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `translateTimestampSince`: `<unknown>` for a missing or zero time.
fn since(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) if t != GO_ZERO_TIME => human_duration(now.duration_since(t)),
        _ => "<unknown>".to_owned(),
    }
}

fn age(meta: &ObjectMeta, now: Timestamp) -> Value {
    Value::String(since(meta.creation_timestamp.as_ref().map(|t| t.0), now))
}

fn name_cell(meta: &ObjectMeta) -> Value {
    Value::String(meta.name.clone().unwrap_or_default())
}

/// `s`, or `<none>` when it is missing or empty.
fn or_none(s: Option<&str>) -> Value {
    Value::String(s.filter(|s| !s.is_empty()).unwrap_or("<none>").to_owned())
}

// ---------------------------------------------------------------------------------------------
// Column definitions (printers.go `AddHandlers`; descriptions are the API's SwaggerDoc strings)

const fn column(
    name: &'static str,
    type_: &'static str,
    format: &'static str,
    description: &'static str,
    priority: i32,
) -> ColumnDefinition {
    ColumnDefinition {
        name,
        type_,
        format,
        description,
        priority,
    }
}

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATION_TIMESTAMP_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const NAME: ColumnDefinition = column("Name", "string", "name", NAME_DOC, 0);
const AGE: ColumnDefinition = column("Age", "string", "", CREATION_TIMESTAMP_DOC, 0);

const POD_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    column(
        "Ready",
        "string",
        "",
        "The aggregate readiness state of this pod for accepting traffic.",
        0,
    ),
    column(
        "Status",
        "string",
        "",
        "The aggregate status of the containers in this pod.",
        0,
    ),
    column(
        "Restarts",
        "string",
        "",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        0,
    ),
    AGE,
    column(
        "IP",
        "string",
        "",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        1,
    ),
    column(
        "Node",
        "string",
        "",
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
        1,
    ),
    column(
        "Nominated Node",
        "string",
        "",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
        1,
    ),
    column(
        "Readiness Gates",
        "string",
        "",
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
        1,
    ),
];

const NODE_ADDRESSES_DOC: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

const NODE_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    column("Status", "string", "", "The status of the node", 0),
    column("Roles", "string", "", "The roles of the node", 0),
    AGE,
    column(
        "Version",
        "string",
        "",
        "Kubelet Version reported by the node.",
        0,
    ),
    column("Internal-IP", "string", "", NODE_ADDRESSES_DOC, 1),
    column("External-IP", "string", "", NODE_ADDRESSES_DOC, 1),
    column(
        "OS-Image",
        "string",
        "",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        1,
    ),
    column(
        "Kernel-Version",
        "string",
        "",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        1,
    ),
    column(
        "Container-Runtime",
        "string",
        "",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        1,
    ),
];

const NAMESPACE_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    column("Status", "string", "", "The status of the namespace", 0),
    AGE,
];

const EVENT_COLUMNS: &[ColumnDefinition] = &[
    column(
        "Last Seen",
        "string",
        "",
        "The time at which the most recent occurrence of this event was recorded.",
        0,
    ),
    column(
        "Type",
        "string",
        "",
        "Type of this event (Normal, Warning), new types could be added in the future",
        0,
    ),
    column(
        "Reason",
        "string",
        "",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
        0,
    ),
    column(
        "Object",
        "string",
        "",
        "The object that this event is about.",
        0,
    ),
    column(
        "Subobject",
        "string",
        "",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
        1,
    ),
    column(
        "Source",
        "string",
        "",
        "The component reporting this event. Should be a short machine understandable string.",
        1,
    ),
    column(
        "Message",
        "string",
        "",
        "A human-readable description of the status of this operation.",
        0,
    ),
    column(
        "First Seen",
        "string",
        "",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
        1,
    ),
    // The type says string, but the cell is an integer: both as in printers.go.
    column(
        "Count",
        "string",
        "",
        "The number of times this event has occurred.",
        1,
    ),
    column("Name", "string", "name", NAME_DOC, 1),
];

const LEASE_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    column(
        "Holder",
        "string",
        "",
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
        0,
    ),
    AGE,
];

const PRIORITY_CLASS_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    column(
        "Value",
        "integer",
        "",
        "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.",
        0,
    ),
    column(
        "Global-Default",
        "boolean",
        "",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.",
        0,
    ),
    AGE,
    column(
        "PreemptionPolicy",
        "string",
        "",
        "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
        0,
    ),
];

/// `rest.defaultTableConvertor`, for kinds without a printer.
const DEFAULT_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    column("Created At", "date", "", CREATION_TIMESTAMP_DOC, 0),
];

// ---------------------------------------------------------------------------------------------
// Pods (printPod)

const POD_SUCCEEDED: RowCondition = RowCondition {
    type_: "Completed",
    status: "True",
    reason: "Succeeded",
    message: "The pod has completed successfully.",
};
const POD_FAILED: RowCondition = RowCondition {
    type_: "Completed",
    status: "True",
    reason: "Failed",
    message: "The pod failed.",
};

impl Printable for Pod {
    fn cells(&self, now: Timestamp) -> Vec<Value> {
        PodColumns::of(self).cells(now)
    }

    fn conditions(&self) -> Vec<RowCondition> {
        match self.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Succeeded") => vec![POD_SUCCEEDED],
            Some("Failed") => vec![POD_FAILED],
            _ => Vec::new(),
        }
    }
}

/// A pod's row before the clock is read: every column of printPod, with AGE and the RESTARTS
/// suffix kept as the times they count from. What a client that shows many pods (the TUI)
/// keeps of each instead of the decoded pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodColumns {
    pub name: String,
    /// READY: `ready/total`.
    pub ready: String,
    /// STATUS, as kubectl computes it.
    pub status: String,
    pub restarts: i64,
    /// When the container counted last restarted (`GO_ZERO_TIME` if unknown).
    pub last_restart: Timestamp,
    pub created: Option<Timestamp>,
    pub ip: Value,
    pub node: Value,
    pub nominated_node: Value,
    pub readiness_gates: String,
}

impl PodColumns {
    pub fn of(pod: &Pod) -> PodColumns {
        let summary = PodSummary::of(pod);
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        PodColumns {
            name: pod.metadata.name.clone().unwrap_or_default(),
            ready: format!("{}/{}", summary.ready, summary.total),
            status: summary.reason,
            restarts: summary.restarts,
            last_restart: summary.last_restart,
            created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
            ip: or_none(pod_ip(pod)),
            node: or_none(spec.and_then(|s| s.node_name.as_deref())),
            nominated_node: or_none(status.and_then(|s| s.nominated_node_name.as_deref())),
            readiness_gates: readiness_gates(pod),
        }
    }

    /// NAME, READY, STATUS, RESTARTS, AGE, IP, NODE, NOMINATED NODE, READINESS GATES at `now`.
    pub fn cells(&self, now: Timestamp) -> Vec<Value> {
        let restarts = if self.restarts != 0 && self.last_restart != GO_ZERO_TIME {
            format!(
                "{} ({} ago)",
                self.restarts,
                since(Some(self.last_restart), now)
            )
        } else {
            self.restarts.to_string()
        };
        vec![
            Value::String(self.name.clone()),
            Value::String(self.ready.clone()),
            Value::String(self.status.clone()),
            Value::String(restarts),
            Value::String(since(self.created, now)),
            self.ip.clone(),
            self.node.clone(),
            self.nominated_node.clone(),
            Value::String(self.readiness_gates.clone()),
        ]
    }
}

/// READY, STATUS and RESTARTS as printPod computes them.
struct PodSummary {
    ready: usize,
    total: usize,
    reason: String,
    restarts: i64,
    /// When the container counted last restarted (`GO_ZERO_TIME` if unknown).
    last_restart: Timestamp,
}

impl PodSummary {
    fn of(pod: &Pod) -> PodSummary {
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        let containers = spec.map_or(&[][..], |s| s.containers.as_slice());
        let init_containers = spec
            .and_then(|s| s.init_containers.as_deref())
            .unwrap_or_default();
        let conditions = status
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default();
        let init_statuses = status
            .and_then(|s| s.init_container_statuses.as_deref())
            .unwrap_or_default();
        let statuses = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default();
        let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or_default();
        let status_reason = status.and_then(|s| s.reason.as_deref()).unwrap_or_default();

        let mut reason = if status_reason.is_empty() {
            phase
        } else {
            status_reason
        }
        .to_owned();
        if conditions
            .iter()
            .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
        {
            reason = "SchedulingGated".to_owned();
        }

        // Like Go's map, the last init container of a name wins.
        let init_by_name: HashMap<&str, &Container> = init_containers
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect();
        let restartable = |name: &str| init_by_name.get(name).is_some_and(|c| is_restartable(c));

        let mut ready = 0;
        let total = containers.len() + init_containers.iter().filter(|c| is_restartable(c)).count();
        let mut restarts = 0;
        let mut last_restart = GO_ZERO_TIME;
        let mut sidecar_restarts = 0;
        let mut last_sidecar_restart = GO_ZERO_TIME;

        let mut initializing = false;
        for (i, cs) in init_statuses.iter().enumerate() {
            restarts += i64::from(cs.restart_count);
            let finished = last_finished(cs);
            last_restart = last_restart.max(finished);
            let sidecar = restartable(&cs.name);
            if sidecar {
                sidecar_restarts += i64::from(cs.restart_count);
                last_sidecar_restart = last_sidecar_restart.max(finished);
            }
            let state = cs.state.as_ref();
            let terminated = state.and_then(|s| s.terminated.as_ref());
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            if terminated.is_some_and(|t| t.exit_code == 0) {
                continue;
            }
            if sidecar && cs.started == Some(true) {
                if cs.ready {
                    ready += 1;
                }
                continue;
            }
            reason = if let Some(t) = terminated {
                match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => format!("Init:{r}"),
                    None => match t.signal.unwrap_or(0) {
                        0 => format!("Init:ExitCode:{}", t.exit_code),
                        signal => format!("Init:Signal:{signal}"),
                    },
                }
            } else if let Some(r) = waiting_reason.filter(|r| *r != "PodInitializing") {
                format!("Init:{r}")
            } else {
                format!("Init:{i}/{}", init_containers.len())
            };
            initializing = true;
            break;
        }

        if !initializing || is_initialized(conditions) {
            restarts = sidecar_restarts;
            last_restart = last_sidecar_restart;
            let mut has_running = false;
            for cs in statuses.iter().rev() {
                restarts += i64::from(cs.restart_count);
                last_restart = last_restart.max(last_finished(cs));
                let state = cs.state.as_ref();
                let terminated = state.and_then(|s| s.terminated.as_ref());
                let waiting_reason = state
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.as_deref())
                    .filter(|r| !r.is_empty());
                if let Some(r) = waiting_reason {
                    reason = r.to_owned();
                } else if let Some(t) = terminated {
                    reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                        Some(r) => r.to_owned(),
                        None => match t.signal.unwrap_or(0) {
                            0 => format!("ExitCode:{}", t.exit_code),
                            signal => format!("Signal:{signal}"),
                        },
                    };
                } else if cs.ready && state.is_some_and(|s| s.running.is_some()) {
                    has_running = true;
                    ready += 1;
                }
            }
            // Back to "Running" if a container still runs.
            if reason == "Completed" && has_running {
                reason = if has_condition(conditions, "Ready") {
                    "Running"
                } else {
                    "NotReady"
                }
                .to_owned();
            }
        }

        if pod.metadata.deletion_timestamp.is_some() {
            if status_reason == "NodeLost" {
                reason = "Unknown".to_owned();
            } else if phase != "Succeeded" && phase != "Failed" {
                reason = "Terminating".to_owned();
            }
        }

        PodSummary {
            ready,
            total,
            reason,
            restarts,
            last_restart,
        }
    }
}

/// `podutil.IsRestartableInitContainer`: a sidecar.
fn is_restartable(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// `lastTerminationState.terminated.finishedAt`, zero when unknown.
fn last_finished(cs: &ContainerStatus) -> Timestamp {
    cs.last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map_or(GO_ZERO_TIME, |t| t.0)
}

/// `isPodInitializedConditionTrue`: the first `Initialized` condition decides.
fn is_initialized(conditions: &[PodCondition]) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == "Initialized")
        .is_some_and(|c| c.status == "True")
}

/// Whether any condition of `type_` is `True` (`hasPodReadyCondition`).
fn has_condition(conditions: &[PodCondition], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

/// The first pod IP. The v1 → internal conversion makes `podIP` win over `podIPs` when both
/// are set and differ.
fn pod_ip(pod: &Pod) -> Option<&str> {
    let status = pod.status.as_ref()?;
    match status.pod_ip.as_deref().filter(|ip| !ip.is_empty()) {
        Some(ip) => Some(ip),
        None => status.pod_ips.as_deref()?.first().map(|ip| ip.ip.as_str()),
    }
}

/// READINESS GATES: `true/total`, `<none>` without gates.
fn readiness_gates(pod: &Pod) -> String {
    let gates = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or_default();
    if gates.is_empty() {
        return "<none>".to_owned();
    }
    let conditions = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let met = gates
        .iter()
        .filter(|g| {
            conditions
                .iter()
                .find(|c| c.type_ == g.condition_type)
                .is_some_and(|c| c.status == "True")
        })
        .count();
    format!("{met}/{}", gates.len())
}

// ---------------------------------------------------------------------------------------------
// Nodes (printNode)

impl Printable for Node {
    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let status = self.status.as_ref();
        // Conditions go through a map in Go: the last Ready condition wins.
        let ready = status
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|c| c.type_ == "Ready");
        let mut state = vec![match ready {
            Some(c) if c.status == "True" => "Ready",
            Some(_) => "NotReady",
            None => "Unknown",
        }];
        if self.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
            state.push("SchedulingDisabled");
        }

        let info = status.and_then(|s| s.node_info.as_ref());
        let info_or_unknown = |field: fn(&k8s_openapi::api::core::v1::NodeSystemInfo) -> &str| {
            let value = info.map(field).unwrap_or_default();
            Value::String(if value.is_empty() { "<unknown>" } else { value }.to_owned())
        };
        let address = |type_: &str| {
            let addresses = status
                .and_then(|s| s.addresses.as_deref())
                .unwrap_or_default();
            let found = addresses
                .iter()
                .find(|a| a.type_ == type_)
                .map(|a| a.address.as_str());
            Value::String(found.unwrap_or("<none>").to_owned())
        };

        vec![
            name_cell(&self.metadata),
            Value::String(state.join(",")),
            Value::String(node_roles(&self.metadata)),
            age(&self.metadata, now),
            Value::String(info.map(|i| i.kubelet_version.clone()).unwrap_or_default()),
            address("InternalIP"),
            address("ExternalIP"),
            info_or_unknown(|i| &i.os_image),
            info_or_unknown(|i| &i.kernel_version),
            info_or_unknown(|i| &i.container_runtime_version),
        ]
    }
}

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role=<role>`
/// values, sorted and comma-joined; `<none>` without any.
fn node_roles(meta: &ObjectMeta) -> String {
    let mut roles = BTreeSet::new();
    for (key, value) in meta.labels.iter().flatten() {
        if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role);
            }
        } else if key == "kubernetes.io/role" && !value.is_empty() {
            roles.insert(value.as_str());
        }
    }
    if roles.is_empty() {
        "<none>".to_owned()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

// ---------------------------------------------------------------------------------------------
// Namespaces, events, leases

impl Printable for Namespace {
    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let phase = self
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        vec![
            name_cell(&self.metadata),
            Value::String(phase),
            age(&self.metadata, now),
        ]
    }
}

impl Printable for Event {
    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let is_set = |t: Option<Timestamp>| t.is_some_and(|t| t != GO_ZERO_TIME);
        let first_timestamp = self.first_timestamp.as_ref().map(|t| t.0);
        let first_seen = if is_set(first_timestamp) {
            since(first_timestamp, now)
        } else {
            since(self.event_time.as_ref().map(|t| t.0), now)
        };
        let last_timestamp = self.last_timestamp.as_ref().map(|t| t.0);
        let mut last_seen = if is_set(last_timestamp) {
            since(last_timestamp, now)
        } else {
            first_seen.clone()
        };
        let mut count = self.count.unwrap_or(0);
        if let Some(series) = &self.series {
            last_seen = since(series.last_observed_time.as_ref().map(|t| t.0), now);
            count = series.count.unwrap_or(0);
        } else if count == 0 {
            // Singleton events don't have a count set in the new API.
            count = 1;
        }

        let involved = &self.involved_object;
        let kind = involved.kind.as_deref().unwrap_or_default().to_lowercase();
        let target = match involved.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => format!("{kind}/{name}"),
            None => kind,
        };
        let source = self.source.as_ref();
        let component = first_non_empty(
            source.and_then(|s| s.component.as_deref()),
            self.reporting_component.as_deref(),
        );
        let instance = first_non_empty(
            source.and_then(|s| s.host.as_deref()),
            self.reporting_instance.as_deref(),
        );
        let source = if instance.is_empty() {
            component.to_owned()
        } else {
            format!("{component}, {instance}")
        };
        let string = |s: Option<&str>| Value::String(s.unwrap_or_default().to_owned());

        vec![
            Value::String(last_seen),
            string(self.type_.as_deref()),
            string(self.reason.as_deref()),
            Value::String(target),
            string(involved.field_path.as_deref()),
            Value::String(source),
            Value::String(
                self.message
                    .as_deref()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            ),
            Value::String(first_seen),
            Value::from(i64::from(count)),
            name_cell(&self.metadata),
        ]
    }
}

fn first_non_empty<'a>(a: Option<&'a str>, b: Option<&'a str>) -> &'a str {
    [a, b]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

impl Printable for Lease {
    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let holder = self
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.clone())
            .unwrap_or_default();
        vec![
            name_cell(&self.metadata),
            Value::String(holder),
            age(&self.metadata, now),
        ]
    }
}

/// `printPriorityClass`.
impl Printable for PriorityClass {
    fn cells(&self, now: Timestamp) -> Vec<Value> {
        vec![
            name_cell(&self.metadata),
            Value::from(self.value),
            Value::Bool(self.global_default.unwrap_or(false)),
            age(&self.metadata, now),
            Value::String(self.preemption_policy.clone().unwrap_or_default()),
        ]
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-03-01T12:00:00Z".parse().unwrap()
    }

    /// RFC 3339 for `secs` seconds before `now()`.
    fn ago(secs: i64) -> String {
        (now() - SignedDuration::from_secs(secs)).to_string()
    }

    fn pod(value: Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    fn cells(row: &TableRow) -> Vec<&str> {
        row.cells
            .iter()
            .map(|c| c.as_str().unwrap_or("<not a string>"))
            .collect()
    }

    fn pod_cells(value: Value) -> Vec<String> {
        let row = pod_row(&pod(value), now(), RowObject::None);
        cells(&row).into_iter().map(str::to_owned).collect()
    }

    fn status_of(value: Value) -> String {
        pod_cells(value)[2].clone()
    }

    fn secs(s: i64) -> SignedDuration {
        SignedDuration::from_secs(s)
    }

    #[test]
    fn human_duration_matches_apimachinery() {
        let cases = [
            (-5, "<invalid>"),
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (1, "1s"),
            (59, "59s"),
            (60, "60s"),
            (119, "119s"),
            (120, "2m"),
            (123, "2m3s"),
            (599, "9m59s"),
            (600, "10m"),
            (61 * 60, "61m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (7 * 3600 + 59 * 60, "7h59m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (2 * 86400 + 5 * 3600, "2d5h"),
            (7 * 86400 + 23 * 3600, "7d23h"),
            (8 * 86400, "8d"),
            (400 * 86400, "400d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (740 * 86400, "2y10d"),
            (8 * 365 * 86400 - 86400, "7y364d"),
            (8 * 365 * 86400, "8y"),
            (3000 * 86400, "8y"),
        ];
        for (s, want) in cases {
            assert_eq!(human_duration(secs(s)), want, "{s}s");
        }
        // Sub-second parts truncate toward zero, like Go's int conversion.
        assert_eq!(human_duration(SignedDuration::from_millis(-1500)), "0s");
        assert_eq!(
            human_duration(SignedDuration::from_millis(-2500)),
            "<invalid>"
        );
        assert_eq!(human_duration(SignedDuration::from_millis(59_999)), "59s");
        // Go's time.Duration saturates at ~292 years.
        assert_eq!(human_duration(secs(500 * 365 * 86400)), "292y");
        assert_eq!(human_duration(SignedDuration::MIN), "<invalid>");
    }

    #[test]
    fn since_handles_missing_and_zero_times() {
        assert_eq!(since(None, now()), "<unknown>");
        assert_eq!(since(Some(GO_ZERO_TIME), now()), "<unknown>");
        assert_eq!(GO_ZERO_TIME.to_string(), "0001-01-01T00:00:00Z");
        assert_eq!(since(Some(now() + secs(10)), now()), "<invalid>");
        assert_eq!(since(Some(now() - secs(3)), now()), "3s");
    }

    /// The pods of a typical `kubectl get pods -o wide`, cell by cell.
    #[test]
    fn pod_table_cells() {
        let containers = json!([{"name": "main", "image": "nginx"}]);
        let pods = [
            json!({"metadata": {"name": "pending", "creationTimestamp": ago(300)},
                   "spec": {"containers": containers},
                   "status": {"phase": "Pending", "conditions": [
                       {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}}),
            json!({"metadata": {"name": "creating", "creationTimestamp": ago(3)},
                   "spec": {"containers": containers, "nodeName": "box"},
                   "status": {"phase": "Pending", "hostIP": "10.0.0.1", "containerStatuses": [
                       {"name": "main", "image": "nginx", "imageID": "", "ready": false, "restartCount": 0,
                        "started": false, "state": {"waiting": {"reason": "ContainerCreating"}}}]}}),
            json!({"metadata": {"name": "web", "creationTimestamp": ago(3 * 3600 + 5 * 60)},
                   "spec": {"containers": containers, "nodeName": "box"},
                   "status": {"phase": "Running", "podIP": "10.88.0.6", "podIPs": [{"ip": "10.88.0.6"}],
                              "conditions": [{"type": "Ready", "status": "True"}],
                              "containerStatuses": [
                       {"name": "main", "image": "nginx", "imageID": "", "ready": true, "restartCount": 0,
                        "started": true, "state": {"running": {"startedAt": ago(3 * 3600)}}}]}}),
            json!({"metadata": {"name": "crashy", "creationTimestamp": ago(125)},
                   "spec": {"containers": containers, "nodeName": "box"},
                   "status": {"phase": "Running", "podIP": "10.88.0.7", "containerStatuses": [
                       {"name": "main", "image": "nginx", "imageID": "", "ready": false, "restartCount": 3,
                        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                        "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                                     "startedAt": ago(21), "finishedAt": ago(20)}}}]}}),
            json!({"metadata": {"name": "done", "creationTimestamp": ago(2 * 86400)},
                   "spec": {"containers": containers, "nodeName": "box"},
                   "status": {"phase": "Succeeded", "podIP": "10.88.0.8", "containerStatuses": [
                       {"name": "main", "image": "nginx", "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}}),
            json!({"metadata": {"name": "failed", "creationTimestamp": ago(400 * 86400)},
                   "spec": {"containers": containers, "nodeName": "box"},
                   "status": {"phase": "Failed", "containerStatuses": [
                       {"name": "main", "image": "nginx", "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}),
            json!({"metadata": {"name": "init", "creationTimestamp": ago(59)},
                   "spec": {"initContainers": [{"name": "setup", "image": "busybox"}],
                            "containers": containers, "nodeName": "box"},
                   "status": {"phase": "Pending", "podIP": "10.88.0.9",
                              "conditions": [{"type": "Initialized", "status": "False"}],
                              "initContainerStatuses": [
                       {"name": "setup", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
                        "started": true, "state": {"running": {"startedAt": ago(5)}}}],
                              "containerStatuses": [
                       {"name": "main", "image": "nginx", "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"waiting": {"reason": "PodInitializing"}}}]}}),
            json!({"metadata": {"name": "leaving", "creationTimestamp": ago(600),
                                "deletionTimestamp": ago(-30), "deletionGracePeriodSeconds": 30},
                   "spec": {"containers": containers, "nodeName": "box"},
                   "status": {"phase": "Running", "podIP": "10.88.0.10", "nominatedNodeName": "box2",
                              "containerStatuses": [
                       {"name": "main", "image": "nginx", "imageID": "", "ready": true, "restartCount": 0,
                        "state": {"running": {}}}]}}),
        ];
        let want = [
            [
                "pending", "0/1", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>",
            ],
            [
                "creating",
                "0/1",
                "ContainerCreating",
                "0",
                "3s",
                "<none>",
                "box",
                "<none>",
                "<none>",
            ],
            [
                "web",
                "1/1",
                "Running",
                "0",
                "3h5m",
                "10.88.0.6",
                "box",
                "<none>",
                "<none>",
            ],
            [
                "crashy",
                "0/1",
                "CrashLoopBackOff",
                "3 (20s ago)",
                "2m5s",
                "10.88.0.7",
                "box",
                "<none>",
                "<none>",
            ],
            [
                "done",
                "0/1",
                "Completed",
                "0",
                "2d",
                "10.88.0.8",
                "box",
                "<none>",
                "<none>",
            ],
            [
                "failed", "0/1", "Error", "0", "400d", "<none>", "box", "<none>", "<none>",
            ],
            [
                "init",
                "0/1",
                "Init:0/1",
                "0",
                "59s",
                "10.88.0.9",
                "box",
                "<none>",
                "<none>",
            ],
            [
                "leaving",
                "1/1",
                "Terminating",
                "0",
                "10m",
                "10.88.0.10",
                "box",
                "box2",
                "<none>",
            ],
        ];
        for (value, want) in pods.into_iter().zip(want) {
            assert_eq!(pod_cells(value), want);
        }
    }

    #[test]
    fn pod_container_reasons() {
        let statuses = |state: Value| {
            json!({"spec": {"containers": [{"name": "a"}]},
                   "status": {"phase": "Running", "containerStatuses": [
                       {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                        "state": state}]}})
        };
        assert_eq!(
            status_of(statuses(
                json!({"terminated": {"exitCode": 137, "signal": 9}})
            )),
            "Signal:9"
        );
        assert_eq!(
            status_of(statuses(json!({"terminated": {"exitCode": 2}}))),
            "ExitCode:2"
        );
        assert_eq!(
            status_of(statuses(
                json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}})
            )),
            "OOMKilled"
        );
        assert_eq!(
            status_of(statuses(json!({"waiting": {"reason": "ImagePullBackOff"}}))),
            "ImagePullBackOff"
        );
        // A waiting container without a reason leaves the phase.
        assert_eq!(status_of(statuses(json!({"waiting": {}}))), "Running");
        // A running container that is not ready does not change the status either.
        assert_eq!(status_of(statuses(json!({"running": {}}))), "Running");

        // The first container is reported last, so it wins.
        let two = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]},
               "status": {"phase": "Running", "containerStatuses": [
                   {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 1,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                   {"name": "b", "image": "", "imageID": "", "ready": false, "restartCount": 1,
                    "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}});
        assert_eq!(pod_cells(two)[1..4], ["0/2", "CrashLoopBackOff", "2"]);
    }

    #[test]
    fn pod_status_reason_and_gates() {
        // status.reason overrides the phase.
        let evicted = json!({"spec": {"containers": [{"name": "a"}]},
                             "status": {"phase": "Failed", "reason": "Evicted"}});
        assert_eq!(status_of(evicted), "Evicted");

        let gated = json!({"spec": {"containers": [{"name": "a"}], "schedulingGates": [{"name": "g"}]},
                           "status": {"phase": "Pending", "conditions": [
                               {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}});
        assert_eq!(status_of(gated), "SchedulingGated");

        // A node-lost pod being deleted is Unknown; a finished one stays as it was.
        let lost = json!({"metadata": {"deletionTimestamp": ago(1)}, "spec": {"containers": [{"name": "a"}]},
                          "status": {"phase": "Running", "reason": "NodeLost"}});
        assert_eq!(status_of(lost), "Unknown");
        let done = json!({"metadata": {"deletionTimestamp": ago(1)}, "spec": {"containers": [{"name": "a"}]},
                          "status": {"phase": "Succeeded"}});
        assert_eq!(status_of(done), "Succeeded");

        let gates = json!({"spec": {"containers": [{"name": "a"}],
                                    "readinessGates": [{"conditionType": "x/a"}, {"conditionType": "x/b"}]},
                           "status": {"phase": "Running", "conditions": [
                               {"type": "x/a", "status": "True"}, {"type": "x/b", "status": "False"}]}});
        assert_eq!(pod_cells(gates)[8], "1/2");

        // podIP wins over a different podIPs[0]; podIPs alone is used too.
        let ips = json!({"status": {"podIP": "10.0.0.1", "podIPs": [{"ip": "fd00::1"}]}});
        assert_eq!(pod_cells(ips)[5], "10.0.0.1");
        let ips = json!({"status": {"podIPs": [{"ip": "fd00::1"}]}});
        assert_eq!(pod_cells(ips)[5], "fd00::1");
    }

    #[test]
    fn pod_init_containers() {
        let pod_with = |init_state: Value, restart_count: i32, initialized: &str| {
            json!({"spec": {"initContainers": [{"name": "i0"}, {"name": "i1"}], "containers": [{"name": "a"}]},
                   "status": {"phase": "Pending",
                              "conditions": [{"type": "Initialized", "status": initialized}],
                              "initContainerStatuses": [
                       {"name": "i0", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                       {"name": "i1", "image": "", "imageID": "", "ready": false, "restartCount": restart_count,
                        "state": init_state,
                        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(65)}}}],
                              "containerStatuses": [
                       {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"waiting": {"reason": "PodInitializing"}}}]}})
        };
        let cells = pod_cells(pod_with(json!({"running": {}}), 0, "False"));
        assert_eq!(cells[1..4], ["0/1", "Init:1/2", "0"]);
        let cells = pod_cells(pod_with(
            json!({"terminated": {"exitCode": 1, "reason": "Error"}}),
            2,
            "False",
        ));
        assert_eq!(cells[1..4], ["0/1", "Init:Error", "2 (65s ago)"]);
        let cells = pod_cells(pod_with(
            json!({"waiting": {"reason": "CrashLoopBackOff"}}),
            4,
            "False",
        ));
        assert_eq!(cells[1..4], ["0/1", "Init:CrashLoopBackOff", "4 (65s ago)"]);
        assert_eq!(
            status_of(pod_with(json!({"terminated": {"exitCode": 3}}), 0, "False")),
            "Init:ExitCode:3"
        );
        assert_eq!(
            status_of(pod_with(
                json!({"terminated": {"exitCode": 143, "signal": 15}}),
                0,
                "False"
            )),
            "Init:Signal:15"
        );
        // Waiting in PodInitializing counts as not started yet.
        assert_eq!(
            status_of(pod_with(
                json!({"waiting": {"reason": "PodInitializing"}}),
                0,
                "False"
            )),
            "Init:1/2"
        );
        // Once Initialized is True the regular containers decide, and the restarts of
        // (non-sidecar) init containers no longer count.
        let cells = pod_cells(pod_with(
            json!({"waiting": {"reason": "CrashLoopBackOff"}}),
            4,
            "True",
        ));
        assert_eq!(cells[1..4], ["0/1", "PodInitializing", "0"]);
    }

    #[test]
    fn pod_sidecars() {
        let sidecar_pod = |main_state: Value, main_ready: bool, ready_condition: &str| {
            json!({"spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
                            "containers": [{"name": "main"}]},
                   "status": {"phase": "Running",
                              "conditions": [{"type": "Initialized", "status": "True"},
                                             {"type": "Ready", "status": ready_condition}],
                              "initContainerStatuses": [
                       {"name": "proxy", "image": "", "imageID": "", "ready": true, "restartCount": 1,
                        "started": true, "state": {"running": {}},
                        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(30)}}}],
                              "containerStatuses": [
                       {"name": "main", "image": "", "imageID": "", "ready": main_ready, "restartCount": 0,
                        "state": main_state}]}})
        };
        let cells = pod_cells(sidecar_pod(json!({"running": {}}), true, "True"));
        assert_eq!(cells[1..4], ["2/2", "Running", "1 (30s ago)"]);
        // The main container completed while the sidecar still runs: Completed stays, as only
        // regular containers count as running.
        let cells = pod_cells(sidecar_pod(
            json!({"terminated": {"exitCode": 0, "reason": "Completed"}}),
            false,
            "False",
        ));
        assert_eq!(cells[1..4], ["1/2", "Completed", "1 (30s ago)"]);
    }

    #[test]
    fn pod_completed_with_running_container() {
        let pod_with = |ready_condition: &str| {
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]},
                   "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready_condition}],
                              "containerStatuses": [
                       {"name": "a", "image": "", "imageID": "", "ready": true, "restartCount": 0,
                        "state": {"running": {}}},
                       {"name": "b", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}})
        };
        assert_eq!(pod_cells(pod_with("True"))[1..3], ["1/2", "Running"]);
        assert_eq!(pod_cells(pod_with("False"))[1..3], ["1/2", "NotReady"]);
    }

    #[test]
    fn pod_row_conditions() {
        let done = pod(json!({"status": {"phase": "Succeeded"}}));
        assert_eq!(
            pod_row(&done, now(), RowObject::None).conditions,
            [POD_SUCCEEDED]
        );
        let failed = pod(json!({"status": {"phase": "Failed"}}));
        assert_eq!(
            pod_row(&failed, now(), RowObject::None).conditions,
            [POD_FAILED]
        );
        let running = pod(json!({"status": {"phase": "Running"}}));
        assert!(
            pod_row(&running, now(), RowObject::None)
                .conditions
                .is_empty()
        );
        let json = serde_json::to_value(pod_row(&done, now(), RowObject::None)).unwrap();
        assert_eq!(
            json["conditions"],
            json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                    "message": "The pod has completed successfully."}])
        );
    }

    fn node(value: Value) -> Node {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn node_cells() {
        let ready = node(json!({
            "metadata": {"name": "box", "creationTimestamp": ago(3600),
                         "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "box"}},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "Hostname", "address": "box"}, {"type": "InternalIP", "address": "10.0.0.1"}],
                "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                             "kernelVersion": "6.1.0-18-amd64", "containerRuntimeVersion": "containerd://1.7.13",
                             "architecture": "amd64", "bootID": "", "kubeProxyVersion": "", "machineID": "",
                             "operatingSystem": "linux", "systemUUID": ""}}}));
        let row = node_row(&ready, now(), RowObject::None);
        assert_eq!(
            cells(&row),
            [
                "box",
                "Ready",
                "control-plane",
                "60m",
                "v1.32.0",
                "10.0.0.1",
                "<none>",
                "Debian GNU/Linux 12 (bookworm)",
                "6.1.0-18-amd64",
                "containerd://1.7.13"
            ]
        );

        let cordoned = node(json!({
            "metadata": {"name": "w1", "creationTimestamp": ago(50 * 3600),
                         "labels": {"kubernetes.io/role": "worker", "node-role.kubernetes.io/infra": "true",
                                    "node-role.kubernetes.io/": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}],
                       "addresses": [{"type": "ExternalIP", "address": "203.0.113.5"}]}}));
        let row = node_row(&cordoned, now(), RowObject::None);
        assert_eq!(
            cells(&row),
            [
                "w1",
                "NotReady,SchedulingDisabled",
                "infra,worker",
                "2d2h",
                "",
                "<none>",
                "203.0.113.5",
                "<unknown>",
                "<unknown>",
                "<unknown>"
            ]
        );

        let bare = node(json!({"metadata": {"name": "new"}}));
        assert_eq!(
            cells(&node_row(&bare, now(), RowObject::None))[..5],
            ["new", "Unknown", "<none>", "<unknown>", ""]
        );

        // The last Ready condition wins.
        let twice = node(json!({"status": {"conditions": [
            {"type": "Ready", "status": "True"}, {"type": "Ready", "status": "False"}]}}));
        assert_eq!(
            cells(&node_row(&twice, now(), RowObject::None))[1],
            "NotReady"
        );
    }

    fn event(value: Value) -> Event {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn event_cells() {
        let scheduled = event(json!({
            "metadata": {"name": "web.17a2b3c4d5e6f708", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "uid": "u1", "apiVersion": "v1"},
            "reason": "Scheduled", "message": "Successfully assigned default/web to box\n", "type": "Normal",
            "source": {"component": "default-scheduler"},
            "firstTimestamp": ago(5), "lastTimestamp": ago(5), "count": 1}));
        let row = event_row(&scheduled, now(), RowObject::None);
        assert_eq!(
            row.cells,
            [
                json!("5s"),
                json!("Normal"),
                json!("Scheduled"),
                json!("pod/web"),
                json!(""),
                json!("default-scheduler"),
                json!("Successfully assigned default/web to box"),
                json!("5s"),
                json!(1),
                json!("web.17a2b3c4d5e6f708"),
            ]
        );

        // Repeats show in COUNT and FIRST SEEN only: no "(x3 over 2m)" in the Table printer.
        let backoff = event(json!({
            "metadata": {"name": "web.b"},
            "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{main}"},
            "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning",
            "source": {"component": "kubelet", "host": "box"},
            "firstTimestamp": ago(120), "lastTimestamp": ago(7), "count": 3}));
        let row = event_row(&backoff, now(), RowObject::None);
        assert_eq!(
            row.cells[..5],
            [
                json!("7s"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/web"),
                json!("spec.containers{main}")
            ]
        );
        assert_eq!(
            row.cells[5..9],
            [
                json!("kubelet, box"),
                json!("Back-off restarting failed container"),
                json!("2m"),
                json!(3)
            ]
        );

        // events.k8s.io-style: eventTime, series, reportingController/Instance, no name.
        let series = event(json!({
            "metadata": {"name": "n.c"},
            "involvedObject": {"kind": "Node"},
            "reason": "Starting", "type": "Normal", "eventTime": "2025-03-01T11:58:00.123456Z",
            "series": {"count": 4, "lastObservedTime": "2025-03-01T11:59:50.000000Z"},
            "reportingComponent": "kubelet", "reportingInstance": "box"}));
        let row = event_row(&series, now(), RowObject::None);
        assert_eq!(
            row.cells[..4],
            [
                json!("10s"),
                json!("Normal"),
                json!("Starting"),
                json!("node")
            ]
        );
        assert_eq!(
            row.cells[5..9],
            [json!("kubelet, box"), json!(""), json!("119s"), json!(4)]
        );

        // No count: a singleton. No times at all: <unknown>.
        let bare = event(json!({"metadata": {}, "involvedObject": {}}));
        let row = event_row(&bare, now(), RowObject::None);
        assert_eq!(row.cells[0], json!("<unknown>"));
        assert_eq!(row.cells[7..], [json!("<unknown>"), json!(1), json!("")]);
    }

    #[test]
    fn namespace_and_lease_cells() {
        let ns: Namespace = serde_json::from_value(json!({
            "metadata": {"name": "default", "creationTimestamp": ago(10 * 86400)},
            "status": {"phase": "Active"}}))
        .unwrap();
        assert_eq!(
            cells(&namespace_row(&ns, now(), RowObject::None)),
            ["default", "Active", "10d"]
        );
        let terminating: Namespace = serde_json::from_value(
            json!({"metadata": {"name": "old"}, "status": {"phase": "Terminating"}}),
        )
        .unwrap();
        assert_eq!(
            cells(&namespace_row(&terminating, now(), RowObject::None)),
            ["old", "Terminating", "<unknown>"]
        );

        let lease: Lease = serde_json::from_value(json!({
            "metadata": {"name": "box", "namespace": "kube-node-lease", "creationTimestamp": ago(90)},
            "spec": {"holderIdentity": "box", "leaseDurationSeconds": 40}}))
        .unwrap();
        assert_eq!(
            cells(&lease_row(&lease, now(), RowObject::None)),
            ["box", "box", "90s"]
        );
        assert_eq!(
            cells(&lease_row(&Lease::default(), now(), RowObject::None)),
            ["", "", "<unknown>"]
        );
    }

    #[test]
    fn empty_objects_never_panic_and_fill_every_column() {
        let check = |kind: &str, row: TableRow| {
            assert_eq!(row.cells.len(), column_definitions(kind).len(), "{kind}")
        };
        check("Pod", pod_row(&Pod::default(), now(), RowObject::Full));
        check("Node", node_row(&Node::default(), now(), RowObject::Full));
        check(
            "Namespace",
            namespace_row(&Namespace::default(), now(), RowObject::Full),
        );
        check(
            "Event",
            event_row(&Event::default(), now(), RowObject::Full),
        );
        check(
            "Lease",
            lease_row(&Lease::default(), now(), RowObject::Full),
        );
        assert_eq!(
            pod_cells(json!({})),
            [
                "",
                "0/0",
                "",
                "0",
                "<unknown>",
                "<none>",
                "<none>",
                "<none>",
                "<none>"
            ]
        );
        // Statuses for containers missing from the spec, and init statuses without a spec.
        let odd = json!({"status": {"initContainerStatuses": [
            {"name": "ghost", "image": "", "imageID": "", "ready": true, "restartCount": 1, "started": true}]}});
        assert_eq!(pod_cells(odd)[1..4], ["0/0", "Init:0/0", "1"]);
    }

    #[test]
    fn column_definitions_per_kind() {
        let names = |kind: &str| {
            column_definitions(kind)
                .iter()
                .map(|c| (c.name, c.priority))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("Pod"),
            [
                ("Name", 0),
                ("Ready", 0),
                ("Status", 0),
                ("Restarts", 0),
                ("Age", 0),
                ("IP", 1),
                ("Node", 1),
                ("Nominated Node", 1),
                ("Readiness Gates", 1)
            ]
        );
        assert_eq!(
            names("Node"),
            [
                ("Name", 0),
                ("Status", 0),
                ("Roles", 0),
                ("Age", 0),
                ("Version", 0),
                ("Internal-IP", 1),
                ("External-IP", 1),
                ("OS-Image", 1),
                ("Kernel-Version", 1),
                ("Container-Runtime", 1)
            ]
        );
        assert_eq!(names("Namespace"), [("Name", 0), ("Status", 0), ("Age", 0)]);
        assert_eq!(
            names("Event"),
            [
                ("Last Seen", 0),
                ("Type", 0),
                ("Reason", 0),
                ("Object", 0),
                ("Subobject", 1),
                ("Source", 1),
                ("Message", 0),
                ("First Seen", 1),
                ("Count", 1),
                ("Name", 1)
            ]
        );
        assert_eq!(names("Lease"), [("Name", 0), ("Holder", 0), ("Age", 0)]);
        assert_eq!(names("ConfigMap"), [("Name", 0), ("Created At", 0)]);
        // Exactly one name column per kind.
        for kind in ["Pod", "Node", "Namespace", "Event", "Lease", "ConfigMap"] {
            let formats: Vec<_> = column_definitions(kind)
                .iter()
                .map(|c| c.format)
                .filter(|f| !f.is_empty())
                .collect();
            assert_eq!(formats, ["name"], "{kind}");
        }
        assert_eq!(column_definitions("ConfigMap")[1].type_, "date");
    }

    #[test]
    fn include_object_values() {
        assert_eq!(
            RowObject::from_include_object(None),
            Some(RowObject::Metadata)
        );
        assert_eq!(
            RowObject::from_include_object(Some("")),
            Some(RowObject::Metadata)
        );
        assert_eq!(
            RowObject::from_include_object(Some("Metadata")),
            Some(RowObject::Metadata)
        );
        assert_eq!(
            RowObject::from_include_object(Some("Object")),
            Some(RowObject::Full)
        );
        assert_eq!(
            RowObject::from_include_object(Some("None")),
            Some(RowObject::None)
        );
        assert_eq!(RowObject::from_include_object(Some("object")), None);
    }

    fn web() -> Pod {
        pod(json!({
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                         "uid": "0b8f5c6e-1d2a-4c3b-9e8f-7a6b5c4d3e2f",
                         "creationTimestamp": "2025-03-01T12:00:00Z", "resourceVersion": "105"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}], "nodeName": "box"},
            "status": {"phase": "Running", "podIP": "10.88.0.6", "podIPs": [{"ip": "10.88.0.6"}],
                       "containerStatuses": [{"name": "web", "image": "nginx", "imageID": "", "ready": true,
                                              "restartCount": 0, "state": {"running": {}}}]}}))
    }

    /// The shape of kubectl.md §3.2, field for field.
    #[test]
    fn table_json() {
        let table = table(
            "Pod",
            vec![pod_row(&web(), now(), RowObject::Metadata)],
            "107",
            true,
        );
        let json = serde_json::to_value(&table).unwrap();
        let column = |name: &str, format: &str, description: &str, priority: i32| json!({"name": name, "type": "string", "format": format, "description": description, "priority": priority});
        let want = json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": "107"},
            "columnDefinitions": [
                column("Name", "name", NAME_DOC, 0),
                column("Ready", "", "The aggregate readiness state of this pod for accepting traffic.", 0),
                column("Status", "", "The aggregate status of the containers in this pod.", 0),
                column("Restarts", "", POD_COLUMNS[3].description, 0),
                column("Age", "", CREATION_TIMESTAMP_DOC, 0),
                column("IP", "", POD_COLUMNS[5].description, 1),
                column("Node", "", POD_COLUMNS[6].description, 1),
                column("Nominated Node", "", POD_COLUMNS[7].description, 1),
                column("Readiness Gates", "", POD_COLUMNS[8].description, 1),
            ],
            "rows": [{
                "cells": ["web", "1/1", "Running", "0", "0s", "10.88.0.6", "box", "<none>", "<none>"],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                                 "uid": "0b8f5c6e-1d2a-4c3b-9e8f-7a6b5c4d3e2f",
                                 "creationTimestamp": "2025-03-01T12:00:00Z", "resourceVersion": "105"}
                }
            }]
        });
        assert_eq!(json, want);
        assert!(CREATION_TIMESTAMP_DOC.contains("UTC.\n\nPopulated"));
    }

    #[test]
    fn watch_tables_and_row_objects() {
        // A watch event after the first: one row, null columnDefinitions.
        let event = table(
            "Pod",
            vec![pod_row(&web(), now(), RowObject::None)],
            "108",
            false,
        );
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["columnDefinitions"], Value::Null);
        assert_eq!(json["rows"][0]["object"], Value::Null);
        assert_eq!(json["rows"].as_array().map(Vec::len), Some(1));

        // No resourceVersion: an empty metadata object, as Go's omitempty gives.
        let empty = table("Node", Vec::new(), "", true);
        let json = serde_json::to_value(&empty).unwrap();
        assert_eq!(json["metadata"], json!({}));
        assert_eq!(json["rows"], json!([]));
        assert_eq!(json["columnDefinitions"].as_array().map(Vec::len), Some(10));

        // includeObject=Object: the whole object, kind and apiVersion included.
        let full = pod_row(&web(), now(), RowObject::Full).object;
        assert_eq!(full["kind"], "Pod");
        assert_eq!(full["apiVersion"], "v1");
        assert_eq!(full["status"]["podIP"], "10.88.0.6");

        let many = table_of(&[web(), web()], now(), RowObject::Metadata, "9", true);
        assert_eq!(many.rows.len(), 2);
        assert_eq!(many.column_definitions.as_deref().map(<[_]>::len), Some(9));
    }

    #[test]
    fn default_table_for_other_kinds() {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "cfg", "creationTimestamp": "2025-03-01T11:00:00Z"}}))
        .unwrap();
        let row = default_row(&cm, RowObject::Metadata);
        assert_eq!(cells(&row), ["cfg", "2025-03-01T11:00:00Z"]);
        assert_eq!(row.object["kind"], "PartialObjectMetadata");
        assert_eq!(
            cells(&default_row(&ConfigMap::default(), RowObject::None)),
            ["", "0001-01-01T00:00:00Z"]
        );
    }
}
