//! A trained model loaded once, answering for files: per-window probabilities and the file's.

use std::path::Path;

use genre_data::FeatureSpec;
use genre_model::calibration::apply_temperature;
use genre_model::metrics::mean_rows;
use genre_model::train::probabilities;
use genre_model::{device, ModelCard, Net};

use crate::featurize::{featurize_file, FileWindows};
use crate::{MusicnnEmbedder, PipelineError, Result};

/// The models built into the binary (`models/<name>/`, embedded by build.rs when present).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `musicnn-head`: a dense layer on musicnn-MSD embeddings, trained on GTZAN.
    MusicnnHead,
    /// `gtzan57`: the GTZAN-57 feature MLP (also for feature tables).
    Gtzan57,
}

impl Builtin {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "musicnn-head" => Some(Builtin::MusicnnHead),
            "gtzan57" => Some(Builtin::Gtzan57),
            _ => None,
        }
    }

    /// (model.json, model.safetensors), when this build has them.
    fn files(self) -> Option<(&'static str, &'static [u8])> {
        match self {
            #[cfg(genre_musicnn_head_model)]
            Builtin::MusicnnHead => Some((
                include_str!(concat!(env!("GENRE_MUSICNN_HEAD_MODEL_DIR"), "/model.json")),
                include_bytes!(concat!(env!("GENRE_MUSICNN_HEAD_MODEL_DIR"), "/model.safetensors")),
            )),
            #[cfg(genre_gtzan57_model)]
            Builtin::Gtzan57 => Some((
                include_str!(concat!(env!("GENRE_GTZAN57_MODEL_DIR"), "/model.json")),
                include_bytes!(concat!(env!("GENRE_GTZAN57_MODEL_DIR"), "/model.safetensors")),
            )),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// `models/default/ensemble.json`: the default model, an ensemble of built-in models.
    pub fn default_ensemble() -> Option<&'static str> {
        #[cfg(genre_default_ensemble)]
        return Some(include_str!(concat!(env!("GENRE_DEFAULT_ENSEMBLE_DIR"), "/ensemble.json")));
        #[cfg(not(genre_default_ensemble))]
        None
    }
}

/// A model with everything needed to answer from audio: its card, network, feature spec and (for
/// transfer models) the pre-trained network that makes its input.
pub struct Classifier {
    pub card: ModelCard,
    pub net: Net,
    pub spec: FeatureSpec,
    pub embedder: Option<MusicnnEmbedder>,
}

/// One file's answer.
pub struct FilePrediction {
    pub windows: FileWindows,
    /// Probabilities per computed window, and for the file (mean over windows).
    pub window_probs: Vec<Vec<f32>>,
    pub probs: Vec<f32>,
}

impl Classifier {
    /// A run folder or its `model.json`; `None` = the built-in musicnn head.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(p) => {
                let card_path = if p.is_dir() { p.join("model.json") } else { p.to_path_buf() };
                let card = ModelCard::load(&card_path)?;
                let net = Net::load(&card.arch, &card_path.with_file_name("model.safetensors"), &device::base())?;
                Self::from_parts(card, net)
            }
            None => Self::builtin(Builtin::MusicnnHead),
        }
    }

    pub fn builtin(which: Builtin) -> Result<Self> {
        let (card, weights) = which.files().ok_or_else(|| {
            PipelineError::Invalid(format!(
                "this build has no built-in {which:?} model (models/ was missing at build time): pass --model RUN_DIR"
            ))
        })?;
        let card = ModelCard::from_json(card)?;
        let net = Net::load_bytes(&card.arch, weights, &device::base())?;
        Self::from_parts(card, net)
    }

    pub fn from_parts(card: ModelCard, net: Net) -> Result<Self> {
        let spec: FeatureSpec = serde_json::from_value(card.features.clone())
            .map_err(|e| PipelineError::Invalid(format!("model card features: {e}")))?;
        spec.validate().map_err(|e| PipelineError::Invalid(format!("model card: {e}")))?;
        if spec.shape() != [card.arch.rows, card.arch.cols] {
            return Err(PipelineError::Invalid(format!(
                "model card: features of shape {:?} do not fit a model taking {:?}",
                spec.shape(),
                [card.arch.rows, card.arch.cols]
            )));
        }
        let embedder = MusicnnEmbedder::for_spec(&spec)?;
        Ok(Self { card, net, spec, embedder })
    }

    /// Probabilities of windows of features (each `[rows, cols]`, not yet standardised).
    pub fn classify(&self, windows: Vec<Vec<f32>>) -> Result<Vec<Vec<f32>>> {
        let [rows, cols] = [self.card.arch.rows, self.card.arch.cols];
        let mut out = Vec::with_capacity(windows.len());
        for chunk in windows.chunks(64) {
            let mut x = Vec::with_capacity(chunk.len() * rows * cols);
            for w in chunk {
                let mut w = w.clone();
                self.card.normalization.apply(&mut w, rows);
                x.extend(w);
            }
            let p = probabilities(&self.net, x, [chunk.len(), rows, cols], self.card.multi_label, &device::base());
            if p.iter().flatten().any(|v| !v.is_finite()) {
                return Err(PipelineError::Invalid("the model produced a non-finite probability".into()));
            }
            out.extend(p);
        }
        Ok(out)
    }

    /// Classify a file: at most about `max_windows` windows, evenly spread, when given; the
    /// probabilities calibrated by the card's temperature.
    pub fn predict_file(&self, path: &Path, max_windows: Option<usize>) -> Result<FilePrediction> {
        let mut p = self.predict_raw(path, max_windows)?;
        p.calibrate(self.temperature());
        Ok(p)
    }

    /// The temperature of single-label answers (tags are decided by thresholds instead).
    pub fn temperature(&self) -> f32 {
        if self.card.multi_label {
            1.0
        } else {
            self.card.temperature
        }
    }

    /// [`Classifier::predict_file`] before calibration (what an ensemble mixes).
    pub fn predict_raw(&self, path: &Path, max_windows: Option<usize>) -> Result<FilePrediction> {
        let mut windows = featurize_file(path, &self.spec, self.embedder.as_ref(), max_windows)?;
        let window_probs = self.classify(std::mem::take(&mut windows.x))?;
        let rows: Vec<&[f32]> = window_probs.iter().map(Vec::as_slice).collect();
        let probs = mean_rows(&rows);
        Ok(FilePrediction { windows, window_probs, probs })
    }
}

impl FilePrediction {
    /// Temperature scaling of the file's and every window's probabilities.
    pub fn calibrate(&mut self, t: f32) {
        apply_temperature(&mut self.probs, t);
        self.window_probs.iter_mut().for_each(|p| apply_temperature(p, t));
    }
}
