//! Manifests in: one or many YAML (or JSON) documents, as `kubectl apply -f` reads them. Errors
//! name the document and, from serde-saphyr, the line and column in the whole text with a snippet
//! of it, shown as serde-saphyr writes them. Objects out: plain block YAML for editing.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// One object of a manifest file.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// 1-based number of the document in the file.
    pub document: usize,
    /// Position in a `List` document's `items`, when the object came from one.
    pub item: Option<usize>,
    /// 1-based line where the document starts.
    pub start_line: usize,
    pub api_version: String,
    pub kind: String,
    pub value: serde_json::Value,
    /// The document's text, padded so serde-saphyr's positions are those of the whole file.
    source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub document: Option<usize>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.document {
            Some(doc) => write!(f, "document {doc}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ManifestError {}

impl ManifestError {
    fn in_document(document: usize, message: impl Into<String>) -> Self {
        ManifestError {
            document: Some(document),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn from_yaml(document: usize, err: &serde_saphyr::Error) -> Self {
        let location = err.location();
        ManifestError {
            document: Some(document),
            line: location
                .as_ref()
                .and_then(|l| usize::try_from(l.line()).ok()),
            column: location
                .as_ref()
                .and_then(|l| usize::try_from(l.column()).ok()),
            message: err.to_string(),
        }
    }
}

/// A document's lines: `(first line, text)`, split at `---` markers.
fn documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut start = 1;
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let marker = line == "---" || line.starts_with("--- ") || line.starts_with("---\t");
        let end = line == "..." || line.starts_with("... ");
        if marker || end {
            docs.push((start, std::mem::take(&mut current)));
            start = i + 1;
            if end {
                start = i + 2;
                continue;
            }
        }
        current.push_str(line);
        current.push('\n');
    }
    docs.push((start, current));
    docs
}

/// True when the text holds nothing but blank lines, comments and a document marker.
fn is_blank(doc: &str) -> bool {
    doc.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    })
}

/// Reads every object in `text`. Empty documents are skipped; a `List` expands into its items.
pub fn parse_manifests(text: &str) -> Result<Vec<Manifest>, ManifestError> {
    let mut out = Vec::new();
    let mut number = 0;
    for (start_line, body) in documents(text) {
        if is_blank(&body) {
            continue;
        }
        number += 1;
        let padded = format!("{}{body}", "\n".repeat(start_line.saturating_sub(1)));
        let value: serde_json::Value =
            serde_saphyr::from_str(&padded).map_err(|e| ManifestError::from_yaml(number, &e))?;
        let (api_version, kind) = type_of(number, &value)?;
        let items = (kind == "List" || kind.ends_with("List"))
            .then(|| value.get("items").and_then(|i| i.as_array()).cloned())
            .flatten();
        match items {
            Some(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    let (api_version, kind) = type_of(number, &item).map_err(|e| {
                        ManifestError::in_document(number, format!("items[{i}]: {}", e.message))
                    })?;
                    out.push(Manifest {
                        document: number,
                        item: Some(i),
                        start_line,
                        api_version,
                        kind,
                        value: item,
                        source: None,
                    });
                }
            }
            None => out.push(Manifest {
                document: number,
                item: None,
                start_line,
                api_version,
                kind,
                value,
                source: Some(padded),
            }),
        }
    }
    Ok(out)
}

fn type_of(document: usize, value: &serde_json::Value) -> Result<(String, String), ManifestError> {
    let Some(obj) = value.as_object() else {
        return Err(ManifestError::in_document(
            document,
            format!(
                "expected an object (a mapping with apiVersion and kind), found {}",
                json_type(value)
            ),
        ));
    };
    let field = |name: &str| {
        obj.get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let compact = || serde_json::to_string(value).unwrap_or_default();
    let Some(kind) = field("kind") else {
        return Err(ManifestError::in_document(
            document,
            format!("Object 'Kind' is missing in '{}'", compact()),
        ));
    };
    let Some(api_version) = field("apiVersion") else {
        return Err(ManifestError::in_document(
            document,
            format!("Object 'apiVersion' is missing in '{}'", compact()),
        ));
    };
    Ok((api_version.to_string(), kind.to_string()))
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "nothing",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

/// Decodes one manifest into its k8s-openapi type. A type error in a document carries its line
/// and column in the whole file.
pub fn decode<K>(manifest: &Manifest) -> Result<K, ManifestError>
where
    K: k8s_openapi::Resource + DeserializeOwned,
{
    if manifest.kind != K::KIND || manifest.api_version != K::API_VERSION {
        return Err(ManifestError::in_document(
            manifest.document,
            format!(
                "is a {} ({}), not a {} ({})",
                manifest.kind,
                manifest.api_version,
                K::KIND,
                K::API_VERSION
            ),
        ));
    }
    match &manifest.source {
        Some(source) => serde_saphyr::from_str(source)
            .map_err(|e| ManifestError::from_yaml(manifest.document, &e)),
        None => serde_json::from_value(manifest.value.clone()).map_err(|e| {
            ManifestError::in_document(
                manifest.document,
                format!("items[{}]: {e}", manifest.item.unwrap_or(0)),
            )
        }),
    }
}

/// An object as block YAML, the form the editor shows.
pub fn to_yaml<T: Serialize>(obj: &T) -> Result<String, String> {
    serde_saphyr::to_string(obj).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Node, Pod};

    const THREE: &str = "\
# three documents, the second with a type error
apiVersion: v1
kind: Pod
metadata:
  name: one
spec:
  containers:
  - name: app
    image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  containers:
  - name: app
    image: busybox
    ports:
    - containerPort: eighty
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
";

    #[test]
    fn multi_document_file_reads_each_document() {
        let docs = parse_manifests(THREE).unwrap();
        let summary: Vec<_> = docs
            .iter()
            .map(|m| (m.document, m.kind.as_str(), m.start_line))
            .collect();
        assert_eq!(summary, [(1, "Pod", 1), (2, "Pod", 10), (3, "Node", 21)]);
        let pod: Pod = decode(&docs[0]).unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("one"));
        let node: Node = decode(&docs[2]).unwrap();
        assert_eq!(node.metadata.name.as_deref(), Some("node-1"));
    }

    #[test]
    fn type_error_names_document_line_and_column_of_the_whole_file() {
        let docs = parse_manifests(THREE).unwrap();
        let err = decode::<Pod>(&docs[1]).unwrap_err();
        assert_eq!(
            (err.document, err.line, err.column),
            (Some(2), Some(20), Some(22))
        );
        let shown = err.to_string();
        assert!(shown.starts_with("document 2: "), "{shown}");
        assert!(
            shown.contains("20 |     - containerPort: eighty"),
            "the snippet shows the real line: {shown}"
        );
        let err = decode::<Pod>(&docs[2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "document 3: is a Node (v1), not a Pod (v1)"
        );
    }

    #[test]
    fn syntax_errors_have_positions_and_never_panic() {
        let err =
            parse_manifests("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n labels: {}\n")
                .unwrap_err();
        assert_eq!(err.document, Some(1));
        assert!(err.line.is_some() && err.column.is_some(), "{err:?}");
        let err = parse_manifests("---\napiVersion: v1\n---\nkind: Pod\nmetadata:\n\tname: x\n")
            .unwrap_err();
        assert_eq!(
            err.document,
            Some(1),
            "the first document lacks a kind: {err}"
        );
        let err =
            parse_manifests("apiVersion: v1\nkind: Pod\n---\nkind: Pod\nmetadata: {name: \"open\n")
                .unwrap_err();
        assert_eq!(
            (err.document, err.line.map(|l| l >= 5)),
            (Some(2), Some(true)),
            "{err}"
        );
        for junk in [
            "",
            "---\n---\n",
            "[1, 2",
            "{",
            ": :",
            "- a\n- b",
            "\t\t",
            "kind: Pod",
            "\"\\x\"",
        ] {
            let _ = parse_manifests(junk);
        }
        assert!(parse_manifests("# nothing\n---\n").unwrap().is_empty());
    }

    #[test]
    fn missing_kind_uses_kubernetes_words() {
        let err = parse_manifests("apiVersion: v1\nmetadata:\n  name: x\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"document 1: Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"x"}}'"#
        );
    }

    #[test]
    fn lists_expand_and_json_is_yaml() {
        let list = r#"{"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}}]}"#;
        let docs = parse_manifests(list).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].item, Some(1));
        let pod: Pod = decode(&docs[1]).unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("b"));
    }

    #[test]
    fn yaml_out_round_trips() {
        let docs = parse_manifests(THREE).unwrap();
        let pod: Pod = decode(&docs[0]).unwrap();
        let text = to_yaml(&pod).unwrap();
        assert!(text.contains("kind: Pod\n"), "{text}");
        let again: Pod = decode(&parse_manifests(&text).unwrap()[0]).unwrap();
        assert_eq!(again, pod);
    }
}
