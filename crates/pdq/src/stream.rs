//! PDQ of an image given row by row, in a few rows of memory, bit-exact with the batch
//! hasher ([`crate::PdqHasher`]).
//!
//! The batch hasher holds the whole image twice as floats (8 bytes per pixel). Here each
//! row is turned into luma and filtered along the row as it arrives (eight at a time, as
//! lanes); the first column pass keeps one running sum per column and a ring of the last
//! `window` rows — the same float operations, in the same order, as the batch filter's
//! lanes; each of its output rows is filtered along the row again and only the 64 sampled
//! columns are kept, for the last column pass. Memory: about `(window + 16) × width`
//! floats plus `64 × height`, whatever the image's size.

use crate::Hash256;
use crate::downscale::{self, DOWN, Scratch};
use crate::pdq::{DihedralResult, MIN_HASHABLE_DIM, PdqError, PdqResult};

/// Rows filtered along the row together (as lanes).
const BLOCK: usize = 8;

/// The batch filter's running sums along one dimension, fed one position (a row of
/// `lanes` values) at a time.
struct ColumnBox {
    n: usize,
    w: usize,
    half: usize,
    lanes: usize,
    sums: Vec<f32>,
    ring: Vec<f32>,
    received: usize,
}

impl ColumnBox {
    fn new(n: usize, w: usize, lanes: usize) -> ColumnBox {
        ColumnBox {
            n,
            w,
            half: (w + 2) / 2,
            lanes,
            sums: vec![0.0; lanes],
            ring: vec![0.0; w * lanes],
            received: 0,
        }
    }

    /// Takes input position `received`; writes an output position to `out` when one is
    /// due (returns whether it did).
    fn push(&mut self, row: &[f32], out: &mut [f32]) -> bool {
        let ri = self.received;
        let lanes = self.lanes;
        let slot = (ri % self.w) * lanes;
        let emitted = if ri < self.half - 1 {
            for (s, &v) in self.sums.iter_mut().zip(row) {
                *s += v;
            }
            false
        } else if ri < self.w {
            let d = (ri + 1) as f32;
            for ((s, &v), o) in self.sums.iter_mut().zip(row).zip(out.iter_mut()) {
                *s += v;
                *o = *s / d;
            }
            true
        } else {
            let d = self.w as f32;
            let leaving = &self.ring[slot..slot + lanes];
            for (((s, &a), &b), o) in self
                .sums
                .iter_mut()
                .zip(row)
                .zip(leaving)
                .zip(out.iter_mut())
            {
                *s += a;
                *s -= b;
                *o = *s / d;
            }
            true
        };
        self.ring[slot..slot + lanes].copy_from_slice(&row[..lanes]);
        self.received += 1;
        emitted
    }

    /// After the last input: the shrinking window's `half - 1` outputs, in order.
    fn finish(&mut self, mut out: impl FnMut(&[f32])) {
        debug_assert_eq!(self.received, self.n);
        let lanes = self.lanes;
        let mut row = vec![0f32; lanes];
        for k in 0..self.half - 1 {
            let li = self.n - self.w + k;
            let d = (self.w - 1 - k) as f32;
            let slot = (li % self.w) * lanes;
            for ((s, &b), o) in self
                .sums
                .iter_mut()
                .zip(&self.ring[slot..slot + lanes])
                .zip(row.iter_mut())
            {
                *s -= b;
                *o = *s / d;
            }
            out(&row);
        }
    }
}

/// PDQ of an image fed row by row ([`PdqStream::push_row`]), then [`PdqStream::finish`]
/// (or [`PdqStream::finish_dihedral`]).
pub struct PdqStream {
    width: usize,
    height: usize,
    channels: usize,
    w_rows: usize,
    /// Luma rows waiting to be filtered along the row (row-major).
    block1: Vec<f32>,
    rows1: usize,
    col1: ColumnBox,
    col1_out: Vec<f32>,
    /// First-pass output rows waiting to be filtered along the row again.
    block2: Vec<f32>,
    rows2: usize,
    /// The 64 sampled columns of every second-pass row (height × 64).
    cols64: Vec<f32>,
    col_idx: [usize; DOWN],
    /// A 64 × 64 image's luma as it came (the plain hash uses it unfiltered).
    raw64: Vec<f32>,
    luma_row: Vec<f32>,
    received: usize,
    scratch: Scratch,
}

impl PdqStream {
    /// A stream for a `width × height` image of `channels` bytes per pixel (1 = grey,
    /// 3 = RGB, 4 = RGBA with alpha ignored).
    pub fn new(width: usize, height: usize, channels: usize) -> Result<PdqStream, PdqError> {
        let bad = || PdqError::BufferSize {
            width,
            height,
            channels,
            len: 0,
        };
        if width == 0 || height == 0 || !(channels == 1 || channels >= 3) {
            return Err(bad());
        }
        width.checked_mul(height).ok_or_else(bad)?;
        height.checked_mul(DOWN).ok_or_else(bad)?;
        width.checked_mul(BLOCK).ok_or_else(bad)?;
        let small = width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM;
        let (w_rows, w_cols) = if small {
            (1, 1)
        } else {
            (
                downscale::window_size(width),
                downscale::window_size(height),
            )
        };
        let lanes = if small { 0 } else { width };
        Ok(PdqStream {
            width,
            height,
            channels,
            w_rows,
            block1: Vec::with_capacity(BLOCK * lanes),
            rows1: 0,
            col1: ColumnBox::new(height, w_cols, lanes),
            col1_out: vec![0.0; lanes],
            block2: Vec::with_capacity(BLOCK * lanes),
            rows2: 0,
            cols64: Vec::with_capacity(if small { 0 } else { height * DOWN }),
            col_idx: std::array::from_fn(|j| sample_index(j, width)),
            raw64: Vec::new(),
            luma_row: Vec::with_capacity(width),
            received: 0,
            scratch: Scratch::default(),
        })
    }

    /// Rows received so far.
    pub fn rows(&self) -> usize {
        self.received
    }

    /// The image's width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The next row, `width × channels` bytes.
    pub fn push_row(&mut self, row: &[u8]) -> Result<(), PdqError> {
        if row.len() != self.width * self.channels || self.received >= self.height {
            return Err(PdqError::BufferSize {
                width: self.width,
                height: self.height,
                channels: self.channels,
                len: row.len(),
            });
        }
        self.received += 1;
        if self.width < MIN_HASHABLE_DIM || self.height < MIN_HASHABLE_DIM {
            return Ok(());
        }
        let mut luma = std::mem::take(&mut self.luma_row);
        if self.channels == 1 {
            downscale::luma_from_grey(row, &mut luma);
        } else {
            downscale::luma_from_rgb(row, self.channels, &mut luma);
        }
        if self.width == DOWN && self.height == DOWN {
            self.raw64.extend_from_slice(&luma);
        }
        self.block1.extend_from_slice(&luma);
        self.luma_row = luma;
        self.rows1 += 1;
        if self.rows1 == BLOCK {
            self.flush1();
        }
        Ok(())
    }

    /// Pushes `n` rows held one after the other in `rows`.
    pub fn push_rows(&mut self, rows: &[u8]) -> Result<(), PdqError> {
        let line = self.width * self.channels;
        if line == 0 || !rows.len().is_multiple_of(line) {
            return Err(PdqError::BufferSize {
                width: self.width,
                height: self.height,
                channels: self.channels,
                len: rows.len(),
            });
        }
        for row in rows.chunks_exact(line) {
            self.push_row(row)?;
        }
        Ok(())
    }

    /// Filters the waiting luma rows along the row and feeds them to the first column
    /// pass.
    fn flush1(&mut self) {
        if self.rows1 == 0 {
            return;
        }
        let cols = self.width;
        let mut block = std::mem::take(&mut self.block1);
        downscale::box_rows(&mut block, self.rows1, cols, self.w_rows, &mut self.scratch);
        let mut out = std::mem::take(&mut self.col1_out);
        for row in block.chunks_exact(cols) {
            if self.col1.push(row, &mut out) {
                self.take2(&out);
            }
        }
        self.col1_out = out;
        block.clear();
        self.block1 = block;
        self.rows1 = 0;
    }

    /// A first-pass output row, for the second row pass.
    fn take2(&mut self, row: &[f32]) {
        self.block2.extend_from_slice(row);
        self.rows2 += 1;
        if self.rows2 == BLOCK {
            self.flush2();
        }
    }

    /// Filters the waiting first-pass rows along the row; keeps their sampled columns.
    fn flush2(&mut self) {
        if self.rows2 == 0 {
            return;
        }
        let cols = self.width;
        let mut block = std::mem::take(&mut self.block2);
        downscale::box_rows(&mut block, self.rows2, cols, self.w_rows, &mut self.scratch);
        for row in block.chunks_exact(cols) {
            self.cols64.extend(self.col_idx.iter().map(|&c| row[c]));
        }
        block.clear();
        self.block2 = block;
        self.rows2 = 0;
    }

    /// The 64 × 64 buffer once every row is in (`shortcut64`: a 64 × 64 image unfiltered).
    fn buffer(&mut self, shortcut64: bool) -> Result<Option<[f32; DOWN * DOWN]>, PdqError> {
        if self.received != self.height {
            return Err(PdqError::BufferSize {
                width: self.width,
                height: self.height,
                channels: self.channels,
                len: self.received * self.width * self.channels,
            });
        }
        if self.width < MIN_HASHABLE_DIM || self.height < MIN_HASHABLE_DIM {
            return Ok(None);
        }
        let mut out = [0f32; DOWN * DOWN];
        if shortcut64 && self.width == DOWN && self.height == DOWN {
            out.copy_from_slice(&self.raw64);
            return Ok(Some(out));
        }
        self.flush1();
        let mut tail = Vec::new();
        self.col1.finish(|row| tail.extend_from_slice(row));
        for row in tail.chunks_exact(self.width) {
            self.take2(row);
        }
        self.flush2();
        let rows = self.height;
        let mut filtered = vec![0f32; rows * DOWN];
        downscale::box_filter_lanes(
            &self.cols64,
            &mut filtered,
            rows,
            DOWN,
            self.col1.w,
            &mut Vec::new(),
        );
        for i in 0..DOWN {
            let r = sample_index(i, rows);
            out[i * DOWN..(i + 1) * DOWN].copy_from_slice(&filtered[r * DOWN..(r + 1) * DOWN]);
        }
        Ok(Some(out))
    }

    /// The hash and its quality.
    pub fn finish(mut self) -> Result<PdqResult, PdqError> {
        Ok(match self.buffer(true)? {
            None => PdqResult {
                hash: Hash256::ZERO,
                quality: 0,
            },
            Some(buf) => crate::pdq::result_of(&buf),
        })
    }

    /// The 8 dihedral hashes and the quality.
    pub fn finish_dihedral(mut self) -> Result<DihedralResult, PdqError> {
        Ok(match self.buffer(false)? {
            None => DihedralResult {
                hashes: [Hash256::ZERO; 8],
                quality: 0,
            },
            Some(buf) => crate::pdq::dihedral_of(&buf),
        })
    }
}

fn sample_index(i: usize, n: usize) -> usize {
    downscale::sample_index(i, n)
}
