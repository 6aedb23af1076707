//! Item 3 and the pixel policy: safe decoding under limits, and which pixels get hashed.
// Integration-test crate: panicking on a broken fixture is the point.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "decode")]

mod common;

use image::{DynamicImage, ImageBuffer, ImageEncoder, Rgb, Rgba};
use proptest::prelude::*;
use rempart_pdq::decode::{DecodeError, Format, Limits, decode_file_bytes};

/// CRC-32 (IEEE) for patching PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_bytes(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    setup: impl FnOnce(&mut png::Encoder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(color);
        enc.set_depth(depth);
        setup(&mut enc);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(data).unwrap();
    }
    out
}

fn decode(bytes: &[u8]) -> rempart_pdq::decode::DecodedImage {
    decode_file_bytes(bytes, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn sample_rgb_png() -> Vec<u8> {
    let data: Vec<u8> = (0..16 * 12 * 3).map(|i| (i * 37 % 256) as u8).collect();
    png_bytes(
        16,
        12,
        png::ColorType::Rgb,
        png::BitDepth::Eight,
        &data,
        |_| {},
    )
}

#[test]
fn pixel_flood_png_is_refused_before_decoding() {
    let mut bytes = sample_rgb_png();
    // IHDR data starts at 16: width, height (big-endian); its CRC covers type + data.
    bytes[16..20].copy_from_slice(&65535u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&65535u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    match decode_file_bytes(&bytes, &Limits::default()) {
        Err(DecodeError::TooLarge {
            width: 65535,
            height: 65535,
        }) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // Within side limits but over the pixel budget.
    let limits = Limits {
        max_pixels: 100,
        ..Limits::default()
    };
    assert!(matches!(
        decode_file_bytes(&sample_rgb_png(), &limits),
        Err(DecodeError::TooLarge { .. })
    ));
    let limits = Limits {
        max_alloc: 1000,
        ..Limits::default()
    };
    assert!(decode_file_bytes(&sample_rgb_png(), &limits).is_err());
}

#[test]
fn empty_unknown_and_oversized_inputs_are_errors() {
    assert!(matches!(
        decode_file_bytes(&[], &Limits::default()),
        Err(DecodeError::UnsupportedFormat)
    ));
    assert!(matches!(
        decode_file_bytes(&[0; 64], &Limits::default()),
        Err(DecodeError::UnsupportedFormat)
    ));
    assert!(matches!(
        decode_file_bytes(b"BM\0\0\0\0", &Limits::default()),
        Err(DecodeError::UnsupportedFormat)
    ));
    let limits = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        decode_file_bytes(&sample_rgb_png(), &limits),
        Err(DecodeError::InputTooLarge(_))
    ));
}

#[test]
fn truncated_files_fail_cleanly() {
    let mut files = vec![sample_rgb_png()];
    if let Some(dir) = common::testdata() {
        for f in [
            "synthetic/noise_131x257.png",
            "data/misc-images/wee.jpg",
            "data/misc-images/modes/F.webp",
        ] {
            files.push(std::fs::read(dir.join(f)).unwrap());
        }
    }
    for bytes in files {
        assert!(decode_file_bytes(&bytes, &Limits::default()).is_ok());
        for cut in [0, 1, 8, 20, 33, 50, bytes.len() / 2, bytes.len() - 1] {
            // Must not panic; a PNG cut before its IEND chunk must be an error.
            let r = decode_file_bytes(&bytes[..cut], &Limits::default());
            if bytes.starts_with(b"\x89PNG") && cut < bytes.len() - 12 {
                assert!(r.is_err(), "cut at {cut}");
            }
        }
    }
}

#[test]
fn alpha_is_dropped_not_composited() {
    let data: Vec<u8> = (0..8 * 8)
        .flat_map(|i| [i as u8 * 3, 200, 7, (i % 2 * 255) as u8])
        .collect();
    let img = decode(&png_bytes(
        8,
        8,
        png::ColorType::Rgba,
        png::BitDepth::Eight,
        &data,
        |_| {},
    ));
    let want: Vec<u8> = data.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    assert_eq!(img.rgb, want);
    // grey + alpha
    let data: Vec<u8> = (0..8 * 8).flat_map(|i| [i as u8 * 2, 0]).collect();
    let img = decode(&png_bytes(
        8,
        8,
        png::ColorType::GrayscaleAlpha,
        png::BitDepth::Eight,
        &data,
        |_| {},
    ));
    assert_eq!(
        img.rgb,
        (0..64).flat_map(|i| [i as u8 * 2; 3]).collect::<Vec<u8>>()
    );
}

#[test]
fn palettes_and_low_bit_grey_are_expanded() {
    let palette = vec![10, 20, 30, 200, 100, 50, 0, 255, 0];
    let indices: Vec<u8> = (0..6 * 4).map(|i| (i % 3) as u8).collect();
    let bytes = png_bytes(
        6,
        4,
        png::ColorType::Indexed,
        png::BitDepth::Eight,
        &indices,
        |e| {
            e.set_palette(palette.clone());
            e.set_trns(vec![255, 0, 128]); // transparency is dropped too
        },
    );
    let img = decode(&bytes);
    let want: Vec<u8> = indices
        .iter()
        .flat_map(|&i| palette[3 * i as usize..3 * i as usize + 3].to_vec())
        .collect();
    assert_eq!(img.rgb, want);
    // 1-bit grey: 0 -> 0, 1 -> 255 (8 pixels per byte)
    let img = decode(&png_bytes(
        8,
        2,
        png::ColorType::Grayscale,
        png::BitDepth::One,
        &[0b1010_0000, 0b0000_0001],
        |_| {},
    ));
    let bits = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(
        img.rgb,
        bits.iter()
            .flat_map(|&b| [b * 255u8; 3])
            .collect::<Vec<u8>>()
    );
}

#[test]
fn sixteen_bit_grey_is_clipped_like_pillow_and_colour_keeps_the_high_byte() {
    let values: [u16; 6] = [0, 100, 255, 256, 300, 65535];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    let img = decode(&png_bytes(
        6,
        1,
        png::ColorType::Grayscale,
        png::BitDepth::Sixteen,
        &data,
        |_| {},
    ));
    assert_eq!(
        img.rgb,
        [0, 100, 255, 255, 255, 255]
            .iter()
            .flat_map(|&v| [v; 3])
            .collect::<Vec<u8>>()
    );
    let data: Vec<u8> = [0x1234u16, 0xff00, 0x00ff]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let img = decode(&png_bytes(
        1,
        1,
        png::ColorType::Rgb,
        png::BitDepth::Sixteen,
        &data,
        |_| {},
    ));
    assert_eq!(img.rgb, vec![0x12, 0xff, 0x00]);
}

/// A JPEG of `img` with an EXIF APP1 segment declaring `orientation` spliced after SOI.
fn jpeg_with_orientation(img: &DynamicImage, orientation: Option<u16>) -> Vec<u8> {
    let mut jpeg = Vec::new();
    let rgb = img.to_rgb8();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .write_image(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let Some(o) = orientation else { return jpeg };
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec(); // big-endian TIFF, IFD at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]); // Orientation, SHORT, count 1
    tiff.extend_from_slice(&o.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // value padding, next IFD = 0
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_is_reported_but_not_applied() {
    let img = DynamicImage::ImageRgb8(ImageBuffer::from_fn(40, 24, |x, y| {
        Rgb([(x * 6) as u8, (y * 10) as u8, 90])
    }));
    let plain = decode(&jpeg_with_orientation(&img, None));
    let rotated = decode(&jpeg_with_orientation(&img, Some(6)));
    assert_eq!(plain.orientation, 1);
    assert_eq!(rotated.orientation, 6);
    assert_eq!((rotated.width, rotated.height), (40, 24));
    assert_eq!(rotated.rgb, plain.rgb);
    assert_eq!(rotated.pdq(), plain.pdq());
    assert_eq!(rotated.format, Format::Jpeg);
}

#[test]
fn gif_hashes_the_first_frame() {
    use image::codecs::gif::GifEncoder;
    let frame = |v: u8| {
        let buf = ImageBuffer::from_fn(20, 20, |x, y| {
            Rgba([v, (x * 12) as u8, (y * 12) as u8, 255])
        });
        image::Frame::new(buf)
    };
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut bytes);
        enc.encode_frames([frame(0), frame(250)]).unwrap();
    }
    let img = decode(&bytes);
    assert_eq!(img.format, Format::Gif);
    assert_eq!((img.width, img.height), (20, 20));
    // GIF quantises colours; the red channel of every pixel says which frame we got.
    assert!(img.rgb.chunks(3).all(|p| p[0] < 40), "not the first frame");
}

fn seeds() -> Vec<Vec<u8>> {
    let mut out = vec![sample_rgb_png()];
    let img = DynamicImage::ImageRgb8(ImageBuffer::from_fn(9, 7, |x, y| {
        Rgb([(x * 20) as u8, (y * 30) as u8, 5])
    }));
    out.push(jpeg_with_orientation(&img, Some(3)));
    let mut webp = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut webp),
        image::ImageFormat::WebP,
    )
    .unwrap();
    out.push(webp);
    let mut gif = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut gif), image::ImageFormat::Gif)
        .unwrap();
    out.push(gif);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Same entry point as the fuzz target: mutated real files never panic, and
    /// whatever decodes respects the limits.
    #[test]
    fn mutated_files_never_panic(which in 0usize..4, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..12), cut in any::<usize>()) {
        let mut bytes = seeds()[which].clone();
        for (pos, v) in edits {
            let n = bytes.len();
            bytes[pos % n] = v;
        }
        let keep = bytes.len() - cut % (bytes.len() / 4 + 1);
        bytes.truncate(keep);
        let limits = Limits { max_pixels: 4096, max_alloc: 1 << 22, ..Limits::default() };
        if let Ok(img) = decode_file_bytes(&bytes, &limits) {
            prop_assert!(u64::from(img.width) * u64::from(img.height) <= 4096);
            prop_assert_eq!(img.rgb.len(), img.width as usize * img.height as usize * 3);
            let _ = img.pdq();
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), magic in 0usize..5) {
        let prefixes: [&[u8]; 5] = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBPVP8 ", b"GIF89a"];
        let mut input = prefixes[magic].to_vec();
        input.extend_from_slice(&bytes);
        let _ = decode_file_bytes(&input, &Limits { max_pixels: 4096, max_alloc: 1 << 22, ..Limits::default() });
    }
}
