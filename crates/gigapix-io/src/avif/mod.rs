//! AVIF saver, on `ravif` (pure Rust, over the rav1e AV1 encoder; built
//! without rav1e's assembly, which needs nasm, so nothing but the Rust
//! toolchain is needed).
//!
//! # Saving
//!
//! AV1 codes a still image as one frame, so AVIF is **not streamable**:
//! [`writer`] gathers every row into one buffer (the image's own bytes),
//! and `finish` converts it to YCbCr planes (BT.601, full range) and
//! encodes it in one pass, on rav1e's threads (the global rayon pool: all
//! cores, or `RAYON_NUM_THREADS`). The encoder holds several frames of
//! its own, so before anything is written the saver checks that about
//! 32 bytes a pixel plus the image fit the process-wide
//! `max_alloc` ([`gigapix_core::Limits`]); a larger image is a
//! [`Limit`](gigapix_core::ErrorKind::Limit) error (save it as tiles with
//! `dzsave` and `.avif` tiles, or as another format). Sides are at most
//! 65536 pixels (AV1's frame size).
//!
//! Options, with libvips `heifsave`'s names and defaults: `Q` (1 to 100,
//! 50), `effort` (0 to 9, 4; rav1e speed = 9 - effort, at least 1) or
//! `speed` (rav1e's 1 to 10), `lossless` (refused), `bitdepth` (8 or 10; 8 for `u8`
//! images, 10 for `u16`), `subsample_mode` and `strip`. Differences from
//! libvips:
//!
//! * ravif writes 4:4:4 chroma only: `subsample_mode=auto` (the default)
//!   and `off` are 4:4:4, `on` (4:2:0) is refused. libvips' `auto` is
//!   4:2:0 below Q 90, so files at the same Q are larger and sharper.
//! * `lossless=true` is refused: rav1e 0.8 has no lossless mode (it never
//!   codes quantizer index 0), so the file would not be exact; `Q=100` is
//!   the closest.
//! * ICC profiles: ravif cannot write one (the file says sRGB through its
//!   colour description). A profile that names itself sRGB is left out;
//!   any other profile is refused (convert to sRGB first, or `strip`),
//!   since dropping it would change the colours.
//! * EXIF is kept (its orientation set to the image's); XMP is not.
//!
//! Grey images are saved as YCbCr with neutral chroma, grey+alpha and
//! RGBA with an alpha plane (coded at the same Q).
//!
//! # Loading
//!
//! AVIF files are recognised (`ftypavif` at byte 4) and refused with
//! [`READ_REFUSAL`]: no AVIF decoder of the package registries builds here
//! with only the Rust toolchain and a C compiler at the time of writing
//! (`dav1d` needs the system's libdav1d, `rav1d` has only a C API,
//! `avif-decode` 3 needs a newer Rust than 1.95, `zenavif` is AGPL).

mod save;

pub(crate) use save::{SAVE_OPTIONS, encode_to_vec, encoder_bytes, writer};

/// The message for an AVIF file given to a loader.
pub(crate) const READ_REFUSAL: &str = "AVIF reading is not supported: no pure-Rust AVIF decoder \
    builds here (AVIF is saved only); convert it to PNG or TIFF first";
