//! Exact Hamming-radius search over 256-bit hashes, with ids, add and remove.
//!
//! A [`HashBank`] is a small log-structured set of immutable multi-index segments
//! (see `segment.rs` for the pigeonhole argument that makes them exact) plus a short
//! unindexed tail of recent additions. Additions go to the tail; a full tail becomes a
//! segment, and segments of similar size are merged, so a query visits O(log n)
//! segments. Removal marks entries at once (a withdrawn hash stops matching
//! immediately); merges drop marked entries. Every query returns exactly the entries a
//! brute-force scan would (property-tested). [`HashBank::query_batch`] answers many
//! queries at once, reading large segments in memory order (same results).
//!
//! [`Banks`] holds several named banks. File formats are in [`file`].

pub mod file;
mod segment;

use std::collections::BTreeMap;

use crate::Hash256;
use segment::Segment;

/// The conventional PDQ match radius (distance <= 31).
pub const DEFAULT_RADIUS: u32 = 31;

/// Additions kept unindexed before they become a segment.
const TAIL_MAX: usize = 2048;

/// A segment is merged into the one before it when that one is less than this many
/// times larger.
const MERGE_RATIO: usize = 4;

/// Largest number of entries in one bank (segment positions are 32-bit).
pub const MAX_ENTRIES: usize = (u32::MAX - 1) as usize;

/// One hit of a radius query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Match {
    /// Hamming distance to the query.
    pub distance: u32,
    /// The stored hash.
    pub hash: Hash256,
    /// The id attached to it.
    pub id: u64,
}

/// Bank errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    /// The bank already holds [`MAX_ENTRIES`] entries.
    #[error("hash bank is full")]
    Full,
}

/// A set of (hash, id) entries answering exact radius queries.
///
/// The same hash may be stored under several ids, and the same (hash, id) pair
/// several times (each copy is a separate entry).
#[derive(Default)]
pub struct HashBank {
    segments: Vec<Segment>,
    tail: Vec<(Hash256, u64)>,
    strategy: SearchMode,
}

/// How segments are searched. Results are the same; only speed differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchMode {
    /// Per segment, the cheaper of the tables and a scan (cost model).
    #[default]
    Auto,
    /// Always the multi-index tables (tests, benchmarks).
    Index,
    /// Always a popcount scan (tests, benchmarks).
    Scan,
}

impl HashBank {
    /// An empty bank.
    pub fn new() -> Self {
        Self::default()
    }

    /// A bank built in one go (the fast path for loading files).
    pub fn from_entries(entries: Vec<(Hash256, u64)>) -> Result<Self, BankError> {
        if entries.len() > MAX_ENTRIES {
            return Err(BankError::Full);
        }
        let mut bank = HashBank::new();
        if !entries.is_empty() {
            bank.segments.push(Segment::build(&entries));
        }
        Ok(bank)
    }

    /// Chooses the search strategy (for tests and benchmarks; results never change).
    pub fn set_strategy(&mut self, strategy: SearchMode) {
        self.strategy = strategy;
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.tail.len() + self.segments.iter().map(Segment::live).sum::<usize>()
    }

    /// Whether the bank has no live entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an entry; it matches from now on.
    pub fn add(&mut self, hash: Hash256, id: u64) -> Result<(), BankError> {
        if self.len() >= MAX_ENTRIES {
            return Err(BankError::Full);
        }
        self.tail.push((hash, id));
        if self.tail.len() >= TAIL_MAX {
            self.flush_tail();
        }
        Ok(())
    }

    /// Indexes the tail now and merges segments of similar size.
    pub fn flush_tail(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        let tail = std::mem::take(&mut self.tail);
        self.segments.push(Segment::build(&tail));
        while self.segments.len() >= 2 {
            let n = self.segments.len();
            let (prev, last) = (&self.segments[n - 2], &self.segments[n - 1]);
            if prev.live() >= MERGE_RATIO * last.live() && prev.live() * 2 >= prev.len() {
                break;
            }
            let last = self.segments.pop();
            let prev = self.segments.pop();
            let merged: Vec<(Hash256, u64)> = prev
                .iter()
                .chain(last.iter())
                .flat_map(|s| s.entries())
                .collect();
            self.segments.push(Segment::build(&merged));
        }
    }

    /// Removes every entry with this hash and id; returns how many were removed.
    pub fn remove(&mut self, hash: &Hash256, id: u64) -> usize {
        self.remove_where(hash, Some(id))
    }

    /// Removes every entry with this hash, whatever its id; returns how many.
    pub fn remove_hash(&mut self, hash: &Hash256) -> usize {
        self.remove_where(hash, None)
    }

    fn remove_where(&mut self, hash: &Hash256, id: Option<u64>) -> usize {
        let before = self.tail.len();
        self.tail
            .retain(|(h, i)| !(h == hash && id.is_none_or(|id| *i == id)));
        let mut n = before - self.tail.len();
        for s in &mut self.segments {
            n += s.remove(hash, id);
        }
        n
    }

    /// Calls `found` for each live entry within `radius` of `query`, in no set order.
    pub fn for_each_within(&self, query: &Hash256, radius: u32, mut found: impl FnMut(Match)) {
        let mut emit = |hash, id, distance| found(Match { distance, hash, id });
        for s in &self.segments {
            s.query(query, radius, self.strategy, &mut emit);
        }
        for (h, id) in &self.tail {
            let d = h.distance(query);
            if d <= radius {
                emit(*h, *id, d);
            }
        }
    }

    /// All live entries within `radius` (inclusive) of `query`, sorted by distance,
    /// then hash, then id.
    pub fn query_radius(&self, query: &Hash256, radius: u32) -> Vec<Match> {
        let mut out = Vec::new();
        self.for_each_within(query, radius, |m| out.push(m));
        out.sort_unstable();
        out
    }

    /// [`query_radius`](Self::query_radius) for many queries at once (same results,
    /// one list per query, in order). Faster per query for large banks: the bucket and
    /// candidate reads of all queries are made in memory order.
    pub fn query_batch(&self, queries: &[Hash256], radius: u32) -> Vec<Vec<Match>> {
        let mut out: Vec<Vec<Match>> = vec![Vec::new(); queries.len()];
        for s in &self.segments {
            s.query_batch(
                queries,
                radius,
                self.strategy,
                &mut |qi, hash, id, distance| {
                    if let Some(hits) = out.get_mut(qi) {
                        hits.push(Match { distance, hash, id });
                    }
                },
            );
        }
        for (q, hits) in queries.iter().zip(&mut out) {
            for (h, id) in &self.tail {
                let d = h.distance(q);
                if d <= radius {
                    hits.push(Match {
                        distance: d,
                        hash: *h,
                        id: *id,
                    });
                }
            }
            hits.sort_unstable();
        }
        out
    }

    /// All live entries (segment order, then additions).
    pub fn entries(&self) -> Vec<(Hash256, u64)> {
        let mut out: Vec<_> = self.segments.iter().flat_map(|s| s.entries()).collect();
        out.extend_from_slice(&self.tail);
        out
    }

    /// Heap bytes held by the bank's index and entries.
    pub fn heap_bytes(&self) -> usize {
        self.segments.iter().map(Segment::heap_bytes).sum::<usize>() + self.tail.capacity() * 40
    }
}

/// A hit of [`Banks::query_radius`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankMatch<'a> {
    /// Name of the bank holding the entry.
    pub bank: &'a str,
    /// The entry.
    pub entry: Match,
}

/// Several named banks (e.g. one per source list), queried together.
#[derive(Default)]
pub struct Banks {
    banks: BTreeMap<String, HashBank>,
}

impl Banks {
    /// No banks.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bank of that name, created empty if absent.
    pub fn bank_mut(&mut self, name: &str) -> &mut HashBank {
        self.banks.entry(name.to_owned()).or_default()
    }

    /// The bank of that name.
    pub fn bank(&self, name: &str) -> Option<&HashBank> {
        self.banks.get(name)
    }

    /// Replaces (or creates) a bank.
    pub fn insert(&mut self, name: &str, bank: HashBank) -> Option<HashBank> {
        self.banks.insert(name.to_owned(), bank)
    }

    /// Drops a whole bank.
    pub fn remove_bank(&mut self, name: &str) -> Option<HashBank> {
        self.banks.remove(name)
    }

    /// Bank names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.banks.keys().map(String::as_str)
    }

    /// [`query_radius`](Self::query_radius) for many queries at once (one list per
    /// query, in order; see [`HashBank::query_batch`]).
    pub fn query_batch(&self, queries: &[Hash256], radius: u32) -> Vec<Vec<BankMatch<'_>>> {
        let mut out: Vec<Vec<BankMatch<'_>>> = vec![Vec::new(); queries.len()];
        for (name, bank) in &self.banks {
            for (hits, found) in out.iter_mut().zip(bank.query_batch(queries, radius)) {
                hits.extend(
                    found
                        .into_iter()
                        .map(|entry| BankMatch { bank: name, entry }),
                );
            }
        }
        out
    }

    /// Hits in every bank, sorted by bank name then as [`HashBank::query_radius`].
    pub fn query_radius(&self, query: &Hash256, radius: u32) -> Vec<BankMatch<'_>> {
        self.banks
            .iter()
            .flat_map(|(name, bank)| {
                bank.query_radius(query, radius)
                    .into_iter()
                    .map(move |entry| BankMatch { bank: name, entry })
            })
            .collect()
    }
}
