//! `genre predict`: the genre of each file, with probabilities and a per-window timeline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use genre_data::Dataset;
use genre_model::metrics::argmax;
use genre_model::ModelCard;
use genre_pipeline::inputs::named;
use genre_pipeline::{Answer, Builtin, Classifier, Predictor};
use serde::Serialize;

use crate::batch::{for_each_file, report_failures};
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
    /// How many genres to show per file (most likely first).
    #[arg(long, default_value_t = 3, value_parser = at_least_one)]
    pub top_k: usize,
    /// Also print each window's prediction (start-end seconds, probabilities).
    #[arg(long)]
    pub segments: bool,
    /// One JSON document (classes, predictions in input order, failures), written at the end.
    #[arg(long, conflicts_with_all = ["csv", "jsonl"])]
    pub json: bool,
    /// One JSON object per file, written as soon as the file is done (then one per failure).
    #[arg(long, conflicts_with = "csv")]
    pub jsonl: bool,
    /// CSV: a row per file (start and end empty), and with --segments a row per window.
    #[arg(long)]
    pub csv: bool,
    /// Classify at most this many 3 s windows per file, evenly spread over it, the first and
    /// the last included (the timeline then shows those windows; the default's GTZAN-57 member
    /// takes the middle 30 s): bounds the time a long file takes. On 30 s clips accuracy was
    /// flat from 2 windows on (README, "The default model").
    #[arg(long, default_value_t = genre_pipeline::DEFAULT_MAX_WINDOWS)]
    pub max_windows: usize,
    /// Classify every window, whatever the file's length.
    #[arg(long)]
    pub all_windows: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a count of at least 1")),
    }
}

/// A file's answer (the shape every face of genre shows), and the label a feature table gave.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    answer: Answer,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

pub fn run(a: PredictArgs) -> Result<ExitCode> {
    // Feature tables are scored by the GTZAN-57 MLP unless a model is named.
    let model = match (&a.model, &a.features) {
        (None, Some(_)) => Predictor::single(Classifier::builtin(Builtin::Gtzan57)?),
        (m, _) => Predictor::load(m.as_deref())?,
    };
    let card = model.card();
    let inputs = expand(&a.inputs);
    if inputs.total() == 0 && a.features.is_none() {
        anyhow::bail!("nothing to predict: give audio files/folders or --features");
    }
    let mut out = Printer::new(&a, card)?;
    if let Some(table) = &a.features {
        for row in table_rows(&a, &model, table)? {
            out.row(0, row)?;
        }
    }
    let total = inputs.total();
    let mut failures = inputs.errors;
    let max_windows = (!a.all_windows).then_some(a.max_windows.max(1));
    let offset = out.rows.len();
    let mut write_error = None;
    for_each_file(
        &inputs.files,
        "predict",
        a.quiet,
        |f| model.predict_file(f, max_windows).map_err(|e| e.to_string()),
        |i, f, r| match r {
            Ok(p) if write_error.is_none() => {
                let answer = Answer::new(card, f.display().to_string(), p, a.top_k, a.segments || a.json || a.jsonl);
                if let Some(w) = &answer.warning {
                    eprintln!("warning: {}: {w}", f.display());
                }
                write_error = out.row(offset + i, Row { answer, label: None }).err();
            }
            Ok(_) => {}
            Err(e) => failures.push(named(f, e)),
        },
    );
    if let Some(e) = write_error {
        return Err(e);
    }
    out.finish(&failures)?;
    Ok(report_failures(&failures, total))
}

/// The rows of a feature table scored by a single (non-ensemble) model.
fn table_rows(a: &PredictArgs, model: &Predictor, table: &Path) -> Result<Vec<Row>> {
    let card = model.card();
    let ds = Dataset::from_feature_table(table)?;
    if ds.feature_names.len() != card.arch.rows * card.arch.cols {
        anyhow::bail!(
            "{} has {} feature columns, the model takes {}",
            table.display(),
            ds.feature_names.len(),
            card.arch.rows * card.arch.cols
        );
    }
    if model.members.len() > 1 {
        anyhow::bail!("--features scores a feature table with one model, not an ensemble");
    }
    let probs =
        model.members[0].0.classify(ds.tracks.iter().map(|t| t.features.clone().unwrap_or_default()).collect())?;
    Ok(ds
        .tracks
        .iter()
        .zip(probs)
        .map(|(t, p)| {
            let answer = Answer::from_probs(card, t.path.display().to_string(), p, a.top_k);
            Row { answer, label: Some(ds.classes[t.labels[0]].clone()) }
        })
        .collect())
}

/// Writes answers as they come (text, CSV, JSON lines); the JSON document is written at the
/// end, in input order.
struct Printer<'a> {
    a: &'a PredictArgs,
    card: &'a ModelCard,
    csv: Option<csv::Writer<std::io::Stdout>>,
    /// Kept for the JSON document (input order) and the label count.
    rows: Vec<(usize, Row)>,
    labelled: usize,
    correct: usize,
}

impl<'a> Printer<'a> {
    fn new(a: &'a PredictArgs, card: &'a ModelCard) -> Result<Self> {
        let csv = if a.csv {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            let mut header = vec!["file".to_string(), "start".into(), "end".into(), "genre".into()];
            header.extend(card.classes.iter().cloned());
            w.write_record(&header)?;
            w.flush()?;
            Some(w)
        } else {
            None
        };
        Ok(Self { a, card, csv, rows: Vec::new(), labelled: 0, correct: 0 })
    }

    fn row(&mut self, index: usize, row: Row) -> Result<()> {
        if let Some(l) = &row.label {
            self.labelled += 1;
            self.correct += usize::from(*l == row.answer.genre);
        }
        let p = &row.answer;
        if let Some(w) = &mut self.csv {
            let mut lines = vec![(String::new(), String::new(), p.genre.clone(), &p.probabilities)];
            if self.a.segments {
                lines.extend(
                    p.segments.iter().map(|s| {
                        (format!("{:.2}", s.start), format!("{:.2}", s.end), s.genre.clone(), &s.probabilities)
                    }),
                );
            }
            for (s, e, g, probs) in lines {
                let mut rec = vec![p.file.clone(), s, e, g];
                rec.extend(probs.iter().map(|v| format!("{v:.4}")));
                w.write_record(&rec)?;
            }
            w.flush()?;
        } else if self.a.jsonl {
            println!("{}", serde_json::to_string(&row)?);
        } else if !self.a.json {
            self.text(&row);
        }
        if self.a.json {
            self.rows.push((index, row));
        }
        Ok(())
    }

    fn text(&self, row: &Row) {
        let p = &row.answer;
        let label = row.label.as_ref().map(|l| format!("   (label: {l})")).unwrap_or_default();
        println!("{}: {}{label}", p.file, p.summary());
        if !p.genre_tags.is_empty() && (self.a.segments || p.outside == Some(true)) {
            let tags: Vec<String> = p.genre_tags.iter().map(|(t, v)| format!("{t} {v:.2}")).collect();
            println!("  genre tags (musicnn-MSD): {}", tags.join(", "));
        }
        if self.a.segments {
            for s in &p.segments {
                let i = argmax(&s.probabilities);
                println!("  {:>7.2}-{:<7.2} s  {:<10} {:>5.1}%", s.start, s.end, s.genre, s.probabilities[i] * 100.0);
            }
        }
    }

    fn finish(mut self, failures: &[String]) -> Result<()> {
        if self.a.json {
            self.rows.sort_by_key(|(i, _)| *i);
            let preds: Vec<&Row> = self.rows.iter().map(|(_, r)| r).collect();
            let doc = serde_json::json!({ "classes": self.card.classes, "predictions": preds, "failures": failures });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else if self.a.jsonl {
            for f in failures {
                println!("{}", serde_json::json!({ "failure": f }));
            }
        }
        if self.labelled > 0 {
            let pct = 100.0 * self.correct as f64 / self.labelled as f64;
            eprintln!("{}/{} rows match their label ({pct:.1}%)", self.correct, self.labelled);
        }
        Ok(())
    }
}
