//! PNG loader and saver, on the `png` crate.
//!
//! # Loading
//!
//! [`open`] reads the header and the chunks before the first `IDAT` only:
//! size, colour type, bit depth, the ICC profile (`iCCP`) and EXIF
//! (`eXIf`). The image is a sequential source
//! ([`SequentialSource`](gigapix_core::sequential::SequentialSource)): one
//! `png::Reader` per run decodes rows top to bottom straight into the
//! source's ring of recent rows, in a few megabytes whatever the height.
//! The file's access mode is ignored: PNG cannot be read in any order, and
//! the planner inserts a cache where a graph reads out of order.
//!
//! Samples come out as stored, expanded to whole bytes: grey, grey+alpha,
//! RGB and RGBA, 8 bits as `u8` and 16 bits as `u16` (native byte order);
//! 1, 2 and 4-bit grey are widened to `u8` (values scaled to 0..255, as
//! `png` does), palette images become RGB, and a `tRNS` chunk becomes an
//! alpha band (a grey `tRNS` value outside a low bit depth is masked to
//! its low bits, as libpng and libvips do).
//!
//! APNG files show their default image (the `IDAT` chunks), as libvips
//! does: the animation chunks (`acTL`, `fcTL`, `fdAT`) are left out of
//! the stream before the `png` decoder sees it, so chunks in an order it
//! would refuse do not fail the file.
//!
//! Adam7 interlaced files cannot be streamed: their rows arrive in seven
//! passes spread over the whole image. The first request of a run decodes
//! every pass at once, into memory when the decoded image takes at most
//! [`load::ADAM7_IN_MEMORY`] bytes and into an unnamed temporary file
//! otherwise; rows are then assembled from the stored passes, top to
//! bottom. (That memory is the loader's own, not counted by the engine's
//! buffer pool.)
//!
//! Damaged files: a bad header fails in [`open`]; bad pixel data (CRC or
//! zlib errors, a file that ends early) fails the run with an
//! [`ErrorKind::Format`](gigapix_core::ErrorKind::Format) error naming the
//! file. After the last row the rest of the file is read too, so that the
//! checksums of the last chunks are verified. With
//! [`FailOn::None`](crate::FailOn::None) the rows that cannot be decoded
//! are filled with zeros instead and a warning is recorded in the run.
//!
//! # Saving
//!
//! [`writer`] streams through `png::StreamWriter`: each band is filtered
//! and deflated as it arrives. `u8` and `u16` images of 1 to 4 bands
//! (grey, grey+alpha, RGB, RGBA) can be saved; the options are
//! `compression` (0: stored, 1: the very fast `fdeflate`, 2 to 9: zlib
//! levels; 5 by default, see [`save::DEFAULT_COMPRESSION`]) and `filter`
//! (`none`, `sub`, `up`, `avg`, `paeth`, `adaptive`, the default).
//! `interlace` is an
//! [`ErrorKind::Unsupported`](gigapix_core::ErrorKind::Unsupported) error.
//! The image's ICC profile is written as `iCCP` and its EXIF block as
//! `eXIf` (unless `strip`). Saves are atomic (a temporary file renamed by
//! `finish`).

mod load;
mod save;
pub(crate) use save::encode_to_vec;

pub(crate) use load::open;
pub(crate) use save::writer;
