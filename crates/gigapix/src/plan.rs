//! Plans made before a run: the nodes, caches, tile geometry and the
//! estimated peak memory, computing no pixel.

use std::path::Path;

use gigapix_exec::{PlanReport, SinkKind};

use crate::{Image, Result, RunOptions, SaveOptions};

impl Image {
    /// The plan of computing every pixel of this image with `options`
    /// (the null or statistics sink: no output kept): nodes, caches and
    /// where they live, tile geometry, threads and the estimated peak
    /// memory with its parts ([`PlanReport`]). Nothing is computed. With
    /// [`RunOptions::memory_budget`] it is the plan the run would use, or
    /// the error the run would fail with.
    ///
    /// ```
    /// use gigapix::{Image, RunOptions};
    /// let plan = Image::noise(100_000, 100_000, 3, 1).gaussblur(10.0).plan(&RunOptions::new().threads(2))?;
    /// assert_eq!(plan.threads, 2);
    /// assert!(plan.estimated_peak_bytes() < 200_000_000);
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn plan(&self, options: &RunOptions) -> Result<PlanReport> {
        gigapix_exec::plan(&self.0, options, SinkKind::Reduce, &|_| 0)
    }

    /// The plan of saving this image to `path` (format from the
    /// extension, as [`Run::save`](crate::Run::save)): as
    /// [`plan`](Image::plan), with the ordered sink's band buffers and the
    /// encoder's buffers. The file system is not touched.
    pub fn plan_save(&self, path: impl AsRef<Path>, options: &RunOptions) -> Result<PlanReport> {
        self.plan_save_with(path, &SaveOptions::default(), options)
    }

    /// [`plan_save`](Image::plan_save) with format options.
    pub fn plan_save_with(
        &self,
        path: impl AsRef<Path>,
        save: &SaveOptions,
        options: &RunOptions,
    ) -> Result<PlanReport> {
        let node = &self.0;
        node.check()?;
        let (path, header) = (path.as_ref(), *node.header());
        // Checks the path and options once, as a save would.
        gigapix_io::encoder_bytes(path, &header, save, 1)?;
        let codec = |rows: u32| gigapix_io::encoder_bytes(path, &header, save, rows).unwrap_or(0);
        gigapix_exec::plan(node, options, SinkKind::Ordered, &codec)
    }

    /// The plan of computing this image into memory
    /// ([`Run::write_into`](crate::Run::write_into),
    /// [`Run::to_vec`](crate::Run::to_vec)): the caller's buffer of the
    /// whole image counts.
    pub fn plan_into(&self, options: &RunOptions) -> Result<PlanReport> {
        gigapix_exec::plan(&self.0, options, SinkKind::Memory, &|_| 0)
    }
}
