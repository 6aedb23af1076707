//! Posting arrays: fixed-width bit-packed values (`width <= 32` bits each, no padding; at
//! 10 M entries a posting is 24 bits of position + 5 chunk bits = 29 bits, not 32), or
//! plain 32-bit words where speed matters more than memory (small segments: decoding
//! packed values costs ~20% of the query speed at 1 M entries, where the reads of a query
//! otherwise overlap well).

/// `len` values of `width` bits.
pub(super) struct Packed {
    /// Bit-packed, little-endian bit order, with 8 spare bytes at the end so that every
    /// read may load 8 bytes. Empty when `words` is used.
    bytes: Vec<u8>,
    /// One value per word (unpacked mode).
    words: Vec<u32>,
    width: u32,
}

impl Packed {
    /// `len` zeros, bit-packed if `pack`, else one 32-bit word each.
    pub(super) fn new(len: usize, width: u32, pack: bool) -> Packed {
        let width = width.min(32);
        if !pack {
            return Packed {
                bytes: Vec::new(),
                words: vec![0; len],
                width: 32,
            };
        }
        Packed {
            bytes: vec![0; (len * width as usize).div_ceil(8) + 8],
            words: Vec::new(),
            width,
        }
    }

    /// The values as words, in unpacked mode.
    #[inline]
    pub(super) fn words(&self) -> Option<&[u32]> {
        self.bytes.is_empty().then_some(self.words.as_slice())
    }

    #[inline]
    fn mask(&self) -> u64 {
        (1u64 << self.width) - 1
    }

    /// The 8 bytes from byte `at` (0 past the end, which the padding makes unreachable
    /// for values in range).
    #[inline]
    fn load(&self, at: usize) -> u64 {
        self.bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    }

    /// Sets value `k` (which must still be 0) to `v` (only its low `width` bits count).
    pub(super) fn set(&mut self, k: usize, v: u32) {
        if self.bytes.is_empty() {
            if let Some(w) = self.words.get_mut(k) {
                *w = v;
            }
            return;
        }
        let bit = k * self.width as usize;
        let x = self.load(bit / 8) | (u64::from(v) & self.mask()) << (bit % 8);
        if let Some(b) = self.bytes.get_mut(bit / 8..bit / 8 + 8) {
            b.copy_from_slice(&x.to_le_bytes());
        }
    }

    /// Value `k` (packed: one unaligned 8-byte load, `width + 7 <= 39` bits fit).
    #[inline]
    pub(super) fn get(&self, k: usize) -> u32 {
        if let Some(words) = self.words() {
            return words.get(k).copied().unwrap_or(0);
        }
        let bit = k * self.width as usize;
        ((self.load(bit / 8) >> (bit % 8)) & self.mask()) as u32
    }

    /// Values `range`, in order (callers use [`words`](Self::words) first when they
    /// can: a plain slice is faster).
    #[inline]
    pub(super) fn run(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = u32> + '_ {
        range.map(|k| self.get(k))
    }

    /// Reads one byte of every cache line holding values `range` (so that their cache
    /// misses overlap); returns a value to feed `black_box`.
    pub(super) fn touch(&self, range: std::ops::Range<usize>) -> u32 {
        if let Some(words) = self.words() {
            return words
                .get(range)
                .map_or(0, |ws| ws.iter().step_by(16).fold(0, |a, &x| a ^ x));
        }
        let w = self.width as usize;
        let (first, last) = (range.start * w / 8, (range.end * w).div_ceil(8));
        self.bytes
            .get(first..last.min(self.bytes.len()))
            .map_or(0, |bs| {
                bs.iter().step_by(64).fold(0, |a, &x| a ^ u32::from(x))
            })
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.words.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_at_every_width() {
        for width in [0, 1, 5, 20, 29, 31, 32] {
            let n = 1000;
            let mut p = Packed::new(n, width, true);
            let val =
                |k: usize| (k as u32).wrapping_mul(0x9e37_79b9) & ((1u64 << width) - 1) as u32;
            for k in 0..n {
                p.set(k, val(k));
            }
            for k in 0..n {
                assert_eq!(p.get(k), val(k), "width {width} k {k}");
            }
            assert!(p.run(3..9).eq((3..9).map(val)));
            assert_eq!(p.heap_bytes(), (n * width as usize).div_ceil(8) + 8);
            let mut w = Packed::new(n, width, false);
            for k in 0..n {
                w.set(k, val(k));
            }
            assert!(w.run(0..n).eq((0..n).map(val)));
            assert_eq!(w.words().map(<[u32]>::len), Some(n));
        }
    }
}
