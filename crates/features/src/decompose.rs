//! `librosa.decompose.hpss` / `librosa.effects.hpss`: harmonic-percussive source separation by
//! median filtering (Fitzgerald 2010), with librosa's soft masks.

use std::ops::Range;

use rayon::prelude::*;
use rustfft::num_complex::Complex32;

use crate::core::{istft_pair, stft, Stft, StftParams};
use crate::{Result, TINY_F32};

/// Columns filtered together, one per SIMD lane (one AVX-512 register, two AVX2, four SSE).
const LANES: usize = 16;
type Lanes = [f32; LANES];

/// Median filter down every column of a row-major `[rows, cols]` buffer with an odd window
/// `size`: `scipy.ndimage.median_filter(mode='reflect')` along axis 0.
///
/// Written here because no maintained crate offers a fast exact sliding median. Each group of
/// [`LANES`] adjacent columns keeps its sorted windows slot-major (`win[k]` holds slot `k` of
/// every lane), so every step is plain lane-wise arithmetic over contiguous loads, with no
/// data-dependent branches or moves; see [`slide`].
pub fn median_filter_columns(data: &[f32], rows: usize, cols: usize, size: usize) -> Vec<f32> {
    assert!(size % 2 == 1, "median window must be odd");
    assert_eq!(data.len(), rows * cols);
    let blocks: Vec<(usize, Vec<Lanes>)> = (0..cols)
        .step_by(BLOCK_COLS)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|c0| (c0, median_column_block(data, rows, cols, c0..cols.min(c0 + BLOCK_COLS), size)))
        .collect();
    let mut out = vec![0.0; rows * cols];
    for (c0, medians) in blocks {
        let width = BLOCK_COLS.min(cols - c0);
        let groups = width.div_ceil(LANES);
        for (r, row) in medians.chunks(groups).enumerate() {
            let dst = &mut out[r * cols + c0..r * cols + c0 + width];
            for (d, m) in dst.chunks_mut(LANES).zip(row) {
                d.copy_from_slice(&m[..d.len()]);
            }
        }
    }
    out
}

/// Median filter along every row (axis 1) of a row-major `[rows, cols]` buffer. Rows are taken
/// [`LANES`] at a time, turned into a small column-major slab (cache-resident, unlike a
/// transpose of the whole buffer), filtered down its columns, and turned back.
pub fn median_filter_rows(data: &[f32], rows: usize, cols: usize, size: usize) -> Vec<f32> {
    assert!(size % 2 == 1, "median window must be odd");
    assert_eq!(data.len(), rows * cols);
    let mut out = vec![0.0; rows * cols];
    out.par_chunks_mut(LANES * cols).zip(data.par_chunks(LANES * cols)).for_each(|(out, data)| {
        let n = data.len() / cols;
        let mut slab = vec![0.0f32; cols * LANES];
        for (lane, row) in data.chunks(cols).enumerate() {
            for (c, &v) in row.iter().enumerate() {
                slab[c * LANES + lane] = v;
            }
        }
        let medians = median_column_block(&slab, cols, LANES, 0..n, size);
        for (lane, row) in out.chunks_mut(cols).enumerate() {
            for (o, m) in row.iter_mut().zip(&medians) {
                *o = m[lane];
            }
        }
    });
    out
}

/// scipy 'reflect' (half-sample symmetric: d c b a | a b c d | d c b a) index into `[0, n)`.
#[inline]
fn reflect(i: isize, n: usize) -> usize {
    let p = 2 * n as isize;
    let m = i.rem_euclid(p) as usize;
    if m < n {
        m
    } else {
        2 * n - 1 - m
    }
}

/// Columns stepped through together: each row's slice of the block is a few contiguous cache
/// lines (one column group alone would touch a new page per row, defeating the prefetcher), and
/// the block's windows still fit in L1.
const BLOCK_COLS: usize = 16 * LANES;

/// The running medians of the columns in `block`, row-major `[rows, groups of LANES]` (lanes
/// past the block's end are zeros, ignored).
fn median_column_block(data: &[f32], rows: usize, cols: usize, block: Range<usize>, size: usize) -> Vec<Lanes> {
    let half = size / 2;
    let groups: Vec<(usize, usize)> = block.clone().step_by(LANES).map(|c| (c, LANES.min(block.end - c))).collect();
    let row = |r: isize, (c, width): (usize, usize)| load_lanes(data, reflect(r, rows) * cols + c, width);
    // Per group, `size` sorted slots plus a +inf guard read by the last slot's update.
    let mut windows: Vec<Vec<Lanes>> = groups
        .iter()
        .map(|&g| {
            let mut win: Vec<Lanes> = (0..size).map(|k| row(k as isize - half as isize, g)).collect();
            for lane in 0..LANES {
                let mut column: Vec<f32> = win.iter().map(|v| v[lane]).collect();
                column.sort_unstable_by(f32::total_cmp);
                for (slot, v) in win.iter_mut().zip(column) {
                    slot[lane] = v;
                }
            }
            win.push([f32::INFINITY; LANES]);
            win
        })
        .collect();
    let kernel = SlideKernel::detect();
    let mut out = Vec::with_capacity(rows * groups.len());
    for t in 0..rows {
        out.extend(windows.iter().map(|w| w[half]));
        if t + 1 < rows {
            let (leaving, entering) = (t as isize - half as isize, t as isize + half as isize + 1);
            for (win, &g) in windows.iter_mut().zip(&groups) {
                kernel.slide(win, &row(leaving, g), &row(entering, g));
            }
        }
    }
    out
}

/// `data[start..start + width]` as lanes, zero-filled past `width`.
#[inline(always)]
fn load_lanes(data: &[f32], start: usize, width: usize) -> Lanes {
    if width == LANES {
        if let Some(full) = data[start..].first_chunk::<LANES>() {
            return *full;
        }
    }
    let mut v = [0.0; LANES];
    v[..width].copy_from_slice(&data[start..start + width]);
    v
}

/// Advance every lane's sorted window by one step: remove one `old`, insert `new`, in place.
///
/// Removal: slot `k` keeps its value while that is below `old` and takes its right neighbour's
/// from `old`'s position on. Insertion into the sorted remainder `r` is a sorting-network
/// identity: slot `k` becomes `max(r[k-1], min(r[k], new))`. Neither needs positions, so both are
/// one pass of compare, select, min, max. Ties remove exactly one copy of `old`; magnitudes are
/// finite, so plain comparisons order them totally.
///
/// The pass is written with explicit AVX-512 / AVX2 intrinsics, picked at run time (the binary
/// stays baseline x86-64): LLVM's auto-vectorisation of the portable version is fragile here
/// and measured 5-10x slower.
#[derive(Clone, Copy)]
enum SlideKernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl SlideKernel {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    #[inline(always)]
    fn slide(self, win: &mut [Lanes], old: &Lanes, new: &Lanes) {
        match self {
            Self::Portable => slide_portable(win, old, new),
            // SAFETY: `detect` chose these only where the CPU has the features.
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => unsafe { simd::slide_avx2(win, old, new) },
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => unsafe { simd::slide_avx512(win, old, new) },
        }
    }
}

fn slide_portable(win: &mut [Lanes], old: &Lanes, new: &Lanes) {
    for l in 0..LANES {
        let mut prev = f32::NEG_INFINITY;
        for k in 0..win.len() - 1 {
            let here = win[k][l];
            let removed = if here < old[l] { here } else { win[k + 1][l] };
            win[k][l] = prev.max(removed.min(new[l]));
            prev = removed;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    use super::{Lanes, LANES};

    const _: () = assert!(LANES == 16, "one __m512 or two __m256 per slot");

    #[target_feature(enable = "avx512f")]
    pub unsafe fn slide_avx512(win: &mut [Lanes], old: &Lanes, new: &Lanes) {
        let (old, new) = (_mm512_loadu_ps(old.as_ptr()), _mm512_loadu_ps(new.as_ptr()));
        let mut prev = _mm512_set1_ps(f32::NEG_INFINITY);
        let mut here = _mm512_loadu_ps(win[0].as_ptr());
        for k in 0..win.len() - 1 {
            let next = _mm512_loadu_ps(win[k + 1].as_ptr());
            let removed = _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(here, old), next, here);
            _mm512_storeu_ps(win[k].as_mut_ptr(), _mm512_max_ps(prev, _mm512_min_ps(removed, new)));
            prev = removed;
            here = next;
        }
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn slide_avx2(win: &mut [Lanes], old: &Lanes, new: &Lanes) {
        for half in [0, 8] {
            let (old, new) = (_mm256_loadu_ps(old[half..].as_ptr()), _mm256_loadu_ps(new[half..].as_ptr()));
            let mut prev = _mm256_set1_ps(f32::NEG_INFINITY);
            let mut here = _mm256_loadu_ps(win[0][half..].as_ptr());
            for k in 0..win.len() - 1 {
                let next = _mm256_loadu_ps(win[k + 1][half..].as_ptr());
                let removed = _mm256_blendv_ps(next, here, _mm256_cmp_ps::<_CMP_LT_OQ>(here, old));
                _mm256_storeu_ps(win[k][half..].as_mut_ptr(), _mm256_max_ps(prev, _mm256_min_ps(removed, new)));
                prev = removed;
                here = next;
            }
        }
    }
}

/// Harmonic and percussive STFTs of `s` (kernel 31 both ways, power 2 soft masks, margin 1).
pub fn hpss(s: &Stft, kernel: usize) -> (Stft, Stft) {
    let (t, b) = (s.n_frames, s.n_bins);
    // Frame-major magnitude: the harmonic filter runs along time, down its columns; the
    // percussive one along frequency, along its rows.
    let mag_fm: Vec<f32> = s.data.iter().map(|c| (c.re * c.re + c.im * c.im).sqrt()).collect();
    let (harm_fm, perc_fm) =
        rayon::join(|| median_filter_columns(&mag_fm, t, b, kernel), || median_filter_rows(&mag_fm, t, b, kernel));
    let (harm, perc): (Vec<Complex32>, Vec<Complex32>) = s
        .data
        .iter()
        .zip(harm_fm.iter().zip(&perc_fm))
        .map(|(&c, (&mh, &mp))| {
            let (wh, wp) = softmask_pair(mh, mp);
            (scale(c, wh), scale(c, wp))
        })
        .unzip();
    let with = |data| Stft { data, ..*s };
    (with(harm), with(perc))
}

#[inline]
fn scale(c: Complex32, w: f32) -> Complex32 {
    Complex32::new(c.re * w, c.im * w)
}

/// `librosa.util.softmask(X, X_ref, power=2, split_zeros=True)` for both masks at once.
#[inline]
fn softmask_pair(x: f32, x_ref: f32) -> (f32, f32) {
    let z = x.max(x_ref);
    if z < TINY_F32 {
        return (0.5, 0.5);
    }
    let a = (x / z).powi(2);
    let b = (x_ref / z).powi(2);
    (a / (a + b), b / (b + a))
}

/// `librosa.effects.hpss(y)`: harmonic and percussive signals, each `y.len()` samples.
pub fn hpss_signals(y: &[f32], params: StftParams) -> Result<(Vec<f32>, Vec<f32>)> {
    let s = stft(y, params)?;
    Ok(hpss_signals_from_stft(&s, y.len()))
}

/// As [`hpss_signals`], reusing an STFT already computed with librosa's defaults.
pub fn hpss_signals_from_stft(s: &Stft, length: usize) -> (Vec<f32>, Vec<f32>) {
    let (h, p) = hpss(s, 31);
    istft_pair(&h, &p, length)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: median of the reflect-padded window at every position.
    fn naive(x: &[f32], size: usize) -> Vec<f32> {
        let half = (size / 2) as isize;
        (0..x.len() as isize)
            .map(|t| {
                let mut w: Vec<f32> = (t - half..=t + half).map(|i| x[reflect(i, x.len())]).collect();
                w.sort_by(f32::total_cmp);
                w[size / 2]
            })
            .collect()
    }

    /// Every kernel this CPU can run takes the same step as the portable one, ties included.
    #[test]
    fn slide_kernels_agree() {
        let mut state = 99u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) % 20) as f32
        };
        let mut kernels = vec![SlideKernel::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                kernels.push(SlideKernel::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                kernels.push(SlideKernel::Avx512);
            }
        }
        for size in [1usize, 3, 31] {
            for _ in 0..50 {
                let mut win: Vec<Lanes> = (0..size).map(|_| std::array::from_fn(|_| next())).collect();
                for l in 0..LANES {
                    let mut column: Vec<f32> = win.iter().map(|v| v[l]).collect();
                    column.sort_by(f32::total_cmp);
                    win.iter_mut().zip(column).for_each(|(slot, v)| slot[l] = v);
                }
                win.push([f32::INFINITY; LANES]);
                let old: Lanes = std::array::from_fn(|l| win[(l * 7) % size][l]);
                let new: Lanes = std::array::from_fn(|_| next());
                let mut want = win.clone();
                slide_portable(&mut want, &old, &new);
                for l in 0..LANES {
                    let mut column: Vec<f32> = win[..size].iter().map(|v| v[l]).collect();
                    let at = column.iter().position(|&v| v == old[l]).unwrap();
                    column[at] = new[l];
                    column.sort_by(f32::total_cmp);
                    let got: Vec<f32> = want[..size].iter().map(|v| v[l]).collect();
                    assert_eq!(got, column, "portable, size {size} lane {l}");
                }
                for &kernel in &kernels[1..] {
                    let mut got = win.clone();
                    kernel.slide(&mut got, &old, &new);
                    assert_eq!(got, want, "size {size}");
                }
            }
        }
    }

    #[test]
    fn median_filters_equal_brute_force() {
        let mut state = 12345u64;
        for n in [1usize, 2, 5, 15, 31, 32, 100, 1000] {
            // values with many ties (quantised) and a spread, as spectrogram magnitudes have
            let x: Vec<f32> = (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 40) % 50) as f32 * 0.5
                })
                .collect();
            for size in [1usize, 3, 31, 33] {
                // one signal down 11 columns (more than one lane group), shifted per column
                let cols = 11;
                let column = |c: usize| -> Vec<f32> { (0..n).map(|r| x[(r + c) % n]).collect() };
                let data: Vec<f32> = (0..n * cols).map(|i| column(i % cols)[i / cols]).collect();
                let down = median_filter_columns(&data, n, cols, size);
                let along = median_filter_rows(&crate::Array2::from_vec(n, cols, data).transpose().data, cols, n, size);
                for c in 0..cols {
                    let want = naive(&column(c), size);
                    let got: Vec<f32> = (0..n).map(|r| down[r * cols + c]).collect();
                    assert_eq!(got, want, "columns n={n} size={size} col={c}");
                    assert_eq!(&along[c * n..(c + 1) * n], &want[..], "rows n={n} size={size} row={c}");
                }
            }
        }
    }
}
