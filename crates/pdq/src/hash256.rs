//! The 256-bit PDQ hash value.

use std::fmt;
use std::str::FromStr;

/// A 256-bit hash (PDQ or any other 256-bit binary code).
///
/// Bit `k` (0..256) is the bit of value `2^k` of a 256-bit unsigned integer; for PDQ,
/// `k = 16*i + j` for DCT row `i` and column `j`. The text form is the integer in
/// big-endian hexadecimal: 64 lowercase hex digits (the reference's `%04x` of
/// `w[15]` … `w[0]`).
///
/// Internally: four little-endian 64-bit limbs, `limbs[0]` holding bits 0..64.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash256 {
    limbs: [u64; 4],
}

/// Why a text could not be parsed as a [`Hash256`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    /// Not exactly 64 characters.
    #[error("a 256-bit hash is 64 hex digits, got {0} characters")]
    Length(usize),
    /// A character outside `0-9a-fA-F`.
    #[error("not a hex digit at position {0}")]
    Digit(usize),
}

impl Hash256 {
    /// The all-zero hash (what PDQ returns for images under 5 pixels).
    pub const ZERO: Hash256 = Hash256 { limbs: [0; 4] };

    /// Builds a hash from its four 64-bit limbs, least significant first.
    pub const fn from_limbs(limbs: [u64; 4]) -> Self {
        Hash256 { limbs }
    }

    /// The four 64-bit limbs, least significant first.
    pub const fn limbs(&self) -> [u64; 4] {
        self.limbs
    }

    /// Builds a hash from 32 big-endian bytes (byte 0 holds bits 255..248).
    pub fn from_be_bytes(bytes: [u8; 32]) -> Self {
        let mut limbs = [0u64; 4];
        for (n, limb) in limbs.iter_mut().enumerate() {
            let start = 32 - 8 * (n + 1);
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[start..start + 8]);
            *limb = u64::from_be_bytes(word);
        }
        Hash256 { limbs }
    }

    /// 32 big-endian bytes (the hex form, decoded).
    pub fn to_be_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (n, limb) in self.limbs.iter().enumerate() {
            let start = 32 - 8 * (n + 1);
            out[start..start + 8].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// Value of bit `k` (k < 256; larger k read as 0).
    pub fn bit(&self, k: usize) -> bool {
        k < 256 && (self.limbs[k / 64] >> (k % 64)) & 1 == 1
    }

    /// Sets bit `k` to 1 (k < 256; larger k ignored).
    pub fn set_bit(&mut self, k: usize) {
        if k < 256 {
            self.limbs[k / 64] |= 1u64 << (k % 64);
        }
    }

    /// Flips bit `k` (k < 256; larger k ignored).
    pub fn flip_bit(&mut self, k: usize) {
        if k < 256 {
            self.limbs[k / 64] ^= 1u64 << (k % 64);
        }
    }

    /// Number of one bits.
    pub fn count_ones(&self) -> u32 {
        self.limbs.iter().map(|l| l.count_ones()).sum()
    }

    /// Hamming distance: popcount(a XOR b), 0..=256.
    #[inline]
    pub fn distance(&self, other: &Hash256) -> u32 {
        (self.limbs[0] ^ other.limbs[0]).count_ones()
            + (self.limbs[1] ^ other.limbs[1]).count_ones()
            + (self.limbs[2] ^ other.limbs[2]).count_ones()
            + (self.limbs[3] ^ other.limbs[3]).count_ones()
    }

    /// The 16-bit word `n` (0..16) as the reference's `w[n]`: bits `16n .. 16n+16`.
    pub fn word16(&self, n: usize) -> u16 {
        let n = n % 16;
        (self.limbs[n / 4] >> (16 * (n % 4))) as u16
    }

    /// Parses 64 hex digits (either case).
    pub fn parse(text: &str) -> Result<Self, ParseHashError> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(ParseHashError::Length(text.chars().count()));
        }
        let mut limbs = [0u64; 4];
        for (pos, &c) in bytes.iter().enumerate() {
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(ParseHashError::Digit(pos)),
            };
            // Digit `pos` (0 = most significant) covers bits 4*(63-pos) .. +4.
            let bit = 4 * (63 - pos);
            limbs[bit / 64] |= u64::from(v) << (bit % 64);
        }
        Ok(Hash256 { limbs })
    }
}

impl FromStr for Hash256 {
    type Err = ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash256::parse(s)
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for limb in self.limbs.iter().rev() {
            write!(f, "{limb:016x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hex_layout_matches_reference_words() {
        // bit 0 is the last hex digit's low bit; bit 255 the first digit's high bit.
        let mut h = Hash256::ZERO;
        h.set_bit(0);
        h.set_bit(17);
        h.set_bit(255);
        let text = h.to_string();
        assert_eq!(
            text,
            "8000000000000000000000000000000000000000000000000000000000020001"
        );
        assert_eq!(h.word16(0), 1);
        assert_eq!(h.word16(1), 2);
        assert_eq!(h.word16(15), 0x8000);
        assert_eq!(Hash256::parse(&text), Ok(h));
        assert_eq!(Hash256::parse(&text.to_uppercase()), Ok(h));
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(Hash256::parse("abc"), Err(ParseHashError::Length(3)));
        let mut s = "0".repeat(64);
        s.replace_range(10..11, "g");
        assert_eq!(Hash256::parse(&s), Err(ParseHashError::Digit(10)));
        let multibyte = format!("{}é", "0".repeat(62));
        assert!(Hash256::parse(&multibyte).is_err());
    }

    proptest! {
        #[test]
        fn roundtrips(limbs in any::<[u64; 4]>()) {
            let h = Hash256::from_limbs(limbs);
            prop_assert_eq!(Hash256::parse(&h.to_string()), Ok(h));
            prop_assert_eq!(Hash256::from_be_bytes(h.to_be_bytes()), h);
            let bits: u32 = (0..256).map(|k| u32::from(h.bit(k))).sum();
            prop_assert_eq!(bits, h.count_ones());
        }

        #[test]
        fn distance_is_popcount_of_xor(a in any::<[u64; 4]>(), flips in proptest::collection::btree_set(0usize..256, 0..64)) {
            let a = Hash256::from_limbs(a);
            let mut b = a;
            for &k in &flips { b.flip_bit(k); }
            prop_assert_eq!(a.distance(&b), flips.len() as u32);
            prop_assert_eq!(b.distance(&a), flips.len() as u32);
        }
    }
}
