//! "Why" for one pod: the scheduler's recorded attempts (filter verdicts per node, scores per
//! plugin, the outcome), and a FailedScheduling message taken apart clause by clause, each
//! clause with the field of the pod that it is about. Pure: the view calls these.

use k8s_openapi::api::core::v1::Pod;

/// A FailedScheduling message (`0/3 nodes are available: 1 node(s) had untolerated taint
/// {k: v}, 2 Insufficient cpu. preemption: …`) as its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Clauses {
    /// `0/3 nodes are available`
    pub head: String,
    /// `2 Insufficient cpu`, one per reason.
    pub reasons: Vec<String>,
    /// What preemption said, when it ran.
    pub preemption: Option<String>,
}

/// Splits a FailedScheduling message; a message of another shape is one head, no reasons.
pub fn clauses(message: &str) -> Clauses {
    let (main, preemption) = match message.split_once(" preemption: ") {
        Some((m, p)) => (m, Some(p.trim().to_string())),
        None => (message, None),
    };
    let main = main.trim().trim_end_matches('.');
    let Some((head, rest)) = main.split_once(": ") else {
        return Clauses {
            head: main.to_string(),
            reasons: Vec::new(),
            preemption,
        };
    };
    // Reasons are joined with ", " but a taint's text has its own braces: split outside them.
    let mut reasons = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 && chars.peek() == Some(&' ') => {
                chars.next();
                reasons.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.is_empty() {
        reasons.push(current);
    }
    Clauses {
        head: head.to_string(),
        reasons,
        preemption,
    }
}

/// The part of the pod a scheduling reason is about, in words a learner can act on.
pub fn field_for(reason: &str, pod: Option<&Pod>) -> Option<String> {
    let containers_requesting = |resource: &str| -> String {
        let names: Vec<String> = pod
            .and_then(|p| p.spec.as_ref())
            .map(|s| {
                s.containers
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| {
                        c.resources
                            .as_ref()
                            .and_then(|r| r.requests.as_ref())
                            .is_some_and(|r| r.contains_key(resource))
                    })
                    .map(|(i, c)| {
                        let q = c
                            .resources
                            .as_ref()
                            .and_then(|r| r.requests.as_ref())
                            .and_then(|r| r.get(resource))
                            .map(|q| q.0.clone())
                            .unwrap_or_default();
                        format!(
                            "spec.containers[{i}].resources.requests.{resource} ({q}, {})",
                            c.name
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if names.is_empty() {
            format!("spec.containers[*].resources.requests.{resource}")
        } else {
            names.join(", ")
        }
    };
    let r = reason.to_lowercase();
    Some(if r.contains("insufficient cpu") {
        containers_requesting("cpu")
    } else if r.contains("insufficient memory") {
        containers_requesting("memory")
    } else if r.contains("insufficient ephemeral-storage") {
        containers_requesting("ephemeral-storage")
    } else if r.contains("node affinity/selector") {
        "spec.nodeSelector / spec.affinity.nodeAffinity".to_string()
    } else if r.contains("untolerated taint") {
        "spec.tolerations (the node's taints are not tolerated)".to_string()
    } else if r.contains("pod anti-affinity") {
        "spec.affinity.podAntiAffinity".to_string()
    } else if r.contains("pod affinity") {
        "spec.affinity.podAffinity".to_string()
    } else if r.contains("topology spread") {
        "spec.topologySpreadConstraints".to_string()
    } else if r.contains("free ports") {
        "spec.containers[*].ports[*].hostPort".to_string()
    } else if r.contains("were unschedulable") {
        "no field of the pod: the node is cordoned (spec.unschedulable on the Node)".to_string()
    } else if r.contains("too many pods") {
        "no field of the pod: the node runs as many pods as it allows".to_string()
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_scheduling_message_comes_apart_by_clause() {
        let c = clauses(
            "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true, x: y}, \
             2 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims \
             found for incoming pod.",
        );
        assert_eq!(c.head, "0/3 nodes are available");
        assert_eq!(
            c.reasons,
            [
                "1 node(s) had untolerated taint {gpu: true, x: y}",
                "2 Insufficient cpu"
            ]
        );
        assert_eq!(
            c.preemption.as_deref(),
            Some("0/3 nodes are available: 3 No preemption victims found for incoming pod.")
        );
    }

    #[test]
    fn reasons_name_the_field_with_its_value() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "big"},
            "spec": {"containers": [{"name": "app", "image": "x",
                "resources": {"requests": {"cpu": "64"}}}]}
        }))
        .unwrap();
        assert_eq!(
            field_for("3 Insufficient cpu", Some(&pod)).as_deref(),
            Some("spec.containers[0].resources.requests.cpu (64, app)")
        );
        assert_eq!(field_for("something new", Some(&pod)), None);
    }
}
