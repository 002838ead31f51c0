//! Datasets, leak-free splits and the on-disk feature cache: the bridge between audio files and
//! model batches.
//!
//! - [`dataset`]: a folder with one sub-folder per genre, a CSV manifest (`path,labels[,group]`,
//!   several labels as `a|b` for tagging), or a precomputed feature table (GTZAN's CSV).
//! - [`split`]: train/valid/test from list files or grouped and stratified, never putting one
//!   file's windows or one group's files (album, artist) on two sides.
//! - [`cache`]: features computed once (in parallel) and stored per file, keyed by every
//!   parameter that shapes them; batches are read back window by window, so training memory does
//!   not grow with the data set.
//! - [`windows`]: a file cut into feature windows while it is decoded (bounded memory).

pub mod cache;
pub mod dataset;
pub mod hash;
pub mod spec;
pub mod split;
pub mod windows;

pub use cache::{CacheIndex, FeatureCache};
pub use dataset::{Dataset, Track};
pub use spec::{Embedding, FeatureKind, FeatureSpec};
pub use split::{Split, SplitKind};

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error(transparent)]
    Audio(#[from] genre_audio::AudioError),
    #[error("{path}: {msg}")]
    Feature { path: std::path::PathBuf, msg: String },
}

pub type Result<T> = std::result::Result<T, DataError>;

/// A pre-trained network that turns windows of input features into what the cache stores (see
/// [`spec::Embedding`]). Implemented outside this crate (the network lives in `genre-model`).
pub trait Embedder: Sync {
    /// `n` windows of input features, row-major `[n, rows, cols]`, to their outputs `[n, ...]`.
    fn embed(&self, x: Vec<f32>, n: usize) -> std::result::Result<Vec<f32>, String>;
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io { path: path.to_path_buf(), source }
}
