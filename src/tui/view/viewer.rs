//! The describe, YAML and Why views of one pod, live: recomputed from the API's current object
//! (and the scheduler's last loaded records) at each frame they are open.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::describe::describe_pod;
use crate::tui::state::{State, ViewKind, Viewer};

pub fn render(f: &mut Frame, area: Rect, s: &State, v: &Viewer) {
    let t = &s.theme;
    let (ns, name) = &v.key;
    let pod = s.model.pods.items.get(&v.key);
    if v.kind == ViewKind::Why {
        let records = s
            .decisions
            .as_ref()
            .filter(|(k, _)| *k == v.key)
            .map(|(_, r)| r.as_slice());
        let lines = super::why::lines(s, pod.map(|p| &**p), records, area.width);
        framed(f, area, s, v, "why", lines);
        return;
    }
    if v.kind == ViewKind::Logs {
        logs(f, area, s, v);
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
                ("describe", describe_pod(pod, &events, s.now))
            }
            ViewKind::Yaml => match crate::api::yaml::to_yaml(&**pod) {
                Ok(text) => ("yaml", text.lines().map(str::to_string).collect()),
                Err(e) => ("yaml", vec![format!("cannot write YAML: {e}")]),
            },
            ViewKind::Why | ViewKind::Logs => ("", Vec::new()),
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
