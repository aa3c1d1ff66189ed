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

/// mimalloc instead of glibc's malloc, for every binary that links kubox (kubox itself, its
/// tests and its benchmarks, so they measure what ships). Under a burst of pods glibc's
/// allocator took ~30% of the CPU (`_int_malloc`, `_int_free`, `malloc_consolidate`): the
/// control plane allocates and frees many small objects across threads. The `system-allocator`
/// feature keeps glibc's, for heap profilers that hook malloc (heaptrack, valgrind's massif).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
