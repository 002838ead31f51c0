//! `librosa.core.pitch`: piptrack and tuning estimation (used by chroma_stft).

use crate::convert::{fft_frequencies, hz_to_octs};
use crate::stats::median;
use crate::{Array2, TINY_F32};

/// `librosa.piptrack(S=S, sr, fmin=150, fmax=4000, threshold=0.1)` on a `[bin, frame]`
/// spectrogram: returns the (pitch, magnitude) of every peak as sparse triples
/// `(bin, frame, pitch_hz, mag)`; every other cell of librosa's dense output is zero.
pub fn piptrack(
    s: &Array2,
    sr: u32,
    n_fft: usize,
    fmin: f64,
    fmax: f64,
    threshold: f32,
) -> Vec<(usize, usize, f32, f32)> {
    let (n_bins, n_frames) = (s.rows, s.cols);
    let fmax = fmax.min(sr as f64 / 2.0);
    let freqs = fft_frequencies(sr, n_fft);
    // Per-frame reference: threshold * max over frequency.
    let mut ref_value = vec![f32::NEG_INFINITY; n_frames];
    for b in 0..n_bins {
        for (r, &v) in ref_value.iter_mut().zip(s.row(b)) {
            *r = r.max(v);
        }
    }
    ref_value.iter_mut().for_each(|r| *r *= threshold);
    let mut peaks = Vec::new();
    for b in 1..n_bins.saturating_sub(1) {
        if !(fmin <= freqs[b] && freqs[b] < fmax) {
            continue;
        }
        let (prev, cur, next) = (s.row(b - 1), s.row(b), s.row(b + 1));
        for t in 0..n_frames {
            // localmax of S * (S > ref): the neighbours are masked the same way.
            let m = |v: f32| if v > ref_value[t] { v } else { 0.0 };
            let (xp, x, xn) = (m(prev[t]), m(cur[t]), m(next[t]));
            if !(x > xp && x >= xn) {
                continue;
            }
            let avg = 0.5 * (next[t] - prev[t]);
            let mut shift = 2.0 * cur[t] - next[t] - prev[t];
            shift = avg / (shift + if shift.abs() < TINY_F32 { 1.0 } else { 0.0 });
            let dskew = 0.5 * avg * shift;
            let pitch = ((b as f64 + shift as f64) * sr as f64 / n_fft as f64) as f32;
            peaks.push((b, t, pitch, cur[t] + dskew));
        }
    }
    peaks
}

/// `librosa.pitch_tuning(frequencies, resolution=0.01, bins_per_octave)`: the most common
/// deviation from equal temperament, in fractions of a bin, in [-0.5, 0.5).
pub fn pitch_tuning(freqs: &[f32], resolution: f64, bins_per_octave: usize) -> f64 {
    let residual: Vec<f64> = freqs
        .iter()
        .filter(|&&f| f > 0.0)
        .map(|&f| {
            let r = (bins_per_octave as f64 * hz_to_octs(f as f64, 0.0, bins_per_octave)).rem_euclid(1.0);
            if r >= 0.5 {
                r - 1.0
            } else {
                r
            }
        })
        .collect();
    if residual.is_empty() {
        return 0.0;
    }
    let n_bins = (1.0 / resolution).ceil() as usize;
    let edges = crate::convert::linspace(-0.5, 0.5, n_bins + 1);
    let mut counts = vec![0usize; n_bins];
    for r in residual {
        // np.histogram: uniform bins, last bin closed on the right.
        let mut i = (((r - edges[0]) * n_bins as f64 / (edges[n_bins] - edges[0])) as isize)
            .clamp(0, n_bins as isize - 1) as usize;
        if r < edges[i] && i > 0 {
            i -= 1;
        } else if i + 1 < n_bins && r >= edges[i + 1] {
            i += 1;
        }
        counts[i] += 1;
    }
    let best = counts.iter().enumerate().fold(0, |b, (i, &c)| if c > counts[b] { i } else { b });
    edges[best]
}

/// `librosa.estimate_tuning(S=S, sr, n_fft, bins_per_octave)` for a power spectrogram.
pub fn estimate_tuning(s: &Array2, sr: u32, n_fft: usize, bins_per_octave: usize) -> f64 {
    let peaks = piptrack(s, sr, n_fft, 150.0, 4000.0, 0.1);
    let positive: Vec<&(usize, usize, f32, f32)> = peaks.iter().filter(|p| p.2 > 0.0).collect();
    if positive.is_empty() {
        return pitch_tuning(&[], 0.01, bins_per_octave);
    }
    let mut mags: Vec<f32> = positive.iter().map(|p| p.3).collect();
    let threshold = median(&mut mags);
    let pitches: Vec<f32> = positive.iter().filter(|p| p.3 >= threshold).map(|p| p.2).collect();
    pitch_tuning(&pitches, 0.01, bins_per_octave)
}
