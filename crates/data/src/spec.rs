//! What a model sees: the feature kind, its parameters, and how tracks are cut into windows.

use genre_audio::window::Windowing;
use genre_features::core::{power_to_db_in_place, DbRef};
use genre_features::feature::{melspectrogram, mfcc_from_logmel, MelSpecParams};
use genre_features::gtzan::gtzan57;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// Log-mel spectrogram `[n_mels, frames]` (dB, ref 1.0, top_db 80).
    Logmel,
    /// MFCC `[n_mfcc, frames]`.
    Mfcc,
    /// The 57 GTZAN features of the window, `[57, 1]`.
    Gtzan57,
}

/// Every parameter that shapes a feature array; its hash keys the cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub kind: FeatureKind,
    pub sr: u32,
    pub n_fft: usize,
    pub hop: usize,
    pub n_mels: usize,
    pub n_mfcc: usize,
    /// Window length and hop in seconds (tracks are cut into overlapping windows).
    pub window_secs: f64,
    pub window_hop_secs: f64,
}

impl FeatureSpec {
    pub fn new(kind: FeatureKind, window_secs: f64, window_hop_secs: f64) -> Self {
        Self { kind, sr: 22050, n_fft: 2048, hop: 512, n_mels: 128, n_mfcc: 20, window_secs, window_hop_secs }
    }

    /// Stable identifier of this spec (changes whenever any parameter changes).
    pub fn key(&self) -> String {
        format!("{:016x}", crate::hash::fnv1a64(serde_json::to_string(self).expect("spec serialises").as_bytes()))
    }

    pub fn windowing(&self) -> Windowing {
        Windowing::new(self.window_secs, self.window_hop_secs)
    }

    /// Shape `[rows, cols]` of one window's features.
    pub fn shape(&self) -> [usize; 2] {
        let (len, _) = self.windowing().samples(self.sr);
        let frames = 1 + len / self.hop;
        match self.kind {
            FeatureKind::Logmel => [self.n_mels, frames],
            FeatureKind::Mfcc => [self.n_mfcc, frames],
            FeatureKind::Gtzan57 => [57, 1],
        }
    }

    fn mel_params(&self) -> MelSpecParams {
        MelSpecParams::new(self.sr, self.n_fft, self.hop, self.n_mels)
    }

    /// Features of one window of samples (exactly `window_secs` long), row-major `[rows, cols]`.
    pub fn extract(&self, window: &[f32]) -> genre_features::Result<Vec<f32>> {
        Ok(match self.kind {
            FeatureKind::Logmel | FeatureKind::Mfcc => {
                let mut m = melspectrogram(window, &self.mel_params())?;
                power_to_db_in_place(&mut m.data, DbRef::Value(1.0), 1e-10, Some(80.0));
                if self.kind == FeatureKind::Mfcc {
                    mfcc_from_logmel(&m, self.n_mfcc).data
                } else {
                    m.data
                }
            }
            FeatureKind::Gtzan57 => gtzan57(window, self.sr)?.into_iter().map(|v| v as f32).collect(),
        })
    }
}
