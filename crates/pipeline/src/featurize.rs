//! One file's windows and their features (embeddings included), streamed from the decoder.

use std::path::Path;

use genre_data::windows::stream_windows;
use genre_data::FeatureSpec;

use crate::embed::BATCH;
use crate::{MusicnnEmbedder, Result};

/// The computed windows of a file.
pub struct FileWindows {
    /// Start and end (seconds) of each computed window.
    pub times: Vec<(f64, f64)>,
    /// Each window's features, `spec.shape()` row-major.
    pub x: Vec<Vec<f32>>,
    /// Length of the file in seconds, and how many windows it has in all (`times` may hold an
    /// evenly spread subset, see `max_windows`).
    pub duration: f64,
    pub total_windows: usize,
    /// Largest absolute sample (0 = digital silence).
    pub peak: f32,
}

impl FileWindows {
    /// Why an answer for this file deserves little trust, if it does: silence, or too little
    /// audio to hear a genre in.
    pub fn warning(&self) -> Option<String> {
        if self.peak < 1e-4 {
            Some(format!("silent (peak {:.0} dBFS): the answer means nothing", 20.0 * self.peak.max(1e-10).log10()))
        } else if self.duration < 1.0 {
            Some(format!("only {:.2} s of audio: too short to hear a genre", self.duration))
        } else {
            None
        }
    }
}

/// Features of the windows of `path` (at most `max_windows`, evenly spread, when given), the
/// last one ending at the file's end so that answers cover the whole file.
pub fn featurize_file(
    path: &Path,
    spec: &FeatureSpec,
    embedder: Option<&MusicnnEmbedder>,
    max_windows: Option<usize>,
) -> Result<FileWindows> {
    let (len, _) = spec.windowing().samples(spec.sr);
    let sr = spec.sr as f64;
    let per = spec.shape()[0] * spec.shape()[1];
    let mut starts = Vec::new();
    let mut x = Vec::new();
    let summary = stream_windows(path, spec, BATCH, max_windows, true, &mut |b| {
        let n = b.windows.len();
        let feats = match embedder {
            Some(e) => e.embed_windows(&b.x, n),
            None => b.x,
        };
        starts.extend(b.windows.iter().map(|w| w.1));
        x.extend(feats.chunks(per.max(1)).map(<[f32]>::to_vec));
        Ok(())
    })?;
    let times = starts.iter().map(|&s| (s as f64 / sr, (s + len).min(summary.samples) as f64 / sr)).collect();
    Ok(FileWindows {
        times,
        x,
        duration: summary.samples as f64 / sr,
        total_windows: summary.windows,
        peak: summary.peak,
    })
}
