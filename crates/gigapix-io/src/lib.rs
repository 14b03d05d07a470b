//! File loaders and savers of gigapix: PPM/PGM and the raw format, memory-mapped and streaming.
