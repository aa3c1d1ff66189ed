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

/// Hands memory the process freed back to the OS at once instead of after mimalloc's default
/// delay (1 s, checked only when the allocator runs again). Without it a cluster that just ran a
/// burst of pods and went quiet kept ~30 MB of freed pages resident (the memory bench: 178 vs
/// 146 MiB with 10,000 pods). Called by [`cluster::Cluster::start`].
pub fn return_freed_memory_promptly() {
    #[cfg(not(feature = "system-allocator"))]
    {
        unsafe extern "C" {
            fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
            fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
        }
        // `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (include/mimalloc.h); the
        // Rust bindings do not name it. Its default is 1000 (ms); a value set through
        // `MIMALLOC_PURGE_DELAY` is left as it is.
        const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
        // SAFETY: mimalloc's option calls take any option index and value; they only set or read
        // one word of its option table.
        unsafe {
            if mi_option_get(MI_OPTION_PURGE_DELAY) == 1000 {
                mi_option_set(MI_OPTION_PURGE_DELAY, 0);
            }
        }
    }
}
