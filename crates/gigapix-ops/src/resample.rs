//! resample operations (in progress).
