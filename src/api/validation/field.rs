//! Field-level validation errors rendered exactly like apimachinery's `field.Error`
//! (`staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go`, v1.32), the
//! field path builder (`field.Path`), error aggregation (`utilerrors.NewAggregate`) and the
//! API server's `… is invalid: …` message (`apierrors.NewInvalid`).

use std::fmt;

/// The kind of a field error (Go `field.ErrorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldErrorKind {
    /// `Not found`
    NotFound,
    /// `Required value`
    Required,
    /// `Duplicate value`
    Duplicate,
    /// `Invalid value`
    Invalid,
    /// `Unsupported value`
    NotSupported,
    /// `Forbidden`
    Forbidden,
    /// `Too long`
    TooLong,
    /// `Too many`
    TooMany,
    /// `Internal error`
    Internal,
}

impl FieldErrorKind {
    /// The human text Go's `ErrorType.String()` returns.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }

    /// The machine-readable `StatusCause.type` (`FieldValueRequired`, ...).
    pub fn cause_reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
        }
    }

    /// Kinds whose message never shows the bad value.
    fn hides_value(self) -> bool {
        matches!(
            self,
            Self::Required | Self::Forbidden | Self::TooLong | Self::Internal
        )
    }
}

impl fmt::Display for FieldErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field path such as `spec.containers[0].resources.requests[cpu]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path(String);

impl Path {
    /// A root path (`Path::new("spec")`).
    pub fn new(name: &str) -> Path {
        Path(name.to_string())
    }

    /// `parent.name`
    pub fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    /// `parent[index]`
    pub fn index(&self, index: usize) -> Path {
        Path(format!("{}[{index}]", self.0))
    }

    /// `parent[key]`
    pub fn key(&self, key: &str) -> Path {
        Path(format!("{}[{key}]", self.0))
    }

    /// The rendered path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&Path> for String {
    fn from(path: &Path) -> String {
        path.0.clone()
    }
}

impl From<Path> for String {
    fn from(path: Path) -> String {
        path.0
    }
}

/// A bad value, rendered the way `field.Error` prints it: strings are Go-quoted (`%q`),
/// numbers and booleans are bare, absent pointers print `null`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value(String);

impl Value {
    /// An already rendered value (used for Go `Stringer` and `%#v` renderings).
    pub fn raw(rendered: impl Into<String>) -> Value {
        Value(rendered.into())
    }

    /// A nil pointer or nil interface: `null`.
    pub fn null() -> Value {
        Value("null".to_string())
    }

    /// A `*int64` style value: the number, or `null`.
    pub fn opt_int(value: Option<i64>) -> Value {
        value.map_or_else(Value::null, Value::from)
    }

    /// The rendered text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value(go_quote(s))
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value(go_quote(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value(go_quote(&s))
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value(n.to_string())
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value(n.to_string())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value(b.to_string())
    }
}

/// One validation failure on one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// What went wrong.
    pub kind: FieldErrorKind,
    /// The field path, e.g. `spec.containers[0].image`.
    pub field: String,
    /// The bad value, already rendered (see [`Value`]); `None` when Kubernetes omits it.
    pub bad_value: Option<String>,
    /// Extra explanation appended after the value.
    pub detail: String,
}

impl FieldError {
    fn build(
        kind: FieldErrorKind,
        field: impl Into<String>,
        value: Option<Value>,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            kind,
            field: field.into(),
            bad_value: value.map(|v| v.0),
            detail: detail.into(),
        }
    }

    /// Go `field.Required(path, detail)`.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        Self::build(FieldErrorKind::Required, field, None, detail)
    }

    /// Go `field.Invalid(path, value, detail)`.
    pub fn invalid(
        field: impl Into<String>,
        value: impl Into<Value>,
        detail: impl Into<String>,
    ) -> FieldError {
        Self::build(FieldErrorKind::Invalid, field, Some(value.into()), detail)
    }

    /// Go `field.NotSupported(path, value, valid)`: `supported values: "a", "b"`.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl Into<Value>,
        valid: &[&str],
    ) -> FieldError {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::build(
            FieldErrorKind::NotSupported,
            field,
            Some(value.into()),
            detail,
        )
    }

    /// Go `field.Forbidden(path, detail)`.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        Self::build(FieldErrorKind::Forbidden, field, None, detail)
    }

    /// Go `field.Duplicate(path, value)`.
    pub fn duplicate(field: impl Into<String>, value: impl Into<Value>) -> FieldError {
        Self::build(FieldErrorKind::Duplicate, field, Some(value.into()), "")
    }

    /// Go `field.NotFound(path, value)`.
    pub fn not_found(field: impl Into<String>, value: impl Into<Value>) -> FieldError {
        Self::build(FieldErrorKind::NotFound, field, Some(value.into()), "")
    }

    /// Go `field.TooLong(path, value, max)`: `must have at most N bytes` (v1.32 wording).
    pub fn too_long(field: impl Into<String>, max_bytes: usize) -> FieldError {
        let detail = format!("must have at most {max_bytes} bytes");
        Self::build(FieldErrorKind::TooLong, field, None, detail)
    }

    /// Go `field.TooMany(path, actual, max)`.
    pub fn too_many(field: impl Into<String>, actual: usize, max: usize) -> FieldError {
        let detail = format!("must have at most {max} items");
        let value = Value::raw(actual.to_string());
        Self::build(FieldErrorKind::TooMany, field, Some(value), detail)
    }

    /// Go `field.InternalError(path, err)`.
    pub fn internal(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        Self::build(FieldErrorKind::Internal, field, None, detail)
    }

    /// The same error with another detail text.
    pub fn with_detail(mut self, detail: impl Into<String>) -> FieldError {
        self.detail = detail.into();
        self
    }

    /// Go `ErrorBody()`: the message without the field name (the `StatusCause.message`).
    pub fn body(&self) -> String {
        let mut body = match (&self.bad_value, self.kind.hides_value()) {
            (Some(value), false) => format!("{}: {value}", self.kind),
            _ => self.kind.as_str().to_string(),
        };
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// Formats errors like `ErrorList.ToAggregate().Error()`: duplicates dropped, one error
/// printed alone, several as `[a, b]`, none as the empty string.
pub fn aggregate(errs: &[FieldError]) -> String {
    let mut messages: Vec<String> = Vec::new();
    for err in errs {
        let message = err.to_string();
        if !messages.contains(&message) {
            messages.push(message);
        }
    }
    match messages.len() {
        0 => String::new(),
        1 => messages.remove(0),
        _ => format!("[{}]", messages.join(", ")),
    }
}

/// The `Status.message` of a 422 Invalid response (`apierrors.NewInvalid`):
/// `Pod "web" is invalid: spec.containers[0].image: Required value`.
/// `kind` is the qualified kind (`Pod`, `Lease.coordination.k8s.io`). kubectl prints it
/// with a leading `The `.
pub fn invalid_message(kind: &str, name: &str, errs: &[FieldError]) -> String {
    let head = format!("{kind} {} is invalid", go_quote(name));
    if errs.is_empty() {
        head
    } else {
        format!("{head}: {}", aggregate(errs))
    }
}

/// Go's `strconv.Quote` (`%q`) for the characters that occur in API values.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%#v` of a `map[string]string` (keys sorted, as fmt does).
pub fn go_map_literal<'a>(entries: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut pairs: Vec<(&String, &String)> = entries.into_iter().collect();
    pairs.sort();
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
        .collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

/// Go's `%#v` of a `[]string`.
pub fn go_string_slice_literal(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_apimachinery() {
        let spec = Path::new("spec");
        let cases: Vec<(FieldError, &str)> = vec![
            (
                FieldError::required(spec.child("containers").index(0).child("image"), ""),
                "spec.containers[0].image: Required value",
            ),
            (
                FieldError::required("metadata.name", "name or generateName is required"),
                "metadata.name: Required value: name or generateName is required",
            ),
            (
                FieldError::invalid("metadata.name", "Web", "bad"),
                "metadata.name: Invalid value: \"Web\": bad",
            ),
            (
                FieldError::invalid("spec.containers[0].ports[0].containerPort", 70000, "x"),
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: x",
            ),
            (
                FieldError::invalid("spec.activeDeadlineSeconds", Value::null(), "y"),
                "spec.activeDeadlineSeconds: Invalid value: null: y",
            ),
            (
                FieldError::not_supported(
                    "spec.restartPolicy",
                    "Sometimes",
                    &["Always", "OnFailure", "Never"],
                ),
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \
                 \"Always\", \"OnFailure\", \"Never\"",
            ),
            (
                FieldError::forbidden("spec", "pod updates may not add or remove containers"),
                "spec: Forbidden: pod updates may not add or remove containers",
            ),
            (
                FieldError::duplicate("spec.containers[1].name", "app"),
                "spec.containers[1].name: Duplicate value: \"app\"",
            ),
            (
                FieldError::not_found("spec.containers[0].volumeMounts[0].name", "data"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
            ),
            (
                FieldError::too_long("metadata.annotations", 262144),
                "metadata.annotations: Too long: must have at most 262144 bytes",
            ),
            (
                FieldError::too_many("spec.x", 3, 2),
                "spec.x: Too many: 3: must have at most 2 items",
            ),
            (
                FieldError::internal("spec", "boom"),
                "spec: Internal error: boom",
            ),
            (
                FieldError::invalid("x", true, "z"),
                "x: Invalid value: true: z",
            ),
            (
                FieldError::invalid("x", Value::opt_int(Some(5)), "z"),
                "x: Invalid value: 5: z",
            ),
        ];
        for (err, expected) in cases {
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn builds_paths() {
        let path = Path::new("spec")
            .child("containers")
            .index(0)
            .child("resources")
            .child("requests")
            .key("cpu");
        assert_eq!(path.as_str(), "spec.containers[0].resources.requests[cpu]");
        assert_eq!(Path::new("").child("a").to_string(), "a");
        assert_eq!(String::from(Path::new("x")), "x");
    }

    #[test]
    fn aggregates_like_utilerrors() {
        let a = FieldError::required("a", "");
        let b = FieldError::required("b", "");
        assert_eq!(aggregate(&[]), "");
        assert_eq!(aggregate(std::slice::from_ref(&a)), "a: Required value");
        assert_eq!(
            aggregate(&[a.clone(), b.clone(), a.clone()]),
            "[a: Required value, b: Required value]"
        );
        assert_eq!(
            invalid_message("Pod", "web", std::slice::from_ref(&a)),
            "Pod \"web\" is invalid: a: Required value"
        );
        assert_eq!(invalid_message("Pod", "web", &[]), "Pod \"web\" is invalid");
    }

    #[test]
    fn exposes_cause_fields() {
        let err = FieldError::invalid("spec.x", "v", "bad");
        assert_eq!(err.body(), "Invalid value: \"v\": bad");
        assert_eq!(err.kind.cause_reason(), "FieldValueInvalid");
        assert_eq!(FieldErrorKind::Internal.cause_reason(), "InternalError");
        let detailed = FieldError::duplicate("p", "x").with_detail("why");
        assert_eq!(detailed.to_string(), "p: Duplicate value: \"x\": why");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\"b\\c\n\t\u{1}é"), "\"a\\\"b\\\\c\\n\\t\\x01é\"");
        assert_eq!(go_quote("\u{85}"), "\"\\u0085\"");
        let k = "b".to_string();
        let v = "2".to_string();
        let k2 = "a".to_string();
        assert_eq!(
            go_map_literal([(&k, &v), (&k2, &v)]),
            "map[string]string{\"a\":\"2\", \"b\":\"2\"}"
        );
        assert_eq!(
            go_string_slice_literal(&["x".to_string(), "y".to_string()]),
            "[]string{\"x\", \"y\"}"
        );
    }
}
