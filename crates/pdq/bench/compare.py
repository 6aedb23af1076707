"""Side-by-side benchmark: reference PDQ (PyPI pdqhash), faiss and rempart-pdq, one run.

Called by compare.sh (which builds our bench binary and the venv). Steps:
 1. decode the test images once with Pillow (convert("RGB")) to raw RGB files: both
    sides hash the same pixels; time pdqhash.compute single-threaded;
 2. run our bench binary on the same pixels; check bit-exactness, compute ratios;
 3. for N in (1M, 10M): random 256-bit hashes with 500 planted near-duplicates
    (0..31 bits), 1000 queries (500 near-duplicates + 500 random), written to a file
    that both sides read; faiss IndexBinaryFlat (and, for 1M, IndexBinaryMultiHash
    16x16 nflip=1, the HMA configuration) range_search at radius 32 (strict <, i.e.
    distance <= 31), one thread; our bank at radius 31, one query at a time and all in one
    query_batch call (best of 3 rounds each); result sets compared.
"""
import os, sys, time, subprocess, resource
import numpy as np

work, bench_bin, data_dir = sys.argv[1], sys.argv[2], sys.argv[3]
sizes = [int(s) for s in (sys.argv[4] if len(sys.argv) > 4 else "1000000,10000000").split(",")]
os.makedirs(work, exist_ok=True)
rows = []  # (item, reference, ours, ratio, note)


def ours(*args):
    out = subprocess.run([bench_bin, *args], check=True, capture_output=True, text=True)
    return out.stdout.strip()


# 1-2: hashing ------------------------------------------------------------------
import pdqhash
from PIL import Image

manifest = os.path.join(work, "images.tsv")
images = []
with open(os.path.join(data_dir, "expected", "pdq_expected.csv"), newline="") as f:
    lines = [l.rstrip("\r\n") for l in f if not l.startswith("#")]
header = lines[0].split(",")
expected = {r[0]: dict(zip(header, r)) for r in (l.split(",") for l in lines[1:] if l)}
with open(manifest, "w") as m:
    for i, (name, row) in enumerate(sorted(expected.items())):
        img = Image.open(os.path.join(data_dir, name)).convert("RGB")
        arr = np.asarray(img)
        raw = os.path.join(work, f"img{i}.rgb")
        arr.tofile(raw)
        m.write(f"{name}\t{img.width}\t{img.height}\t{raw}\n")
        images.append((name, arr))

ref = {}
for name, arr in images:
    vec, q = pdqhash.compute(arr)
    reps, t0 = 0, time.perf_counter()
    while reps < 3 or (time.perf_counter() - t0 < 0.3 and reps < 500):
        pdqhash.compute(arr)
        reps += 1
    ms = (time.perf_counter() - t0) * 1e3 / reps
    bits = "".join("1" if b else "0" for b in vec)  # bit255 .. bit0
    ref[name] = (f"{int(bits, 2):064x}", int(q), ms)

ours_out = os.path.join(work, "ours_hashes.tsv")
ours(*["hash", manifest, ours_out])
mine = {}
for l in open(ours_out):
    name, h, q, ms = l.rstrip("\n").split("\t")
    mine[name] = (h, int(q), float(ms))

exact = sum(1 for n in ref if ref[n][:2] == mine[n][:2])
exact_core = sum(1 for n in ref if mine[n][0] == expected[n]["core_f32_hash"])
def group(pred):
    names = [n for n, a in images if pred(a.shape)]
    r = sum(ref[n][2] for n in names) / len(names)
    o = sum(mine[n][2] for n in names) / len(names)
    return names, r, o
for label, pred in [("hash 1600x1004 images", lambda s: (s[1], s[0]) in ((1600, 1004), (1004, 1600))),
                    ("hash images <= 512x512", lambda s: s[0] <= 512 and s[1] <= 512),
                    ("hash all 54 images", lambda s: True)]:
    names, r, o = group(pred)
    rows.append((f"{label} ({len(names)}), ms/image", f"{r:.3f}", f"{o:.3f}", f"{r / o:.2f}x", ""))
rows.append(("bit-exact vs pdqhash (same pixels)", "", f"{exact}/{len(ref)}", "", f"vs core_f32 column: {exact_core}/{len(ref)}"))

# 3: banks ------------------------------------------------------------------------
import faiss
faiss.omp_set_num_threads(1)
rng = np.random.default_rng(31)
for n in sizes:
    db = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(1000, 32), dtype=np.uint8)
    planted = rng.choice(n, 500, replace=False)
    for k, idx in enumerate(planted):
        q = db[idx].copy()
        bits = np.unpackbits(q)
        flip = rng.choice(256, k % 32, replace=False)
        bits[flip] ^= 1
        queries[k] = np.packbits(bits)
    hp, qp = os.path.join(work, f"db_{n}.bin"), os.path.join(work, "queries.bin")
    db.tofile(hp)
    queries.tofile(qp)

    def faiss_run(index, label, build_note=""):
        t0 = time.perf_counter()
        lims, dist, ids = index.range_search(queries, 32)
        dt = time.perf_counter() - t0
        res = [",".join(map(str, sorted(ids[lims[i]:lims[i + 1]].tolist()))) for i in range(len(queries))]
        return res, len(queries) / dt

    flat = faiss.IndexBinaryFlat(256)
    flat.add(db)
    flat_res, flat_qps = faiss_run(flat, "flat")
    del flat
    mih_qps = None
    if n <= 1_000_000:
        mih = faiss.IndexBinaryMultiHash(256, 16, 16)
        mih.nflip = 1
        t0 = time.perf_counter()
        mih.add(db)
        mih_build = time.perf_counter() - t0
        mih_res, mih_qps = faiss_run(mih, "mih")
        assert mih_res == flat_res, "faiss MIH and Flat disagree"
        del mih

    out = os.path.join(work, f"ours_{n}.txt")
    line = ours("bank", hp, qp, "31", out)
    our_res = open(out).read().split("\n")[: len(queries)]
    same = our_res == flat_res
    hits = sum(1 for r in flat_res if r)
    fields = dict(kv.split("=") for kv in line.split() if "=" in kv)
    our_qps = float(fields["q/s"])
    label = f"{n // 1_000_000}M hashes, 1000 queries r<=31, 1 thread, q/s"
    rows.append((label + " vs faiss Flat", f"{flat_qps:.0f}", f"{our_qps:.0f}", f"{our_qps / flat_qps:.1f}x",
                 f"identical results: {same}; queries with hits: {hits}"))
    rows.append((f"{n // 1_000_000}M hashes, same queries in one query_batch call, q/s", "", f"{float(fields['batch_q/s']):.0f}",
                 f"{float(fields['batch_q/s']) / flat_qps:.1f}x", "batched throughput (checked equal to the single-query results)"))
    if mih_qps:
        rows.append((label + " vs faiss MultiHash 16x16", f"{mih_qps:.0f}", f"{our_qps:.0f}", f"{our_qps / mih_qps:.1f}x",
                     f"faiss MIH build {mih_build:.1f}s"))
    rows.append((f"{n // 1_000_000}M bank: load+build (ours)", "", f"read {fields['read']} build {fields['build']}", "",
                 f"heap {fields['heap']} = {fields['ratio']}x raw hashes + u64 ids ({fields['raw']}); peak RSS {fields['peak_rss']}"))
    del db

w = max(len(r[0]) for r in rows)
print(f"\n{'measure'.ljust(w)} | reference/faiss | rempart-pdq | ratio | note")
print(f"{'-' * w}-|-----------------|-------------|-------|-----")
for r in rows:
    print(f"{r[0].ljust(w)} | {r[1]:>15} | {r[2]:>11} | {r[3]:>5} | {r[4]}")
