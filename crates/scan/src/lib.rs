//! `genre scan`: a whole music library tagged into SQLite, resumably, in parallel.
//!
//! The CLI (and any binding) calls [`scan`]; progress comes back through a callback, the
//! library prints nothing.

pub mod filetags;
pub mod shard;
pub mod store;
pub mod table;

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};
use genre_data::hash::{fnv1a64_more, FNV_START};
use genre_model::musicnn::Variant;
use genre_pipeline::{Predictor, Tagger};
use rayon::prelude::*;

pub use shard::Shard;
pub use store::{Store, Track};

pub struct ScanOptions {
    /// Folders, audio files, or manifests (`.csv`: first column `path`; `.txt`: one path a line).
    pub inputs: Vec<PathBuf>,
    pub db: PathBuf,
    pub shard: Option<Shard>,
    /// Tracks per transaction: at most this many (plus the ones decoding) are lost to a kill.
    pub batch: usize,
    pub max_windows: Option<usize>,
    /// Top musicnn-MSD tags stored per track (0 = no tagging).
    pub top_tags: usize,
    /// Write each track's genre into the file's own tags.
    pub write_tags: bool,
    /// With `write_tags`: say what would be written, write nothing.
    pub dry_run: bool,
}

#[derive(Debug, Clone)]
pub enum ScanEvent {
    /// Inputs found (in this shard), and how many need work (the others are already done).
    Planned { total: usize, todo: usize },
    /// One track written (with its error, if any).
    Done { path: String, error: Option<String> },
    /// A genre written into a file's tag (`done` false: `--dry-run`, or it failed: `error`).
    Tagged { path: String, genre: String, tag: String, before: Option<String>, done: bool, error: Option<String> },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanSummary {
    pub total: usize,
    pub skipped: usize,
    pub processed: usize,
    pub failed: usize,
    /// Files whose tags were written (or would be, with `dry_run`), and those that failed.
    pub tagged: usize,
    pub tag_failures: usize,
    /// Entries that could not even be listed ("path: cause").
    pub unreadable: Vec<String>,
}

/// A stable id of the model: FNV-1a of every member's card (labels, features, normalisation,
/// training and scores: any retrained model differs) and weight, plus genre's version.
pub fn model_id(model: &Predictor) -> String {
    let mut h = FNV_START;
    for (c, w) in &model.members {
        h = fnv1a64_more(h, serde_json::to_string(&c.card).unwrap_or_default().as_bytes());
        h = fnv1a64_more(h, &w.to_le_bytes());
    }
    h = fnv1a64_more(h, &model.temperature.to_le_bytes());
    h = fnv1a64_more(h, format!("{:?}", model.member_windows).as_bytes());
    format!("{h:016x}@genre-{}", env!("CARGO_PKG_VERSION"))
}

/// Content hash of a file (see [`genre_data::hash::file_hash`]).
pub fn content_hash(path: &Path) -> Result<String> {
    Ok(genre_data::hash::file_hash(path)?)
}

fn is_manifest(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "csv" || e == "txt")
}

/// Paths of a manifest: a `genre_data` CSV (`path,labels[,group]`, relative paths against its
/// folder) or a plain list, one path a line.
fn read_manifest(path: &Path) -> Result<Vec<PathBuf>> {
    let text = genre_fsio::read_text(path, genre_fsio::TEXT_CAP).with_context(|| path.display().to_string())?;
    let base = path.parent().unwrap_or(Path::new("."));
    let csv = path.extension().is_some_and(|e| e == "csv");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let p = if csv { line.split(',').next().unwrap_or("") } else { line }.trim();
        if p.is_empty() || p.starts_with('#') || (csv && i == 0 && p == "path") {
            continue;
        }
        out.push(base.join(p));
    }
    Ok(out)
}

/// Every audio file of the inputs (folders as every command walks them, manifests read), and
/// the entries that could not be read.
pub fn list_inputs(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let (mut given, mut files) = (Vec::new(), Vec::new());
    for p in inputs {
        if is_manifest(p) {
            files.extend(read_manifest(p)?);
        } else {
            given.push(p.clone());
        }
    }
    let walked = genre_pipeline::inputs::expand(&given);
    files.extend(walked.files);
    Ok((files, walked.errors))
}

fn stat(path: &Path) -> Result<(i64, i64)> {
    let m = std::fs::metadata(path)?;
    let mtime = m.modified()?.duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0);
    Ok((m.len() as i64, mtime))
}

/// Whether the stored row still answers for this file and model: same size and mtime, or same
/// size and content hash when only the mtime moved (then the row's mtime is refreshed).
fn up_to_date(store: &mut Store, path: &str, model: &str) -> Result<bool> {
    let Some(row) = store.get(path)? else { return Ok(false) };
    let Ok((size, mtime)) = stat(Path::new(path)) else { return Ok(false) };
    if row.model_id != model || row.size != size {
        return Ok(false);
    }
    if row.mtime_ns == mtime {
        return Ok(true);
    }
    if content_hash(Path::new(path)).is_ok_and(|h| h == row.hash) {
        store.touch(path, mtime)?;
        return Ok(true);
    }
    Ok(false)
}

/// Whether the model's answers carry musicnn-MSD tags (see `genre_pipeline::MusicnnEmbedder::tags`).
fn brings_msd_tags(model: &Predictor) -> bool {
    model.members[0].0.embedder.as_ref().and_then(|e| e.tags()) == Some(Variant::Msd)
}

struct Models<'a> {
    predictor: &'a Predictor,
    tagger: Option<Tagger>,
    id: String,
}

/// One track, start to end; any failure becomes the row's `error`.
fn process(m: &Models, path: &str, opts: &ScanOptions) -> Track {
    let mut t = Track {
        path: path.to_string(),
        size: 0,
        mtime_ns: 0,
        hash: String::new(),
        duration: None,
        genre: None,
        probabilities: None,
        tags: None,
        model_id: m.id.clone(),
        error: None,
    };
    if let Err(e) = fill(m, &mut t, opts) {
        t.error = Some(format!("{e:#}"));
    }
    t
}

fn fill(m: &Models, t: &mut Track, opts: &ScanOptions) -> Result<()> {
    let p = Path::new(&t.path);
    (t.size, t.mtime_ns) = stat(p)?;
    t.hash = content_hash(p)?;
    let pred = m.predictor.predict_file(p, opts.max_windows)?;
    let classes = &m.predictor.card().classes;
    let best = (0..pred.probs.len()).max_by(|&a, &b| pred.probs[a].total_cmp(&pred.probs[b]));
    t.genre = best.map(|i| classes[i].clone());
    t.duration = Some(pred.windows.duration);
    let probs: serde_json::Map<_, _> =
        classes.iter().zip(&pred.probs).map(|(c, p)| (c.clone(), serde_json::json!(p))).collect();
    t.probabilities = Some(serde_json::Value::Object(probs).to_string());
    if opts.top_tags == 0 {
        return Ok(());
    }
    // A model on musicnn-MSD's penultimate layer (the default) brought the MSD tags of its
    // windows along: no second pass of the network.
    let top = match (&pred.windows.tags, &m.tagger) {
        (tags, _) if !tags.is_empty() => {
            let mean = genre_model::metrics::mean_rows(&tags.iter().map(Vec::as_slice).collect::<Vec<_>>());
            let order = genre_model::metrics::top_k(&mean, opts.top_tags);
            order.into_iter().map(|i| (Variant::Msd.labels()[i].to_string(), mean[i])).collect()
        }
        (_, Some(tagger)) => tagger.tag_file(p, t.path.clone(), opts.top_tags, false)?.top,
        _ => Vec::new(),
    };
    t.tags = Some(serde_json::to_string(&top)?);
    Ok(())
}

/// Scan the library of `opts` with `model` into `opts.db`: tracks already done with this model
/// (and unchanged) are skipped; the others are decoded in parallel (rayon) and written from this
/// thread, one transaction per `opts.batch` tracks.
pub fn scan(opts: &ScanOptions, model: &Predictor, on_progress: &mut dyn FnMut(ScanEvent)) -> Result<ScanSummary> {
    let (files, unreadable) = list_inputs(&opts.inputs)?;
    let files: Vec<String> = files
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| opts.shard.is_none_or(|s| s.holds(p)))
        .collect();
    let mut store = Store::open(&opts.db)?;
    let models = Models {
        predictor: model,
        tagger: if opts.top_tags > 0 && !brings_msd_tags(model) { Some(Tagger::new(Variant::Msd)?) } else { None },
        id: model_id(model),
    };
    let mut todo = Vec::new();
    for f in &files {
        if !up_to_date(&mut store, f, &models.id)? {
            todo.push(f.clone());
        }
    }
    let mut sum =
        ScanSummary { total: files.len(), skipped: files.len() - todo.len(), unreadable, ..Default::default() };
    on_progress(ScanEvent::Planned { total: files.len(), todo: todo.len() });
    for chunk in todo.chunks(opts.batch.max(1)) {
        let tracks: Vec<Track> = chunk.par_iter().map(|f| process(&models, f, opts)).collect();
        store.put(&tracks)?;
        for t in tracks {
            sum.processed += 1;
            sum.failed += usize::from(t.error.is_some());
            on_progress(ScanEvent::Done { path: t.path, error: t.error });
        }
    }
    if opts.write_tags {
        write_tags(&mut store, &files, opts.dry_run, &mut sum, on_progress)?;
    }
    Ok(sum)
}

/// Each scanned file whose tag does not hold its genre yet gets it (or, with `dry_run`, is
/// listed). After a write the row takes the file's new size, mtime and hash: the audio is the
/// same, so the next scan must not redo the track.
fn write_tags(
    store: &mut Store,
    files: &[String],
    dry_run: bool,
    sum: &mut ScanSummary,
    on_progress: &mut dyn FnMut(ScanEvent),
) -> Result<()> {
    for path in files {
        let Some(mut row) = store.get(path)? else { continue };
        let Some(genre) = row.genre.clone().filter(|_| row.error.is_none()) else { continue };
        let (tag, before) = match filetags::plan(Path::new(path)) {
            Ok((_, Some(b))) if b == genre => continue,
            Ok(p) => p,
            Err(e) => {
                sum.tag_failures += 1;
                let error = Some(format!("{e:#}"));
                on_progress(ScanEvent::Tagged {
                    path: path.clone(),
                    genre,
                    tag: String::new(),
                    before: None,
                    done: false,
                    error,
                });
                continue;
            }
        };
        let result = if dry_run {
            Ok(())
        } else {
            filetags::write_genre(Path::new(path), &genre).and_then(|()| {
                (row.size, row.mtime_ns) = stat(Path::new(path))?;
                row.hash = content_hash(Path::new(path))?;
                store.put(std::slice::from_ref(&row))
            })
        };
        sum.tagged += usize::from(result.is_ok());
        sum.tag_failures += usize::from(result.is_err());
        let error = result.err().map(|e| format!("{e:#}"));
        on_progress(ScanEvent::Tagged {
            path: path.clone(),
            genre,
            tag,
            before,
            done: !dry_run && error.is_none(),
            error,
        });
    }
    Ok(())
}
