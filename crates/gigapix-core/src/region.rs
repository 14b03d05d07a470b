//! Regions: rectangles of pixels, either owned pooled buffers or zero-copy
//! views of shared memory (another buffer, a memory-mapped file).

use std::fmt;
use std::sync::Arc;

use crate::memory::PixelBuf;
use crate::{BandFormat, Error, ErrorKind, Rect, Result, Sample};

/// Memory that many regions may view at once without copying: an in-memory
/// image, a memory-mapped file.
pub trait SharedPixels: Send + Sync + 'static {
    /// All the bytes.
    fn bytes(&self) -> &[u8];
}

impl SharedPixels for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl SharedPixels for PixelBuf {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

enum Storage {
    Owned(PixelBuf),
    Shared(Arc<dyn SharedPixels>),
}

/// A rectangle of pixels of one image, in that image's coordinates.
///
/// Rows are `stride` bytes apart; a row holds `rect.width × bands` elements
/// of `format`. A region either owns a pooled buffer (what operations
/// allocate for their output) or views shared memory without copying (what a
/// crop of a memory-mapped file returns).
pub struct Region {
    rect: Rect,
    bands: u32,
    format: BandFormat,
    stride: usize,
    offset: usize,
    data: Storage,
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Region")
            .field("rect", &self.rect)
            .field("bands", &self.bands)
            .field("format", &self.format)
            .field("view", &self.is_view())
            .finish()
    }
}

impl Region {
    /// A region over an owned buffer, rows packed (`stride = width × bands ×
    /// size`). Fails if the buffer is too small.
    pub fn owned(buf: PixelBuf, rect: Rect, bands: u32, format: BandFormat) -> Result<Region> {
        let stride = rect.width as usize * bands as usize * format.size();
        let need = stride * rect.height as usize;
        if buf.len() < need {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "buffer of {} bytes is too small for region {rect} ({need} bytes)",
                    buf.len()
                ),
            ));
        }
        Ok(Region {
            rect,
            bands,
            format,
            stride,
            offset: 0,
            data: Storage::Owned(buf),
        })
    }

    /// A zero-copy view of shared memory: the first pixel of `rect` is at
    /// byte `offset`, rows `stride` bytes apart. Fails if the view would
    /// reach past the end of `data` or is misaligned for `format`.
    pub fn view(
        data: Arc<dyn SharedPixels>,
        offset: usize,
        stride: usize,
        rect: Rect,
        bands: u32,
        format: BandFormat,
    ) -> Result<Region> {
        let row = rect.width as usize * bands as usize * format.size();
        let bytes = data.bytes();
        let end = if rect.height == 0 {
            offset
        } else {
            offset + (rect.height as usize - 1) * stride + row
        };
        let misaligned = !(bytes.as_ptr() as usize + offset).is_multiple_of(format.size())
            || !stride.is_multiple_of(format.size());
        if end > bytes.len() || (rect.height > 1 && stride < row) || misaligned {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "view of {rect} at offset {offset}, stride {stride} does not fit {} bytes",
                    bytes.len()
                ),
            ));
        }
        Ok(Region {
            rect,
            bands,
            format,
            stride,
            offset,
            data: Storage::Shared(data),
        })
    }

    /// Where the region lies, in image coordinates.
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// Bands per pixel.
    pub fn bands(&self) -> u32 {
        self.bands
    }

    /// Band format.
    pub fn format(&self) -> BandFormat {
        self.format
    }

    /// `true` if the region views shared memory rather than owning a buffer.
    pub fn is_view(&self) -> bool {
        matches!(self.data, Storage::Shared(_))
    }

    /// Bytes per pixel.
    pub fn pixel_bytes(&self) -> usize {
        self.bands as usize * self.format.size()
    }

    /// Bytes of one row of the region.
    pub fn row_len(&self) -> usize {
        self.rect.width as usize * self.pixel_bytes()
    }

    fn bytes(&self) -> &[u8] {
        match &self.data {
            Storage::Owned(b) => b.as_bytes(),
            Storage::Shared(s) => s.bytes(),
        }
    }

    fn row_start(&self, y: i64) -> usize {
        assert!(
            y >= self.rect.y && y < self.rect.bottom(),
            "row {y} outside region {}",
            self.rect
        );
        self.offset + (y - self.rect.y) as usize * self.stride
    }

    /// Row `y` (image coordinates) as bytes. Panics if `y` is outside the
    /// region.
    pub fn row_bytes(&self, y: i64) -> &[u8] {
        let s = self.row_start(y);
        &self.bytes()[s..s + self.row_len()]
    }

    /// Row `y` as elements of `T`. Panics if `T` is not the region's format
    /// or `y` is outside the region.
    pub fn row<T: Sample>(&self, y: i64) -> &[T] {
        assert_eq!(
            T::FORMAT,
            self.format,
            "row type does not match the region's format"
        );
        bytemuck::cast_slice(self.row_bytes(y))
    }

    /// Row `y` as mutable bytes. A view is first copied into an owned buffer
    /// (copy on write).
    pub fn row_bytes_mut(&mut self, y: i64) -> &mut [u8] {
        self.owned_bytes_mut();
        let s = self.row_start(y);
        let len = self.row_len();
        &mut self.owned_bytes_mut()[s..s + len]
    }

    /// Row `y` as mutable elements of `T`. Panics like [`row`](Region::row).
    pub fn row_mut<T: Sample>(&mut self, y: i64) -> &mut [T] {
        assert_eq!(
            T::FORMAT,
            self.format,
            "row type does not match the region's format"
        );
        bytemuck::cast_slice_mut(self.row_bytes_mut(y))
    }

    fn owned_bytes_mut(&mut self) -> &mut [u8] {
        if let Storage::Shared(_) = self.data {
            let row = self.row_len();
            let mut buf = PixelBuf::unpooled(row * self.rect.height as usize);
            for (i, y) in (self.rect.y..self.rect.bottom()).enumerate() {
                buf.as_bytes_mut()[i * row..(i + 1) * row].copy_from_slice(self.row_bytes(y));
            }
            self.data = Storage::Owned(buf);
            self.offset = 0;
            self.stride = row;
        }
        match &mut self.data {
            Storage::Owned(b) => b.as_bytes_mut(),
            Storage::Shared(_) => unreachable!("converted above"),
        }
    }

    /// The same pixels narrowed to `rect`, without copying. Fails if `rect`
    /// is not inside the region.
    pub fn narrow(mut self, rect: Rect) -> Result<Region> {
        if !self.rect.contains(&rect) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("cannot narrow region {} to {rect}", self.rect),
            ));
        }
        self.offset += (rect.y - self.rect.y) as usize * self.stride
            + (rect.x - self.rect.x) as usize * self.pixel_bytes();
        self.rect = rect;
        Ok(self)
    }

    /// The same pixels placed at `(x, y)` (a translation, no copy).
    pub fn moved_to(mut self, x: i64, y: i64) -> Region {
        self.rect = Rect::new(x, y, self.rect.width, self.rect.height);
        self
    }

    /// The region's rows as one slice, when they follow each other in
    /// memory with nothing between them (an owned region, or a view of
    /// full rows): what a consumer of packed rows can read without a copy.
    pub fn packed_bytes(&self) -> Option<&[u8]> {
        if self.rect.is_empty() {
            return Some(&[]);
        }
        (self.stride == self.row_len()).then(|| {
            let start = self.row_start(self.rect.y);
            &self.bytes()[start..start + self.stride * self.rect.height as usize]
        })
    }

    /// Copies the region's rows into `dst`, rows `dst_stride` bytes apart.
    pub fn copy_to(&self, dst: &mut [u8], dst_stride: usize) {
        let row = self.row_len();
        for (i, y) in (self.rect.y..self.rect.bottom()).enumerate() {
            dst[i * dst_stride..i * dst_stride + row].copy_from_slice(self.row_bytes(y));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_narrow_without_copy() {
        let data: Vec<u8> = (0..100).collect();
        let shared: Arc<dyn SharedPixels> = Arc::new(data);
        let r = Region::view(shared, 0, 10, Rect::new(0, 0, 10, 10), 1, BandFormat::U8).unwrap();
        let r = r.narrow(Rect::new(2, 3, 4, 2)).unwrap();
        assert!(r.is_view());
        assert_eq!(r.row_bytes(3), &[32, 33, 34, 35]);
        assert_eq!(r.row_bytes(4), &[42, 43, 44, 45]);
        let mut r = r.moved_to(0, 0);
        r.row_bytes_mut(1)[0] = 7;
        assert!(!r.is_view());
        assert_eq!(r.row_bytes(1), &[7, 43, 44, 45]);
        assert_eq!(r.row_bytes(0), &[32, 33, 34, 35]);
    }

    #[test]
    fn view_past_end_is_an_error() {
        let shared: Arc<dyn SharedPixels> = Arc::new(vec![0u8; 10]);
        assert!(Region::view(shared, 0, 5, Rect::new(0, 0, 5, 3), 1, BandFormat::U8).is_err());
    }
}
