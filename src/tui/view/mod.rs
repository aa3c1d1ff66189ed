//! Drawing: pure functions from [`State`] to a frame. No I/O and no state changes here, so every
//! screen can be snapshot-tested on ratatui's `TestBackend`.

mod cluster;
mod editor;
mod help;
mod node_table;
mod nodes;
mod pods;
mod popup;
mod queue;
mod sequence;
mod status;
mod text;
mod viewer;
mod why;

#[cfg(test)]
mod tests;

use ratatui::backend::TestBackend;
use ratatui::layout::{Constraint, Layout};
use ratatui::widgets::Block;
use ratatui::{Frame, Terminal};

use super::state::State;

pub fn render(f: &mut Frame, s: &State) {
    let area = f.area();
    s.hits.borrow_mut().clear();
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
    if let Some(chooser) = &s.chooser {
        popup::chooser(f, main, s, chooser);
    }
    if let Some(confirm) = &s.confirm {
        popup::confirm(f, main, s, confirm);
    }
    if s.help {
        help::render(f, main, s);
    }
}

/// A terminal in memory: the frame benchmark draws into it, as the snapshot tests do.
pub struct Offscreen {
    terminal: Terminal<TestBackend>,
}

impl Offscreen {
    pub fn new(width: u16, height: u16) -> Offscreen {
        let terminal =
            Terminal::new(TestBackend::new(width, height)).unwrap_or_else(|e| match e {});
        Offscreen { terminal }
    }

    /// Draws one frame of `s` (including the diff against the previous frame, as on a real
    /// terminal).
    pub fn draw(&mut self, s: &State) {
        let Ok(_) = self.terminal.draw(|f| render(f, s));
    }

    /// The screen's text, one line per row.
    pub fn text(&self) -> String {
        self.terminal.backend().to_string()
    }
}
