//! Training runs and evaluations, as one library for every face of genre (the `genre` binary,
//! the server, the Python package): the split, the feature cache, the training loop's events,
//! scoring, reports and the model card. Nothing here prints: progress goes to a callback
//! ([`Progress`]), so the CLI draws bars, Python calls back, tests collect.
//!
//! - [`request`]: what to train ([`TrainRequest`]) or evaluate ([`EvalRequest`]), every option
//!   with its default (deserialisable from JSON/keywords; command-line flags with `clap`);
//! - [`sources`]: cached features of a set of tracks, read window by window;
//! - [`report`]: scores of a model on tracks, written as JSON, Markdown and a picture;
//! - [`run`]: [`train`] and [`evaluate`].

pub mod report;
pub mod request;
pub mod run;
pub mod sources;

pub use report::Report;
pub use request::{EvalRequest, TrainRequest};
pub use run::{evaluate, train, Evaluation, TrainedRun};

/// What a long job reports while it works.
pub enum Progress<'a> {
    /// Features of `what` ("train", "valid", ...): `done` of `total` tracks.
    Features { what: &'a str, done: usize, total: usize },
    /// A track left out, and why (the job goes on without it).
    Skipped { path: &'a std::path::Path, why: &'a str },
    /// A line worth showing (what was found, what was chosen).
    Note(String),
    /// A training event: batches, epochs, resumption.
    Train(genre_model::train::Event<'a>),
}

/// A callback taking [`Progress`]. `Fn + Sync` because features are computed on many threads
/// at once, each reporting its track.
pub type OnProgress<'a> = dyn Fn(Progress) + Sync + 'a;
