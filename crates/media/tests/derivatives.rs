//! Derivatives carry no metadata: a corpus of phone-like photos, made here, each carrying
//! EXIF with GPS coordinates, an embedded thumbnail, XMP, IPTC and comments (PNG: eXIf,
//! iTXt, tEXt, zTXt), goes through `inspect` and `derive`; every copy made is walked segment
//! by segment and chunk by chunk, and must hold 0 bytes of metadata.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, RgbImage};
use rempart_media::{FileType, Limits, Refusal, derive, inspect};

fn picture(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = x.wrapping_mul(31) ^ y.wrapping_mul(17) ^ seed;
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, (v % 251) as u8])
    })
}

fn encode_jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("jpeg");
    out
}

fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("png");
    out
}

/// A little-endian TIFF block: IFD0 (make, model, orientation, GPS pointer), the GPS IFD
/// (latitude and longitude of the Eiffel tower) and IFD1 with an embedded JPEG thumbnail.
fn exif(orientation: u16, thumbnail: &[u8]) -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    // layout: header 8 | IFD0 at 8 (5 entries) | GPS IFD | IFD1 | data
    let ifd0 = 8u32;
    let ifd0_len = 2 + 5 * 12 + 4;
    let gps = ifd0 + ifd0_len;
    let gps_len = 2 + 4 * 12 + 4;
    let ifd1 = gps + gps_len;
    let ifd1_len = 2 + 2 * 12 + 4;
    let data = ifd1 + ifd1_len;
    let make = b"RempartPhone\0";
    let model = b"RP-12 GPS\0\0\0";
    let lat = data + (make.len() + model.len()) as u32;
    let lon = lat + 24;
    let thumb = lon + 24;
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&ifd0.to_le_bytes());
    t.extend_from_slice(&5u16.to_le_bytes());
    entry(&mut t, 0x010f, 2, make.len() as u32, data);
    entry(
        &mut t,
        0x0110,
        2,
        model.len() as u32,
        data + make.len() as u32,
    );
    entry(&mut t, 0x0112, 3, 1, u32::from(orientation));
    entry(&mut t, 0x0131, 2, 4, u32::from_le_bytes(*b"RP1\0"));
    entry(&mut t, 0x8825, 4, 1, gps);
    t.extend_from_slice(&ifd1.to_le_bytes());
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut t, 0x0002, 5, 3, lat);
    entry(&mut t, 0x0003, 2, 2, u32::from_le_bytes(*b"E\0\0\0"));
    entry(&mut t, 0x0004, 5, 3, lon);
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0201, 4, 1, thumb);
    entry(&mut t, 0x0202, 4, 1, thumbnail.len() as u32);
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, data);
    t.extend_from_slice(make);
    t.extend_from_slice(model);
    for (n, d) in [
        (48u32, 1u32),
        (51, 1),
        (2958, 100),
        (2, 1),
        (17, 1),
        (4044, 100),
    ] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    t.extend_from_slice(thumbnail);
    t
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xff, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

const XMP: &str = "http://ns.adobe.com/xap/1.0/\0<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description xmlns:exif='http://ns.adobe.com/exif/1.0/' exif:GPSLatitude='48,51.493N' exif:GPSLongitude='2,17.674E'/></rdf:RDF></x:xmpmeta><?xpacket end='w'?>";

/// A phone photo: the JPEG with APP1 EXIF (GPS, thumbnail), APP1 XMP, APP13 IPTC and a
/// comment inserted after its start marker.
fn phone_jpeg(w: u32, h: u32, seed: u32, orientation: u16) -> Vec<u8> {
    let thumbnail = encode_jpeg(&picture(32, 24, seed + 1));
    let jpeg = encode_jpeg(&picture(w, h, seed));
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif(orientation, &thumbnail));
    let mut iptc = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    let record = b"\x1c\x02\x5a\0\x05Paris\x1c\x02\x78\0\x0bGPS caption";
    iptc.extend_from_slice(&(record.len() as u32).to_be_bytes());
    iptc.extend_from_slice(record);
    let mut out = jpeg[..2].to_vec();
    out.extend(segment(0xe1, &app1));
    out.extend(segment(0xe1, XMP.as_bytes()));
    out.extend(segment(0xed, &iptc));
    out.extend(segment(0xfe, b"GPS 48.8584 N 2.2945 E"));
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = (body.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(body);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(body);
    c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    c
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
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

/// A screenshot: the PNG with eXIf (GPS), iTXt XMP, tEXt and zTXt after its header.
fn phone_png(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let png = encode_png(&picture(w, h, seed));
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    out.extend(chunk(b"eXIf", &exif(1, b"")));
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(&XMP.as_bytes()[29..]);
    out.extend(chunk(b"iTXt", &itxt));
    out.extend(chunk(b"tEXt", b"Comment\0GPS 48.8584 N 2.2945 E"));
    out.extend(chunk(b"zTXt", b"Location\0\0x\x9c\x03\0\0\0\0\x01"));
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

/// Bytes of metadata in a JPEG: every APPn segment but a bare JFIF APP0, and comments.
fn jpeg_metadata_bytes(j: &[u8]) -> usize {
    assert_eq!(&j[..2], b"\xff\xd8");
    let mut at = 2;
    let mut meta = 0;
    loop {
        assert_eq!(j[at], 0xff, "marker expected at {at}");
        let m = j[at + 1];
        if m == 0xda {
            break;
        }
        let len = usize::from(u16::from_be_bytes([j[at + 2], j[at + 3]]));
        let body = &j[at + 4..at + 2 + len];
        let is_jfif = m == 0xe0 && body.starts_with(b"JFIF\0") && len == 16;
        if (0xe0..=0xef).contains(&m) && !is_jfif || m == 0xfe {
            meta += len + 2;
        }
        at += 2 + len;
    }
    meta
}

/// Bytes of metadata in a PNG: every chunk but the image's own.
fn png_metadata_bytes(p: &[u8]) -> usize {
    assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
    let mut at = 8;
    let mut meta = 0;
    while at < p.len() {
        let len = u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]) as usize;
        let kind = &p[at + 4..at + 8];
        if !matches!(kind, b"IHDR" | b"PLTE" | b"IDAT" | b"IEND") {
            meta += len + 12;
        }
        at += len + 12;
    }
    meta
}

fn metadata_bytes(copy: &[u8]) -> usize {
    let walked = if copy.starts_with(b"\xff\xd8") {
        jpeg_metadata_bytes(copy)
    } else {
        png_metadata_bytes(copy)
    };
    // and no trace of the corpus's tags anywhere in the bytes
    for needle in [
        &b"Exif"[..],
        b"RempartPhone",
        b"GPS",
        b"xmpmeta",
        b"Photoshop",
        b"8BIM",
        b"Paris",
    ] {
        assert!(!copy.windows(needle.len()).any(|w| w == needle));
    }
    walked
}

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
