//! Image operations of gigapix: generators, point, band, geometry and statistics operations.
