//! Facade methods of the band, histogram and lookup-table operations.

use gigapix_ops::bands::{self, BandBool, FoldOptions};
use gigapix_ops::hist::{self, HistLocalOptions, HistOptions};

use crate::{Image, Result};

impl Image {
    /// Constant bands appended, one per value, in the image's format.
    pub fn bandjoin_const(&self, values: &[f64]) -> Image {
        Image(bands::bandjoin_const(&self.0, values))
    }

    /// The mean of the bands, as one band of the same format.
    pub fn bandmean(&self) -> Image {
        Image(bands::bandmean(&self.0))
    }

    /// The bands combined bitwise into one (integer images).
    pub fn bandbool(&self, op: BandBool) -> Image {
        Image(bands::bandbool(&self.0, op))
    }

    /// All columns folded into the bands of one column.
    pub fn bandfold(&self) -> Image {
        self.bandfold_with(&FoldOptions::default())
    }

    /// Runs of `factor` columns folded into bands.
    pub fn bandfold_with(&self, options: &FoldOptions) -> Image {
        Image(bands::bandfold(&self.0, options.factor))
    }

    /// Every band unfolded into its own column.
    pub fn bandunfold(&self) -> Image {
        self.bandunfold_with(&FoldOptions::default())
    }

    /// Bands unfolded into runs of `factor` columns.
    pub fn bandunfold_with(&self, options: &FoldOptions) -> Image {
        Image(bands::bandunfold(&self.0, options.factor))
    }

    /// The histogram image of a u8/u16 image (1 row, u32 counts).
    pub fn hist_find(&self) -> Image {
        self.hist_find_with(&HistOptions::default())
    }

    /// [`hist_find`](Image::hist_find) with options (one band).
    pub fn hist_find_with(&self, options: &HistOptions) -> Image {
        Image(hist::hist_find(&self.0, options.band))
    }

    /// The cumulative histogram of a histogram image.
    pub fn hist_cum(&self) -> Image {
        Image(hist::hist_cum(&self.0))
    }

    /// A histogram image normalised so its maximum is its pixel count − 1.
    pub fn hist_norm(&self) -> Image {
        Image(hist::hist_norm(&self.0))
    }

    /// Histogram equalisation.
    pub fn hist_equal(&self) -> Image {
        self.hist_equal_with(&HistOptions::default())
    }

    /// [`hist_equal`](Image::hist_equal) with options.
    pub fn hist_equal_with(&self, options: &HistOptions) -> Image {
        Image(hist::hist_equal(&self.0, options.band))
    }

    /// Local histogram equalisation over `width` × `height` windows.
    pub fn hist_local(&self, width: u32, height: u32) -> Image {
        self.hist_local_with(width, height, &HistLocalOptions::default())
    }

    /// [`hist_local`](Image::hist_local) with options (CLAHE).
    pub fn hist_local_with(&self, width: u32, height: u32, options: &HistLocalOptions) -> Image {
        Image(hist::hist_local(&self.0, width, height, options.max_slope))
    }

    /// Every pixel mapped through the one-row lookup table `lut`.
    pub fn maplut(&self, lut: &Image) -> Image {
        Image(hist::maplut(&self.0, &lut.0))
    }

    /// The value below which `percent` % of the pixels lie (u8/u16).
    pub fn percent(&self, percent: f64) -> Result<f64> {
        let v = Image(hist::percent(&self.0, percent)).to_vec()?;
        Ok(f64::from_ne_bytes(v[..8].try_into().expect("one f64")))
    }

    /// The sample standard deviation over all bands (n − 1, as libvips).
    pub fn deviate(&self) -> Result<f64> {
        Ok(self.stats()?.overall().stddev)
    }
}
