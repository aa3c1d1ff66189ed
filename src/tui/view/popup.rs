//! Popups over the cluster screen: the sample picker, the container chooser and the
//! confirmations of destructive actions.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::samples::SAMPLES;
use crate::tui::state::{ChooseFor, Chooser, Confirm, State};

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

/// The confirmation of a destructive action: what it is, and what it does in Kubernetes' terms.
pub fn confirm(f: &mut Frame, area: Rect, s: &State, confirm: &Confirm) {
    let t = &s.theme;
    let (title, question, what) = match confirm {
        Confirm::DeletePod(key) => (
            " delete ",
            format!("Delete pod {}/{}?", key.0, key.1),
            "Its kubelet stops the containers (grace period), then the pod goes.".to_string(),
        ),
        Confirm::Drain(node) => (
            " drain ",
            format!("Drain node {node}?"),
            "As kubectl drain --force: cordon it, then evict each pod (pods/eviction). \
             Pods without a controller are not recreated elsewhere."
                .to_string(),
        ),
        Confirm::StopKubelet(node) => (
            " stop kubelet ",
            format!("Stop the kubelet of {node}?"),
            "Its containers keep running; nothing syncs or reports. After 40s the node \
             turns Unknown (s starts it again)."
                .to_string(),
        ),
        Confirm::Kill { key, container } => (
            " kill ",
            format!("Kill container {container} of {}/{}?", key.0, key.1),
            "SIGKILL, as docker kill: the kubelet sees it exit (137) and restarts it per \
             restartPolicy."
                .to_string(),
        ),
    };
    let r = centered(area, 64, 8);
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .title(Line::styled(title, t.error()))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let lines = vec![
        Line::styled(question, t.text()),
        Line::styled(what, t.muted()),
        Line::default(),
        Line::from(vec![
            Span::styled("y", t.key()),
            Span::styled(" yes   ", t.muted()),
            Span::styled("n", t.key()),
            Span::styled(" no", t.muted()),
        ]),
    ];
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}

/// Which container (kubectl needs `-c` when a pod has more than one).
pub fn chooser(f: &mut Frame, area: Rect, s: &State, chooser: &Chooser) {
    let t = &s.theme;
    let h = (chooser.containers.len() as u16).saturating_add(4);
    let r = centered(area, 50, h);
    f.render_widget(Clear, r);
    let what = match chooser.purpose {
        ChooseFor::Logs => "logs",
        ChooseFor::Kill => "kill",
    };
    let block = Block::bordered()
        .title(Line::styled(
            format!(" {what}: which container of {}? ", chooser.key.1),
            t.title(),
        ))
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut lines: Vec<Line> = chooser
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let text = format!(" {c} ");
            if i == chooser.index {
                Line::styled(text, t.selected())
            } else {
                Line::styled(text, t.text())
            }
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(
        match chooser.purpose {
            ChooseFor::Logs => "kubectl logs asks for it too: -c NAME",
            ChooseFor::Kill => "enter takes it, then asks to confirm",
        },
        t.muted(),
    ));
    let skip = (chooser.index + 1).saturating_sub(inner.height.saturating_sub(2) as usize);
    f.render_widget(Paragraph::new(lines).scroll((skip as u16, 0)), inner);
}
