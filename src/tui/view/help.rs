//! `?`: every key, generated from the keymap's descriptions — the screen under the help first
//! (only that one on narrow terminals), in as many columns as the height needs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::popup::centered;
use super::text::{fit, path};
use crate::tui::keymap::{Mode, bindings, keys_label};
use crate::tui::state::State;

/// One row of the help: a heading, or keys and what they do.
enum Entry {
    Heading(&'static str),
    Key(String, &'static str),
    Note(&'static str),
    Gap,
}

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let wide = area.width >= 110;
    let base = s.base_mode();
    let mut modes = vec![base];
    if wide {
        modes.extend(
            Mode::ALL
                .into_iter()
                .filter(|m| *m != Mode::Help && *m != base),
        );
    }
    let mut entries = Vec::new();
    for mode in modes {
        if !entries.is_empty() {
            entries.push(Entry::Gap);
        }
        entries.push(Entry::Heading(mode.title()));
        for b in bindings(mode) {
            entries.push(Entry::Key(keys_label(b), b.desc));
        }
        if matches!(mode, Mode::Editor | Mode::Prompt) {
            entries.push(Entry::Note("every other key is text (q too)"));
        }
    }
    let mut footer: Vec<Line> = Vec::new();
    if !wide {
        footer.push(Line::styled(
            "Other screens show their keys in the bottom bar; a wider terminal lists them all here.",
            t.muted(),
        ));
    }
    if let Some(log) = &s.info.log_file {
        footer.push(Line::styled(
            format!("kubox's log while the TUI runs: {}", path(log)),
            t.muted(),
        ));
    }
    let r = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .title(Line::styled(" help · esc closes ", t.title()))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let footer_h = (footer.len() as u16 * 2).min(inner.height / 3);
    let body_h = inner.height.saturating_sub(footer_h);
    if body_h == 0 || inner.width < 10 {
        return;
    }
    let h = usize::from(body_h);
    let columns = entries.len().div_ceil(h).max(1);
    let col_w = usize::from(inner.width) / columns;
    let key_w = 11.min(col_w / 3);
    let buf = f.buffer_mut();
    for (c, chunk) in entries.chunks(h).enumerate() {
        let x = inner.x + (c * col_w) as u16;
        for (i, entry) in chunk.iter().enumerate() {
            let y = inner.y + i as u16;
            let room = col_w.saturating_sub(1);
            let mut put = |dx: usize, text: &str, w: usize, style: Style| {
                buf.set_string(x + dx as u16, y, fit(text, w), style);
            };
            match entry {
                Entry::Heading(title) => put(0, title, room, t.title()),
                Entry::Key(keys, desc) => {
                    put(1, keys, key_w, t.key());
                    put(key_w + 2, desc, room.saturating_sub(key_w + 2), t.text());
                }
                Entry::Note(note) => put(1, note, room.saturating_sub(1), t.muted()),
                Entry::Gap => {}
            }
        }
    }
    if footer_h > 0 {
        let footer_area = Rect::new(inner.x, inner.y + body_h, inner.width, footer_h);
        f.render_widget(
            Paragraph::new(footer).wrap(Wrap { trim: true }),
            footer_area,
        );
    }
}
