//! The operation contract: header, demand, per-thread state, generate.

use std::any::Any;
use std::sync::Arc;

use crate::{Header, Metadata, Rect, Region, Result, eval::Inputs};

/// The tile shape an operation works best with. The engine takes the most
/// restrictive hint in a graph (`SmallTile` > `FatStrip` > `ThinStrip` >
/// `Any`) to choose its tile geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DemandHint {
    /// Any shape: point operations.
    Any,
    /// Full-width strips a few lines high: sequential decoders.
    ThinStrip,
    /// Full-width strips some tens of lines high: area operations.
    FatStrip,
    /// Small square tiles: operations whose input area is not row-shaped
    /// (rotations, transposes).
    SmallTile,
}

/// How a source can be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Any rectangle in any order (memory maps, generators, tiled files).
    Random,
    /// Rows only top to bottom, each at most once (streaming decoders,
    /// pipes). The planner makes sure such a source is never read out of
    /// order.
    Sequential,
}

/// What the planner tells the operations of a graph before a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanInfo {
    /// Worker threads of the run.
    pub threads: usize,
    /// Tile or strip height of the run.
    pub tile_height: u32,
    /// The largest vertical reach any consumer of this node may have behind
    /// the most advanced request (rows).
    pub row_skew: u32,
    /// The largest request the planner expects this node to get (empty
    /// when unknown): set per node for [`Operation::shared_bytes`].
    pub request: Rect,
}

impl PlanInfo {
    /// Plan information for a pass.
    pub fn new(threads: usize, tile_height: u32, row_skew: u32) -> PlanInfo {
        PlanInfo {
            threads,
            tile_height,
            row_skew,
            request: Rect::default(),
        }
    }

    /// The same information for a node whose largest request is `request`.
    pub fn with_request(self, request: Rect) -> PlanInfo {
        PlanInfo { request, ..self }
    }
}

/// An image operation: a node kind of the lazy graph.
///
/// Implement it to add an operation of your own; build a node with
/// [`Image::new`](crate::Image::new). The engine calls
/// [`start`](Operation::start) once per worker thread and node, then
/// [`generate`](Operation::generate) for each region it needs; dropping the
/// state is the stop step. A state is only ever used by one thread at a
/// time.
pub trait Operation: Send + Sync + 'static {
    /// Per-thread state, created by `start` (`()` for operations with
    /// none).
    type State: Send + Default + 'static;

    /// The operation's name, as used in errors and on the command line.
    fn name(&self) -> &'static str;

    /// The output header, computed from the input headers. An `Err` makes the
    /// built image invalid; the error is reported when the image is checked
    /// or run.
    fn header(&self, inputs: &[Header]) -> Result<Header>;

    /// The output metadata, from the inputs'. By default the first
    /// input's, unchanged (empty for a source).
    fn metadata(&self, inputs: &[Arc<Metadata>]) -> Arc<Metadata> {
        inputs.first().cloned().unwrap_or_default()
    }

    /// The preferred tile shape.
    fn demand(&self) -> DemandHint {
        DemandHint::Any
    }

    /// The rectangle of input `index` needed to compute `out`, given the
    /// input headers. May reach outside the input (an `embed` does); the
    /// engine does not clip it. [`Image::need`](crate::Image::need) and
    /// [`Inputs::need`] call it with the node's own input headers.
    fn need(&self, out: Rect, _index: usize, _inputs: &[Header]) -> Rect {
        out
    }

    /// `false` if computing rows top to bottom may request input rows out of
    /// order (a vertical flip, a 90° rotation). The planner then puts a cache
    /// between such an operation and any sequential source.
    fn keeps_row_order(&self) -> bool {
        true
    }

    /// For sources: how they can be read.
    fn access(&self) -> Access {
        Access::Random
    }

    /// Called once per run before any `start`, with the plan's geometry.
    fn configure(&self, _plan: &PlanInfo) {}

    /// Memory estimate: bytes of the pixel buffer this node allocates for
    /// its output when asked for `out` (`output` is its own header). By
    /// default a buffer of `out`'s area; operations that return a view of
    /// their input or of a mapped file (a crop, a memory-mapped source)
    /// return 0. The planner counts it once per worker thread, since each
    /// worker's buffer pool keeps the buffers of one tile for reuse.
    fn region_bytes(&self, out: Rect, _inputs: &[Header], output: &Header) -> u64 {
        out.area() * output.pixel_bytes() as u64
    }

    /// Memory estimate: bytes of per-thread working memory (its state's
    /// buffers) beyond the output region, for a request of `out`. 0 by
    /// default: a point operation, whose only memory is its output.
    fn scratch_bytes(&self, _out: Rect, _inputs: &[Header]) -> u64 {
        0
    }

    /// Memory estimate: bytes this node holds once per run, whatever the
    /// number of threads (a sequential source's read-ahead ring, the
    /// resident window of a mapped file, a decoder's buffers), for a pass
    /// with the geometry `plan`. 0 by default.
    fn shared_bytes(&self, _plan: &PlanInfo, _output: &Header) -> u64 {
        0
    }

    /// Creates the per-thread state; by default `State::default()`.
    fn start(&self) -> Result<Self::State> {
        Ok(Self::State::default())
    }

    /// Computes the region `out`. Inputs are fetched through `inputs`, and
    /// the output buffer allocated through [`Inputs::alloc`]. The returned
    /// region must cover exactly `out` with the header's bands and format.
    fn generate(
        &self,
        state: &mut Self::State,
        out: Rect,
        inputs: &mut Inputs<'_>,
    ) -> Result<Region>;
}

/// The object-safe form of [`Operation`] the graph stores; implemented for
/// every `Operation`.
pub trait DynOperation: Send + Sync + 'static {
    /// See [`Operation::name`].
    fn name(&self) -> &'static str;
    /// See [`Operation::header`].
    fn header(&self, inputs: &[Header]) -> Result<Header>;
    /// See [`Operation::metadata`].
    fn metadata(&self, inputs: &[Arc<Metadata>]) -> Arc<Metadata>;
    /// See [`Operation::demand`].
    fn demand(&self) -> DemandHint;
    /// See [`Operation::need`].
    fn need(&self, out: Rect, index: usize, inputs: &[Header]) -> Rect;
    /// See [`Operation::keeps_row_order`].
    fn keeps_row_order(&self) -> bool;
    /// See [`Operation::access`].
    fn access(&self) -> Access;
    /// See [`Operation::configure`].
    fn configure(&self, plan: &PlanInfo);
    /// See [`Operation::region_bytes`].
    fn region_bytes(&self, out: Rect, inputs: &[Header], output: &Header) -> u64;
    /// See [`Operation::scratch_bytes`].
    fn scratch_bytes(&self, out: Rect, inputs: &[Header]) -> u64;
    /// See [`Operation::shared_bytes`].
    fn shared_bytes(&self, plan: &PlanInfo, output: &Header) -> u64;
    /// [`Operation::start`], with the state boxed.
    fn start_dyn(&self) -> Result<Box<dyn Any + Send>>;
    /// [`Operation::generate`] on a boxed state.
    fn generate_dyn(
        &self,
        state: &mut (dyn Any + Send),
        out: Rect,
        inputs: &mut Inputs<'_>,
    ) -> Result<Region>;
    /// The operation as `Any`, so callers can recognise concrete kinds
    /// (used to fuse chains of point operations).
    fn as_any(&self) -> &dyn Any;
}

impl<O: Operation> DynOperation for O {
    fn name(&self) -> &'static str {
        Operation::name(self)
    }
    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Operation::header(self, inputs)
    }
    fn metadata(&self, inputs: &[Arc<Metadata>]) -> Arc<Metadata> {
        Operation::metadata(self, inputs)
    }
    fn demand(&self) -> DemandHint {
        Operation::demand(self)
    }
    fn need(&self, out: Rect, index: usize, inputs: &[Header]) -> Rect {
        Operation::need(self, out, index, inputs)
    }
    fn keeps_row_order(&self) -> bool {
        Operation::keeps_row_order(self)
    }
    fn access(&self) -> Access {
        Operation::access(self)
    }
    fn configure(&self, plan: &PlanInfo) {
        Operation::configure(self, plan)
    }
    fn region_bytes(&self, out: Rect, inputs: &[Header], output: &Header) -> u64 {
        Operation::region_bytes(self, out, inputs, output)
    }
    fn scratch_bytes(&self, out: Rect, inputs: &[Header]) -> u64 {
        Operation::scratch_bytes(self, out, inputs)
    }
    fn shared_bytes(&self, plan: &PlanInfo, output: &Header) -> u64 {
        Operation::shared_bytes(self, plan, output)
    }
    fn start_dyn(&self) -> Result<Box<dyn Any + Send>> {
        Ok(Box::new(Operation::start(self)?))
    }
    fn generate_dyn(
        &self,
        state: &mut (dyn Any + Send),
        out: Rect,
        inputs: &mut Inputs<'_>,
    ) -> Result<Region> {
        let state = state
            .downcast_mut::<O::State>()
            .expect("state made by this operation's start");
        Operation::generate(self, state, out, inputs)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
