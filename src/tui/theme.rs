//! Themes as data: `themes/*.toml` (dark, light, high-contrast) parsed into semantic styles, so
//! views ask for "the border of a focused panel" or "a failed pod", never for a colour. `NO_COLOR`
//! (<https://no-color.org>) turns every colour off and keeps only bold/reverse/underline.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The themes shipped inside the binary: `(name, toml)`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("themes/dark.toml")),
    ("light", include_str!("themes/light.toml")),
    ("high-contrast", include_str!("themes/high-contrast.toml")),
];

/// What a pod's status means, whatever its exact text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Running,
    Pending,
    Failed,
    Succeeded,
    Terminating,
}

impl Health {
    /// The class of a STATUS as kubectl prints it (`Running`, `CrashLoopBackOff`, `Init:0/1`…).
    pub fn of_status(status: &str) -> Health {
        match status {
            "Running" => Health::Running,
            "Completed" | "Succeeded" => Health::Succeeded,
            "Terminating" => Health::Terminating,
            "Pending" | "ContainerCreating" | "PodInitializing" | "SchedulingGated"
            | "NotReady" => Health::Pending,
            s if s.starts_with("Init:") && !s.contains("Err") && !s.contains("BackOff") => {
                Health::Pending
            }
            _ => Health::Failed,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    text: String,
    background: String,
    muted: String,
    border: String,
    border_focused: String,
    title: String,
    selection_fg: String,
    selection_bg: String,
    key: String,
    error: String,
    lifeline: String,
    arrow: String,
    arrow_new: String,
    bar_fill: String,
    bar_over: String,
    running: String,
    pending: String,
    failed: String,
    succeeded: String,
    terminating: String,
}

/// Semantic colours; see the accessors.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    text: Color,
    background: Color,
    muted: Color,
    border: Color,
    border_focused: Color,
    title: Color,
    selection_fg: Color,
    selection_bg: Color,
    key: Color,
    error: Color,
    lifeline: Color,
    arrow: Color,
    arrow_new: Color,
    bar_fill: Color,
    bar_over: Color,
    running: Color,
    pending: Color,
    failed: Color,
    succeeded: Color,
    terminating: Color,
    /// `NO_COLOR`: every colour is `Reset`; meaning is carried by modifiers only.
    mono: bool,
}

impl Theme {
    /// A theme from its TOML text.
    pub fn parse(text: &str) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let c = |field: &str, v: &str| -> Result<Color, String> {
            v.parse::<Color>()
                .map_err(|_| format!("{field} = {v:?} is not a colour"))
        };
        Ok(Theme {
            text: c("text", &f.text)?,
            background: c("background", &f.background)?,
            muted: c("muted", &f.muted)?,
            border: c("border", &f.border)?,
            border_focused: c("border_focused", &f.border_focused)?,
            title: c("title", &f.title)?,
            selection_fg: c("selection_fg", &f.selection_fg)?,
            selection_bg: c("selection_bg", &f.selection_bg)?,
            key: c("key", &f.key)?,
            error: c("error", &f.error)?,
            lifeline: c("lifeline", &f.lifeline)?,
            arrow: c("arrow", &f.arrow)?,
            arrow_new: c("arrow_new", &f.arrow_new)?,
            bar_fill: c("bar_fill", &f.bar_fill)?,
            bar_over: c("bar_over", &f.bar_over)?,
            running: c("running", &f.running)?,
            pending: c("pending", &f.pending)?,
            failed: c("failed", &f.failed)?,
            succeeded: c("succeeded", &f.succeeded)?,
            terminating: c("terminating", &f.terminating)?,
            name: f.name,
            mono: false,
        })
    }

    /// A built-in theme by name; the error lists the names there are.
    pub fn builtin(name: &str) -> Result<Theme, String> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            let names: Vec<_> = BUILTIN.iter().map(|(n, _)| *n).collect();
            format!("no theme {name:?}; themes: {}", names.join(", "))
        })?;
        Theme::parse(text).map_err(|e| format!("theme {name}: {e}"))
    }

    /// The default theme (dark).
    pub fn dark() -> Theme {
        // The built-in files are checked by a test, so this cannot fail in a release.
        Theme::builtin("dark").unwrap_or_else(|_| Theme::plain("dark"))
    }

    /// The theme with every colour off (`NO_COLOR`).
    pub fn without_colour(mut self) -> Theme {
        self.mono = true;
        self
    }

    fn plain(name: &str) -> Theme {
        let r = Color::Reset;
        Theme {
            name: name.into(),
            text: r,
            background: r,
            muted: r,
            border: r,
            border_focused: r,
            title: r,
            selection_fg: r,
            selection_bg: r,
            key: r,
            error: r,
            lifeline: r,
            arrow: r,
            arrow_new: r,
            bar_fill: r,
            bar_over: r,
            running: r,
            pending: r,
            failed: r,
            succeeded: r,
            terminating: r,
            mono: true,
        }
    }

    pub fn is_mono(&self) -> bool {
        self.mono
    }

    fn fg(&self, c: Color) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }

    /// The whole screen: text on the theme's background.
    pub fn base(&self) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(self.text).bg(self.background)
        }
    }

    pub fn text(&self) -> Style {
        self.fg(self.text)
    }

    pub fn muted(&self) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            self.fg(self.muted)
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.mono) {
            (true, true) => Style::new().add_modifier(Modifier::BOLD),
            (true, false) => self.fg(self.border_focused),
            (false, _) => self.fg(self.border),
        }
    }

    pub fn title(&self) -> Style {
        self.fg(self.title).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().fg(self.selection_fg).bg(self.selection_bg)
        }
    }

    /// A key in the key bar or the help screen.
    pub fn key(&self) -> Style {
        self.fg(self.key).add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.fg(self.error).add_modifier(Modifier::BOLD)
    }

    pub fn lifeline(&self) -> Style {
        self.fg(self.lifeline)
    }

    /// An arrow of the sequence panel; `new` while it is being drawn.
    pub fn arrow(&self, new: bool) -> Style {
        if new {
            self.fg(self.arrow_new).add_modifier(Modifier::BOLD)
        } else {
            self.fg(self.arrow)
        }
    }

    /// The filled part of a usage bar; `over` when the requests pass what is allocatable.
    pub fn bar(&self, over: bool) -> Style {
        match (over, self.mono) {
            (true, true) => Style::new().add_modifier(Modifier::BOLD),
            (true, false) => self.fg(self.bar_over),
            (false, _) => self.fg(self.bar_fill),
        }
    }

    pub fn health_color(&self, h: Health) -> Color {
        match h {
            Health::Running => self.running,
            Health::Pending => self.pending,
            Health::Failed => self.failed,
            Health::Succeeded => self.succeeded,
            Health::Terminating => self.terminating,
        }
    }

    /// Text in a pod's status colour.
    pub fn health(&self, h: Health) -> Style {
        if self.mono {
            match h {
                Health::Failed => Style::new().add_modifier(Modifier::BOLD),
                Health::Pending | Health::Terminating => {
                    Style::new().add_modifier(Modifier::ITALIC)
                }
                _ => Style::new(),
            }
        } else {
            self.fg(self.health_color(h))
        }
    }

    /// A pod chip: the status colour as background.
    pub fn chip(&self, h: Health) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().fg(Color::Black).bg(self.health_color(h))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses() {
        for (name, _) in BUILTIN {
            let theme = Theme::builtin(name).unwrap();
            assert_eq!(theme.name, *name);
        }
    }

    #[test]
    fn unknown_theme_names_the_ones_there_are() {
        let err = Theme::builtin("neon").unwrap_err();
        assert_eq!(
            err,
            r#"no theme "neon"; themes: dark, light, high-contrast"#
        );
    }

    #[test]
    fn no_color_keeps_meaning_in_modifiers() {
        let t = Theme::dark().without_colour();
        assert_eq!(t.health(Health::Running).fg, None);
        assert!(t.selected().add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn kubectl_statuses_map_to_health() {
        assert_eq!(Health::of_status("CrashLoopBackOff"), Health::Failed);
        assert_eq!(Health::of_status("ContainerCreating"), Health::Pending);
        assert_eq!(Health::of_status("Init:0/1"), Health::Pending);
        assert_eq!(Health::of_status("Init:CrashLoopBackOff"), Health::Failed);
        assert_eq!(Health::of_status("Completed"), Health::Succeeded);
    }
}
