//! Genre models on burn (flex backend) behind a narrow interface.
//!
//! - [`arch`]: the five families (`cnn`, `resnet`, `lstm`, `crnn`, `features` MLP). Every model
//!   takes a batch `[B, rows, cols]` (feature x frame windows) and returns logits `[B, classes]`;
//!   convolutional ones split into `features` (the last conv block, for Grad-CAM) and `head`.
//! - [`musicnn`]: the pre-trained musicnn tagging network (MSD, MTT), weights embedded.
//! - [`kernels`]: hand-placed inference kernels (the musicnn front end's conv + max over mel).
//! - [`ops`]: our convolution, max pooling, training batch norm and LSTM cell (forward and
//!   backward) where burn-flex is slow.
//! - [`rnn`]: the LSTM with one product per step for all gates (burn's parameters).
//! - [`net::Net`]: one enum over the families: forward, save/load (safetensors), eval mode.
//! - [`train`]: the training loop (Adam/AdamW, cosine schedule, early stopping, best checkpoint,
//!   class weights, augmentation, resumable checkpoints).
//! - [`metrics`]: segment/track accuracy, per-class P/R/F1, confusion, top-k, ROC/PR-AUC.
//! - [`calibration`]: temperature scaling and the expected calibration error.
//! - [`card`]: the model card saved beside the weights (labels, features, normalisation, scores).

pub mod arch;
pub mod calibration;
pub mod card;
pub mod data;
pub mod device;
pub mod gradcam;
pub mod kernels;
pub mod metrics;
pub mod musicnn;
pub mod net;
pub mod ops;
pub mod rnn;
pub mod train;

pub use card::ModelCard;
pub use net::Net;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {msg}")]
    File { path: std::path::PathBuf, msg: String },
}

pub type Result<T> = std::result::Result<T, ModelError>;
