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
/// updated by one removal and one insertion per step (O(size) memmove of a 31-float array), far
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
    let half = (size / 2) as isize;
    let at = |i: isize| x[reflect(i, n)];
    let mut win: Vec<f32> = (-half..=half).map(at).collect();
    win.sort_unstable_by(f32::total_cmp);
    for (t, o) in out.iter_mut().enumerate() {
        *o = win[size / 2];
        if t + 1 == n {
            break;
        }
        let leaving = at(t as isize - half);
        let entering = at(t as isize + half + 1);
        let pos = win.partition_point(|v| v.total_cmp(&leaving).is_lt());
        win.remove(pos);
        let ins = win.partition_point(|v| v.total_cmp(&entering).is_lt());
        win.insert(ins, entering);
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
    let mut harm = s.clone();
    let mut perc = s.clone();
    harm.data.iter_mut().zip(perc.data.iter_mut()).zip(harm_fm.iter().zip(&perc_fm)).for_each(|((h, p), (&mh, &mp))| {
        let (wh, wp) = softmask_pair(mh, mp);
        *h = scale(*h, wh);
        *p = scale(*p, wp);
    });
    (harm, perc)
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
