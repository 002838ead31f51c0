//! Scores of a model on a set of tracks: segment and track level, with the split type beside
//! every number; written as JSON, Markdown and a confusion-matrix picture.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use genre_data::Dataset;
use genre_model::calibration::{apply_temperature, fit_temperature, reliability, Reliability};
use genre_model::card::Normalization;
use genre_model::data::DataSource;
use genre_model::metrics::{best_thresholds, mean_rows, single_label, tag_scores, Scores, TagScores};
use genre_model::train::predict;
use genre_model::Net;
use genre_report::chart::confusion_png;
use genre_report::reliability::{reliability_png, BinPoint, Curve};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// How the evaluated tracks were chosen (list split, grouped split, all tracks).
    pub split: String,
    /// Which side of the split ("valid", "test", "all").
    pub part: String,
    /// Tracks scored.
    pub n_tracks: usize,
    /// Single-label: window-level scores (accuracy, top-k, per genre, confusion).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Scores>,
    /// Single-label: track-level scores (a track = the mean of its windows' probabilities).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Scores>,
    /// Multi-label: track-level tag scores at the decision thresholds (per tag P/R/F1,
    /// micro/macro F1, exact match, ROC-AUC, PR-AUC). A top-1 accuracy or a confusion matrix
    /// means nothing when a track has several tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagScores>,
    /// Multi-label: where the thresholds come from ("tuned on these tracks", "the model's").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thresholds_from: Option<String>,
    /// Single-label: calibration of the track probabilities (scores above are after it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationReport>,
}

/// Temperature scaling of a report's track probabilities, and their reliability before and
/// after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalibrationReport {
    pub temperature: f32,
    /// "fitted on these tracks" (optimistic: the same tracks judge it) or "the model's".
    pub from: String,
    pub before: Reliability,
    pub after: Reliability,
}

impl Report {
    pub fn summary(&self) -> String {
        let head = format!("[{} / {}]", self.split, self.part);
        if let Some(t) = &self.tags {
            let auc = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
            return format!(
                "{head} tags ({} tracks, thresholds {}): micro-F1 {:.3}, macro-F1 {:.3}, exact match {:.3}, \
                 mean ROC-AUC {}, mean PR-AUC {}",
                t.n,
                self.thresholds_from.as_deref().unwrap_or("0.5"),
                t.micro_f1,
                t.macro_f1,
                t.exact_match,
                auc(t.mean_roc_auc),
                auc(t.mean_pr_auc)
            );
        }
        let (Some(seg), Some(tr)) = (&self.segments, &self.tracks) else { return head };
        let mut s = format!(
            "{head} segment accuracy {:.3} ({} windows), track accuracy {:.3} ({} tracks), track macro-F1 {:.3}",
            seg.accuracy, seg.n, tr.accuracy, tr.n, tr.macro_f1
        );
        for (k, v) in &tr.top_k {
            if *k > 1 {
                s += &format!(", track top-{k} {v:.3}");
            }
        }
        if let Some(c) = &self.calibration {
            s += &format!(
                ", calibration error (ECE) {:.3} -> {:.3} at temperature {:.2} ({})",
                c.before.ece, c.after.ece, c.temperature, c.from
            );
        }
        s
    }

    pub fn markdown(&self, classes: &[String]) -> String {
        let mut m = format!("# Evaluation ({}, {})\n\n", self.split, self.part);
        if let Some(t) = &self.tags {
            m += &tags_markdown(self, t);
        }
        if let (Some(seg), Some(tr)) = (&self.segments, &self.tracks) {
            m += &single_markdown(self, seg, tr, classes);
        }
        m
    }
}

fn tags_markdown(r: &Report, t: &TagScores) -> String {
    let f = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
    let mut m = format!(
        "Multi-label: a track's tags are those at or above their threshold ({}).\n\n\
         | tracks | micro-F1 | macro-F1 | exact match | mean ROC-AUC | mean PR-AUC | split |\n\
         |---:|---:|---:|---:|---:|---:|---|\n| {} | {:.3} | {:.3} | {:.3} | {} | {} | {} / {} |\n",
        r.thresholds_from.as_deref().unwrap_or("0.5"),
        t.n,
        t.micro_f1,
        t.macro_f1,
        t.exact_match,
        f(t.mean_roc_auc),
        f(t.mean_pr_auc),
        r.split,
        r.part
    );
    m += "\n## Per tag (track level)\n\n| tag | threshold | precision | recall | F1 | support | ROC-AUC | PR-AUC |\n\
          |---|---:|---:|---:|---:|---:|---:|---:|\n";
    for s in &t.per_tag {
        m += &format!(
            "| {} | {:.2} | {:.3} | {:.3} | {:.3} | {} | {} | {} |\n",
            s.tag,
            s.threshold,
            s.precision,
            s.recall,
            s.f1,
            s.support,
            f(s.roc_auc),
            f(s.pr_auc)
        );
    }
    m
}

fn single_markdown(r: &Report, seg: &Scores, tr: &Scores, classes: &[String]) -> String {
    let mut m = "| level | n | accuracy | macro-F1 | split |\n|---|---:|---:|---:|---|\n".to_string();
    for (name, s) in [("segment", seg), ("track", tr)] {
        m += &format!("| {name} | {} | {:.3} | {:.3} | {} / {} |\n", s.n, s.accuracy, s.macro_f1, r.split, r.part);
    }
    if let Some(c) = &r.calibration {
        m +=
            &format!(
            "\nCalibration (track level, {} / {}): temperature {:.2} ({}); expected calibration error {:.3} before, \
             {:.3} after; mean top probability {:.3} vs accuracy {:.3}.\n",
            r.split, r.part, c.temperature, c.from, c.before.ece, c.after.ece, c.after.mean_confidence, c.after.accuracy
        );
    }
    m += &format!(
        "\n## Per genre (track level, {} / {})\n\n| genre | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n",
        r.split, r.part
    );
    for c in &tr.per_class {
        m += &format!("| {} | {:.3} | {:.3} | {:.3} | {} |\n", c.class, c.precision, c.recall, c.f1, c.support);
    }
    m += &format!(
        "\n## Confusion matrix (track level, rows = true, {} / {})\n\n| | {} |\n|---|{}\n",
        r.split,
        r.part,
        classes.join(" | "),
        "---:|".repeat(classes.len())
    );
    for (i, row) in tr.confusion.iter().enumerate() {
        m += &format!("| {} | {} |\n", classes[i], row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | "));
    }
    m
}

/// Where a report's decisions come from: the tag thresholds of a multi-label model and the
/// temperature of a single-label one.
pub enum Thresholds<'a> {
    /// Tuned on the scored tracks themselves (the validation side of a training run; they
    /// become the model's): each tag's threshold for its best F1, the temperature for the
    /// lowest negative log-likelihood of the tracks' genres.
    TuneHere,
    /// The model's own (an evaluation of a trained model).
    Model(&'a [f32], f32),
}

/// Score `net` on every window of `src` and on its tracks (mean of window probabilities).
#[allow(clippy::too_many_arguments)]
pub fn score_report(
    net: &Net,
    src: &dyn DataSource,
    norm: &Normalization,
    ds: &Dataset,
    multi: bool,
    thresholds: Thresholds,
    split: String,
    part: &str,
) -> Result<Report> {
    let probs = predict(net, src, norm, multi, 64)?;
    let mut by_track: BTreeMap<usize, Vec<&[f32]>> = BTreeMap::new();
    for (i, p) in probs.iter().enumerate() {
        by_track.entry(src.track(i)).or_default().push(p);
    }
    let track_probs: Vec<Vec<f32>> = by_track.values().map(|ps| mean_rows(ps)).collect();
    let track_labels: Vec<Vec<usize>> = by_track.keys().map(|&t| ds.tracks[t].labels.clone()).collect();
    let mut r = Report {
        split,
        part: part.to_string(),
        n_tracks: track_probs.len(),
        segments: None,
        tracks: None,
        tags: None,
        thresholds_from: None,
        calibration: None,
    };
    if multi {
        let (th, from) = match thresholds {
            Thresholds::TuneHere => {
                (best_thresholds(&track_probs, &track_labels, ds.classes.len()), "tuned on these tracks")
            }
            Thresholds::Model(t, _) => (t.to_vec(), "the model's"),
        };
        r.tags = Some(tag_scores(&track_probs, &track_labels, &ds.classes, &th));
        r.thresholds_from = Some(from.into());
    } else {
        let truth: Vec<usize> = track_labels.iter().map(|l| l[0]).collect();
        let (t, from) = match thresholds {
            Thresholds::TuneHere => (fit_temperature(&track_probs, &truth), "fitted on these tracks"),
            Thresholds::Model(_, t) => (t, "the model's"),
        };
        let calibrated = |mut rows: Vec<Vec<f32>>| {
            rows.iter_mut().for_each(|p| apply_temperature(p, t));
            rows
        };
        let before = reliability(&track_probs, &truth);
        let (probs, track_probs) = (calibrated(probs), calibrated(track_probs));
        let after = reliability(&track_probs, &truth);
        r.calibration = Some(CalibrationReport { temperature: t, from: from.into(), before, after });
        let seg_truth: Vec<usize> = (0..src.len()).map(|i| src.labels(i)[0]).collect();
        r.segments = Some(single_label(&probs, &seg_truth, &ds.classes));
        r.tracks = Some(single_label(&track_probs, &truth, &ds.classes));
    }
    Ok(r)
}

impl Report {
    /// The temperature a single-label report's probabilities were calibrated with.
    pub fn temperature(&self) -> Option<f32> {
        self.calibration.as_ref().map(|c| c.temperature)
    }

    /// The decision thresholds of a multi-label report (one per tag).
    pub fn thresholds(&self) -> Option<Vec<f32>> {
        self.tags.as_ref().map(|t| t.per_tag.iter().map(|s| s.threshold).collect())
    }
}

/// `eval_<part>.json` and `eval_<part>.md` in `dir`.
pub fn write_reports(dir: &Path, part: &str, r: &Report, classes: &[String]) -> Result<()> {
    let json = dir.join(format!("eval_{part}.json"));
    std::fs::write(&json, serde_json::to_string_pretty(r)?).with_context(|| json.display().to_string())?;
    let md = dir.join(format!("eval_{part}.md"));
    std::fs::write(&md, r.markdown(classes)).with_context(|| md.display().to_string())?;
    Ok(())
}

/// `reliability_<part>.png` in `dir` (single-label reports): how often the top genre is right
/// against how sure the model said it was, before and after calibration.
pub fn write_reliability(dir: &Path, part: &str, r: &Report) -> Result<()> {
    let Some(c) = &r.calibration else { return Ok(()) };
    let title =
        format!("{} / {}: {} tracks, temperature {:.2} ({})", r.split, r.part, r.n_tracks, c.temperature, c.from);
    let curve = |name, r: &Reliability| Curve {
        name,
        ece: r.ece,
        bins: r
            .bins
            .iter()
            .map(|b| BinPoint { confidence: b.confidence, accuracy: b.accuracy, count: b.count })
            .collect(),
    };
    let curves = [curve("before calibration", &c.before), curve("after", &c.after)];
    reliability_png(&dir.join(format!("reliability_{part}.png")), &title, &curves)?;
    Ok(())
}

/// `confusion_<part>.png` in `dir`. Callers treat a failure as a warning: a picture is never
/// worth a lost report or model.
pub fn write_confusion(dir: &Path, part: &str, r: &Report, classes: &[String]) -> Result<()> {
    // Multi-label reports have none: a track with two tags is not "confused".
    let Some(tracks) = &r.tracks else { return Ok(()) };
    confusion_png(
        &dir.join(format!("confusion_{part}.png")),
        &tracks.confusion,
        classes,
        &format!("{} / {} (tracks)", r.split, r.part),
    )?;
    Ok(())
}
