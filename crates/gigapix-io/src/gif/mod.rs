//! GIF loader and saver, on the `gif` crate (image-rs: streaming LZW).
//!
//! # Loading
//!
//! [`open`] reads the whole file into memory (GIFs are small next to their
//! decoded frames; at most `Limits::max_alloc` bytes) and lists its frames
//! without decoding them: their number (`n-pages`), their delays
//! (`delay`, milliseconds, comma-separated), the loop count (`loop`: the
//! number of plays, 0 for forever, 1 when there is no NETSCAPE block), and
//! whether any frame has a transparent index. The image is RGB, or RGBA
//! when any frame has a transparent index, as libvips 8.18 gives it.
//!
//! The options `page` (the first frame, from 0) and `n` (how many; -1 for
//! all from `page`) choose the frames; several are stacked top to bottom
//! as a tall strip with `page-height` set (libvips' convention). Frames
//! are composited as libvips 8.18 (libnsgif) composites them: on a canvas
//! the size of the logical screen (grown to the first frame when that is
//! larger), initially transparent black; each frame's transparent index
//! leaves the canvas under it; disposal "background" clears the frame's
//! rectangle to transparent black (not to the background colour) and
//! "restore to previous" puts back what was under the frame. Parts of
//! frames outside the canvas are clipped.
//!
//! The image is a sequential source: one reader per run decodes frame
//! after frame, line by line, onto the canvas, and serves each selected
//! frame's canvas as the next page of rows. It holds the canvas (4 bytes
//! a screen pixel), a copy of the area under a "restore to previous"
//! frame and one line of indices, whatever the number of frames.
//!
//! Damage: a bad header or a file that ends before its trailer fails in
//! [`open`]; bad frame data (LZW errors, data ending early) fails the run.
//! With `fail_on=none` the frames before the damage are kept, the page
//! being drawn keeps what was drawn of it, later pages are zeros, and a
//! warning is recorded.
//!
//! Other metadata: `bits-per-sample` (bits of the largest colour table),
//! `palette`, `interlaced` (when a frame is), `background` (the
//! background colour of the global table, `r,g,b`), `gif-palette` (the
//! global table as libvips gives it: each colour the signed 32-bit
//! little-endian word of its RGBA bytes, comma-separated, only when no
//! frame has a local table), and the ICC profile of an `ICCRGBG1`
//! application block.

mod load;

// `open_bytes` and `open_read` are the cores the memory and reader routes
// (issue 11, streams) call.
#[allow(unused_imports)]
pub(crate) use load::{open, open_bytes, open_read};

use gigapix_core::desc::{ArgDesc, ArgType};

/// The loader's options (in the format table).
pub(crate) const LOAD_OPTIONS: &[ArgDesc] = &[
    ArgDesc::optional(
        "page",
        ArgType::int(0, load::MAX_FRAMES as i64 - 1),
        "0",
        "The first frame to read, from 0.",
    ),
    ArgDesc::optional(
        "n",
        ArgType::int(-1, load::MAX_FRAMES as i64),
        "1",
        "How many frames to read from `page`, stacked as a tall strip with `page-height` \
         set; -1 for all.",
    ),
    crate::formats::FAIL_ON,
];

mod save;
pub(crate) use save::{encode_to_vec, encoder_bytes, writer};

/// The saver's options (in the format table).
pub(crate) const SAVE_OPTIONS: &[ArgDesc] = &[
    ArgDesc::optional(
        "dither",
        ArgType::float(0.0, 1.0),
        "1",
        "Floyd-Steinberg error diffusion, 0 (none) to 1 (full), when a frame is quantised.",
    ),
    ArgDesc::optional(
        "effort",
        ArgType::int(1, 10),
        "7",
        "Quantiser effort: up to 4 Wu's method alone, 5 and more k-means refinement on \
         more samples.",
    ),
    ArgDesc::optional(
        "bitdepth",
        ArgType::int(1, 8),
        "8",
        "Bits per index: palettes of at most 2^bitdepth colours (one of them the \
         transparent index when the image has alpha).",
    ),
    ArgDesc::optional(
        "interlace",
        ArgType::Bool,
        "false",
        "Write interlaced frames.",
    ),
    crate::formats::STRIP,
];
