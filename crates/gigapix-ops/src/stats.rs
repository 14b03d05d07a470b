//! Statistics, as [`Reducer`]s for the engine's reduce sink: each worker
//! thread feeds its own accumulator disjoint regions, and the accumulators
//! are merged at the end.
//!
//! Integer images are accumulated exactly (sums of values and of squares in
//! 128-bit integers), so their results are identical whatever the tiling,
//! the order of the regions and the number of threads. `f32` images are
//! accumulated in `f64`: their sums may differ in the last bits from run to
//! run, as the order of additions changes.
//! A NaN value is ignored by `min` and `max` but makes the sums (and so
//! the mean and standard deviation) NaN.

use gigapix_core::{BandFormat, Error, ErrorKind, Reducer, Region, Result, Sample};

/// Statistics of one band (or, from [`Stats::overall`], of all bands).
///
/// With no pixel (`count == 0`), `min`, `max`, `mean` and `stddev` are NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandStats {
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The sum of the values (exact for integer images below 2⁵³).
    pub sum: f64,
    /// The sum of the squared values.
    pub sum_sq: f64,
    /// How many values.
    pub count: u64,
    /// The mean, `sum / count`.
    pub mean: f64,
    /// The sample standard deviation (divided by `count − 1`, like libvips);
    /// 0 for a single value.
    pub stddev: f64,
}

/// The statistics of an image, per band. Made by [`StatsReducer::finish`].
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// One entry per band.
    pub bands: Vec<BandStats>,
    /// Exact sums and sums of squares per band, for integer images.
    exact: Option<Vec<(i128, u128)>>,
}

impl Stats {
    /// The statistics of every value of every band together (computed from
    /// the exact sums for integer images).
    pub fn overall(&self) -> BandStats {
        let min = self.bands.iter().map(|b| b.min).fold(f64::NAN, f64::min);
        let max = self.bands.iter().map(|b| b.max).fold(f64::NAN, f64::max);
        let count = self.bands.iter().map(|b| b.count).sum();
        let sums = match &self.exact {
            Some(exact) => Sums::Int(
                exact.iter().map(|e| e.0).sum(),
                exact.iter().map(|e| e.1).sum(),
            ),
            None => Sums::Float(
                self.bands.iter().map(|b| b.sum).sum(),
                self.bands.iter().map(|b| b.sum_sq).sum(),
            ),
        };
        band_stats(min, max, count, sums)
    }
}

enum Sums {
    Int(i128, u128),
    Float(f64, f64),
}

fn band_stats(min: f64, max: f64, count: u64, sums: Sums) -> BandStats {
    let n = count as f64;
    let (sum, sum_sq, variance) = match sums {
        Sums::Int(s, q) => {
            // n·Σx² − (Σx)², exactly when it fits.
            let exact = (count as u128)
                .checked_mul(q)
                .zip(s.unsigned_abs().checked_mul(s.unsigned_abs()))
                .map(|(a, b)| a - b);
            let variance = match exact {
                Some(num) => num as f64 / (n * (n - 1.0)),
                None => (q as f64 - s as f64 * (s as f64 / n)) / (n - 1.0),
            };
            (s as f64, q as f64, variance)
        }
        Sums::Float(s, q) => (s, q, (q - s * (s / n)) / (n - 1.0)),
    };
    let (min, max, mean, stddev) = match count {
        0 => (f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        1 => (min, max, sum, 0.0),
        _ => (min, max, sum / n, variance.max(0.0).sqrt()),
    };
    BandStats {
        min,
        max,
        sum,
        sum_sq,
        count,
        mean,
        stddev,
    }
}

#[derive(Clone, Copy, Debug)]
struct IntBand {
    min: i64,
    max: i64,
    sum: i128,
    sum_sq: u128,
}

#[derive(Clone, Copy, Debug)]
struct FloatBand {
    min: f64,
    max: f64,
    sum: f64,
    sum_sq: f64,
}

#[derive(Debug)]
enum Acc {
    /// No region seen yet.
    Empty,
    Int(Vec<IntBand>),
    Float(Vec<FloatBand>),
}

/// Accumulates min, max, sum and sum of squares per band; see the
/// [module docs](self) for exactness.
///
/// ```
/// use gigapix_core::{Ctx, Reducer};
/// use gigapix_ops::{StatsReducer, xyz};
/// let image = xyz(10, 4);
/// let mut stats = StatsReducer::new(2);
/// stats.add(&Ctx::standalone().region(&image, image.header().rect())?)?;
/// let stats = stats.finish();
/// assert_eq!((stats.bands[0].min, stats.bands[0].max, stats.bands[0].mean), (0.0, 9.0, 4.5));
/// assert_eq!(stats.bands[1].count, 40);
/// # Ok::<(), gigapix_core::Error>(())
/// ```
#[derive(Debug)]
pub struct StatsReducer {
    bands: u32,
    format: Option<BandFormat>,
    count: u64,
    acc: Acc,
}

impl StatsReducer {
    /// An empty accumulator for images of `bands` bands, any format.
    pub fn new(bands: u32) -> StatsReducer {
        StatsReducer {
            bands,
            format: None,
            count: 0,
            acc: Acc::Empty,
        }
    }

    /// The statistics of everything added and merged.
    pub fn finish(self) -> Stats {
        let count = self.count;
        match self.acc {
            Acc::Empty => Stats {
                bands: (0..self.bands)
                    .map(|_| band_stats(f64::NAN, f64::NAN, 0, Sums::Float(0.0, 0.0)))
                    .collect(),
                exact: None,
            },
            Acc::Int(bands) => Stats {
                bands: bands
                    .iter()
                    .map(|b| {
                        band_stats(
                            b.min as f64,
                            b.max as f64,
                            count,
                            Sums::Int(b.sum, b.sum_sq),
                        )
                    })
                    .collect(),
                exact: Some(bands.iter().map(|b| (b.sum, b.sum_sq)).collect()),
            },
            Acc::Float(bands) => Stats {
                bands: bands
                    .iter()
                    .map(|b| band_stats(b.min, b.max, count, Sums::Float(b.sum, b.sum_sq)))
                    .collect(),
                exact: None,
            },
        }
    }
}

fn add_int<T: Sample + Into<i64>>(accs: &mut [IntBand], region: &Region) {
    let bands = accs.len();
    let rect = region.rect();
    for y in rect.y..rect.bottom() {
        let row = region.row::<T>(y);
        for (band, acc) in accs.iter_mut().enumerate() {
            let (mut min, mut max, mut sum, mut sum_sq) = (i64::MAX, i64::MIN, 0i64, 0u128);
            for &v in row.iter().skip(band).step_by(bands) {
                let v: i64 = v.into();
                min = min.min(v);
                max = max.max(v);
                // A row holds fewer than 2^31 values of magnitude at most
                // 2^32.
                sum += v;
                sum_sq += v.unsigned_abs().pow(2) as u128;
            }
            acc.min = acc.min.min(min);
            acc.max = acc.max.max(max);
            acc.sum += sum as i128;
            acc.sum_sq += sum_sq;
        }
    }
}

fn add_float<T: Sample>(accs: &mut [FloatBand], region: &Region) {
    let bands = accs.len();
    let rect = region.rect();
    for y in rect.y..rect.bottom() {
        let row = region.row::<T>(y);
        for (band, acc) in accs.iter_mut().enumerate() {
            for &v in row.iter().skip(band).step_by(bands) {
                let v = v.to_f64();
                acc.min = acc.min.min(v);
                acc.max = acc.max.max(v);
                acc.sum += v;
                acc.sum_sq += v * v;
            }
        }
    }
}

fn check_region(
    name: &'static str,
    region: &Region,
    bands: u32,
    format: Option<BandFormat>,
) -> Result<()> {
    if region.bands() != bands {
        return Err(Error::invalid(
            name,
            format!("region has {} bands, expected {bands}", region.bands()),
        ));
    }
    if let Some(f) = format
        && f != region.format()
    {
        return Err(Error::invalid(
            name,
            format!("region is {}, expected {f}", region.format()),
        ));
    }
    Ok(())
}

impl Reducer for StatsReducer {
    fn add(&mut self, region: &Region) -> Result<()> {
        check_region("stats", region, self.bands, self.format)?;
        let format = region.format();
        self.format = Some(format);
        let bands = self.bands as usize;
        if let Acc::Empty = self.acc {
            self.acc = if format.is_integer() {
                Acc::Int(vec![
                    IntBand {
                        min: i64::MAX,
                        max: i64::MIN,
                        sum: 0,
                        sum_sq: 0
                    };
                    bands
                ])
            } else {
                Acc::Float(vec![
                    FloatBand {
                        min: f64::INFINITY,
                        max: f64::NEG_INFINITY,
                        sum: 0.0,
                        sum_sq: 0.0
                    };
                    bands
                ])
            };
        }
        match (&mut self.acc, format) {
            (Acc::Int(accs), BandFormat::U8) => add_int::<u8>(accs, region),
            (Acc::Int(accs), BandFormat::U16) => add_int::<u16>(accs, region),
            (Acc::Int(accs), BandFormat::U32) => add_int::<u32>(accs, region),
            (Acc::Int(accs), BandFormat::I8) => add_int::<i8>(accs, region),
            (Acc::Int(accs), BandFormat::I16) => add_int::<i16>(accs, region),
            (Acc::Int(accs), BandFormat::I32) => add_int::<i32>(accs, region),
            (Acc::Float(accs), BandFormat::F32) => add_float::<f32>(accs, region),
            (Acc::Float(accs), BandFormat::F64) => add_float::<f64>(accs, region),
            _ => unreachable!("accumulator made for the region's format"),
        }
        self.count += region.rect().area();
        Ok(())
    }

    /// # Panics
    ///
    /// If the two accumulators saw images of different formats or band
    /// counts (they were not fed the same image).
    fn merge(&mut self, other: StatsReducer) {
        assert_eq!(
            self.bands, other.bands,
            "merging statistics of different band counts"
        );
        self.count += other.count;
        match (&mut self.acc, other.acc) {
            (_, Acc::Empty) => {}
            (acc @ Acc::Empty, o) => {
                *acc = o;
                self.format = other.format;
            }
            (Acc::Int(a), Acc::Int(b)) => {
                assert_eq!(
                    self.format, other.format,
                    "merging statistics of different band formats"
                );
                for (a, b) in a.iter_mut().zip(b) {
                    a.min = a.min.min(b.min);
                    a.max = a.max.max(b.max);
                    a.sum += b.sum;
                    a.sum_sq += b.sum_sq;
                }
            }
            (Acc::Float(a), Acc::Float(b)) => {
                for (a, b) in a.iter_mut().zip(b) {
                    a.min = a.min.min(b.min);
                    a.max = a.max.max(b.max);
                    a.sum += b.sum;
                    a.sum_sq += b.sum_sq;
                }
            }
            _ => panic!("merging statistics of different band formats"),
        }
    }
}

/// A histogram per band. Made by [`HistReducer::finish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    /// One entry per band: `bins[v]` counts the values `v` (256 bins for
    /// `u8` images, 65536 for `u16`).
    pub bands: Vec<Vec<u64>>,
}

/// Counts the values of each band of a `u8` or `u16` image.
///
/// ```
/// use gigapix_core::{BandFormat, Ctx, Reducer};
/// use gigapix_ops::{HistReducer, black};
/// let image = black(8, 8, 1);
/// let mut hist = HistReducer::new(1, BandFormat::U8)?;
/// hist.add(&Ctx::standalone().region(&image, image.header().rect())?)?;
/// assert_eq!(hist.finish().bands[0][0], 64);
/// assert!(HistReducer::new(1, BandFormat::F32).is_err());
/// # Ok::<(), gigapix_core::Error>(())
/// ```
#[derive(Debug)]
pub struct HistReducer {
    bands: u32,
    format: BandFormat,
    /// Band-major: bin `v` of band `b` is `bins[b · len + v]`.
    bins: Vec<u64>,
    len: usize,
}

impl HistReducer {
    /// An empty histogram for images of `bands` bands of `format`, which
    /// must be `u8` or `u16` (else an [`ErrorKind::Unsupported`] error).
    pub fn new(bands: u32, format: BandFormat) -> Result<HistReducer> {
        let len = match format {
            BandFormat::U8 => 256,
            BandFormat::U16 => 65536,
            _ => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("hist needs u8 or u16; cast first (the image is {format})"),
                )
                .with_operation("hist"));
            }
        };
        Ok(HistReducer {
            bands,
            format,
            bins: vec![0; len * bands as usize],
            len,
        })
    }

    /// The histogram of everything added and merged.
    pub fn finish(self) -> Histogram {
        Histogram {
            bands: self
                .bins
                .chunks_exact(self.len)
                .map(<[u64]>::to_vec)
                .collect(),
        }
    }
}

fn count_values<T: Sample + Into<usize>>(
    bins: &mut [u64],
    len: usize,
    bands: usize,
    region: &Region,
) {
    let rect = region.rect();
    for y in rect.y..rect.bottom() {
        let row = region.row::<T>(y);
        if bands == 1 {
            let bins = &mut bins[..len];
            for &v in row {
                bins[v.into()] += 1;
            }
        } else {
            for px in row.chunks_exact(bands) {
                for (band, &v) in px.iter().enumerate() {
                    bins[band * len + v.into()] += 1;
                }
            }
        }
    }
}

impl Reducer for HistReducer {
    fn add(&mut self, region: &Region) -> Result<()> {
        check_region("hist", region, self.bands, Some(self.format))?;
        let bands = self.bands as usize;
        match self.format {
            BandFormat::U8 => count_values::<u8>(&mut self.bins, self.len, bands, region),
            BandFormat::U16 => count_values::<u16>(&mut self.bins, self.len, bands, region),
            _ => unreachable!("refused by new"),
        }
        Ok(())
    }

    /// # Panics
    ///
    /// If the two histograms are for different band counts or formats.
    fn merge(&mut self, other: HistReducer) {
        assert_eq!(
            (self.bands, self.format),
            (other.bands, other.format),
            "merging different histograms"
        );
        for (a, b) in self.bins.iter_mut().zip(other.bins) {
            *a += b;
        }
    }
}

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&crate::catalogue::OpDesc] = &[];
