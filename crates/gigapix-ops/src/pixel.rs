//! Format-agnostic pixel copying helpers shared by the geometry and band
//! operations.

/// Calls `$f::<N>(args...)` with `N` the pixel size in bytes when it is one of
/// the common sizes, so the kernel's per-pixel copies have a constant length;
/// other sizes call `$f::<0>`, which kernels read as "use the runtime size".
macro_rules! with_pixel_size {
    ($pb:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $pb {
            1 => $f::<1>($($arg),*),
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            6 => $f::<6>($($arg),*),
            8 => $f::<8>($($arg),*),
            12 => $f::<12>($($arg),*),
            16 => $f::<16>($($arg),*),
            _ => $f::<0>($($arg),*),
        }
    };
}
pub(crate) use with_pixel_size;

/// The pixel size a kernel instantiated with `N` works with: `N` itself, or
/// the runtime size `pb` when `N` is 0.
#[inline(always)]
pub(crate) const fn px_size<const N: usize>(pb: usize) -> usize {
    if N == 0 { pb } else { N }
}

/// Copies the pixels of `src` into `dst` in reverse order.
pub(crate) fn reverse_row<const N: usize>(dst: &mut [u8], src: &[u8], pb: usize) {
    let n = px_size::<N>(pb);
    for (d, s) in dst.chunks_exact_mut(n).zip(src.chunks_exact(n).rev()) {
        d.copy_from_slice(s);
    }
}

/// Fills `dst` with copies of the pixel `px`.
pub(crate) fn fill_row<const N: usize>(dst: &mut [u8], px: &[u8], pb: usize) {
    let n = px_size::<N>(pb);
    let px = &px[..n];
    for d in dst.chunks_exact_mut(n) {
        d.copy_from_slice(px);
    }
}

/// `dst` pixel `i` = `src` pixel `map[i]`.
pub(crate) fn gather_row<const N: usize>(dst: &mut [u8], src: &[u8], map: &[u32], pb: usize) {
    let n = px_size::<N>(pb);
    for (d, &m) in dst.chunks_exact_mut(n).zip(map) {
        let s = m as usize * n;
        d.copy_from_slice(&src[s..s + n]);
    }
}

/// `dst` pixel `i` = the pixel at byte `offset` of row `rows[i]` (or of
/// `rows[len - 1 - i]` when `reverse`): one column of the input, read down or
/// up, becomes a row of the output.
pub(crate) fn column_to_row<const N: usize>(
    dst: &mut [u8],
    rows: &[&[u8]],
    offset: usize,
    reverse: bool,
    pb: usize,
) {
    let n = px_size::<N>(pb);
    let last = rows.len().wrapping_sub(1);
    for (i, d) in dst.chunks_exact_mut(n).enumerate() {
        let row = if reverse { rows[last - i] } else { rows[i] };
        d.copy_from_slice(&row[offset..offset + n]);
    }
}
