//! Facade methods of the assembly family: putting images together
//! (`insert`, `join`, `arrayjoin`, `replicate`, `gravity`), whole-factor
//! enlarging and point sampling (`zoom`, `subsample`), `smartcrop`, and
//! the measurements `getpoint` and `find_trim`. Semantics are libvips
//! 8.18's; see `gigapix_ops::assembly` for the details.
//!
//! ```
//! use gigapix::{ArrayjoinOptions, Image};
//!
//! // Stitch a 4x4 grid of tiles, then cut the most interesting 64x64.
//! let tiles: Vec<Image> = (0..16).map(|i| Image::noise(32, 32, 3, i)).collect();
//! let mosaic = Image::arrayjoin(&tiles, &ArrayjoinOptions::default().across(4));
//! assert_eq!((mosaic.width(), mosaic.height()), (128, 128));
//! let crop = mosaic.smartcrop(64, 64);
//! assert_eq!((crop.width(), crop.height()), (64, 64));
//! assert_eq!(mosaic.getpoint(0, 0)?.len(), 3);
//! # Ok::<(), gigapix::Error>(())
//! ```

use gigapix_ops::assembly::{
    self as asm, ArrayjoinOptions, Compass, FindTrimOptions, GravityOptions, InsertOptions,
    JoinOptions, SmartcropOptions, SubsampleOptions,
};

use crate::{Direction, Image, Result};

impl Image {
    /// `sub` painted over this image with its top-left corner at `(x, y)`;
    /// the output is this image's area. See
    /// [`insert_with`](Image::insert_with).
    pub fn insert(&self, sub: &Image, x: i64, y: i64) -> Image {
        self.insert_with(sub, x, y, &InsertOptions::default())
    }

    /// [`insert`](Image::insert) with options: `expand` to the union of
    /// both images, the `background` of the new pixels. Both images are
    /// brought to their common format and bands first.
    pub fn insert_with(&self, sub: &Image, x: i64, y: i64, options: &InsertOptions) -> Image {
        Image(asm::insert(&self.0, &sub.0, x, y, options))
    }

    /// `other` placed to the right of ([`Direction::Horizontal`]) or below
    /// this image, cut to the smaller extent across the join. See
    /// [`join_with`](Image::join_with).
    pub fn join(&self, other: &Image, direction: Direction) -> Image {
        self.join_with(other, direction, &JoinOptions::default())
    }

    /// [`join`](Image::join) with options: `expand`, `shim`, `background`,
    /// `align`.
    pub fn join_with(&self, other: &Image, direction: Direction, options: &JoinOptions) -> Image {
        Image(asm::join(&self.0, &other.0, direction, options))
    }

    /// `images` laid out in a grid, left to right and top to bottom
    /// (libvips' `arrayjoin`): for stitching tiles, any number of them. A
    /// region asks only the tiles it overlaps.
    pub fn arrayjoin(images: &[Image], options: &ArrayjoinOptions) -> Image {
        let nodes: Vec<gigapix_core::Image> = images.iter().map(|i| i.0.clone()).collect();
        Image(asm::arrayjoin(&nodes, options))
    }

    /// This image repeated `across` times to the right and `down` times
    /// down.
    pub fn replicate(&self, across: u32, down: u32) -> Image {
        Image(asm::replicate(&self.0, across, down))
    }

    /// This image in a `width` × `height` black canvas at the point of the
    /// compass `direction`. See [`gravity_with`](Image::gravity_with).
    pub fn gravity(&self, direction: Compass, width: u32, height: u32) -> Image {
        self.gravity_with(direction, width, height, &GravityOptions::default())
    }

    /// [`gravity`](Image::gravity) with options: how new pixels are made
    /// (`extend`, or a flat `background`).
    pub fn gravity_with(
        &self,
        direction: Compass,
        width: u32,
        height: u32,
        options: &GravityOptions,
    ) -> Image {
        Image(asm::gravity(&self.0, direction, width, height, options))
    }

    /// Enlarged by whole factors, each pixel becoming an `xfac` × `yfac`
    /// block.
    pub fn zoom(&self, xfac: u32, yfac: u32) -> Image {
        Image(asm::zoom(&self.0, xfac, yfac))
    }

    /// Every `xfac`-th pixel of every `yfac`-th row (point sampling). See
    /// [`subsample_with`](Image::subsample_with).
    pub fn subsample(&self, xfac: u32, yfac: u32) -> Image {
        self.subsample_with(xfac, yfac, &SubsampleOptions::default())
    }

    /// [`subsample`](Image::subsample) with options (`point`: fetch each
    /// kept pixel on its own).
    pub fn subsample_with(&self, xfac: u32, yfac: u32, options: &SubsampleOptions) -> Image {
        Image(asm::subsample(&self.0, xfac, yfac, options))
    }

    /// The `width` × `height` area libvips' `attention` strategy finds most
    /// interesting. See [`smartcrop_with`](Image::smartcrop_with).
    pub fn smartcrop(&self, width: u32, height: u32) -> Image {
        self.smartcrop_with(width, height, &SmartcropOptions::default())
    }

    /// [`smartcrop`](Image::smartcrop) with options: the strategy
    /// (`interesting`), `premultiplied`.
    pub fn smartcrop_with(&self, width: u32, height: u32, options: &SmartcropOptions) -> Image {
        Image(asm::smartcrop(&self.0, width, height, options))
    }

    /// The values of pixel `(x, y)`, one per band.
    pub fn getpoint(&self, x: u32, y: u32) -> Result<Vec<f64>> {
        let bytes = Image(asm::getpoint(&self.0, x, y)).to_vec()?;
        Ok(crate::BandFormat::F64.samples_to_f64(&bytes))
    }

    /// The bounding box of what is not background (libvips' white, 255),
    /// as `(left, top, width, height)`; width and height are 0 for an image
    /// that is all background. See [`find_trim_with`](Image::find_trim_with).
    pub fn find_trim(&self) -> Result<(u32, u32, u32, u32)> {
        self.find_trim_with(&FindTrimOptions::default())
    }

    /// [`find_trim`](Image::find_trim) with options: `threshold`,
    /// `background`, `line_art`.
    pub fn find_trim_with(&self, options: &FindTrimOptions) -> Result<(u32, u32, u32, u32)> {
        let bytes = Image(asm::find_trim(&self.0, options)).to_vec()?;
        let v = crate::BandFormat::U32.samples_to_f64(&bytes);
        Ok((v[0] as u32, v[1] as u32, v[2] as u32, v[3] as u32))
    }
}
