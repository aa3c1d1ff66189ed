//! The scheduler (kube-scheduler's role): an API client that list-watches unbound pods and nodes,
//! runs each pod through the framework's plugins, and writes bindings and events through the API.
//! This module grows with issue 4; today it holds the scheduling queue.

pub mod queue;
