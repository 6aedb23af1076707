//! Derivatives carry no metadata: a corpus of phone-like photos, made here, each carrying
//! EXIF with GPS coordinates, an embedded thumbnail, XMP, IPTC and comments (PNG: eXIf,
//! iTXt, tEXt, zTXt), goes through `inspect` and `derive`; every copy made is walked segment
//! by segment and chunk by chunk, and must hold 0 bytes of metadata.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rempart_media::testing::*;
use rempart_media::{FileType, Limits, Refusal, derive, inspect};

#[test]
fn no_derivative_of_the_gps_corpus_holds_a_metadata_byte() {
    let limits = Limits::default();
    let mut corpus = Vec::new();
    for (i, (w, h, o)) in [
        (640, 480, 1),
        (480, 640, 1),
        (800, 600, 6),
        (1200, 900, 3),
        (1700, 1275, 8),
        (300, 200, 1),
    ]
    .into_iter()
    .enumerate()
    {
        corpus.push(("jpeg", phone_jpeg(w, h, i as u32, o), (w, h, o)));
    }
    for (i, (w, h)) in [(1080, 720), (360, 780), (1800, 1000)]
        .into_iter()
        .enumerate()
    {
        corpus.push(("png", phone_png(w, h, 100 + i as u32), (w, h, 1)));
    }
    let mut copies = 0;
    let mut total_meta = 0;
    let mut source_meta = 0;
    for (name, file, (w, h, o)) in &corpus {
        source_meta += if *name == "jpeg" {
            jpeg_metadata_bytes(file)
        } else {
            png_metadata_bytes(file)
        };
        let inspected = inspect(file, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(inspected.size, Some((*w, *h)));
        let d = derive(file, &inspected, &limits).expect("derive");
        // upright: orientations 6 and 8 swap the sides
        let upright = if matches!(o, 5..=8) {
            (*h, *w)
        } else {
            (*w, *h)
        };
        assert_eq!(d.size, Some(upright), "{name} {w}x{h} orientation {o}");
        assert_eq!(
            d.clean_type,
            Some(if *name == "jpeg" {
                FileType::Jpeg
            } else {
                FileType::Png
            })
        );
        let (hex, quality) = d.pdq.clone().expect("pdq");
        assert_eq!(hex.len(), 64);
        assert!(quality > 0);
        for copy in [d.clean.as_ref(), d.display.as_ref(), d.blurred.as_ref()] {
            let copy = copy.expect("every copy of a picture");
            total_meta += metadata_bytes(copy);
            copies += 1;
        }
        // the display copy fits 1600 px, the blurred one 480 px
        let shown = image::load_from_memory(d.display.as_ref().expect("display")).expect("decodes");
        assert!(shown.width().max(shown.height()) <= 1600);
        let blurred =
            image::load_from_memory(d.blurred.as_ref().expect("blurred")).expect("decodes");
        assert!(blurred.width().max(blurred.height()) <= 480);
    }
    assert!(
        source_meta > 9 * 300,
        "the corpus carries metadata: {source_meta} bytes"
    );
    assert_eq!(copies, 27);
    assert_eq!(total_meta, 0, "metadata bytes in derivatives");
}

#[test]
fn declared_sizes_beyond_the_limits_are_refused_before_decoding() {
    let limits = Limits::default();
    // a PNG header declaring 30,000 x 30,000 pixels, no data
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 30_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IEND", b""));
    assert_eq!(inspect(&png, &limits), Err(Refusal::TooManyPixels));
    // 10,000 x 6,000 (60 MP) within the side limit but beyond the pixel limit
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 10_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&6_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IEND", b""));
    assert_eq!(inspect(&png, &limits), Err(Refusal::TooManyPixels));
    // a JPEG whose frame header declares 65,000 x 65,000
    let mut jpeg = encode_jpeg(&picture(16, 16, 1));
    let sof = jpeg
        .windows(2)
        .position(|w| w == b"\xff\xc0")
        .expect("SOF0");
    jpeg[sof + 5..sof + 7].copy_from_slice(&65_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&65_000u16.to_be_bytes());
    assert_eq!(inspect(&jpeg, &limits), Err(Refusal::TooManyPixels));
    // more bytes than allowed
    let small = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    assert_eq!(
        inspect(&phone_jpeg(200, 200, 1, 1), &small),
        Err(Refusal::TooLarge)
    );
}

#[test]
fn a_truncated_picture_is_damaged_not_a_crash() {
    let limits = Limits::default();
    let png = phone_png(400, 300, 3);
    let jpeg = phone_jpeg(400, 300, 3, 1);
    let sos = jpeg.windows(2).position(|w| w == b"\xff\xda").expect("SOS");
    for cut in [
        &png[..png.len() / 3],
        &png[..40],
        &jpeg[..sos + 4],
        &jpeg[..jpeg.len() / 3][..300],
    ] {
        let r = inspect(cut, &limits).and_then(|i| derive(cut, &i, &limits).map(|_| ()));
        assert_eq!(r, Err(Refusal::Damaged), "{} bytes", cut.len());
    }
}
