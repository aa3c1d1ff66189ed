//! Client-side machinery on top of [`super::Api`], named as in kube-runtime: a [`watcher`] that
//! list-watches forever (re-listing on 410 Gone or a dropped watch) and a [`reflector`] that keeps
//! a local cache from it.

pub mod reflector;
pub mod watcher;

pub use reflector::{Store, reflector, store};
pub use watcher::{Event, watcher};
