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

/// Keeps the process's resident memory close to what it uses; called by
/// [`cluster::Cluster::start`]. Two things, each measured with the memory bench (10,000 pods,
/// whole process):
/// - Freed memory goes back to the OS at once instead of after mimalloc's default delay (1 s,
///   checked only when the allocator runs again). Without it a cluster that just ran a burst of
///   pods and went quiet kept ~30 MB of freed pages resident (178 vs 146 MiB).
/// - No transparent huge pages. mimalloc asks for them on its arenas (`MADV_HUGEPAGE`), and the
///   kernel then makes a whole 2 MiB page resident for the first byte touched in it, and cannot
///   give back part of one. With them RSS read 137–156 MiB from run to run; without, 113–117.
///
/// A `MIMALLOC_PURGE_DELAY` or `MIMALLOC_ALLOW_THP` set by the user is left as it is.
pub fn keep_resident_memory_low() {
    #[cfg(not(feature = "system-allocator"))]
    purge_freed_pages_at_once();
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE only sets a flag on this process's memory map (kept by
        // its children: kubox starts none; containers are dockerd's).
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

#[cfg(not(feature = "system-allocator"))]
fn purge_freed_pages_at_once() {
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
        fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    }
    // `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (include/mimalloc.h); the Rust
    // bindings do not name it. Its default is 1000 (ms); a value set through
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
