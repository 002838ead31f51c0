//! A file's answer as every face shows it: the CLI's `--json` entry, the Python package's dict,
//! the server's body. One shape, built in one place.

use genre_model::metrics::{argmax, top_k};
use genre_model::ModelCard;
use serde::Serialize;

use crate::FilePrediction;

/// One window of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub genre: String,
    pub probabilities: Vec<f32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub file: String,
    pub genre: String,
    /// The `k` most likely classes, most likely first.
    pub top: Vec<(String, f32)>,
    /// One per class, in the card's class order.
    pub probabilities: Vec<f32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Segment>,
    /// Multi-label models: the tags whose probability reaches the model's threshold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Why the answer deserves little trust (silence, too short), if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Whether the music sounds like none of the model's genres (models on musicnn-MSD, which
    /// brings the tags this is judged from; absent for others), see [`crate::outside`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside: Option<bool>,
    /// The strongest genre tags of musicnn-MSD (a broader vocabulary than the model's classes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub genre_tags: Vec<(String, f32)>,
    /// When outside: the closest genre tags that name none of the model's genres.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outside_tags: Vec<String>,
}

impl Answer {
    /// The answer for `file` (a name to show) from its prediction: `k` top classes, and the
    /// per-window timeline when `segments`.
    pub fn new(card: &ModelCard, file: String, p: FilePrediction, k: usize, segments: bool) -> Self {
        let segments = if segments {
            p.windows
                .times
                .iter()
                .zip(&p.window_probs)
                .map(|(&(start, end), w)| Segment {
                    start,
                    end,
                    genre: card.classes[argmax(w)].clone(),
                    probabilities: w.clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let warning = p.windows.warning();
        let mut a = Self { segments, warning, ..Self::from_probs(card, file, p.probs, k) };
        if let Some(v) = verdict(card, &p.windows.tags) {
            a.outside_tags = if v.outside { v.closest_outside } else { Vec::new() };
            (a.outside, a.genre_tags) = (Some(v.outside), v.genre_tags);
        }
        a
    }

    /// The answer in a line of text: "metal 68.5%, rock 10.3%, disco 10.0%", and when the music
    /// is outside the model's genres, that first.
    pub fn summary(&self) -> String {
        let top = self.top.iter().map(|(c, p)| format!("{c} {:.1}%", 100.0 * p)).collect::<Vec<_>>().join(", ");
        match self.outside {
            Some(true) => {
                format!("outside the model's genres (closest tags: {}); nearest: {top}", self.outside_tags.join(", "))
            }
            _ => top,
        }
    }

    /// The answer of a file-level probability vector alone (no windows: a feature-table row).
    pub fn from_probs(card: &ModelCard, file: String, probs: Vec<f32>, k: usize) -> Self {
        Self {
            file,
            genre: card.classes[argmax(&probs)].clone(),
            top: top_k(&probs, k).into_iter().map(|i| (card.classes[i].clone(), probs[i])).collect(),
            tags: tags_of(card, &probs),
            probabilities: probs,
            segments: Vec::new(),
            warning: None,
            outside: None,
            genre_tags: Vec::new(),
            outside_tags: Vec::new(),
        }
    }
}

/// The outside verdict of a single-label model from its windows' MSD tags, if it has them.
pub fn verdict(card: &ModelCard, window_tags: &[Vec<f32>]) -> Option<crate::outside::Verdict> {
    if card.multi_label || window_tags.is_empty() {
        return None;
    }
    let rows: Vec<&[f32]> = window_tags.iter().map(Vec::as_slice).collect();
    Some(crate::outside::judge(&card.classes, &genre_model::metrics::mean_rows(&rows)))
}

/// Tags at or above their threshold (multi-label models only).
pub fn tags_of(card: &ModelCard, p: &[f32]) -> Vec<String> {
    if !card.multi_label {
        return Vec::new();
    }
    p.iter().zip(&card.thresholds).zip(&card.classes).filter(|((v, t), _)| v >= t).map(|(_, c)| c.clone()).collect()
}
