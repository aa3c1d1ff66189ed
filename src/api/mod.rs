//! The API server: kube-apiserver's job, in-process. Generic verbs over the kinds kubox serves
//! ([`resource::Kind`]), validation and defaulting as Kubernetes does them, watch, the typed client
//! ([`Api`]), and client-side watcher/reflector machinery ([`runtime`]). The HTTP front end
//! (later) and every component go through [`ApiServer`]; none of them touches the store.

pub mod admission;
pub mod client;
pub mod defaults;
pub mod error;
pub mod events;
mod eviction;
pub mod http;
pub mod params;
pub mod quantity;
pub mod resource;
pub mod runtime;
pub mod selector;
pub mod server;
mod shared;
mod shrink;
pub mod strategic;
pub mod validation;
pub mod watch;
pub mod yaml;

pub use client::Api;
pub use error::{ApiError, Reason};
pub use events::{EventRecorder, EventType};
pub use params::{DeleteParams, ListParams, Patch, WatchParams};
pub use resource::Kind;
pub use server::{ApiServer, Caller, Deleted, ObjectList};
pub use watch::{WatchEvent, WatchStream};
