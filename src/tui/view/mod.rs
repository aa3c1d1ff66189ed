//! Drawing: pure functions from [`State`] to a frame. No I/O and no state changes here, so every
//! screen can be snapshot-tested on ratatui's `TestBackend`.

mod cluster;
mod editor;
mod help;
mod nodes;
mod pods;
mod popup;
mod sequence;
mod status;
mod text;
mod viewer;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::widgets::Block;

use super::state::State;

pub fn render(f: &mut Frame, s: &State) {
    let area = f.area();
    f.render_widget(Block::new().style(s.theme.base()), area);
    let top_h = status::top_height(s, area.width);
    let [top, main, bottom] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    status::top_bar(f, top, s);
    status::bottom_bar(f, bottom, s);
    cluster::render(f, main, s);
    if let Some(v) = &s.viewer {
        viewer::render(f, main, s, v);
    }
    if let Some(index) = s.picker {
        popup::picker(f, main, s, index);
    }
    if let Some(e) = &s.editor {
        editor::render(f, main, s, e);
    }
    if let Some(key) = &s.confirm {
        popup::confirm(f, main, s, key);
    }
    if s.help {
        help::render(f, main, s);
    }
}
