//! Facade methods of the `hist` family (being written).

#[allow(unused_imports)]
use crate::Image;
