//! The lazy image handle.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use smallvec::SmallVec;

use crate::operation::{DynOperation, Operation};
use crate::{BandFormat, Error, ErrorKind, Header, Interpretation, Metadata, Result};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Node {
    id: u64,
    header: Header,
    op: Arc<dyn DynOperation>,
    inputs: SmallVec<[Image; 2]>,
    input_headers: SmallVec<[Header; 2]>,
    error: Option<Error>,
    metadata: Arc<Metadata>,
}

/// A lazy, immutable image: a node of an operation graph.
///
/// Cloning is cheap (a reference count). The [`header`](Image::header) is
/// known as soon as the node is built; no pixel is computed until a sink
/// pulls regions through the graph.
///
/// Building never fails: an invalid step (a crop outside the image, a band
/// mismatch, a size beyond the process-wide [`Limits`](crate::Limits))
/// gives an image that carries the error, named with its
/// operation, and every image built on it carries the same error.
/// [`check`](Image::check) reports it at once; any sink reports it before
/// computing a pixel.
#[derive(Clone)]
pub struct Image(Arc<Node>);

impl Image {
    /// Builds a node running `op` on `inputs`. The header comes from
    /// [`Operation::header`]; an invalid input or header gives an invalid
    /// image (see the type's docs).
    #[track_caller]
    pub fn new<O: Operation>(op: O, inputs: Vec<Image>) -> Image {
        Image::from_dyn(Arc::new(op), inputs, Location::caller())
    }

    fn from_dyn(op: Arc<dyn DynOperation>, inputs: Vec<Image>, at: &Location<'_>) -> Image {
        let headers: SmallVec<[Header; 2]> = inputs.iter().map(|i| i.0.header).collect();
        let inherited = inputs.iter().find_map(|i| i.0.error.clone());
        let (header, error) = match inherited {
            Some(e) => (headers.first().copied().unwrap_or(PLACEHOLDER), Some(e)),
            None => match op.header(&headers) {
                Ok(h) => match crate::Limits::default().check(&h) {
                    Ok(()) => (h, None),
                    Err(e) => (
                        h,
                        // A header an operation computed: a bad size is
                        // a bad argument (a file's would be a bad file);
                        // limits stay limits.
                        Some(
                            match e.kind() {
                                ErrorKind::Format => e.with_kind(ErrorKind::InvalidArgument),
                                _ => e,
                            }
                            .with_context(format!("built at {at}"))
                            .with_operation(op.name()),
                        ),
                    ),
                },
                Err(e) => (
                    headers.first().copied().unwrap_or(PLACEHOLDER),
                    Some(e.with_operation(op.name())),
                ),
            },
        };
        let metas: SmallVec<[Arc<Metadata>; 2]> =
            inputs.iter().map(|i| i.0.metadata.clone()).collect();
        let metadata = op.metadata(&metas);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Image(Arc::new(Node {
            id,
            header,
            op,
            inputs: inputs.into(),
            input_headers: headers,
            error,
            metadata,
        }))
    }

    /// An invalid image carrying `error` as it is (kind, cause and all),
    /// named with `operation` unless the error names one already. Its header
    /// is its first input's (1x1 for a source). For builders that find an
    /// argument wrong before they can build their node.
    #[track_caller]
    pub fn from_error(operation: &'static str, error: Error, inputs: Vec<Image>) -> Image {
        let headers: SmallVec<[Header; 2]> = inputs.iter().map(|i| i.0.header).collect();
        let error = inputs
            .iter()
            .find_map(|i| i.0.error.clone())
            .unwrap_or_else(|| error.with_operation(operation));
        let header = headers.first().copied().unwrap_or(PLACEHOLDER);
        let metas: SmallVec<[Arc<Metadata>; 2]> =
            inputs.iter().map(|i| i.0.metadata.clone()).collect();
        let op = Arc::new(Failed { name: operation });
        let metadata = DynOperation::metadata(&*op, &metas);
        Image(Arc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            header,
            op,
            inputs: inputs.into(),
            input_headers: headers,
            error: Some(error),
            metadata,
        }))
    }

    /// The headers of this node's inputs.
    pub fn input_headers(&self) -> &[Header] {
        &self.0.input_headers
    }

    /// The rectangle of input `index` this node needs to compute `out`
    /// ([`Operation::need`] with this node's input headers).
    pub fn need(&self, out: crate::Rect, index: usize) -> crate::Rect {
        self.0.op.need(out, index, &self.0.input_headers)
    }

    /// The same operation on other inputs, which must have the same headers
    /// as the current ones (used by the planner to insert caches). Returns
    /// this very node if `inputs` are its own.
    #[track_caller]
    pub fn with_inputs(&self, inputs: Vec<Image>) -> Image {
        if inputs.len() == self.0.inputs.len()
            && inputs
                .iter()
                .zip(self.inputs())
                .all(|(a, b)| a.same_node(b))
        {
            return self.clone();
        }
        Image::from_dyn(self.0.op.clone(), inputs, Location::caller())
    }

    /// Width, height, bands, format and interpretation.
    ///
    /// For an invalid image (see [`check`](Image::check)) this is the
    /// header of its first input, or 1x1 for a source.
    pub fn header(&self) -> &Header {
        &self.0.header
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.0.header.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.0.header.height
    }

    /// Bands per pixel.
    pub fn bands(&self) -> u32 {
        self.0.header.bands
    }

    /// Band format.
    pub fn format(&self) -> BandFormat {
        self.0.header.format
    }

    /// Orientation, colour profile, EXIF and source-file facts.
    pub fn metadata(&self) -> &Metadata {
        &self.0.metadata
    }

    /// Interpretation.
    pub fn interpretation(&self) -> Interpretation {
        self.0.header.interpretation
    }

    /// `Ok` if every step that built this image was valid, else the first
    /// error, named with its operation.
    pub fn check(&self) -> Result<()> {
        match &self.0.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The inputs of this node.
    pub fn inputs(&self) -> &[Image] {
        &self.0.inputs
    }

    /// The operation of this node.
    pub fn operation(&self) -> &dyn DynOperation {
        &*self.0.op
    }

    /// The operation's name.
    pub fn name(&self) -> &'static str {
        self.0.op.name()
    }

    /// A number unique to this node in the process.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// `true` if both handles are the same node.
    pub fn same_node(&self, other: &Image) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Every node of the graph, inputs before the nodes that use them, each
    /// once. Iterative, so deep chains cannot overflow the stack.
    pub fn nodes(&self) -> Vec<Image> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut stack = vec![(self.clone(), false)];
        while let Some((img, expanded)) = stack.pop() {
            if expanded {
                out.push(img);
                continue;
            }
            if !seen.insert(img.id()) {
                continue;
            }
            stack.push((img.clone(), true));
            for i in img.inputs().iter().rev() {
                if !seen.contains(&i.id()) {
                    stack.push((i.clone(), false));
                }
            }
        }
        out
    }
}

/// The operation of an image made by [`Image::from_error`]: never run,
/// since the image carries its error.
struct Failed {
    name: &'static str,
}

impl Operation for Failed {
    type State = ();
    fn name(&self) -> &'static str {
        self.name
    }
    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs.first().copied().unwrap_or(PLACEHOLDER))
    }
    fn generate(
        &self,
        _: &mut (),
        _: crate::Rect,
        _: &mut crate::Inputs<'_>,
    ) -> Result<crate::Region> {
        Err(Error::invalid(self.name, "invalid image computed"))
    }
}

const PLACEHOLDER: Header = Header::new(1, 1, 1, BandFormat::U8);

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.header())?;
        if let Some(e) = &self.0.error {
            write!(f, " invalid: {e}")?;
        }
        Ok(())
    }
}
