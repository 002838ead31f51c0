//! Mel spectrogram, log-mel, MFCC and deltas.

use crate::core::{power_to_db_in_place, stft_frames, DbRef, Frame, StftParams};
use crate::filters::{mel_sparse, MelParams};
use crate::{Array2, Result};

/// Everything that defines a mel spectrogram (librosa.feature.melspectrogram's arguments).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelSpecParams {
    pub stft: StftParams,
    pub mel: MelParams,
    /// 2.0 = power, 1.0 = magnitude.
    pub power: f32,
}

impl Default for MelSpecParams {
    fn default() -> Self {
        Self { stft: StftParams::default(), mel: MelParams::default(), power: 2.0 }
    }
}

impl MelSpecParams {
    /// librosa's defaults (Slaney mel, power 2, centred) at the given rate and sizes.
    pub fn new(sr: u32, n_fft: usize, hop: usize, n_mels: usize) -> Self {
        Self {
            stft: StftParams { n_fft, hop, center: true },
            mel: MelParams { sr, n_fft, n_mels, ..MelParams::default() },
            power: 2.0,
        }
    }
}

/// The per-frame mel projection of [`MelSpecParams`]: `(n_mels, f)` where `f(spectrum, out)`
/// writes the frame's mel energies. Shared by the whole-signal and streaming paths.
pub fn mel_projector(p: &MelSpecParams) -> (usize, impl Fn(&mut Frame<'_>, &mut [f32]) + Sync) {
    let mut mp = p.mel;
    mp.n_fft = p.stft.n_fft;
    let bank = mel_sparse(&mp);
    let power = p.power;
    let project = move |frame: &mut Frame<'_>, row: &mut [f32]| {
        if power == 2.0 {
            bank.apply(frame.power(), row);
        } else {
            bank.apply_with(frame.spectrum, |c| c.norm().powf(power), row);
        }
    };
    (mp.n_mels, project)
}

/// `librosa.feature.melspectrogram(y)`: `[n_mels, frame]`.
/// The STFT, power and mel projection are fused per frame (see [`stft_frames`]).
pub fn melspectrogram(y: &[f32], p: &MelSpecParams) -> Result<Array2> {
    let (n_mels, project) = mel_projector(p);
    let (n_frames, data) = stft_frames(y, p.stft, n_mels, project)?;
    Ok(Array2::from_vec(n_frames, n_mels, data).transpose())
}

/// `librosa.power_to_db(melspectrogram(y), ref, amin=1e-10, top_db)`.
pub fn logmel(y: &[f32], p: &MelSpecParams, reference: DbRef, top_db: Option<f32>) -> Result<Array2> {
    let mut m = melspectrogram(y, p)?;
    power_to_db_in_place(&mut m.data, reference, 1e-10, top_db);
    Ok(m)
}

/// Orthonormal DCT-II basis `[n_out, n_in]` (scipy.fft.dct(type=2, norm='ortho')).
pub fn dct_ortho(n_out: usize, n_in: usize) -> Array2 {
    let mut d = Array2::zeros(n_out, n_in);
    let n = n_in as f64;
    for k in 0..n_out {
        let scale = if k == 0 { (1.0 / n).sqrt() } else { (2.0 / n).sqrt() };
        for i in 0..n_in {
            let v = scale * (std::f64::consts::PI * k as f64 * (2.0 * i as f64 + 1.0) / (2.0 * n)).cos();
            d.set(k, i, v as f32);
        }
    }
    d
}

/// MFCC from a log-mel (dB) spectrogram: DCT-II ortho over the mel axis, first `n_mfcc`.
pub fn mfcc_from_logmel(logmel: &Array2, n_mfcc: usize) -> Array2 {
    let d = dct_ortho(n_mfcc, logmel.rows);
    let mut out = Array2::zeros(n_mfcc, logmel.cols);
    for k in 0..n_mfcc {
        let o = out.row_mut(k);
        for m in 0..logmel.rows {
            let w = d.get(k, m);
            for (acc, &x) in o.iter_mut().zip(logmel.row(m)) {
                *acc += w * x;
            }
        }
    }
    out
}

/// `librosa.feature.mfcc(y, sr, n_mfcc)`: log-mel with ref 1.0 and top_db 80, then DCT.
pub fn mfcc(y: &[f32], p: &MelSpecParams, n_mfcc: usize) -> Result<Array2> {
    Ok(mfcc_from_logmel(&logmel(y, p, DbRef::Value(1.0), Some(80.0))?, n_mfcc))
}

/// `librosa.feature.delta(data, width=9, order=1)` along frames. librosa uses a Savitzky-Golay
/// derivative with mode='interp': interior frames get the centred regression slope; the first and
/// last `width/2` frames get the slope of the line fitted to the first/last `width` frames.
pub fn delta(data: &Array2, width: usize) -> Array2 {
    let half = width / 2;
    let denom: f32 = (1..=half).map(|n| 2.0 * (n * n) as f32).sum();
    let mut out = Array2::zeros(data.rows, data.cols);
    if data.cols < width {
        return out; // librosa refuses this; zeros are the honest slope of too few frames
    }
    for r in 0..data.rows {
        let x = data.row(r);
        let slope = |c: usize| (1..=half).map(|n| n as f32 * (x[c + n] - x[c - n])).sum::<f32>() / denom;
        let o = out.row_mut(r);
        for c in 0..data.cols {
            o[c] = slope(c.clamp(half, data.cols - 1 - half));
        }
    }
    out
}
