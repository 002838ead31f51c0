//! The pre-trained musicnn tagger on a file: its 50 tags per window and for the file.

use std::path::Path;

use genre_data::spec::MUSICNN_WINDOW_SECS;
use genre_data::FeatureSpec;
use genre_model::metrics::{mean_rows, top_k};
use genre_model::musicnn::{Layer, Variant};
use serde::Serialize;

use crate::embed::{musicnn_spec, Output};
use crate::featurize::featurize_file;
use crate::{MusicnnEmbedder, Result};

/// musicnn loaded once as a tagger (non-overlapping 3 s windows, as musicnn tags).
pub struct Tagger {
    pub variant: Variant,
    net: MusicnnEmbedder,
    spec: FeatureSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagWindow {
    pub start: f64,
    pub end: f64,
    pub top: Vec<(String, f32)>,
    pub probs: Vec<f32>,
}

/// A file's tags: the mean of its windows' tag probabilities (musicnn's file-level tags).
#[derive(Debug, Clone, Serialize)]
pub struct FileTags {
    pub file: String,
    pub top: Vec<(String, f32)>,
    pub probabilities: Vec<f32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<TagWindow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl Tagger {
    pub fn new(variant: Variant) -> Result<Self> {
        let output = Output::Layer(Layer::Taggram);
        Ok(Self {
            variant,
            net: MusicnnEmbedder::new(variant, output)?,
            spec: musicnn_spec(variant, output, MUSICNN_WINDOW_SECS),
        })
    }

    pub fn labels(&self) -> &'static [&'static str; 50] {
        self.variant.labels()
    }

    /// The `k` most likely tags of `path` (named `file` in the answer), with the timeline when
    /// `segments`.
    pub fn tag_file(&self, path: &Path, file: String, k: usize, segments: bool) -> Result<FileTags> {
        let w = featurize_file(path, &self.spec, Some(&self.net), None)?;
        let rows: Vec<&[f32]> = w.x.iter().map(Vec::as_slice).collect();
        let probs = mean_rows(&rows);
        let segments = if segments {
            w.times
                .iter()
                .zip(&w.x)
                .map(|(&(start, end), p)| TagWindow { start, end, top: self.top(p, k), probs: p.clone() })
                .collect()
        } else {
            Vec::new()
        };
        Ok(FileTags { file, top: self.top(&probs, k), probabilities: probs, segments, warning: w.warning() })
    }

    fn top(&self, p: &[f32], k: usize) -> Vec<(String, f32)> {
        top_k(p, k).into_iter().map(|i| (self.labels()[i].to_string(), p[i])).collect()
    }
}
