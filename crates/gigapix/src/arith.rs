//! Facade methods of the `arith` family (being written).

#[allow(unused_imports)]
use crate::Image;
