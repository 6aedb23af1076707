//! Unit tests of the segment internals (both layouts, batched and single queries).

use super::*;

#[test]
fn ball_sizes() {
    assert_eq!(ball_size(16, 0), 1);
    assert_eq!(ball_size(16, 1), 17);
    assert_eq!(ball_size(16, 2), 137);
    assert_eq!(ball_size(4, 9), 16);
    for t in 0..4 {
        let mut seen = std::collections::BTreeSet::new();
        for_each_key_within(0b1011, 6, t, &mut |k, d| {
            assert!((k ^ 0b1011).count_ones() == d && d <= t && k < 64);
            assert!(seen.insert(k), "key {k} twice");
        });
        assert_eq!(seen.len() as u64, ball_size(6, t));
    }
}

#[test]
fn layouts_partition_the_bits_and_thresholds_cover_the_radius() {
    for layout in [NARROW, WIDE] {
        assert_eq!(layout.iter().sum::<u32>(), 256);
        assert!(layout.len() <= MAX_CHUNKS && layout.iter().all(|&w| w <= 32));
        let seg = Segment::build_with(&[(Hash256::from_limbs([1, 2, 3, 4]), 0)], layout);
        for bit in 0..256 {
            let mut limbs = [0u64; 4];
            limbs[bit / 64] = 1 << (bit % 64);
            let set: u32 = seg
                .tables
                .iter()
                .map(|t| t.chunk(&limbs).count_ones())
                .sum();
            assert_eq!(set, 1, "bit {bit}");
        }
        for r in 0..300 {
            let units: u32 = thresholds(r, layout.len())
                .iter()
                .flatten()
                .map(|t| t + 1)
                .sum();
            assert_eq!(units, r + 1);
        }
    }
    assert_eq!(thresholds(31, 11)[0], Some(1));
    assert!(thresholds(31, 11)[1..11].iter().all(|&t| t == Some(2)));
    assert!(thresholds(31, 16)[..16].iter().all(|&t| t == Some(1)));
}

/// Both layouts, every size class of directory, against a brute-force scan
/// (the integration tests only reach the layout their bank sizes select).
#[test]
fn both_layouts_equal_brute_force() {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for (layout, n) in [(NARROW, 300), (WIDE, 300), (NARROW, 5000), (WIDE, 20_000)] {
        let mut entries: Vec<(Hash256, u64)> = Vec::new();
        for i in 0..n as u64 {
            let h = if i % 3 == 0 || entries.is_empty() {
                [next(), next(), next(), next()]
            } else {
                // a near-duplicate of an earlier entry, 0..=40 bits away
                let mut l = entries[(next() as usize) % entries.len()].0.limbs();
                for _ in 0..next() % 41 {
                    let b = next() as usize % 256;
                    l[b / 64] ^= 1 << (b % 64);
                }
                l
            };
            entries.push((Hash256::from_limbs(h), i));
        }
        let mut seg = Segment::build_with(&entries, layout);
        for &(h, id) in entries.iter().step_by(7) {
            seg.remove(&h, Some(id));
        }
        let live: Vec<(Hash256, u64)> = seg.entries().collect();
        let brute = |q: &Hash256, r: u32| {
            let mut want: Vec<(u64, u32)> = live
                .iter()
                .filter(|(h, _)| h.distance(q) <= r)
                .map(|(h, id)| (*id, h.distance(q)))
                .collect();
            want.sort_unstable();
            want
        };
        let mut queries = Vec::new();
        for k in 0..60u64 {
            let mut q = entries[(next() as usize) % n].0.limbs();
            for _ in 0..[0, 1, 2, 15, 16, 23, 30, 31, 32, 33, 46, 64][k as usize % 12] {
                let b = next() as usize % 256;
                q[b / 64] ^= 1 << (b % 64);
            }
            let q = Hash256::from_limbs(q);
            queries.push(q);
            for r in [0, 1, 2, 10, 21, 22, 31, 32, 33, 47, 70] {
                let mut got = Vec::new();
                seg.query(&q, r, SearchMode::Index, &mut |_, id, d| got.push((id, d)));
                got.sort_unstable();
                assert_eq!(got, brute(&q, r), "layout {} n {n} r {r}", layout.len());
            }
        }
        for r in [0, 2, 31, 32, 33, 70] {
            let mut got = vec![Vec::new(); queries.len()];
            seg.query_batch(&queries, r, SearchMode::Index, &mut |qi, _, id, d| {
                got[qi].push((id, d));
            });
            for (hits, q) in got.iter_mut().zip(&queries) {
                hits.sort_unstable();
                assert_eq!(
                    *hits,
                    brute(q, r),
                    "batch layout {} n {n} r {r}",
                    layout.len()
                );
            }
        }
    }
}

#[test]
fn key_bits_grow_with_size() {
    assert_eq!(key_bits_for(0), 4);
    assert_eq!(key_bits_for(1000), 8);
    assert_eq!(key_bits_for(1_000_000), 18);
    assert_eq!(key_bits_for(10_000_000), 18);
}
