//! Damaged files read with `fail_on=none`: the warnings a streaming
//! decoder raises, and the node that hands them to the run's report.
//!
//! The sequential loaders (JPEG, PNG) decode on reader objects the engine
//! drives through a [`SequentialSource`]; a reader cannot reach the run's
//! report, so it pushes its warnings into a shared [`Warnings`] list, and
//! the loader's node, a [`WarnedSource`], moves them to the report after
//! every request. [`Lenient`] wraps a reader that simply fails on damage,
//! turning its first error into a warning and zero rows.

use std::sync::{Arc, Mutex};

use gigapix_core::sequential::{ReaderFactory, RowReader, SequentialSource};
use gigapix_core::{
    Access, DemandHint, Error, Header, Image, Inputs, Metadata, Operation, PlanInfo, Rect, Region,
    Result,
};

/// Warnings raised by a reader, waiting for its source to report them
/// through [`Inputs::warn`]. Clones share the list.
#[derive(Clone, Debug, Default)]
pub(crate) struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    /// Records that decoding stopped at `e`, and that the rows from there
    /// on are zeros.
    pub(crate) fn rows_lost(&self, e: &Error) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!(
                "{}; the rows that could not be decoded are filled with zeros",
                e.message()
            ));
    }

    /// Moves the pending warnings to the run's report.
    pub(crate) fn report(&self, inputs: &Inputs<'_>) {
        let pending = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        for w in pending {
            inputs.warn(w);
        }
    }
}

/// A reader that, when `lenient` (`fail_on=none`), turns its first error
/// into a warning and fills that row and every later one with zeros, for
/// readers that cannot keep a partly decoded file themselves. It then reads
/// row by row, so the rows before the error are kept; otherwise it passes
/// everything through.
pub(crate) struct Lenient<R> {
    inner: R,
    lenient: bool,
    row_bytes: usize,
    warnings: Warnings,
    failed: bool,
}

impl<R> Lenient<R> {
    /// Wraps `inner`, whose rows are `row_bytes` long.
    pub(crate) fn new(inner: R, row_bytes: usize, lenient: bool, warnings: Warnings) -> Lenient<R> {
        Lenient {
            inner,
            lenient,
            row_bytes,
            warnings,
            failed: false,
        }
    }
}

impl<R: RowReader> RowReader for Lenient<R> {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        if !self.lenient {
            return self.inner.read_rows(buf);
        }
        for row in buf.chunks_exact_mut(self.row_bytes) {
            if !self.failed {
                match self.inner.read_rows(row) {
                    Ok(()) => continue,
                    Err(e) => {
                        self.failed = true;
                        self.warnings.rows_lost(&e);
                    }
                }
            }
            row.fill(0);
        }
        Ok(())
    }
}

/// A sequential loader's node: a [`SequentialSource`] that also carries
/// the file's metadata and reports its readers' warnings.
pub(crate) struct WarnedSource<R: RowReader> {
    inner: SequentialSource<R>,
    metadata: Arc<Metadata>,
    warnings: Warnings,
    demand: DemandHint,
    /// Memory estimate of the decoder's own buffers.
    decoder_bytes: u64,
}

impl<R: RowReader> WarnedSource<R> {
    /// The loader `name` (`pngload`) of an image of `header`, reading
    /// through readers made by `open` that raise their warnings in
    /// `warnings`, preferring requests of shape `demand`, whose decoder
    /// holds about `decoder_bytes` (for the memory plan).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn image(
        name: &'static str,
        header: Header,
        metadata: Metadata,
        warnings: Warnings,
        demand: DemandHint,
        decoder_bytes: u64,
        open: ReaderFactory<R>,
    ) -> Image {
        Image::new(
            WarnedSource {
                inner: SequentialSource::new(name, header, open),
                metadata: Arc::new(metadata),
                warnings,
                demand,
                decoder_bytes,
            },
            vec![],
        )
    }
}

impl<R: RowReader> Operation for WarnedSource<R> {
    type State = ();

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        self.inner.header(inputs)
    }

    fn metadata(&self, _: &[Arc<Metadata>]) -> Arc<Metadata> {
        self.metadata.clone()
    }

    fn demand(&self) -> DemandHint {
        self.demand
    }

    fn access(&self) -> Access {
        Access::Sequential
    }

    fn configure(&self, plan: &PlanInfo) {
        self.inner.configure(plan);
    }

    fn start(&self) -> Result<()> {
        self.inner.start()
    }

    fn shared_bytes(&self, plan: &PlanInfo, output: &Header) -> u64 {
        self.inner.shared_bytes(plan, output) + self.decoder_bytes
    }

    fn generate(&self, state: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let region = self.inner.generate(state, out, inputs);
        self.warnings.report(inputs);
        region
    }
}
