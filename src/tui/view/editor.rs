//! The YAML editor screen: the text (ratatui-textarea) and, beside or below it, what the sample
//! teaches and the last error, with the line and column or field path it is at.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::editor::{Editor, Origin};
use crate::tui::samples::SAMPLES;
use crate::tui::state::State;
use crate::tui::theme::Health;

pub fn render(f: &mut Frame, area: Rect, s: &State, e: &Editor) {
    let t = &s.theme;
    f.render_widget(Clear, area);
    f.render_widget(Block::new().style(t.base()), area);
    let wide = area.width >= 110;
    let side_lines = side(s, e);
    let (text_area, side_area) = if wide {
        let [a, b] = Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(area);
        (a, b)
    } else {
        let h = if e.error.is_some() { 9 } else { 4 };
        let [a, b] = Layout::vertical([Constraint::Fill(1), Constraint::Length(h)]).areas(area);
        (a, b)
    };
    let title = match &e.origin {
        Origin::New { sample } => format!(" new pod · {sample} "),
        Origin::Edit((ns, name)) => format!(" edit pod {ns}/{name} "),
    };
    let status = if e.applying && s.step_mode.is_some() {
        " applying… step mode holds the commit at the gate: space lets it through "
    } else if e.applying {
        " applying… "
    } else {
        " ctrl-s apply · esc close "
    };
    let block = Block::bordered()
        .title(Line::styled(title, t.title()))
        .title_bottom(Line::styled(status, t.key()))
        .border_style(t.border(true));
    let inner = block.inner(text_area);
    f.render_widget(block, text_area);
    f.render_widget(&e.text, inner);
    let side_block = Block::bordered()
        .title(Line::styled(
            if e.error.is_some() {
                " the apply failed "
            } else {
                " about "
            },
            if e.error.is_some() {
                t.error()
            } else {
                t.title()
            },
        ))
        .border_style(t.border(false));
    let side_inner = side_block.inner(side_area);
    f.render_widget(side_block, side_area);
    f.render_widget(
        Paragraph::new(side_lines).wrap(Wrap { trim: false }),
        side_inner,
    );
    if let Some(diff) = &e.review {
        review(f, area, s, diff);
    }
}

/// The diff of an edit, before it is applied.
fn review(f: &mut Frame, area: Rect, s: &State, diff: &[String]) {
    let t = &s.theme;
    let h = (diff.len() as u16 + 2).min(area.height);
    let r = super::popup::centered(area, area.width.saturating_sub(8).max(20), h);
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .title(Line::styled(
            " the change you are about to apply ",
            t.title(),
        ))
        .title_bottom(Line::styled(
            " ctrl-s applies it · esc goes back to editing ",
            t.key(),
        ))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let lines: Vec<Line> = diff
        .iter()
        .map(|l| {
            let style = if l.starts_with("+++") || l.starts_with("---") || l.starts_with("@@") {
                t.muted()
            } else if l.starts_with('+') {
                t.health(Health::Running)
            } else if l.starts_with('-') {
                t.health(Health::Failed)
            } else {
                t.text()
            };
            Line::styled(l.clone(), style)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn side(s: &State, e: &Editor) -> Vec<Line<'static>> {
    let t = &s.theme;
    let mut lines = Vec::new();
    if let Some(err) = &e.error {
        let mut at = Vec::new();
        if let Some(l) = err.line {
            at.push(format!("line {l}"));
        }
        if let Some(c) = err.column {
            at.push(format!("column {c}"));
        }
        if let Some(field) = &err.field {
            at.push(format!("field {field}"));
        }
        if !at.is_empty() {
            lines.push(Line::styled(format!("at {}", at.join(", ")), t.error()));
        }
        for l in err.message.lines() {
            lines.push(Line::styled(l.to_string(), t.text()));
        }
        if err.line.is_some() {
            lines.push(Line::styled(
                "(the cursor is on that line; your text is kept)",
                t.muted(),
            ));
        }
        lines.push(Line::default());
    }
    match &e.origin {
        Origin::New { sample } => {
            if let Some(sample) = SAMPLES.iter().find(|x| x.file == *sample) {
                for l in sample.header() {
                    lines.push(Line::styled(l, t.muted()));
                    lines.push(Line::default());
                }
            }
        }
        Origin::Edit(_) => lines.push(Line::from(vec![Span::styled(
            "Apply sends the whole pod back (a replace, with its resourceVersion: if the pod \
             changed meanwhile, the API server answers 409 Conflict). Most of a pod's spec \
             cannot change once it exists; the API server says which fields can.",
            t.muted(),
        )])),
    }
    lines
}
