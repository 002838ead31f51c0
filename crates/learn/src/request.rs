//! What to train or evaluate: every option of a run, with its default. One definition serves
//! every face: serde builds it from JSON or Python keywords (missing fields take the defaults),
//! and with the `clap` feature the same fields are `genre train`'s flags, help text included.

use std::path::PathBuf;

use anyhow::{bail, Result};
use genre_data::spec::MUSICNN_WINDOW_SECS;
use genre_data::{FeatureKind, FeatureSpec};
use genre_model::arch::Family;
use genre_model::musicnn::{Layer, Variant};
use genre_model::train::TrainOptions;
use genre_pipeline::embed::{musicnn_spec, Output};
use serde::{Deserialize, Serialize};

use crate::sources::SplitChoice;

fn d() -> TrainRequest {
    TrainRequest::default()
}

/// Examples:
///   genre train music/ --model cnn --out runs/cnn
///   genre train manifest.csv --model crnn --out runs/tags            (multi-label when rows have a|b)
///   genre train music/ --model musicnn --out runs/transfer             (head on pre-trained musicnn)
///   genre train music/ --model musicnn --finetune --init runs/transfer --lr 1e-5 --out runs/ft
///                                              (then the mid-end and back-end train too)
///   genre train music/ --model cnn --features stft --n-fft 1024 --hop 256 --out runs/stft
///   genre train ../shared/data/gtzan/features_30_sec.csv --model features \
///       --lists ../shared/data/gtzan/splits/train.txt,../shared/data/gtzan/splits/valid.txt --out runs/mlp
/// A killed run resumes from its last epoch when started again with the same --out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[cfg_attr(feature = "clap", command(verbatim_doc_comment))]
#[serde(default, deny_unknown_fields)]
pub struct TrainRequest {
    /// A folder with one sub-folder per genre, a manifest CSV (path,labels[,group]) or a
    /// feature table CSV (filename,...,label).
    pub data: PathBuf,
    /// Model family: cnn, resnet, lstm, crnn, features, or musicnn (a new head on the
    /// pre-trained musicnn network; its embeddings are computed once into the cache).
    #[cfg_attr(feature = "clap", arg(long, default_value = "cnn"))]
    pub model: Family,
    /// musicnn: which pre-trained network (msd: Last.fm tags of the Million Song Dataset; mtt:
    /// MagnaTagATune).
    #[cfg_attr(feature = "clap", arg(long, default_value = "msd"))]
    pub backbone: Variant,
    /// musicnn: also train the pre-trained mid-end and back-end (the front-end's output is cached).
    #[cfg_attr(feature = "clap", arg(long))]
    pub finetune: bool,
    /// With --finetune: start from the head of a frozen musicnn run (same backbone and classes),
    /// the usual second stage of transfer learning.
    #[cfg_attr(feature = "clap", arg(long, requires = "finetune"))]
    pub init: Option<PathBuf>,
    /// Input of the from-scratch families (cnn, resnet, crnn: logmel; lstm: mfcc): logmel, mfcc,
    /// stft (ln(1 + |STFT|)) or logpower (STFT power in dB; resolution from --n-fft/--hop).
    #[cfg_attr(feature = "clap", arg(long))]
    pub features: Option<FeatureKind>,
    /// FFT size of the stft/logpower/logmel/mfcc inputs.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().n_fft))]
    pub n_fft: usize,
    /// Hop (samples) of those inputs.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().hop))]
    pub hop: usize,
    /// Run folder (config, metrics, curves, checkpoints, model.safetensors + model.json).
    #[cfg_attr(feature = "clap", arg(long, short))]
    pub out: PathBuf,
    /// Split lists train,valid[,test] (one path per line); default: grouped automatic split.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub lists: Vec<PathBuf>,
    /// Automatic split: share of the groups held out for validation.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().valid_frac))]
    pub valid_frac: f64,
    /// Automatic split: share of the groups held out for the test side.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().test_frac))]
    pub test_frac: f64,
    /// Window length in seconds (features model: the 57 features per window).
    #[cfg_attr(feature = "clap", arg(long))]
    pub window: Option<f64>,
    /// Hop between windows in seconds.
    #[cfg_attr(feature = "clap", arg(long))]
    pub window_hop: Option<f64>,
    /// Mel bands of log-mel inputs.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().n_mels))]
    pub n_mels: usize,
    /// Coefficients of MFCC inputs.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().n_mfcc))]
    pub n_mfcc: usize,
    /// Most epochs (early stopping may end sooner).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().epochs))]
    pub epochs: usize,
    /// Windows per batch.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().batch))]
    pub batch: usize,
    /// Learning rate (peak of the cosine schedule).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().lr))]
    pub lr: f64,
    /// AdamW weight decay (0 = Adam).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().weight_decay))]
    pub weight_decay: f32,
    /// Keep the learning rate constant instead of the cosine schedule.
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_cosine: bool,
    /// After the epoch is chosen on valid (scores and calibration are fixed there), train again
    /// from scratch on train + valid for that many epochs and keep those weights: more data for
    /// the shipped model; the card's scores stay the choice stage's (and say so).
    #[cfg_attr(feature = "clap", arg(long))]
    pub refit: bool,
    /// Early stopping patience in epochs (0 = off).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().patience))]
    pub patience: usize,
    /// Seed of the split, the initialisation and the batches (same seed, same run).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d().seed))]
    pub seed: u64,
    /// Do not weight the loss by inverse class frequency.
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_class_weights: bool,
    /// Augmentation: Gaussian noise std (standardised units).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0))]
    pub noise: f32,
    /// Augmentation: random gain (standardised units).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0))]
    pub gain: f32,
    /// Augmentation: one SpecAugment frequency and time mask per window.
    #[cfg_attr(feature = "clap", arg(long))]
    pub spec_masks: bool,
    /// Augmentation: probability of mixup per batch.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0))]
    pub mixup: f32,
    /// Feature cache folder (shared between runs; keyed by feature parameters).
    #[cfg_attr(feature = "clap", arg(long, default_value = ".genre-cache"))]
    pub cache: PathBuf,
}

impl Default for TrainRequest {
    fn default() -> Self {
        Self {
            data: PathBuf::new(),
            model: Family::Cnn,
            backbone: Variant::Msd,
            finetune: false,
            init: None,
            features: None,
            n_fft: 2048,
            hop: 512,
            out: PathBuf::new(),
            lists: Vec::new(),
            valid_frac: 0.15,
            test_frac: 0.15,
            window: None,
            window_hop: None,
            n_mels: 128,
            n_mfcc: 20,
            epochs: 30,
            batch: 32,
            lr: 1e-3,
            weight_decay: 1e-4,
            no_cosine: false,
            refit: false,
            patience: 8,
            seed: 42,
            no_class_weights: false,
            noise: 0.0,
            gain: 0.0,
            spec_masks: false,
            mixup: 0.0,
            cache: PathBuf::from(".genre-cache"),
        }
    }
}

impl TrainRequest {
    /// The features each window of the run is made of.
    pub fn spec(&self) -> Result<FeatureSpec> {
        if self.model == Family::Musicnn {
            // musicnn's windows are its own (3 s); only their hop is a choice.
            let output = if self.finetune { Output::Frontend } else { Output::Layer(Layer::Penultimate) };
            return Ok(musicnn_spec(self.backbone, output, self.window_hop.unwrap_or(MUSICNN_WINDOW_SECS / 2.0)));
        }
        let (kind, win, hop) = match self.model {
            Family::Features => (FeatureKind::Gtzan57, 30.0, 15.0),
            Family::Lstm => (self.features.unwrap_or(FeatureKind::Mfcc), 3.0, 1.5),
            _ => (self.features.unwrap_or(FeatureKind::Logmel), 3.0, 1.5),
        };
        if matches!(kind, FeatureKind::Musicnn | FeatureKind::Gtzan57) && self.model != Family::Features {
            bail!("--features {kind:?} is not an input of --model {:?} (use --model musicnn or features)", self.model);
        }
        let mut s = FeatureSpec::new(
            kind,
            self.window.unwrap_or(win),
            self.window_hop.unwrap_or(self.window.map(|w| w / 2.0).unwrap_or(hop)),
        );
        s.n_mels = self.n_mels;
        s.n_mfcc = self.n_mfcc;
        s.n_fft = self.n_fft;
        s.hop = self.hop;
        Ok(s)
    }

    pub fn options(&self, multi_label: bool) -> TrainOptions {
        TrainOptions {
            epochs: self.epochs,
            batch_size: self.batch,
            lr: self.lr,
            weight_decay: self.weight_decay,
            cosine: !self.no_cosine,
            patience: self.patience,
            seed: self.seed,
            class_weights: !self.no_class_weights,
            multi_label,
            noise: self.noise,
            gain: self.gain,
            spec_masks: self.spec_masks,
            mixup: self.mixup,
            stop_after: None,
        }
    }

    pub fn split_choice(&self) -> Result<SplitChoice> {
        Ok(match self.lists.as_slice() {
            [] => SplitChoice::Grouped { valid: self.valid_frac, test: self.test_frac, seed: self.seed },
            [t, v] => SplitChoice::Lists { train: t.clone(), valid: v.clone(), test: None },
            [t, v, te] => SplitChoice::Lists { train: t.clone(), valid: v.clone(), test: Some(te.clone()) },
            _ => bail!("--lists takes train,valid[,test]"),
        })
    }
}

/// Examples:
///   genre eval runs/cnn music/                      (the run's own split, valid and test sides)
///   genre eval runs/cnn other_music/ --part all     (every track of another data set)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[cfg_attr(feature = "clap", command(verbatim_doc_comment))]
#[serde(default, deny_unknown_fields)]
pub struct EvalRequest {
    /// A run folder (or its model.json).
    pub model: PathBuf,
    /// The data: genre folder, manifest or feature table.
    pub data: PathBuf,
    /// Which tracks: "valid", "test" (the run's split, from its split.json), or "all".
    #[cfg_attr(feature = "clap", arg(long, default_value = "valid"))]
    pub part: String,
    /// Where the reports go (default: the run folder).
    #[cfg_attr(feature = "clap", arg(long))]
    pub out: Option<PathBuf>,
    /// Feature cache folder.
    #[cfg_attr(feature = "clap", arg(long, default_value = ".genre-cache"))]
    pub cache: PathBuf,
}

impl Default for EvalRequest {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            data: PathBuf::new(),
            part: "valid".into(),
            out: None,
            cache: PathBuf::from(".genre-cache"),
        }
    }
}
