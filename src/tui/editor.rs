//! The YAML editor's logic: the text (ratatui-textarea), what it will do on apply (create a new
//! pod or replace the one being edited), and errors placed where they are in the text — the
//! line and column serde-saphyr gives for YAML, or the line of the field path the API server
//! names for a validation error. The user's text is never thrown away on an error.

use k8s_openapi::api::core::v1::Pod;
use ratatui_textarea::{CursorMove, TextArea};

use super::model::ObjKey;
use crate::api::http::unknown_fields;
use crate::api::yaml::{decode, parse_manifests};
use crate::api::{ApiError, Reason};

#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A new pod, from the sample in this file.
    New { sample: &'static str },
    /// The pod being edited.
    Edit(ObjKey),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EditorError {
    /// 1-based line (and column) in the editor's text, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The field path the API server named (`spec.containers[0].image`).
    pub field: Option<String>,
    pub message: String,
}

pub struct Editor {
    pub text: TextArea<'static>,
    pub origin: Origin,
    pub error: Option<EditorError>,
    /// A request is on its way to the API server.
    pub applying: bool,
    /// The text as it was opened (editing a pod): what the diff compares against.
    pub original: Option<String>,
    /// The diff shown before an edit is applied; a second ctrl-s applies it.
    pub review: Option<Vec<String>>,
}

impl std::fmt::Debug for Editor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Editor")
            .field("origin", &self.origin)
            .field("error", &self.error)
            .field("lines", &self.text.lines().len())
            .finish()
    }
}

impl Editor {
    pub fn new(text: &str, origin: Origin) -> Editor {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut area = TextArea::new(lines);
        area.set_tab_length(2);
        let original = matches!(origin, Origin::Edit(_)).then(|| text.to_string());
        Editor {
            text: area,
            origin,
            error: None,
            applying: false,
            original,
            review: None,
        }
    }

    /// The edit as a unified diff (one line of context), `None` when nothing changed.
    pub fn diff(&self) -> Option<Vec<String>> {
        let original = self.original.as_deref()?;
        let now = self.contents();
        let original = if original.ends_with('\n') {
            original.to_string()
        } else {
            format!("{original}\n")
        };
        let diff = similar::TextDiff::from_lines(&original, &now);
        let text = diff
            .unified_diff()
            .context_radius(1)
            .header("as it was", "as you edited it")
            .to_string();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        (!lines.is_empty()).then_some(lines)
    }

    pub fn contents(&self) -> String {
        let mut s = self.text.lines().join("\n");
        s.push('\n');
        s
    }

    /// Shows `err` and puts the cursor where it is.
    pub fn set_error(&mut self, err: EditorError) {
        if let Some(line) = err.line {
            let row = u16::try_from(line.saturating_sub(1)).unwrap_or(u16::MAX);
            let col = u16::try_from(err.column.unwrap_or(1).saturating_sub(1)).unwrap_or(0);
            self.text.move_cursor(CursorMove::Jump(row, col));
        }
        self.error = Some(err);
    }
}

/// The one Pod in `text`.
pub fn parse_pod(text: &str) -> Result<Pod, EditorError> {
    let manifests = parse_manifests(text).map_err(|e| EditorError {
        line: e.line,
        column: e.column,
        field: None,
        message: e.message,
    })?;
    let manifest = match manifests.as_slice() {
        [one] => one,
        [] => {
            return Err(plain(
                "there is no object in the text: write a Pod manifest",
            ));
        }
        more => {
            return Err(plain(format!(
                "the editor applies one pod at a time; the text has {} objects",
                more.len()
            )));
        }
    };
    let pod = decode::<Pod>(manifest).map_err(|e| EditorError {
        line: e.line,
        column: e.column,
        field: None,
        message: e.message,
    })?;
    // kubectl's default (`--validate=strict`) has the server refuse fields the schema does not
    // know; the in-process API takes typed objects, so the editor checks as the server would.
    let typed = serde_json::to_value(&pod).map_err(|e| plain(e.to_string()))?;
    let unknown = unknown_fields(&manifest.value, &typed);
    if let Some(first) = unknown.first() {
        let names: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field {f:?}"))
            .collect();
        return Err(EditorError {
            line: field_line(text, first),
            column: None,
            field: Some(first.clone()),
            message: format!("strict decoding error: {}", names.join(", ")),
        });
    }
    Ok(pod)
}

fn plain(message: impl Into<String>) -> EditorError {
    EditorError {
        line: None,
        column: None,
        field: None,
        message: message.into(),
    }
}

/// The API server's refusal, placed at the first field it names when that field is in `text`.
pub fn api_error(err: &ApiError, text: &str) -> EditorError {
    if err.reason == Reason::AlreadyExists {
        return EditorError {
            line: field_line(text, "metadata.name"),
            column: None,
            field: Some("metadata.name".into()),
            message: format!(
                "{}\nGive this one another metadata.name, or delete the other first (ctrl-d).",
                err.message
            ),
        };
    }
    if err.message.contains(IMMUTABLE) {
        return immutable(err, text);
    }
    let field = err
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|c| c.iter().find_map(|c| c.field.clone()))
        .filter(|f| !f.is_empty());
    let line = field.as_deref().and_then(|f| field_line(text, f));
    EditorError {
        line,
        column: None,
        field,
        message: err.message.clone(),
    }
}

/// What the API server says when an update touches a field of a pod that cannot change.
const IMMUTABLE: &str = "pod updates may not change fields other than";

/// The immutable-field refusal in plain words: what may change, what was changed (the API
/// server's diff lines, `spec.x: a -> b`), with the cursor on the first changed field.
fn immutable(err: &ApiError, text: &str) -> EditorError {
    // Several errors come as `…: [a, b]`: the last diff line then carries the `]`.
    let aggregate = err.message.contains(": [");
    let count = err.message.lines().count();
    let changed: Vec<&str> = err
        .message
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = l.trim();
            if aggregate && i + 1 == count {
                l.strip_suffix(']').unwrap_or(l)
            } else {
                l
            }
        })
        .filter(|l| l.starts_with("spec.") && l.contains(" -> "))
        .collect();
    let first = changed
        .first()
        .and_then(|l| l.split_once(": "))
        .map(|(path, _)| path.to_string());
    let mut message = String::from(
        "A pod's spec cannot change once the pod exists, except: a container's (or init \
         container's) image, activeDeadlineSeconds, new tolerations, and \
         terminationGracePeriodSeconds.",
    );
    if !changed.is_empty() {
        message.push_str("\nYou changed:");
        for c in &changed {
            message.push_str(&format!("\n  {c}"));
        }
    }
    message.push_str(
        "\nTo change anything else, delete the pod (ctrl-d) and create it again.\n\nThe API \
         server said: ",
    );
    message.push_str(&err.message);
    EditorError {
        line: first.as_deref().and_then(|f| field_line(text, f)),
        column: None,
        field: first.or_else(|| Some("spec".into())),
        message,
    }
}

/// One line of block YAML as far as finding keys needs: the key it starts (if any), its
/// column, and the column of a `- ` that starts a list item on it.
struct YamlLine<'a> {
    key: Option<&'a str>,
    key_indent: usize,
    dash: Option<usize>,
}

fn yaml_line(line: &str) -> Option<YamlLine<'_>> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let indent = line.len() - trimmed.len();
    let (dash, rest, key_indent) = match trimmed.strip_prefix("- ") {
        Some(rest) => {
            let inner = rest.trim_start();
            (Some(indent), inner, indent + 2 + (rest.len() - inner.len()))
        }
        None if trimmed == "-" => (Some(indent), "", indent + 2),
        None => (None, trimmed, indent),
    };
    let key = rest
        .split_once(':')
        .filter(|(_, v)| v.is_empty() || v.starts_with(' '))
        .map(|(k, _)| k.trim_matches(|c| c == '"' || c == '\''));
    Some(YamlLine {
        key,
        key_indent,
        dash,
    })
}

/// The 1-based line where `path` (`spec.containers[0].image`) is written in block YAML `text`.
pub fn field_line(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    // The mapping or list being searched holds what is deeper than this column (None: the
    // document's top level).
    let mut parent: Option<usize> = None;
    // After an index, the item's line: its first key follows its `- `.
    let mut item_line: Option<usize> = None;
    let mut found = None;
    for segment in segments(path) {
        let hit = match segment {
            Segment::Key(key) => {
                let mut child_indent = None;
                let mut hit = None;
                for (i, raw) in lines.iter().enumerate().skip(from) {
                    let Some(l) = yaml_line(raw) else { continue };
                    let own_item = item_line == Some(i);
                    let starts = l.dash.unwrap_or(l.key_indent);
                    if !own_item && parent.is_some_and(|p| starts <= p) {
                        break;
                    }
                    let indent = *child_indent.get_or_insert(l.key_indent);
                    if l.key_indent < indent {
                        break;
                    }
                    if l.key_indent == indent
                        && l.key == Some(key)
                        && (l.dash.is_none() || own_item)
                    {
                        hit = Some((i, i + 1, l.key_indent));
                        break;
                    }
                }
                item_line = None;
                hit
            }
            Segment::Index(n) => {
                let mut seen = 0;
                let mut item_indent = None;
                let mut hit = None;
                for (i, raw) in lines.iter().enumerate().skip(from) {
                    let Some(l) = yaml_line(raw) else { continue };
                    let starts = l.dash.unwrap_or(l.key_indent);
                    if parent.is_some_and(|p| starts < p) {
                        break;
                    }
                    let Some(dash) = l.dash else {
                        if starts <= item_indent.or(parent).unwrap_or(0) {
                            break;
                        }
                        continue;
                    };
                    let indent = *item_indent.get_or_insert(dash);
                    if dash < indent {
                        break;
                    }
                    if dash == indent {
                        if seen == n {
                            hit = Some((i, i, dash));
                            break;
                        }
                        seen += 1;
                    }
                }
                item_line = hit.map(|(i, _, _)| i);
                hit
            }
        };
        let (line, next, indent) = hit?;
        found = Some(line);
        from = next;
        parent = Some(indent);
    }
    found.map(|i| i + 1)
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let Some(end) = inner.find(']') else { break };
            let token = &inner[..end];
            out.push(match token.parse() {
                Ok(n) => Segment::Index(n),
                Err(_) => Segment::Key(token),
            });
            rest = inner[end + 1..].trim_start_matches('.');
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Segment::Key(&rest[..end]));
            rest = rest[end..].strip_prefix('.').unwrap_or(&rest[end..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: sidecar
    image: busybox
  - name: app
    image: nginx
    resources:
      requests:
        cpu: 500m
  restartPolicy: Always
";

    #[test]
    fn field_paths_find_their_line() {
        assert_eq!(field_line(POD, "metadata.name"), Some(4));
        assert_eq!(field_line(POD, "metadata.labels"), Some(5));
        assert_eq!(field_line(POD, "spec.containers[0].name"), Some(9));
        assert_eq!(field_line(POD, "spec.containers[1].image"), Some(12));
        assert_eq!(
            field_line(POD, "spec.containers[1].resources.requests"),
            Some(14)
        );
        assert_eq!(field_line(POD, "spec.restartPolicy"), Some(16));
        assert_eq!(field_line(POD, "spec.nodeSelector"), None);
        assert_eq!(field_line(POD, "spec.containers[2].image"), None);
    }

    #[test]
    fn a_yaml_error_has_its_line_and_column() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [web\n";
        let err = parse_pod(text).unwrap_err();
        assert!(err.line.is_some(), "{err:?}");
        assert!(!err.message.is_empty());
    }

    #[test]
    fn a_type_error_points_into_the_text() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: 3\n";
        let err = parse_pod(text).unwrap_err();
        assert_eq!(err.line, Some(6), "{err:?}");
    }

    #[test]
    fn an_unknown_field_is_refused_at_its_line() {
        let text = POD.replace(
            "    image: nginx",
            "    imagePullPolcy: Always\n    image: nginx",
        );
        let err = parse_pod(&text).unwrap_err();
        assert_eq!(
            err.message,
            r#"strict decoding error: unknown field "spec.containers[1].imagePullPolcy""#
        );
        assert_eq!(err.line, Some(12));
    }

    #[test]
    fn a_name_in_use_points_at_the_name() {
        let err = api_error(&ApiError::already_exists("pods", "", "web"), POD);
        assert_eq!(err.line, Some(4));
        assert!(err.message.starts_with(r#"pods "web" already exists"#));
    }

    #[test]
    fn an_immutable_field_is_explained_and_pointed_at() {
        let err = ApiError {
            code: 422,
            reason: Reason::Invalid,
            message: "Pod \"web\" is invalid: spec: Forbidden: pod updates may not change \
                      fields other than `spec.containers[*].image`\n\
                      spec.restartPolicy: \"Always\" -> \"Never\""
                .into(),
            details: None,
        };
        let e = api_error(&err, POD);
        assert_eq!(e.field.as_deref(), Some("spec.restartPolicy"));
        assert_eq!(e.line, Some(16));
        assert!(
            e.message
                .contains("You changed:\n  spec.restartPolicy: \"Always\" -> \"Never\"")
        );
        assert!(
            e.message
                .starts_with("A pod's spec cannot change once the pod exists")
        );
    }

    #[test]
    fn two_objects_are_refused_in_plain_words() {
        let text = format!("{POD}---\n{POD}");
        let err = parse_pod(&text).unwrap_err();
        assert_eq!(
            err.message,
            "the editor applies one pod at a time; the text has 2 objects"
        );
    }

    #[test]
    fn an_error_keeps_the_text_and_moves_the_cursor() {
        let mut e = Editor::new(POD, Origin::New { sample: "x" });
        e.set_error(EditorError {
            line: Some(12),
            column: Some(5),
            field: None,
            message: "bad".into(),
        });
        assert_eq!(e.text.cursor().0, 11);
        assert_eq!(e.contents(), POD);
    }
}
