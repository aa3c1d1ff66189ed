//! The nodes as a table (`:nodes`): `kubectl get nodes`' columns from the API server's own
//! printer, then the zone, what the node's pods request of its allocatable cpu and memory, its
//! pods, its taints, and whether this TUI stopped its kubelet. The node keys act on the row
//! selected.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};

use super::nodes::{taints, zone};
use super::text::{bytes, cpu};
use crate::api::http::table::{RowObject, node_row};
use crate::scheduler::framework::resource::node_allocatable;
use crate::tui::state::State;
use crate::tui::theme::Health;

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let block = Block::bordered()
        .title(Line::styled(
            format!(" nodes ({}) ", s.model.nodes.items.len()),
            t.title(),
        ))
        .title_bottom(Line::styled(
            " c cordon · u uncordon · r drain · s kubelet · tab/esc pods ",
            t.muted(),
        ))
        .border_style(t.border(true));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows: Vec<Row> = s
        .model
        .nodes
        .items
        .values()
        .enumerate()
        .map(|(i, node)| {
            let name = node.metadata.name.as_deref().unwrap_or_default();
            s.hits.borrow_mut().nodes.push((
                ratatui::layout::Rect::new(inner.x, inner.y + 1 + i as u16, inner.width, 1),
                name.to_string(),
            ));
            let r = node_row(node, s.now, RowObject::None);
            let cell = |n: usize| r.text(n);
            let status = cell(1);
            let health = if status.starts_with("Ready") {
                Health::Running
            } else {
                Health::Failed
            };
            let alloc = node_allocatable(node);
            let req = s.model.requested(name);
            let kubelet = if s.stopped_kubelets.contains(name) {
                "stopped"
            } else {
                "running"
            };
            let selected = s.selected_node.as_deref() == Some(name);
            let row = Row::new(vec![
                Cell::from(format!("{}{name}", if selected { "▶" } else { " " })),
                Cell::from(Span::styled(status, t.health(health))),
                Cell::from(cell(2)),
                Cell::from(cell(3)),
                Cell::from(cell(4)),
                Cell::from(zone(node).to_string()),
                Cell::from(format!("{}/{}", cpu(req.milli_cpu), cpu(alloc.milli_cpu))),
                Cell::from(format!("{}/{}", bytes(req.memory), bytes(alloc.memory))),
                Cell::from(format!("{}/{}", req.pods, alloc.pods)),
                Cell::from(kubelet),
                Cell::from(taints(node)),
            ]);
            if selected {
                row.style(t.selected())
            } else {
                row.style(t.text())
            }
        })
        .collect();
    let header = Row::new([
        " NAME", "STATUS", "ROLES", "AGE", "VERSION", "ZONE", "CPU REQ", "MEM REQ", "PODS",
        "KUBELET", "TAINTS",
    ])
    .style(t.muted());
    let widths = [
        Constraint::Length(12),
        Constraint::Length(26),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(15),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(13),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}
