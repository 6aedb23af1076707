//! PDQ hashing: 64x64 buffer -> 16x16 DCT -> median threshold, plus the 8 dihedral hashes.
//!
//! Implemented from `shared/docs/PDQ.md` §1 (items 3 to 9).

use std::sync::OnceLock;

use crate::Hash256;
use crate::downscale::{self, DOWN, Scratch};

/// Images with fewer rows or columns than this hash to zero with quality 0.
pub const MIN_HASHABLE_DIM: usize = 5;

/// A PDQ hash and its quality (0..=100; upstream suggests discarding quality < 50).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PdqResult {
    /// The 256-bit hash.
    pub hash: Hash256,
    /// Image-domain gradient quality, 0..=100.
    pub quality: u8,
}

/// The 8 dihedral hashes and the quality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DihedralResult {
    /// In order: original, rot90, rot180, rot270, flipX, flipY, flipPlus1, flipMinus1.
    pub hashes: [Hash256; 8],
    /// Image-domain gradient quality, 0..=100.
    pub quality: u8,
}

/// Names of the dihedral variants, in the order of [`DihedralResult::hashes`].
pub const DIHEDRAL_NAMES: [&str; 8] = [
    "orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm",
];

/// Errors for pixel buffers that do not match their stated size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdqError {
    /// `width * height * channels` overflows or differs from the buffer length.
    #[error(
        "pixel buffer of {len} bytes does not hold {width}x{height} pixels of {channels} bytes"
    )]
    BufferSize {
        /// Stated width.
        width: usize,
        /// Stated height.
        height: usize,
        /// Bytes per pixel.
        channels: usize,
        /// Actual buffer length.
        len: usize,
    },
}

/// The 16x64 DCT matrix, `D[i][j] = (float)((double)(float)sqrt(2/64) *
/// cos((pi/2/64) * (i+1) * (2j+1)))`, row-major.
fn dct_matrix() -> &'static [f32; 1024] {
    static MATRIX: OnceLock<[f32; 1024]> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let scale = f64::from((2.0f64 / 64.0).sqrt() as f32);
        let step = std::f64::consts::PI / 2.0 / 64.0;
        std::array::from_fn(|n| {
            let (i, j) = (n / 64, n % 64);
            (scale * (step * (i + 1) as f64 * (2 * j + 1) as f64).cos()) as f32
        })
    })
}

/// `B = D · A · Dᵀ` with float accumulators, `k` ascending. The first product's loops
/// are ordered so that each `T[i][j]` still accumulates `D[i][k] * A[k][j]` for k = 0..64
/// in order (the inner loop runs over `j` and vectorises).
fn dct16(a: &[f32; 4096]) -> [f32; 256] {
    let d = dct_matrix();
    let mut t = [0f32; 16 * DOWN];
    for i in 0..16 {
        let trow = &mut t[i * DOWN..(i + 1) * DOWN];
        for k in 0..DOWN {
            let dik = d[i * DOWN + k];
            let arow = &a[k * DOWN..(k + 1) * DOWN];
            for (tv, &av) in trow.iter_mut().zip(arow) {
                *tv += dik * av;
            }
        }
    }
    let mut b = [0f32; 256];
    for i in 0..16 {
        let trow = &t[i * DOWN..(i + 1) * DOWN];
        for j in 0..16 {
            let drow = &d[j * DOWN..(j + 1) * DOWN];
            let mut acc = 0f32;
            for k in 0..DOWN {
                acc += trow[k] * drow[k];
            }
            b[i * 16 + j] = acc;
        }
    }
    b
}

/// The lower median of 256 values (the 128th smallest), which is what Torben's
/// selection returns for an even count of 256.
fn median256(values: &[f32; 256]) -> f32 {
    let mut copy = *values;
    let (_, m, _) = copy.select_nth_unstable_by(127, f32::total_cmp);
    *m
}

/// Bit `16*i + j` set iff `B[i][j] > median` (strict).
fn threshold(b: &[f32; 256]) -> Hash256 {
    let median = median256(b);
    let mut limbs = [0u64; 4];
    for (k, &v) in b.iter().enumerate() {
        if v > median {
            limbs[k / 64] |= 1u64 << (k % 64);
        }
    }
    Hash256::from_limbs(limbs)
}

/// Reusable hasher: keeps its scratch buffers between images (use one per thread).
#[derive(Default)]
pub struct PdqHasher {
    scratch: Scratch,
}

/// Checks `len == width * height * channels` without overflow.
fn check_len(width: usize, height: usize, channels: usize, len: usize) -> Result<(), PdqError> {
    match width
        .checked_mul(height)
        .and_then(|p| p.checked_mul(channels))
    {
        Some(n) if n == len => Ok(()),
        _ => Err(PdqError::BufferSize {
            width,
            height,
            channels,
            len,
        }),
    }
}

impl PdqHasher {
    /// A new hasher with empty scratch buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hash of pixels of `channels` bytes (3 = RGB, 4 = RGBA with alpha ignored),
    /// row-major, `width` pixels per row.
    pub fn hash_pixels(
        &mut self,
        width: usize,
        height: usize,
        channels: usize,
        pixels: &[u8],
    ) -> Result<PdqResult, PdqError> {
        self.load(width, height, channels, pixels)?;
        Ok(self.hash_loaded(width, height))
    }

    /// The 8 dihedral hashes of pixels of `channels` bytes (see [`Self::hash_pixels`]).
    pub fn dihedral_pixels(
        &mut self,
        width: usize,
        height: usize,
        channels: usize,
        pixels: &[u8],
    ) -> Result<DihedralResult, PdqError> {
        self.load(width, height, channels, pixels)?;
        Ok(self.dihedral_loaded(width, height))
    }

    fn load(
        &mut self,
        width: usize,
        height: usize,
        channels: usize,
        pixels: &[u8],
    ) -> Result<(), PdqError> {
        if !(channels == 1 || channels >= 3) {
            return Err(PdqError::BufferSize {
                width,
                height,
                channels,
                len: pixels.len(),
            });
        }
        check_len(width, height, channels, pixels.len())?;
        if channels == 1 {
            downscale::luma_from_grey(pixels, &mut self.scratch.luma);
        } else {
            downscale::luma_from_rgb(pixels, channels, &mut self.scratch.luma);
        }
        Ok(())
    }

    fn hash_loaded(&mut self, width: usize, height: usize) -> PdqResult {
        if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
            return PdqResult {
                hash: Hash256::ZERO,
                quality: 0,
            };
        }
        let buf = downscale::downsample(height, width, true, &mut self.scratch);
        result_of(&buf)
    }

    fn dihedral_loaded(&mut self, width: usize, height: usize) -> DihedralResult {
        if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
            return DihedralResult {
                hashes: [Hash256::ZERO; 8],
                quality: 0,
            };
        }
        let buf = downscale::downsample(height, width, false, &mut self.scratch);
        dihedral_of(&buf)
    }
}

/// The hash and quality of a 64 × 64 buffer.
pub(crate) fn result_of(buf: &[f32; 4096]) -> PdqResult {
    PdqResult {
        hash: threshold(&dct16(buf)),
        quality: downscale::quality(buf),
    }
}

/// The dihedral hashes and quality of a 64 × 64 buffer.
pub(crate) fn dihedral_of(buf: &[f32; 4096]) -> DihedralResult {
    DihedralResult {
        hashes: dihedral_from_dct(&dct16(buf)),
        quality: downscale::quality(buf),
    }
}

/// The 8 variants from one DCT by sign flips and transposes, each re-thresholded.
fn dihedral_from_dct(a: &[f32; 256]) -> [Hash256; 8] {
    let odd = |n: usize| n % 2 == 1;
    let sign = |keep: bool, v: f32| if keep { v } else { -v };
    // Each closure gives B from A; `t` means the value lands at the transposed place.
    let variant = |transpose: bool, f: &dyn Fn(usize, usize, f32) -> f32| {
        let mut b = [0f32; 256];
        for i in 0..16 {
            for j in 0..16 {
                let v = f(i, j, a[i * 16 + j]);
                if transpose {
                    b[j * 16 + i] = v;
                } else {
                    b[i * 16 + j] = v;
                }
            }
        }
        threshold(&b)
    };
    [
        threshold(a),
        variant(true, &|_, j, v| sign(odd(j), v)),
        variant(false, &|i, j, v| sign(!odd(i + j), v)),
        variant(true, &|i, _, v| sign(odd(i), v)),
        variant(false, &|i, _, v| sign(odd(i), v)),
        variant(false, &|_, j, v| sign(odd(j), v)),
        variant(true, &|_, _, v| v),
        variant(true, &|i, j, v| sign(!odd(i + j), v)),
    ]
}

/// PDQ hash and quality of row-major RGB pixels (3 bytes each).
pub fn hash_rgb(width: usize, height: usize, rgb: &[u8]) -> Result<PdqResult, PdqError> {
    PdqHasher::new().hash_pixels(width, height, 3, rgb)
}

/// PDQ hash and quality of row-major RGBA pixels (alpha ignored, not composited).
pub fn hash_rgba(width: usize, height: usize, rgba: &[u8]) -> Result<PdqResult, PdqError> {
    PdqHasher::new().hash_pixels(width, height, 4, rgba)
}

/// PDQ hash and quality of row-major grey (luma) pixels, used as-is.
pub fn hash_luma(width: usize, height: usize, luma: &[u8]) -> Result<PdqResult, PdqError> {
    PdqHasher::new().hash_pixels(width, height, 1, luma)
}

/// The 8 dihedral hashes of row-major RGB pixels.
pub fn dihedral_rgb(width: usize, height: usize, rgb: &[u8]) -> Result<DihedralResult, PdqError> {
    PdqHasher::new().dihedral_pixels(width, height, 3, rgb)
}

/// The 8 dihedral hashes of row-major grey pixels.
pub fn dihedral_luma(width: usize, height: usize, luma: &[u8]) -> Result<DihedralResult, PdqError> {
    PdqHasher::new().dihedral_pixels(width, height, 1, luma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_rows_are_orthonormal_cosines() {
        let d = dct_matrix();
        for i in 0..16 {
            for j in 0..16 {
                let dot: f64 = (0..64)
                    .map(|k| f64::from(d[i * 64 + k]) * f64::from(d[j * 64 + k]))
                    .sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-5, "{i},{j}: {dot}");
            }
        }
    }

    #[test]
    fn median_is_the_128th_smallest() {
        let mut v = [0f32; 256];
        for (k, x) in v.iter_mut().enumerate() {
            *x = ((k * 97) % 256) as f32;
        }
        assert_eq!(median256(&v), 127.0);
        let h = threshold(&v);
        assert_eq!(h.count_ones(), 128);
    }

    #[test]
    fn tiny_images_hash_to_zero() {
        let px = vec![200u8; 4 * 9 * 3];
        let r = hash_rgb(4, 9, &px).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r,
            PdqResult {
                hash: Hash256::ZERO,
                quality: 0
            }
        );
        let d = dihedral_rgb(9, 4, &px).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.hashes, [Hash256::ZERO; 8]);
    }

    #[test]
    fn wrong_buffer_sizes_are_errors() {
        assert!(hash_rgb(10, 10, &[0; 299]).is_err());
        assert!(hash_rgb(usize::MAX, 3, &[]).is_err());
        assert!(hash_luma(10, 10, &[0; 100]).is_ok());
        assert!(PdqHasher::new().hash_pixels(2, 2, 2, &[0; 8]).is_err());
    }

    #[test]
    fn rgb_grey_and_rgba_agree_on_grey_pixels() {
        // For R=G=B=v the float luma is not exactly v, so compare RGB with RGBA only,
        // and grey with itself through the dihedral "orig" of a non-64 size.
        let (w, h) = (70, 45);
        let rgb: Vec<u8> = (0..w * h * 3)
            .map(|i| ((i * 31 + i / 7) % 251) as u8)
            .collect();
        let rgba: Vec<u8> = rgb.chunks(3).flat_map(|p| [p[0], p[1], p[2], 17]).collect();
        let a = hash_rgb(w, h, &rgb).unwrap_or_else(|e| panic!("{e}"));
        let b = hash_rgba(w, h, &rgba).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b);
        let d = dihedral_rgb(w, h, &rgb).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.hashes[0], a.hash);
        assert_eq!(d.quality, a.quality);
    }
}
