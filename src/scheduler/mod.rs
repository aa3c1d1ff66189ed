//! The scheduler (kube-scheduler's role): an API client that list-watches unbound pods and nodes,
//! runs each pod through the framework's plugins, and writes bindings and events through the API.
//! This module grows with issue 4: today it holds the queue, the framework, the node-level default
//! plugins and the decision for one pod ([`schedule_one`]).

pub mod cache;
pub mod framework;
pub mod plugins;
pub mod queue;
pub mod run;
pub mod schedule_one;

pub use run::{Records, Scheduler};
