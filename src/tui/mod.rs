//! The TUI: what `kubox` with no subcommand shows. It is an API client (watches of pods, nodes
//! and events; creates, replaces and deletes through `Api<Pod>`) plus a subscriber of the trace
//! bus; it never opens the store or talks to the runtime. Shaped as the Elm architecture:
//! [`state::State`], [`update::update`] (no I/O; side effects come back as
//! [`action::Effect`]s), and [`view`] (pure drawing). [`app`] is the event loop that joins the
//! terminal, the watches and the trace bus, and redraws only when something changed.
//!
//! Only this module imports ratatui and crossterm.

pub mod action;
mod app;
pub mod backoff;
pub mod describe;
pub mod editor;
pub mod keymap;
pub mod model;
pub mod node_actions;
pub mod samples;
pub mod sequence;
pub mod state;
pub mod theme;
pub mod update;
pub mod view;
pub mod why;

pub use app::{Options, run};
pub use theme::Theme;
