//! The model card: everything needed to use and judge a trained model, saved as JSON beside its
//! weights (`model.json` + `model.safetensors`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::arch::ArchConfig;
use crate::{ModelError, Result};

/// Per-feature (or one global) standardisation learned on the training split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// One value (global) or one per row of the input window.
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalization {
    /// Standardise a window `[rows, cols]` in place.
    pub fn apply(&self, x: &mut [f32], rows: usize) {
        let cols = x.len() / rows.max(1);
        for (i, v) in x.iter_mut().enumerate() {
            let k = if self.mean.len() == 1 { 0 } else { (i / cols.max(1)).min(self.mean.len() - 1) };
            *v = (*v - self.mean[k]) / self.std[k];
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub format: String,
    pub arch: ArchConfig,
    pub classes: Vec<String>,
    pub multi_label: bool,
    /// Decision thresholds per tag (multi-label).
    pub thresholds: Vec<f32>,
    /// The feature spec (genre_data::FeatureSpec as JSON).
    pub features: serde_json::Value,
    pub normalization: Normalization,
    /// Where the data came from and how it was split.
    pub data: String,
    pub split: String,
    /// The training options used (JSON).
    pub training: serde_json::Value,
    /// Scores at the chosen epoch (JSON: split type beside every number).
    pub scores: serde_json::Value,
}

pub const CARD_FORMAT: &str = "genre-model-card/1";

impl ModelCard {
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, serde_json::to_string_pretty(self).expect("card serialises"))
            .map_err(|e| ModelError::File { path: path.into(), msg: e.to_string() })
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ModelError::File { path: path.into(), msg: e.to_string() })?;
        Self::from_json(&text).map_err(|e| ModelError::File { path: path.into(), msg: e.to_string() })
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let card: ModelCard =
            serde_json::from_str(text).map_err(|e| ModelError::Invalid(format!("not a genre model card: {e}")))?;
        if card.format != CARD_FORMAT {
            return Err(ModelError::Invalid(format!("model card format '{}' is not '{CARD_FORMAT}'", card.format)));
        }
        if card.classes.len() != card.arch.n_classes {
            return Err(ModelError::Invalid(format!(
                "card lists {} classes but the model has {}",
                card.classes.len(),
                card.arch.n_classes
            )));
        }
        Ok(card)
    }
}
