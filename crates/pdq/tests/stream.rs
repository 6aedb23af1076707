//! The row-by-row hasher (`PdqStream`) against the batch one: the same hash, quality and
//! dihedral hashes, bit for bit, on every image of the conformance corpus and on random
//! images of every shape (tiny, 64 × 64, thin, odd, large), rows given one at a time or
//! several at once.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use rempart_pdq::{PdqHasher, PdqStream};

/// A deterministic pseudo-random image with some structure (gradients and noise).
fn image(w: usize, h: usize, channels: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(w * h * channels);
    for y in 0..h {
        for c in 0..w {
            for k in 0..channels {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let base = (c * 255 / w.max(1) + y * 127 / h.max(1) + k * 40) as u64;
                out.push(((base + (x % 60)) % 256) as u8);
            }
        }
    }
    out
}

fn streamed(w: usize, h: usize, channels: usize, px: &[u8], chunk: usize) -> PdqStream {
    let mut s = PdqStream::new(w, h, channels).unwrap();
    let line = w * channels;
    for rows in px.chunks(line * chunk) {
        s.push_rows(rows).unwrap();
    }
    assert_eq!(s.rows(), h);
    s
}

fn same(w: usize, h: usize, channels: usize, px: &[u8]) {
    let mut batch = PdqHasher::new();
    let want = batch.hash_pixels(w, h, channels, px).unwrap();
    let want_d = batch.dihedral_pixels(w, h, channels, px).unwrap();
    for chunk in [1, 3, 64] {
        let got = streamed(w, h, channels, px, chunk).finish().unwrap();
        assert_eq!(got, want, "{w}x{h}x{channels}, {chunk} rows at a time");
        let got_d = streamed(w, h, channels, px, chunk)
            .finish_dihedral()
            .unwrap();
        assert_eq!(
            got_d, want_d,
            "{w}x{h}x{channels} dihedral, {chunk} rows at a time"
        );
    }
}

#[test]
fn every_shape_hashes_as_the_batch_hasher_does() {
    let shapes = [
        (1, 1),
        (4, 9),
        (9, 4),
        (5, 5),
        (7, 300),
        (300, 7),
        (64, 64),
        (64, 65),
        (127, 129),
        (128, 128),
        (129, 257),
        (640, 480),
        (1003, 777),
        (1600, 1200),
    ];
    for (k, &(w, h)) in shapes.iter().enumerate() {
        for channels in [1, 3, 4] {
            let px = image(w, h, channels, (k * 7 + channels) as u64);
            same(w, h, channels, &px);
        }
    }
}

#[test]
fn rows_beyond_the_height_or_of_the_wrong_length_are_refused() {
    let mut s = PdqStream::new(10, 2, 3).unwrap();
    assert!(s.push_row(&[0; 29]).is_err());
    s.push_row(&[0; 30]).unwrap();
    s.push_row(&[0; 30]).unwrap();
    assert!(s.push_row(&[0; 30]).is_err(), "a third row of two");
    assert!(PdqStream::new(0, 5, 3).is_err());
    assert!(PdqStream::new(5, 5, 2).is_err());
    assert!(PdqStream::new(usize::MAX, 3, 3).is_err());
    // finishing early is an error, not a hash of half an image
    let mut half = PdqStream::new(10, 10, 1).unwrap();
    half.push_row(&[9; 10]).unwrap();
    assert!(half.finish().is_err());
}

#[cfg(feature = "decode")]
#[test]
fn the_conformance_corpus_hashes_the_same_streamed() {
    use rempart_pdq::decode::{Limits, decode_file_bytes};
    let Some(dir) = common::testdata() else {
        return;
    };
    let csv = common::Csv::read(&dir.join("expected/pdq_expected.csv"));
    let c_file = csv.col("file");
    let mut n = 0;
    for row in &csv.rows {
        let file = &row[c_file];
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let Ok(img) = decode_file_bytes(&bytes, &Limits::default()) else {
            continue;
        };
        same(img.width as usize, img.height as usize, 3, &img.rgb);
        n += 1;
    }
    assert!(n >= 50, "only {n} images compared");
}

#[cfg(feature = "png")]
#[test]
fn png_rows_are_the_whole_decode_a_row_at_a_time() {
    use rempart_pdq::png_decode::{Limits, PngError, decode_png, decode_png_rows};
    let Some(dir) = common::testdata() else {
        return;
    };
    let csv = common::Csv::read(&dir.join("expected/pdq_expected.csv"));
    let c_file = csv.col("file");
    let mut pngs = 0;
    for row in &csv.rows {
        let path = dir.join(&row[c_file]);
        let bytes = std::fs::read(&path).unwrap();
        if !rempart_pdq::png_decode::is_png(&bytes) {
            continue;
        }
        let Ok((w, h, whole)) = decode_png(&bytes, &Limits::default()) else {
            continue;
        };
        let rows = decode_png_rows::<_, PngError>(
            &bytes,
            &Limits::default(),
            |w2, h2| {
                assert_eq!((w2, h2), (w, h));
                Ok(Vec::new())
            },
            |acc: &mut Vec<u8>, row| {
                acc.extend_from_slice(row);
                Ok(())
            },
        )
        .unwrap();
        // None: interlaced, hashed from the whole decode
        if let Some(rgb) = rows {
            assert_eq!(rgb, whole, "{}", path.display());
        }
        pngs += 1;
    }
    assert!(pngs >= 10, "only {pngs} PNGs");
}
