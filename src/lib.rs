//! kubox: a Kubernetes cluster in a box. See ARCHITECTURE.md for the module map.

pub mod store;
pub mod trace;
