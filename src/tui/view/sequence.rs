//! The sequence panel: six lifelines (You, API server, store, scheduler, the pod's kubelet, the
//! runtime) and, for the selected pod, one labelled arrow per recorded trace step with its
//! latency, drawn one at a time. Footnotes name the eight steps of a pod's life and tick the
//! ones its steps have shown.

use std::sync::Arc;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::text::{duration, fit, width};
use crate::trace::{Actor, Held, Step};
use crate::tui::sequence::{EIGHT_STEPS, Lifeline, milestone};
use crate::tui::state::State;
use crate::tui::theme::{Health, Theme};

/// Columns of the time gutter (`+12 ms`).
const GUTTER: u16 = 10;

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let pb = &s.playback;
    let steps = pb.key.as_deref().and_then(|k| s.traces.steps(k));
    let len = steps.map_or(0, |v| v.len());
    let animating = pb.shown < len;
    let drawn = (pb.shown + usize::from(animating)).min(len);
    let mut title = vec![Span::styled(" sequence ", t.title())];
    if let Some(k) = &s.selected {
        title.push(Span::styled(format!("· {}/{} ", k.0, k.1), t.text()));
    }
    title.push(Span::styled(
        format!("· ×{} ", speed_label(pb.speed())),
        t.muted(),
    ));
    if len > 0 {
        title.push(Span::styled(format!("· step {drawn}/{len} "), t.muted()));
    }
    if pb.back > 0 {
        title.push(Span::styled(
            "· earlier steps (] goes back to the latest) ".to_string(),
            t.arrow(true),
        ));
    }
    if len > drawn {
        title.push(Span::styled(
            format!("· {} queued ", len - drawn),
            t.arrow(true),
        ));
    }
    let block = Block::bordered()
        .title(Line::from(title))
        .border_style(t.border(false));
    let mut inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 3 || inner.width < 40 {
        return;
    }
    if let Some(held) = &s.step_mode {
        // Step mode's line: what waits at the trace gate, at the panel's foot.
        inner.height -= 1;
        let foot = Rect::new(inner.x, inner.y + inner.height, inner.width, 1);
        f.render_widget(Paragraph::new(gate_line(t, held, foot.width)), foot);
    }
    let Some(key) = &s.selected else {
        f.render_widget(
            Paragraph::new(Span::styled(
                "Select a pod (↑/↓), or press n to create one: each step of its path through \
                 the control plane appears here as it really happens, with its latency.",
                t.muted(),
            ))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let drawn_steps: Vec<&Arc<Step>> = steps.into_iter().flatten().take(drawn).collect();
    let notes = footnotes(t, &drawn_steps, inner.width);
    let notes_h = (notes.len() as u16).min(inner.height.saturating_sub(3));
    let body = Rect::new(inner.x, inner.y, inner.width, inner.height - notes_h);
    let geo = Geometry::new(body);
    let kubelet = drawn_steps
        .iter()
        .find_map(|st| match (&st.from, &st.to) {
            (Actor::Kubelet(n), _) | (_, Actor::Kubelet(n)) => Some(n.clone()),
            _ => None,
        })
        .or_else(|| s.model.pods.items.get(key).and_then(|p| p.node.clone()));
    let simulated = s.info.runtime.contains("simulated");
    let head = header(f.buffer_mut(), &geo, t, kubelet.as_deref(), simulated);
    let rows = usize::from(body.height.saturating_sub(head));
    if drawn_steps.is_empty() {
        let msg = if len == 0 {
            "No steps recorded for this pod since kubox started. Create or change it and watch."
        } else {
            "…"
        };
        let y = body.y + head;
        for x in geo.lines() {
            for yy in y..body.y + body.height {
                f.buffer_mut()[(x, yy)]
                    .set_symbol("│")
                    .set_style(t.lifeline());
            }
        }
        f.buffer_mut().set_string(
            geo.label_x,
            y,
            fit(msg, usize::from(geo.label_w)),
            t.muted(),
        );
    }
    let first_at = steps.and_then(|v| v.front()).map(|s| s.at);
    let firsts = first_milestones(&drawn_steps);
    let back = pb.back.min(drawn_steps.len().saturating_sub(rows));
    let end = drawn_steps.len() - back;
    let start = end.saturating_sub(rows);
    for (row, (i, step)) in drawn_steps[..end]
        .iter()
        .enumerate()
        .skip(start)
        .enumerate()
    {
        let y = body.y + head + row as u16;
        let progress = if animating && i + 1 == drawn {
            Some(pb.progress)
        } else {
            None
        };
        let latest = !animating && i + 1 == drawn;
        let since = first_at.map(|a| step.at.saturating_sub(a));
        let mark = firsts.iter().position(|&f| f == Some(i));
        let row = StepRow {
            step,
            since,
            progress,
            latest,
            milestone: mark,
            simulated,
        };
        step_row(f.buffer_mut(), &geo, t, y, &row);
    }
    // Lifelines continue below the last arrow.
    let used = (end - start) as u16;
    for yy in body.y + head + used..body.y + body.height {
        for x in geo.lines() {
            f.buffer_mut()[(x, yy)]
                .set_symbol("│")
                .set_style(t.lifeline());
        }
    }
    if notes_h > 0 {
        let notes_area = Rect::new(
            inner.x,
            inner.y + inner.height - notes_h,
            inner.width,
            notes_h,
        );
        f.render_widget(Paragraph::new(notes), notes_area);
    }
}

/// `⏸ step mode  space lets through: scheduler → API server: POST binding → node-2
/// (default/web) · 2 more waiting`.
fn gate_line(t: &Theme, held: &[Held], width: u16) -> Line<'static> {
    let mut spans = vec![Span::styled(" ⏸ step mode ", t.selected()), Span::raw(" ")];
    match held.first() {
        None => spans.push(Span::styled(
            "nothing waits at the gate yet: create or change a pod (s leaves step mode)",
            t.muted(),
        )),
        Some(next) => {
            spans.push(Span::styled("space", t.key()));
            spans.push(Span::styled(" lets through: ", t.muted()));
            spans.push(Span::styled(next.to_string(), t.arrow(true)));
            let pod = next
                .key
                .strip_prefix("/registry/pods/")
                .unwrap_or(&next.key);
            spans.push(Span::styled(format!(" ({pod})"), t.text()));
            if held.len() > 1 {
                spans.push(Span::styled(
                    format!(" · {} more waiting", held.len() - 1),
                    t.muted(),
                ));
            }
        }
    }
    let mut used = 0;
    let mut fitted = Vec::new();
    for span in spans {
        let w = span.width();
        let room = usize::from(width).saturating_sub(used);
        if w <= room {
            used += w;
            fitted.push(span);
        } else {
            if room > 1 {
                fitted.push(Span::styled(fit(&span.content, room), span.style));
            }
            break;
        }
    }
    Line::from(fitted)
}

fn speed_label(speed: f32) -> String {
    if speed >= 1.0 {
        format!("{speed:.0}")
    } else {
        format!("{speed}")
    }
}

/// Where the lifelines and the labels go.
struct Geometry {
    area: Rect,
    /// x of each lifeline.
    xs: [u16; 6],
    spacing: u16,
    label_x: u16,
    label_w: u16,
}

impl Geometry {
    fn new(area: Rect) -> Geometry {
        let usable = area.width.saturating_sub(GUTTER);
        // Lifelines take up to half the width, 5 to 16 columns apart; labels get the rest.
        let spacing = (usable / 2 / 6).clamp(5, 16);
        let x0 = area.x + GUTTER + spacing / 2;
        let xs = std::array::from_fn(|i| x0 + i as u16 * spacing);
        let label_x = area.x + GUTTER + 6 * spacing + 1;
        let label_w = (area.x + area.width).saturating_sub(label_x);
        Geometry {
            area,
            xs,
            spacing,
            label_x,
            label_w,
        }
    }

    fn lines(&self) -> impl Iterator<Item = u16> + '_ {
        self.xs.iter().copied()
    }
}

/// The lifelines' names; on two staggered rows when one row is too tight. Returns the rows
/// used.
fn header(
    buf: &mut Buffer,
    g: &Geometry,
    t: &Theme,
    kubelet: Option<&str>,
    simulated: bool,
) -> u16 {
    let kubelet_full = kubelet.map_or("kubelet".to_string(), |n| format!("kubelet {n}"));
    let runtime_full = if simulated { "sim runtime" } else { "Docker" };
    let full = [
        "You",
        "API server",
        "store (etcd)",
        "scheduler",
        kubelet_full.as_str(),
        runtime_full,
    ];
    let short = [
        "You",
        "API",
        "store",
        "sched",
        "kubelet",
        if simulated { "sim" } else { "Docker" },
    ];
    let cell = usize::from(g.spacing.saturating_sub(1));
    let one_row = short.iter().all(|n| width(n) <= cell);
    let rows = if one_row { 1 } else { 2 };
    let room = if one_row { cell } else { 2 * cell };
    for (i, x) in g.xs.iter().enumerate() {
        let name = if width(full[i]) <= room {
            full[i]
        } else {
            short[i]
        };
        let name = fit(name, room.max(3));
        let w = width(&name) as u16;
        let start = x.saturating_sub(w / 2).max(g.area.x);
        let y = g.area.y + if one_row { 0 } else { (i % 2) as u16 };
        buf.set_string(start, y, &name, t.title());
    }
    if !one_row {
        // The lifelines start under the second row's names.
        for (i, x) in g.xs.iter().enumerate() {
            if i % 2 == 1 {
                continue;
            }
            buf[(*x, g.area.y + 1)]
                .set_symbol("│")
                .set_style(t.lifeline());
        }
    }
    if g.label_w > 4 {
        buf.set_string(g.label_x, g.area.y, "step · latency", t.muted());
    }
    buf.set_string(
        g.area.x,
        g.area.y,
        fit("time", usize::from(GUTTER)),
        t.muted(),
    );
    rows
}

/// The label of a step: `API server → store: commit create rev 42 · 0.3 ms`; the actors are
/// left out when the label would not fit with them.
fn label(step: &Step, room: usize, simulated: bool) -> String {
    let mut what = step.what.clone();
    if let Some(p) = step.progress {
        what.push_str(&pull_progress(&p, room.saturating_sub(width(&what))));
    }
    if let Some(rev) = step.rev {
        what.push_str(&format!(" rev {rev}"));
    }
    if let Some(took) = step.took {
        what.push_str(&format!(" · {}", duration(took)));
    }
    let name = |a: &Actor| match a {
        // The trace names the runtime's lifeline Docker; say which runtime it is.
        Actor::Docker if simulated => "sim runtime".to_string(),
        other => other.to_string(),
    };
    let full = format!("{} → {}: {what}", name(&step.from), name(&step.to));
    if width(&full) <= room { full } else { what }
}

/// ` ▕██████░░░░▏ 62% · 3/5 layers · 2.4/3.9 MB`, the bar as wide as `room` allows (none when
/// it is too tight).
fn pull_progress(p: &crate::trace::Progress, room: usize) -> String {
    let mb = |b: u64| b as f64 / 1_000_000.0;
    let known = p.bytes_total > 0;
    let fraction = if known {
        (p.bytes_done as f64 / p.bytes_total as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let numbers = if known {
        format!(
            " {:.0}% · {}/{} layers · {:.1}/{:.1} MB",
            fraction * 100.0,
            p.layers_done,
            p.layers_total,
            mb(p.bytes_done),
            mb(p.bytes_total)
        )
    } else {
        format!(" {}/{} layers", p.layers_done, p.layers_total)
    };
    let bar_w = room.saturating_sub(width(&numbers) + 3).min(20);
    if !known || bar_w < 5 {
        return numbers;
    }
    let filled = (fraction * bar_w as f64).round() as usize;
    format!(
        " ▕{}{}▏{numbers}",
        "█".repeat(filled),
        "░".repeat(bar_w - filled)
    )
}

/// For each of the eight steps, the index of the first drawn step that is it.
fn first_milestones(steps: &[&Arc<Step>]) -> [Option<usize>; 8] {
    let mut firsts = [None; 8];
    for (i, st) in steps.iter().enumerate() {
        if let Some(m) = milestone(st)
            && firsts[m].is_none()
        {
            firsts[m] = Some(i);
        }
    }
    firsts
}

struct StepRow<'a> {
    step: &'a Step,
    /// Time since the pod's first step.
    since: Option<std::time::Duration>,
    /// How much of the arrow is drawn, while it is being drawn.
    progress: Option<f32>,
    /// The last arrow drawn.
    latest: bool,
    /// Which of the eight steps this row is the first of.
    milestone: Option<usize>,
    /// The runtime is the simulation (its lifeline is not Docker).
    simulated: bool,
}

fn step_row(buf: &mut Buffer, g: &Geometry, t: &Theme, y: u16, row: &StepRow) {
    let StepRow {
        step,
        since,
        progress,
        latest,
        milestone,
        simulated,
    } = *row;
    for x in g.lines() {
        buf[(x, y)].set_symbol("│").set_style(t.lifeline());
    }
    if let Some(d) = since {
        let text = format!("+{}", duration(d));
        let text = fit(&text, usize::from(GUTTER - 1));
        buf.set_string(g.area.x, y, &text, t.muted());
    }
    let (Some(a), Some(b)) = (Lifeline::of(&step.from), Lifeline::of(&step.to)) else {
        return;
    };
    let new = progress.is_some() || latest;
    let style = t.arrow(new);
    let xa = g.xs[a.index()];
    let xb = g.xs[b.index()];
    if a == b {
        buf[(xa, y)].set_symbol("├").set_style(style);
        buf[(xa + 1, y)].set_symbol("↺").set_style(style);
    } else {
        let right = xb > xa;
        let span = xa.abs_diff(xb);
        let full = span.saturating_sub(1);
        let len = match progress {
            Some(p) => ((p.clamp(0.0, 1.0) * f32::from(full)).ceil() as u16).max(1),
            None => full,
        };
        buf[(xa, y)]
            .set_symbol(if right { "├" } else { "┤" })
            .set_style(style);
        for k in 1..=len {
            let x = if right { xa + k } else { xa - k };
            let head = k == len && len == full;
            let sym = match (head, right) {
                (true, true) => "▶",
                (true, false) => "◀",
                _ => "─",
            };
            buf[(x, y)].set_symbol(sym).set_style(style);
        }
    }
    if g.label_w < 4 {
        return;
    }
    let room = usize::from(g.label_w);
    let mut spans = Vec::new();
    let mut used = 0;
    if let Some(m) = milestone {
        let mark = format!("({}) ", m + 1);
        used += width(&mark);
        let h = if m == 7 {
            Health::Running
        } else {
            Health::Pending
        };
        spans.push(Span::styled(mark, t.health(h)));
    }
    let text = fit(&label(step, room - used, simulated), room - used);
    spans.push(Span::styled(text, if new { style } else { t.text() }));
    buf.set_line(g.label_x, y, &Line::from(spans), g.label_w);
}

/// `(1) created via the API ✓   (2) persisted in the store …`, packed into lines.
fn footnotes(t: &Theme, steps: &[&Arc<Step>], w: u16) -> Vec<Line<'static>> {
    let reached = first_milestones(steps).map(|f| f.is_some());
    let mut lines = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0;
    for (i, name) in EIGHT_STEPS.iter().enumerate() {
        let mark = if reached[i] { " ✓" } else { "" };
        let text = format!("({}) {name}{mark}", i + 1);
        let wdt = width(&text) + 3;
        if used + wdt > usize::from(w) && !spans.is_empty() {
            lines.push(Line::from(std::mem::take(&mut spans)));
            used = 0;
        }
        used += wdt;
        let style: Style = if reached[i] {
            t.health(Health::Running)
        } else {
            t.muted()
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::raw("   "));
    }
    if !spans.is_empty() {
        lines.push(Line::from(spans));
    }
    lines
}
