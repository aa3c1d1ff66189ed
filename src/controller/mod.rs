//! Controllers of kube-controller-manager that kubox runs in-process, as API clients.

pub mod node_lifecycle;
