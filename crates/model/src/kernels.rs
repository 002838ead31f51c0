//! Hand-placed kernels for the inference hot paths, each behind one small function so a faster
//! implementation (another BLAS, a GPU backend) can replace it without touching the models.
//!
//! Why not burn's own ops here: the musicnn front end is a convolution immediately reduced by a
//! max over the mel axis. Through burn's tensors every window's full conv output (9 MB) is
//! allocated, zero-filled and copied out again, and that bookkeeping cost twice the product
//! itself (profile: gemm 31% of the time, memmove/memset/page faults 30%, pooling 12%). Here the
//! product is blocked over frames into reusable buffers that stay in cache, and pooled while hot.

use std::cell::RefCell;

/// A read-only matrix in a slice: element `(i, j)` is `data[i * rs + j * cs]` (any strides, so a
/// transposed or strided view is read in place).
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    pub fn new(data: &'a [f32], rs: usize, cs: usize) -> Self {
        Self { data, rs, cs }
    }
    /// Whether every element of a `rows x cols` matrix lies inside the slice.
    fn holds(&self, rows: usize, cols: usize) -> bool {
        rows == 0 || cols == 0 || (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
}

/// `dst[m x n] (+)= lhs[m x k] · rhs[k x n]`, `dst` row-major with row stride `dst_rs`; with
/// `accumulate` the product is added to what `dst` holds. gemm (the crate burn itself uses; AVX-512
/// or AVX2 kernels chosen at run time), single-threaded: callers parallelise over items.
pub fn gemm(m: usize, n: usize, k: usize, dst: (&mut [f32], usize), lhs: MatRef, rhs: MatRef, accumulate: bool) {
    let (dst, dst_rs) = dst;
    if m == 0 || n == 0 {
        return;
    }
    assert!(lhs.holds(m, k) && rhs.holds(k, n) && (m - 1) * dst_rs + n <= dst.len() && dst_rs >= n, "gemm: shapes");
    if k == 0 {
        if !accumulate {
            (0..m).for_each(|i| dst[i * dst_rs..i * dst_rs + n].fill(0.0));
        }
        return;
    }
    // SAFETY: the assert keeps every index the strides reach inside the slices; `dst` does not
    // alias the inputs (it is a distinct &mut).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `dst[m x n] = lhs[m x k] · rhs` (`dst` row-major), where `lhs[i, kk]` is
/// `lhs[i * lhs_rs + kk * lhs_cs]` (a convolution's input can be read in place) and `rhs` is
/// given transposed as `rhs_t[n x k]` (a convolution's `[filters, taps]` weights as stored).
pub fn matmul_nt(m: usize, n: usize, k: usize, lhs: (&[f32], usize, usize), rhs_t: &[f32], dst: &mut [f32]) {
    gemm(m, n, k, (dst, n), MatRef::new(lhs.0, lhs.1, lhs.2), MatRef::new(rhs_t, 1, k), false);
}

/// A `[time, mel]` convolution ('same' over time as TensorFlow pads it, 'valid' over mel)
/// followed by bias, ReLU, a per-filter affine map (frozen batch norm) and the max over mel,
/// for one item `x` (`[t, mels]`, row-major): [`ConvMaxMel::run`] returns `[filters, t]`.
pub struct ConvMaxMel {
    /// `[filters, kt * km]` row-major, taps in (time, mel) order; the rows of filters whose
    /// scale is negative are stored negated (see [`ConvMaxMel::new`]).
    weight: Vec<f32>,
    /// -1 for the negated filters, 1 for the others.
    sign: Vec<f32>,
    bias: Vec<f32>,
    scale: Vec<f32>,
    shift: Vec<f32>,
    kt: usize,
    km: usize,
}

/// Frames per block: the block's unfolded input and conv output (about 1 MB each for the widest
/// branch) stay in a core's L2 cache.
const BLOCK_FRAMES: usize = 16;

thread_local! {
    /// (unfolded input, conv output) buffers, reused across calls on the same thread.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

impl ConvMaxMel {
    /// `weight` `[filters, kt * km]` as the layer stores it; `y = scale * relu(conv + bias) +
    /// shift` per filter. ReLU and the map are monotonic, so they commute with the max over mel
    /// (a min where the scale is negative) and run on the pooled values only; a filter with a
    /// negative scale is negated here so that pooling is a max for every filter
    /// (min(conv) = -max(-conv)).
    pub fn new(weight: Vec<f32>, bias: Vec<f32>, scale: Vec<f32>, shift: Vec<f32>, kt: usize, km: usize) -> Self {
        let f = bias.len();
        assert!(kt > 0 && km > 0, "ConvMaxMel: empty kernel");
        assert!(weight.len() == f * kt * km && scale.len() == f && shift.len() == f, "ConvMaxMel: shapes");
        let sign: Vec<f32> = scale.iter().map(|&s| if s < 0.0 { -1.0 } else { 1.0 }).collect();
        let mut weight = weight;
        for (row, &g) in weight.chunks_exact_mut(kt * km).zip(&sign) {
            row.iter_mut().for_each(|w| *w *= g);
        }
        Self { weight, sign, bias, scale, shift, kt, km }
    }

    pub fn run(&self, x: &[f32], t: usize, mels: usize) -> Vec<f32> {
        let (kt, km, f) = (self.kt, self.km, self.bias.len());
        assert!(km <= mels && x.len() == t * mels, "ConvMaxMel: input shape");
        let mo = mels - km + 1; // 'valid' positions along mel
        let k = kt * km;
        // The input with TensorFlow's 'same' zero frames around it: floor((kt-1)/2) before.
        let before = (kt - 1) / 2;
        let mut xp = vec![0f32; (t + kt - 1) * mels];
        xp[before * mels..(before + t) * mels].copy_from_slice(x);
        let mut out = vec![0f32; f * t];
        SCRATCH.with_borrow_mut(|(cols, y)| {
            for t0 in (0..t).step_by(BLOCK_FRAMES) {
                let tb = BLOCK_FRAMES.min(t - t0);
                let rows = tb * mo;
                y.resize(rows * f, 0.0);
                if km == 1 {
                    // A time-only kernel reads the input in place: row (frame, mel) r and tap dt
                    // are at xp[t0 * mels + r + dt * mels].
                    matmul_nt(rows, f, k, (&xp[t0 * mels..], 1, mels), &self.weight, y);
                } else {
                    // Unfold (im2col): row (frame, mel position) = the kt x km patch under it.
                    cols.resize(rows * k, 0.0);
                    for (i, row) in cols[..rows * k].chunks_exact_mut(k).enumerate() {
                        let (ti, m) = (t0 + i / mo, i % mo);
                        for (dt, taps) in row.chunks_exact_mut(km).enumerate() {
                            let src = (ti + dt) * mels + m;
                            taps.copy_from_slice(&xp[src..src + km]);
                        }
                    }
                    matmul_nt(rows, f, k, (cols, k, 1), &self.weight, y);
                }
                self.pool_block(&y[..rows * f], t0, tb, mo, t, &mut out);
            }
        });
        out
    }

    /// Max over mel of each frame's `[mo, f]` rows (sign restored), then bias, ReLU and the
    /// affine map.
    fn pool_block(&self, y: &[f32], t0: usize, tb: usize, mo: usize, t: usize, out: &mut [f32]) {
        let f = self.bias.len();
        let mut hi = vec![0f32; f];
        for i in 0..tb {
            let frame = &y[i * mo * f..(i + 1) * mo * f];
            hi.copy_from_slice(&frame[..f]);
            for row in frame.chunks_exact(f).skip(1) {
                // A plain loop over contiguous rows: the compiler vectorises it.
                for (h, &v) in hi.iter_mut().zip(row) {
                    *h = h.max(v);
                }
            }
            for c in 0..f {
                let v = self.sign[c] * hi[c];
                out[c * t + t0 + i] = (v + self.bias[c]).max(0.0) * self.scale[c] + self.shift[c];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The layer as written: conv (zero 'same' padding over time, 'valid' over mel), bias,
    /// ReLU, affine, then the max over mel.
    fn naive(x: &[f32], t: usize, mels: usize, w: &[f32], p: [&[f32]; 3], kt: usize, km: usize) -> Vec<f32> {
        let [bias, scale, shift] = p;
        let (f, mo, before) = (bias.len(), mels - km + 1, (kt - 1) / 2);
        let mut out = vec![0f32; f * t];
        for c in 0..f {
            for ti in 0..t {
                let mut best = f32::NEG_INFINITY;
                for m in 0..mo {
                    let mut acc = bias[c];
                    for dt in 0..kt {
                        let Some(s) = (ti + dt).checked_sub(before).filter(|&s| s < t) else { continue };
                        for j in 0..km {
                            acc += x[s * mels + m + j] * w[c * kt * km + dt * km + j];
                        }
                    }
                    best = best.max(acc.max(0.0) * scale[c] + shift[c]);
                }
                out[c * t + ti] = best;
            }
        }
        out
    }

    #[test]
    fn conv_max_mel_equals_the_layer_as_written() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        // Odd and even time kernels, mel kernels wide and 1 (read in place), several blocks.
        for (kt, km, t, mels, f) in [(7, 5, 37, 12, 9), (4, 3, 20, 8, 5), (8, 1, 40, 6, 7), (1, 1, 3, 4, 2)] {
            let mut r = |n: usize| (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect::<Vec<_>>();
            let (x, w, bias, shift) = (r(t * mels), r(f * kt * km), r(f), r(f));
            // Scales of both signs: negative ones pool as a min.
            let mut scale: Vec<f32> = r(f).iter().map(|v| v * 2.0).collect();
            (scale[0], scale[1]) = (-scale[0].abs(), scale[1].abs());
            let want = naive(&x, t, mels, &w, [&bias, &scale, &shift], kt, km);
            let got = ConvMaxMel::new(w, bias, scale, shift, kt, km).run(&x, t, mels);
            let err = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(err < 1e-5, "kt {kt} km {km}: {err}");
        }
    }
}
