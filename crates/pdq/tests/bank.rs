//! Item 4: the hash bank is exact (same results as a brute-force scan), honours the
//! boundary pairs, reproduces the upstream needles/haystack matches, and forgets
//! withdrawn hashes at once.
// Integration-test crate: panicking on a broken fixture is the point.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use proptest::prelude::*;
use rempart_pdq::Hash256;
use rempart_pdq::bank::{Banks, HashBank, Match, SearchMode, file};

/// The obviously-correct reference: scan everything.
fn brute(entries: &[(Hash256, u64)], q: &Hash256, r: u32) -> Vec<Match> {
    let mut out: Vec<Match> = entries
        .iter()
        .filter(|(h, _)| h.distance(q) <= r)
        .map(|&(hash, id)| Match {
            distance: hash.distance(q),
            hash,
            id,
        })
        .collect();
    out.sort_unstable();
    out
}

fn hash_from(seed: [u64; 4]) -> Hash256 {
    Hash256::from_limbs(seed)
}

fn flip(h: Hash256, bits: &[usize]) -> Hash256 {
    let mut out = h;
    for &b in bits {
        out.flip_bit(b);
    }
    out
}

/// A query near bank entry `pick`: exactly `k` distinct bits flipped.
fn near(entries: &[(Hash256, u64)], pick: usize, k: usize, salt: u64) -> Hash256 {
    let base = entries[pick % entries.len()].0;
    let mut bits: Vec<usize> = (0..256).collect();
    // deterministic shuffle from the salt
    let mut s = salt | 1;
    for i in (1..bits.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        bits.swap(i, (s % (i as u64 + 1)) as usize);
    }
    flip(base, &bits[..k])
}

fn bank_strategy() -> impl Strategy<Value = Vec<(Hash256, u64)>> {
    // Clustered banks: random hashes plus near-duplicates of them, and repeated hashes.
    (
        proptest::collection::vec(any::<[u64; 4]>(), 1..600),
        any::<u64>(),
    )
        .prop_map(|(seeds, salt)| {
            let base: Vec<(Hash256, u64)> = seeds
                .iter()
                .enumerate()
                .map(|(i, s)| (hash_from(*s), i as u64))
                .collect();
            let mut all = base.clone();
            for i in 0..base.len() * 4 {
                let k = [0, 1, 15, 16, 17, 30, 31, 32, 33, 47, 48][i % 11];
                let h = near(&base, i * 7, k, salt.wrapping_add(i as u64));
                all.push((h, 10_000 + i as u64));
            }
            all
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn queries_equal_brute_force(entries in bank_strategy(), salt in any::<u64>(), radius in 0u32..80) {
        let mut banks = Vec::new();
        for strategy in [SearchMode::Index, SearchMode::Scan, SearchMode::Auto] {
            let mut b = HashBank::from_entries(entries.clone()).unwrap();
            b.set_strategy(strategy);
            banks.push(b);
        }
        let mut queries = Vec::new();
        for i in 0..24usize {
            let k = [0, 1, 16, 30, 31, 32, 33, 40, 64, 128][i % 10];
            let q = near(&entries, i * 31 + salt as usize % 997, k, salt ^ i as u64);
            queries.push(q);
            for r in [radius, 31, 32, 33] {
                let want = brute(&entries, &q, r);
                for b in &banks {
                    prop_assert_eq!(&b.query_radius(&q, r), &want, "k={} r={}", k, r);
                }
            }
        }
        // Batched queries give the same lists, in query order.
        for r in [radius, 31, 32, 33] {
            let want: Vec<Vec<Match>> = queries.iter().map(|q| brute(&entries, q, r)).collect();
            for b in &banks {
                prop_assert_eq!(&b.query_batch(&queries, r), &want, "batch r={}", r);
            }
        }
    }

    #[test]
    fn adds_and_removes_match_a_model(entries in bank_strategy(), ops in proptest::collection::vec((any::<bool>(), any::<usize>()), 1..60)) {
        let mut bank = HashBank::new();
        bank.set_strategy(SearchMode::Index);
        let mut model: Vec<(Hash256, u64)> = Vec::new();
        for (n, &(hash, id)) in entries.iter().enumerate() {
            bank.add(hash, id).unwrap();
            model.push((hash, id));
            if n % 500 == 0 {
                prop_assert_eq!(bank.len(), model.len());
            }
        }
        for (i, &(remove, pick)) in ops.iter().enumerate() {
            let (hash, id) = entries[pick % entries.len()];
            if remove {
                let n = bank.remove(&hash, id);
                let before = model.len();
                model.retain(|e| *e != (hash, id));
                prop_assert_eq!(n, before - model.len());
                // withdrawn: gone at once, at any radius
                prop_assert!(bank.query_radius(&hash, 0).iter().all(|m| m.id != id));
            } else {
                bank.add(hash, id + 1_000_000).unwrap();
                model.push((hash, id + 1_000_000));
            }
            prop_assert_eq!(bank.len(), model.len());
            let q = near(&entries, pick, i % 40, pick as u64);
            prop_assert_eq!(bank.query_radius(&q, 31), brute(&model, &q, 31));
            let batch = bank.query_batch(&[q, hash], 31);
            prop_assert_eq!(&batch[0], &brute(&model, &q, 31));
            prop_assert_eq!(&batch[1], &brute(&model, &hash, 31));
        }
        bank.flush_tail();
        let mut got = bank.entries();
        got.sort_unstable();
        model.sort_unstable();
        prop_assert_eq!(got, model);
    }
}

#[test]
fn remove_hash_withdraws_every_id_and_banks_are_separate() {
    let a = Hash256::from_limbs([1, 2, 3, 4]);
    let b = Hash256::from_limbs([!1, !2, !3, !4]);
    let mut entries: Vec<(Hash256, u64)> = (0..5000)
        .map(|i| (Hash256::from_limbs([i, i * 3, !i, i << 7]), i))
        .collect();
    entries.extend([(a, 1), (a, 2), (b, 3)]);
    let mut banks = Banks::new();
    banks.insert("ncii", HashBank::from_entries(entries).unwrap());
    banks
        .bank_mut("platform")
        .add(flip(a, &[3, 99]), 9)
        .unwrap();
    let hits = banks.query_radius(&a, 31);
    let names: Vec<(&str, u64, u32)> = hits
        .iter()
        .map(|m| (m.bank, m.entry.id, m.entry.distance))
        .collect();
    assert_eq!(
        names,
        vec![("ncii", 1, 0), ("ncii", 2, 0), ("platform", 9, 2)]
    );
    let batch = banks.query_batch(&[b, a], 31);
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[1], hits);
    assert_eq!(batch[0].len(), 1);
    let ncii = banks.bank_mut("ncii");
    assert_eq!(ncii.remove_hash(&a), 2);
    assert_eq!(ncii.remove_hash(&a), 0);
    assert!(ncii.query_radius(&a, 31).is_empty());
    assert_eq!(ncii.query_radius(&b, 0).len(), 1);
    assert_eq!(banks.names().collect::<Vec<_>>(), vec!["ncii", "platform"]);
}

#[test]
fn boundary_pairs_are_honoured() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let csv = common::Csv::read(&dir.join("expected/hamming_boundary_pairs.csv"));
    let (ca, cb, cd, cm) = (
        csv.col("hash_a"),
        csv.col("hash_b"),
        csv.col("distance"),
        csv.col("match_at_31"),
    );
    assert!(csv.rows.len() >= 70);
    // Bank of all b-hashes (plus filler so the tables, not the scan, are used).
    let mut entries: Vec<(Hash256, u64)> = csv
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (Hash256::parse(&r[cb]).unwrap(), i as u64))
        .collect();
    entries.extend((0..3000u64).map(|i| {
        (
            Hash256::from_limbs([i.wrapping_mul(0x9e37_79b9_7f4a_7c15), !i, i, i ^ 0x5555]),
            1_000_000 + i,
        )
    }));
    for strategy in [SearchMode::Index, SearchMode::Scan] {
        let mut bank = HashBank::from_entries(entries.clone()).unwrap();
        bank.set_strategy(strategy);
        let queries: Vec<Hash256> = csv
            .rows
            .iter()
            .map(|r| Hash256::parse(&r[ca]).unwrap())
            .collect();
        let batch = bank.query_batch(&queries, 31);
        for (i, r) in csv.rows.iter().enumerate() {
            assert_eq!(batch[i], bank.query_radius(&queries[i], 31), "row {i}");
            let (a, b) = (
                Hash256::parse(&r[ca]).unwrap(),
                Hash256::parse(&r[cb]).unwrap(),
            );
            let d: u32 = r[cd].parse().unwrap();
            assert_eq!(a.distance(&b), d, "row {i}");
            let found = bank.query_radius(&a, 31).iter().any(|m| m.id == i as u64);
            assert_eq!(
                found,
                r[cm] == "1",
                "row {i} distance {d} strategy {strategy:?}"
            );
        }
    }
}

#[test]
fn needles_vs_haystack_reproduced_exactly() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let inputs = dir.join("data/reg-test-input");
    // Text bank format: one hash per line -> id = line number.
    let haystack = file::load(&inputs.join("haystack.txt")).unwrap();
    let mut indexed = file::load(&inputs.join("haystack.txt")).unwrap();
    indexed.set_strategy(SearchMode::Index);
    let needles = common::hash_lines(&inputs.join("needles.txt"));
    let mut got = Vec::new();
    let batch = indexed.query_batch(&needles, 31);
    for (n, needle) in needles.iter().enumerate() {
        let hits = haystack.query_radius(needle, 31);
        assert_eq!(hits, indexed.query_radius(needle, 31));
        assert_eq!(hits, batch[n]);
        for m in hits {
            got.push(format!(
                "{},{},{},{},{}",
                n + 1,
                needle,
                m.id,
                m.hash,
                m.distance
            ));
        }
    }
    let expected = common::Csv::read(&dir.join("expected/needles_vs_haystack_matches_d31.csv"));
    let mut want: Vec<String> = expected.rows.iter().map(|r| r.join(",")).collect();
    got.sort();
    want.sort();
    assert_eq!(want.len(), 250);
    assert_eq!(got, want);
}

/// A bank large enough for the wide layout and the batched path (>= 1.5 M entries):
/// single and batched queries equal a brute-force scan at the boundary radii.
#[test]
fn large_bank_equals_brute_force() {
    let mut s = 0x0123_4567_89ab_cdefu64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut entries: Vec<(Hash256, u64)> = (0..1_600_000u64)
        .map(|i| (hash_from([next(), next(), next(), next()]), i))
        .collect();
    // near-duplicates at every distance up to 40 of the first 400 entries
    for i in 0..400usize {
        let h = near(&entries, i, i % 41, i as u64);
        entries.push((h, 5_000_000 + i as u64));
    }
    let queries: Vec<Hash256> = (0..60usize)
        .map(|i| {
            near(
                &entries,
                i * 7,
                [0, 1, 2, 16, 23, 30, 31, 32, 33, 40][i % 10],
                99 + i as u64,
            )
        })
        .collect();
    let bank = HashBank::from_entries(entries.clone()).unwrap();
    for r in [31, 32, 33] {
        let want: Vec<Vec<Match>> = queries.iter().map(|q| brute(&entries, q, r)).collect();
        let single: Vec<Vec<Match>> = queries.iter().map(|q| bank.query_radius(q, r)).collect();
        assert_eq!(single, want, "r={r}");
        assert_eq!(bank.query_batch(&queries, r), want, "batch r={r}");
        assert!(want.iter().filter(|w| !w.is_empty()).count() >= 30);
    }
    // More queries than one batch block (1024): the lists stay in query order.
    let many: Vec<Hash256> = (0..1100usize)
        .map(|i| near(&entries, i * 13, i % 35, i as u64))
        .collect();
    let single: Vec<Vec<Match>> = many.iter().map(|q| bank.query_radius(q, 31)).collect();
    assert_eq!(bank.query_batch(&many, 31), single);
}
