//! kubox: a Kubernetes cluster in a box. See ARCHITECTURE.md for the module map.

pub mod admin;
pub mod api;
pub mod cli;
pub mod cluster;
pub mod controller;
pub mod kubelet;
pub mod scheduler;
pub mod store;
pub mod trace;
pub mod tui;
