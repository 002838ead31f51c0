//! Spectral features with librosa's semantics (names follow librosa: `core::stft`,
//! `filters::mel`, `feature::melspectrogram`, ...), computed in f32 like librosa, and fast.
//!
//! Layout convention (librosa's): 2-D results are [`Array2`] of shape `[band or coefficient, frame]`.

pub mod array;
pub mod convert;
pub mod core;
pub mod decompose;
pub mod feature;
pub mod filters;
pub mod gtzan;
pub mod pitch;
pub mod stats;
pub mod stream;

pub use array::Array2;
pub use core::{Stft, StftParams};

/// Errors from feature extraction.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("no audio samples (zero-length signal)")]
    Empty,
    #[error("invalid parameter: {0}")]
    Param(String),
}

pub type Result<T> = std::result::Result<T, FeatureError>;

/// `np.finfo(np.float32).tiny`: librosa's threshold below which a norm is treated as zero.
pub const TINY_F32: f32 = f32::MIN_POSITIVE;
