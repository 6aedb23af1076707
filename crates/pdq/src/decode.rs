//! Safe decoding of untrusted image files to 8-bit RGB, with Rempart's pixel policy.
//!
//! Formats: PNG (via [`crate::png_decode`], shared with the browser build), JPEG, WebP,
//! GIF (first frame). Anything else is refused. Limits are
//! checked on the header before any pixel is decoded, and the decoder's own allocation
//! limit is set too. Pixel policy (see `docs/pdq.md`), chosen to give the same pixels as
//! Pillow's `Image.convert("RGB")`, which is what the reference hashes were computed on:
//!
//! * alpha is dropped, never composited (RGBA, grey+alpha, transparent palettes, GIF);
//! * palettes and 1/2/4-bit grey are expanded to RGB;
//! * CMYK JPEGs are converted to RGB by the JPEG decoder;
//! * 16-bit grey (Pillow mode `I;16`) is clipped to 255 like Pillow (`min(v, 255)`),
//!   16-bit colour and 16-bit grey+alpha keep the high byte like Pillow's `;16B` modes;
//! * EXIF orientation is *not* applied: the stored pixels are hashed (as the C++ CLI and
//!   python-threatexchange/HMA do); it is reported in [`DecodedImage::orientation`].

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

pub use crate::png_decode::Limits;

/// Why a file could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file is larger than [`Limits::max_input_bytes`].
    #[error("file of {0} bytes exceeds the input limit")]
    InputTooLarge(usize),
    /// Not PNG, JPEG, WebP or GIF.
    #[error("unsupported or unrecognised image format")]
    UnsupportedFormat,
    /// Header dimensions beyond the limits.
    #[error("image of {width}x{height} pixels exceeds the limits")]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// A zero width or height.
    #[error("image has no pixels")]
    Empty,
    /// Malformed, truncated or over-allocating input, as reported by the decoder.
    #[error("cannot decode image: {0}")]
    Decoder(#[from] image::ImageError),
    /// Malformed, truncated or over-allocating PNG.
    #[error(transparent)]
    Png(crate::png_decode::PngError),
}

/// The container format of a decoded file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    WebP,
    /// GIF (first frame).
    Gif,
}

/// An 8-bit RGB raster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row-major R, G, B bytes (`width * height * 3`).
    pub rgb: Vec<u8>,
    /// Container format.
    pub format: Format,
    /// EXIF orientation tag (1..=8; 1 when absent). Reported only, not applied to `rgb`.
    pub orientation: u8,
}

impl DecodedImage {
    /// PDQ hash of the pixels.
    pub fn pdq(&self) -> crate::PdqResult {
        let (w, h) = (self.width as usize, self.height as usize);
        // The buffer was built as w*h*3 bytes, so the size check cannot fail; fall back
        // to the zero hash rather than panicking if it ever did.
        crate::hash_rgb(w, h, &self.rgb).unwrap_or(crate::PdqResult {
            hash: crate::Hash256::ZERO,
            quality: 0,
        })
    }

    /// The 8 dihedral PDQ hashes of the pixels.
    pub fn pdq_dihedral(&self) -> crate::DihedralResult {
        let (w, h) = (self.width as usize, self.height as usize);
        crate::dihedral_rgb(w, h, &self.rgb).unwrap_or(crate::DihedralResult {
            hashes: [crate::Hash256::ZERO; 8],
            quality: 0,
        })
    }
}

fn format_of(bytes: &[u8]) -> Result<(ImageFormat, Format), DecodeError> {
    match image::guess_format(bytes) {
        Ok(ImageFormat::Png) => Ok((ImageFormat::Png, Format::Png)),
        Ok(ImageFormat::Jpeg) => Ok((ImageFormat::Jpeg, Format::Jpeg)),
        Ok(ImageFormat::WebP) => Ok((ImageFormat::WebP, Format::WebP)),
        Ok(ImageFormat::Gif) => Ok((ImageFormat::Gif, Format::Gif)),
        _ => Err(DecodeError::UnsupportedFormat),
    }
}

fn decoder_limits(limits: &Limits) -> image::Limits {
    // Dimensions are checked by us on the header (to report them); the decoder keeps
    // the allocation limit.
    let mut l = image::Limits::default();
    l.max_image_width = None;
    l.max_image_height = None;
    l.max_alloc = Some(limits.max_alloc);
    l
}

/// Decodes a whole file held in memory to 8-bit RGB under `limits`.
pub fn decode_file_bytes(bytes: &[u8], limits: &Limits) -> Result<DecodedImage, DecodeError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(DecodeError::InputTooLarge(bytes.len()));
    }
    let (image_format, format) = format_of(bytes)?;
    if format == Format::Png {
        // Same code path as the browser build (exact same pixels).
        return match crate::png_decode::decode_png(bytes, limits) {
            Ok((width, height, rgb)) if width > 0 && height > 0 => Ok(DecodedImage {
                width,
                height,
                rgb,
                format,
                orientation: 1,
            }),
            Ok(_) => Err(DecodeError::Empty),
            Err(crate::png_decode::PngError::TooLarge { width, height }) => {
                Err(DecodeError::TooLarge { width, height })
            }
            Err(e) => Err(DecodeError::Png(e)),
        };
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(decoder_limits(limits));
    let mut decoder = reader.into_decoder()?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(DecodeError::Empty);
    }
    if !limits.accepts(width, height) {
        return Err(DecodeError::TooLarge { width, height });
    }
    let orientation = decoder.orientation().map(|o| o.to_exif()).unwrap_or(1);
    let image = DynamicImage::from_decoder(decoder)?;
    let rgb = to_rgb_policy(image);
    Ok(DecodedImage {
        width,
        height,
        rgb,
        format,
        orientation,
    })
}

/// Applies the pixel policy to a decoded raster.
pub fn to_rgb_policy(image: DynamicImage) -> Vec<u8> {
    let high = |v: u16| (v >> 8) as u8;
    match image {
        DynamicImage::ImageRgb8(b) => b.into_raw(),
        DynamicImage::ImageRgba8(b) => b.pixels().flat_map(|p| [p.0[0], p.0[1], p.0[2]]).collect(),
        DynamicImage::ImageLuma8(b) => b.pixels().flat_map(|p| [p.0[0]; 3]).collect(),
        DynamicImage::ImageLumaA8(b) => b.pixels().flat_map(|p| [p.0[0]; 3]).collect(),
        // Pillow `I;16` -> `RGB` clips (it does not scale): min(v, 255).
        DynamicImage::ImageLuma16(b) => b
            .pixels()
            .flat_map(|p| [p.0[0].min(255) as u8; 3])
            .collect(),
        DynamicImage::ImageLumaA16(b) => b.pixels().flat_map(|p| [high(p.0[0]); 3]).collect(),
        DynamicImage::ImageRgb16(b) => b.pixels().flat_map(|p| p.0.map(high)).collect(),
        DynamicImage::ImageRgba16(b) => b
            .pixels()
            .flat_map(|p| [high(p.0[0]), high(p.0[1]), high(p.0[2])])
            .collect(),
        other => other.to_rgb8().into_raw(),
    }
}
