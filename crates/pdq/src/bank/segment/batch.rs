//! Batched queries: the same buckets, candidates and checks as [`Segment::query`], but
//! for many queries at once and visited in memory order. The bucket probes of a block of
//! queries are radix-sorted by directory slot (so directories and postings are read in
//! address order), and the candidates by position in the entry array (so the hashes
//! are read in address order too), instead of ~9,000 scattered reads per query. Only
//! worth it when the segment is far larger than the caches: smaller segments answer
//! each query on its own.

use super::{MAX_CHUNKS, Segment, at_most, ball_size, distance_within, for_each_key_within};
use crate::Hash256;
use crate::bank::SearchMode;

/// Queries per block (bounds the temporary buffers: ~40 KiB per query at 10 M entries).
const BLOCK: usize = 1024;
/// Segments smaller than this answer the queries of a batch one by one (in `Auto`
/// mode; `Index` always batches, for the tests): measured slower batched at 1 M
/// entries (~9,400 vs ~17,000 q/s), faster at 10 M (~2,050 vs ~1,500–1,900 q/s).
const BATCH_FROM: usize = super::WIDE_FROM;
/// Radix digit width of the sorts.
const DIGIT: u32 = 8;

/// Sorts `items` by their bits `shift .. shift + bits` (LSD radix sort, stable).
fn radix_sort(mut items: Vec<u64>, shift: u32, bits: u32) -> Vec<u64> {
    let mut other = vec![0u64; items.len()];
    let mut done = 0;
    while done < bits {
        let width = (bits - done).min(DIGIT);
        let (sh, mask) = (shift + done, (1u64 << width) - 1);
        let digit = |x: u64| ((x >> sh) & mask) as usize;
        let mut next = vec![0usize; (1 << width) + 1];
        for &x in &items {
            next[digit(x) + 1] += 1;
        }
        for d in 0..1 << width {
            next[d + 1] += next[d];
        }
        for &x in &items {
            let slot = &mut next[digit(x)];
            other[*slot] = x;
            *slot += 1;
        }
        std::mem::swap(&mut items, &mut other);
        done += width;
    }
    items
}

/// Bits needed to write every value below `n`.
fn bits_below(n: usize) -> u32 {
    usize::BITS - n.saturating_sub(1).leading_zeros()
}

impl Segment {
    /// Calls `found(query index, hash, id, distance)` once for every live entry within
    /// `r` of each query.
    pub(crate) fn query_batch(
        &self,
        queries: &[Hash256],
        r: u32,
        strategy: SearchMode,
        found: &mut impl FnMut(usize, Hash256, u64, u32),
    ) {
        if self.live == 0 {
            return;
        }
        let Some(ts) = self.plan(r, strategy) else {
            for (qi, q) in queries.iter().enumerate() {
                self.scan(&q.limbs(), r, &mut |h, id, d| found(qi, h, id, d));
            }
            return;
        };
        // Budgets are packed in 8 bits (always so when the tables are used: r < 256).
        let small = strategy == SearchMode::Auto && self.len() < BATCH_FROM;
        if small || ts.iter().flatten().any(|&t| t > 255) {
            for (qi, q) in queries.iter().enumerate() {
                self.query(q, r, strategy, &mut |h, id, d| found(qi, h, id, d));
            }
            return;
        }
        // Fewer queries per block when each probes many buckets (large radii with
        // `Index`), so that the probe list stays under ~32 MiB.
        let probes: u64 = (self.tables.iter().zip(&ts))
            .filter_map(|(tab, t)| t.map(|t| ball_size(tab.dir, t)))
            .sum();
        let block = ((1u64 << 22) / probes.max(1)).clamp(1, BLOCK as u64) as usize;
        let mut start = 0;
        while let Some(rest) = queries.get(start..).filter(|q| !q.is_empty()) {
            let part = rest.get(..block).unwrap_or(rest);
            self.block(part, start, r, &ts, found);
            start += part.len();
        }
    }

    fn block(
        &self,
        queries: &[Hash256],
        base: usize,
        r: u32,
        ts: &[Option<u32>; MAX_CHUNKS],
        found: &mut impl FnMut(usize, Hash256, u64, u32),
    ) {
        let qls: Vec<[u64; 4]> = queries.iter().map(Hash256::limbs).collect();
        let qcs: Vec<[u32; MAX_CHUNKS]> = qls.iter().map(|l| self.query_chunks(l)).collect();
        // Probes: directory slot << 32 | query << 8 | bits left for the low chunk bits
        // (query < BLOCK < 2^24, budget <= 255).
        let mut probes: Vec<u64> = Vec::new();
        for (c, tab) in self.tables.iter().enumerate() {
            let Some(t) = ts[c] else { continue };
            for (qi, qc) in qcs.iter().enumerate() {
                let (key, _) = tab.split(qc[c]);
                for_each_key_within(key as u32, tab.dir, t, &mut |b, d| {
                    let slot = (tab.dir_start + b as usize) as u64;
                    probes.push(slot << 32 | (qi as u64) << 8 | u64::from(t - d));
                });
            }
        }
        let probes = radix_sort(probes, 32, bits_below(self.offsets.len()));
        // Candidates: position << 32 | query << 8 | table.
        let n = self.len();
        let mut candidates: Vec<u64> = Vec::new();
        for &p in &probes {
            let slot = (p >> 32) as usize;
            let qi = (p >> 8) & 0xff_ffff;
            let left = (p & 0xff) as u32;
            let c = self
                .tables
                .partition_point(|t| t.dir_start <= slot)
                .saturating_sub(1);
            let tab = &self.tables[c];
            let span = self.range(tab, slot - tab.dir_start);
            let tag = qi << 8 | c as u64;
            if c == 0 {
                candidates.extend(span.map(|i| (i as u64) << 32 | tag));
                continue;
            }
            let table = &self.postings[c - 1];
            if tab.low == 0 {
                match table.words().and_then(|w| w.get(span.clone())) {
                    Some(run) => candidates.extend(run.iter().map(|&i| u64::from(i) << 32 | tag)),
                    None => candidates.extend(table.run(span).map(|i| u64::from(i) << 32 | tag)),
                }
                continue;
            }
            let run = table.run(span);
            let (_, qlow) = tab.split(qcs[qi as usize][c]);
            let mask = (1u32 << tab.low) - 1;
            for e in run {
                if at_most(left, (e ^ qlow) & mask) {
                    candidates.push(u64::from(e >> tab.low) << 32 | tag);
                }
            }
        }
        let candidates = radix_sort(candidates, 32, bits_below(n));
        for &x in &candidates {
            let i = (x >> 32) as usize;
            let qi = ((x >> 8) & 0xff_ffff) as usize;
            let c = (x & 0xff) as usize;
            let l = &self.hashes[i];
            if let Some(d) = distance_within(&qls[qi], l, r)
                && self.owner(&qcs[qi], ts, l) == Some(c)
                && !self.is_removed(i)
            {
                found(base + qi, Hash256::from_limbs(*l), self.ids[i], d);
            }
        }
    }
}
