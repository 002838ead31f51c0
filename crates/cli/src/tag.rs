//! `genre tag`: musicnn's tags for whole files, or over time (the taggram).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use genre_data::spec::MUSICNN_WINDOW_SECS;
use genre_model::metrics::top_k;
use genre_model::musicnn::Variant;
use genre_pipeline::inputs::{expand, named};
use genre_pipeline::{FileTags, Tagger};
use genre_report::spectrogram::{FreqAxis, Range, Spectrogram};

use crate::batch::{for_each_file, report_failures};

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
    /// One JSON document (tag names, files in input order, failures), written at the end.
    #[arg(long, conflicts_with_all = ["csv", "jsonl"])]
    pub json: bool,
    /// One JSON object per file, written as soon as the file is done.
    #[arg(long, conflicts_with = "csv")]
    pub jsonl: bool,
    /// CSV: a row per file (start and end empty), and with --segments a row per window.
    #[arg(long)]
    pub csv: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: TagArgs) -> Result<ExitCode> {
    let inputs = expand(&a.inputs);
    let total = inputs.total();
    if inputs.files.is_empty() && inputs.errors.is_empty() {
        bail!("nothing to tag: give audio files or folders");
    }
    if a.out.is_some() && inputs.files.len() != 1 {
        bail!("--out draws the taggram of one file ({} given)", inputs.files.len());
    }
    let tagger = Tagger::new(a.model)?;
    let labels = tagger.labels();
    let mut failures = inputs.errors;
    let mut json_doc = Vec::new();
    let mut csv = a.csv.then(|| csv_writer(labels)).transpose()?;
    let mut first_error = None;
    // Windows are always computed (the taggram and --segments need them); shown on request.
    let work = |f: &Path| tagger.tag_file(f, f.display().to_string(), a.top, true).map_err(|e| e.to_string());
    for_each_file(&inputs.files, "tag", a.quiet, work, |i, f, r| match r {
        Ok(t) if first_error.is_none() => {
            if let Some(w) = &t.warning {
                eprintln!("warning: {}: {w}", f.display());
            }
            if let Some(out) = &a.out {
                if let Err(e) = taggram_png(out, &t, labels) {
                    failures.push(format!("{}: taggram not drawn: {e:#}", out.display()));
                }
            }
            let shown = if a.segments { t } else { FileTags { segments: Vec::new(), ..t } };
            if let Some(w) = &mut csv {
                first_error = csv_rows(w, &shown).err();
            } else if a.json {
                json_doc.push((i, shown));
            } else if a.jsonl {
                println!("{}", serde_json::to_string(&shown).expect("tags serialise"));
            } else {
                text(&a, &shown);
            }
        }
        Ok(_) => {}
        Err(e) => failures.push(named(f, e)),
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    if a.json {
        json_doc.sort_by_key(|(i, _)| *i);
        let files: Vec<&FileTags> = json_doc.iter().map(|(_, t)| t).collect();
        let doc = serde_json::json!({ "model": a.model, "tags": &labels[..], "files": files, "failures": failures });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(report_failures(&failures, total))
}

fn taggram_png(out: &Path, t: &FileTags, labels: &[&str]) -> Result<()> {
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
        range: Range::Fixed(0.0, 1.0),
        unit: "tag probability 0-1",
        // A 3-second window 24 px wide: a 3-minute file is 1440 px, not squeezed into 200.
        frame_px: 24,
    }
    .save_png(out)?;
    eprintln!("taggram written to {}", out.display());
    Ok(())
}

fn csv_writer(labels: &[&str]) -> Result<csv::Writer<std::io::Stdout>> {
    let mut w = csv::Writer::from_writer(std::io::stdout());
    let mut header = vec!["file".to_string(), "start".into(), "end".into()];
    header.extend(labels.iter().map(|l| l.to_string()));
    w.write_record(&header)?;
    w.flush()?;
    Ok(w)
}

/// A row for the file (start and end empty), then one per window shown.
fn csv_rows(w: &mut csv::Writer<std::io::Stdout>, t: &FileTags) -> Result<()> {
    let mut rows = vec![(String::new(), String::new(), &t.probabilities)];
    rows.extend(t.segments.iter().map(|s| (format!("{:.2}", s.start), format!("{:.2}", s.end), &s.probs)));
    for (s, e, p) in rows {
        let mut rec = vec![t.file.clone(), s, e];
        rec.extend(p.iter().map(|v| format!("{v:.4}")));
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

fn text(a: &TagArgs, t: &FileTags) {
    let fmt = |top: &[(String, f32)]| top.iter().map(|(t, p)| format!("{t} {:.2}", p)).collect::<Vec<_>>().join(", ");
    println!("{}: {}", t.file, fmt(&t.top));
    if a.segments {
        for s in &t.segments {
            println!("  {:>7.2}-{:<7.2} s  {}", s.start, s.end, fmt(&s.top));
        }
    }
}
