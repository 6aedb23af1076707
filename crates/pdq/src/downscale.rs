//! Luma conversion and the "blur and decimate" step of PDQ (image -> 64x64 float buffer).
//!
//! Written from the algorithm statement in `shared/docs/PDQ.md` §1, items 2 and 4. The
//! numerical contract is: the same float32 operations, in the same order, for every
//! output value as the reference. The loop *structure* is ours: filters run over
//! "lanes" (several independent rows or columns side by side) so that the compiler can
//! vectorise them, which changes nothing in the per-value operation sequence.

/// Output side of the downsampled buffer.
pub(crate) const DOWN: usize = 64;

/// Rows filtered together by the row pass (gathered into a lane-major scratch block).
const ROW_BLOCK: usize = 8;

/// `Y = 0.299*R + 0.587*G + 0.114*B` in float32, left to right, for pixels of
/// `channels` bytes whose first three are R, G, B (extra channels, e.g. alpha, ignored).
pub(crate) fn luma_from_rgb(pixels: &[u8], channels: usize, out: &mut Vec<f32>) {
    out.clear();
    out.extend(pixels.chunks_exact(channels).map(|p| {
        let r = f32::from(p[0]);
        let g = f32::from(p[1]);
        let b = f32::from(p[2]);
        // No fused multiply-add: Rust never contracts `a*b + c` on its own.
        0.299f32 * r + 0.587f32 * g + 0.114f32 * b
    }));
}

/// Grey input is used as-is.
pub(crate) fn luma_from_grey(pixels: &[u8], out: &mut Vec<f32>) {
    out.clear();
    out.extend(pixels.iter().map(|&v| f32::from(v)));
}

/// Jarosz window for a dimension: `ceil(old / 128)`, i.e. `(old + 127) / 128`.
pub(crate) fn window_size(old: usize) -> usize {
    old.div_ceil(2 * DOWN)
}

/// Running-sum box filter of window `w` applied to `lanes` independent sequences of
/// length `n`, stored position-major: value `p` of lane `l` is `input[p * lanes + l]`.
///
/// For each lane: `half = (w + 2) / 2`; output `p` is the mean of the inputs
/// `p-(w-half) ..= p+half-1` clipped to the sequence, kept as a float running sum:
/// accumulate `half-1` values; then `w-half+1` outputs with a growing window (add,
/// divide); then `n-w` outputs with the full window (add the entering value, subtract
/// the leaving one, divide); then `half-1` outputs with a shrinking window (subtract,
/// divide).
pub(crate) fn box_filter_lanes(
    input: &[f32],
    output: &mut [f32],
    n: usize,
    lanes: usize,
    w: usize,
    sums: &mut Vec<f32>,
) {
    debug_assert!(w >= 1 && w <= n);
    debug_assert!(input.len() >= n * lanes && output.len() >= n * lanes);
    let half = (w + 2) / 2;
    sums.clear();
    sums.resize(lanes, 0.0);
    let sums = &mut sums[..lanes];
    let row = |p: usize| p * lanes..(p + 1) * lanes;
    let mut ri = 0; // next value to add
    let mut li = 0; // next value to subtract
    let mut oi = 0; // next output
    let mut count: u32 = 0;
    for _ in 0..half - 1 {
        for (s, &v) in sums.iter_mut().zip(&input[row(ri)]) {
            *s += v;
        }
        count += 1;
        ri += 1;
    }
    for _ in 0..w - half + 1 {
        count += 1;
        let d = count as f32;
        let (src, dst) = (&input[row(ri)], &mut output[row(oi)]);
        for ((s, &v), o) in sums.iter_mut().zip(src).zip(dst) {
            *s += v;
            *o = *s / d;
        }
        ri += 1;
        oi += 1;
    }
    let d = count as f32;
    for _ in 0..n - w {
        let (add, sub, dst) = (&input[row(ri)], &input[row(li)], &mut output[row(oi)]);
        for (((s, &a), &b), o) in sums.iter_mut().zip(add).zip(sub).zip(dst) {
            *s += a;
            *s -= b;
            *o = *s / d;
        }
        ri += 1;
        li += 1;
        oi += 1;
    }
    for _ in 0..half - 1 {
        count -= 1;
        let d = count as f32;
        let (sub, dst) = (&input[row(li)], &mut output[row(oi)]);
        for ((s, &b), o) in sums.iter_mut().zip(sub).zip(dst) {
            *s -= b;
            *o = *s / d;
        }
        li += 1;
        oi += 1;
    }
}

/// Scratch memory reused between images (avoids re-allocating ~4 buffers per image).
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) luma: Vec<f32>,
    a: Vec<f32>,
    block_in: Vec<f32>,
    block_out: Vec<f32>,
    sums: Vec<f32>,
    cols64: Vec<f32>,
    cols64_out: Vec<f32>,
}

/// Box filter along every row of `buf` (rows x cols, row-major), in place through scratch.
pub(crate) fn box_rows(buf: &mut [f32], rows: usize, cols: usize, w: usize, s: &mut Scratch) {
    let mut r0 = 0;
    while r0 < rows {
        let lanes = ROW_BLOCK.min(rows - r0);
        s.block_in.resize(cols * lanes, 0.0);
        s.block_out.resize(cols * lanes, 0.0);
        for l in 0..lanes {
            let src = &buf[(r0 + l) * cols..(r0 + l + 1) * cols];
            for (c, &v) in src.iter().enumerate() {
                s.block_in[c * lanes + l] = v;
            }
        }
        box_filter_lanes(&s.block_in, &mut s.block_out, cols, lanes, w, &mut s.sums);
        for l in 0..lanes {
            let dst = &mut buf[(r0 + l) * cols..(r0 + l + 1) * cols];
            for (c, d) in dst.iter_mut().enumerate() {
                *d = s.block_out[c * lanes + l];
            }
        }
        r0 += lanes;
    }
}

/// Nearest-sample index of output cell `i` (of 64) over a dimension of `n`:
/// `(int)(((i + 0.5) * n) / 64)` in double arithmetic.
pub(crate) fn sample_index(i: usize, n: usize) -> usize {
    (((i as f64 + 0.5) * n as f64) / DOWN as f64) as usize
}

/// Turns `s.luma` (rows x cols) into the 64x64 buffer: two Jarosz passes then
/// decimation. `shortcut64`: copy a 64x64 input without filtering (plain hash only).
///
/// Only the values the decimation reads are divided out in the second pass: the
/// second row pass keeps every running sum but the second column pass only runs on
/// the 64 sampled columns, with the same operations per value.
pub(crate) fn downsample(
    rows: usize,
    cols: usize,
    shortcut64: bool,
    s: &mut Scratch,
) -> [f32; 4096] {
    let mut out = [0f32; DOWN * DOWN];
    if shortcut64 && rows == DOWN && cols == DOWN {
        out.copy_from_slice(&s.luma[..DOWN * DOWN]);
        return out;
    }
    let w_rows = window_size(cols); // box along each row: window from the width
    let w_cols = window_size(rows); // box along each column: window from the height
    let mut luma = std::mem::take(&mut s.luma);
    let mut a = std::mem::take(&mut s.a);
    a.resize(rows * cols, 0.0);
    // Pass 1: rows, then columns (all columns are lanes of one vectorised filter).
    box_rows(&mut luma, rows, cols, w_rows, s);
    box_filter_lanes(&luma, &mut a, rows, cols, w_cols, &mut s.sums);
    // Pass 2: rows again (full), then columns on the 64 sampled columns only.
    box_rows(&mut a, rows, cols, w_rows, s);
    let col_idx: [usize; DOWN] = std::array::from_fn(|j| sample_index(j, cols));
    s.cols64.resize(rows * DOWN, 0.0);
    s.cols64_out.resize(rows * DOWN, 0.0);
    for r in 0..rows {
        let src = &a[r * cols..(r + 1) * cols];
        for (j, &c) in col_idx.iter().enumerate() {
            s.cols64[r * DOWN + j] = src[c];
        }
    }
    box_filter_lanes(
        &s.cols64,
        &mut s.cols64_out,
        rows,
        DOWN,
        w_cols,
        &mut s.sums,
    );
    for i in 0..DOWN {
        let r = sample_index(i, rows);
        out[i * DOWN..(i + 1) * DOWN].copy_from_slice(&s.cols64_out[r * DOWN..(r + 1) * DOWN]);
    }
    s.luma = luma;
    s.a = a;
    out
}

/// Quality metric on the 64x64 buffer: sum over vertical and horizontal neighbour
/// pairs of `|(int)(((u - v) * 100) / 255)|` (float maths, truncation toward zero),
/// divided by 90 (integer division), capped at 100.
pub(crate) fn quality(buf: &[f32; 4096]) -> u8 {
    let mut sum: i64 = 0;
    let step = |u: f32, v: f32| i64::from((((u - v) * 100.0f32) / 255.0f32) as i32).abs();
    for i in 0..DOWN - 1 {
        for j in 0..DOWN {
            sum += step(buf[i * DOWN + j], buf[(i + 1) * DOWN + j]);
        }
    }
    for i in 0..DOWN {
        for j in 0..DOWN - 1 {
            sum += step(buf[i * DOWN + j], buf[i * DOWN + j + 1]);
        }
    }
    (sum / 90).min(100) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition: mean over the clipped window, recomputed each time.
    fn naive_box(input: &[f32], w: usize) -> Vec<f64> {
        let n = input.len();
        let half = (w + 2) / 2;
        (0..n)
            .map(|p| {
                let lo = p.saturating_sub(w - half);
                let hi = (p + half - 1).min(n - 1);
                let vals = &input[lo..=hi];
                vals.iter().map(|&v| f64::from(v)).sum::<f64>() / vals.len() as f64
            })
            .collect()
    }

    #[test]
    fn window_sizes_match_the_examples() {
        assert_eq!(window_size(1600), 13);
        assert_eq!(window_size(1004), 8);
        assert_eq!(window_size(256), 2);
        assert_eq!(window_size(128), 1);
        assert_eq!(window_size(5), 1);
    }

    #[test]
    fn running_sum_is_a_clipped_mean() {
        let input: Vec<f32> = (0..37).map(|i| ((i * 7919) % 101) as f32).collect();
        let mut sums = Vec::new();
        for w in 1..=13 {
            let mut out = vec![0.0; input.len()];
            box_filter_lanes(&input, &mut out, input.len(), 1, w, &mut sums);
            for (got, want) in out.iter().zip(naive_box(&input, w)) {
                assert!((f64::from(*got) - want).abs() < 1e-3, "w={w} {got} {want}");
            }
        }
    }

    #[test]
    fn lanes_are_independent() {
        let n = 20;
        let lanes = 3;
        let input: Vec<f32> = (0..n * lanes).map(|i| (i * i % 17) as f32).collect();
        let mut sums = Vec::new();
        let mut out = vec![0.0; n * lanes];
        box_filter_lanes(&input, &mut out, n, lanes, 4, &mut sums);
        for l in 0..lanes {
            let lane: Vec<f32> = (0..n).map(|p| input[p * lanes + l]).collect();
            let mut single = vec![0.0; n];
            box_filter_lanes(&lane, &mut single, n, 1, 4, &mut sums);
            let got: Vec<f32> = (0..n).map(|p| out[p * lanes + l]).collect();
            assert_eq!(got, single);
        }
    }

    #[test]
    fn quality_truncates_each_step() {
        let mut flat = [10.0f32; 4096];
        assert_eq!(quality(&flat), 0);
        // A step of 2.0 between columns: (2*100)/255 = 0.78 -> 0 per pair.
        for i in 0..64 {
            for j in 0..64 {
                flat[i * 64 + j] = 2.0 * j as f32;
            }
        }
        assert_eq!(quality(&flat), 0);
        // A step of 255: 100 per horizontal pair, 64*63*100/90 -> capped at 100.
        for v in flat.iter_mut().step_by(2) {
            *v = 255.0;
        }
        assert_eq!(quality(&flat), 100);
    }
}
