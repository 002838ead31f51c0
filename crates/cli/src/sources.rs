//! Building model inputs from a data set: the split, the feature cache, and the adapters that
//! let the trainer read cached windows.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use genre_data::cache::CacheIndex;
use genre_data::{Dataset, Embedder, FeatureCache, FeatureSpec, Split};
use genre_model::data::{DataSource, MemorySource};
use genre_pipeline::MusicnnEmbedder;

use crate::progress::bar;

/// Windows of a set of tracks, read from the on-disk cache on demand (bounded memory).
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

/// How the data was split, from the command line.
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

/// Tracks left out so far because their features could not be computed (reported as they
/// happen; a command that skipped any ends with exit code 1, as predict does).
pub static SKIPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Features for `tracks` (cached; computed in parallel with a progress bar). Failed tracks are
/// reported, counted in [`SKIPPED`] and left out.
pub fn source_for(
    ds: &Dataset,
    spec: &FeatureSpec,
    tracks: &[usize],
    cache_root: &Path,
    what: &str,
    quiet: bool,
) -> Result<Box<dyn DataSource>> {
    if ds.tracks.first().is_some_and(|t| t.features.is_some()) {
        let x: Vec<Vec<f32>> = tracks.iter().map(|&i| ds.tracks[i].features.clone().unwrap_or_default()).collect();
        let rows = x.first().map(|v| v.len()).unwrap_or(0);
        return Ok(Box::new(MemorySource {
            shape: [rows, 1],
            x,
            labels: tracks.iter().map(|&i| ds.tracks[i].labels.clone()).collect(),
            tracks: tracks.to_vec(),
        }));
    }
    let cache = FeatureCache::open(cache_root, spec)?;
    let embedder = MusicnnEmbedder::for_spec(spec)?;
    let pb = bar(tracks.len() as u64, what, quiet);
    let (index, failures) = cache.build(ds, tracks, embedder.as_ref().map(|e| e as &dyn Embedder), || pb.inc(1));
    pb.finish_and_clear();
    SKIPPED.fetch_add(failures.len(), std::sync::atomic::Ordering::SeqCst);
    for (i, why) in &failures {
        eprintln!("skipped {}: {why}", ds.tracks[*i].path.display());
    }
    if index.entries.is_empty() && !tracks.is_empty() {
        bail!("no usable {what} tracks ({} failed)", failures.len());
    }
    Ok(Box::new(CacheSource::new(index, ds)))
}
