//! Untrusted evidence files, before anything of them is kept.
//!
//! - [`sniff`]: the type from the magic bytes only; executables, archives, markup (SVG,
//!   HTML, XML) and polyglots refused.
//! - [`inspect`]: limits on bytes, pixels and decoder memory checked from the headers, before
//!   any pixel is decoded; PDFs with active content refused.
//! - [`derive`]: what staff see and what is sent, never the original. Images are decoded
//!   once — giving their PDQ fingerprint — then re-encoded from pixels only, so no EXIF,
//!   GPS, XMP, IPTC block, ICC profile or embedded thumbnail survives: a clean copy (full
//!   size, upright), a display copy (at most 1600 px) and a blurred copy (for intimate
//!   images, shown by default). Videos get a clean copy with their metadata boxes emptied.
//!
//! Everything here is pure computation on bytes in memory: no file is written, no path is
//! built from a name.

mod mp4;
mod pdf;
mod sniff;
#[cfg(feature = "testing")]
pub mod testing;

pub use sniff::sniff;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ImageEncoder, RgbImage};

/// A type of file we keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// JPEG picture.
    Jpeg,
    /// PNG picture (screenshots).
    Png,
    /// WebP picture.
    Webp,
    /// GIF picture (the first frame is shown).
    Gif,
    /// PDF document without active content.
    Pdf,
    /// MP4, QuickTime or 3GP video.
    Mp4,
    /// Plain UTF-8 text (an exported conversation).
    Text,
}

impl FileType {
    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpeg",
            FileType::Png => "png",
            FileType::Webp => "webp",
            FileType::Gif => "gif",
            FileType::Pdf => "pdf",
            FileType::Mp4 => "mp4",
            FileType::Text => "text",
        }
    }

    /// The type from its code.
    pub fn from_code(code: &str) -> Option<FileType> {
        [
            FileType::Jpeg,
            FileType::Png,
            FileType::Webp,
            FileType::Gif,
            FileType::Pdf,
            FileType::Mp4,
            FileType::Text,
        ]
        .into_iter()
        .find(|t| t.code() == code)
    }

    /// The media type the original is served with (as an attachment only).
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Webp => "image/webp",
            FileType::Gif => "image/gif",
            FileType::Pdf => "application/pdf",
            FileType::Mp4 => "video/mp4",
            FileType::Text => "text/plain; charset=utf-8",
        }
    }

    /// The file name extension of the type (never the sender's).
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Webp => "webp",
            FileType::Gif => "gif",
            FileType::Pdf => "pdf",
            FileType::Mp4 => "mp4",
            FileType::Text => "txt",
        }
    }

    /// A picture, decoded and re-encoded for display.
    pub fn is_image(self) -> bool {
        matches!(
            self,
            FileType::Jpeg | FileType::Png | FileType::Webp | FileType::Gif
        )
    }
}

/// Why a file is refused. Each has a stable code, given back to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No bytes.
    #[error("empty file")]
    Empty,
    /// More bytes than the limit for its type.
    #[error("file too large")]
    TooLarge,
    /// More pixels, or a longer side, than the limits.
    #[error("too many pixels")]
    TooManyPixels,
    /// Not a type we keep.
    #[error("unknown file type")]
    UnknownType,
    /// Recognised but not kept (HEIF/AVIF still images: no decoder here).
    #[error("unsupported file type")]
    Unsupported,
    /// A program.
    #[error("executable")]
    Executable,
    /// An archive or compound document.
    #[error("archive")]
    Archive,
    /// SVG, HTML or XML.
    #[error("markup")]
    Markup,
    /// A file that is two things at once.
    #[error("polyglot file")]
    Polyglot,
    /// A PDF that acts (scripts, launch, embedded files…).
    #[error("PDF with active content")]
    PdfActiveContent,
    /// An encrypted PDF (its content cannot be checked).
    #[error("encrypted PDF")]
    PdfEncrypted,
    /// A PDF with a stream that cannot be looked into (a filter or predictor not decoded
    /// here, or data that does not inflate).
    #[error("PDF that cannot be checked")]
    PdfUnreadable,
    /// Compressed content beyond the inflation cap.
    #[error("decompression bomb")]
    Bomb,
    /// Truncated or malformed.
    #[error("damaged file")]
    Damaged,
    /// A known malware signature (the EICAR test file included).
    #[error("malware signature")]
    Malware,
}

impl Refusal {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Empty => "empty",
            Refusal::TooLarge => "too_large",
            Refusal::TooManyPixels => "too_many_pixels",
            Refusal::UnknownType => "unknown_type",
            Refusal::Unsupported => "unsupported_type",
            Refusal::Executable => "executable",
            Refusal::Archive => "archive",
            Refusal::Markup => "markup",
            Refusal::Polyglot => "polyglot",
            Refusal::PdfActiveContent => "pdf_active_content",
            Refusal::PdfEncrypted => "pdf_encrypted",
            Refusal::PdfUnreadable => "pdf_unreadable",
            Refusal::Bomb => "decompression_bomb",
            Refusal::Damaged => "damaged",
            Refusal::Malware => "malware",
        }
    }
}

/// Limits on what is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest picture, document or text, in bytes.
    pub max_bytes: usize,
    /// Largest video, in bytes.
    pub max_video_bytes: usize,
    /// Largest `width * height` of a picture.
    pub max_pixels: u64,
    /// Longest side of a picture.
    pub max_side: u32,
    /// Largest allocation a decoder may make, in bytes.
    pub max_alloc: u64,
    /// Largest total a PDF's compressed object streams may inflate to.
    pub max_inflated: usize,
}

impl Default for Limits {
    /// 25 MB files, 50 MB videos, 50 megapixels, 20,000 px sides, 1 GiB of decoder memory,
    /// 64 MiB of inflated PDF object streams.
    fn default() -> Self {
        Limits {
            max_bytes: 25_000_000,
            max_video_bytes: 50_000_000,
            max_pixels: 50_000_000,
            max_side: 20_000,
            max_alloc: 1 << 30,
            max_inflated: 64 << 20,
        }
    }
}

impl Limits {
    /// The largest file accepted at all (the upload's streaming limit).
    pub fn max_any(&self) -> usize {
        self.max_bytes.max(self.max_video_bytes)
    }

    fn pdq(&self) -> rempart_pdq::decode::Limits {
        rempart_pdq::decode::Limits {
            max_input_bytes: self.max_bytes,
            max_width: self.max_side,
            max_height: self.max_side,
            max_pixels: self.max_pixels,
            max_alloc: self.max_alloc,
        }
    }
}

/// What the headers tell, before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspected {
    /// The type.
    pub file_type: FileType,
    /// Width and height of a picture.
    pub size: Option<(u32, u32)>,
}

/// Decides the type and checks the limits and content rules that need no decoding.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<Inspected, Refusal> {
    if bytes.len() > limits.max_any() {
        return Err(Refusal::TooLarge);
    }
    let file_type = sniff(bytes)?;
    let max = if file_type == FileType::Mp4 {
        limits.max_video_bytes
    } else {
        limits.max_bytes
    };
    if bytes.len() > max {
        return Err(Refusal::TooLarge);
    }
    let mut size = None;
    match file_type {
        t if t.is_image() => {
            // a PNG's size is at a fixed place: checked before any decoder runs
            if t == FileType::Png && bytes.len() >= 24 && &bytes[12..16] == b"IHDR" {
                let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
                let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
                if w > limits.max_side
                    || h > limits.max_side
                    || u64::from(w) * u64::from(h) > limits.max_pixels
                {
                    return Err(Refusal::TooManyPixels);
                }
            }
            let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
                .with_guessed_format()
                .map_err(|_| Refusal::Damaged)?;
            let (w, h) = reader.into_dimensions().map_err(|e| match e {
                image::ImageError::Limits(_) => Refusal::TooManyPixels,
                _ => Refusal::Damaged,
            })?;
            if w == 0 || h == 0 {
                return Err(Refusal::Damaged);
            }
            if w > limits.max_side
                || h > limits.max_side
                || u64::from(w) * u64::from(h) > limits.max_pixels
                || !limits.pdq().accepts(w, h)
            {
                return Err(Refusal::TooManyPixels);
            }
            size = Some((w, h));
        }
        FileType::Pdf => pdf::check(bytes, limits.max_inflated)?,
        FileType::Mp4 => {
            mp4::clean(bytes)?;
        }
        _ => {}
    }
    Ok(Inspected { file_type, size })
}

/// The copies made of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The clean copy, for sending: a picture re-encoded at full size, a video with its
    /// metadata emptied; None for a PDF or a text (sent as they are).
    pub clean: Option<Vec<u8>>,
    /// The clean copy's type.
    pub clean_type: Option<FileType>,
    /// A JPEG of at most 1600 px, for the console (pictures only).
    pub display: Option<Vec<u8>>,
    /// A blurred JPEG of at most 480 px, shown by default for intimate images.
    pub blurred: Option<Vec<u8>>,
    /// The PDQ fingerprint of a picture: 64 hex digits and its quality.
    pub pdq: Option<(String, u8)>,
    /// The upright width and height of a picture.
    pub size: Option<(u32, u32)>,
}

const DISPLAY_SIDE: u32 = 1600;
const BLURRED_SIDE: u32 = 480;

fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|_| Refusal::Damaged)?;
    Ok(out)
}

fn png(img: &RgbImage) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Adaptive)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|_| Refusal::Damaged)?;
    Ok(out)
}

/// The size of `(w, h)` fitted within `side`.
fn fit_dims((w, h): (u32, u32), side: u32) -> (u32, u32) {
    if w <= side && h <= side {
        return (w, h);
    }
    let scale = f64::from(side) / f64::from(w.max(h));
    let nw = ((f64::from(w) * scale).round() as u32).max(1);
    let nh = ((f64::from(h) * scale).round() as u32).max(1);
    (nw, nh)
}

fn fit(img: &RgbImage, side: u32, filter: FilterType) -> RgbImage {
    let (nw, nh) = fit_dims(img.dimensions(), side);
    if (nw, nh) == img.dimensions() {
        return img.clone();
    }
    image::imageops::resize(img, nw, nh, filter)
}

/// Makes the copies of an inspected file (CPU-heavy for pictures: run it off the async
/// threads).
pub fn derive(bytes: &[u8], inspected: &Inspected, limits: &Limits) -> Result<Derived, Refusal> {
    match inspected.file_type {
        t if t.is_image() => {
            let decoded = rempart_pdq::decode::decode_file_bytes(bytes, &limits.pdq()).map_err(
                |e| match e {
                    rempart_pdq::decode::DecodeError::TooLarge { .. } => Refusal::TooManyPixels,
                    rempart_pdq::decode::DecodeError::InputTooLarge(_) => Refusal::TooLarge,
                    _ => Refusal::Damaged,
                },
            )?;
            let orientation = image::metadata::Orientation::from_exif(decoded.orientation);
            let (w, h) = (decoded.width, decoded.height);
            let raster = RgbImage::from_raw(w, h, decoded.rgb).ok_or(Refusal::Damaged)?;
            // PDQ on the stored pixels (as the reference tools), beside the upright copies:
            // the full-size clean copy on one core, the fingerprint and the small copies on
            // the other
            let pdq_of = |img: &RgbImage| {
                rempart_pdq::hash_rgb(w as usize, h as usize, img.as_raw())
                    .map(|r| (r.hash.to_string(), r.quality))
            };
            let mut upright = DynamicImage::ImageRgb8(raster);
            let pdq = match orientation {
                Some(o) if o != image::metadata::Orientation::NoTransforms => {
                    let p = upright.as_rgb8().and_then(|r| pdq_of(r).ok());
                    upright.apply_orientation(o);
                    p
                }
                _ => None,
            };
            let upright = upright.into_rgb8();
            let (clean, small) = std::thread::scope(|scope| {
                let clean = scope.spawn(|| {
                    if t == FileType::Jpeg {
                        jpeg(&upright, 92).map(|c| (c, FileType::Jpeg))
                    } else {
                        png(&upright).map(|c| (c, FileType::Png))
                    }
                });
                let small = (|| {
                    let pdq = match &pdq {
                        Some(p) => p.clone(),
                        // upright is the stored raster when nothing was turned
                        None => pdq_of(&upright).map_err(|_| Refusal::Damaged)?,
                    };
                    let shown = fit(&upright, DISPLAY_SIDE, FilterType::Triangle);
                    let display = jpeg(&shown, 85)?;
                    // a blur that cannot be undone: down to a few dozen pixels, then back up
                    let tiny = fit(&shown, 24, FilterType::Triangle);
                    let (sw, sh) = fit_dims(shown.dimensions(), BLURRED_SIDE);
                    let blurred = jpeg(
                        &image::imageops::resize(&tiny, sw, sh, FilterType::Triangle),
                        70,
                    )?;
                    Ok::<_, Refusal>((pdq, display, blurred))
                })();
                (clean.join().unwrap_or(Err(Refusal::Damaged)), small)
            });
            let (clean, clean_type) = clean?;
            let (pdq, display, blurred) = small?;
            Ok(Derived {
                clean: Some(clean),
                clean_type: Some(clean_type),
                display: Some(display),
                blurred: Some(blurred),
                pdq: Some(pdq),
                size: Some(upright.dimensions()),
            })
        }
        FileType::Mp4 => Ok(Derived {
            clean: Some(mp4::clean(bytes)?),
            clean_type: Some(FileType::Mp4),
            display: None,
            blurred: None,
            pdq: None,
            size: None,
        }),
        _ => Ok(Derived {
            clean: None,
            clean_type: None,
            display: None,
            blurred: None,
            pdq: None,
            size: None,
        }),
    }
}
