//! `genre scan`: a whole library into SQLite (see genre-scan), with a progress bar, the tags
//! written into the files on request, and the table exported or shards merged.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use genre_pipeline::Predictor;
use genre_scan::{ScanEvent, ScanOptions, Shard, Store};

use crate::progress::{bar, say};

/// Examples:
///   genre scan ~/Music --db library.sqlite                    (resumable: a re-run skips what is done)
///   genre scan ~/Music --db library.sqlite --write-tags --dry-run   (list the genre tags it would write)
///   genre scan ~/Music --db library.sqlite --write-tags       (ID3v2 TCON / Vorbis GENRE / MP4 ilst)
///   genre scan list.txt --db part.sqlite --shard 3/16 --export parts/part-3.parquet
///   genre scan --shard auto ...                               (Kubernetes Indexed Job or Slurm array)
///   genre scan --merge parts/ --db all.sqlite                 (join the shards' parts)
///   genre scan --db library.sqlite --export library.csv       (export only)
/// Per track: path, size, mtime, content hash, duration, genre, probabilities (JSON), top
/// musicnn-MSD tags (JSON), model id and version, error. Killed at any moment (even kill -9),
/// a scan loses at most the batch in flight; the database stays consistent (SQLite WAL).
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ScanArgs {
    /// Folders, audio files, or manifests (.csv with a `path` first column, .txt one path a line).
    pub inputs: Vec<PathBuf>,
    /// The SQLite database (created if missing).
    #[arg(long)]
    pub db: PathBuf,
    /// A run folder, model.json or ensemble folder (default: the built-in model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Take a deterministic share of the inputs (by hash of the path): I/N (0-based), or auto
    /// (JOB_COMPLETION_INDEX + GENRE_SHARD_COUNT, or SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT).
    #[arg(long)]
    pub shard: Option<String>,
    /// Tracks written per transaction (at most these are lost to a kill).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Windows classified per track at most (evenly spread).
    #[arg(long, default_value_t = genre_pipeline::DEFAULT_MAX_WINDOWS)]
    pub max_windows: usize,
    /// Top musicnn-MSD tags stored per track (0: no tagging, about half the time).
    #[arg(long, default_value_t = 5)]
    pub top_tags: usize,
    /// Write each track's genre into the file's own tags (ID3v2 TCON for mp3 and wav, Vorbis
    /// comment GENRE for flac and ogg, MP4 ilst for m4a). Only the tag block changes.
    #[arg(long)]
    pub write_tags: bool,
    /// With --write-tags: list what would be written, write nothing.
    #[arg(long, requires = "write_tags")]
    pub dry_run: bool,
    /// After the scan, write the database as a table: .parquet or .csv.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Merge the .parquet/.csv parts of this folder (from sharded scans) into --db, then stop.
    #[arg(long, conflicts_with_all = ["inputs", "write_tags"])]
    pub merge: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: ScanArgs) -> Result<ExitCode> {
    if let Some(dir) = &a.merge {
        let mut store = Store::open(&a.db)?;
        let n = genre_scan::table::merge_parts(dir, &mut store)?;
        eprintln!("{n} tracks merged into {}", a.db.display());
        return export(&a, &store).map(|()| ExitCode::SUCCESS);
    }
    if a.inputs.is_empty() {
        if a.export.is_some() {
            return export(&a, &Store::open(&a.db)?).map(|()| ExitCode::SUCCESS);
        }
        bail!("nothing to scan: give folders, files or a manifest (or --merge DIR, or --export alone)");
    }
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let model = Predictor::load(a.model.as_deref())?;
    let opts = ScanOptions {
        inputs: a.inputs.clone(),
        db: a.db.clone(),
        shard,
        batch: a.batch.max(1),
        max_windows: Some(a.max_windows.max(1)),
        top_tags: a.top_tags,
        write_tags: a.write_tags,
        dry_run: a.dry_run,
    };
    let pb = bar(0, "scan", a.quiet);
    let sum = genre_scan::scan(&opts, &model, &mut |ev| match ev {
        ScanEvent::Planned { total, todo } => {
            say(&pb, format!("{total} tracks{}, {} already done, {todo} to scan", shard_note(shard), total - todo));
            pb.set_length(todo as u64);
        }
        ScanEvent::Done { path, error } => {
            if let Some(e) = error {
                say(&pb, format!("failed: {}", genre_pipeline::inputs::named(std::path::Path::new(&path), e)));
            }
            pb.inc(1);
        }
        ScanEvent::Tagged { path, genre, tag, before, done, error } => {
            let was = before.map(|b| format!(" (was '{b}')")).unwrap_or_default();
            let line = match (error, done) {
                (Some(e), _) => format!("tag not written: {path}: {e}"),
                (None, true) => format!("tagged {path}: {tag} = {genre}{was}"),
                (None, false) => format!("would tag {path}: {tag} = {genre}{was}"),
            };
            // The dry run's list is the answer: on stdout, one line a file.
            if a.dry_run {
                println!("{line}");
            } else {
                say(&pb, line);
            }
        }
    })?;
    pb.finish_and_clear();
    eprintln!(
        "{} tracks: {} scanned ({} failed), {} already done{}{}",
        sum.total,
        sum.processed,
        sum.failed,
        sum.skipped,
        if a.write_tags {
            format!(
                ", {} tags {}{}",
                sum.tagged,
                if a.dry_run { "to write" } else { "written" },
                failures(sum.tag_failures)
            )
        } else {
            String::new()
        },
        if sum.unreadable.is_empty() { String::new() } else { format!(", {} unreadable", sum.unreadable.len()) }
    );
    for u in &sum.unreadable {
        eprintln!("  {u}");
    }
    export(&a, &Store::open(&a.db)?)?;
    let bad = sum.failed + sum.tag_failures + sum.unreadable.len();
    Ok(if bad > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn shard_note(s: Option<Shard>) -> String {
    s.map(|s| format!(" in shard {}/{}", s.index, s.count)).unwrap_or_default()
}

fn failures(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} failed)")
    }
}

fn export(a: &ScanArgs, store: &Store) -> Result<()> {
    if let Some(out) = &a.export {
        let n = genre_scan::table::export(store, out)?;
        eprintln!("{n} tracks exported to {}", out.display());
    }
    Ok(())
}
