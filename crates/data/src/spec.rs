//! What a model sees: the feature kind, its parameters, and how tracks are cut into windows.

use genre_audio::window::Windowing;
use genre_features::core::{power_to_db_in_place, spectrogram, DbRef, StftParams};
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
    /// Log-magnitude STFT, `ln(1 + |X|)`, `[1 + n_fft/2, frames]`.
    Stft,
    /// Log-power spectrogram, `10 log10 |X|^2` dB (ref 1.0, top_db 80), `[1 + n_fft/2, frames]`;
    /// the resolution is `n_fft` / `hop`.
    Logpower,
    /// musicnn's input: `log10(10000 mel + 1)`, 96 Slaney mels of a 16 kHz, n_fft 512, hop 256
    /// power spectrogram, `[96, frames]`; windows are framed as musicnn frames a whole file
    /// (centred, zero-padded), so window k holds exactly frames `k*hop .. k*hop + frames`.
    Musicnn,
}

/// A pre-trained network applied to every window of input features: its output, not the input,
/// is what is cached and learned from (computed by a [`crate::Embedder`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Which network ("musicnn-msd", "musicnn-mtt").
    pub network: String,
    /// Which of its layers ("penultimate", "pooled", "frontend", "taggram").
    pub layer: String,
    /// Shape of one window's output.
    pub shape: [usize; 2],
}

impl std::str::FromStr for FeatureKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_lowercase()))
            .map_err(|_| format!("unknown features '{s}' (logmel, mfcc, stft, logpower, gtzan57, musicnn)"))
    }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Embedding>,
}

/// musicnn's window: 187 frames of hop 256 at 16 kHz (2.992 s).
pub const MUSICNN_WINDOW_SECS: f64 = 187.0 * 256.0 / 16000.0;

impl FeatureSpec {
    pub fn new(kind: FeatureKind, window_secs: f64, window_hop_secs: f64) -> Self {
        if kind == FeatureKind::Musicnn {
            return Self::musicnn(window_hop_secs);
        }
        Self {
            kind,
            sr: 22050,
            n_fft: 2048,
            hop: 512,
            n_mels: 128,
            n_mfcc: 20,
            window_secs,
            window_hop_secs,
            embedding: None,
        }
    }

    /// musicnn's input windows (3 s), `hop_secs` apart (musicnn's tagger: no overlap, 2.992).
    pub fn musicnn(hop_secs: f64) -> Self {
        Self {
            kind: FeatureKind::Musicnn,
            sr: 16000,
            n_fft: 512,
            hop: 256,
            n_mels: 96,
            n_mfcc: 0,
            window_secs: MUSICNN_WINDOW_SECS,
            window_hop_secs: hop_secs,
            embedding: None,
        }
    }

    /// Parameters a feature spec (from a model card, say) may hold: anything else is refused,
    /// naming the field, before it sizes an allocation or divides.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let bad = |f: &str, v: String| Err(format!("features.{f} = {v} is out of range"));
        if !(1000..=768_000).contains(&self.sr) {
            return bad("sr", self.sr.to_string());
        }
        if !(16..=65_536).contains(&self.n_fft) {
            return bad("n_fft", self.n_fft.to_string());
        }
        if self.hop == 0 || self.hop > self.n_fft {
            return bad("hop", self.hop.to_string());
        }
        if matches!(self.kind, FeatureKind::Logmel | FeatureKind::Mfcc | FeatureKind::Musicnn)
            && !(1..=1024).contains(&self.n_mels)
        {
            return bad("n_mels", self.n_mels.to_string());
        }
        if self.kind == FeatureKind::Mfcc && !(1..=self.n_mels).contains(&self.n_mfcc) {
            return bad("n_mfcc", self.n_mfcc.to_string());
        }
        if !(self.window_secs.is_finite() && (0.05..=3600.0).contains(&self.window_secs)) {
            return bad("window_secs", self.window_secs.to_string());
        }
        if !(self.window_hop_secs.is_finite() && self.window_hop_secs >= 0.01 && self.window_hop_secs <= 3600.0) {
            return bad("window_hop_secs", self.window_hop_secs.to_string());
        }
        Ok(())
    }

    pub fn with_embedding(mut self, e: Embedding) -> Self {
        self.embedding = Some(e);
        self
    }

    /// Stable identifier of this spec (changes whenever any parameter changes).
    pub fn key(&self) -> String {
        format!("{:016x}", crate::hash::fnv1a64(serde_json::to_string(self).expect("spec serialises").as_bytes()))
    }

    pub fn windowing(&self) -> Windowing {
        Windowing::new(self.window_secs, self.window_hop_secs)
    }

    /// Shape `[rows, cols]` of one window's features as cached and learned from (the embedding's
    /// when there is one).
    pub fn shape(&self) -> [usize; 2] {
        self.embedding.as_ref().map(|e| e.shape).unwrap_or_else(|| self.input_shape())
    }

    /// Shape of [`FeatureSpec::extract`]'s output (before any embedding).
    pub fn input_shape(&self) -> [usize; 2] {
        let (len, _) = self.windowing().samples(self.sr);
        let frames = 1 + len / self.hop;
        match self.kind {
            FeatureKind::Logmel => [self.n_mels, frames],
            FeatureKind::Mfcc => [self.n_mfcc, frames],
            FeatureKind::Gtzan57 => [57, 1],
            FeatureKind::Stft | FeatureKind::Logpower => [1 + self.n_fft / 2, frames],
            FeatureKind::Musicnn => [self.n_mels, len / self.hop],
        }
    }

    /// Samples of audio before each window's start that its features also see (musicnn's
    /// first frame of a window is centred on the window's start).
    pub fn context(&self) -> usize {
        if self.kind == FeatureKind::Musicnn {
            self.n_fft / 2
        } else {
            0
        }
    }

    /// The samples [`FeatureSpec::extract`] takes for the window starting at `start` of
    /// `signal`: `context()` samples before it and the window itself, zero outside the signal.
    /// A musicnn input shorter than one window is repeated to fill it, as musicnn does.
    pub fn window(&self, signal: &[f32], start: usize) -> Vec<f32> {
        let (len, _) = self.windowing().samples(self.sr);
        let ctx = self.context();
        if self.kind == FeatureKind::Gtzan57 && signal.len() < len {
            return signal.to_vec(); // clip-level statistics of a short clip: of the clip, not of padding
        }
        if self.kind == FeatureKind::Musicnn && !signal.is_empty() && signal.len() < len {
            let mut w = vec![0.0; ctx];
            w.extend(signal.iter().cycle().take(len));
            return w;
        }
        let mut w = vec![0.0; ctx + len];
        let from = start.saturating_sub(ctx);
        let to = (start + len).min(signal.len());
        if from < to {
            let at = ctx + from - start;
            w[at..at + to - from].copy_from_slice(&signal[from..to]);
        }
        w
    }

    fn mel_params(&self) -> MelSpecParams {
        MelSpecParams::new(self.sr, self.n_fft, self.hop, self.n_mels)
    }

    /// Features of one window (as cut by [`FeatureSpec::window`]), row-major `[rows, cols]`.
    pub fn extract(&self, window: &[f32]) -> genre_features::Result<Vec<f32>> {
        let stft = StftParams { n_fft: self.n_fft, hop: self.hop, center: true };
        Ok(match self.kind {
            FeatureKind::Stft => spectrogram(window, stft, 1.0)?.data.into_iter().map(f32::ln_1p).collect(),
            FeatureKind::Logpower => {
                let mut s = spectrogram(window, stft, 2.0)?.data;
                power_to_db_in_place(&mut s, DbRef::Value(1.0), 1e-10, Some(80.0));
                s
            }
            FeatureKind::Musicnn => {
                let mut p = self.mel_params();
                p.stft.center = false; // the window carries its own context (see `window`)
                let mut m = melspectrogram(window, &p)?.data;
                m.iter_mut().for_each(|v| *v = (10000.0 * *v + 1.0).log10());
                m
            }
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
