//! WebP loader and saver, on libwebp 1.6 (through the `gigapix-webp`
//! wrapper crate, the only `unsafe` code of the WebP path).
//!
//! # Loading
//!
//! [`open`] reads the whole file (WebP decoders need every byte; the file
//! must fit `max_alloc`) and parses its RIFF container with libwebp's
//! demuxer: a truncated or damaged container fails here. The image is RGB,
//! or RGBA when the file has alpha (animations are always RGBA), `u8`,
//! sRGB. The `ICCP`, `EXIF` and `XMP ` chunks become the ICC profile, the
//! EXIF block (and orientation) and the metadata field `xmp`; field
//! `webp-format` says `lossy`, `lossless` or `animation`.
//!
//! The pixels are decoded whole, by libwebp with its decoding thread, on
//! the first request of a region (the size of the decoded image is checked
//! against the limits when the file is opened), and served as zero-copy
//! views of that buffer in any order: what libvips holds too. A damaged
//! bitstream fails the run with a one-line error (libwebp decodes all or
//! nothing, so `fail_on` is not offered).
//!
//! `shrink=N` decodes through libwebp's rescaler straight to 1/N of the
//! size (rounded to nearest, as libvips does), which is what `thumbnail`
//! uses. Animations open as their first frame; `page=N` picks another and
//! `n=N` (`n=-1`: all from `page`) stacks frames as a tall strip, with
//! metadata `page-height`, `n-pages` (the file's frame count), `delay`
//! (milliseconds per frame of the file, a comma list) and `loop`. Frames
//! are composited by libwebp's animation decoder as the format says
//! (disposal to transparent, alpha blending or not), from frame 0 on.
//!
//! # Saving
//!
//! [`writer`] gathers the rows into libwebp's picture as they arrive: YUV
//! 4:2:0 for lossy output, converted by libwebp's own import per pair of
//! rows while the pipeline computes the next bands (1.5 bytes a pixel, 2.5
//! with alpha, instead of the RGB image), ARGB (4 bytes a pixel) for
//! lossless, near-lossless and `smart_subsample`. `finish` encodes it (with
//! libwebp's encoder thread), adds the ICC, EXIF (orientation patched) and
//! XMP chunks and renames the file into place; a failed save leaves
//! nothing. Grey images are saved as RGB (WebP has no grey). Options:
//! `Q`, `lossless`, `effort` (or `method`), `alpha_q`, `near_lossless`,
//! `smart_subsample`, `preset`, `exact`, `strip`, with libvips' defaults
//! and meanings. Sizes over 16383 are refused before anything is written.
//! An image with `page-height` is saved as an animation: each frame goes
//! to libwebp's animation encoder as soon as its rows are in, with the
//! `delay` and `loop` metadata (100 ms and 0 by default).

mod load;
mod save;

pub(crate) use load::open;
// For the reader and in-memory routes (`streams`): `load::open_read`
// and `load::open_bytes`.
#[allow(unused_imports)]
pub(crate) use load::{open_bytes, open_read};
pub(crate) use save::{encode_to_vec, settings, writer};
