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
//!
//! The measurements of the catalogue — [`avg`], [`min`], [`max`],
//! [`deviate`] — are graph nodes instead, built on the same accumulators:
//! each is a 1×1 `f64` image computed, the first time it is asked for, by
//! reading the whole input in full-width strips top to bottom on the
//! calling thread (single-threaded inside, so sequential sources below
//! are read in order), then kept (see the histogram nodes of
//! [`hist`](crate::hist), which work the same way).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use gigapix_core::{
    BandFormat, Error, ErrorKind, Header, Image, Inputs, Interpretation, Operation, PlanInfo, Rect,
    Reducer, Region, Result, Sample,
};

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

// ---- reductions as graph nodes ----

/// A strip a reduction pulls holds about this many bytes (at least one row,
/// at most [`MAX_STRIP_ROWS`] rows).
const STRIP_BYTES: usize = 1 << 20;
/// The most rows of one strip a reduction pulls (sequential sources keep at
/// least 16 rows of read-ahead).
const MAX_STRIP_ROWS: usize = 16;

/// Rows of the full-width strips a reduction pulls from an input of header
/// `h`.
pub(crate) fn strip_rows(h: &Header) -> u32 {
    let rows = (STRIP_BYTES / h.row_bytes().max(1)).clamp(1, MAX_STRIP_ROWS);
    (rows as u32).min(h.height).max(1)
}

/// A reduction's arithmetic: an accumulator fed the whole input, strip by
/// strip, top to bottom, and the small image made from it.
pub(crate) trait Reduce: Send + Sync + 'static {
    /// What is accumulated.
    type Acc: Send;
    /// The operation's name.
    fn name(&self) -> &'static str;
    /// The output header, from the input's.
    fn header(&self, input: &Header) -> Result<Header>;
    /// An empty accumulator for an input of header `input`.
    fn start(&self, input: &Header) -> Result<Self::Acc>;
    /// Adds a strip: full rows, the strips of one run in order top to
    /// bottom.
    fn add(&self, acc: &mut Self::Acc, strip: &Region) -> Result<()>;
    /// The whole output image as packed native-endian samples.
    fn finish(&self, acc: Self::Acc, out: &Header) -> Vec<u8>;
}

/// The cached result of a reduction: the output's bytes, or the error.
type Outcome = Option<Result<Arc<Vec<u8>>>>;

/// A reduction as a graph node (a histogram, a measurement): its small
/// output is computed the first time any region of it is asked for, by
/// pulling the whole input through the graph in full-width strips of a few
/// rows, top to bottom (so a sequential source below is read in order,
/// once), on the calling thread; the result is kept in the node and every
/// later request, on any thread and in any later run, is served from it.
/// Other threads asking meanwhile wait for it. An error is kept for the
/// rest of the run (so the other threads fail at once rather than reading
/// again) and forgotten when the next run is configured.
///
/// Its [`need`](Operation::need) is the first strip of the input, whatever
/// the output rectangle: the planner then sees an operation that reads
/// from row 0 again whenever it is asked (which is true: the first request
/// reads everything from row 0), so it caches a sequential source that
/// another branch of the graph reads too (`maplut(x, hist_find(x))`) or
/// sizes its read-ahead for it, and it sees no halo and no scale (the need
/// does not grow with the output), so tile geometry is not distorted.
/// Claiming the whole input would make the planner think every consumer
/// reaches back over the whole height (and size read-aheads to hold it);
/// claiming nothing would hide the second read of a shared sequential
/// source.
pub(crate) struct ReduceNode<R: Reduce> {
    reduce: R,
    result: Mutex<Outcome>,
}

impl<R: Reduce> ReduceNode<R> {
    /// The node reducing `input`.
    #[track_caller]
    pub(crate) fn image(reduce: R, input: &Image) -> Image {
        Image::new(
            ReduceNode {
                reduce,
                result: Mutex::new(None),
            },
            vec![input.clone()],
        )
    }

    fn compute(&self, inputs: &mut Inputs<'_>) -> Result<Arc<Vec<u8>>> {
        let h = *inputs.header(0);
        let rows = strip_rows(&h) as i64;
        let mut acc = self.reduce.start(&h)?;
        let mut y = 0;
        while y < h.height as i64 {
            let strip = Rect::new(0, y, h.width as i64, rows.min(h.height as i64 - y));
            let region = inputs.get(0, strip)?;
            self.reduce.add(&mut acc, &region)?;
            y += rows;
        }
        Ok(Arc::new(self.reduce.finish(acc, inputs.output_header())))
    }

    fn lock(&self) -> MutexGuard<'_, Outcome> {
        // A panic while computing leaves `None`: the next request computes
        // again.
        self.result.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<R: Reduce> Operation for ReduceNode<R> {
    type State = ();

    fn name(&self) -> &'static str {
        self.reduce.name()
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        self.reduce.header(&inputs[0])
    }

    fn need(&self, _out: Rect, _index: usize, inputs: &[Header]) -> Rect {
        // See the type's docs.
        let h = inputs[0];
        Rect::new(0, 0, h.width as i64, strip_rows(&h) as i64)
    }

    fn configure(&self, _plan: &PlanInfo) {
        let mut slot = self.lock();
        if matches!(*slot, Some(Err(_))) {
            *slot = None;
        }
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let data = {
            let mut slot = self.lock();
            match &*slot {
                Some(done) => done.clone()?,
                None => {
                    let done = self.compute(inputs);
                    *slot = Some(done.clone());
                    done?
                }
            }
        };
        let h = *inputs.output_header();
        let (pb, stride) = (h.pixel_bytes(), h.row_bytes());
        let mut dst = inputs.alloc(out);
        let n = out.width as usize * pb;
        for y in out.y..out.bottom() {
            let start = y as usize * stride + out.x as usize * pb;
            dst.row_bytes_mut(y)
                .copy_from_slice(&data[start..start + n]);
        }
        Ok(dst)
    }
}

/// Packed native-endian bytes of `values` as `f64` samples.
pub(crate) fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// What a measurement gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Measure {
    Avg,
    Min,
    Max,
    Deviate,
}

impl Measure {
    const fn name(self) -> &'static str {
        match self {
            Measure::Avg => "avg",
            Measure::Min => "min",
            Measure::Max => "max",
            Measure::Deviate => "deviate",
        }
    }
}

/// A measurement over every value of every band.
struct Measurement(Measure);

/// A 1×1 one-band `f64` image.
fn value_header() -> Header {
    Header {
        interpretation: Interpretation::Multiband,
        ..Header::new(1, 1, 1, BandFormat::F64)
    }
}

impl Reduce for Measurement {
    type Acc = StatsReducer;

    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn header(&self, _input: &Header) -> Result<Header> {
        Ok(value_header())
    }

    fn start(&self, input: &Header) -> Result<StatsReducer> {
        Ok(StatsReducer::new(input.bands))
    }

    fn add(&self, acc: &mut StatsReducer, strip: &Region) -> Result<()> {
        acc.add(strip)
    }

    fn finish(&self, acc: StatsReducer, _out: &Header) -> Vec<u8> {
        let all = acc.finish().overall();
        f64_bytes(&[match self.0 {
            Measure::Avg => all.mean,
            Measure::Min => all.min,
            Measure::Max => all.max,
            Measure::Deviate => all.stddev,
        }])
    }
}

/// The mean of every value of every band of `img`, as a 1×1 one-band `f64`
/// image (libvips' `avg`). Exact sums for integer images.
///
/// Like every reduction node, it reads its whole input the first time a
/// pixel of it is asked for, on one thread, in strips top to bottom, and
/// keeps the result.
///
/// ```
/// use gigapix_core::{Ctx, Rect};
/// let mean = gigapix_ops::stats::avg(&gigapix_ops::xyz(4, 2));
/// let r = Ctx::standalone().region(&mean, Rect::new(0, 0, 1, 1))?;
/// assert_eq!(r.row::<f64>(0), &[1.0]); // x: 0..3, y: 0..1, 16 values
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn avg(img: &Image) -> Image {
    ReduceNode::image(Measurement(Measure::Avg), img)
}

/// The smallest value of every band of `img` (NaN ignored), as a 1×1
/// one-band `f64` image (libvips' `min`). A reduction node: see [`avg`].
pub fn min(img: &Image) -> Image {
    ReduceNode::image(Measurement(Measure::Min), img)
}

/// The largest value of every band of `img` (NaN ignored), as a 1×1
/// one-band `f64` image (libvips' `max`). A reduction node: see [`avg`].
pub fn max(img: &Image) -> Image {
    ReduceNode::image(Measurement(Measure::Max), img)
}

/// The sample standard deviation of every value of every band of `img`
/// (divided by `n − 1`, as libvips' `deviate`), as a 1×1 one-band `f64`
/// image; 0 for a single value (libvips fails). A reduction node: see
/// [`avg`].
pub fn deviate(img: &Image) -> Image {
    ReduceNode::image(Measurement(Measure::Deviate), img)
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&AVG, &MIN, &MAX, &DEVIATE];

/// [`avg`] in the catalogue.
pub static AVG: OpDesc = OpDesc::new(
    "avg",
    Category::Measure,
    "Mean of every value of every band",
    &[],
    |input, _| Ok(avg(input_of(input)?)),
)
.doc("One number: the mean over all pixels and bands (libvips' `avg`), exact sums for integer images. Like every measurement, the input is read once, on one thread, in strips top to bottom.")
.values();

/// [`min`] in the catalogue.
pub static MIN: OpDesc = OpDesc::new(
    "min",
    Category::Measure,
    "Smallest value of every band",
    &[],
    |input, _| Ok(min(input_of(input)?)),
)
.doc("One number: the smallest value over all pixels and bands (libvips' `min`, without its position outputs). NaN values are ignored.")
.values();

/// [`max`] in the catalogue.
pub static MAX: OpDesc = OpDesc::new(
    "max",
    Category::Measure,
    "Largest value of every band",
    &[],
    |input, _| Ok(max(input_of(input)?)),
)
.doc("One number: the largest value over all pixels and bands (libvips' `max`, without its position outputs). NaN values are ignored.")
.values();

/// [`deviate`] in the catalogue.
pub static DEVIATE: OpDesc = OpDesc::new(
    "deviate",
    Category::Measure,
    "Standard deviation of every value of every band",
    &[],
    |input, _| Ok(deviate(input_of(input)?)),
)
.doc("One number: the sample standard deviation over all pixels and bands, divided by n − 1 as libvips' `deviate` does; 0 for a one-pixel one-band image (libvips fails there).")
.values();

#[cfg(test)]
mod measure_tests {
    //! The measurement nodes against plain f64 loops at every format, the
    //! engine property (a fresh node per run, so each run computes), and
    //! sequential sources, alone and read by a second branch.

    use std::sync::Arc;

    use super::{avg, deviate, max, min};
    use gigapix_core::sequential::{RowReader, SequentialSource};
    use gigapix_core::{
        BandFormat, Header, Image, Inputs, Operation, Rect, Region, Result, dispatch_format,
    };
    use gigapix_exec::{Order, RunOptions, write_into};

    /// A random-access in-memory source.
    struct Mem {
        header: Header,
        data: Arc<Vec<u8>>,
    }

    impl Operation for Mem {
        type State = ();
        fn name(&self) -> &'static str {
            "mem"
        }
        fn header(&self, _: &[Header]) -> Result<Header> {
            Ok(self.header)
        }
        fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
            let mut dst = inputs.alloc(out);
            let (pb, stride) = (self.header.pixel_bytes(), self.header.row_bytes());
            for y in out.y..out.bottom() {
                let s = y as usize * stride + out.x as usize * pb;
                let row = dst.row_bytes_mut(y);
                let n = row.len();
                row.copy_from_slice(&self.data[s..s + n]);
            }
            Ok(dst)
        }
    }

    /// Replays packed rows.
    struct Replay {
        data: Arc<Vec<u8>>,
        pos: usize,
    }

    impl RowReader for Replay {
        fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
            buf.copy_from_slice(&self.data[self.pos..self.pos + buf.len()]);
            self.pos += buf.len();
            Ok(())
        }
    }

    /// `values` stored as `format` (values the format holds).
    fn encode(values: &[f64], format: BandFormat) -> Vec<u8> {
        let mut out = Vec::new();
        dispatch_format!(format, T => {
            for &v in values {
                out.extend_from_slice(bytemuck::bytes_of(&<T as gigapix_core::Sample>::from_f64(v)));
            }
        });
        out
    }

    /// Deterministic values spread over the range of `format` (negative
    /// ones included for signed formats, fractions for floats).
    fn values(n: usize, format: BandFormat, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                match format {
                    BandFormat::F32 => ((u * 2000.0 - 1000.0) as f32) as f64,
                    BandFormat::F64 => u * 2e6 - 1e6,
                    f => (f.min_value() + u * (f.max_value() - f.min_value())).floor(),
                }
            })
            .collect()
    }

    fn mem(w: u32, h: u32, bands: u32, format: BandFormat, vals: &[f64]) -> Image {
        let header = Header::new(w, h, bands, format);
        let data = Arc::new(encode(vals, format));
        Image::new(Mem { header, data }, vec![])
    }

    fn sequential(w: u32, h: u32, bands: u32, format: BandFormat, vals: &[f64]) -> Image {
        let header = Header::new(w, h, bands, format);
        let data = Arc::new(encode(vals, format));
        Image::new(
            SequentialSource::new(
                "replay",
                header,
                Box::new(move || {
                    Ok(Replay {
                        data: data.clone(),
                        pos: 0,
                    })
                }),
            ),
            vec![],
        )
    }

    fn run(img: &Image, opts: &RunOptions) -> Result<Vec<u8>> {
        img.check()?;
        let mut buf = vec![0u8; img.header().image_bytes() as usize];
        write_into(img, &mut buf, opts)?;
        Ok(buf)
    }

    fn value(img: &Image) -> f64 {
        let b = run(img, &RunOptions::new()).expect("runs");
        f64::from_ne_bytes(b[..8].try_into().expect("one f64"))
    }

    /// (mean, min, max, sample standard deviation), in plain f64 loops.
    fn reference(vals: &[f64]) -> [f64; 4] {
        let n = vals.len() as f64;
        let mean = vals.iter().sum::<f64>() / n;
        let min = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let max = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
        [mean, min, max, var.sqrt()]
    }

    fn near(got: f64, want: f64, rel: f64, what: &str) {
        assert!(
            (got - want).abs() <= rel * want.abs().max(1.0),
            "{what}: got {got}, want {want}"
        );
    }

    #[test]
    fn measurements_match_f64_loops_at_every_format() {
        for format in BandFormat::ALL {
            let (w, h, bands) = (37, 23, 3);
            let vals = values((w * h * bands) as usize, format, 7 + format.code() as u64);
            let img = mem(w, h, bands, format, &vals);
            let want = reference(&vals);
            let got = [
                value(&avg(&img)),
                value(&min(&img)),
                value(&max(&img)),
                value(&deviate(&img)),
            ];
            let rel = if format == BandFormat::F32 {
                1e-6
            } else {
                1e-9
            };
            for (i, name) in ["avg", "min", "max", "deviate"].iter().enumerate() {
                near(got[i], want[i], rel, &format!("{name} {format}"));
            }
            // min and max are exact.
            assert_eq!((got[1], got[2]), (want[1], want[2]), "{format}");
        }
    }

    #[test]
    fn measurement_headers_and_single_values() {
        let img = mem(1, 1, 1, BandFormat::U8, &[42.0]);
        let a = avg(&img);
        assert_eq!(
            (a.width(), a.height(), a.bands(), a.format()),
            (1, 1, 1, BandFormat::F64)
        );
        assert_eq!(value(&a), 42.0);
        assert_eq!(value(&deviate(&img)), 0.0);
        // Invalid inputs stay invalid.
        let bad = crate::bands::extract_band(&img, 3, 1);
        assert!(avg(&bad).check().is_err());
    }

    #[test]
    fn engine_property_with_a_fresh_node_per_run() {
        let vals = values(61 * 45 * 2, BandFormat::F32, 3);
        let img = mem(61, 45, 2, BandFormat::F32, &vals);
        let runs = [
            RunOptions::new().threads(1),
            RunOptions::new().threads(4).tile(1, 1),
            RunOptions::new()
                .threads(2)
                .tile(7, 5)
                .order(Order::Reverse),
            RunOptions::new()
                .threads(3)
                .tile(16, 3)
                .order(Order::Shuffle(7)),
            RunOptions::new().threads(4).tile(4, 2),
        ];
        for make in [avg, min, max, deviate] {
            let want = run(&make(&img), &runs[0]).expect("runs");
            for opts in &runs[1..] {
                assert_eq!(run(&make(&img), opts).expect("runs"), want, "{opts:?}");
            }
            // Served from the node's result on every later request too.
            let node = make(&img);
            let first = run(&node, &runs[0]).expect("runs");
            assert_eq!(run(&node, &runs[1]).expect("runs"), first);
        }
    }

    /// `img` minus the value of the 1×1 image `v`, as f64: a second branch
    /// reading the same source as the measurement.
    struct MinusValue;

    impl Operation for MinusValue {
        type State = ();
        fn name(&self) -> &'static str {
            "minus_value"
        }
        fn header(&self, inputs: &[Header]) -> Result<Header> {
            Ok(inputs[0].with_format(BandFormat::F64))
        }
        fn need(&self, out: Rect, index: usize, _: &[Header]) -> Rect {
            if index == 0 {
                out
            } else {
                Rect::new(0, 0, 1, 1)
            }
        }
        fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
            let v = inputs.get(1, Rect::new(0, 0, 1, 1))?.row::<f64>(0)[0];
            let src = inputs.get(0, out)?;
            let mut dst = inputs.alloc(out);
            for y in out.y..out.bottom() {
                for (d, s) in dst.row_mut::<f64>(y).iter_mut().zip(src.row::<u8>(y)) {
                    *d = *s as f64 - v;
                }
            }
            Ok(dst)
        }
    }

    #[test]
    fn sequential_sources_are_read_in_order_even_when_shared() {
        // Alone: the node pulls the source top to bottom, once.
        let (w, h) = (64, 300);
        let vals = values((w * h) as usize, BandFormat::U8, 5);
        let want = reference(&vals);
        let mean = avg(&sequential(w, h, 1, BandFormat::U8, &vals));
        for threads in [1, 4] {
            let b = run(&mean, &RunOptions::new().threads(threads)).expect("runs");
            near(
                f64::from_ne_bytes(b[..8].try_into().unwrap()),
                want[0],
                1e-12,
                "avg",
            );
        }
        // Shared with a second branch (`x - avg(x)`): the planner sees the
        // measurement read from row 0 again, so it keeps the rows in the
        // source's read-ahead (small image) or caches the source (here
        // 4200x4100, 17 MB: beyond the read-ahead limit).
        for (w, h) in [(64, 300), (4200, 4100)] {
            let vals = values((w * h) as usize, BandFormat::U8, 9);
            let mean = vals.iter().sum::<f64>() / vals.len() as f64;
            let src = sequential(w, h, 1, BandFormat::U8, &vals);
            let centred = Image::new(MinusValue, vec![src.clone(), avg(&src)]);
            let b = run(&centred, &RunOptions::new().threads(4)).expect("runs in order");
            for (i, c) in b.chunks_exact(8).enumerate().step_by(997) {
                let got = f64::from_ne_bytes(c.try_into().unwrap());
                near(got, vals[i] - mean, 1e-9, &format!("{w}x{h} sample {i}"));
            }
        }
    }
}
