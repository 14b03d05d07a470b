//! The gigapix scheduler: planning, worker pool and sinks.
