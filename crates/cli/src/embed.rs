//! `genre embed`: musicnn embeddings for people who build their own classifiers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use genre_data::spec::MUSICNN_WINDOW_SECS;
use genre_model::metrics::mean_rows;
use genre_model::musicnn::{Layer, Variant};
use genre_pipeline::embed::{musicnn_spec, Output};
use genre_pipeline::{featurize_file, MusicnnEmbedder};
use genre_report::npy::write_npy;

use crate::batch::{over_files, report_failures};
use genre_pipeline::inputs::expand;

/// Examples:
///   genre embed song.mp3 --out song.npy                      ([windows, 200] penultimate layer)
///   genre embed music/ --per-track --out music.csv           (one row per file: file,e0..e199)
///   genre embed music/ --layer pooled --model mtt --out x.npy
/// With .npy, the rows are described in X.npy.rows.csv (file, start, end of each row).
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct EmbedArgs {
    /// Audio files or folders.
    pub inputs: Vec<PathBuf>,
    /// Output: .npy ([rows, dim] f32) or .csv (file,start,end,e0,...).
    #[arg(long, short)]
    pub out: PathBuf,
    /// penultimate (200-d, musicnn's usual embedding), pooled (1506 max+mean pooled mid-end
    /// features) or taggram (the 50 tag probabilities).
    #[arg(long, default_value = "penultimate")]
    pub layer: Layer,
    /// msd or mtt.
    #[arg(long, default_value = "msd")]
    pub model: Variant,
    /// One row per file (mean over its windows) instead of one per 3 s window.
    #[arg(long)]
    pub per_track: bool,
    /// Seconds between window starts (default: 2.992, musicnn's non-overlapping windows).
    #[arg(long)]
    pub hop: Option<f64>,
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: EmbedArgs) -> Result<ExitCode> {
    let ext = a.out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ext != "npy" && ext != "csv" {
        bail!("--out {}: write .npy or .csv", a.out.display());
    }
    let inputs = expand(&a.inputs);
    let total = inputs.total();
    let files = inputs.files;
    if files.is_empty() {
        bail!("nothing to embed: give audio files or folders");
    }
    let hop = a.hop.unwrap_or(MUSICNN_WINDOW_SECS);
    if !(hop.is_finite() && hop > 0.0) {
        bail!("--hop must be a positive number of seconds");
    }
    let spec = musicnn_spec(a.model, Output::Layer(a.layer), hop);
    let net = MusicnnEmbedder::new(a.model, Output::Layer(a.layer))?;
    let (done, mut failures) =
        over_files(&files, "embed", a.quiet, |f| featurize_file(f, &spec, Some(&net), None).map_err(|e| e.to_string()));
    // (file, start, end, vector) rows.
    let mut rows: Vec<(String, f64, f64, Vec<f32>)> = Vec::new();
    for (f, w) in done {
        let name = f.display().to_string();
        if let Some(warning) = w.warning() {
            eprintln!("warning: {name}: {warning}");
        }
        if a.per_track {
            let r: Vec<&[f32]> = w.x.iter().map(Vec::as_slice).collect();
            rows.push((name, 0.0, w.duration, mean_rows(&r)));
        } else {
            rows.extend(w.times.iter().zip(w.x).map(|(&(s, e), x)| (name.clone(), s, e, x)));
        }
    }
    let dim = a.layer.dim();
    if ext == "npy" {
        let flat: Vec<f32> = rows.iter().flat_map(|r| r.3.iter().copied()).collect();
        write_npy(&a.out, &[rows.len(), dim], &flat).with_context(|| a.out.display().to_string())?;
        let index = PathBuf::from(format!("{}.rows.csv", a.out.display()));
        let mut w = csv::Writer::from_path(&index).with_context(|| index.display().to_string())?;
        w.write_record(["file", "start", "end"])?;
        for r in &rows {
            w.write_record([r.0.clone(), format!("{:.3}", r.1), format!("{:.3}", r.2)])?;
        }
        w.flush()?;
    } else {
        let mut w = csv::Writer::from_path(&a.out).with_context(|| a.out.display().to_string())?;
        let mut header = vec!["file".to_string(), "start".into(), "end".into()];
        header.extend((0..dim).map(|i| format!("e{i}")));
        w.write_record(&header)?;
        for r in &rows {
            let mut rec = vec![r.0.clone(), format!("{:.3}", r.1), format!("{:.3}", r.2)];
            rec.extend(r.3.iter().map(|v| v.to_string()));
            w.write_record(&rec)?;
        }
        w.flush()?;
    }
    eprintln!("{} rows of {dim} written to {}", rows.len(), a.out.display());
    failures.splice(0..0, inputs.errors);
    Ok(report_failures(&failures, total))
}
