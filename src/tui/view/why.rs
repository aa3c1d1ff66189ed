//! The Why view: the scheduler's last attempt for the pod as a grid — each node's filter
//! verdict with the plugin and reason that rejected it, each plugin's raw → normalized × weight
//! = weighted score per node, the winner — and, while the pod is Pending, the FailedScheduling
//! message clause by clause with the pod's field each clause is about.

use k8s_openapi::api::core::v1::Pod;
use ratatui::text::{Line, Span};

use super::text::fit;
use crate::scheduler::framework::Code;
use crate::scheduler::run::DecisionRecord;
use crate::scheduler::schedule_one::Outcome;
use crate::tui::state::State;
use crate::tui::theme::Health;
use crate::tui::why::{clauses, field_for};

/// The Why view's lines for `pod` given its recorded attempts (`None`: not loaded yet).
pub fn lines(
    s: &State,
    pod: Option<&Pod>,
    records: Option<&[DecisionRecord]>,
    width: u16,
) -> Vec<Line<'static>> {
    let t = &s.theme;
    let mut out = Vec::new();
    let Some(records) = records else {
        out.push(Line::styled("reading the scheduler's records…", t.muted()));
        return out;
    };
    let Some(last) = records.last() else {
        let bound = pod
            .and_then(|p| p.spec.as_ref())
            .and_then(|s| s.node_name.clone());
        out.push(Line::styled(
            match bound {
                Some(n) => format!(
                    "The scheduler has no record of this pod: it was bound to {n} without it \
                     (spec.nodeName set in the manifest), or before this kubox started."
                ),
                None => "The scheduler has not tried this pod yet.".to_string(),
            },
            t.muted(),
        ));
        return out;
    };
    let d = &last.decision;
    let (verdict, health) = match &d.outcome {
        Outcome::Scheduled { node } => (format!("scheduled on {node}"), Health::Running),
        Outcome::Unschedulable { .. } => ("not scheduled: no node fits".into(), Health::Pending),
        Outcome::Error { message } => (format!("error: {message}"), Health::Failed),
    };
    out.push(Line::from(vec![
        Span::styled(
            format!(
                "attempt {} of {} recorded · {} · ",
                last.attempt,
                records.len(),
                last.at.strftime("%H:%M:%S")
            ),
            t.muted(),
        ),
        Span::styled(verdict, t.health(health)),
    ]));
    out.push(Line::styled(
        format!(
            "{} nodes, {} passed the filters{}",
            d.nodes_total,
            d.nodes_feasible,
            if d.sampled {
                " (filtering stopped early: enough nodes fit, as percentageOfNodesToScore does)"
            } else {
                ""
            }
        ),
        t.text(),
    ));
    out.push(Line::default());
    out.push(Line::styled(
        "Filter: each node, and the first plugin that rejected it",
        t.title(),
    ));
    let node_w = d
        .verdicts
        .iter()
        .map(|v| v.node.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    for v in &d.verdicts {
        let (mark, style, what) = match v.status.code {
            Code::Success => ("✓", t.health(Health::Running), "passed".to_string()),
            _ => (
                "✗",
                t.health(Health::Failed),
                format!("{}: {}", v.status.plugin, v.status.reasons.join(", ")),
            ),
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {:<node_w$}  ", v.node), t.text()),
            Span::styled(format!("{mark} "), style),
            Span::styled(
                fit(&what, usize::from(width).saturating_sub(node_w + 6)),
                t.text(),
            ),
        ]));
    }
    if !d.scores.is_empty() {
        out.push(Line::default());
        out.push(Line::styled(
            "Score: raw → normalized (0-100) × weight = weighted, per plugin and node",
            t.title(),
        ));
        let winner = match &d.outcome {
            Outcome::Scheduled { node } => Some(node.as_str()),
            _ => None,
        };
        let col = 18usize;
        let mut header = vec![Span::styled(format!("  {:<32}", "plugin"), t.muted())];
        for n in d.scores.iter() {
            header.push(Span::styled(
                format!("{:>col$}", fit(&n.node, col - 1)),
                t.muted(),
            ));
        }
        out.push(Line::from(header));
        let rows: Vec<_> = (0..d.scores.len())
            .map(|r| d.scores.plugins_of(r))
            .collect();
        for (i, (plugin, _)) in d.scores.plugins.iter().enumerate() {
            let mut row = vec![Span::styled(format!("  {:<32}", fit(plugin, 31)), t.text())];
            for scores in &rows {
                let cell = scores.get(i).map_or(String::new(), |p| {
                    format!("{}→{}×{}={}", p.raw, p.normalized, p.weight, p.weighted)
                });
                row.push(Span::styled(
                    format!("{:>col$}", fit(&cell, col - 1)),
                    t.text(),
                ));
            }
            out.push(Line::from(row));
        }
        let mut total = vec![Span::styled(format!("  {:<32}", "total"), t.title())];
        for n in d.scores.iter() {
            let star = if winner == Some(&*n.node) { "★ " } else { "" };
            let style = if star.is_empty() {
                t.text()
            } else {
                t.health(Health::Running)
            };
            total.push(Span::styled(
                format!("{:>col$}", format!("{star}{}", n.total)),
                style,
            ));
        }
        out.push(Line::from(total));
    }
    // Preemption that chose victims; a preemption that found none is the last clause of the
    // FailedScheduling message below.
    if let Some(r) = d.preemption() {
        out.push(Line::default());
        out.push(Line::styled("Preemption", t.title()));
        let victims: Vec<String> = r.victims.iter().map(|v| v.name.clone()).collect();
        out.push(Line::styled(
            format!(
                "  nominated {}; victims (deleted gracefully): {}",
                r.nominated_node,
                victims.join(", ")
            ),
            t.text(),
        ));
    }
    let pending = pod.is_some_and(|p| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_none()
    });
    if let (true, Outcome::Unschedulable { message }) = (pending, &d.outcome) {
        out.push(Line::default());
        out.push(Line::styled(
            "Why it is Pending: the FailedScheduling message, clause by clause",
            t.title(),
        ));
        let c = clauses(message);
        out.push(Line::styled(format!("  {}:", c.head), t.text()));
        for reason in &c.reasons {
            out.push(Line::styled(
                format!("    {reason}"),
                t.health(Health::Failed),
            ));
            if let Some(field) = field_for(reason, pod) {
                out.push(Line::from(vec![
                    Span::styled("      ← ", t.muted()),
                    Span::styled(field, t.key()),
                ]));
            }
        }
        if let Some(p) = c.preemption {
            out.push(Line::styled(format!("  preemption: {p}"), t.muted()));
        }
    }
    out
}
