//! Frame-wise spectral statistics: RMS, zero-crossing rate, centroid, bandwidth, roll-off, chroma.

use crate::convert::fft_frequencies;
use crate::filters::chroma;
use crate::pitch::estimate_tuning;
use crate::{Array2, FeatureError, Result, TINY_F32};

/// Time-domain frames `[t*hop, t*hop+frame_length)` of `y` padded by `frame_length/2` on both
/// sides (zeros, or the edge samples when `edge`); `f` reduces each frame to one value.
fn framewise(y: &[f32], frame_length: usize, hop: usize, edge: bool, f: impl Fn(&[f32]) -> f32) -> Result<Vec<f32>> {
    let (Some(&first), Some(&last)) = (y.first(), y.last()) else {
        return Err(FeatureError::Empty);
    };
    let pad = frame_length / 2;
    let (left, right) = if edge { (first, last) } else { (0.0, 0.0) };
    let mut padded = vec![left; pad];
    padded.extend_from_slice(y);
    padded.resize(y.len() + 2 * pad, right);
    let n_frames = 1 + (padded.len() - frame_length) / hop;
    Ok((0..n_frames).map(|t| f(&padded[t * hop..t * hop + frame_length])).collect())
}

/// `librosa.feature.rms(y, frame_length=2048, hop_length=512)` (centred, zero padding).
pub fn rms(y: &[f32], frame_length: usize, hop: usize) -> Result<Vec<f32>> {
    framewise(y, frame_length, hop, false, |frame| {
        // Four partial sums in f64: a single running sum is a serial chain that neither
        // vectorises nor pipelines.
        let mut acc = [0.0f64; 4];
        let chunks = frame.chunks_exact(4);
        let tail: f64 = chunks.remainder().iter().map(|&x| x as f64 * x as f64).sum();
        for c in chunks {
            for l in 0..4 {
                acc[l] += c[l] as f64 * c[l] as f64;
            }
        }
        ((acc.iter().sum::<f64>() + tail) / frame_length as f64).sqrt() as f32
    })
}

/// `librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)`: centred with edge
/// padding; |x| <= 1e-10 counts as zero (positive); the rate is crossings / frame_length.
pub fn zero_crossing_rate(y: &[f32], frame_length: usize, hop: usize) -> Result<Vec<f32>> {
    let negative = |x: f32| x < -1e-10;
    framewise(y, frame_length, hop, true, |frame| {
        let count: u32 = frame.windows(2).map(|w| (negative(w[0]) != negative(w[1])) as u32).sum();
        count as f32 / frame_length as f32
    })
}

/// Per-frame sums over bins of a `[bin, frame]` spectrogram, walking rows (cache friendly).
fn column_sums(s: &Array2, weight: impl Fn(usize, f32, usize) -> f64) -> Vec<f64> {
    let mut acc = vec![0.0f64; s.cols];
    for b in 0..s.rows {
        for (t, (a, &v)) in acc.iter_mut().zip(s.row(b)).enumerate() {
            *a += weight(b, v, t);
        }
    }
    acc
}

/// `librosa.feature.spectral_centroid(S=magnitude, sr)`.
pub fn spectral_centroid(mag: &Array2, sr: u32, n_fft: usize) -> Vec<f32> {
    let freqs = fft_frequencies(sr, n_fft);
    let total = column_sums(mag, |_, v, _| v as f64);
    let weighted = column_sums(mag, |b, v, _| freqs[b] * v as f64);
    total.iter().zip(&weighted).map(|(&n, &w)| if n < TINY_F32 as f64 { 0.0 } else { (w / n) as f32 }).collect()
}

/// `librosa.feature.spectral_bandwidth(S=magnitude, sr, p=2)`.
pub fn spectral_bandwidth(mag: &Array2, sr: u32, n_fft: usize) -> Vec<f32> {
    let freqs = fft_frequencies(sr, n_fft);
    let centroid = spectral_centroid(mag, sr, n_fft);
    let total = column_sums(mag, |_, v, _| v as f64);
    let dev = column_sums(mag, |b, v, t| v as f64 * (freqs[b] - centroid[t] as f64).powi(2));
    total.iter().zip(&dev).map(|(&n, &d)| if n < TINY_F32 as f64 { 0.0 } else { (d / n).sqrt() as f32 }).collect()
}

/// `librosa.feature.spectral_rolloff(S=magnitude, sr, roll_percent)`: the lowest bin frequency
/// whose cumulative (f32, in bin order, as numpy's cumsum) energy reaches the threshold.
pub fn spectral_rolloff(mag: &Array2, sr: u32, n_fft: usize, roll_percent: f32) -> Vec<f32> {
    let freqs = fft_frequencies(sr, n_fft);
    let mut total = vec![0.0f32; mag.cols];
    for b in 0..mag.rows {
        total.iter_mut().zip(mag.row(b)).for_each(|(a, &v)| *a += v);
    }
    let threshold: Vec<f32> = total.iter().map(|&t| roll_percent * t).collect();
    let mut cum = vec![0.0f32; mag.cols];
    let mut result = vec![f32::NAN; mag.cols];
    for b in 0..mag.rows {
        for t in 0..mag.cols {
            cum[t] += mag.get(b, t);
            if result[t].is_nan() && cum[t] >= threshold[t] {
                result[t] = freqs[b] as f32;
            }
        }
    }
    result.iter().map(|&r| if r.is_nan() { 0.0 } else { r }).collect()
}

/// `librosa.feature.chroma_stft(S=power, sr)` with tuning estimated from the spectrogram:
/// `[n_chroma, frame]`, each frame scaled so that its maximum is 1.
pub fn chroma_stft(power: &Array2, sr: u32, n_fft: usize, n_chroma: usize) -> Array2 {
    let tuning = estimate_tuning(power, sr, n_fft, n_chroma);
    let fb = chroma(sr, n_fft, tuning, n_chroma);
    let mut out = Array2::zeros(n_chroma, power.cols);
    for c in 0..n_chroma {
        let o = out.row_mut(c);
        for b in 0..power.rows {
            let w = fb.get(c, b);
            if w == 0.0 {
                continue;
            }
            for (acc, &x) in o.iter_mut().zip(power.row(b)) {
                *acc += w * x;
            }
        }
    }
    for t in 0..out.cols {
        let m = (0..n_chroma).map(|c| out.get(c, t).abs()).fold(0.0f32, f32::max);
        if m >= TINY_F32 {
            for c in 0..n_chroma {
                out.set(c, t, out.get(c, t) / m);
            }
        }
    }
    out
}
