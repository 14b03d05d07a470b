//! Integer rectangles in image coordinates.

use std::fmt;

/// A rectangle in pixel coordinates. `x`/`y` may be negative (areas outside an
/// image, as an `embed` needs); `width`/`height` are never negative.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Left edge, inclusive.
    pub x: i64,
    /// Top edge, inclusive.
    pub y: i64,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
}

impl Rect {
    /// A rectangle; negative sizes are clamped to zero.
    pub const fn new(x: i64, y: i64, width: i64, height: i64) -> Rect {
        Rect {
            x,
            y,
            width: if width < 0 { 0 } else { width },
            height: if height < 0 { 0 } else { height },
        }
    }

    /// The rectangle `(0, 0, width, height)`.
    pub const fn of_size(width: i64, height: i64) -> Rect {
        Rect::new(0, 0, width, height)
    }

    /// One past the right edge.
    pub const fn right(&self) -> i64 {
        self.x + self.width
    }

    /// One past the bottom edge.
    pub const fn bottom(&self) -> i64 {
        self.y + self.height
    }

    /// `true` if the rectangle holds no pixel.
    pub const fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// Number of pixels.
    pub const fn area(&self) -> u64 {
        (self.width as u64) * (self.height as u64)
    }

    /// The overlap of two rectangles (empty if they do not meet).
    pub fn intersect(&self, other: &Rect) -> Rect {
        let x = self.x.max(other.x);
        let y = self.y.max(other.y);
        let r = self.right().min(other.right());
        let b = self.bottom().min(other.bottom());
        Rect::new(x, y, r - x, b - y)
    }

    /// The smallest rectangle holding both (an empty rectangle is ignored).
    pub fn union(&self, other: &Rect) -> Rect {
        if self.is_empty() {
            return *other;
        }
        if other.is_empty() {
            return *self;
        }
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        let r = self.right().max(other.right());
        let b = self.bottom().max(other.bottom());
        Rect::new(x, y, r - x, b - y)
    }

    /// `true` if `other` lies entirely inside `self`.
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }

    /// The rectangle moved by `(dx, dy)`.
    pub const fn translate(&self, dx: i64, dy: i64) -> Rect {
        Rect::new(self.x + dx, self.y + dy, self.width, self.height)
    }

    /// The rectangle grown by `left`, `top`, `right`, `bottom` pixels.
    pub const fn expand(&self, left: i64, top: i64, right: i64, bottom: i64) -> Rect {
        Rect::new(
            self.x - left,
            self.y - top,
            self.width + left + right,
            self.height + top + bottom,
        )
    }
}

impl fmt::Debug for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}+{}+{}", self.width, self.height, self.x, self.y)
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersect_and_union() {
        let a = Rect::new(0, 0, 10, 10);
        let b = Rect::new(5, -5, 10, 10);
        assert_eq!(a.intersect(&b), Rect::new(5, 0, 5, 5));
        assert_eq!(a.union(&b), Rect::new(0, -5, 15, 15));
        assert!(a.intersect(&Rect::new(20, 20, 1, 1)).is_empty());
        assert!(a.contains(&Rect::new(2, 2, 8, 8)));
        assert!(!a.contains(&b));
    }
}
