//! Sources that can only be read top to bottom, made safe to share between
//! worker threads.
//!
//! A streaming decoder implements [`RowReader`]; [`SequentialSource`] puts a
//! read head behind a lock and a ring of recent rows in front of it, so that
//! several workers asking for nearby strips in slightly different orders are
//! all served. It declares [`Access::Sequential`], and the planner
//! guarantees that nothing downstream asks for rows older than the ring
//! holds (it inserts a cache where an operation reads out of order).

use parking_lot::Mutex;

use crate::{Access, Error, ErrorKind, Header, Inputs, Operation, PlanInfo, Rect, Region, Result};

/// Reads rows of an image top to bottom.
pub trait RowReader: Send + 'static {
    /// Fills `buf` with the next `buf.len() / row_bytes` full rows.
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// Opens a fresh [`RowReader`] at row 0 (once per run).
pub type ReaderFactory<R> = Box<dyn Fn() -> Result<R> + Send + Sync>;

struct Head<R> {
    reader: Option<R>,
    /// Rows read so far: the next row the reader returns.
    next: u32,
    /// Ring of `cap` full rows; row `y` lives in slot `y % cap`.
    ring: Vec<u8>,
    cap: u32,
    /// Sticky error: once reading failed, every request fails the same way.
    error: Option<Error>,
}

/// An [`Operation`] serving any rectangle of a top-to-bottom [`RowReader`],
/// as long as requests do not fall behind the ring of recent rows.
pub struct SequentialSource<R: RowReader> {
    name: &'static str,
    header: Header,
    open: ReaderFactory<R>,
    head: Mutex<Head<R>>,
}

impl<R: RowReader> SequentialSource<R> {
    /// A source named `name` with header `header`, reading through readers
    /// made by `open`.
    pub fn new(name: &'static str, header: Header, open: ReaderFactory<R>) -> SequentialSource<R> {
        SequentialSource {
            name,
            header,
            open,
            head: Mutex::new(Head {
                reader: None,
                next: 0,
                ring: Vec::new(),
                cap: 256,
                error: None,
            }),
        }
    }
}

impl<R: RowReader> Operation for SequentialSource<R> {
    type State = ();

    fn name(&self) -> &'static str {
        self.name
    }

    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }

    fn access(&self) -> Access {
        Access::Sequential
    }

    fn configure(&self, plan: &PlanInfo) {
        // A new run starts again from row 0 with a ring deep enough for
        // every worker's strip plus the consumers' vertical reach.
        let mut head = self.head.lock();
        head.reader = None;
        head.next = 0;
        head.error = None;
        head.cap = ((plan.threads as u32 + 2) * plan.tile_height + plan.row_skew).max(16);
        head.ring = Vec::new();
    }

    fn shared_bytes(&self, plan: &PlanInfo, output: &Header) -> u64 {
        // The read-ahead ring `configure` sizes.
        let cap = ((plan.threads as u32 + 2) * plan.tile_height + plan.row_skew).max(16);
        cap as u64 * output.row_bytes() as u64
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let row_bytes = self.header.row_bytes();
        let mut head = self.head.lock();
        if let Some(e) = &head.error {
            return Err(e.clone());
        }
        let (y0, y1) = (out.y as u32, out.bottom() as u32);
        if y1 - y0 > head.cap {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "request of {} rows exceeds the read-ahead of {} rows",
                    y1 - y0,
                    head.cap
                ),
            ));
        }
        let oldest = head.next.saturating_sub(head.cap);
        if y0 < oldest {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "out of order read: row {y0} requested after row {} was read",
                    head.next
                ),
            ));
        }
        // Within the process-wide `max_alloc`, and fallible: a stream may
        // claim rows too long to hold.
        let max_alloc = crate::Limits::default().max_alloc_usize();
        let ring_bytes = (head.cap as usize)
            .checked_mul(row_bytes)
            .filter(|&n| n <= max_alloc);
        if Some(head.ring.len()) != ring_bytes {
            let mut ring = Vec::new();
            ring_bytes
                .and_then(|n| ring.try_reserve_exact(n).ok().map(|_| n))
                .map(|n| ring.resize(n, 0))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Limit,
                        format!(
                            "cannot allocate a read-ahead of {} rows of {row_bytes} bytes \
                             (max_alloc is {max_alloc})",
                            head.cap
                        ),
                    )
                })?;
            head.ring = ring;
        }
        if head.reader.is_none() {
            head.reader = Some((self.open)()?);
        }
        while head.next < y1 {
            let Head {
                reader,
                next,
                ring,
                cap,
                ..
            } = &mut *head;
            // Read up to the end of the ring or the request, in one call.
            let slot = (*next % *cap) as usize;
            let rows = (y1 - *next).min(*cap - slot as u32) as usize;
            let buf = &mut ring[slot * row_bytes..(slot + rows) * row_bytes];
            if let Err(e) = reader.as_mut().expect("opened above").read_rows(buf) {
                head.error = Some(e.clone());
                return Err(e);
            }
            *next += rows as u32;
        }
        let mut region = inputs.alloc(out);
        let px = self.header.pixel_bytes();
        let (a, b) = (out.x as usize * px, out.right() as usize * px);
        for y in y0..y1 {
            let slot = (y % head.cap) as usize * row_bytes;
            region
                .row_bytes_mut(y as i64)
                .copy_from_slice(&head.ring[slot + a..slot + b]);
        }
        Ok(region)
    }
}
