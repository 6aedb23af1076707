//! PNG decoding straight through the `png` crate, with Rempart's pixel policy.
//!
//! Used by the server ([`crate::decode`]) *and* by the browser build, so that a PNG
//! hashed in the victim's browser gets exactly the server's pixels: browsers' canvas
//! reduces 16-bit grey by scaling and premultiplies alpha, which changes the hash (see
//! `docs/pdq.md`). Policy: palettes, low-bit grey and tRNS expanded; alpha dropped;
//! 16-bit grey clipped to 255 (Pillow `I;16` -> `RGB`); other 16-bit samples keep
//! their high byte (Pillow `;16B` modes).

use std::io::Cursor;

use png::{BitDepth, ColorType, Transformations};

/// Size and allocation limits shared by the decoders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_input_bytes: usize,
    /// Largest accepted width, in pixels.
    pub max_width: u32,
    /// Largest accepted height, in pixels.
    pub max_height: u32,
    /// Largest accepted `width * height`.
    pub max_pixels: u64,
    /// Largest allocation the decoder may make, in bytes.
    pub max_alloc: u64,
}

impl Default for Limits {
    /// 64 MiB files, 20,000 px sides, 50 megapixels, 512 MiB of decoder allocations.
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 << 20,
            max_width: 20_000,
            max_height: 20_000,
            max_pixels: 50_000_000,
            max_alloc: 512 << 20,
        }
    }
}

impl Limits {
    /// Whether a `width x height` image is acceptable (sides, pixels, and the RGB output
    /// plus PDQ's two float buffers, 11 bytes per pixel, within the allocation limit).
    pub fn accepts(&self, width: u32, height: u32) -> bool {
        let pixels = u64::from(width) * u64::from(height);
        width <= self.max_width
            && height <= self.max_height
            && pixels <= self.max_pixels
            && pixels.saturating_mul(11) <= self.max_alloc
    }
}

/// Why a PNG could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    /// Over [`Limits::max_input_bytes`].
    #[error("file of {0} bytes exceeds the input limit")]
    InputTooLarge(usize),
    /// Header dimensions beyond the limits.
    #[error("image of {width}x{height} pixels exceeds the limits")]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// Malformed, truncated or over-allocating input.
    #[error("cannot decode PNG: {0}")]
    Decoder(#[from] png::DecodingError),
    /// A sample layout the policy does not cover (not produced with EXPAND).
    #[error("unsupported PNG sample layout")]
    Layout,
}

/// Whether the bytes start with the PNG signature.
pub fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

/// Decodes a PNG (first image) to `(width, height, rgb)`.
pub fn decode_png(bytes: &[u8], limits: &Limits) -> Result<(u32, u32, Vec<u8>), PngError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(PngError::InputTooLarge(bytes.len()));
    }
    let alloc = usize::try_from(limits.max_alloc).unwrap_or(usize::MAX);
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: alloc });
    decoder.set_transformations(Transformations::EXPAND);
    let mut reader = decoder.read_info()?;
    let (width, height) = (reader.info().width, reader.info().height);
    if !limits.accepts(width, height) {
        return Err(PngError::TooLarge { width, height });
    }
    let size = reader.output_buffer_size().ok_or(PngError::Layout)?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(size)
        .map_err(|_| PngError::TooLarge { width, height })?;
    buf.resize(size, 0);
    let frame = reader.next_frame(&mut buf)?;
    let (color, depth) = (frame.color_type, frame.bit_depth);
    let line = frame.line_size;
    let w = width as usize;
    let mut rgb = Vec::with_capacity(w * height as usize * 3);
    for row in buf.chunks_exact(line).take(height as usize) {
        policy_row(row, w, color, depth, &mut rgb)?;
    }
    Ok((width, height, rgb))
}

/// Decodes a non-interlaced PNG row by row: `start(width, height)` once the header is
/// read and checked gives the sink, then `row(sink, rgb)` for every row, in order — the
/// same pixels as [`decode_png`], a row at a time, so the image is never held whole.
/// `Ok(None)` (and no call) for an interlaced PNG, whose rows only exist once every pass
/// is read: decode it with [`decode_png`].
pub fn decode_png_rows<S, E: From<PngError>>(
    bytes: &[u8],
    limits: &Limits,
    start: impl FnOnce(u32, u32) -> Result<S, E>,
    mut row: impl FnMut(&mut S, &[u8]) -> Result<(), E>,
) -> Result<Option<S>, E> {
    if bytes.len() > limits.max_input_bytes {
        return Err(PngError::InputTooLarge(bytes.len()).into());
    }
    let alloc = usize::try_from(limits.max_alloc).unwrap_or(usize::MAX);
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: alloc });
    decoder.set_transformations(Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(PngError::from)?;
    if reader.info().interlaced {
        return Ok(None);
    }
    let (width, height) = (reader.info().width, reader.info().height);
    if !limits.accepts(width, height) {
        return Err(PngError::TooLarge { width, height }.into());
    }
    let mut sink = start(width, height)?;
    let (color, depth) = reader.output_color_type();
    let w = width as usize;
    let mut rgb = Vec::with_capacity(w * 3);
    for _ in 0..height {
        let r = reader
            .next_row()
            .map_err(PngError::from)?
            .ok_or(PngError::Layout)?;
        rgb.clear();
        policy_row(r.data(), w, color, depth, &mut rgb)?;
        row(&mut sink, &rgb)?;
    }
    // the rest of the image data is read and checked, as the whole decode does: a damaged
    // file is refused here as it is on the server
    if reader.next_row().map_err(PngError::from)?.is_some() {
        return Err(PngError::Layout.into());
    }
    Ok(Some(sink))
}

/// Appends one decoded row as RGB under the pixel policy.
fn policy_row(
    row: &[u8],
    w: usize,
    color: ColorType,
    depth: BitDepth,
    rgb: &mut Vec<u8>,
) -> Result<(), PngError> {
    let sample16 = |px: &[u8], k: usize| u16::from_be_bytes([px[2 * k], px[2 * k + 1]]);
    match (color, depth) {
        (ColorType::Grayscale, BitDepth::Eight) => {
            row[..w].iter().for_each(|&v| rgb.extend([v; 3]))
        }
        (ColorType::GrayscaleAlpha, BitDepth::Eight) => row
            .chunks_exact(2)
            .take(w)
            .for_each(|p| rgb.extend([p[0]; 3])),
        (ColorType::Rgb, BitDepth::Eight) => rgb.extend_from_slice(&row[..3 * w]),
        (ColorType::Rgba, BitDepth::Eight) => row
            .chunks_exact(4)
            .take(w)
            .for_each(|p| rgb.extend(&p[..3])),
        (ColorType::Grayscale, BitDepth::Sixteen) => row
            .chunks_exact(2)
            .take(w)
            .for_each(|p| rgb.extend([sample16(p, 0).min(255) as u8; 3])),
        (ColorType::GrayscaleAlpha, BitDepth::Sixteen) => row
            .chunks_exact(4)
            .take(w)
            .for_each(|p| rgb.extend([p[0]; 3])),
        (ColorType::Rgb, BitDepth::Sixteen) => row
            .chunks_exact(6)
            .take(w)
            .for_each(|p| rgb.extend([p[0], p[2], p[4]])),
        (ColorType::Rgba, BitDepth::Sixteen) => row
            .chunks_exact(8)
            .take(w)
            .for_each(|p| rgb.extend([p[0], p[2], p[4]])),
        _ => return Err(PngError::Layout),
    }
    Ok(())
}
