//! Model inputs from a data set: the split, the feature cache, and the adapter that lets the
//! trainer read cached windows on demand (bounded memory, whatever the data set's size).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Result};
use genre_data::cache::CacheIndex;
use genre_data::{Dataset, Embedder, FeatureCache, FeatureSpec, Split};
use genre_model::data::{DataSource, MemorySource};
use genre_pipeline::MusicnnEmbedder;

use crate::{OnProgress, Progress};

/// Windows of a set of tracks, read from the on-disk cache on demand.
pub struct CacheSource {
    index: CacheIndex,
    items: Vec<(usize, usize)>,
    labels: Vec<Vec<usize>>,
}

impl CacheSource {
    pub fn new(index: CacheIndex, ds: &Dataset) -> Self {
        let items = index.items();
        let labels = index.entries.iter().map(|e| ds.tracks[e.track].labels.clone()).collect();
        Self { index, items, labels }
    }
}

impl DataSource for CacheSource {
    fn shape(&self) -> [usize; 2] {
        self.index.shape
    }
    fn len(&self) -> usize {
        self.items.len()
    }
    fn read(&self, i: usize, x: &mut [f32]) -> Result<(), String> {
        let (e, w) = self.items[i];
        self.index.read(e, w, x).map_err(|e| e.to_string())
    }
    fn labels(&self, i: usize) -> &[usize] {
        &self.labels[self.items[i].0]
    }
    fn track(&self, i: usize) -> usize {
        self.index.entries[self.items[i].0].track
    }
}

/// How the data is split.
#[derive(Debug, Clone)]
pub enum SplitChoice {
    Lists { train: PathBuf, valid: PathBuf, test: Option<PathBuf> },
    Grouped { valid: f64, test: f64, seed: u64 },
}

pub fn make_split(ds: &Dataset, choice: &SplitChoice) -> Result<Split> {
    Ok(match choice {
        SplitChoice::Lists { train, valid, test } => Split::from_lists(ds, train, valid, test.as_deref())?,
        SplitChoice::Grouped { valid, test, seed } => Split::grouped(ds, *valid, *test, *seed)?,
    })
}

/// A track whose features could not be computed, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub why: String,
}

/// Features of `tracks` (cached; computed in parallel), reported through `on`. Failed tracks
/// are reported, returned and left out.
pub fn source_for(
    ds: &Dataset,
    spec: &FeatureSpec,
    tracks: &[usize],
    cache_root: &Path,
    what: &str,
    on: &OnProgress,
) -> Result<(Box<dyn DataSource>, Vec<Skipped>)> {
    if ds.tracks.first().is_some_and(|t| t.features.is_some()) {
        let x: Vec<Vec<f32>> = tracks.iter().map(|&i| ds.tracks[i].features.clone().unwrap_or_default()).collect();
        let rows = x.first().map(|v| v.len()).unwrap_or(0);
        let src = MemorySource {
            shape: [rows, 1],
            x,
            labels: tracks.iter().map(|&i| ds.tracks[i].labels.clone()).collect(),
            tracks: tracks.to_vec(),
        };
        return Ok((Box::new(src), Vec::new()));
    }
    let (index, skipped) = cached_index(ds, spec, tracks, cache_root, what, on)?;
    if index.entries.is_empty() && !tracks.is_empty() {
        bail!("no usable {what} tracks ({} failed)", skipped.len());
    }
    Ok((Box::new(CacheSource::new(index, ds)), skipped))
}

/// The cache index of `tracks` (missing ones computed in parallel) and the tracks that failed.
fn cached_index(
    ds: &Dataset,
    spec: &FeatureSpec,
    tracks: &[usize],
    cache_root: &Path,
    what: &str,
    on: &OnProgress,
) -> Result<(CacheIndex, Vec<Skipped>)> {
    let cache = FeatureCache::open(cache_root, spec)?;
    let embedder = MusicnnEmbedder::for_spec(spec)?;
    let done = AtomicUsize::new(0);
    let total = tracks.len();
    on(Progress::Features { what, done: 0, total });
    let (index, failures) = cache.build(ds, tracks, embedder.as_ref().map(|e| e as &dyn Embedder), || {
        let done = done.fetch_add(1, Ordering::Relaxed) + 1;
        on(Progress::Features { what, done, total });
    });
    let skipped: Vec<Skipped> =
        failures.into_iter().map(|(i, why)| Skipped { path: ds.tracks[i].path.clone(), why }).collect();
    for s in &skipped {
        on(Progress::Skipped { path: &s.path, why: &s.why });
    }
    Ok((index, skipped))
}

/// The data set without the tracks whose features cannot be computed, so that the split is
/// made of tracks the model can learn from (a genre folder of broken files must not become a
/// class trained on nothing). A class left with no usable track is an error naming it.
pub fn usable_tracks(
    ds: &Dataset,
    spec: &FeatureSpec,
    cache_root: &Path,
    on: &OnProgress,
) -> Result<(Dataset, Vec<Skipped>)> {
    let skipped = if ds.tracks.first().is_some_and(|t| t.features.is_some()) {
        Vec::new()
    } else {
        let all: Vec<usize> = (0..ds.tracks.len()).collect();
        cached_index(ds, spec, &all, cache_root, "features", on)?.1
    };
    let failed: std::collections::HashSet<&Path> = skipped.iter().map(|s| s.path.as_path()).collect();
    let mut usable = ds.clone();
    usable.tracks.retain(|t| !failed.contains(t.path.as_path()));
    let counts = usable.class_counts(&(0..usable.tracks.len()).collect::<Vec<_>>());
    let empty: Vec<&str> =
        usable.classes.iter().zip(&counts).filter(|(_, &n)| n == 0).map(|(c, _)| c.as_str()).collect();
    if !empty.is_empty() {
        bail!(
            "no usable track for {}: {} (every file of it failed or it has none; fix or remove it)",
            if empty.len() == 1 { "class" } else { "classes" },
            empty.join(", ")
        );
    }
    Ok((usable, skipped))
}
