//! `genre tag`: musicnn's tags for whole files, or over time (the taggram).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use genre_data::spec::MUSICNN_WINDOW_SECS;
use genre_model::metrics::{mean_rows, top_k};
use genre_model::musicnn::{Layer, Variant};
use genre_pipeline::embed::{musicnn_spec, Output};
use genre_pipeline::{featurize_file, MusicnnEmbedder};
use genre_report::spectrogram::{FreqAxis, Spectrogram};
use serde::Serialize;

use crate::batch::{over_files, report_failures};
use genre_pipeline::inputs::expand;

/// Examples:
///   genre tag song.mp3                        (top 5 of musicnn-MSD's 50 Last.fm tags)
///   genre tag music/ --model mtt --json       (MagnaTagATune tags, every file of a folder)
///   genre tag song.mp3 --segments             (tags of every 3 s window: the taggram)
///   genre tag song.mp3 --out taggram.png      (tags x time heat map)
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct TagArgs {
    /// Audio files or folders.
    pub inputs: Vec<PathBuf>,
    /// msd (Million Song Dataset's Last.fm tags: genres, moods, eras) or mtt (MagnaTagATune:
    /// instruments, voices, genres).
    #[arg(long, default_value = "msd")]
    pub model: Variant,
    /// Tags shown per file (and per window with --segments).
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Also show each 3 s window's tags (musicnn's taggram; windows do not overlap).
    #[arg(long)]
    pub segments: bool,
    /// Taggram picture (one input file): the file's most likely tags over time, seconds on the axis.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV: one row per file (and per window with --segments), a column per tag.
    #[arg(long)]
    pub csv: bool,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Serialize)]
struct Window {
    start: f64,
    end: f64,
    top: Vec<(String, f32)>,
    #[serde(skip)]
    probs: Vec<f32>,
}

#[derive(Serialize)]
struct Tagged {
    file: String,
    /// Mean of the windows' tag probabilities (musicnn's file-level tags).
    top: Vec<(String, f32)>,
    probabilities: Vec<f32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    segments: Vec<Window>,
}

fn top(labels: &[&str], p: &[f32], k: usize) -> Vec<(String, f32)> {
    top_k(p, k).into_iter().map(|i| (labels[i].to_string(), p[i])).collect()
}

pub fn run(a: TagArgs) -> Result<ExitCode> {
    let inputs = expand(&a.inputs);
    let total = inputs.total();
    let files = inputs.files;
    if files.is_empty() {
        bail!("nothing to tag: give audio files or folders");
    }
    if a.out.is_some() && files.len() != 1 {
        bail!("--out draws the taggram of one file ({} given)", files.len());
    }
    let output = Output::Layer(Layer::Taggram);
    let spec = musicnn_spec(a.model, output, MUSICNN_WINDOW_SECS);
    let net = MusicnnEmbedder::new(a.model, output)?;
    let labels = a.model.labels();
    let (done, mut failures) = over_files(&files, "tag", a.quiet, |f| {
        let w = featurize_file(f, &spec, Some(&net), None).map_err(|e| e.to_string())?;
        let rows: Vec<&[f32]> = w.x.iter().map(Vec::as_slice).collect();
        let probs = mean_rows(&rows);
        let segments = w
            .times
            .iter()
            .zip(&w.x)
            .map(|(&(start, end), p)| Window { start, end, top: top(labels, p, a.top), probs: p.clone() })
            .collect();
        Ok(Tagged { file: f.display().to_string(), top: top(labels, &probs, a.top), probabilities: probs, segments })
    });
    if let (Some(out), Some((_, t))) = (&a.out, done.first()) {
        taggram_png(out, t, labels)?;
    }
    print(&a, labels, done.into_iter().map(|(_, t)| t).collect())?;
    failures.splice(0..0, inputs.errors);
    Ok(report_failures(&failures, total))
}

/// The 20 tags most likely over the file, one row each, windows along time.
fn taggram_png(out: &std::path::Path, t: &Tagged, labels: &[&str]) -> Result<()> {
    let mut shown = top_k(&t.probabilities, 20);
    shown.reverse(); // row 0 is drawn at the bottom: most likely tag on top
    let n = t.segments.len();
    let mut data = Vec::with_capacity(shown.len() * n);
    for &i in &shown {
        data.extend(t.segments.iter().map(|w| w.probs[i]));
    }
    let names = shown.iter().map(|&i| labels[i].to_string()).collect();
    Spectrogram {
        data: &data,
        rows: shown.len(),
        frames: n,
        seconds_per_frame: MUSICNN_WINDOW_SECS,
        axis: &FreqAxis::Labels(names),
        title: &format!("taggram: {}", t.file),
        range_db: None,
    }
    .save_png(out)?;
    eprintln!("taggram written to {}", out.display());
    Ok(())
}

fn print(a: &TagArgs, labels: &[&str], tagged: Vec<Tagged>) -> Result<()> {
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "model": a.model, "tags": labels, "files": tagged }))?
        );
        return Ok(());
    }
    if a.csv {
        let mut w = csv::Writer::from_writer(std::io::stdout());
        let mut header = vec!["file".to_string(), "start".into(), "end".into()];
        header.extend(labels.iter().map(|l| l.to_string()));
        w.write_record(&header)?;
        for t in &tagged {
            let mut rows = vec![(String::new(), String::new(), &t.probabilities)];
            if a.segments {
                rows.extend(t.segments.iter().map(|s| (format!("{:.2}", s.start), format!("{:.2}", s.end), &s.probs)));
            }
            for (s, e, p) in rows {
                let mut rec = vec![t.file.clone(), s, e];
                rec.extend(p.iter().map(|v| format!("{v:.4}")));
                w.write_record(&rec)?;
            }
        }
        w.flush()?;
        return Ok(());
    }
    let fmt = |top: &[(String, f32)]| top.iter().map(|(t, p)| format!("{t} {:.2}", p)).collect::<Vec<_>>().join(", ");
    for t in &tagged {
        println!("{}: {}", t.file, fmt(&t.top));
        if a.segments {
            for s in &t.segments {
                println!("  {:>7.2}-{:<7.2} s  {}", s.start, s.end, fmt(&s.top));
            }
        }
    }
    Ok(())
}
