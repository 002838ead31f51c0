//! One file's windows and their features (embeddings included), streamed from the decoder.

use std::path::Path;

use genre_data::windows::{stream_windows, WindowBatch};
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
    /// The backbone's own tags per window (`[50]` each), when its embedding brings them (see
    /// [`MusicnnEmbedder::tags`]); empty otherwise.
    pub tags: Vec<Vec<f32>>,
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

/// Windows handed to the network at a time while the file is still being decoded: small, so
/// that it starts on the first windows early (musicnn costs the same per window at batch 4 as
/// at 16).
const STREAM_BATCH: usize = 4;

/// Features of the windows of `path` (at most `max_windows`, evenly spread, when given), the
/// last one ending at the file's end so that answers cover the whole file. With an embedder,
/// the network runs on a second thread while this one decodes: on two cores a song's decoding
/// and its windows' inference overlap instead of following each other (not when called from a
/// rayon task, see [`crate::may_block_on_threads`]).
pub fn featurize_file(
    path: &Path,
    spec: &FeatureSpec,
    embedder: Option<&MusicnnEmbedder>,
    max_windows: Option<usize>,
) -> Result<FileWindows> {
    let (len, _) = spec.windowing().samples(spec.sr);
    let sr = spec.sr as f64;
    let per = spec.shape()[0] * spec.shape()[1];
    let (summary, batches) = match embedder.filter(|_| crate::may_block_on_threads()) {
        None => {
            let mut batches = Vec::new();
            let summary = stream_windows(path, spec, BATCH, max_windows, true, &mut |b| {
                batches.push(match embedder {
                    Some(e) => embed_batch(e, b),
                    None => (b.windows, b.x, Vec::new()),
                });
                Ok(())
            })?;
            (summary, batches)
        }
        Some(e) => std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<WindowBatch>(4);
            let worker = scope.spawn(move || rx.into_iter().map(|b| embed_batch(e, b)).collect::<Vec<_>>());
            let summary = stream_windows(path, spec, STREAM_BATCH, max_windows, true, &mut |b| {
                let _ = tx.send(b); // a worker gone has panicked: join says so below
                Ok(())
            });
            drop(tx);
            let batches = worker.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            summary.map(|s| (s, batches))
        })?,
    };
    let mut starts = Vec::new();
    let (mut x, mut tags) = (Vec::new(), Vec::new());
    for (windows, feats, t) in batches {
        starts.extend(windows.iter().map(|w| w.1));
        x.extend(feats.chunks(per.max(1)).map(<[f32]>::to_vec));
        tags.extend(t.chunks(50).map(<[f32]>::to_vec));
    }
    let times = starts.iter().map(|&s| (s as f64 / sr, (s + len).min(summary.samples) as f64 / sr)).collect();
    Ok(FileWindows {
        times,
        x,
        duration: summary.samples as f64 / sr,
        total_windows: summary.windows,
        peak: summary.peak,
        tags,
    })
}

/// A batch's windows, their embeddings and (when the embedder brings them) their tags.
fn embed_batch(e: &MusicnnEmbedder, b: WindowBatch) -> (Vec<(usize, usize)>, Vec<f32>, Vec<f32>) {
    let (feats, tags) = e.embed_windows_tagged(&b.x, b.windows.len());
    (b.windows, feats, tags)
}
