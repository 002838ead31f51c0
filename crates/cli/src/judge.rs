//! `genre eval`: segment- and track-level scores of a trained model, with the split type printed
//! beside every number; JSON, Markdown and a confusion-matrix picture.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use genre_data::Dataset;
use genre_model::card::Normalization;
use genre_model::data::DataSource;
use genre_model::metrics::{best_thresholds, mean_rows, multi_label, single_label, Scores};
use genre_model::train::predict;
use genre_model::Net;
use genre_report::chart::confusion_png;
use serde::Serialize;

use crate::sources::source_for;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// How the evaluated tracks were chosen (list split, grouped split, all tracks).
    pub split: String,
    /// Which side of the split ("valid", "test", "all").
    pub part: String,
    pub segments: Scores,
    pub tracks: Scores,
    /// Multi-label: per-tag (tag, ROC-AUC, PR-AUC) over tracks.
    pub tags: Vec<(String, Option<f64>, Option<f64>)>,
    /// Multi-label: per-tag thresholds with the best F1 on these tracks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub best_thresholds: Vec<f32>,
}

impl Report {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "[{} / {}] segment accuracy {:.3} ({} windows), track accuracy {:.3} ({} tracks), track macro-F1 {:.3}",
            self.split,
            self.part,
            self.segments.accuracy,
            self.segments.n,
            self.tracks.accuracy,
            self.tracks.n,
            self.tracks.macro_f1
        );
        for (k, v) in &self.tracks.top_k {
            if *k > 1 {
                s += &format!(", track top-{k} {v:.3}");
            }
        }
        s
    }

    pub fn markdown(&self, classes: &[String]) -> String {
        let mut m = format!("# Evaluation ({}, {})\n\n", self.split, self.part);
        m += "| level | n | accuracy | macro-F1 | split |\n|---|---:|---:|---:|---|\n";
        for (name, s) in [("segment", &self.segments), ("track", &self.tracks)] {
            m += &format!(
                "| {name} | {} | {:.3} | {:.3} | {} / {} |\n",
                s.n, s.accuracy, s.macro_f1, self.split, self.part
            );
        }
        m += &format!("\n## Per genre (track level, {} / {})\n\n| genre | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n", self.split, self.part);
        for c in &self.tracks.per_class {
            m += &format!("| {} | {:.3} | {:.3} | {:.3} | {} |\n", c.class, c.precision, c.recall, c.f1, c.support);
        }
        m += &format!(
            "\n## Confusion matrix (track level, rows = true, {} / {})\n\n| | {} |\n|---|{}\n",
            self.split,
            self.part,
            classes.join(" | "),
            "---:|".repeat(classes.len())
        );
        for (i, row) in self.tracks.confusion.iter().enumerate() {
            m += &format!(
                "| {} | {} |\n",
                classes[i],
                row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")
            );
        }
        if !self.tags.is_empty() {
            m += "\n## Tags (track level)\n\n| tag | ROC-AUC | PR-AUC |\n|---|---:|---:|\n";
            for (t, roc, pr) in &self.tags {
                let f = |v: &Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
                m += &format!("| {t} | {} | {} |\n", f(roc), f(pr));
            }
        }
        m
    }
}

/// Score `net` on every window of `src` and on its tracks (mean of window probabilities).
pub fn score_report(
    net: &Net,
    src: &dyn DataSource,
    norm: &Normalization,
    ds: &Dataset,
    multi: bool,
    split: String,
    part: &str,
) -> Result<Report> {
    let probs = predict(net, src, norm, multi, 64)?;
    let seg_truth: Vec<usize> = (0..src.len()).map(|i| src.labels(i)[0]).collect();
    let segments = single_label(&probs, &seg_truth, &ds.classes);
    let mut by_track: BTreeMap<usize, Vec<&[f32]>> = BTreeMap::new();
    for (i, p) in probs.iter().enumerate() {
        by_track.entry(src.track(i)).or_default().push(p);
    }
    let track_probs: Vec<Vec<f32>> = by_track.values().map(|ps| mean_rows(ps)).collect();
    let track_labels: Vec<Vec<usize>> = by_track.keys().map(|&t| ds.tracks[t].labels.clone()).collect();
    let tracks = single_label(&track_probs, &track_labels.iter().map(|l| l[0]).collect::<Vec<_>>(), &ds.classes);
    let (tags, best_thresholds) = if multi {
        let n = ds.classes.len();
        (multi_label(&track_probs, &track_labels, &ds.classes), best_thresholds(&track_probs, &track_labels, n))
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Report { split, part: part.to_string(), segments, tracks, tags, best_thresholds })
}

/// `eval_<part>.json`, `eval_<part>.md`, `confusion_<part>.png` in `dir`.
pub fn write_reports(dir: &Path, part: &str, r: &Report, classes: &[String]) -> Result<()> {
    std::fs::write(dir.join(format!("eval_{part}.json")), serde_json::to_string_pretty(r)?)?;
    std::fs::write(dir.join(format!("eval_{part}.md")), r.markdown(classes))?;
    confusion_png(
        &dir.join(format!("confusion_{part}.png")),
        &r.tracks.confusion,
        classes,
        &format!("{} / {} (tracks)", r.split, r.part),
    )?;
    Ok(())
}

/// Examples:
///   genre eval runs/cnn music/                      (the run's own split, valid and test sides)
///   genre eval runs/cnn other_music/ --part all     (every track of another data set)
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct EvalArgs {
    /// A run folder (or its model.json).
    pub model: PathBuf,
    /// The data: genre folder, manifest or feature table.
    pub data: PathBuf,
    /// Which tracks: "valid", "test" (the run's split, from its split.json), or "all".
    #[arg(long, default_value = "valid")]
    pub part: String,
    /// Where the reports go (default: the run folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value = ".genre-cache")]
    pub cache: PathBuf,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: EvalArgs) -> Result<ExitCode> {
    let genre_pipeline::Classifier { card, net, spec, .. } = genre_pipeline::Classifier::load(Some(&a.model))?;
    let ds = Dataset::open(&a.data).with_context(|| a.data.display().to_string())?;
    if ds.classes != card.classes {
        bail!("the data's classes {:?} differ from the model's {:?}", ds.classes, card.classes);
    }
    let run_dir =
        if a.model.is_dir() { a.model.clone() } else { a.model.parent().map(Path::to_path_buf).unwrap_or_default() };
    let (ids, split_name) = if a.part == "all" {
        ((0..ds.tracks.len()).collect::<Vec<_>>(), "all tracks (no split)".to_string())
    } else {
        let split_file = run_dir.join("split.json");
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&split_file).with_context(|| split_file.display().to_string())?,
        )?;
        // The same files under another spelling (./syn vs /abs/syn) are the same tracks: compare
        // canonical paths (the recorded spelling when a file no longer exists).
        let key = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let wanted: std::collections::HashSet<PathBuf> = v[&a.part]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(|s| key(Path::new(s)))).collect())
            .unwrap_or_default();
        let ids: Vec<usize> = (0..ds.tracks.len()).filter(|&i| wanted.contains(&key(&ds.tracks[i].path))).collect();
        if ids.is_empty() {
            bail!("no track of {} is on the '{}' side of {}", a.data.display(), a.part, split_file.display());
        }
        (ids, card.split.clone())
    };
    let src = source_for(&ds, &spec, &ids, &a.cache, &a.part, a.quiet)?;
    let report = score_report(&net, src.as_ref(), &card.normalization, &ds, card.multi_label, split_name, &a.part)?;
    let out = a.out.clone().unwrap_or(run_dir);
    std::fs::create_dir_all(&out)?;
    write_reports(&out, &a.part, &report, &ds.classes)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.markdown(&ds.classes));
    }
    eprintln!("{}", report.summary());
    Ok(ExitCode::SUCCESS)
}
