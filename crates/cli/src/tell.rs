//! `genre predict`: the genre of each file, with probabilities and a per-window timeline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use genre_data::Dataset;
use genre_model::metrics::argmax;
use genre_model::ModelCard;
use genre_pipeline::{Builtin, Classifier, FilePrediction, Predictor};
use serde::Serialize;

use crate::batch::{over_files, report_failures};
use genre_pipeline::inputs::expand;

/// Examples:
///   genre predict song.mp3                         (default model, embedded in the binary)
///   genre predict music/ --json > genres.json
///   genre predict song.mp3 --segments              (timeline: one row per window)
///   genre predict --features table.csv             (rows of a GTZAN-style feature table)
///   genre predict song.mp3 --model runs/cnn
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct PredictArgs {
    /// Audio files or folders.
    pub inputs: Vec<PathBuf>,
    /// A run folder, model.json, or a folder with ensemble.json (default: the built-in model: for
    /// audio an ensemble of a musicnn-MSD transfer head and the GTZAN-57 MLP; the MLP alone for
    /// --features tables).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Score the rows of a feature table CSV (filename,...,label) instead of audio.
    #[arg(long)]
    pub features: Option<PathBuf>,
    #[arg(long, default_value_t = 3)]
    pub top_k: usize,
    /// Also print each window's prediction (start-end seconds, probabilities).
    #[arg(long)]
    pub segments: bool,
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    #[arg(long)]
    pub csv: bool,
    /// Classify at most this many windows per file, evenly spread over it (the timeline then
    /// shows those windows): bounds the time a long file (a 3-hour mix) takes.
    #[arg(long, default_value_t = 64)]
    pub max_windows: usize,
    /// Classify every window, whatever the file's length.
    #[arg(long)]
    pub all_windows: bool,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Serialize)]
struct Segment {
    start: f64,
    end: f64,
    genre: String,
    probabilities: Vec<f32>,
}

#[derive(Serialize)]
struct Prediction {
    file: String,
    genre: String,
    top: Vec<(String, f32)>,
    probabilities: Vec<f32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    segments: Vec<Segment>,
    /// Multi-label models: the tags whose probability reaches the model's threshold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    /// Why the answer deserves little trust (silence, too short), if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    /// The label given in a feature table, when scoring one.
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

/// Tags at or above their threshold (multi-label models only).
fn tags_of(card: &ModelCard, p: &[f32]) -> Vec<String> {
    if !card.multi_label {
        return Vec::new();
    }
    p.iter().zip(&card.thresholds).zip(&card.classes).filter(|((v, t), _)| v >= t).map(|(_, c)| c.clone()).collect()
}

fn top_k(card: &ModelCard, p: &[f32], k: usize) -> Vec<(String, f32)> {
    genre_model::metrics::top_k(p, k).into_iter().map(|i| (card.classes[i].clone(), p[i])).collect()
}

pub fn run(a: PredictArgs) -> Result<ExitCode> {
    // Feature tables are scored by the GTZAN-57 MLP unless a model is named.
    let model = match (&a.model, &a.features) {
        (None, Some(_)) => Predictor::single(Classifier::builtin(Builtin::Gtzan57)?),
        (m, _) => Predictor::load(m.as_deref())?,
    };
    let card = model.card();
    let mut preds = Vec::new();
    if let Some(table) = &a.features {
        let ds = Dataset::from_feature_table(table)?;
        if ds.feature_names.len() != card.arch.rows * card.arch.cols {
            anyhow::bail!(
                "{} has {} feature columns, the model takes {}",
                table.display(),
                ds.feature_names.len(),
                card.arch.rows
            );
        }
        if model.members.len() > 1 {
            anyhow::bail!("--features scores a feature table with one model, not an ensemble");
        }
        let probs =
            model.members[0].0.classify(ds.tracks.iter().map(|t| t.features.clone().unwrap_or_default()).collect())?;
        for (t, p) in ds.tracks.iter().zip(probs) {
            preds.push(Prediction {
                file: t.path.display().to_string(),
                genre: card.classes[argmax(&p)].clone(),
                top: top_k(card, &p, a.top_k),
                tags: tags_of(card, &p),
                probabilities: p,
                segments: Vec::new(),
                warning: None,
                label: Some(ds.classes[t.labels[0]].clone()),
            });
        }
    }
    let inputs = expand(&a.inputs);
    let total = inputs.total();
    let files = inputs.files;
    let max_windows = (!a.all_windows).then_some(a.max_windows.max(1));
    let (done, mut failures) =
        over_files(&files, "predict", a.quiet, |f| model.predict_file(f, max_windows).map_err(|e| e.to_string()));
    preds.extend(done.into_iter().map(|(f, p)| prediction(&a, card, &f, p)));
    failures.splice(0..0, inputs.errors);
    if preds.is_empty() && failures.is_empty() {
        anyhow::bail!("nothing to predict: give audio files/folders or --features");
    }
    print_predictions(&a, card, &preds, &failures)?;
    Ok(report_failures(&failures, total))
}

fn prediction(a: &PredictArgs, card: &ModelCard, f: &Path, p: FilePrediction) -> Prediction {
    let segments = if a.segments || a.json || a.csv {
        p.windows
            .times
            .iter()
            .zip(&p.window_probs)
            .map(|(&(start, end), w)| Segment {
                start,
                end,
                genre: card.classes[argmax(w)].clone(),
                probabilities: w.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let warning = p.windows.warning();
    if let Some(w) = &warning {
        eprintln!("warning: {}: {w}", f.display());
    }
    Prediction {
        warning,
        file: f.display().to_string(),
        genre: card.classes[argmax(&p.probs)].clone(),
        top: top_k(card, &p.probs, a.top_k),
        tags: tags_of(card, &p.probs),
        probabilities: p.probs,
        segments,
        label: None,
    }
}

fn print_predictions(a: &PredictArgs, card: &ModelCard, preds: &[Prediction], failures: &[String]) -> Result<()> {
    if a.json {
        let doc = serde_json::json!({ "classes": card.classes, "predictions": preds, "failures": failures });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    if a.csv {
        let mut w = csv::Writer::from_writer(std::io::stdout());
        let mut header = vec!["file".to_string(), "start".into(), "end".into(), "genre".into()];
        header.extend(card.classes.iter().cloned());
        w.write_record(&header)?;
        for p in preds {
            let mut rows = vec![("".to_string(), "".to_string(), p.genre.clone(), &p.probabilities)];
            rows.extend(
                p.segments
                    .iter()
                    .map(|s| (format!("{:.2}", s.start), format!("{:.2}", s.end), s.genre.clone(), &s.probabilities)),
            );
            for (s, e, g, probs) in rows {
                let mut rec = vec![p.file.clone(), s, e, g];
                rec.extend(probs.iter().map(|v| format!("{v:.4}")));
                w.write_record(&rec)?;
            }
        }
        w.flush()?;
        return Ok(());
    }
    let mut correct = 0;
    for p in preds {
        let top: Vec<String> = p.top.iter().map(|(g, v)| format!("{g} {:.1}%", v * 100.0)).collect();
        let label = p.label.as_ref().map(|l| format!("   (label: {l})")).unwrap_or_default();
        correct += p.label.as_ref().is_some_and(|l| *l == p.genre) as usize;
        println!("{}: {}{label}", p.file, top.join(", "));
        if a.segments {
            for s in &p.segments {
                let i = argmax(&s.probabilities);
                println!("  {:>7.2}-{:<7.2} s  {:<10} {:>5.1}%", s.start, s.end, s.genre, s.probabilities[i] * 100.0);
            }
        }
    }
    let labelled = preds.iter().filter(|p| p.label.is_some()).count();
    if labelled > 0 {
        eprintln!("{correct}/{labelled} rows match their label ({:.1}%)", 100.0 * correct as f64 / labelled as f64);
    }
    Ok(())
}
