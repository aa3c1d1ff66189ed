//! The two one-line bars: the top says what this kubox is (runtime, API address, kubeconfig),
//! the bottom says what the keys do — or what just happened — and where the store is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::text::{fit, path, width};
use crate::tui::keymap::{Binding, Command, bindings};
use crate::tui::state::{PromptKind, State, ViewKind};

/// One line when the terminal is wide enough for everything the top bar says, else two.
pub fn top_height(s: &State, width: u16) -> u16 {
    let (first, second) = top_spans(s);
    let need: usize = first.iter().chain(&second).map(Span::width).sum::<usize>() + 3;
    if need <= usize::from(width) { 1 } else { 2 }
}

pub fn top_bar(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let (mut first, second) = top_spans(s);
    let lines = if area.height >= 2 {
        vec![Line::from(first), Line::from(second)]
    } else {
        first.push(Span::styled("  │", t.muted()));
        first.extend(second);
        vec![Line::from(first)]
    };
    f.render_widget(Paragraph::new(lines), area);
}

/// The top bar's two halves: what runs (runtime, revision), and where to reach it.
fn top_spans(s: &State) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
    let t = &s.theme;
    let runtime = s
        .info
        .runtime
        .strip_prefix("runtime: ")
        .unwrap_or(&s.info.runtime);
    let first = vec![
        Span::styled(" kubox ", t.selected()),
        Span::raw(" "),
        Span::styled("runtime ", t.muted()),
        Span::styled(runtime.to_string(), t.text()),
        Span::styled("  │ rev ", t.muted()),
        Span::styled(s.revision().to_string(), t.text()),
    ];
    let mut first = first;
    if let Some(held) = &s.step_mode {
        first.push(Span::styled("  │ ", t.muted()));
        first.push(Span::styled(
            format!("STEP MODE · {} waiting", held.len()),
            t.arrow(true),
        ));
    }
    let mut second = vec![Span::raw(" ")];
    match &s.info.api {
        Some(api) => {
            second.push(Span::styled("API ", t.muted()));
            second.push(Span::styled(api.clone(), t.text()));
            second.push(Span::styled("  │ kubectl --kubeconfig ", t.muted()));
            second.push(Span::styled(path(&s.info.kubeconfig), t.text()));
        }
        None => second.push(Span::styled("no HTTP API", t.muted())),
    }
    second.push(Span::styled("  │ store ", t.muted()));
    second.push(Span::styled(path(&s.info.store_file), t.text()));
    if s.lagged > 0 {
        second.push(Span::styled(
            format!("  │ missed {} steps", s.lagged),
            t.error(),
        ));
    }
    (first, second)
}

pub fn bottom_bar(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let avail = usize::from(area.width);
    if let Some(p) = &s.prompt {
        let lead = match p.kind {
            PromptKind::Command => ":",
            PromptKind::Filter => "/",
        };
        let hint = match p.kind {
            PromptKind::Command => {
                "   nodes · queue · events · pods · cordon NODE · uncordon NODE · theme NAME · quit — enter runs"
            }
            PromptKind::Filter => {
                "   pods whose namespace/name contains it — enter keeps it, esc clears it"
            }
        };
        let line = Line::from(vec![
            Span::styled(format!(" {lead}{}", p.text), t.key()),
            Span::styled("█", t.key()),
            Span::styled(hint, t.muted()),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let line = match &s.flash {
        Some(flash) => Line::styled(
            fit(&format!(" {}", flash.text), avail),
            if flash.error { t.error() } else { t.title() },
        ),
        None => {
            // Items in the table's order; when they do not fit, the last ones go first, but
            // help and quit always stay.
            let mut items: Vec<_> = bindings(s.mode())
                .iter()
                .filter(|b| !b.bar.is_empty())
                .filter(|b| applies(s, b.command))
                .map(|b| {
                    let key = b.keys.first().map(|k| k.label()).unwrap_or_default();
                    let w = width(&key) + width(b.bar) + 3;
                    (b, key, w)
                })
                .collect();
            let keep = |b: &&Binding| matches!(b.command, Command::Help | Command::Quit);
            while 1 + items.iter().map(|i| i.2).sum::<usize>() > avail {
                match items.iter().rposition(|i| !keep(&i.0)) {
                    Some(at) => {
                        items.remove(at);
                    }
                    None => break,
                }
            }
            let mut spans = vec![Span::raw(" ")];
            for (b, key, _) in items {
                spans.push(Span::styled(key, t.key()));
                spans.push(Span::styled(format!(" {}  ", b.bar), t.muted()));
            }
            Line::from(spans)
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

/// Whether a viewer key does something in the view that is open (the viewers share a keymap).
fn applies(s: &State, c: Command) -> bool {
    let kind = s.viewer.as_ref().map(|v| v.kind);
    match c {
        Command::Previous => kind == Some(ViewKind::Logs),
        Command::StepNext => s.step_mode.is_some(),
        Command::Edit => !matches!(kind, Some(ViewKind::Events | ViewKind::Queue)),
        _ => true,
    }
}
