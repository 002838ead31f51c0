//! `genre train`: teach a model the genres of a folder, manifest or feature table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use genre_data::spec::MUSICNN_WINDOW_SECS;
use genre_data::{Dataset, FeatureKind, FeatureSpec};
use genre_model::arch::{ArchConfig, Family};
use genre_model::card::{ModelCard, Normalization, CARD_FORMAT};
use genre_model::musicnn::{Layer, Variant};
use genre_model::train::{fit_normalization, train, Event, TrainOptions};
use genre_model::{device, Net};
use genre_pipeline::embed::{musicnn_spec, Output};
use genre_report::chart::line_chart;
use serde_json::json;

use crate::judge::{score_report, write_reports};
use crate::progress::{bar, say};
use crate::sources::{make_split, source_for, SplitChoice};

/// Examples:
///   genre train music/ --model cnn --out runs/cnn
///   genre train manifest.csv --model crnn --out runs/tags            (multi-label when rows have a|b)
///   genre train music/ --model musicnn --out runs/transfer             (head on pre-trained musicnn)
///   genre train music/ --model musicnn --finetune --init runs/transfer --lr 1e-5 --out runs/ft
///                                              (then the mid-end and back-end train too)
///   genre train music/ --model cnn --features stft --n-fft 1024 --hop 256 --out runs/stft
///   genre train ../shared/data/gtzan/features_30_sec.csv --model features \
///       --lists ../shared/data/gtzan/splits/train.txt,../shared/data/gtzan/splits/valid.txt --out runs/mlp
/// A killed run resumes from its last epoch when started again with the same --out.
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct TrainArgs {
    /// A folder with one sub-folder per genre, a manifest CSV (path,labels[,group]) or a
    /// feature table CSV (filename,...,label).
    pub data: PathBuf,
    /// Model family: cnn, resnet, lstm, crnn, features, or musicnn (a new head on the
    /// pre-trained musicnn network; its embeddings are computed once into the cache).
    #[arg(long, default_value = "cnn")]
    pub model: Family,
    /// musicnn: which pre-trained network (msd: Last.fm tags of the Million Song Dataset; mtt:
    /// MagnaTagATune).
    #[arg(long, default_value = "msd")]
    pub backbone: Variant,
    /// musicnn: also train the pre-trained mid-end and back-end (the front-end's output is cached).
    #[arg(long)]
    pub finetune: bool,
    /// With --finetune: start from the head of a frozen musicnn run (same backbone and classes),
    /// the usual second stage of transfer learning.
    #[arg(long, requires = "finetune")]
    pub init: Option<PathBuf>,
    /// Input of the from-scratch families (cnn, resnet, crnn: logmel; lstm: mfcc): logmel, mfcc,
    /// stft (ln(1 + |STFT|)) or logpower (STFT power in dB; resolution from --n-fft/--hop).
    #[arg(long)]
    pub features: Option<FeatureKind>,
    #[arg(long, default_value_t = 2048)]
    pub n_fft: usize,
    #[arg(long, default_value_t = 512)]
    pub hop: usize,
    /// Run folder (config, metrics, curves, checkpoints, model.safetensors + model.json).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Split lists train,valid[,test] (one path per line); default: grouped automatic split.
    #[arg(long, value_delimiter = ',')]
    pub lists: Vec<PathBuf>,
    #[arg(long, default_value_t = 0.15)]
    pub valid_frac: f64,
    #[arg(long, default_value_t = 0.15)]
    pub test_frac: f64,
    /// Window length and hop in seconds (features model: the 57 features per window).
    #[arg(long)]
    pub window: Option<f64>,
    #[arg(long)]
    pub window_hop: Option<f64>,
    #[arg(long, default_value_t = 128)]
    pub n_mels: usize,
    #[arg(long, default_value_t = 20)]
    pub n_mfcc: usize,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// AdamW weight decay (0 = Adam).
    #[arg(long, default_value_t = 1e-4)]
    pub weight_decay: f32,
    #[arg(long)]
    pub no_cosine: bool,
    /// Early stopping patience in epochs (0 = off).
    #[arg(long, default_value_t = 8)]
    pub patience: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long)]
    pub no_class_weights: bool,
    /// Augmentation (standardised units): noise std, random gain, SpecAugment masks, mixup probability.
    #[arg(long, default_value_t = 0.0)]
    pub noise: f32,
    #[arg(long, default_value_t = 0.0)]
    pub gain: f32,
    #[arg(long)]
    pub spec_masks: bool,
    #[arg(long, default_value_t = 0.0)]
    pub mixup: f32,
    /// Feature cache folder (shared between runs; keyed by feature parameters).
    #[arg(long, default_value = ".genre-cache")]
    pub cache: PathBuf,
    #[arg(long, short)]
    pub quiet: bool,
}

impl TrainArgs {
    fn spec(&self) -> Result<FeatureSpec> {
        if self.model == Family::Musicnn {
            // musicnn's windows are its own (3 s); only their hop is a choice.
            let output = if self.finetune { Output::Frontend } else { Output::Layer(Layer::Penultimate) };
            return Ok(musicnn_spec(self.backbone, output, self.window_hop.unwrap_or(MUSICNN_WINDOW_SECS / 2.0)));
        }
        let (kind, win, hop) = match self.model {
            Family::Features => (FeatureKind::Gtzan57, 30.0, 15.0),
            Family::Lstm => (self.features.unwrap_or(FeatureKind::Mfcc), 3.0, 1.5),
            _ => (self.features.unwrap_or(FeatureKind::Logmel), 3.0, 1.5),
        };
        if matches!(kind, FeatureKind::Musicnn | FeatureKind::Gtzan57) && self.model != Family::Features {
            bail!("--features {kind:?} is not an input of --model {:?} (use --model musicnn or features)", self.model);
        }
        let mut s = FeatureSpec::new(
            kind,
            self.window.unwrap_or(win),
            self.window_hop.unwrap_or(self.window.map(|w| w / 2.0).unwrap_or(hop)),
        );
        s.n_mels = self.n_mels;
        s.n_mfcc = self.n_mfcc;
        s.n_fft = self.n_fft;
        s.hop = self.hop;
        Ok(s)
    }

    fn options(&self, multi_label: bool) -> TrainOptions {
        TrainOptions {
            epochs: self.epochs,
            batch_size: self.batch,
            lr: self.lr,
            weight_decay: self.weight_decay,
            cosine: !self.no_cosine,
            patience: self.patience,
            seed: self.seed,
            class_weights: !self.no_class_weights,
            multi_label,
            noise: self.noise,
            gain: self.gain,
            spec_masks: self.spec_masks,
            mixup: self.mixup,
        }
    }

    fn split_choice(&self) -> Result<SplitChoice> {
        Ok(match self.lists.as_slice() {
            [] => SplitChoice::Grouped { valid: self.valid_frac, test: self.test_frac, seed: self.seed },
            [t, v] => SplitChoice::Lists { train: t.clone(), valid: v.clone(), test: None },
            [t, v, te] => SplitChoice::Lists { train: t.clone(), valid: v.clone(), test: Some(te.clone()) },
            _ => bail!("--lists takes train,valid[,test]"),
        })
    }
}

pub fn run(a: TrainArgs) -> Result<ExitCode> {
    let ds = Dataset::open(&a.data).with_context(|| a.data.display().to_string())?;
    let split = make_split(&ds, &a.split_choice()?)?;
    std::fs::create_dir_all(&a.out).with_context(|| a.out.display().to_string())?;
    let spec = a.spec()?;
    let opts = a.options(ds.multi_label);
    eprintln!(
        "{} tracks, {} classes{}; {}: {} train / {} valid / {} test tracks",
        ds.tracks.len(),
        ds.classes.len(),
        if ds.multi_label { " (multi-label)" } else { "" },
        split.kind,
        split.train.len(),
        split.valid.len(),
        split.test.len()
    );
    let config = json!({ "data": a.data, "model": a.model, "features": spec, "training": opts, "split": split.kind,
                         "classes": ds.classes, "init": a.init });
    check_resume_config(&a.out, &config)?;
    let paths = |ids: &[usize]| ids.iter().map(|&i| ds.tracks[i].path.display().to_string()).collect::<Vec<_>>();
    write_json(
        &a.out.join("split.json"),
        &json!({ "kind": split.kind, "train": paths(&split.train), "valid": paths(&split.valid), "test": paths(&split.test) }),
    )?;

    let train_src = source_for(&ds, &spec, &split.train, &a.cache, "train", a.quiet)?;
    let valid_src = source_for(&ds, &spec, &split.valid, &a.cache, "valid", a.quiet)?;
    let [rows, cols] = train_src.shape();
    let mut arch = ArchConfig::new(a.model, rows, cols, ds.classes.len());
    if a.model == Family::Musicnn {
        arch.backbone = Some(a.backbone);
        arch.finetune = a.finetune;
    }
    let norm = if a.model == Family::Musicnn && a.finetune {
        // The pre-trained mid-end takes the front-end's maps as they are.
        Normalization { mean: vec![0.0], std: vec![1.0] }
    } else {
        // musicnn's embedding leaves batch norm at unit scale: a dimension with a std far below
        // that over the training windows is noise of a small data set, not a scale to divide by.
        let min_std = if a.model == Family::Musicnn { 0.1 } else { 1e-6 };
        fit_normalization(train_src.as_ref(), matches!(a.model, Family::Features | Family::Musicnn), min_std)?
    };
    eprintln!("{} training windows of {rows}x{cols}, {} validation windows", train_src.len(), valid_src.len());

    let pb = bar(opts.epochs as u64, "epochs", a.quiet);
    let out = a.out.clone();
    let init = finetune_init(&a, &arch, &ds.classes)?;
    let outcome = train(
        &arch,
        &opts,
        train_src.as_ref(),
        valid_src.as_ref(),
        &norm,
        &a.out,
        init,
        &mut |ev| match ev {
            Event::Resumed { epochs_done } => {
                pb.set_position(epochs_done as u64);
                say(&pb, format!("resumed after epoch {epochs_done}"));
            }
            Event::Batch { epoch, batch, batches, loss, acc } => {
                pb.set_message(format!("e{epoch} {batch}/{batches} loss {loss:.3} acc {acc:.3}"))
            }
            Event::Epoch { history } => {
                let r = history.last().expect("epoch recorded");
                pb.set_position(r.epoch as u64);
                say(&pb, format!(
                "epoch {:>3}  loss {:.4}  acc {:.3}  | valid loss {:.4}  segment acc {:.3}  track acc {:.3}  ({}, {:.1}s)",
                r.epoch, r.train_loss, r.train_acc, r.valid_loss, r.valid_segment_acc, r.valid_track_acc, split.kind, r.seconds
            ));
                if let Err(e) = write_history(&out, history) {
                    say(&pb, format!("warning: metrics not written: {e:#}"));
                }
            }
        },
    )?;
    pb.finish_and_clear();

    // Judge the chosen epoch on validation (and test when the split has one).
    let mut scores = json!({ "split": split.kind, "best_epoch": outcome.best_epoch });
    let mut thresholds = vec![0.5; ds.classes.len()];
    for (name, ids) in [("valid", &split.valid), ("test", &split.test)] {
        if ids.is_empty() {
            continue;
        }
        let src =
            if name == "valid" { valid_src.as_ref() } else { &*source_for(&ds, &spec, ids, &a.cache, name, a.quiet)? };
        let report = score_report(&outcome.best, src, &norm, &ds, opts.multi_label, split.kind.to_string(), name)?;
        write_reports(&a.out, name, &report, &ds.classes)?;
        if name == "valid" && ds.multi_label {
            thresholds = report.best_thresholds.clone(); // tags are decided with validation-tuned thresholds
        }
        eprintln!("{}", report.summary());
        scores[name] = serde_json::to_value(&report).expect("report serialises");
    }
    let card = ModelCard {
        format: CARD_FORMAT.into(),
        arch,
        classes: ds.classes.clone(),
        multi_label: ds.multi_label,
        thresholds,
        features: serde_json::to_value(&spec).expect("spec serialises"),
        normalization: norm,
        data: a.data.display().to_string(),
        split: split.kind.to_string(),
        training: serde_json::to_value(&opts).expect("options serialise"),
        scores,
    };
    card.save(&a.out.join("model.json"))?;
    eprintln!(
        "best epoch {} of {}; model: {}",
        outcome.best_epoch,
        outcome.history.len(),
        a.out.join("model.json").display()
    );
    let skipped = crate::sources::SKIPPED.load(std::sync::atomic::Ordering::SeqCst);
    if skipped > 0 {
        eprintln!("{skipped} tracks were skipped (listed above): the model was trained without them");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--init RUN`: the fine-tuned network, starting from a frozen musicnn run's head.
fn finetune_init(a: &TrainArgs, arch: &ArchConfig, classes: &[String]) -> Result<Option<Net>> {
    let Some(run) = &a.init else { return Ok(None) };
    if a.model != Family::Musicnn {
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
        let old: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        if &old != config {
            bail!("{} holds a run with another configuration: use a new --out (or delete it)", out.display());
        }
    }
    write_json(&path, config)
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(v)?).with_context(|| path.display().to_string())
}

/// metrics.csv, metrics.jsonl and learning_curves.png, rewritten after every epoch.
fn write_history(out: &Path, history: &[genre_model::train::EpochRecord]) -> Result<()> {
    let mut w = csv::Writer::from_path(out.join("metrics.csv"))?;
    for r in history {
        w.serialize(r)?;
    }
    w.flush()?;
    let lines: Vec<String> = history.iter().map(|r| serde_json::to_string(r).expect("record serialises")).collect();
    std::fs::write(out.join("metrics.jsonl"), lines.join("\n") + "\n")?;
    let col = |f: fn(&genre_model::train::EpochRecord) -> f64| history.iter().map(f).collect::<Vec<_>>();
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
