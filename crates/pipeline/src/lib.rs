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
pub mod tags;

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
