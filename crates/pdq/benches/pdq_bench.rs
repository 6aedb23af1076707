//! Benchmarks (never run by `cargo test`). Plain `harness = false` binary.
//!
//!   cargo bench -p rempart-pdq                       # quick: test images + a 1M bank
//!   cargo bench -p rempart-pdq -- hash MANIFEST OUT   # used by bench/compare.sh
//!   cargo bench -p rempart-pdq -- bank HASHES QUERIES RADIUS OUT
//!
//! MANIFEST: lines `name<TAB>width<TAB>height<TAB>path-of-raw-rgb`; OUT gets
//! `name<TAB>hash<TAB>quality<TAB>ms-per-image`. HASHES/QUERIES: raw 32-byte big-endian
//! hashes back to back; OUT gets one line per query with the sorted matching indices.
//! Query speed is the best of 3 rounds, one query at a time (`q/s`) and all queries in
//! one `query_batch` call (`batch_q/s`, checked to give the same results).

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use rempart_pdq::bank::{HashBank, SearchMode};
use rempart_pdq::{Hash256, PdqHasher};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn read_hashes(path: &str) -> Res<Vec<Hash256>> {
    let bytes = std::fs::read(path)?;
    Ok(bytes
        .chunks_exact(32)
        .map(|c| {
            let mut a = [0u8; 32];
            a.copy_from_slice(c);
            Hash256::from_be_bytes(a)
        })
        .collect())
}

/// Peak resident set size of this process, in bytes (Linux).
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn bench_hash(manifest: &str, out: &str) -> Res<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut hasher = PdqHasher::new();
    for line in std::fs::read_to_string(manifest)?.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 4 {
            continue;
        }
        let (width, height): (usize, usize) = (f[1].parse()?, f[2].parse()?);
        let rgb = std::fs::read(f[3])?;
        let first = hasher.hash_pixels(width, height, 3, &rgb)?;
        // Repeat for ~0.3 s (at least 3 times); report the mean.
        let start = Instant::now();
        let mut reps = 0u32;
        while reps < 3 || (start.elapsed().as_secs_f64() < 0.3 && reps < 2000) {
            black_box(hasher.hash_pixels(width, height, 3, black_box(&rgb))?);
            reps += 1;
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / f64::from(reps);
        writeln!(w, "{}\t{}\t{}\t{ms:.4}", f[0], first.hash, first.quality)?;
    }
    Ok(())
}

fn bench_bank(hashes: &str, queries: &str, radius: u32, out: &str) -> Res<()> {
    let t0 = Instant::now();
    let entries: Vec<(Hash256, u64)> = read_hashes(hashes)?
        .into_iter()
        .enumerate()
        .map(|(i, h)| (h, i as u64))
        .collect();
    let n = entries.len();
    let t_read = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let bank = HashBank::from_entries(entries)?;
    let t_build = t1.elapsed().as_secs_f64();
    let queries = read_hashes(queries)?;
    // Best of 3 rounds (the machine is shared), one query at a time.
    let mut results: Vec<Vec<u64>> = Vec::new();
    let mut t_query = f64::INFINITY;
    for _ in 0..3 {
        results = Vec::with_capacity(queries.len());
        let t2 = Instant::now();
        for q in &queries {
            let mut ids = Vec::new();
            bank.for_each_within(q, radius, |m| ids.push(m.id));
            results.push(ids);
        }
        t_query = t_query.min(t2.elapsed().as_secs_f64());
    }
    let qps = queries.len() as f64 / t_query;
    // Batched: all queries in one call (best of 3); must give the same ids.
    let mut t_batch = f64::INFINITY;
    for _ in 0..3 {
        let t3 = Instant::now();
        let batch = bank.query_batch(&queries, radius);
        t_batch = t_batch.min(t3.elapsed().as_secs_f64());
        for (hits, ids) in batch.iter().zip(&results) {
            let mut a: Vec<u64> = hits.iter().map(|m| m.id).collect();
            let mut b = ids.clone();
            a.sort_unstable();
            b.sort_unstable();
            if a != b {
                return Err("batched results differ from single queries".into());
            }
        }
    }
    let batch_qps = queries.len() as f64 / t_batch;
    let heap = bank.heap_bytes();
    let raw = n * 40;
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    for ids in &mut results {
        ids.sort_unstable();
        let text: Vec<String> = ids.iter().map(u64::to_string).collect();
        writeln!(w, "{}", text.join(","))?;
    }
    println!(
        "rempart bank n={n} read={t_read:.2}s build={t_build:.2}s queries={} radius={radius} \
         q/s={qps:.0} ms/q={:.4} batch_q/s={batch_qps:.0} heap={:.0}MB raw={:.0}MB ratio={:.2} peak_rss={:.0}MB",
        queries.len(),
        1e3 / qps,
        heap as f64 / 1e6,
        raw as f64 / 1e6,
        heap as f64 / raw as f64,
        peak_rss() as f64 / 1e6
    );
    Ok(())
}

/// Default run: synthetic 1M bank (index vs scan) and a synthetic 1600x1004 image.
fn quick() -> Res<()> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let (w, h) = (1600, 1004);
    let rgb: Vec<u8> = (0..w * h * 3)
        .map(|i| ((i / 3 % w) ^ (i / 3 / w) ^ (next() as usize & 15)) as u8)
        .collect();
    let mut hasher = PdqHasher::new();
    let start = Instant::now();
    for _ in 0..20 {
        black_box(hasher.hash_pixels(w, h, 3, black_box(&rgb))?);
    }
    println!(
        "hash 1600x1004: {:.2} ms/image",
        start.elapsed().as_secs_f64() * 1e3 / 20.0
    );
    let n = 1_000_000;
    let entries: Vec<(Hash256, u64)> = (0..n)
        .map(|i| (Hash256::from_limbs([next(), next(), next(), next()]), i))
        .collect();
    let queries: Vec<Hash256> = (0..1000)
        .map(|i| {
            let mut q = entries[(i * 997) % entries.len()].0;
            for k in 0..(i % 32) {
                q.flip_bit((k * 37 + i) % 256);
            }
            q
        })
        .collect();
    let t = Instant::now();
    let mut bank = HashBank::from_entries(entries)?;
    println!("bank 1M build: {:.2} s", t.elapsed().as_secs_f64());
    for mode in [SearchMode::Auto, SearchMode::Scan] {
        bank.set_strategy(mode);
        let t = Instant::now();
        let mut hits = 0;
        for q in &queries {
            bank.for_each_within(q, 31, |_| hits += 1);
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "bank 1M {mode:?}: {:.0} q/s ({hits} hits)",
            queries.len() as f64 / secs
        );
    }
    bank.set_strategy(SearchMode::Auto);
    let t = Instant::now();
    let hits: usize = bank.query_batch(&queries, 31).iter().map(Vec::len).sum();
    println!(
        "bank 1M batched: {:.0} q/s ({hits} hits)",
        queries.len() as f64 / t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["hash", manifest, out] => bench_hash(manifest, out),
        ["bank", hashes, queries, radius, out] => bench_bank(hashes, queries, radius.parse()?, out),
        _ => quick(),
    }
}
