//! The describe, YAML and Why views of one pod, live: recomputed from the API's current object
//! (and the scheduler's last loaded records) at each frame they are open.

use ratatui::Frame;
use ratatui::layout::Constraint;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, Wrap};

use crate::api::http::table::{RowObject, event_row};
use crate::tui::theme::Health;

use crate::tui::describe::describe_pod;
use crate::tui::state::{State, ViewKind, Viewer};

pub fn render(f: &mut Frame, area: Rect, s: &State, v: &Viewer) {
    let t = &s.theme;
    let (ns, name) = &v.key;
    let pod = s.model.pod(&v.key);
    if v.kind == ViewKind::Why {
        let records = s
            .decisions
            .as_ref()
            .filter(|(k, _)| *k == v.key)
            .map(|(_, r)| r.as_slice());
        let lines = super::why::lines(s, pod.as_deref(), records, area.width);
        framed(f, area, s, v, "why", lines);
        return;
    }
    if v.kind == ViewKind::Logs {
        logs(f, area, s, v);
        return;
    }
    if v.kind == ViewKind::Events {
        events(f, area, s, v);
        return;
    }
    if v.kind == ViewKind::Queue {
        super::queue::render(f, area, s, v);
        return;
    }
    let (what, lines): (&str, Vec<String>) = match pod {
        None => (
            "describe",
            vec![format!("pod {ns}/{name} no longer exists (it was deleted)")],
        ),
        Some(pod) => match v.kind {
            ViewKind::Describe => {
                let arcs = s.model.events_for(&v.key);
                let events: Vec<_> = arcs.iter().map(|e| &***e).collect();
                ("describe", describe_pod(&pod, &events, s.now))
            }
            ViewKind::Yaml => match crate::api::yaml::to_yaml(&*pod) {
                Ok(text) => ("yaml", text.lines().map(str::to_string).collect()),
                Err(e) => ("yaml", vec![format!("cannot write YAML: {e}")]),
            },
            ViewKind::Why | ViewKind::Logs | ViewKind::Events | ViewKind::Queue => ("", Vec::new()),
        },
    };
    let text: Vec<Line> = lines
        .into_iter()
        .map(|l| Line::styled(l, t.text()))
        .collect();
    framed(f, area, s, v, what, text);
}

/// The view's frame and its scrolled text.
fn framed(f: &mut Frame, area: Rect, s: &State, v: &Viewer, what: &str, lines: Vec<Line>) {
    let t = &s.theme;
    let (ns, name) = &v.key;
    f.render_widget(Clear, area);
    let block = Block::bordered()
        .title(Line::styled(format!(" {what} pod {ns}/{name} "), t.title()))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let max = lines.len().saturating_sub(usize::from(inner.height));
    let scroll = usize::from(v.scroll).min(max) as u16;
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
}

/// A container's output, the newest lines at the bottom (`scroll` lines back from them).
fn logs(f: &mut Frame, area: Rect, s: &State, v: &Viewer) {
    let t = &s.theme;
    let (ns, name) = &v.key;
    let Some(buf) = s.logs.as_ref().filter(|l| l.key == v.key) else {
        return;
    };
    let mut title = format!(" logs pod {ns}/{name} · {} ", buf.container);
    if buf.previous {
        title.push_str("· previous instance ");
    }
    let state = match &buf.ended {
        None if buf.previous => " p: current instance ".to_string(),
        None => " following · p: previous instance ".to_string(),
        Some(None) => " the output ended ".to_string(),
        Some(Some(_)) => " the kubelet refused ".to_string(),
    };
    f.render_widget(Clear, area);
    let block = Block::bordered()
        .title(Line::styled(title, t.title()))
        .title_bottom(Line::styled(state, t.muted()))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut all: Vec<Line> = buf
        .lines
        .iter()
        .map(|l| Line::styled(l.clone(), t.text()))
        .collect();
    if !buf.partial.is_empty() {
        all.push(Line::styled(buf.partial.clone(), t.text()));
    }
    if let Some(Some(err)) = &buf.ended {
        all.push(Line::styled(err.clone(), t.error()));
    } else if all.is_empty() {
        all.push(Line::styled("no output yet", t.muted()));
    }
    let rows = usize::from(inner.height);
    let back = usize::from(v.scroll).min(all.len().saturating_sub(rows));
    let end = all.len() - back;
    let start = end.saturating_sub(rows);
    let shown: Vec<Line> = all.drain(start..end).collect();
    f.render_widget(Paragraph::new(shown), inner);
}

/// The cluster's events as `kubectl get events` prints them (the API server's own printer),
/// oldest first, so the newest are at the bottom.
fn events(f: &mut Frame, area: Rect, s: &State, v: &Viewer) {
    let t = &s.theme;
    let mut all: Vec<_> = s.model.events.items.values().collect();
    all.sort_by_key(|e| crate::tui::model::last_seen(e));
    f.render_widget(Clear, area);
    let block = Block::bordered()
        .title(Line::styled(
            format!(" events of the cluster ({}) ", all.len()),
            t.title(),
        ))
        .title_bottom(Line::styled(
            " oldest first · newest at the bottom ",
            t.muted(),
        ))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows_h = usize::from(inner.height.saturating_sub(1));
    let back = usize::from(v.scroll).min(all.len().saturating_sub(rows_h));
    let start = all.len().saturating_sub(rows_h + back);
    let rows: Vec<Row> = all
        .iter()
        .skip(start)
        .take(rows_h)
        .map(|e| {
            let r = event_row(e, s.now, RowObject::None);
            let cell = |n: usize| r.text(n);
            let kind = cell(1);
            let style = if kind == "Warning" {
                t.health(Health::Failed)
            } else {
                t.text()
            };
            Row::new(vec![
                Cell::from(cell(0)),
                Cell::from(Span::styled(kind, style)),
                Cell::from(cell(2)),
                Cell::from(cell(3)),
                Cell::from(cell(6)),
            ])
            .style(t.text())
        })
        .collect();
    let header = Row::new(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]).style(t.muted());
    let widths = [
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(18),
        Constraint::Length(26),
        Constraint::Fill(1),
    ];
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}
