//! Training people can trust: seeded and deterministic, resumable after a kill from the last
//! epoch checkpoint with the same final result, early stopping on validation, the best epoch's
//! weights kept, and every epoch's numbers written down.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu, sigmoid, softmax};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::arch::ArchConfig;
use crate::card::Normalization;
use crate::data::DataSource;
use crate::metrics::{argmax, mean_rows};
use crate::net::Net;
use crate::{device, ModelError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Decoupled weight decay (AdamW) when > 0, plain Adam otherwise.
    pub weight_decay: f32,
    /// Cosine learning-rate decay over `epochs`.
    pub cosine: bool,
    /// Stop after this many epochs without a better validation score (0 = never).
    pub patience: usize,
    pub seed: u64,
    /// Weight the loss by inverse class frequency.
    pub class_weights: bool,
    pub multi_label: bool,
    /// Augmentation, in standardised feature units: Gaussian noise std, random gain offset,
    /// SpecAugment masks (one frequency and one time band), mixup probability.
    pub noise: f32,
    pub gain: f32,
    pub spec_masks: bool,
    pub mixup: f32,
    /// Train exactly this many epochs (of the `epochs`-long schedule) and keep the last one,
    /// whatever validation says: a refit on more data for an epoch count chosen before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_after: Option<usize>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 32,
            lr: 1e-3,
            weight_decay: 1e-4,
            cosine: true,
            patience: 8,
            seed: 42,
            class_weights: true,
            multi_label: false,
            noise: 0.0,
            gain: 0.0,
            spec_masks: false,
            mixup: 0.0,
            stop_after: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub lr: f64,
    pub train_loss: f64,
    pub train_acc: f64,
    pub valid_loss: f64,
    pub valid_segment_acc: f64,
    pub valid_track_acc: f64,
    /// What the `*_acc` columns hold: "accuracy" (single-label), or "micro-F1" of the tag
    /// decisions at 0.5 (multi-label, where one top class is not the answer).
    #[serde(default = "accuracy_name")]
    pub metric: String,
    pub seconds: f64,
}

fn accuracy_name() -> String {
    "accuracy".into()
}

/// Hits of a batch or a set: top-1 accuracy (single-label) or micro-F1 of the decisions
/// `p >= 0.5` (multi-label).
#[derive(Default)]
struct Hits {
    correct: usize,
    n: usize,
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Hits {
    /// One row of scores (`above`: decided tags) against its true tags.
    fn add(&mut self, row: &[f32], labels: &[usize], multi_label: bool, above: impl Fn(f32) -> bool) {
        self.n += 1;
        if !multi_label {
            self.correct += labels.contains(&argmax(row)) as usize;
            return;
        }
        for (c, &v) in row.iter().enumerate() {
            match (above(v), labels.contains(&c)) {
                (true, true) => self.tp += 1,
                (true, false) => self.fp += 1,
                (false, true) => self.fn_ += 1,
                _ => {}
            }
        }
    }

    fn score(&self, multi_label: bool) -> f64 {
        if multi_label {
            2.0 * self.tp as f64 / (2 * self.tp + self.fp + self.fn_).max(1) as f64
        } else {
            self.correct as f64 / self.n.max(1) as f64
        }
    }
}

/// What survives a kill: written after every epoch, with the weights and optimizer state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    epochs_done: usize,
    best_epoch: usize,
    best_score: f64,
    history: Vec<EpochRecord>,
}

/// Progress events for a UI.
pub enum Event<'a> {
    /// Running mean loss and score of the epoch so far (`metric` names the score: "accuracy",
    /// or "micro-F1" for multi-label runs).
    Batch {
        epoch: usize,
        batch: usize,
        batches: usize,
        loss: f64,
        acc: f64,
        metric: &'static str,
    },
    /// The epoch just finished is the last of `history` (all epochs so far, resumed ones too).
    Epoch {
        history: &'a [EpochRecord],
    },
    Resumed {
        epochs_done: usize,
    },
}

pub struct Outcome {
    pub best: Net,
    pub best_epoch: usize,
    pub history: Vec<EpochRecord>,
}

/// Standardisation statistics of a source, one pass, bounded memory: per row (feature
/// vectors) or global (spectrograms). `min_std` floors each std: a feature that barely varies
/// over a small training set would otherwise blow up on new data.
pub fn fit_normalization(src: &dyn DataSource, per_row: bool, min_std: f32) -> Result<Normalization> {
    let [rows, cols] = src.shape();
    let k = if per_row { rows } else { 1 };
    let (mut s, mut s2, mut n) = (vec![0f64; k], vec![0f64; k], vec![0f64; k]);
    let mut x = vec![0f32; rows * cols];
    for i in 0..src.len() {
        src.read(i, &mut x).map_err(ModelError::Invalid)?;
        for (j, &v) in x.iter().enumerate() {
            let r = if per_row { j / cols } else { 0 };
            s[r] += v as f64;
            s2[r] += (v as f64).powi(2);
            n[r] += 1.0;
        }
    }
    let mean: Vec<f32> = (0..k).map(|r| (s[r] / n[r].max(1.0)) as f32).collect();
    let std: Vec<f32> = (0..k)
        .map(|r| {
            let std = (s2[r] / n[r].max(1.0) - (s[r] / n[r].max(1.0)).powi(2)).max(0.0).sqrt() as f32;
            // A constant input carries nothing: std 1 keeps it at 0 after centring, where a
            // tiny floor would blow any later deviation up a million-fold.
            if std <= 1e-6 {
                1.0
            } else {
                std.max(min_std)
            }
        })
        .collect();
    Ok(Normalization { mean, std })
}

/// Inverse-frequency class weights (mean 1 over present classes).
fn class_weights(src: &dyn DataSource, n_classes: usize) -> Vec<f32> {
    let mut counts = vec![0usize; n_classes];
    for i in 0..src.len() {
        for &l in src.labels(i) {
            counts[l] += 1;
        }
    }
    let total: usize = counts.iter().sum();
    let present = counts.iter().filter(|&&c| c > 0).count().max(1);
    counts.iter().map(|&c| if c == 0 { 0.0 } else { total as f32 / (present as f32 * c as f32) }).collect()
}

/// Read a batch of windows (standardised) and their target rows.
fn gather(src: &dyn DataSource, ids: &[usize], norm: &Normalization, n_classes: usize) -> Result<(Vec<f32>, Vec<f32>)> {
    let [rows, cols] = src.shape();
    let mut x = vec![0f32; ids.len() * rows * cols];
    let mut y = vec![0f32; ids.len() * n_classes];
    for (b, &i) in ids.iter().enumerate() {
        let win = &mut x[b * rows * cols..(b + 1) * rows * cols];
        src.read(i, win).map_err(ModelError::Invalid)?;
        norm.apply(win, rows);
        if n_classes > 0 {
            for &l in src.labels(i) {
                y[b * n_classes + l] = 1.0;
            }
        }
    }
    Ok((x, y))
}

/// Augment a standardised batch in place (x: `[B, rows, cols]`, y: `[B, classes]`).
fn augment(x: &mut [f32], y: &mut [f32], shape: [usize; 2], n_classes: usize, o: &TrainOptions, rng: &mut ChaCha8Rng) {
    let [rows, cols] = shape;
    let per = rows * cols;
    let b = x.len() / per;
    for k in 0..b {
        let w = &mut x[k * per..(k + 1) * per];
        if o.gain > 0.0 {
            let g = rng.gen_range(-o.gain..o.gain);
            w.iter_mut().for_each(|v| *v += g);
        }
        if o.noise > 0.0 {
            w.iter_mut().for_each(|v| *v += o.noise * genre_normal(rng));
        }
        if o.spec_masks && rows > 8 && cols > 8 {
            let (fw, f0) = {
                let f = rng.gen_range(0..rows / 8);
                (f, rng.gen_range(0..rows - f))
            };
            let (tw, t0) = {
                let t = rng.gen_range(0..cols / 8);
                (t, rng.gen_range(0..cols - t))
            };
            for r in 0..rows {
                for c in 0..cols {
                    if (f0..f0 + fw).contains(&r) || (t0..t0 + tw).contains(&c) {
                        w[r * cols + c] = 0.0;
                    }
                }
            }
        }
    }
    if o.mixup > 0.0 && b > 1 {
        // With probability `mixup`, blend an example with its neighbour: lambda ~ U(0.5, 1)
        // keeps the original dominant (a cheap stand-in for Beta(a, a) sampling).
        let (x0, y0) = (x.to_vec(), y.to_vec());
        for k in 0..b {
            if rng.gen::<f32>() < o.mixup {
                let j = (k + 1) % b;
                let lam: f32 = rng.gen_range(0.5..1.0);
                for i in 0..per {
                    x[k * per + i] = lam * x0[k * per + i] + (1.0 - lam) * x0[j * per + i];
                }
                for c in 0..n_classes {
                    y[k * n_classes + c] = lam * y0[k * n_classes + c] + (1.0 - lam) * y0[j * n_classes + c];
                }
            }
        }
    }
}

fn genre_normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.gen_range(f32::MIN_POSITIVE..1.0);
    let u2: f32 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Loss of logits against target rows: weighted soft cross-entropy (single label) or binary
/// cross-entropy with logits (multi-label).
fn loss(logits: Tensor<2>, targets: Tensor<2>, weights: &Tensor<1>, multi_label: bool) -> Tensor<1> {
    let [b, c] = logits.dims();
    let w = weights.clone().reshape([1, c]);
    if multi_label {
        // max(x, 0) - x t + log(1 + exp(-|x|)), weighted per tag
        let l = relu(logits.clone()) - logits.clone() * targets.clone() + logits.abs().neg().exp().log1p();
        (l * w).mean()
    } else {
        (log_softmax(logits, 1) * targets * w).sum().neg().div_scalar(b as f32).reshape([1])
    }
}

/// The optimizer of a run: AdamW with decoupled weight decay when `weight_decay > 0`, plain
/// Adam otherwise.
pub fn optimizer(opts: &TrainOptions) -> ModuleOptimizer {
    if opts.weight_decay > 0.0 {
        AdamWConfig::new().with_weight_decay(opts.weight_decay).init()
    } else {
        AdamConfig::new().init()
    }
}

/// A standardised batch: inputs `[B, rows, cols]` and target rows `[B, classes]`, row-major.
pub struct Batch<'a> {
    pub x: Vec<f32>,
    pub y: &'a [f32],
    pub shape: [usize; 3],
}

/// One optimisation step (forward, loss, backward, update) of a network on the training device:
/// the updated network, the batch's mean loss and its logits `[B, classes]` row-major. The
/// training loop and `genre bench models` both run exactly this.
pub fn step(
    net: Net,
    optim: &mut ModuleOptimizer,
    batch: Batch,
    class_weights: &Tensor<1>,
    multi_label: bool,
    lr: f64,
) -> (Net, f32, Vec<f32>) {
    let d = class_weights.device();
    let [b, _, _] = batch.shape;
    let n_classes = batch.y.len() / b.max(1);
    let xt = Tensor::<3>::from_data(TensorData::new(batch.x, batch.shape), &d);
    let yt = Tensor::<2>::from_data(TensorData::new(batch.y.to_vec(), [b, n_classes]), &d);
    let logits = net.forward(xt);
    let l = loss(logits.clone(), yt, class_weights, multi_label);
    let lv: f32 = l.clone().into_scalar();
    let preds = logits.inner().into_data().try_to_vec::<f32>().expect("f32");
    let grads = GradientsParams::from_grads(l.backward(), &net);
    (optim.step(lr, net, grads), lv, preds)
}

/// Probabilities (softmax, or sigmoid for multi-label) of every window of `src`.
pub fn predict(
    net: &Net,
    src: &dyn DataSource,
    norm: &Normalization,
    multi_label: bool,
    batch: usize,
) -> Result<Vec<Vec<f32>>> {
    let d = device::base();
    let [rows, cols] = src.shape();
    let mut out = Vec::with_capacity(src.len());
    let ids: Vec<usize> = (0..src.len()).collect();
    for chunk in ids.chunks(batch.max(1)) {
        let (x, _) = gather(src, chunk, norm, 0)?; // targets are not needed to predict
        out.extend(probabilities(net, x, [chunk.len(), rows, cols], multi_label, &d));
    }
    Ok(out)
}

/// Probability rows for a standardised batch.
pub fn probabilities(net: &Net, x: Vec<f32>, shape: [usize; 3], multi_label: bool, d: &Device) -> Vec<Vec<f32>> {
    let t = Tensor::<3>::from_data(TensorData::new(x, shape), d);
    let logits = net.forward(t);
    let p = if multi_label { sigmoid(logits) } else { softmax(logits, 1) };
    let c = p.dims()[1];
    p.into_data().try_to_vec::<f32>().expect("f32 tensor").chunks(c).map(|r| r.to_vec()).collect()
}

/// Segment- and track-level accuracy (+ mean loss) of `net` on `src`.
pub fn evaluate(
    net: &Net,
    src: &dyn DataSource,
    norm: &Normalization,
    multi_label: bool,
    batch: usize,
) -> Result<(f64, f64, f64, Vec<Vec<f32>>)> {
    let probs = predict(net, src, norm, multi_label, batch)?;
    let mut loss = 0.0;
    let mut segments = Hits::default();
    let mut tracks: std::collections::BTreeMap<usize, (Vec<usize>, Vec<&[f32]>)> = Default::default();
    for (i, p) in probs.iter().enumerate() {
        let labels = src.labels(i);
        loss += if multi_label {
            // Binary cross-entropy per tag, as the training loss.
            let bce = |c: usize, v: f32| -(if labels.contains(&c) { v } else { 1.0 - v }).max(1e-7).ln() as f64;
            p.iter().enumerate().map(|(c, &v)| bce(c, v)).sum::<f64>() / p.len().max(1) as f64
        } else {
            -labels.iter().map(|&l| (p[l].max(1e-7) as f64).ln()).sum::<f64>() / labels.len().max(1) as f64
        };
        segments.add(p, labels, multi_label, |v| v >= 0.5);
        let e = tracks.entry(src.track(i)).or_insert_with(|| (labels.to_vec(), Vec::new()));
        e.1.push(p);
    }
    let mut track_hits = Hits::default();
    for (labels, ps) in tracks.values() {
        track_hits.add(&mean_rows(ps), labels, multi_label, |v| v >= 0.5);
    }
    let n = probs.len().max(1) as f64;
    Ok((loss / n, segments.score(multi_label), track_hits.score(multi_label), probs))
}

impl State {
    /// A state written by this code is consistent; an edited or damaged one is refused rather
    /// than resumed into nonsense ("best epoch 3 of 2").
    fn check(&self) -> std::result::Result<(), String> {
        let epochs: Vec<usize> = self.history.iter().map(|r| r.epoch).collect();
        if epochs != (1..=self.epochs_done).collect::<Vec<_>>() {
            return Err(format!("{} epochs done but the history holds epochs {epochs:?}: delete the run folder's checkpoint/ to start over", self.epochs_done));
        }
        if self.epochs_done > 0 && !(1..=self.epochs_done).contains(&self.best_epoch) {
            return Err(format!(
                "best epoch {} of {}: delete the run folder's checkpoint/ to start over",
                self.best_epoch, self.epochs_done
            ));
        }
        Ok(())
    }
}

fn checkpoint_dir(run: &Path) -> PathBuf {
    run.join("checkpoint")
}

/// Train `arch` on `train`, choosing the epoch by track accuracy on `valid`. Resumes from
/// `run_dir/checkpoint` when present (same options required).
/// `init`: starting weights (on [`device::training`]) instead of a fresh initialisation.
#[allow(clippy::too_many_arguments)]
pub fn train(
    arch: &ArchConfig,
    opts: &TrainOptions,
    train: &dyn DataSource,
    valid: &dyn DataSource,
    norm: &Normalization,
    run_dir: &Path,
    init: Option<Net>,
    on_event: &mut dyn FnMut(Event),
) -> Result<Outcome> {
    if train.is_empty() || valid.is_empty() {
        return Err(ModelError::Invalid(format!(
            "need training and validation windows (got {} and {})",
            train.len(),
            valid.len()
        )));
    }
    let ad = device::training();
    let ckpt = checkpoint_dir(run_dir);
    std::fs::create_dir_all(&ckpt).map_err(|e| ModelError::File { path: ckpt.clone(), msg: e.to_string() })?;
    let file_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| ModelError::File { path: p, msg: e.to_string() }
    };
    let (state_path, weights_path, optim_path) =
        (ckpt.join("state.json"), ckpt.join("model.bpk"), ckpt.join("optim.bin"));
    let best_path = run_dir.join("model.safetensors");

    ad.seed(opts.seed);
    let mut net = init.unwrap_or_else(|| Net::new(arch, &ad));
    let mut optim = optimizer(opts);
    let mut state = State { epochs_done: 0, best_epoch: 0, best_score: f64::NEG_INFINITY, history: Vec::new() };
    if state_path.exists() && weights_path.exists() && optim_path.exists() {
        let text = genre_fsio::read_text(&state_path, genre_fsio::JSON_CAP).map_err(file_err(&state_path))?;
        state = serde_json::from_str(&text)
            .map_err(|e| ModelError::File { path: state_path.clone(), msg: e.to_string() })?;
        state.check().map_err(|msg| ModelError::File { path: state_path.clone(), msg })?;
        net = Net::load_checkpoint(arch, &weights_path, &ad)?;
        genre_fsio::open_regular(&optim_path).map_err(file_err(&optim_path))?;
        let rec = burn::optim::OptimizerRecord::load(&optim_path)
            .map_err(|e| ModelError::File { path: optim_path.clone(), msg: format!("{e:?}") })?;
        optim = optim.load_record(rec);
        on_event(Event::Resumed { epochs_done: state.epochs_done });
    }

    let weights = {
        let w = if opts.class_weights && !opts.multi_label {
            class_weights(train, arch.n_classes)
        } else {
            vec![1.0; arch.n_classes]
        };
        Tensor::<1>::from_data(TensorData::new(w, [arch.n_classes]), &ad)
    };
    let [rows, cols] = train.shape();
    let batches = train.len().div_ceil(opts.batch_size);
    let mut since_best = state.history.len().saturating_sub(state.best_epoch);
    let last_epoch = opts.stop_after.map_or(opts.epochs, |n| n.min(opts.epochs));
    for epoch in state.epochs_done + 1..=last_epoch {
        if opts.stop_after.is_none() && opts.patience > 0 && since_best >= opts.patience {
            break;
        }
        let t0 = Instant::now();
        // Everything random in an epoch derives from (seed, epoch): a resumed run replays the
        // same epochs as an uninterrupted one.
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
        ad.seed(opts.seed.wrapping_add(epoch as u64 * 7919));
        let lr = if opts.cosine {
            opts.lr * 0.5 * (1.0 + (std::f64::consts::PI * (epoch - 1) as f64 / opts.epochs as f64).cos())
        } else {
            opts.lr
        };
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut hits, mut seen) = (0.0, Hits::default(), 0usize);
        for (bi, ids) in order.chunks(opts.batch_size).enumerate() {
            let (mut x, mut y) = gather(train, ids, norm, arch.n_classes)?;
            augment(&mut x, &mut y, [rows, cols], arch.n_classes, opts, &mut rng);
            let (next, lv, preds) = step(
                net,
                &mut optim,
                Batch { x, y: &y, shape: [ids.len(), rows, cols] },
                &weights,
                opts.multi_label,
                lr,
            );
            net = next;
            for (k, row) in preds.chunks(arch.n_classes).enumerate() {
                // Targets (mixup blends them): the tags of this row are those above 0.5.
                let target = &y[k * arch.n_classes..(k + 1) * arch.n_classes];
                let labels: Vec<usize> = (0..arch.n_classes).filter(|&c| target[c] > 0.5).collect();
                let labels = if labels.is_empty() { vec![argmax(target)] } else { labels };
                hits.add(row, &labels, opts.multi_label, |logit| logit > 0.0);
            }
            seen += ids.len();
            loss_sum += lv as f64 * ids.len() as f64;
            on_event(Event::Batch {
                epoch,
                batch: bi + 1,
                batches,
                loss: loss_sum / seen as f64,
                acc: hits.score(opts.multi_label),
                metric: if opts.multi_label { "micro-F1" } else { "accuracy" },
            });
        }
        let eval_net = net.valid();
        let (vloss, vseg, vtrack, _) = evaluate(&eval_net, valid, norm, opts.multi_label, 64)?;
        let rec = EpochRecord {
            epoch,
            lr,
            train_loss: loss_sum / seen.max(1) as f64,
            train_acc: hits.score(opts.multi_label),
            valid_loss: vloss,
            valid_segment_acc: vseg,
            valid_track_acc: vtrack,
            metric: if opts.multi_label { "micro-F1" } else { "accuracy" }.into(),
            seconds: t0.elapsed().as_secs_f64(),
        };
        // Best = highest track score (accuracy, or micro-F1 for tags), ties broken by lower
        // validation loss.
        let score = if opts.stop_after.is_some() { epoch as f64 } else { vtrack - 1e-6 * vloss };
        if score > state.best_score {
            state.best_score = score;
            state.best_epoch = epoch;
            since_best = 0;
            eval_net.save(&best_path)?;
        } else {
            since_best += 1;
        }
        state.history.push(rec);
        on_event(Event::Epoch { history: &state.history });
        state.epochs_done = epoch;
        // Checkpoint: weights and optimizer first, state last (the state names a complete epoch).
        net.save_checkpoint(&weights_path)?;
        optim
            .to_record()
            .save(&optim_path)
            .map_err(|e| ModelError::File { path: optim_path.clone(), msg: format!("{e:?}") })?;
        let tmp = state_path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&state).expect("state serialises"))
            .map_err(file_err(&tmp))?;
        std::fs::rename(&tmp, &state_path).map_err(file_err(&state_path))?;
    }
    let best = Net::load(arch, &best_path, &device::base())?;
    Ok(Outcome { best, best_epoch: state.best_epoch, history: state.history })
}
