//! The scheduler's queue (`:queue`): kube-scheduler's three sub-queues as lanes — activeQ
//! (ready to be tried, highest priority first), backoffQ (failed, waiting out a back-off of 1 s
//! doubling to 10 s) and the unschedulable pods (waiting for a cluster event, or the 5-minute
//! flush) — with each pod's attempts and how long until it is tried again.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::scheduler::queue::Lane;
use crate::tui::state::{QueueRow, State, Viewer};

/// The lanes left to right, with what each means.
const LANES: [(&str, &str); 3] = [
    ("activeQ", "ready: popped by priority, then arrival"),
    ("backoffQ", "failed: waiting out the back-off"),
    ("unschedulable", "waiting for a cluster event that may help"),
];

fn lane_index(lane: Lane) -> usize {
    match lane {
        Lane::Active | Lane::InFlight => 0,
        Lane::Backoff => 1,
        Lane::Unschedulable => 2,
    }
}

fn entry(row: &QueueRow) -> String {
    let mut text = format!(
        "{} · prio {} · {} attempt(s)",
        row.key, row.priority, row.attempts
    );
    if row.lane == Lane::InFlight {
        text.push_str(" · being scheduled");
    }
    if let Some(d) = row.retry_in {
        let secs = d.as_secs_f64();
        if row.lane == Lane::Unschedulable {
            text.push_str(&format!(" · flushed in {:.0}s at most", secs.ceil()));
        } else {
            text.push_str(&format!(" · retry in {:.1}s", secs));
        }
    }
    text
}

pub fn render(f: &mut Frame, area: Rect, s: &State, v: &Viewer) {
    let t = &s.theme;
    f.render_widget(Clear, area);
    let total = s.queue.as_ref().map_or(0, Vec::len);
    let block = Block::bordered()
        .title(Line::styled(
            format!(" scheduler queue ({total} pod(s)) "),
            t.title(),
        ))
        .title_bottom(Line::styled(" read every second · esc back ", t.muted()))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(rows) = &s.queue else {
        f.render_widget(
            Paragraph::new(Span::styled("reading the scheduler's queue…", t.muted())),
            inner,
        );
        return;
    };
    let lanes = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(inner);
    for (i, (name, about)) in LANES.iter().enumerate() {
        let mine: Vec<&QueueRow> = rows.iter().filter(|r| lane_index(r.lane) == i).collect();
        let block = Block::bordered()
            .title(Line::styled(
                format!(" {name} ({}) ", mine.len()),
                t.title(),
            ))
            .border_style(t.border(false));
        let lane_inner = block.inner(lanes[i]);
        f.render_widget(block, lanes[i]);
        let mut lines = vec![Line::styled(*about, t.muted()), Line::default()];
        if mine.is_empty() {
            lines.push(Line::styled("empty", t.muted()));
        }
        lines.extend(mine.iter().map(|r| Line::styled(entry(r), t.text())));
        let max = lines.len().saturating_sub(usize::from(lane_inner.height));
        let scroll = usize::from(v.scroll).min(max) as u16;
        f.render_widget(
            Paragraph::new(lines)
                .wrap(ratatui::widgets::Wrap { trim: false })
                .scroll((scroll, 0)),
            lane_inner,
        );
    }
}
