//! The pods table: kubectl's columns (NAME, READY, STATUS, RESTARTS, AGE, NODE, IP) computed by
//! the API server's own printer (`api::http::table`), so STATUS reads as `kubectl get pods`
//! says it. Only the visible rows are computed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::nodes;
use crate::tui::model::{ObjKey, PodRow};
use crate::tui::state::State;
use crate::tui::theme::Health;

/// `compact_nodes`: rows at the top for the one-line node summaries (narrow screens).
pub fn render(f: &mut Frame, area: Rect, s: &State, compact_nodes: u16) {
    let t = &s.theme;
    let pods = &s.model.pods.items;
    let listed = if s.filter.is_empty() {
        pods.len()
    } else {
        s.listed().count()
    };
    let count = if s.filter.is_empty() {
        format!("({}) ", pods.len())
    } else {
        format!("({} of {} · /{}) ", listed, pods.len(), s.filter)
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
    if !s.filter.is_empty() && listed == 0 {
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
    let (visible, selected) = window(s, rows_h);
    // Keys sort by namespace first: all are in "default" when the first and the last are.
    let show_ns = [pods.first_key_value(), pods.last_key_value()]
        .into_iter()
        .flatten()
        .any(|((ns, _), _)| ns != "default");
    // STATUS is as wide as kubectl's words need (17), wider only for a countdown on screen.
    let mut status_w: u16 = 17;
    let rows: Vec<Row> = visible
        .into_iter()
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
            if Some(i) == selected {
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

/// The listed pods on screen, at most `rows_h`: from the first, or, when the selected pod would
/// be below them, the ones ending at it; and which of them is selected. Walks the rows on
/// screen from the selection, not the list.
fn window(s: &State, rows_h: usize) -> (Vec<(&ObjKey, &PodRow)>, Option<usize>) {
    use std::ops::Bound::{Excluded, Unbounded};
    if rows_h == 0 {
        return (Vec::new(), None);
    }
    let selected = s.selected_listed();
    if let Some(sel) = selected {
        let mut above: Vec<_> = s
            .listed_in((Unbounded, Excluded(sel.0)))
            .rev()
            .take(rows_h)
            .collect();
        if above.len() == rows_h {
            // Below the first screen: the selected pod is the last row.
            above.truncate(rows_h - 1);
            above.reverse();
            above.push(sel);
            return (above, Some(rows_h - 1));
        }
    }
    let rows: Vec<_> = s.listed().take(rows_h).collect();
    let at = selected.and_then(|(k, _)| rows.iter().position(|(r, _)| *r == k));
    (rows, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::runtime::watcher::Event;
    use crate::tui::action::Action;
    use crate::tui::state::ClusterInfo;
    use crate::tui::theme::Theme;
    use crate::tui::update::update;

    fn state(ns_names: &[(&str, String)]) -> State {
        let mut s = State::new(
            ClusterInfo::default(),
            Theme::dark(),
            "2026-01-01T00:00:00Z".parse().unwrap(),
        );
        for (ns, name) in ns_names {
            let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "namespace": ns},
                "spec": {"containers": [{"name": "app", "image": "busybox"}]}
            }))
            .unwrap();
            update(&mut s, Action::Pod(Box::new(Event::Apply(pod.into()))));
        }
        s
    }

    fn names(rows: &[(&ObjKey, &PodRow)]) -> Vec<String> {
        rows.iter().map(|(k, _)| k.1.clone()).collect()
    }

    fn select(s: &mut State, name: &str) {
        s.selected = Some(("default".into(), name.into()));
    }

    #[test]
    fn the_window_starts_at_the_top_until_the_selection_is_below_it() {
        let pods: Vec<_> = (0..12).map(|i| ("default", format!("p{i:02}"))).collect();
        let mut s = state(&pods);
        select(&mut s, "p03");
        let (rows, at) = window(&s, 5);
        assert_eq!(names(&rows), ["p00", "p01", "p02", "p03", "p04"]);
        assert_eq!(at, Some(3));
        select(&mut s, "p04");
        assert_eq!(window(&s, 5).1, Some(4));
        // Below the first screen, the selected pod is the bottom row.
        select(&mut s, "p09");
        let (rows, at) = window(&s, 5);
        assert_eq!(names(&rows), ["p05", "p06", "p07", "p08", "p09"]);
        assert_eq!(at, Some(4));
        // A filter: the rows are the listed ones, counted the same way.
        s.filter = "p1".into();
        select(&mut s, "p11");
        let (rows, at) = window(&s, 5);
        assert_eq!(names(&rows), ["p10", "p11"]);
        assert_eq!(at, Some(1));
        let (rows, at) = window(&s, 1);
        assert_eq!(names(&rows), ["p11"]);
        assert_eq!(at, Some(0));
        // A selection the filter hides, or a gone pod: the top, nothing selected.
        select(&mut s, "p03");
        assert_eq!(
            (names(&window(&s, 5).0), window(&s, 5).1),
            (vec!["p10".into(), "p11".into()], None)
        );
        s.filter.clear();
        select(&mut s, "gone");
        assert_eq!(window(&s, 3).1, None);
        assert_eq!(names(&window(&s, 3).0), ["p00", "p01", "p02"]);
        assert!(window(&s, 0).0.is_empty());
    }

    #[test]
    fn names_carry_their_namespace_once_any_pod_is_outside_default() {
        let text = |s: &State| {
            let mut screen = crate::tui::view::Offscreen::new(120, 20);
            screen.draw(s);
            screen.text()
        };
        let s = state(&[("default", "web".into())]);
        let t = text(&s);
        assert!(t.contains("│web ") && !t.contains("│default/web"), "{t}");
        for ns in ["a-team", "zoo"] {
            let s = state(&[("default", "web".into()), (ns, "db".into())]);
            let t = text(&s);
            assert!(t.contains("│default/web "), "{t}");
            assert!(t.contains(&format!("│{ns}/db ")), "{t}");
        }
    }
}
