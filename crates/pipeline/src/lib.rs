//! From an audio file to an answer, as one library the CLI, the server and bindings share.
//!
//! - [`embed`]: the pre-trained musicnn network as a feature extractor ([`MusicnnEmbedder`]
//!   implements `genre_data::Embedder`, so embeddings are cached like any other feature).
//! - [`featurize`]: a file's windows (streamed, bounded memory), their features and embeddings.
//! - [`classify`]: a model loaded once (a run folder or the default built into the binary),
//!   answering per window and per file; usable from any thread.
//! - [`ensemble`]: several classifiers answering together (the built-in default is one).

pub mod answer;
pub mod classify;
pub mod embed;
pub mod ensemble;
pub mod explain;
pub mod featurize;
pub mod inputs;
pub mod outside;
pub mod tags;

/// Windows a file's answer comes from by default (evenly spread, first and last included):
/// on the 50 valid 30 s clips, accuracy is flat from 2 windows to 12 (0.72) and 0.74 with all
/// 19 (`benches/windows_curve.sh`). 8 lie inside that flat part and bring a 3-minute song to
/// about 1.5x the time `librosa.load` takes to read it, on one core (`benches/predict_song.py`; each
/// window is read by seeking to it, so the cost grows with the windows, not the song).
pub const DEFAULT_MAX_WINDOWS: usize = 8;

/// Whether this thread may wait for threads of its own that use rayon. Not on a rayon worker
/// (a `genre scan` or any caller's parallel loop): a worker waiting for work that needs the
/// pool can leave no worker to do it (with one pool thread, at once). There the work runs
/// inline instead.
pub(crate) fn may_block_on_threads() -> bool {
    rayon::current_thread_index().is_none()
}

pub use answer::Answer;
pub use classify::{Builtin, Classifier, FilePrediction};
pub use embed::MusicnnEmbedder;
pub use ensemble::Predictor;
pub use explain::{explain_file, Explanation};
pub use featurize::{featurize_file, FileWindows};
pub use tags::{FileTags, Tagger};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Data(#[from] genre_data::DataError),
    #[error(transparent)]
    Model(#[from] genre_model::ModelError),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, PipelineError>;
