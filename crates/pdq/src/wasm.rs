//! C-style exports for the browser build (`wasm32-unknown-unknown`, no wasm-bindgen).
//!
//! Protocol (see `js/pdq.js`): JS calls `pdq_input(len)`, which sizes the module's input
//! buffer to `len` bytes and returns its address; JS copies bytes there (file bytes or
//! RGBA pixels) and then calls `pdq_md5()`, `pdq_hash_png(dihedral)` (the file decoded
//! and hashed row by row: the image is never held whole) or `pdq_hash_rgba(width,
//! height, dihedral)`, which write lowercase hex into the output buffer
//! (`pdq_output_ptr`/`pdq_output_len`). Pixels decoded by the browser go in by slices of
//! rows: `pdq_stream_begin(width, height)`, then `pdq_stream_push(rows)` for each slice
//! of RGBA rows put in the input buffer, then `pdq_stream_end(dihedral)`.
//!
//! Soundness: the only unsafe thing here is the `#[unsafe(no_mangle)]` attribute, whose
//! obligation is that the exported symbol names clash with no other symbol; all are
//! prefixed `pdq_` and defined once in this crate, which is the only code in the
//! module. No raw pointer is dereferenced in Rust: addresses are only handed to JS.
//! JS writes into the input buffer between calls, while no Rust reference to it exists
//! (the buffer lives behind a mutex that is locked only during a call, and a wasm
//! instance runs one call at a time).
#![allow(unsafe_code)]

use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};

use crate::{DihedralResult, PdqHasher, PdqResult, PdqStream};

struct State {
    input: Vec<u8>,
    output: String,
    hasher: Option<PdqHasher>,
    /// Size of the last PNG decoded by `pdq_hash_png`.
    size: (u32, u32),
    /// The image being fed by slices of rows.
    stream: Option<PdqStream>,
}

static STATE: Mutex<State> = Mutex::new(State {
    input: Vec::new(),
    output: String::new(),
    hasher: None,
    size: (0, 0),
    stream: None,
});

/// Writes a result (one hash, or the 8 dihedral ones) into the output; the quality.
fn write_result(s: &mut State, r: Result<Either, crate::PdqError>) -> i32 {
    s.output.clear();
    match r {
        Ok(Either::One(r)) => {
            let _ = write!(s.output, "{}", r.hash);
            i32::from(r.quality)
        }
        Ok(Either::Eight(r)) => {
            for hash in r.hashes {
                let _ = write!(s.output, "{hash}");
            }
            i32::from(r.quality)
        }
        Err(_) => -1,
    }
}

enum Either {
    One(PdqResult),
    Eight(DihedralResult),
}

fn finish(stream: PdqStream, dihedral: bool) -> Result<Either, crate::PdqError> {
    if dihedral {
        stream.finish_dihedral().map(Either::Eight)
    } else {
        stream.finish().map(Either::One)
    }
}

fn state() -> MutexGuard<'static, State> {
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sizes the input buffer to `len` bytes; returns its address, or 0 when memory is short.
#[unsafe(no_mangle)]
pub extern "C" fn pdq_input(len: u32) -> u32 {
    let mut s = state();
    let len = len as usize;
    s.input.clear();
    if s.input.try_reserve_exact(len).is_err() {
        return 0;
    }
    s.input.resize(len, 0);
    s.input.as_mut_ptr() as usize as u32
}

/// Writes the hash (or 8 dihedral hashes) of a pixel buffer into the output.
fn hash_into(
    s: &mut State,
    w: usize,
    h: usize,
    channels: usize,
    pixels: Option<&[u8]>,
    dihedral: bool,
) -> i32 {
    let hasher = s.hasher.get_or_insert_with(PdqHasher::new);
    let pixels = pixels.unwrap_or(&s.input);
    s.output.clear();
    if dihedral {
        match hasher.dihedral_pixels(w, h, channels, pixels) {
            Ok(r) => {
                for hash in r.hashes {
                    let _ = write!(s.output, "{hash}");
                }
                i32::from(r.quality)
            }
            Err(_) => -1,
        }
    } else {
        match hasher.hash_pixels(w, h, channels, pixels) {
            Ok(r) => {
                let _ = write!(s.output, "{}", r.hash);
                i32::from(r.quality)
            }
            Err(_) => -1,
        }
    }
}

/// Decodes the input bytes as a PNG with the server's pixel policy and hashes it like
/// `pdq_hash_rgba`. Returns the quality, or -2 if the PNG cannot be decoded (then the
/// caller falls back to the browser's decoder). Size: `pdq_width`/`pdq_height`.
#[cfg(feature = "png")]
#[unsafe(no_mangle)]
pub extern "C" fn pdq_hash_png(dihedral: u32) -> i32 {
    use crate::png_decode::{Limits, PngError, decode_png, decode_png_rows};
    let mut guard = state();
    let s = &mut *guard;
    let limits = Limits::default();
    // row by row: the decoded image is never held whole
    let rows = decode_png_rows::<_, PngError>(
        &s.input,
        &limits,
        |w, h| {
            PdqStream::new(w as usize, h as usize, 3)
                .map(|st| (st, (w, h)))
                .map_err(|_| PngError::Layout)
        },
        |(st, _), row| st.push_row(row).map_err(|_| PngError::Layout),
    );
    match rows {
        Ok(Some((st, size))) => {
            s.size = size;
            write_result(s, finish(st, dihedral != 0))
        }
        // interlaced: its rows only exist once every pass is read
        Ok(None) => match decode_png(&s.input, &limits) {
            Ok((w, h, rgb)) => {
                s.size = (w, h);
                hash_into(s, w as usize, h as usize, 3, Some(&rgb), dihedral != 0)
            }
            Err(_) => -2,
        },
        Err(_) => -2,
    }
}

/// Starts an image of `width x height` RGBA pixels fed by slices of rows. Returns 0, or
/// -1 for a size that cannot be hashed.
#[unsafe(no_mangle)]
pub extern "C" fn pdq_stream_begin(width: u32, height: u32) -> i32 {
    let mut s = state();
    #[cfg(feature = "png")]
    if !crate::png_decode::Limits::default().accepts(width, height) {
        s.stream = None;
        return -1;
    }
    match PdqStream::new(width as usize, height as usize, 4) {
        Ok(st) => {
            s.stream = Some(st);
            0
        }
        Err(_) => {
            s.stream = None;
            -1
        }
    }
}

/// Feeds the next `rows` RGBA rows, which fill the start of the input buffer. Returns
/// the rows received so far, or -1 (no stream, or not that many bytes).
#[unsafe(no_mangle)]
pub extern "C" fn pdq_stream_push(rows: u32) -> i32 {
    let mut guard = state();
    let s = &mut *guard;
    let Some(st) = s.stream.as_mut() else {
        return -1;
    };
    let line = st.width() * 4;
    let Some(len) = (rows as usize).checked_mul(line) else {
        return -1;
    };
    if len > s.input.len() {
        return -1;
    }
    match st.push_rows(&s.input[..len]) {
        Ok(()) => st.rows() as i32,
        Err(_) => -1,
    }
}

/// Ends the fed image: its hash (or 8 dihedral hashes) in the output. Returns the
/// quality, or -1 when rows are missing or no image was started.
#[unsafe(no_mangle)]
pub extern "C" fn pdq_stream_end(dihedral: u32) -> i32 {
    let mut guard = state();
    let s = &mut *guard;
    match s.stream.take() {
        Some(st) => write_result(s, finish(st, dihedral != 0)),
        None => -1,
    }
}

/// Width of the last PNG decoded by `pdq_hash_png`.
#[cfg(feature = "png")]
#[unsafe(no_mangle)]
pub extern "C" fn pdq_width() -> u32 {
    state().size.0
}

/// Height of the last PNG decoded by `pdq_hash_png`.
#[cfg(feature = "png")]
#[unsafe(no_mangle)]
pub extern "C" fn pdq_height() -> u32 {
    state().size.1
}

/// Hashes the input as `width x height` RGBA pixels (alpha ignored). Output: 64 hex
/// digits, or 8 x 64 (orig, rot90, rot180, rot270, flipx, flipy, flipp, flipm) when
/// `dihedral != 0`. Returns the quality (0..=100), or -1 if the sizes do not match.
#[unsafe(no_mangle)]
pub extern "C" fn pdq_hash_rgba(width: u32, height: u32, dihedral: u32) -> i32 {
    let mut guard = state();
    hash_into(
        &mut guard,
        width as usize,
        height as usize,
        4,
        None,
        dihedral != 0,
    )
}

/// MD5 of the input bytes; output: 32 hex digits. Returns 32.
#[unsafe(no_mangle)]
pub extern "C" fn pdq_md5() -> i32 {
    let mut guard = state();
    let s = &mut *guard;
    s.output = crate::md5::to_hex(&crate::md5::md5(&s.input));
    s.output.len() as i32
}

/// Address of the output text (ASCII).
#[unsafe(no_mangle)]
pub extern "C" fn pdq_output_ptr() -> u32 {
    state().output.as_ptr() as usize as u32
}

/// Length of the output text in bytes.
#[unsafe(no_mangle)]
pub extern "C" fn pdq_output_len() -> u32 {
    state().output.len() as u32
}

/// Frees the input buffer (after a large image).
#[unsafe(no_mangle)]
pub extern "C" fn pdq_release() {
    let mut s = state();
    s.input = Vec::new();
    s.hasher = None;
    s.stream = None;
}
