//! `?`: every key of every mode, generated from the keymap's descriptions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};

use super::popup::centered;
use super::text::{fit, width};
use crate::tui::keymap::{Mode, bindings, keys_label};
use crate::tui::state::State;

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let mut entries: Vec<Line> = Vec::new();
    // Narrow screens get the keys of the screen under the help; wide ones get every screen's.
    let wide = area.width >= 110;
    let base = s.base_mode();
    let modes: Vec<Mode> = if wide {
        Mode::ALL.into_iter().filter(|m| *m != Mode::Help).collect()
    } else {
        vec![base]
    };
    for mode in modes {
        if !entries.is_empty() {
            entries.push(Line::default());
        }
        entries.push(Line::styled(mode.title().to_string(), t.title()));
        for b in bindings(mode) {
            let keys = keys_label(b);
            entries.push(Line::from(vec![
                Span::styled(format!("  {keys:<12}"), t.key()),
                Span::styled(b.desc.to_string(), t.text()),
            ]));
        }
        if mode == Mode::Editor {
            entries.push(Line::styled(
                "  every other key types into the text (q too)",
                t.muted(),
            ));
        }
    }
    if !wide {
        entries.push(Line::default());
        entries.push(Line::styled(
            "Other screens show their keys in the bottom bar; a wider terminal shows them all here.",
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
    // As many columns as the entries need, side by side.
    let h = usize::from(inner.height.max(1));
    let columns = entries.len().div_ceil(h).max(1);
    let col_w = inner.width / columns as u16;
    for (c, chunk) in entries.chunks(h).enumerate() {
        let x = inner.x + c as u16 * col_w;
        for (i, line) in chunk.iter().enumerate() {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            if width(&text) <= usize::from(col_w) {
                f.buffer_mut()
                    .set_line(x, inner.y + i as u16, line, col_w.saturating_sub(1));
            } else {
                let style = line.spans.last().map(|s| s.style).unwrap_or_default();
                f.buffer_mut().set_string(
                    x,
                    inner.y + i as u16,
                    fit(&text, usize::from(col_w.saturating_sub(1))),
                    style,
                );
            }
        }
    }
}
