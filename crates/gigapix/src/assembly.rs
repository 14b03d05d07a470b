//! Facade methods of the `assembly` family (being written).

#[allow(unused_imports)]
use crate::Image;
