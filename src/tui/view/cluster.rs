//! The cluster screen's layout: nodes and pods above, the sequence panel below. Wide terminals
//! get node boxes beside the pods table; narrow ones get one line per node above it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::{nodes, pods, sequence};
use crate::tui::state::State;

/// Below this width the node boxes collapse into one line each.
const WIDE: u16 = 110;
/// Rows the sequence panel keeps at least, when node boxes are drawn.
const MIN_SEQUENCE: u16 = 12;

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    if s.node_table {
        // `:nodes`: the node table above, the sequence panel below.
        let rows = s.model.nodes.items.len() as u16 + 4;
        let top_h = rows.min(area.height / 2).max(5).min(area.height);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(area);
        super::node_table::render(f, top, s);
        sequence::render(f, bottom, s);
        return;
    }
    let node_count = s.model.nodes.items.len().max(1) as u16;
    let pod_rows = s.model.pods.items.len().max(1) as u16;
    // Node boxes beside the table when they all fit with room for the sequence below.
    let boxes_h = node_count * nodes::BOX_HEIGHT + 2;
    if area.width >= WIDE && area.height >= boxes_h + MIN_SEQUENCE {
        // Node boxes are 6 rows each; the top part takes what they and the pods need, up to
        // half the screen.
        let want = boxes_h.max(pod_rows + 3);
        let top_h = want.min(area.height / 2).max(boxes_h).min(area.height);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(area);
        let [left, right] =
            Layout::horizontal([Constraint::Length(nodes::BOX_WIDTH), Constraint::Fill(1)])
                .areas(top);
        nodes::boxes(f, left, s);
        pods::render(f, right, s, 0);
        sequence::render(f, bottom, s);
    } else {
        let compact = node_count.min(4);
        let want = compact + pod_rows + 3;
        let top_h = want.min((area.height * 2) / 5).max(6).min(area.height);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(area);
        pods::render(f, top, s, compact);
        sequence::render(f, bottom, s);
    }
}
