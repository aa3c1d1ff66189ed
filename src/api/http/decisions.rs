//! `GET /kubox/v1/decisions/{namespace}/{name}`: the scheduler's recorded attempts for a pod, as
//! JSON — kubox's own path (Kubernetes has none), so tools other than the TUI can show "why".
//!
//! ```json
//! {"pod": "default/web", "attempts": [{"attempt": 1, "at": "…", "outcome": {"scheduled": "node-2"},
//!   "nodesTotal": 3, "nodesFeasible": 2, "sampled": false,
//!   "filter": [{"node": "node-1", "verdict": "Unschedulable", "plugin": "NodeResourcesFit",
//!               "reasons": ["Insufficient cpu"]}, …],
//!   "scores": [{"node": "node-2", "total": 412, "plugins": [{"plugin": "TaintToleration",
//!               "raw": 0, "normalized": 100, "weight": 3, "weighted": 300}, …]}, …],
//!   "preemption": {"status": "…", "nominatedNode": "node-1", "victims": ["default/low"]}}]}
//! ```

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::HttpState;
use super::response;
use crate::api::error::ApiError;
use crate::scheduler::framework::Code;
use crate::scheduler::run::DecisionRecord;
use crate::scheduler::schedule_one::Outcome;

fn code(c: Code) -> &'static str {
    match c {
        Code::Success => "Success",
        Code::Unschedulable => "Unschedulable",
        Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
        Code::Error => "Error",
        Code::Skip => "Skip",
    }
}

fn record_json(r: &DecisionRecord) -> Value {
    let d = &r.decision;
    let outcome = match &d.outcome {
        Outcome::Scheduled { node } => json!({"scheduled": node}),
        Outcome::Unschedulable { message } => json!({"unschedulable": message}),
        Outcome::Error { message } => json!({"error": message}),
    };
    let filter: Vec<Value> = d
        .verdicts
        .iter()
        .map(|v| {
            json!({"node": &*v.node, "verdict": code(v.status.code), "plugin": v.status.plugin,
                "reasons": v.status.reasons})
        })
        .collect();
    let scores: Vec<Value> = d
        .scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let plugins: Vec<Value> = d
                .scores
                .plugins_of(i)
                .iter()
                .map(|p| {
                    json!({"plugin": p.plugin, "raw": p.raw, "normalized": p.normalized,
                        "weight": p.weight, "weighted": p.weighted})
                })
                .collect();
            json!({"node": &*s.node, "total": s.total, "plugins": plugins})
        })
        .collect();
    let preemption = d.post_filter.as_ref().map(|p| {
        let (node, victims) = match &p.result {
            Some(r) => (
                r.nominated_node.clone(),
                r.victims
                    .iter()
                    .map(|v| format!("{}/{}", v.namespace, v.name))
                    .collect(),
            ),
            None => (String::new(), Vec::new()),
        };
        json!({"status": p.status.to_string(), "nominatedNode": node, "victims": victims})
    });
    json!({
        "attempt": r.attempt,
        "at": r.at.to_string(),
        "outcome": outcome,
        "nodesTotal": d.nodes_total,
        "nodesFeasible": d.nodes_feasible,
        "sampled": d.sampled,
        "filter": filter,
        "scores": scores,
        "preemption": preemption,
    })
}

pub async fn pod_decisions(
    State(st): State<HttpState>,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    let Some(records) = &st.decisions else {
        return response::error(&ApiError::unavailable("no scheduler runs in this kubox"));
    };
    let key = format!("{namespace}/{name}");
    let attempts: Vec<Value> = records.for_pod(&key).iter().map(record_json).collect();
    if attempts.is_empty() {
        return response::error(&ApiError::not_found("decisions", "kubox", &key));
    }
    response::json(json!({"pod": key, "attempts": attempts}))
}
