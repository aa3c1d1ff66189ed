//! Kubelets: one per virtual node. Each registers its Node, list-watches the pods bound to it and
//! runs them through a container [`runtime`], writing their status back through the API.

pub mod backoff;
pub mod exec;
mod hooks;
pub mod logs;
pub mod node;
pub mod pod_actions;
pub mod prober;
pub mod run;
pub mod runtime;
pub mod security;
pub mod static_pods;
pub mod status;
pub mod sync;
