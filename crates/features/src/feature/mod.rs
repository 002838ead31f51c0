//! `librosa.feature`: spectral, cepstral and rhythm features.

pub mod mel;
pub mod rhythm;
pub mod spectral;

pub use mel::{delta, logmel, mel_projector, melspectrogram, mfcc, mfcc_from_logmel, MelSpecParams};
pub use rhythm::{onset_strength_from_logmel, tempo_from_onset, tempogram};
pub use spectral::{chroma_stft, rms, spectral_bandwidth, spectral_centroid, spectral_rolloff, zero_crossing_rate};
