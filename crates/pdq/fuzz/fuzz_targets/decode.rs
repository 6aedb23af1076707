//! Arbitrary bytes through the decoder with tight limits: no panic, no allocation
//! beyond the limits (libFuzzer's -rss_limit_mb catches unbounded allocation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_pdq::decode::{Limits, decode_file_bytes};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_pixels: 1 << 20,
        max_alloc: 64 << 20,
        ..Limits::default()
    };
    if let Ok(img) = decode_file_bytes(data, &limits) {
        assert_eq!(img.rgb.len(), img.width as usize * img.height as usize * 3);
        let _ = img.pdq();
    }
});
