//! Popups over the cluster screen: the sample picker and the delete confirmation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::model::ObjKey;
use crate::tui::samples::SAMPLES;
use crate::tui::state::State;

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub fn picker(f: &mut Frame, area: Rect, s: &State, index: usize) {
    let t = &s.theme;
    // Tall enough for the whole list and the longest header; the list scrolls when it is not.
    let r = centered(area, 100, 30);
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .title(Line::styled(" new pod: choose a sample ", t.title()))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let list_w = 34.min(inner.width / 2);
    let [list, about] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Fill(1)]).areas(inner);
    let lines: Vec<Line> = SAMPLES
        .iter()
        .enumerate()
        .map(|(i, sample)| {
            let text = format!(" {} ", sample.title);
            if i == index {
                Line::styled(text, t.selected())
            } else {
                Line::styled(text, t.text())
            }
        })
        .collect();
    let skip = (index + 1).saturating_sub(list.height as usize);
    f.render_widget(Paragraph::new(lines).scroll((skip as u16, 0)), list);
    let sample = &SAMPLES[index.min(SAMPLES.len() - 1)];
    let mut about_lines = vec![Line::styled(sample.file, t.muted())];
    about_lines.extend(
        sample
            .header()
            .into_iter()
            .flat_map(|l| [Line::styled(l, t.text()), Line::default()]),
    );
    about_lines.push(Line::default());
    about_lines.push(Line::from(vec![
        Span::styled("enter", t.key()),
        Span::styled(" opens it in the editor, where ", t.muted()),
        Span::styled("ctrl-s", t.key()),
        Span::styled(" applies it.", t.muted()),
    ]));
    f.render_widget(
        Paragraph::new(about_lines).wrap(Wrap { trim: false }),
        about,
    );
}

pub fn confirm(f: &mut Frame, area: Rect, s: &State, key: &ObjKey) {
    let t = &s.theme;
    let r = centered(area, 60, 7);
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .title(Line::styled(" delete ", t.error()))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let lines = vec![
        Line::styled(format!("Delete pod {}/{}?", key.0, key.1), t.text()),
        Line::styled(
            "Its kubelet stops the containers (grace period), then the pod goes.",
            t.muted(),
        ),
        Line::default(),
        Line::from(vec![
            Span::styled("y", t.key()),
            Span::styled(" delete   ", t.muted()),
            Span::styled("n", t.key()),
            Span::styled(" keep it", t.muted()),
        ]),
    ];
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}
