//! Builders of test files (feature `testing`): phone-like photos and screenshots carrying
//! every kind of metadata a derivative must not keep, and walkers that count the metadata
//! bytes left in a JPEG or a PNG. Used by this crate's tests and by the HTTP tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, RgbImage};

pub fn picture(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = x.wrapping_mul(31) ^ y.wrapping_mul(17) ^ seed;
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, (v % 251) as u8])
    })
}

pub fn encode_jpeg(img: &RgbImage) -> Vec<u8> {
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

pub fn encode_png(img: &RgbImage) -> Vec<u8> {
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
pub fn exif(orientation: u16, thumbnail: &[u8]) -> Vec<u8> {
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

pub fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xff, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

pub const XMP: &str = "http://ns.adobe.com/xap/1.0/\0<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description xmlns:exif='http://ns.adobe.com/exif/1.0/' exif:GPSLatitude='48,51.493N' exif:GPSLongitude='2,17.674E'/></rdf:RDF></x:xmpmeta><?xpacket end='w'?>";

/// A phone photo: the JPEG with APP1 EXIF (GPS, thumbnail), APP1 XMP, APP13 IPTC and a
/// comment inserted after its start marker.
pub fn phone_jpeg(w: u32, h: u32, seed: u32, orientation: u16) -> Vec<u8> {
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

pub fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = (body.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(body);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(body);
    c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    c
}

pub fn crc32(bytes: &[u8]) -> u32 {
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
pub fn phone_png(w: u32, h: u32, seed: u32) -> Vec<u8> {
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
pub fn jpeg_metadata_bytes(j: &[u8]) -> usize {
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
pub fn png_metadata_bytes(p: &[u8]) -> usize {
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

pub fn metadata_bytes(copy: &[u8]) -> usize {
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

/// A phone-like photo of `w`×`h` with sensor-like noise (so that it weighs what a photo
/// weighs: about 10 MB at 4000×3000 and quality 95), as a JPEG.
pub fn noisy_photo_jpeg(w: u32, h: u32, seed: u64, quality: u8) -> Vec<u8> {
    let mut state = seed | 1;
    let img = RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state & 0x4f) as u32;
        let base = [
            (x * 200 / w) + 20,
            (y * 200 / h) + 20,
            ((x ^ y) & 0x7f) + 60,
        ];
        image::Rgb(base.map(|c| (c + n).min(255) as u8))
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .expect("jpeg");
    out
}
