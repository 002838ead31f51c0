//! Onset strength, tempogram and global tempo (librosa.onset / librosa.feature.rhythm).

use realfft::RealFftPlanner;

use crate::convert::tempo_frequencies;
use crate::core::hann;
use crate::Array2;

/// `librosa.onset.onset_strength(y, sr)` from its log-mel spectrogram (power_to_db of the default
/// 128-band mel power, ref 1.0, top_db 80): mean over bands of the positive first difference,
/// shifted right by `1 + n_fft / (2 hop)` frames to undo the centring, trimmed to the frame count.
pub fn onset_strength_from_logmel(logmel: &Array2, n_fft: usize, hop: usize) -> Vec<f32> {
    let n = logmel.cols;
    let shift = 1 + n_fft / (2 * hop);
    let mut diff = vec![0.0f32; n.saturating_sub(1)];
    for m in 0..logmel.rows {
        let row = logmel.row(m);
        for (j, d) in diff.iter_mut().enumerate() {
            *d += (row[j + 1] - row[j]).max(0.0);
        }
    }
    let scale = 1.0 / logmel.rows as f32;
    let mut env = vec![0.0f32; n];
    for (j, d) in diff.iter().enumerate() {
        if j + shift < n {
            env[j + shift] = d * scale;
        }
    }
    env
}

/// `librosa.feature.tempogram(onset_envelope, win_length)`: windowed autocorrelation of the
/// onset envelope around every frame (linear-ramp padding to 0 at both ends), each frame
/// normalised by its maximum. Returns `[lag, frame]`.
pub fn tempogram(onset: &[f32], win_length: usize) -> Array2 {
    let n = onset.len();
    let pad = win_length / 2;
    let mut padded = vec![0.0f32; n + 2 * pad];
    if n > 0 {
        let (first, last) = (onset[0], onset[n - 1]);
        for i in 0..pad {
            // np.pad(mode='linear_ramp', end_values=0): linspace(0, edge, pad, endpoint=False)
            padded[i] = first * i as f32 / pad as f32;
            padded[n + 2 * pad - 1 - i] = last * i as f32 / pad as f32;
        }
        padded[pad..pad + n].copy_from_slice(onset);
    }
    let window = hann(win_length);
    let n_fft = (2 * win_length - 1).next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let (fwd, inv) = (planner.plan_fft_forward(n_fft), planner.plan_fft_inverse(n_fft));
    let (mut buf, mut spec, mut out) = (fwd.make_input_vec(), fwd.make_output_vec(), inv.make_output_vec());
    let mut scratch = vec![Default::default(); fwd.get_scratch_len().max(inv.get_scratch_len())];
    let mut tg = Array2::zeros(win_length, n);
    for t in 0..n {
        buf.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..win_length {
            buf[i] = padded[t + i] * window[i];
        }
        fwd.process_with_scratch(&mut buf, &mut spec, &mut scratch).expect("sizes from plan");
        spec.iter_mut().for_each(|c| *c = realfft::num_complex::Complex32::new(c.norm_sqr(), 0.0));
        inv.process_with_scratch(&mut spec, &mut out, &mut scratch).expect("sizes from plan");
        let max = out[..win_length].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if max >= crate::TINY_F32 {
            for lag in 0..win_length {
                tg.set(lag, t, out[lag] / max);
            }
        }
    }
    tg
}

/// `librosa.feature.tempo(onset_envelope, sr, hop)` with librosa's defaults: mean tempogram over
/// 8 s windows, log-normal prior around 120 BPM (1 octave std), nothing above 320 BPM.
pub fn tempo_from_onset(onset: &[f32], sr: u32, hop: usize) -> f64 {
    let win_length = (8.0 * sr as f64 / hop as f64).floor() as usize; // time_to_frames(ac_size=8)
    let tg = tempogram(onset, win_length);
    let bpms = tempo_frequencies(win_length, hop, sr);
    let max_idx = bpms.iter().position(|&b| b < 320.0).unwrap_or(0);
    let mut best = (f64::NEG_INFINITY, 0usize);
    for lag in max_idx.max(1)..win_length {
        let mean = tg.row(lag).iter().map(|&v| v as f64).sum::<f64>() / tg.cols.max(1) as f64;
        let logprior = -0.5 * (bpms[lag].log2() - 120f64.log2()).powi(2);
        let score = (1e6 * mean).ln_1p() + logprior;
        if score > best.0 {
            best = (score, lag);
        }
    }
    bpms[best.1]
}
