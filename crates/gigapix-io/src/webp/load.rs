//! The WebP loader: the container parsed when the file is opened (size,
//! frames, metadata), the pixels decoded whole by libwebp on the first
//! request of a region and served as zero-copy views of that buffer.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use gigapix_core::desc::Args;
use gigapix_core::{
    Access, BandFormat, DemandHint, Error, ErrorKind, Header, Image, Inputs, Interpretation,
    Metadata, Operation, PlanInfo, Rect, Region, Result,
};
use gigapix_webp as webp;

use crate::OpenOptions;
use crate::input::Shared;

/// Most frames an animation may have (libwebp's own limit is far above;
/// every frame is composited, so this bounds the work a small file can
/// ask for).
pub(crate) const MAX_FRAMES: u32 = 10_000;

/// The engine's error for a libwebp error about file `name`.
pub(crate) fn webp_error(name: &str, e: webp::Error) -> Error {
    let kind = match e.kind() {
        webp::ErrorKind::Format => ErrorKind::Format,
        webp::ErrorKind::Unsupported => ErrorKind::Unsupported,
        webp::ErrorKind::Memory => ErrorKind::Limit,
        _ => ErrorKind::InvalidArgument,
    };
    Error::new(kind, format!("{name}: {}", e.message()))
}

fn named(name: &str, e: Error) -> Error {
    Error::new(e.kind(), format!("{name}: {}", e.message()))
}

/// Opens a WebP file: reads it whole (WebP decoders need every byte) and
/// parses it.
pub(crate) fn open(path: &Path, name: &str, options: &OpenOptions, args: &Args) -> Result<Image> {
    let file = File::open(path).map_err(|e| Error::io(name, e))?;
    open_read(file, name, options, args)
}

/// Opens a WebP image from a reader, read whole into memory (at most
/// `options.limits.max_alloc` bytes).
pub(crate) fn open_read<R: Read + Seek + Send + 'static>(
    reader: R,
    name: &str,
    options: &OpenOptions,
    args: &Args,
) -> Result<Image> {
    let bytes = crate::source::read_whole(reader, name, "a WebP file", &options.limits)?;
    open_bytes(bytes, name, options, args)
}

/// What to decode: frames `page..page + n` of the file, at `width` x
/// `height` each (smaller than the file's with `shrink`).
#[derive(Clone, Copy, Debug)]
struct Plan {
    page: u32,
    n: u32,
    width: u32,
    height: u32,
    animated: bool,
    alpha: bool,
}

/// Opens a WebP image held in memory: checks the container and the
/// options, and returns a source that decodes on first use.
pub(crate) fn open_bytes(
    data: Shared,
    name: &str,
    options: &OpenOptions,
    args: &Args,
) -> Result<Image> {
    if data.as_ref().is_empty() {
        return Err(Error::format(format!("{name}: file is empty")));
    }
    let container = webp::Container::parse(data.as_ref()).map_err(|e| webp_error(name, e))?;
    let features = webp::features(data.as_ref()).map_err(|e| webp_error(name, e))?;
    let (cw, ch) = (container.width(), container.height());
    let animated = container.animated();
    let frames = if animated { container.frame_count() } else { 1 };
    if frames == 0 {
        return Err(Error::format(format!(
            "{name}: WebP animation without frames"
        )));
    }
    if frames > MAX_FRAMES {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("{name}: {frames} frames, more than the {MAX_FRAMES} read"),
        ));
    }
    let page = args.opt_int("page")?.unwrap_or(0);
    let n = args.opt_int("n")?.unwrap_or(1);
    let page = u32::try_from(page).unwrap_or(u32::MAX);
    if page >= frames {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: page {page} is out of range: the file has {frames} page(s)"),
        ));
    }
    let n = if n == -1 {
        frames - page
    } else {
        u32::try_from(n).unwrap_or(0)
    };
    if n == 0 || page + n > frames {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: n={n} from page {page} is out of range: the file has {frames} page(s)"
            ),
        ));
    }
    let shrink = args.opt_int("shrink")?.unwrap_or(1).max(1) as u32;
    if shrink > 1 && animated {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("{name}: shrink-on-load of a WebP animation is not supported"),
        ));
    }
    // libvips' rounding of a shrunk size: to nearest, at least 1.
    let scaled = |v: u32| ((f64::from(v) / f64::from(shrink)).round() as u32).max(1);
    let (width, height) = (scaled(cw), scaled(ch));
    let alpha = animated || features.has_alpha;
    let bands = if alpha { 4 } else { 3 };
    let total = height.checked_mul(n).ok_or_else(|| {
        Error::new(
            ErrorKind::Limit,
            format!("{name}: {n} frames of {height} rows are too many"),
        )
    })?;
    let mut header = Header::new(width, total, bands, BandFormat::U8);
    header.interpretation = Interpretation::Srgb;
    options.limits.check(&header).map_err(|e| named(name, e))?;
    if header.image_bytes() > options.limits.max_alloc {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: the decoded image ({header}, {} bytes) is over max_alloc ({})",
                header.image_bytes(),
                options.limits.max_alloc
            ),
        ));
    }

    let mut metadata = Metadata::new();
    if let Some(icc) = container.chunk(b"ICCP") {
        metadata.icc = Some(Arc::from(icc));
    }
    if let Some(exif) = container.chunk(b"EXIF") {
        let exif = crate::exif::strip_signature(exif);
        metadata.orientation = crate::exif::orientation(exif);
        metadata.exif = Some(Arc::from(exif));
    }
    if let Some(xmp) = container.chunk(b"XMP ")
        && let Ok(text) = std::str::from_utf8(xmp)
    {
        metadata.set_field("xmp", text);
    }
    let format = match (animated, features.lossless) {
        (true, _) => "animation",
        (false, Some(true)) => "lossless",
        _ => "lossy",
    };
    metadata.set_field("webp-format", format);
    if animated {
        let delays: Vec<String> = container
            .frames()
            .iter()
            .map(|f| f.duration.to_string())
            .collect();
        metadata.set_field("n-pages", frames);
        metadata.set_field("loop", container.loop_count());
        metadata.set_field("delay", delays.join(","));
        if n > 1 {
            metadata.set_field("page-height", height);
        }
    }
    if shrink > 1 {
        metadata.set_field("shrink", shrink);
    }
    drop(container);
    Ok(Image::new(
        WebpSource {
            name: Arc::from(name),
            data,
            plan: Plan {
                page,
                n,
                width,
                height,
                animated,
                alpha,
            },
            header,
            metadata: Arc::new(metadata),
            pixels: OnceLock::new(),
        },
        vec![],
    ))
}

/// The loader's node: the file's bytes, and its pixels once decoded.
struct WebpSource {
    name: Arc<str>,
    /// The whole file, shared with the caller when it came from memory.
    data: Shared,
    plan: Plan,
    header: Header,
    metadata: Arc<Metadata>,
    /// The decoded image (every requested frame, stacked), or why it
    /// could not be decoded.
    pixels: OnceLock<std::result::Result<Arc<Vec<u8>>, Error>>,
}

impl WebpSource {
    /// Decodes the image (once; later calls share the result).
    fn pixels(&self) -> Result<Arc<Vec<u8>>> {
        self.pixels
            .get_or_init(|| {
                decode(self.data.as_ref(), &self.plan, &self.header, &self.name).map(Arc::new)
            })
            .clone()
    }
}

/// Decodes what `plan` asks into one buffer of `header`.
fn decode(data: &[u8], plan: &Plan, header: &Header, name: &str) -> Result<Vec<u8>> {
    let size = usize::try_from(header.image_bytes())
        .map_err(|_| Error::new(ErrorKind::Limit, format!("{name}: image too large")))?;
    // Zeroed by the allocator (calloc): pages are touched only as libwebp
    // writes them, so a file that lies about its size and fails early
    // costs address space, not memory.
    let mut out = vec![0u8; size];
    let stride = header.row_bytes();
    if !plan.animated {
        let mut opts = webp::DecodeOptions::new(plan.width, plan.height, plan.alpha);
        opts.threads = true;
        webp::decode(data, &opts, &mut out, stride).map_err(|e| webp_error(name, e))?;
        return Ok(out);
    }
    let mut anim = webp::AnimDecoder::new(data).map_err(|e| webp_error(name, e))?;
    if anim.size() != (plan.width, plan.height) {
        return Err(Error::format(format!(
            "{name}: the animation's canvas disagrees with its header"
        )));
    }
    let frame_bytes = stride * plan.height as usize;
    let mut index = 0u32;
    while index < plan.page + plan.n {
        let Some((canvas, _)) = anim.next_frame().map_err(|e| webp_error(name, e))? else {
            return Err(Error::format(format!(
                "{name}: the animation ends after {index} of its frames"
            )));
        };
        if index >= plan.page {
            let at = (index - plan.page) as usize * frame_bytes;
            out[at..at + frame_bytes].copy_from_slice(&canvas[..frame_bytes]);
        }
        index += 1;
    }
    Ok(out)
}

impl Operation for WebpSource {
    type State = ();

    fn name(&self) -> &'static str {
        "webpload"
    }

    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }

    fn metadata(&self, _: &[Arc<Metadata>]) -> Arc<Metadata> {
        self.metadata.clone()
    }

    fn demand(&self) -> DemandHint {
        DemandHint::Any
    }

    fn access(&self) -> Access {
        Access::Random
    }

    fn configure(&self, _: &PlanInfo) {}

    fn region_bytes(&self, _: Rect, _: &[Header], _: &Header) -> u64 {
        // Views of the decoded image.
        0
    }

    fn shared_bytes(&self, _: &PlanInfo, output: &Header) -> u64 {
        // The decoded image, the file, and libwebp's own buffers (two
        // canvases for an animation, a few rows otherwise).
        let canvases = if self.plan.animated {
            2 * u64::from(self.plan.width) * u64::from(self.plan.height) * 4
        } else {
            0
        };
        output.image_bytes() + self.data.as_ref().len() as u64 + canvases
    }

    fn generate(&self, _: &mut (), out: Rect, _: &mut Inputs<'_>) -> Result<Region> {
        let pixels = self.pixels()?;
        let stride = self.header.row_bytes();
        let offset = out.y as usize * stride + out.x as usize * self.header.pixel_bytes();
        Region::view(
            pixels,
            offset,
            stride,
            out,
            self.header.bands,
            self.header.format,
        )
    }
}
