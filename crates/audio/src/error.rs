use std::path::{Path, PathBuf};

/// Every audio error names the file it came from and the cause, so one bad file in a batch of
/// thousands can be reported precisely and skipped.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: empty file (0 bytes)")]
    EmptyFile { path: PathBuf },
    #[error("{path}: not a recognised audio format ({detail})")]
    UnknownFormat { path: PathBuf, detail: String },
    #[error("{path}: no audio track")]
    NoTrack { path: PathBuf },
    #[error("{path}: unsupported codec ({detail})")]
    UnsupportedCodec { path: PathBuf, detail: String },
    #[error("{path}: missing sample rate in stream header")]
    NoSampleRate { path: PathBuf },
    #[error("{path}: corrupt or truncated stream: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{path}: no audio could be decoded ({detail})")]
    NothingDecoded { path: PathBuf, detail: String },
    #[error("{path}: invalid request: {detail}")]
    InvalidRequest { path: PathBuf, detail: String },
    #[error("resampler: {0}")]
    Resample(String),
}

impl AudioError {
    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            AudioError::Open { path, .. }
            | AudioError::EmptyFile { path }
            | AudioError::UnknownFormat { path, .. }
            | AudioError::NoTrack { path }
            | AudioError::UnsupportedCodec { path, .. }
            | AudioError::NoSampleRate { path }
            | AudioError::Corrupt { path, .. }
            | AudioError::NothingDecoded { path, .. }
            | AudioError::InvalidRequest { path, .. } => Some(path),
            AudioError::Resample(_) => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, AudioError>;
