//! One immutable multi-index-hashing segment of a hash bank (plus removal marks).
//!
//! Exactness argument (generalised pigeonhole): split the 256 bits into `m` chunks and
//! give chunk `c` a threshold `t_c` with `sum(t_c + 1) >= r + 1`. If `distance(q, h) <= r`
//! then the chunk distances `d_c` sum to at most `r`, so some chunk has `d_c <= t_c`
//! (otherwise the sum would be at least `sum(t_c + 1) > r`). At the default radius 31,
//! segments of 1.5 M entries or more use one 26-bit chunk with `t = 1` and ten 23-bit
//! chunks with `t = 2` (2 + 10 x 3 = 32 units), smaller ones 16 chunks of 16 bits with
//! `t = 1`.
//!
//! Table `c` lists the entries by the top `dir` bits of chunk `c` (a directory of bucket
//! offsets); each posting packs the entry's position with the next `low` bits of the
//! chunk (bit-packed to the width it needs in the wide layout, see `packed.rs`). A query visits, in every table, each bucket whose key is within
//! `t_c` bits of its own and keeps the postings whose low bits keep the chunk distance
//! (a lower bound of `d_c`) within `t_c`, then checks the full distance of each
//! candidate. So every entry with `d_c <= t_c` is a candidate of table `c`. An entry
//! within `r` is reported from the table of its *first* chunk with `d_c <= t_c` only, so
//! without duplicates and without a hash set. Table 0 needs no postings: the entries
//! themselves are stored in its bucket order. When the cost model says a popcount scan
//! is cheaper (small segments, large radii), the segment is scanned instead. Both paths
//! give the same set.

mod batch;
mod packed;

use super::SearchMode;
use crate::Hash256;
use packed::Packed;

/// Most chunks in a layout.
const MAX_CHUNKS: usize = 16;
/// Largest directory key (bucket) width.
const MAX_DIR_BITS: u32 = 18;

/// Chunk widths in bits; they partition the 256 bits, in order from bit 0.
type Layout = &'static [u32];
/// 16 chunks of 16 bits, `t = 1` at radius 31: few buckets, many candidates. Used below
/// [`WIDE_FROM`] entries.
const NARROW: Layout = &[16; 16];
/// One 26-bit chunk (`t = 1`) and ten 23-bit ones (`t = 2`) at radius 31: ~6x more
/// buckets but ~12x fewer candidates, and 10 posting tables instead of 15.
const WIDE: Layout = &[26, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23];
/// Segments of at least this many entries use [`WIDE`] (measured crossover: NARROW is
/// ~1.3x faster at 1 M entries, WIDE ~1.2x at 2 M and ~3.5x at 10 M).
const WIDE_FROM: usize = 1_500_000;

fn layout_for(n: usize) -> Layout {
    if n >= WIDE_FROM { WIDE } else { NARROW }
}

/// The `width` bits of `h` from bit `start` (`width <= 32`).
#[inline]
fn bits(limbs: &[u64; 4], start: u32, width: u32) -> u32 {
    let (i, off) = (start as usize / 64, start % 64);
    let mut v = limbs[i] >> off;
    if off + width > 64
        && let Some(next) = limbs.get(i + 1)
    {
        v |= next << (64 - off);
    }
    (v & ((1u64 << width) - 1)) as u32
}

/// Per-chunk thresholds for radius `r` over `m` chunks: `t_c + 1` units each, `r + 1`
/// units in all, the extra units going to the last chunks (table 0 reads whole
/// entries, so it gets the fewest). `None` = the chunk gets no unit and its table is
/// not visited.
fn thresholds(r: u32, m: usize) -> [Option<u32>; MAX_CHUNKS] {
    let units = r as usize + 1;
    let (base, extra) = (units / m, units % m);
    std::array::from_fn(|c| {
        let u = base + usize::from(c >= m - extra);
        (c < m && u > 0).then(|| (u - 1) as u32)
    })
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

/// Whether `x` has at most `k` bits set: clearing its lowest set bit `k` times leaves
/// 0 (cheaper than a popcount without the instruction, as on baseline x86-64).
#[inline]
fn at_most(k: u32, mut x: u32) -> bool {
    for _ in 0..k {
        x &= x.wrapping_sub(1);
    }
    x == 0
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

/// Calls `f(key, d)` for every `bits`-bit key at distance `d <= t` from `key`.
fn for_each_key_within(key: u32, bits: u32, t: u32, f: &mut impl FnMut(u32, u32)) {
    fn rec(key: u32, from: u32, bits: u32, d: u32, left: u32, f: &mut impl FnMut(u32, u32)) {
        f(key, d);
        if left == 0 {
            return;
        }
        for b in from..bits {
            rec(key ^ (1 << b), b + 1, bits, d + 1, left - 1, f);
        }
    }
    rec(key, 0, bits, 0, t.min(bits), f);
}

/// One chunk table: which bits it covers and how they are split between the
/// directory key and the postings.
#[derive(Clone, Copy, Debug)]
struct Table {
    /// First bit and width of the chunk.
    start: u32,
    width: u32,
    /// Directory key width (the top bits of the chunk).
    dir: u32,
    /// Chunk bits kept in each posting below the directory key.
    low: u32,
    /// Start of this table's directory in `Segment::offsets`.
    dir_start: usize,
}

impl Table {
    #[inline]
    fn chunk(&self, limbs: &[u64; 4]) -> u32 {
        bits(limbs, self.start, self.width)
    }

    /// A chunk value as (directory key, low bits kept in postings).
    #[inline]
    fn split(&self, v: u32) -> (usize, u32) {
        let below = self.width - self.dir;
        (
            (v >> below) as usize,
            (v & ((1 << below) - 1)) >> (below - self.low),
        )
    }
}

/// An immutable set of (hash, id) entries with one table per chunk.
pub(crate) struct Segment {
    /// Entries, ordered by bucket of chunk 0 (so table 0 needs no postings).
    hashes: Vec<[u64; 4]>,
    ids: Vec<u64>,
    /// Bit `i` set = entry `i` removed.
    removed: Vec<u64>,
    live: usize,
    tables: Vec<Table>,
    /// The directories (`2^dir + 1` bucket offsets per table), back to back.
    offsets: Vec<u32>,
    /// Tables 1..: `len()` postings each, grouped by bucket, by position within a
    /// bucket; a posting is `position << low | low chunk bits`, bit-packed to the
    /// bits it needs.
    postings: Vec<Packed>,
}

/// Directory bits for a segment of `n` entries: about 4 entries per bucket, 4..=18 bits.
fn key_bits_for(n: usize) -> u32 {
    let log2 = usize::BITS - n.max(1).leading_zeros();
    log2.saturating_sub(2).clamp(4, MAX_DIR_BITS)
}

impl Segment {
    /// Builds the tables (two counting-sort passes per table). Callers keep segments
    /// under `u32::MAX` entries (`HashBank` caps banks).
    pub(crate) fn build(entries: &[(Hash256, u64)]) -> Segment {
        Self::build_with(entries, layout_for(entries.len()))
    }

    fn build_with(entries: &[(Hash256, u64)], layout: Layout) -> Segment {
        let n = entries.len();
        let key_bits = key_bits_for(n);
        let pos_bits = usize::BITS - n.saturating_sub(1).leading_zeros();
        let mut tables = Vec::with_capacity(layout.len());
        let (mut start, mut dir_start) = (0, 0);
        for &width in layout {
            let dir = key_bits.min(width);
            let low = (width - dir).min(32u32.saturating_sub(pos_bits));
            tables.push(Table {
                start,
                width,
                dir,
                low,
                dir_start,
            });
            start += width;
            dir_start += (1usize << dir) + 1;
        }
        let mut offsets = vec![0u32; dir_start];
        let mut hashes = vec![[0u64; 4]; n];
        let mut ids = vec![0u64; n];
        let mut postings: Vec<Packed> = tables[1..]
            .iter()
            .map(|t| Packed::new(n, pos_bits + t.low, layout == WIDE))
            .collect();
        let mut next: Vec<u32> = Vec::new();
        let mut scratch: Vec<u32> = Vec::new();
        for (c, t) in tables.iter().enumerate() {
            let key = |l: &[u64; 4]| t.split(t.chunk(l));
            let buckets = 1usize << t.dir;
            let counts = &mut offsets[t.dir_start..t.dir_start + buckets + 1];
            if c == 0 {
                for (h, _) in entries {
                    counts[key(&h.limbs()).0 + 1] += 1;
                }
            } else {
                for l in &hashes {
                    counts[key(l).0 + 1] += 1;
                }
            }
            for b in 0..buckets {
                counts[b + 1] += counts[b];
            }
            next.clear();
            next.extend_from_slice(&counts[..buckets]);
            if c == 0 {
                // Table 0: order the entries themselves by bucket (stable counting sort).
                for (h, id) in entries {
                    let limbs = h.limbs();
                    let slot = &mut next[key(&limbs).0];
                    hashes[*slot as usize] = limbs;
                    ids[*slot as usize] = *id;
                    *slot += 1;
                }
                continue;
            }
            // Tables 1..: postings grouped by bucket, in position order within one
            // (scattered as 32-bit words, then packed in one sequential pass).
            scratch.resize(n, 0);
            for (i, l) in hashes.iter().enumerate() {
                let (b, low) = key(l);
                let slot = &mut next[b];
                scratch[*slot as usize] = ((i as u32) << t.low) | low;
                *slot += 1;
            }
            let table = &mut postings[c - 1];
            for (k, &p) in scratch.iter().enumerate() {
                table.set(k, p);
            }
        }
        Segment {
            removed: vec![0; n.div_ceil(64)],
            live: n,
            hashes,
            ids,
            tables,
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
            + self.postings.iter().map(Packed::heap_bytes).sum::<usize>()
            + self.tables.capacity() * std::mem::size_of::<Table>()
    }

    /// Bucket `b` of table `t`, as a range of positions (table 0) or postings.
    fn range(&self, t: &Table, b: usize) -> std::ops::Range<usize> {
        let at = t.dir_start + b;
        self.offsets[at] as usize..self.offsets[at + 1] as usize
    }

    /// Marks live entries equal to `hash` (and to `id` if given) removed; returns how many.
    pub(crate) fn remove(&mut self, hash: &Hash256, id: Option<u64>) -> usize {
        let limbs = hash.limbs();
        let Some(t0) = self.tables.first() else {
            return 0;
        };
        let (b, _) = t0.split(t0.chunk(&limbs));
        let mut n = 0;
        for i in self.range(t0, b) {
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

    /// Whether the scan is estimated cheaper than the tables for thresholds `ts`.
    fn prefer_scan(&self, ts: &[Option<u32>; MAX_CHUNKS]) -> bool {
        let n = self.len() as u64;
        let mut cost = 0u64;
        for (c, (t, tab)) in ts.iter().zip(&self.tables).enumerate() {
            let Some(t) = *t else { continue };
            let probes = ball_size(tab.dir, t);
            let per_bucket = (n >> tab.dir).max(1);
            // ~15 ns per bucket visited, ~1 ns per posting read (table 0: ~3 ns per
            // entry verified).
            cost += probes * 15 + probes * per_bucket * if c == 0 { 3 } else { 1 };
        }
        // ~1.5 ns per scanned entry.
        cost * 2 >= n * 3
    }

    /// The thresholds to search with, or `None` when a scan is to be used.
    fn plan(&self, r: u32, strategy: SearchMode) -> Option<[Option<u32>; MAX_CHUNKS]> {
        let ts = thresholds(r, self.tables.len());
        let scan = match strategy {
            SearchMode::Auto => self.prefer_scan(&ts),
            SearchMode::Index => r >= 256,
            SearchMode::Scan => true,
        };
        (!scan).then_some(ts)
    }

    /// Popcount scan of every entry.
    fn scan(&self, ql: &[u64; 4], r: u32, found: &mut impl FnMut(Hash256, u64, u32)) {
        for (i, l) in self.hashes.iter().enumerate() {
            if let Some(d) = distance_within(ql, l, r)
                && !self.is_removed(i)
            {
                found(Hash256::from_limbs(*l), self.ids[i], d);
            }
        }
    }

    /// The query's chunk values, one per table.
    fn query_chunks(&self, ql: &[u64; 4]) -> [u32; MAX_CHUNKS] {
        std::array::from_fn(|c| self.tables.get(c).map_or(0, |t| t.chunk(ql)))
    }

    /// The table an entry within the radius is reported from: its first chunk within
    /// that chunk's threshold.
    fn owner(
        &self,
        qc: &[u32; MAX_CHUNKS],
        ts: &[Option<u32>; MAX_CHUNKS],
        l: &[u64; 4],
    ) -> Option<usize> {
        self.tables
            .iter()
            .enumerate()
            .position(|(c, tab)| ts[c].is_some_and(|t| (qc[c] ^ tab.chunk(l)).count_ones() <= t))
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
        let Some(ts) = self.plan(r, strategy) else {
            self.scan(&ql, r, found);
            return;
        };
        let qc = self.query_chunks(&ql);
        // Three passes of independent memory accesses (the CPU overlaps the cache
        // misses of each pass): bucket bounds, then the postings they list (filtered
        // by their low chunk bits), then the verification of the candidates.
        let mut ranges: Vec<(u32, u32, u32, u32)> = Vec::with_capacity(2048);
        for (c, tab) in self.tables.iter().enumerate() {
            let Some(t) = ts[c] else { continue };
            let (qkey, _) = tab.split(qc[c]);
            for_each_key_within(qkey as u32, tab.dir, t, &mut |b, d| {
                let span = self.range(tab, b as usize);
                if !span.is_empty() {
                    ranges.push((c as u32, span.start as u32, span.end as u32, t - d));
                }
            });
        }
        // Touch every cache line of every posting run so that the misses overlap
        // (the filtering loop below branches on the loaded values, which would
        // otherwise serialise them).
        let mut touch = 0u32;
        for &(c, lo, hi, _) in &ranges {
            if let Some(table) = self.postings.get((c as usize).wrapping_sub(1)) {
                touch ^= table.touch(lo as usize..hi as usize);
            }
        }
        std::hint::black_box(touch);
        let mut candidates: Vec<(u32, u32)> = Vec::with_capacity(8192);
        for &(c, lo, hi, left) in &ranges {
            let (c, lo, hi) = (c as usize, lo as usize, hi as usize);
            if c == 0 {
                candidates.extend((lo as u32..hi as u32).map(|i| (0, i)));
                continue;
            }
            let tab = &self.tables[c];
            let table = &self.postings[c - 1];
            let tag = c as u32;
            if tab.low == 0 {
                match table.words().and_then(|w| w.get(lo..hi)) {
                    Some(run) => candidates.extend(run.iter().map(|&p| (tag, p))),
                    None => candidates.extend(table.run(lo..hi).map(|p| (tag, p))),
                }
                continue;
            }
            let run = table.run(lo..hi);
            let (_, qlow) = tab.split(qc[c]);
            let mask = (1u32 << tab.low) - 1;
            for p in run {
                if at_most(left, (p ^ qlow) & mask) {
                    candidates.push((tag, p >> tab.low));
                }
            }
        }
        for &(c, i) in &candidates {
            let i = i as usize;
            let l = &self.hashes[i];
            if let Some(d) = distance_within(&ql, l, r)
                && self.owner(&qc, &ts, l) == Some(c as usize)
                && !self.is_removed(i)
            {
                found(Hash256::from_limbs(*l), self.ids[i], d);
            }
        }
    }
}

#[cfg(test)]
mod tests;
