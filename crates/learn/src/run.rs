//! A training run and an evaluation, start to end: the data checked, features cached, the split
//! made of usable tracks, the training loop, scores, the model card, then the pictures.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use genre_data::{Dataset, Split};
use genre_model::arch::{ArchConfig, Family};
use genre_model::card::{ModelCard, Normalization, CARD_FORMAT};
use genre_model::data::DataSource;
use genre_model::train::{fit_normalization, EpochRecord};
use genre_model::{device, Net};
use genre_report::chart::line_chart;
use serde::Serialize;
use serde_json::json;

use crate::report::{score_report, write_confusion, write_reliability, write_reports, Report, Thresholds};
use crate::sources::{make_split, source_for, usable_tracks, Skipped};
use crate::{EvalRequest, OnProgress, Progress, TrainRequest};

/// What a finished run left: its folder, card (with the scores), and the tracks it skipped.
#[derive(Debug, Serialize)]
pub struct TrainedRun {
    pub dir: PathBuf,
    pub card: ModelCard,
    pub best_epoch: usize,
    pub epochs: usize,
    /// Scores of the chosen epoch on the valid (and test) side.
    pub reports: Vec<Report>,
    pub skipped: Vec<Skipped>,
}

/// Train a model as `req` says, into `req.out` (resuming a killed run of the same request).
pub fn train(req: &TrainRequest, on: &OnProgress) -> Result<TrainedRun> {
    let all = Dataset::open(&req.data)?; // its errors name the file
    if !all.multi_label && all.classes.len() < 2 {
        bail!(
            "{}: one class ({}) is nothing to tell apart: a genre model needs two or more",
            req.data.display(),
            all.classes.join(", ")
        );
    }
    std::fs::create_dir_all(&req.out).with_context(|| req.out.display().to_string())?;
    let spec = req.spec()?;
    let (ds, mut skipped) = usable_tracks(&all, &spec, &req.cache, on)?;
    let split = make_split(&ds, &req.split_choice()?)?;
    let opts = req.options(ds.multi_label);
    on(Progress::Note(format!(
        "{} tracks ({} usable), {} classes{}; {}: {} train / {} valid / {} test tracks",
        all.tracks.len(),
        ds.tracks.len(),
        ds.classes.len(),
        if ds.multi_label { " (multi-label)" } else { "" },
        split.kind,
        split.train.len(),
        split.valid.len(),
        split.test.len()
    )));
    let config = json!({ "data": req.data, "model": req.model, "features": spec, "training": opts,
                         "split": split.kind, "classes": ds.classes, "init": req.init });
    check_resume_config(&req.out, &config)?;
    let split_checksum = write_split(&req.out, &ds, &split)?;

    let (train_src, s1) = source_for(&ds, &spec, &split.train, &req.cache, "train", on)?;
    let (valid_src, s2) = source_for(&ds, &spec, &split.valid, &req.cache, "valid", on)?;
    skipped.extend(s1.into_iter().chain(s2));
    let [rows, cols] = train_src.shape();
    let mut arch = ArchConfig::new(req.model, rows, cols, ds.classes.len());
    if req.model == Family::Musicnn {
        arch.backbone = Some(req.backbone);
        arch.finetune = req.finetune;
    }
    let norm = normalization(req, train_src.as_ref())?;
    on(Progress::Note(format!(
        "{} training windows of {rows}x{cols}, {} validation windows",
        train_src.len(),
        valid_src.len()
    )));
    let init = finetune_init(req, &arch, &ds.classes)?;
    let outcome = genre_model::train::train(
        &arch,
        &opts,
        train_src.as_ref(),
        valid_src.as_ref(),
        &norm,
        &req.out,
        init,
        &mut |ev| {
            if let genre_model::train::Event::Epoch { history } = &ev {
                if let Err(e) = write_history(&req.out, history) {
                    on(Progress::Note(format!("warning: metrics not written: {e:#}")));
                }
            }
            on(Progress::Train(ev));
        },
    )?;

    // Judge the chosen epoch on validation (and test when the split has one).
    // The checksum lets `evaluate` notice a split.json edited after training (its sides would
    // no longer be the ones the model was chosen on).
    let mut scores = json!({ "split": split.kind, "best_epoch": outcome.best_epoch, "split_checksum": split_checksum });
    let mut thresholds = vec![0.5; ds.classes.len()];
    let mut temperature = 1.0;
    let mut reports = Vec::new();
    for (name, ids) in [("valid", &split.valid), ("test", &split.test)] {
        if ids.is_empty() {
            continue;
        }
        let test_src;
        let src = if name == "valid" {
            valid_src.as_ref()
        } else {
            let (s, more) = source_for(&ds, &spec, ids, &req.cache, name, on)?;
            skipped.extend(more);
            test_src = s;
            test_src.as_ref()
        };
        // Tags are decided with thresholds tuned on the valid side; the test side uses those.
        let th = if name == "valid" { Thresholds::TuneHere } else { Thresholds::Model(&thresholds, temperature) };
        let report = score_report(&outcome.best, src, &norm, &ds, opts.multi_label, th, split.kind.to_string(), name)?;
        write_reports(&req.out, name, &report, &ds.classes)?;
        if let (true, Some(t)) = (name == "valid", report.thresholds()) {
            thresholds = t;
        }
        if let (true, Some(t)) = (name == "valid", report.temperature()) {
            temperature = t;
        }
        on(Progress::Note(report.summary()));
        scores[name] = serde_json::to_value(&report).expect("report serialises");
        reports.push(report);
    }
    let mut trained_on = split.train.clone();
    if req.refit {
        refit(req, &arch, &opts, outcome.best_epoch, &ds, &spec, &split, &norm, on)?;
        trained_on.extend(&split.valid);
        scores["refit"] = json!({
            "tracks": trained_on.len(),
            "epochs": outcome.best_epoch,
            "note": "weights refitted on train + valid for the chosen epoch count; the scores and the temperature above are the choice stage's (trained on train only)"
        });
    }
    let card = ModelCard {
        format: CARD_FORMAT.into(),
        arch,
        classes: ds.classes.clone(),
        multi_label: ds.multi_label,
        thresholds,
        features: serde_json::to_value(&spec).expect("spec serialises"),
        normalization: norm,
        data: req.data.display().to_string(),
        split: split.kind.to_string(),
        training: serde_json::to_value(&opts).expect("options serialise"),
        scores,
        temperature,
        trained_on: track_hashes(&ds, &trained_on),
    };
    card.save(&req.out.join("model.json"))?;
    // Pictures last: the model and its reports are safe on disk whatever a picture does.
    for r in &reports {
        if let Err(e) = write_confusion(&req.out, &r.part, r, &ds.classes) {
            on(Progress::Note(format!("warning: confusion picture of {} not drawn: {e:#}", r.part)));
        }
        if let Err(e) = write_reliability(&req.out, &r.part, r) {
            on(Progress::Note(format!("warning: reliability picture of {} not drawn: {e:#}", r.part)));
        }
    }
    Ok(TrainedRun {
        dir: req.out.clone(),
        card,
        best_epoch: outcome.best_epoch,
        epochs: outcome.history.len(),
        reports,
        skipped,
    })
}

/// `--refit`: the same network trained from scratch on train + valid for `epochs` epochs of the
/// original schedule, its weights replacing the chosen epoch's in `req.out` (the choice stage's
/// checkpoints stay in `req.out/checkpoint`; the refit's go to `req.out/refit`, so a killed
/// refit resumes too). The normalisation stays the training side's, as the card says.
#[allow(clippy::too_many_arguments)]
fn refit(
    req: &TrainRequest,
    arch: &ArchConfig,
    opts: &genre_model::train::TrainOptions,
    epochs: usize,
    ds: &Dataset,
    spec: &genre_data::FeatureSpec,
    split: &Split,
    norm: &Normalization,
    on: &OnProgress,
) -> Result<()> {
    let both: Vec<usize> = split.train.iter().chain(&split.valid).copied().collect();
    on(Progress::Note(format!("refit: {} tracks (train + valid), {epochs} epochs", both.len())));
    let (all_src, _) = source_for(ds, spec, &both, &req.cache, "train + valid", on)?;
    let (valid_src, _) = source_for(ds, spec, &split.valid, &req.cache, "valid", on)?;
    let dir = req.out.join("refit");
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let opts = genre_model::train::TrainOptions { stop_after: Some(epochs), ..opts.clone() };
    let init = finetune_init(req, arch, &ds.classes)?;
    genre_model::train::train(arch, &opts, all_src.as_ref(), valid_src.as_ref(), norm, &dir, init, &mut |ev| {
        on(Progress::Train(ev))
    })?;
    let weights = dir.join("model.safetensors");
    std::fs::copy(&weights, req.out.join("model.safetensors")).with_context(|| weights.display().to_string())?;
    Ok(())
}

/// Content hashes of the tracks' files (feature-table rows have none).
fn track_hashes(ds: &Dataset, ids: &[usize]) -> Vec<String> {
    ids.iter().filter_map(|&i| genre_data::hash::file_hash(&ds.tracks[i].path).ok()).collect()
}

/// Standardisation of the inputs, fitted on the training windows.
fn normalization(req: &TrainRequest, train: &dyn DataSource) -> Result<Normalization> {
    if req.model == Family::Musicnn && req.finetune {
        // The pre-trained mid-end takes the front-end's maps as they are.
        return Ok(Normalization { mean: vec![0.0], std: vec![1.0] });
    }
    // musicnn's embedding leaves batch norm at unit scale: a dimension with a std far below
    // that over the training windows is noise of a small data set, not a scale to divide by.
    let min_std = if req.model == Family::Musicnn { 0.1 } else { 1e-6 };
    Ok(fit_normalization(train, matches!(req.model, Family::Features | Family::Musicnn), min_std)?)
}

/// `--init RUN`: the fine-tuned network, starting from a frozen musicnn run's head.
fn finetune_init(req: &TrainRequest, arch: &ArchConfig, classes: &[String]) -> Result<Option<Net>> {
    let Some(run) = &req.init else { return Ok(None) };
    if req.model != Family::Musicnn {
        bail!("--init starts a --model musicnn --finetune run from a frozen musicnn run");
    }
    let card_path = if run.is_dir() { run.join("model.json") } else { run.clone() };
    let card = ModelCard::load(&card_path)?;
    if card.arch.family != Family::Musicnn || card.arch.finetune || card.arch.backbone != arch.backbone {
        bail!("{}: not a frozen musicnn run with the {:?} backbone", card_path.display(), arch.backbone);
    }
    if card.classes != classes {
        bail!("{}: its classes {:?} differ from the data's {:?}", card_path.display(), card.classes, classes);
    }
    let frozen = Net::load(&card.arch, &card_path.with_file_name("model.safetensors"), &device::base())?;
    match (frozen, Net::new(arch, &device::training())) {
        (Net::Musicnn(f), Net::Musicnn(n)) => {
            Ok(Some(Net::Musicnn(n.adopt(&f, &card.normalization.mean, &card.normalization.std)?)))
        }
        _ => bail!("{}: not a musicnn model", card_path.display()),
    }
}

/// A run folder resumes only with the same configuration: anything else would silently mix two
/// experiments.
fn check_resume_config(out: &Path, config: &serde_json::Value) -> Result<()> {
    let path = out.join("config.json");
    if out.join("checkpoint/state.json").exists() && path.exists() {
        let old: serde_json::Value = serde_json::from_str(&genre_fsio::read_text(&path, genre_fsio::JSON_CAP)?)?;
        if &old != config {
            bail!("{} holds a run with another configuration: use a new --out (or delete it)", out.display());
        }
    }
    write_json(&path, config)
}

/// split.json, and the checksum of what was written.
fn write_split(out: &Path, ds: &Dataset, split: &Split) -> Result<String> {
    let paths = |ids: &[usize]| ids.iter().map(|&i| ds.tracks[i].path.display().to_string()).collect::<Vec<_>>();
    let doc = json!({ "kind": split.kind, "train": paths(&split.train), "valid": paths(&split.valid), "test": paths(&split.test) });
    let text = serde_json::to_string_pretty(&doc)?;
    let path = out.join("split.json");
    std::fs::write(&path, &text).with_context(|| path.display().to_string())?;
    Ok(checksum(&text))
}

fn checksum(text: &str) -> String {
    format!("{:016x}", genre_data::hash::fnv1a64(text.as_bytes()))
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(v)?).with_context(|| path.display().to_string())
}

/// metrics.csv, metrics.jsonl and the learning-curve pictures, rewritten after every epoch.
fn write_history(out: &Path, history: &[EpochRecord]) -> Result<()> {
    let mut w = csv::Writer::from_path(out.join("metrics.csv"))?;
    for r in history {
        w.serialize(r)?;
    }
    w.flush()?;
    let lines: Vec<String> = history.iter().map(|r| serde_json::to_string(r).expect("record serialises")).collect();
    std::fs::write(out.join("metrics.jsonl"), lines.join("\n") + "\n")?;
    let col = |f: fn(&EpochRecord) -> f64| history.iter().map(f).collect::<Vec<_>>();
    line_chart(
        &out.join("learning_curve_loss.png"),
        "loss",
        "epoch",
        &[("train", col(|r| r.train_loss)), ("valid", col(|r| r.valid_loss))],
    )?;
    line_chart(
        &out.join("learning_curve_accuracy.png"),
        "accuracy",
        "epoch",
        &[
            ("train segment", col(|r| r.train_acc)),
            ("valid segment", col(|r| r.valid_segment_acc)),
            ("valid track", col(|r| r.valid_track_acc)),
        ],
    )?;
    Ok(())
}

/// An evaluation's report and the tracks it could not score.
#[derive(Debug, Serialize)]
pub struct Evaluation {
    pub report: Report,
    /// The classes (genres or tags) in the report's order.
    pub classes: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// Where the reports were written.
    pub dir: PathBuf,
}

/// Score a trained run on a data set: the run's own split side ("valid", "test") or "all".
pub fn evaluate(req: &EvalRequest, on: &OnProgress) -> Result<Evaluation> {
    let genre_pipeline::Classifier { card, net, spec, .. } = genre_pipeline::Classifier::load(Some(&req.model))?;
    let ds = Dataset::open(&req.data)?;
    if ds.classes != card.classes {
        bail!("the data's classes {:?} differ from the model's {:?}", ds.classes, card.classes);
    }
    let run_dir = if req.model.is_dir() {
        req.model.clone()
    } else {
        req.model.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let (ids, split_name) = eval_tracks(req, &ds, &run_dir, &card)?;
    let (src, skipped) = source_for(&ds, &spec, &ids, &req.cache, &req.part, on)?;
    let th = Thresholds::Model(&card.thresholds, card.temperature);
    let report =
        score_report(&net, src.as_ref(), &card.normalization, &ds, card.multi_label, th, split_name, &req.part)?;
    let out = req.out.clone().unwrap_or(run_dir);
    std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
    write_reports(&out, &req.part, &report, &ds.classes)?;
    if let Err(e) = write_confusion(&out, &req.part, &report, &ds.classes) {
        on(Progress::Note(format!("warning: confusion picture not drawn: {e:#}")));
    }
    Ok(Evaluation { report, classes: ds.classes.clone(), skipped, dir: out })
}

/// The tracks of the side asked for, and the split's name to print beside the scores.
fn eval_tracks(req: &EvalRequest, ds: &Dataset, run_dir: &Path, card: &ModelCard) -> Result<(Vec<usize>, String)> {
    if req.part == "all" {
        return Ok(((0..ds.tracks.len()).collect(), "all tracks (no split)".to_string()));
    }
    if !matches!(req.part.as_str(), "train" | "valid" | "test") {
        bail!("--part is valid, test, train or all (not '{}')", req.part);
    }
    let split_file = run_dir.join("split.json");
    let text =
        genre_fsio::read_text(&split_file, genre_fsio::TEXT_CAP).with_context(|| split_file.display().to_string())?;
    if let Some(want) = card.scores.get("split_checksum").and_then(|v| v.as_str()) {
        if checksum(&text) != want {
            bail!(
                "{} was changed after training: its sides are not the ones the model was chosen on \
                 (score other data with --part all)",
                split_file.display()
            );
        }
    }
    let v: serde_json::Value = serde_json::from_str(&text).with_context(|| split_file.display().to_string())?;
    // The same files under another spelling (./syn vs /abs/syn) are the same tracks: compare
    // canonical paths (the recorded spelling when a file no longer exists).
    let key = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let wanted: std::collections::HashSet<PathBuf> = v[&req.part]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(|s| key(Path::new(s)))).collect())
        .unwrap_or_default();
    let ids: Vec<usize> = (0..ds.tracks.len()).filter(|&i| wanted.contains(&key(&ds.tracks[i].path))).collect();
    if ids.is_empty() {
        bail!("no track of {} is on the '{}' side of {}", req.data.display(), req.part, split_file.display());
    }
    Ok((ids, card.split.clone()))
}
