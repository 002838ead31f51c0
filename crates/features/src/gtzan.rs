//! The 57-feature GTZAN vector of the widely used `features_30_sec.csv` table: mean and variance
//! over the clip of chroma_stft, RMS, spectral centroid/bandwidth/roll-off, zero-crossing rate,
//! the HPSS harmonic and percussive signals, the global tempo and 20 MFCCs, in the table's order.
//! One STFT is computed and shared by every spectral feature (librosa recomputes it per feature).

use crate::core::{power_to_db_in_place, stft, DbRef, StftParams};
use crate::decompose::hpss_signals_from_stft;
use crate::feature::mel::mfcc_from_logmel;
use crate::feature::{
    chroma_stft, onset_strength_from_logmel, rms, spectral_bandwidth, spectral_centroid, spectral_rolloff,
    tempo_from_onset, zero_crossing_rate,
};
use crate::filters::{mel_sparse, MelParams};
use crate::stats::{mean, var};
use crate::{Array2, Result};

/// Column names, in the table's order (without `filename`, `length`, `label`).
pub fn gtzan57_names() -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(57);
    for base in [
        "chroma_stft",
        "rms",
        "spectral_centroid",
        "spectral_bandwidth",
        "rolloff",
        "zero_crossing_rate",
        "harmony",
        "perceptr",
    ] {
        names.push(format!("{base}_mean"));
        names.push(format!("{base}_var"));
    }
    names.push("tempo".into());
    for i in 1..=20 {
        names.push(format!("mfcc{i}_mean"));
        names.push(format!("mfcc{i}_var"));
    }
    names
}

/// The 57 features of a mono clip at rate `sr` (the table uses 22050 Hz), in [`gtzan57_names`] order.
/// GTZAN-57 describes a clip: the whole signal's STFT, HPSS and tempogram are held at once
/// (about 100 MB a minute at 22050 Hz), so longer signals are refused rather than exhausting
/// memory. Cut long files (`--offset`/`--duration`) or use windowed features.
pub const GTZAN57_MAX_SECS: f64 = 600.0;

pub fn gtzan57(y: &[f32], sr: u32) -> Result<Vec<f64>> {
    let secs = y.len() as f64 / sr.max(1) as f64;
    if secs > GTZAN57_MAX_SECS {
        return Err(crate::FeatureError::Param(format!(
            "GTZAN-57 describes a clip: the signal is longer than its {GTZAN57_MAX_SECS:.0} s limit \
             (memory grows with the length); cut the file with --offset/--duration"
        )));
    }
    let params = StftParams::default();
    let (n_fft, hop) = (params.n_fft, params.hop);
    let s = stft(y, params)?;
    let ((spectral, hpss), (time_domain, mfcc_tempo)) = rayon::join(
        || {
            rayon::join(
                || {
                    let power = s.spectrogram(2.0);
                    let mag = power.map(f32::sqrt);
                    let chroma = chroma_stft(&power, sr, n_fft, 12);
                    let centroid = spectral_centroid(&mag, sr, n_fft);
                    let bandwidth = spectral_bandwidth(&mag, sr, n_fft);
                    let rolloff = spectral_rolloff(&mag, sr, n_fft, 0.85);
                    (chroma.data, centroid, bandwidth, rolloff)
                },
                || hpss_signals_from_stft(&s, y.len()),
            )
        },
        || {
            rayon::join(
                || -> Result<_> { Ok((rms(y, n_fft, hop)?, zero_crossing_rate(y, n_fft, hop)?)) },
                || {
                    let logmel = logmel_from_stft(&s, sr);
                    let onset = onset_strength_from_logmel(&logmel, n_fft, hop);
                    (mfcc_from_logmel(&logmel, 20), tempo_from_onset(&onset, sr, hop))
                },
            )
        },
    );
    let (chroma, centroid, bandwidth, rolloff) = spectral;
    let (harm, perc) = hpss;
    let (rms_v, zcr) = time_domain?;
    let (mfcc, tempo) = mfcc_tempo;
    let mut out = Vec::with_capacity(57);
    for x in [&chroma[..], &rms_v, &centroid, &bandwidth, &rolloff, &zcr, &harm, &perc] {
        out.push(mean(x));
        out.push(var(x));
    }
    out.push(tempo);
    for k in 0..20 {
        out.push(mean(mfcc.row(k)));
        out.push(var(mfcc.row(k)));
    }
    Ok(out)
}

/// librosa's default log-mel (128 Slaney mels, power, ref 1.0, top_db 80) from an existing STFT.
fn logmel_from_stft(s: &crate::Stft, sr: u32) -> Array2 {
    let bank = mel_sparse(&MelParams { sr, n_fft: s.params.n_fft, ..MelParams::default() });
    let n_mels = bank.rows.len();
    let mut fm = vec![0.0f32; s.n_frames * n_mels];
    for (t, row) in fm.chunks_mut(n_mels).enumerate() {
        bank.apply_with(s.frame(t), |c| c.re * c.re + c.im * c.im, row);
    }
    let mut m = Array2::from_vec(s.n_frames, n_mels, fm).transpose();
    power_to_db_in_place(&mut m.data, DbRef::Value(1.0), 1e-10, Some(80.0));
    m
}
