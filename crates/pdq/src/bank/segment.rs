//! One immutable multi-index-hashing segment of a hash bank (plus removal marks).
//!
//! Exactness argument (pigeonhole): split the 256 bits into 16 chunks of 16 bits. If
//! `distance(q, h) <= r` then the 16 chunk distances sum to at most `r`, so at least one
//! chunk differs in at most `t = floor(r / 16)` bits (t = 1 for the default radius 31).
//! Each of the 16 tables lists the entries by (the top `key_bits` bits of) one chunk; a
//! query visits, in every table, each bucket whose key is within `t` bits of the
//! query's key, and checks the full distance of every entry found there. An entry with
//! `distance <= r` lies in such a bucket of the table of its first chunk with
//! `d_c <= t`; it is reported from that table only, so without duplicates and without a
//! hash set. When the cost model says a popcount scan is cheaper (small segments, large
//! radii), the segment is scanned instead. Both paths give the same set.

use super::SearchMode;
use crate::Hash256;

/// Chunks (= tables) and bits per chunk.
const CHUNKS: usize = 16;
const CHUNK_BITS: u32 = 16;

/// Bits `16c .. 16c+16` of `h`.
#[inline]
fn chunk(limbs: &[u64; 4], c: usize) -> u16 {
    (limbs[c / 4] >> (16 * (c % 4))) as u16
}

/// Distance with an early exit once it is known to exceed `r`.
#[inline]
fn distance_within(a: &[u64; 4], b: &[u64; 4], r: u32) -> Option<u32> {
    let half = (a[0] ^ b[0]).count_ones() + (a[1] ^ b[1]).count_ones();
    if half > r {
        return None;
    }
    let d = half + (a[2] ^ b[2]).count_ones() + (a[3] ^ b[3]).count_ones();
    (d <= r).then_some(d)
}

/// Number of `bits`-bit keys within `t` bits of a given key: sum of C(bits, i), i <= t.
fn ball_size(bits: u32, t: u32) -> u64 {
    let mut total = 0u64;
    let mut c = 1u64; // C(bits, i)
    for i in 0..=t.min(bits) {
        total += c;
        c = c * u64::from(bits - i) / u64::from(i + 1);
    }
    total
}

/// Calls `f` for every `bits`-bit key within `t` bits of `key`.
fn for_each_key_within(key: u32, bits: u32, t: u32, f: &mut impl FnMut(u32)) {
    fn rec(key: u32, from: u32, bits: u32, left: u32, f: &mut impl FnMut(u32)) {
        f(key);
        if left == 0 {
            return;
        }
        for b in from..bits {
            rec(key ^ (1 << b), b + 1, bits, left - 1, f);
        }
    }
    rec(key, 0, bits, t.min(bits), f);
}

/// An immutable set of (hash, id) entries with 16 chunk tables.
pub(crate) struct Segment {
    /// Entries, ordered by bucket of chunk 0 (so table 0 needs no postings).
    hashes: Vec<[u64; 4]>,
    ids: Vec<u64>,
    /// Bit `i` set = entry `i` removed.
    removed: Vec<u64>,
    live: usize,
    /// Buckets per table are keyed by the top `key_bits` bits of the chunk.
    key_bits: u32,
    /// `CHUNKS` tables of `2^key_bits + 1` offsets each.
    offsets: Vec<u32>,
    /// Tables 1..16: `len()` entry indices each, grouped by bucket.
    postings: Vec<u32>,
}

/// Key bits for a segment of `n` entries: about 4 entries per bucket, 4..=16 bits.
fn key_bits_for(n: usize) -> u32 {
    let log2 = usize::BITS - n.max(1).leading_zeros();
    log2.saturating_sub(2).clamp(4, CHUNK_BITS)
}

impl Segment {
    /// Builds the tables (two counting-sort passes per table). Panics never; entries
    /// beyond `u32::MAX` are not supported by the caller (`HashBank` caps segments).
    pub(crate) fn build(entries: &[(Hash256, u64)]) -> Segment {
        let n = entries.len();
        let key_bits = key_bits_for(n);
        let shift = CHUNK_BITS - key_bits;
        let buckets = 1usize << key_bits;
        let stride = buckets + 1;
        let bucket = |l: &[u64; 4], c: usize| usize::from(chunk(l, c) >> shift);
        let mut offsets = vec![0u32; CHUNKS * stride];

        // Table 0: order the entries themselves by bucket (stable counting sort).
        let counts = &mut offsets[..stride];
        for (h, _) in entries {
            counts[bucket(&h.limbs(), 0) + 1] += 1;
        }
        for b in 0..buckets {
            counts[b + 1] += counts[b];
        }
        let mut next: Vec<u32> = counts[..buckets].to_vec();
        let mut hashes = vec![[0u64; 4]; n];
        let mut ids = vec![0u64; n];
        for (h, id) in entries {
            let limbs = h.limbs();
            let slot = &mut next[bucket(&limbs, 0)];
            hashes[*slot as usize] = limbs;
            ids[*slot as usize] = *id;
            *slot += 1;
        }

        // Tables 1..16: postings grouped by bucket.
        let mut postings = vec![0u32; (CHUNKS - 1) * n];
        for c in 1..CHUNKS {
            let counts = &mut offsets[c * stride..(c + 1) * stride];
            for l in &hashes {
                counts[bucket(l, c) + 1] += 1;
            }
            for b in 0..buckets {
                counts[b + 1] += counts[b];
            }
            next.copy_from_slice(&counts[..buckets]);
            let table = &mut postings[(c - 1) * n..c * n];
            for (i, l) in hashes.iter().enumerate() {
                let slot = &mut next[bucket(l, c)];
                table[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
        Segment {
            removed: vec![0; n.div_ceil(64)],
            live: n,
            hashes,
            ids,
            key_bits,
            offsets,
            postings,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Entries not removed.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    fn is_removed(&self, i: usize) -> bool {
        self.removed[i / 64] >> (i % 64) & 1 == 1
    }

    /// Live entries, in segment order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (Hash256, u64)> + '_ {
        (0..self.len())
            .filter(|&i| !self.is_removed(i))
            .map(|i| (Hash256::from_limbs(self.hashes[i]), self.ids[i]))
    }

    /// Bytes held by this segment (for the memory figures).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * 32
            + self.ids.capacity() * 8
            + self.removed.capacity() * 8
            + self.offsets.capacity() * 4
            + self.postings.capacity() * 4
    }

    fn range(&self, c: usize, b: usize) -> std::ops::Range<usize> {
        let base = c * ((1usize << self.key_bits) + 1);
        self.offsets[base + b] as usize..self.offsets[base + b + 1] as usize
    }

    /// Marks live entries equal to `hash` (and to `id` if given) removed; returns how many.
    pub(crate) fn remove(&mut self, hash: &Hash256, id: Option<u64>) -> usize {
        let limbs = hash.limbs();
        let b = usize::from(chunk(&limbs, 0) >> (CHUNK_BITS - self.key_bits));
        let mut n = 0;
        for i in self.range(0, b) {
            if self.hashes[i] == limbs
                && id.is_none_or(|id| self.ids[i] == id)
                && !self.is_removed(i)
            {
                self.removed[i / 64] |= 1 << (i % 64);
                self.live -= 1;
                n += 1;
            }
        }
        n
    }

    /// Whether the scan is estimated cheaper than the tables for radius `r`.
    fn prefer_scan(&self, r: u32) -> bool {
        let t = r / CHUNKS as u32;
        if t >= CHUNK_BITS {
            return true;
        }
        let probes = CHUNKS as u64 * ball_size(self.key_bits, t);
        let per_bucket = self.len() as u64 >> self.key_bits;
        // ~15 ns per bucket visited, ~3 ns per candidate, ~1.5 ns per scanned entry.
        let tables = probes * 15 + probes * per_bucket.max(1) * 3;
        tables * 2 >= self.len() as u64 * 3
    }

    /// Calls `found(hash, id, distance)` once for every live entry within `r` of `q`.
    pub(crate) fn query(
        &self,
        q: &Hash256,
        r: u32,
        strategy: SearchMode,
        found: &mut impl FnMut(Hash256, u64, u32),
    ) {
        if self.live == 0 {
            return;
        }
        let ql = q.limbs();
        let scan = match strategy {
            SearchMode::Auto => self.prefer_scan(r),
            SearchMode::Index => r / CHUNKS as u32 >= CHUNK_BITS,
            SearchMode::Scan => true,
        };
        if scan {
            for (i, l) in self.hashes.iter().enumerate() {
                if let Some(d) = distance_within(&ql, l, r)
                    && !self.is_removed(i)
                {
                    found(Hash256::from_limbs(*l), self.ids[i], d);
                }
            }
            return;
        }
        let t = r / CHUNKS as u32;
        let shift = CHUNK_BITS - self.key_bits;
        let n = self.len();
        let qc: [u16; CHUNKS] = std::array::from_fn(|c| chunk(&ql, c));
        // Reported from table c only if c is the first chunk within t bits.
        let owner = |l: &[u64; 4]| (0..CHUNKS).find(|&c| (qc[c] ^ chunk(l, c)).count_ones() <= t);
        let mut visit = |c: usize, i: usize| {
            let l = &self.hashes[i];
            if let Some(d) = distance_within(&ql, l, r)
                && owner(l) == Some(c)
                && !self.is_removed(i)
            {
                found(Hash256::from_limbs(*l), self.ids[i], d);
            }
        };
        // Three passes of independent memory accesses (the CPU overlaps the cache
        // misses of each pass): bucket bounds, then the entries they list, then the
        // verification of those entries.
        let stride = (1usize << self.key_bits) + 1;
        let mut ranges: Vec<(u32, u32, u32)> = Vec::with_capacity(CHUNKS * 20);
        for (c, &key) in qc.iter().enumerate() {
            for_each_key_within(u32::from(key >> shift), self.key_bits, t, &mut |b| {
                let at = c * stride + b as usize;
                ranges.push((c as u32, self.offsets[at], self.offsets[at + 1]));
            });
        }
        let mut candidates: Vec<(u32, u32)> = Vec::with_capacity(4096);
        for &(c, lo, hi) in &ranges {
            let (lo, hi) = (lo as usize, hi as usize);
            if c == 0 {
                candidates.extend((lo as u32..hi as u32).map(|i| (0, i)));
            } else {
                let table = &self.postings[(c as usize - 1) * n..c as usize * n];
                candidates.extend(table[lo..hi].iter().map(|&i| (c, i)));
            }
        }
        for &(c, i) in &candidates {
            visit(c as usize, i as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ball_sizes() {
        assert_eq!(ball_size(16, 0), 1);
        assert_eq!(ball_size(16, 1), 17);
        assert_eq!(ball_size(16, 2), 137);
        assert_eq!(ball_size(4, 9), 16);
        for t in 0..4 {
            let mut seen = std::collections::BTreeSet::new();
            for_each_key_within(0b1011, 6, t, &mut |k| {
                assert!((k ^ 0b1011).count_ones() <= t && k < 64);
                assert!(seen.insert(k), "key {k} twice");
            });
            assert_eq!(seen.len() as u64, ball_size(6, t));
        }
    }

    #[test]
    fn key_bits_grow_with_size() {
        assert_eq!(key_bits_for(0), 4);
        assert_eq!(key_bits_for(1000), 8);
        assert_eq!(key_bits_for(1_000_000), 16);
    }
}
