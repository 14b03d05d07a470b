//! How many threads a run uses by default.

/// The default worker count: `GIGAPIX_CONCURRENCY` if set to a positive
/// number, else [`std::thread::available_parallelism`] (which honours
/// cgroup CPU quotas on Linux).
pub fn default_threads() -> usize {
    std::env::var("GIGAPIX_CONCURRENCY")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}
