//! Arbitrary bytes as a bank file (text or binary): no panic, no huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_pdq::bank::file::read_entries;

fuzz_target!(|data: &[u8]| {
    let _ = read_entries(data);
});
