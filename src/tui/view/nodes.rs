//! Nodes as boxes: Ready, zone, taints, requested-vs-allocatable bars for cpu, memory and pods,
//! and the node's pods as chips coloured by status. Also the one-line form for narrow screens.

use k8s_openapi::api::core::v1::Node;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::text::{bytes, cpu, fit, width};
use crate::scheduler::framework::resource::node_allocatable;
use crate::tui::state::State;
use crate::tui::theme::{Health, Theme};

pub const BOX_HEIGHT: u16 = 6;
pub const BOX_WIDTH: u16 = 44;

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

pub fn zone(node: &Node) -> &str {
    node.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("topology.kubernetes.io/zone"))
        .map_or("no zone", String::as_str)
}

pub fn taints(node: &Node) -> String {
    let taints: Vec<String> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .map(|t| match t.value.as_deref().filter(|v| !v.is_empty()) {
            Some(v) => format!("{}={v}:{}", t.key, t.effect),
            None => format!("{}:{}", t.key, t.effect),
        })
        .collect();
    let unschedulable = node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    match (taints.is_empty(), unschedulable) {
        (true, false) => "no taints".into(),
        (true, true) => "cordoned".into(),
        (false, false) => taints.join(", "),
        (false, true) => format!("cordoned, {}", taints.join(", ")),
    }
}

/// `▕████░░░░▏`-style bar without the ends.
fn bar(t: &Theme, used: i64, total: i64, cells: usize) -> Vec<Span<'static>> {
    let over = total > 0 && used > total;
    let filled = if total <= 0 {
        0
    } else {
        (((used.max(0) as f64 / total as f64) * cells as f64).ceil() as usize).min(cells)
    };
    vec![
        Span::styled("█".repeat(filled), t.bar(over)),
        Span::styled("░".repeat(cells - filled), t.muted()),
    ]
}

pub fn boxes(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let outer = Block::bordered()
        .title(Line::styled(" nodes ", t.title()))
        .border_style(t.border(s.node_focus));
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    if s.model.nodes.items.is_empty() {
        let msg = if s.model.nodes.synced {
            "no nodes registered"
        } else {
            "waiting for the node list…"
        };
        f.render_widget(Paragraph::new(Span::styled(msg, t.muted())), inner);
        return;
    }
    let fits = usize::from(inner.height / BOX_HEIGHT);
    let total = s.model.nodes.items.len();
    let shown = if fits >= total {
        total
    } else if inner.height % BOX_HEIGHT > 0 {
        fits
    } else {
        fits.saturating_sub(1)
    };
    for (i, node) in s.model.nodes.items.values().take(shown).enumerate() {
        let y = inner.y + i as u16 * BOX_HEIGHT;
        let r = Rect::new(inner.x, y, inner.width, BOX_HEIGHT);
        if let Some(name) = &node.metadata.name {
            s.hits.borrow_mut().nodes.push((r, name.clone()));
        }
        node_box(f, r, s, node);
    }
    if shown < total {
        let y = inner.y + inner.height.saturating_sub(1);
        let msg = format!("… {} more node(s); widen the window", total - shown);
        f.buffer_mut()
            .set_string(inner.x, y, fit(&msg, inner.width as usize), t.muted());
    }
}

fn node_box(f: &mut Frame, r: Rect, s: &State, node: &Node) {
    let t = &s.theme;
    let name = node.metadata.name.as_deref().unwrap_or("");
    let ready = is_ready(node);
    let selected = s.node_focus && s.selected_node.as_deref() == Some(name);
    let marker = if selected { "▶" } else { " " };
    let title = Line::from(vec![
        Span::styled(format!("{marker}{name} "), t.title()),
        Span::styled(
            if ready { "Ready" } else { "NotReady" },
            t.health(if ready {
                Health::Running
            } else {
                Health::Failed
            }),
        ),
        Span::styled(format!(" · {} ", zone(node)), t.muted()),
    ]);
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::styled(format!(" {} ", taints(node)), t.muted()))
        .border_style(if selected {
            t.selected()
        } else {
            t.border(false)
        });
    let inner = block.inner(r);
    f.render_widget(block, r);
    let alloc = node_allocatable(node);
    let req = s.model.requested(name);
    let label_w = 5;
    let nums_w = 12;
    let cells = usize::from(inner.width)
        .saturating_sub(label_w + nums_w + 1)
        .max(1);
    let rows = [
        (
            "cpu",
            req.milli_cpu,
            alloc.milli_cpu,
            cpu(req.milli_cpu),
            cpu(alloc.milli_cpu),
        ),
        (
            "mem",
            req.memory,
            alloc.memory,
            bytes(req.memory),
            bytes(alloc.memory),
        ),
        (
            "pods",
            req.pods,
            alloc.pods,
            req.pods.to_string(),
            alloc.pods.to_string(),
        ),
    ];
    let mut lines = Vec::new();
    for (label, used, total, u, a) in rows {
        let mut spans = vec![Span::styled(format!("{label:<label_w$}"), t.muted())];
        spans.extend(bar(t, used, total, cells));
        spans.push(Span::styled(
            format!(" {:>nums_w$}", fit(&format!("{u}/{a}"), nums_w)),
            t.text(),
        ));
        lines.push(Line::from(spans));
    }
    lines.push(chips(s, name, usize::from(inner.width)));
    f.render_widget(Paragraph::new(lines), inner);
}

/// The node's pods as chips ` name ` in their status colour, as many as fit, then `+N`.
fn chips(s: &State, node: &str, avail: usize) -> Line<'static> {
    let t = &s.theme;
    let count = s.model.pods_on_count(node);
    if count == 0 {
        return Line::styled("no pods", t.muted());
    }
    let mut spans = Vec::new();
    let mut used = 0;
    for (i, pod) in s.model.pods_on(node).enumerate() {
        let name = pod.columns.name.as_str();
        let chip = format!(" {} ", fit(name, 12));
        let more = count - i;
        let reserve = if more > 1 { 4 } else { 0 };
        if used + width(&chip) + 1 + reserve > avail {
            spans.push(Span::styled(format!("+{more}"), t.muted()));
            break;
        }
        used += width(&chip) + 1;
        let health = Health::of_status(&pod.columns.status);
        spans.push(Span::styled(chip, t.chip(health)));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

/// One line per node, for narrow screens: `node-1 Ready zone-a cpu 6% mem 2% pods 2/110 ●●`.
pub fn compact(buf: &mut Buffer, area: Rect, s: &State) {
    let t = &s.theme;
    for (i, node) in s
        .model
        .nodes
        .items
        .values()
        .take(area.height as usize)
        .enumerate()
    {
        let name = node.metadata.name.as_deref().unwrap_or("");
        s.hits.borrow_mut().nodes.push((
            Rect::new(area.x, area.y + i as u16, area.width, 1),
            name.to_string(),
        ));
        let alloc = node_allocatable(node);
        let req = s.model.requested(name);
        let pct = |u: i64, a: i64| if a > 0 { u * 100 / a } else { 0 };
        let ready = is_ready(node);
        let selected = s.node_focus && s.selected_node.as_deref() == Some(name);
        let mut spans = vec![
            Span::styled(
                format!("{}{name} ", if selected { "▶" } else { "" }),
                if selected { t.selected() } else { t.title() },
            ),
            Span::styled(
                if ready { "Ready " } else { "NotReady " },
                t.health(if ready {
                    Health::Running
                } else {
                    Health::Failed
                }),
            ),
            Span::styled(format!("{} ", zone(node)), t.muted()),
            Span::styled(
                format!(
                    "cpu {}% mem {}% pods {}/{} ",
                    pct(req.milli_cpu, alloc.milli_cpu),
                    pct(req.memory, alloc.memory),
                    req.pods,
                    alloc.pods
                ),
                t.text(),
            ),
        ];
        for pod in s.model.pods_on(name).take(20) {
            let health = Health::of_status(&pod.columns.status);
            spans.push(Span::styled("●", t.health(health)));
        }
        let line = Line::from(spans);
        buf.set_line(area.x, area.y + i as u16, &line, area.width);
    }
}
