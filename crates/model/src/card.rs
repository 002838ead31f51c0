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
    /// Temperature of the file probabilities, fitted on the valid side ([`crate::calibration`];
    /// 1 = uncalibrated, as cards written before calibration existed).
    #[serde(default = "unit")]
    pub temperature: f32,
    /// Content hashes (FNV-1a 64 of the file's bytes, hex) of the tracks the weights were
    /// trained on, so that a quiz or an evaluation can leave out what the model has heard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trained_on: Vec<String>,
}

fn unit() -> f32 {
    1.0
}

pub const CARD_FORMAT: &str = "genre-model-card/1";

impl ModelCard {
    /// A card that could only produce wrong shapes or NaN answers is refused, naming the field.
    fn check(&self) -> Result<()> {
        let bad = |field: &str, why: String| Err(ModelError::Invalid(format!("model card: {field}: {why}")));
        let a = &self.arch;
        if a.rows == 0 || a.cols == 0 || a.rows * a.cols > 1 << 19 || a.n_classes == 0 || a.n_classes > 100_000 {
            return bad("arch", format!("impossible shape {}x{} with {} classes", a.rows, a.cols, a.n_classes));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = self.classes.iter().find(|c| !seen.insert(c.as_str())) {
            return bad("classes", format!("'{dup}' is listed twice (answers would be ambiguous)"));
        }
        if let Some(long) = self.classes.iter().find(|c| c.chars().count() > 100) {
            let head: String = long.chars().take(40).collect();
            return bad("classes", format!("'{head}...' is longer than 100 characters"));
        }
        let n = &self.normalization;
        if n.mean.len() != n.std.len() || !(n.mean.len() == 1 || n.mean.len() == a.rows) {
            return bad(
                "normalization",
                format!("{} means and {} stds for {} rows (1 or one per row)", n.mean.len(), n.std.len(), a.rows),
            );
        }
        if let Some(v) = n.mean.iter().find(|v| !v.is_finite()) {
            return bad("normalization.mean", format!("{v} is not a number"));
        }
        if let Some(v) = n.std.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return bad("normalization.std", format!("{v} (must be a positive number)"));
        }
        if !(self.temperature.is_finite() && (0.01..=100.0).contains(&self.temperature)) {
            return bad("temperature", format!("{} (must be between 0.01 and 100)", self.temperature));
        }
        if self.trained_on.len() > 10_000_000 {
            return bad("trained_on", format!("{} hashes", self.trained_on.len()));
        }
        if self.multi_label && self.thresholds.len() != a.n_classes {
            return bad("thresholds", format!("{} for {} tags", self.thresholds.len(), a.n_classes));
        }
        Ok(())
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, serde_json::to_string_pretty(self).expect("card serialises"))
            .map_err(|e| ModelError::File { path: path.into(), msg: e.to_string() })
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = genre_fsio::read_text(path, genre_fsio::JSON_CAP)
            .map_err(|e| ModelError::File { path: path.into(), msg: e.to_string() })?;
        Self::from_json(&text).map_err(|e| ModelError::File { path: path.into(), msg: e.to_string() })
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let card: ModelCard =
            serde_json::from_str(text).map_err(|e| ModelError::Invalid(format!("not a genre model card: {e}")))?;
        if card.format != CARD_FORMAT {
            return Err(ModelError::Invalid(format!("model card format '{}' is not '{CARD_FORMAT}'", card.format)));
        }
        card.check()?;
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
