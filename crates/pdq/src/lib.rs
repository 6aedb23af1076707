//! Rempart's perceptual hashing library.
//!
//! * [`pdq`]: Meta's PDQ 256-bit perceptual hash, bit-exact with the C++ reference core
//!   (float32 luma, two-pass Jarosz box filter, 16x16 DCT, strict median threshold),
//!   implemented from the algorithm statement, plus the 8 dihedral hashes.
//! * [`decode`] (feature `decode`): safe decoding of PNG, JPEG, WebP and GIF with size,
//!   pixel-count and allocation limits, and Rempart's documented pixel policy.
//! * [`bank`]: exact Hamming-radius search over 256-bit hashes (multi-index hashing with a
//!   popcount scan fallback), named banks, add/remove, text and binary bank files.
//! * [`md5`]: MD5 of a byte string (for the browser, where WebCrypto has no MD5).
//! * [`PdqStream`]: the same hash fed row by row in a few rows of memory (the browser
//!   build), bit-exact with the batch hasher.
//!
//! Design notes and the pixel policy: `docs/pdq.md`.

pub mod bank;
#[cfg(feature = "decode")]
pub mod decode;
mod downscale;
mod hash256;
pub mod md5;
pub mod pdq;
#[cfg(feature = "png")]
pub mod png_decode;
mod stream;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use hash256::{Hash256, ParseHashError};
pub use pdq::{
    DIHEDRAL_NAMES, DihedralResult, PdqError, PdqHasher, PdqResult, dihedral_luma, dihedral_rgb,
    hash_luma, hash_rgb, hash_rgba,
};
pub use stream::PdqStream;
