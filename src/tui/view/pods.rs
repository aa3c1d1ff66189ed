//! The pods table: kubectl's columns (NAME, READY, STATUS, RESTARTS, AGE, NODE, IP) computed by
//! the API server's own printer (`api::http::table`), so STATUS reads as `kubectl get pods`
//! says it. Only the visible rows are computed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::nodes;
use crate::tui::state::State;
use crate::tui::theme::Health;

/// `compact_nodes`: rows at the top for the one-line node summaries (narrow screens).
pub fn render(f: &mut Frame, area: Rect, s: &State, compact_nodes: u16) {
    let t = &s.theme;
    let pods = &s.model.pods.items;
    let listed: Vec<_> = if s.filter.is_empty() {
        Vec::new()
    } else {
        s.listed().collect()
    };
    let count = if s.filter.is_empty() {
        format!("({}) ", pods.len())
    } else {
        format!("({} of {} · /{}) ", listed.len(), pods.len(), s.filter)
    };
    let title = Line::from(vec![
        Span::styled(" pods ", t.title()),
        Span::styled(count, t.muted()),
    ]);
    let block = Block::bordered().title(title).border_style(t.border(true));
    let mut inner = block.inner(area);
    f.render_widget(block, area);
    if compact_nodes > 0 && inner.height > compact_nodes + 1 {
        let nodes_area = Rect::new(inner.x, inner.y, inner.width, compact_nodes);
        nodes::compact(f.buffer_mut(), nodes_area, s);
        inner.y += compact_nodes;
        inner.height -= compact_nodes;
    }
    if !s.filter.is_empty() && listed.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!(
                    "No pod matches /{} (esc after / clears the filter).",
                    s.filter
                ),
                t.muted(),
            )),
            inner,
        );
        return;
    }
    if pods.is_empty() {
        let msg = if s.model.pods.synced {
            "No pods yet. Press n to create one from a sample, or use kubectl in another terminal."
        } else {
            "waiting for the pod list…"
        };
        f.render_widget(
            Paragraph::new(Span::styled(msg, t.muted()))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    let rows_h = usize::from(inner.height.saturating_sub(1));
    // Without a filter the index comes from the sorted map (no list is built per frame).
    let selected = s.selected.as_ref().and_then(|k| {
        if s.filter.is_empty() {
            pods.contains_key(k)
                .then(|| pods.range(..k.clone()).count())
        } else {
            listed.iter().position(|(l, _)| *l == k)
        }
    });
    let offset = match selected {
        Some(i) if rows_h > 0 && i >= rows_h => i + 1 - rows_h,
        _ => 0,
    };
    let show_ns = pods.keys().any(|(ns, _)| ns != "default");
    let all: Box<dyn Iterator<Item = _>> = if s.filter.is_empty() {
        Box::new(pods.iter())
    } else {
        Box::new(listed.iter().copied())
    };
    // STATUS is as wide as kubectl's words need (17), wider only for a countdown on screen.
    let mut status_w: u16 = 17;
    let rows: Vec<Row> = all
        .skip(offset)
        .take(rows_h)
        .enumerate()
        .map(|(i, (key, pod))| {
            s.hits.borrow_mut().pods.push((
                Rect::new(inner.x, inner.y + 1 + i as u16, inner.width, 1),
                key.clone(),
            ));
            let cells = pod.columns.cells(s.now);
            let cell = |n: usize| cells[n].as_str().unwrap_or_default().to_string();
            let name = if show_ns {
                format!("{}/{}", key.0, key.1)
            } else {
                key.1.clone()
            };
            let status = cell(2);
            let health = Health::of_status(&status);
            let status =
                crate::tui::backoff::status_with_countdown(&status, pod.crash_retry_at, s.now);
            status_w = status_w.max(status.chars().count().min(32) as u16);
            let row = Row::new(vec![
                Cell::from(name),
                Cell::from(cell(1)),
                Cell::from(Span::styled(status, t.health(health))),
                Cell::from(cell(3)),
                Cell::from(cell(4)),
                Cell::from(cell(6)),
                Cell::from(cell(5)),
            ]);
            if Some(offset + i) == selected {
                row.style(t.selected())
            } else {
                row.style(t.text())
            }
        })
        .collect();
    let header =
        Row::new(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE", "IP"]).style(t.muted());
    let node_w = s
        .model
        .nodes
        .items
        .keys()
        .map(|k| k.1.chars().count())
        .max()
        .unwrap_or(0)
        .max(6) as u16;
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Length(status_w),
        Constraint::Length(13),
        Constraint::Length(5),
        Constraint::Length(node_w),
        Constraint::Length(15),
    ];
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    f.render_widget(table, inner);
}
