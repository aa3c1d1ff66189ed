//! The describe and YAML views of one pod, live: recomputed from the API's current object at
//! each frame they are open.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::describe::describe_pod;
use crate::tui::state::{State, ViewKind, Viewer};

pub fn render(f: &mut Frame, area: Rect, s: &State, v: &Viewer) {
    let t = &s.theme;
    let (ns, name) = &v.key;
    let (what, lines): (&str, Vec<String>) = match s.model.pods.items.get(&v.key) {
        None => (
            "describe",
            vec![format!("pod {ns}/{name} no longer exists (it was deleted)")],
        ),
        Some(pod) => match v.kind {
            ViewKind::Describe => {
                let arcs = s.model.events_for(&v.key);
                let events: Vec<_> = arcs.iter().map(|e| &***e).collect();
                ("describe", describe_pod(pod, &events, s.now))
            }
            ViewKind::Yaml => match crate::api::yaml::to_yaml(&**pod) {
                Ok(text) => ("yaml", text.lines().map(str::to_string).collect()),
                Err(e) => ("yaml", vec![format!("cannot write YAML: {e}")]),
            },
        },
    };
    f.render_widget(Clear, area);
    let block = Block::bordered()
        .title(Line::styled(format!(" {what} pod {ns}/{name} "), t.title()))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let max = lines.len().saturating_sub(usize::from(inner.height));
    let scroll = usize::from(v.scroll).min(max) as u16;
    let text: Vec<Line> = lines
        .into_iter()
        .map(|l| Line::styled(l, t.text()))
        .collect();
    f.render_widget(Paragraph::new(text).scroll((scroll, 0)), inner);
}
