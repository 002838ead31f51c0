//! `librosa.decompose.hpss` / `librosa.effects.hpss`: harmonic-percussive source separation by
//! median filtering (Fitzgerald 2010), with librosa's soft masks.

use rayon::prelude::*;
use realfft::num_complex::Complex32;

use crate::core::{istft, stft, Stft, StftParams};
use crate::{Array2, Result, TINY_F32};

/// Median filter of every row of a row-major `[rows, cols]` buffer with an odd window `size`,
/// `scipy.ndimage.median_filter(mode='reflect')` along the row.
///
/// Written here because no maintained crate offers a fast sliding median: a sorted window is
/// updated in place per step (bisect the leaving value, slide the entering one into place), far
/// cheaper than re-selecting each window.
pub fn median_filter_rows(data: &[f32], rows: usize, cols: usize, size: usize) -> Vec<f32> {
    let mut out = vec![0.0; rows * cols];
    out.par_chunks_mut(cols).zip(data.par_chunks(cols)).for_each(|(o, x)| sliding_median(x, size, o));
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

fn sliding_median(x: &[f32], size: usize, out: &mut [f32]) {
    let n = x.len();
    let half = size / 2;
    // Reflect-pad once, so the loop indexes directly.
    let padded: Vec<f32> = (0..n + 2 * half).map(|i| x[reflect(i as isize - half as isize, n)]).collect();
    // The sorted window, rounded up to a multiple of 8 lanes with +inf (never counted as smaller).
    let mut win = vec![f32::INFINITY; size.div_ceil(8) * 8];
    win[..size].copy_from_slice(&padded[..size]);
    win[..size].sort_unstable_by(f32::total_cmp);
    for (t, o) in out.iter_mut().enumerate() {
        *o = win[half];
        if t + 1 < n {
            replace_sorted(&mut win[..], size, padded[t], padded[t + size]);
        }
    }
}

/// Replace one occurrence of `old` in the sorted `win[..len]` by `new`, keeping it sorted. Both
/// positions are found by counting smaller elements in one branch-free pass (vectorised
/// compares over the short, +inf padded window), then the elements in between shift by one.
/// Magnitudes are finite and non-negative, so plain comparisons order them totally.
#[inline]
fn replace_sorted(win: &mut [f32], len: usize, old: f32, new: f32) {
    let (mut i, mut j) = (0u32, 0u32);
    for &w in win.iter() {
        i += (w < old) as u32;
        j += (w < new) as u32;
    }
    let (i, j) = (i as usize, (j as usize).min(len));
    if j > i {
        win.copy_within(i + 1..j, i);
        win[j - 1] = new;
    } else {
        win.copy_within(j..i, j + 1);
        win[j] = new;
    }
}

/// Harmonic and percussive STFTs of `s` (kernel 31 both ways, power 2 soft masks, margin 1).
pub fn hpss(s: &Stft, kernel: usize) -> (Stft, Stft) {
    let (t, b) = (s.n_frames, s.n_bins);
    // Frame-major magnitude: rows are frames, so the percussive (across-frequency) filter runs along rows.
    let mag_fm: Vec<f32> = s.data.iter().map(|c| c.norm()).collect();
    let perc_fm = median_filter_rows(&mag_fm, t, b, kernel);
    let mag_bm = Array2::from_vec(t, b, mag_fm).transpose();
    let harm_bm = median_filter_rows(&mag_bm.data, b, t, kernel);
    let harm_fm = Array2::from_vec(b, t, harm_bm).transpose().data;
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
    rayon::join(|| istft(&h, length), || istft(&p, length))
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

    #[test]
    fn sliding_median_equals_brute_force() {
        let mut state = 12345u64;
        for n in [1usize, 2, 5, 15, 31, 32, 100, 1000] {
            // values with many ties (quantised) and a spread, as spectrogram magnitudes have
            let x: Vec<f32> = (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 40) % 50) as f32 * 0.5
                })
                .collect();
            for size in [1usize, 3, 31] {
                let mut out = vec![0.0; n];
                sliding_median(&x, size, &mut out);
                assert_eq!(out, naive(&x, size), "n={n} size={size}");
            }
        }
    }
}
