//! (being written)

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&crate::catalogue::OpDesc] = &[];
