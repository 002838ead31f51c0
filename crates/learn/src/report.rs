//! Scores of a model on a set of tracks: segment and track level, with the split type beside
//! every number; written as JSON, Markdown and a confusion-matrix picture.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use genre_data::Dataset;
use genre_model::card::Normalization;
use genre_model::data::DataSource;
use genre_model::metrics::{best_thresholds, mean_rows, multi_label, single_label, Scores};
use genre_model::train::predict;
use genre_model::Net;
use genre_report::chart::confusion_png;
use serde::Serialize;

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

/// `eval_<part>.json` and `eval_<part>.md` in `dir`.
pub fn write_reports(dir: &Path, part: &str, r: &Report, classes: &[String]) -> Result<()> {
    let json = dir.join(format!("eval_{part}.json"));
    std::fs::write(&json, serde_json::to_string_pretty(r)?).with_context(|| json.display().to_string())?;
    let md = dir.join(format!("eval_{part}.md"));
    std::fs::write(&md, r.markdown(classes)).with_context(|| md.display().to_string())?;
    Ok(())
}

/// `confusion_<part>.png` in `dir`. Callers treat a failure as a warning: a picture is never
/// worth a lost report or model.
pub fn write_confusion(dir: &Path, part: &str, r: &Report, classes: &[String]) -> Result<()> {
    confusion_png(
        &dir.join(format!("confusion_{part}.png")),
        &r.tracks.confusion,
        classes,
        &format!("{} / {} (tracks)", r.split, r.part),
    )?;
    Ok(())
}
