//! Why the model decided: a map of evidence for every window of a file, mapped back to seconds
//! and frequency.
//!
//! - Convolutional families (cnn, resnet, crnn): Grad-CAM on the last convolutional block,
//!   `[C, H, W]` cells over (mel band, frame) of the window, through the network's strides.
//! - musicnn transfer heads: gradient x input on the log-mel window itself (the front end takes
//!   the max over mel, so every later map has lost the frequency axis), through the whole
//!   network as one differentiable function ([`musicnn_logits`]); smoothed to the scale a
//!   picture can show, its positive part pooled to [`INPUT_ROWS`] bands of the picture's axis.
//!
//! Windows that overlap are averaged cell by cell on a common grid of [`CELLS_PER_SEC`]; no
//! window is scaled to its own maximum first (that would lift every window's weakest evidence to
//! the level of the file's strongest), only the file's grid as a whole.

use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::softmax;
use genre_data::{FeatureKind, FeatureSpec};
use genre_features::convert::{hz_to_mel, linspace, mel_frequencies};
use genre_model::arch::Family;
use genre_model::calibration::apply_temperature;
use genre_model::gradcam::{grad_cam, gradient_x_input};
use genre_model::{device, Net};

use crate::classify::Classifier;
use crate::embed::Output;
use crate::featurize::featurize_file;
use crate::{PipelineError, Result};

/// Time resolution of the importance grid.
pub const CELLS_PER_SEC: f64 = 10.0;
/// Frequency rows of an input map (musicnn): equal slices of the picture's mel axis, 0 Hz to
/// [`PICTURE_FMAX`]; rows above the model's own Nyquist (8 kHz for musicnn) stay 0.
pub const INPUT_ROWS: usize = 16;
/// The top of the picture's frequency axis (Slaney mel from 0 Hz; 22050 Hz audio).
pub const PICTURE_FMAX: f64 = 11025.0;
/// The scale an input map is smoothed to (Gaussian standard deviations; about 1 s and 9 of the
/// 96 bands at half height): gradient x input is exact but speckled (max pooling routes the
/// gradient through single cells), and what a reader can use is which second and which part of
/// the spectrum carried the genre. Chosen on the metal-in-classical clip of the tests: evidence
/// share in the metal seconds 0.59 at (0.25 s, 2 bands), 0.61 at (0.35, 3), 0.63 here.
const SMOOTH_SECS: f64 = 0.4;
const SMOOTH_BANDS: f64 = 4.0;
/// Windows per autodiff pass (musicnn's front end keeps ~50 MB of activations a window).
const GRAD_BATCH: usize = 4;

pub struct Explanation {
    /// The class explained, and the file's probabilities (the ensemble's when mixed).
    pub class: usize,
    pub probs: Vec<f32>,
    /// Start and end (s) of each window, its probabilities.
    pub times: Vec<(f64, f64)>,
    pub window_probs: Vec<Vec<f32>>,
    pub duration: f64,
    /// Importance `[rows, cols]`, row 0 = lowest frequency band (1 row when the network keeps no
    /// frequency axis), `CELLS_PER_SEC` columns a second; 0..1, 1 = the file's strongest 0.5% of
    /// cells ([`FULL_QUANTILE`]; they are clipped there), 0 = no evidence.
    pub grid: Vec<f32>,
    pub rows: usize,
    pub cols: usize,
    /// Mean importance of each second (0..1).
    pub per_second: Vec<f32>,
    /// Lower edge of each grid row and the top of the last (Hz, `rows + 1` values).
    pub row_hz: Vec<f64>,
    /// What the map is ("gradient x input on the log-mel window", "Grad-CAM on ...").
    pub method: String,
    /// Which member of an ensemble the map is of, and which have none.
    pub note: Option<String>,
    /// Why the explanation deserves little trust (silence, too short), if it does.
    pub warning: Option<String>,
    /// The backbone's own tags per window, when its embedding brings them (as
    /// [`crate::FileWindows::tags`]): the "outside the genres" verdict of the answer.
    pub tags: Vec<Vec<f32>>,
}

/// A model as one differentiable function: input windows -> logits.
pub type LogitsFn<'a> = Box<dyn Fn(Tensor<3>) -> Tensor<2> + 'a>;

/// The classifier as one differentiable function, musicnn log-mel windows `[B, 96, 187]` ->
/// logits `[B, classes]` (burn's layers all the way, so autodiff reaches the input); `None` for
/// models that are not a head on a frozen musicnn. The one place that knows how such a model is
/// assembled from its parts: a head on other layers or several backbones changes only this.
pub fn musicnn_logits(c: &Classifier) -> Option<LogitsFn<'_>> {
    let (Some(e), Some(emb)) = (&c.embedder, &c.spec.embedding) else { return None };
    let Ok(Output::Layer(layer)) = emb.layer.parse() else { return None };
    if c.card.arch.family != Family::Musicnn || c.card.arch.finetune {
        return None;
    }
    let (head, norm) = (c.net.valid(), &c.card.normalization);
    Some(Box::new(move |x: Tensor<3>| {
        let emb = e.net().embed_differentiable(x, layer);
        let [b, dim] = emb.dims();
        let dev = emb.device();
        let row = |v: &[f32]| {
            let v: Vec<f32> = (0..dim).map(|i| v[i.min(v.len() - 1)]).collect();
            Tensor::<2>::from_data(TensorData::new(v, [1, dim]), &dev)
        };
        let z = (emb - row(&norm.mean)) / row(&norm.std);
        head.forward(z.reshape([b, dim, 1]))
    }))
}

/// How a model's decision is mapped.
enum Explainer<'a> {
    /// Grad-CAM on the last convolutional block (cnn, resnet, crnn), eval mode.
    Cam(Box<Net>),
    /// Gradient x input through the whole network, pooled onto the picture's rows.
    Input(LogitsFn<'a>, InputRows),
}

impl<'a> Explainer<'a> {
    fn new(c: &'a Classifier) -> Result<Self> {
        if let Some(f) = musicnn_logits(c) {
            return Ok(Explainer::Input(f, InputRows::new(&c.spec)));
        }
        match (&c.embedder, c.card.arch.family) {
            (None, Family::Cnn | Family::Resnet | Family::Crnn) => Ok(Explainer::Cam(Box::new(c.net.valid()))),
            (_, family) => Err(PipelineError::Invalid(format!(
                "explain: Grad-CAM needs a convolutional model (cnn, resnet, crnn) or a musicnn transfer head, not {family:?}{}",
                if c.card.arch.finetune { " (fine-tuned)" } else { "" }
            ))),
        }
    }

    fn method(&self) -> String {
        match self {
            Explainer::Cam(_) => "Grad-CAM on the last convolutional block".into(),
            Explainer::Input(..) => format!(
                "gradient x input on the log-mel window, its positive part after Gaussian smoothing \
                 (sd {SMOOTH_SECS} s, {SMOOTH_BANDS} mel bands)"
            ),
        }
    }

    fn logits(&self, x: Tensor<3>) -> Tensor<2> {
        match self {
            Explainer::Cam(net) => net.forward(x),
            Explainer::Input(f, _) => f(x),
        }
    }

    /// Each window's map of evidence for `class`: (`[h, w]` values, h, w), row 0 lowest.
    fn maps(&self, x: Tensor<3>, class: usize) -> Vec<(Vec<f32>, usize, usize)> {
        let t = match self {
            Explainer::Cam(net) => {
                grad_cam(net.conv_features(x).expect("convolutional"), &|f| net.head(f).expect("convolutional"), class)
            }
            Explainer::Input(f, _) => gradient_x_input(x, &**f, class),
        };
        let [n, h, w] = t.dims();
        let v = t.into_data().try_to_vec::<f32>().expect("f32");
        let window = |i: usize| &v[i * h * w..(i + 1) * h * w];
        match self {
            Explainer::Cam(_) => (0..n).map(|i| (window(i).to_vec(), h, w)).collect(),
            Explainer::Input(_, rows) => (0..n).map(|i| (rows.evidence(window(i), w), INPUT_ROWS, w)).collect(),
        }
    }

    /// Lower edge of each of `rows` grid rows and the top (Hz); empty where rows are not
    /// frequencies (MFCC).
    fn row_hz(&self, spec: &FeatureSpec, rows: usize) -> Vec<f64> {
        let nyquist = spec.sr as f64 / 2.0;
        match (self, spec.kind) {
            (Explainer::Input(..), _) => mel_frequencies(rows + 1, 0.0, PICTURE_FMAX, false),
            (Explainer::Cam(_), FeatureKind::Logmel | FeatureKind::Musicnn) => {
                mel_frequencies(rows + 1, 0.0, nyquist, false)
            }
            (Explainer::Cam(_), FeatureKind::Stft | FeatureKind::Logpower) => linspace(0.0, nyquist, rows + 1),
            _ => Vec::new(),
        }
    }
}

/// An input map's bands on the picture's rows, and its smoothing in frames.
struct InputRows {
    /// The grid row of each input band (its centre frequency on the picture's mel axis).
    band_row: Vec<usize>,
    sigma_frames: f64,
}

impl InputRows {
    fn new(spec: &FeatureSpec) -> Self {
        let top = hz_to_mel(PICTURE_FMAX, false);
        let centres = mel_frequencies(spec.n_mels + 2, 0.0, spec.sr as f64 / 2.0, false);
        let row = |hz: f64| ((hz_to_mel(hz, false) / top * INPUT_ROWS as f64) as usize).min(INPUT_ROWS - 1);
        let band_row = centres[1..=spec.n_mels].iter().map(|&hz| row(hz)).collect();
        Self { band_row, sigma_frames: SMOOTH_SECS * spec.sr as f64 / spec.hop as f64 }
    }

    /// A window's gradient x input `[bands, frames]` -> its evidence `[INPUT_ROWS, frames]`.
    /// Smoothed while signed, so that evidence and counter-evidence in the same place cancel
    /// (taking the positive part first would add up the positive half of the speckle into a
    /// floor everywhere); then the positive part; then the mean of each row's bands.
    fn evidence(&self, v: &[f32], frames: usize) -> Vec<f32> {
        let bands = self.band_row.len();
        let s = blur(v, bands, frames, SMOOTH_BANDS, self.sigma_frames);
        let (mut sum, mut count) = (vec![0f32; INPUT_ROWS * frames], [0u32; INPUT_ROWS]);
        for (b, &r) in self.band_row.iter().enumerate() {
            count[r] += 1;
            let row = &mut sum[r * frames..(r + 1) * frames];
            row.iter_mut().zip(&s[b * frames..(b + 1) * frames]).for_each(|(o, v)| *o += v.max(0.0));
        }
        for (r, n) in count.iter().enumerate() {
            sum[r * frames..(r + 1) * frames].iter_mut().for_each(|v| *v /= (*n).max(1) as f32);
        }
        sum
    }
}

/// Gaussian blur of `[rows, cols]` (standard deviations in cells), separable; each cell the
/// weighted mean of the cells in reach, so a window's edges are not darkened.
fn blur(v: &[f32], rows: usize, cols: usize, sigma_rows: f64, sigma_cols: f64) -> Vec<f32> {
    let v = smooth_axis(v, rows, cols, |r| r * cols, 1, sigma_cols);
    smooth_axis(&v, cols, rows, |c| c, cols, sigma_rows)
}

/// Gaussian smoothing of `lines` lines of `len` cells, line `l` starting at `start(l)`, cells
/// `stride` apart.
fn smooth_axis(
    v: &[f32],
    lines: usize,
    len: usize,
    start: impl Fn(usize) -> usize,
    stride: usize,
    sigma: f64,
) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil() as usize;
    let w: Vec<f64> = (0..=2 * radius).map(|k| (-((k as f64 - radius as f64) / sigma).powi(2) / 2.0).exp()).collect();
    let mut out = v.to_vec();
    for l in 0..lines {
        let at = |i: usize| start(l) + i * stride;
        for i in 0..len {
            let (lo, hi) = (i.saturating_sub(radius), (i + radius).min(len - 1));
            let (acc, total) = (lo..=hi).fold((0f64, 0f64), |(a, t), j| {
                let wt = w[j + radius - i];
                (a + wt * v[at(j)] as f64, t + wt)
            });
            out[at(i)] = (acc / total) as f32;
        }
    }
    out
}

/// Explain `class` over the windows of `path` (at most about `max_windows`, evenly spread).
/// Without a class, the file's answer is explained: the classifier's, or, with `mix` = (the
/// weighted sum of other ensemble members' file probabilities, this classifier's weight), the
/// ensemble's.
pub fn explain_file(
    c: &Classifier,
    path: &Path,
    class: Option<usize>,
    max_windows: Option<usize>,
    mix: Option<(&[f32], f32)>,
) -> Result<Explanation> {
    let mut input = c.spec.clone();
    input.embedding = None; // the map needs the network's input, not the cached embedding
    let w = featurize_file(path, &input, None, max_windows)?;
    let ex = Explainer::new(c)?;
    let batches = window_batches(c, &w.x);
    let mut probs = Vec::new();
    for x in &batches {
        let p = softmax(ex.logits(x.clone()), 1);
        let k = p.dims()[1];
        probs.extend(p.into_data().try_to_vec::<f32>().expect("f32").chunks(k).map(<[f32]>::to_vec));
    }
    // Calibrated as `predict_file` calibrates this classifier, before any mixing.
    let mut file_probs = genre_model::metrics::mean_rows(&probs.iter().map(Vec::as_slice).collect::<Vec<_>>());
    apply_temperature(&mut file_probs, c.temperature());
    probs.iter_mut().for_each(|p| apply_temperature(p, c.temperature()));
    if let Some((others, w)) = mix {
        file_probs.iter_mut().zip(others).for_each(|(p, o)| *p = w * *p + o);
    }
    let class = class.unwrap_or_else(|| genre_model::metrics::argmax(&file_probs));
    if class >= file_probs.len() {
        return Err(PipelineError::Invalid(format!("class {class} out of range")));
    }
    let maps: Vec<_> = batches.into_iter().flat_map(|x| ex.maps(x, class)).collect();
    let warning = w.warning();
    let silent = w.peak < 1e-4;
    let mut e = to_grid(class, w.times, probs, w.duration, &maps);
    e.probs = file_probs;
    if silent {
        // Scaled to a maximum of 1, the noise of a silent file's gradients would be drawn as
        // evidence: there is none.
        e.grid.iter_mut().for_each(|v| *v = 0.0);
        e.per_second.iter_mut().for_each(|v| *v = 0.0);
    }
    e.tags = match &c.embedder {
        Some(emb) if emb.tags().is_some() && !w.x.is_empty() => {
            let (_, t) = emb.embed_windows_tagged(&w.x.concat(), w.x.len());
            t.chunks(50).map(<[f32]>::to_vec).collect()
        }
        _ => Vec::new(),
    };
    e.row_hz = ex.row_hz(&c.spec, e.rows);
    e.method = ex.method();
    e.note = mix.map(|(_, w0)| ensemble_note(&member_name(c), w0, &[("rest of the ensemble".into(), 1.0 - w0)]));
    e.warning = warning;
    Ok(e)
}

/// "map: musicnn-msd head (weight 0.70); no map: GTZAN-57 MLP (0.30)": which member of an
/// ensemble the map shows, and which members it leaves out.
pub fn ensemble_note(mapped: &str, weight: f32, others: &[(String, f32)]) -> String {
    let rest: Vec<String> = others.iter().map(|(n, w)| format!("{n} ({w:.2})")).collect();
    format!("map: {mapped} (weight {weight:.2}); no map: {}", rest.join(", "))
}

/// What an ensemble member is, in words ("musicnn-msd head", "GTZAN-57 MLP").
pub fn member_name(c: &Classifier) -> String {
    match (&c.spec.embedding, c.spec.kind) {
        (Some(e), _) => format!("{} head", e.network),
        (None, FeatureKind::Gtzan57) => "GTZAN-57 MLP".into(),
        (None, kind) => format!("{:?} {:?} model", kind, c.card.arch.family).to_lowercase(),
    }
}

/// The windows as network input, [`GRAD_BATCH`] to a tensor (standardised unless an embedder
/// makes the model's input: its normalisation applies to the embedding).
fn window_batches(c: &Classifier, windows: &[Vec<f32>]) -> Vec<Tensor<3>> {
    let mut input = c.spec.clone();
    input.embedding = None;
    let [rows, cols] = input.input_shape();
    let d = device::base();
    windows
        .chunks(GRAD_BATCH)
        .map(|batch| {
            let mut x = Vec::with_capacity(batch.len() * rows * cols);
            for win in batch {
                let mut win = win.clone();
                if c.embedder.is_none() {
                    c.card.normalization.apply(&mut win, rows);
                }
                x.extend(win);
            }
            Tensor::<3>::from_data(TensorData::new(x, [batch.len(), rows, cols]), &d)
        })
        .collect()
}

/// Average the windows' maps on the common grid (cell = 1/CELLS_PER_SEC s; map rows = bands).
fn to_grid(
    class: usize,
    times: Vec<(f64, f64)>,
    window_probs: Vec<Vec<f32>>,
    duration: f64,
    maps: &[(Vec<f32>, usize, usize)],
) -> Explanation {
    let rows = maps.first().map(|m| m.1).unwrap_or(1).max(1);
    let cols = ((duration * CELLS_PER_SEC).ceil() as usize).max(1);
    let (mut sum, mut count) = (vec![0f64; rows * cols], vec![0u32; rows * cols]);
    for ((start, end), (map, h, w)) in times.iter().zip(maps) {
        let len = (end - start).max(1e-9);
        for j in 0..*w {
            // This map column covers [start + j len / w, start + (j+1) len / w).
            let c0 = ((start + j as f64 * len / *w as f64) * CELLS_PER_SEC).floor() as usize;
            let c1 = (((start + (j + 1) as f64 * len / *w as f64) * CELLS_PER_SEC).ceil() as usize).max(c0 + 1);
            for col in c0.min(cols)..c1.min(cols) {
                for r in 0..rows {
                    let v = map[(r * h / rows).min(h - 1) * w + j] as f64;
                    sum[r * cols + col] += v;
                    count[r * cols + col] += 1;
                }
            }
        }
    }
    let mut grid: Vec<f32> =
        sum.iter().zip(&count).map(|(s, &n)| if n > 0 { (s / n as f64) as f32 } else { 0.0 }).collect();
    // Seconds from the linear evidence (their shares are the model's), scaled to the strongest
    // cell; the grid then scaled for the eye (see robust_max).
    let max = grid.iter().copied().fold(0f32, f32::max);
    let per_second =
        per_second(&grid, rows, cols, duration).iter().map(|v| if max > 0.0 { v / max } else { 0.0 }).collect();
    let top = robust_max(&grid);
    if top > 0.0 {
        grid.iter_mut().for_each(|v| *v = (*v / top).min(1.0));
    }
    Explanation {
        class,
        probs: Vec::new(),
        times,
        window_probs,
        duration,
        grid,
        rows,
        cols,
        per_second,
        row_hz: Vec::new(),
        method: String::new(),
        note: None,
        warning: None,
        tags: Vec::new(),
    }
}

/// The mean of each second's cells of a `[rows, cols]` grid.
fn per_second(grid: &[f32], rows: usize, cols: usize, duration: f64) -> Vec<f32> {
    let secs = duration.ceil().max(1.0) as usize;
    (0..secs)
        .map(|s| {
            let (c0, c1) = ((s as f64 * CELLS_PER_SEC) as usize, (((s + 1) as f64 * CELLS_PER_SEC) as usize).min(cols));
            let cells: Vec<f32> = (0..rows)
                .flat_map(|r| (c0..c1.max(c0)).map(move |c| (r, c)))
                .map(|(r, c)| grid[r * cols + c])
                .collect();
            cells.iter().sum::<f32>() / cells.len().max(1) as f32
        })
        .collect()
}

/// The level that reads as full evidence: the [`FULL_QUANTILE`] quantile of the cells (their
/// maximum when that is 0). Scaled to the very maximum, one sharp spot (an onset, a splice)
/// would leave the rest of the evidence too faint to see; above this level cells are clipped.
fn robust_max(grid: &[f32]) -> f32 {
    let mut sorted = grid.to_vec();
    sorted.sort_by(f32::total_cmp);
    let q = sorted.get(((sorted.len() as f64 * FULL_QUANTILE) as usize).min(sorted.len().saturating_sub(1)));
    match q {
        Some(&q) if q > 0.0 => q,
        _ => sorted.last().copied().unwrap_or(0.0),
    }
}

/// See [`robust_max`]: the strongest 0.5% of cells read as 1.
pub const FULL_QUANTILE: f64 = 0.995;

/// Files longer than this are not drawn (the picture's spectrogram is held whole).
pub const MAX_PICTURE_SECS: f64 = 30.0 * 60.0;

/// The Grad-CAM picture of an explained file (log-mel at 22050 Hz, 128 bands, over it the
/// evidence; the genre strip of the windows) written to `out`; returns its plot area.
/// `name` titles the picture (the file's own name when `None`).
pub fn explain_picture(
    audio: &Path,
    name: Option<&str>,
    e: &Explanation,
    classes: &[String],
    out: &Path,
) -> Result<genre_report::spectrogram::Plot> {
    use genre_features::core::DbRef;
    use genre_features::feature::{logmel, MelSpecParams};
    if e.duration > MAX_PICTURE_SECS {
        return Err(PipelineError::Invalid(format!(
            "{}: {:.0} s is longer than the {:.0} s a picture is drawn for",
            audio.display(),
            e.duration,
            MAX_PICTURE_SECS
        )));
    }
    let y = genre_audio::load(audio, genre_audio::LoadOptions::default()).map_err(genre_data::DataError::from)?;
    let p = MelSpecParams::new(22050, 2048, 512, 128);
    let m = logmel(&y.samples, &p, DbRef::Max, Some(80.0))
        .map_err(|err| PipelineError::Invalid(format!("{}: {err}", audio.display())))?;
    let [rows, frames] = m.shape();
    let band_hz = genre_features::convert::mel_frequencies(rows + 2, 0.0, 11025.0, false)[1..=rows].to_vec();
    let windows =
        e.times.iter().zip(&e.window_probs).map(|(&(s, t), p)| (s, t, genre_model::metrics::argmax(p))).collect();
    let name = name
        .map(String::from)
        .unwrap_or_else(|| audio.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let picture = genre_report::explain::CamPicture {
        logmel: &m.data,
        rows,
        frames,
        seconds_per_frame: 512.0 / 22050.0,
        band_hz,
        grid: &e.grid,
        grid_rows: e.rows,
        grid_cols: e.cols,
        windows,
        classes,
        title: picture_title(&name, e, classes),
    };
    genre_report::explain::cam_png(out, &picture)
        .map_err(|err| PipelineError::Invalid(format!("{}: {err}", out.display())))
}

/// "song.mp3: why metal (62%)", and which ensemble member the map is of.
fn picture_title(name: &str, e: &Explanation, classes: &[String]) -> String {
    let why = format!("{name}: why {} ({:.0}%)", classes[e.class], 100.0 * e.probs[e.class]);
    match &e.note {
        Some(note) => format!("{why}; {note}"),
        None => why,
    }
}

/// What the first convolutional layer sees: its maps `[filters, freq, time]` for the middle
/// computed window of `path`, and that window's start and end (s).
pub fn first_layer_maps(c: &Classifier, path: &Path) -> Result<(Vec<f32>, [usize; 3], (f64, f64))> {
    let mut input = c.spec.clone();
    input.embedding = None;
    let w = featurize_file(path, &input, None, Some(64))?;
    let k = w.x.len() / 2;
    let mut x = w.x[k].clone();
    let [rows, cols] = input.input_shape();
    if c.embedder.is_none() {
        c.card.normalization.apply(&mut x, rows);
    }
    let d = device::base();
    let x = Tensor::<3>::from_data(TensorData::new(x, [1, rows, cols]), &d);
    let net = c.net.valid();
    let maps = match (&c.embedder, net.first_maps(x.clone())) {
        (_, Some(m)) => m,
        (Some(e), None) => e.net().frontend.first_maps(x),
        (None, None) => {
            return Err(PipelineError::Invalid(format!(
                "--layer first: a {:?} model has no convolutional layer",
                c.card.arch.family
            )))
        }
    };
    let [_, n, h, wd] = maps.dims();
    Ok((maps.into_data().try_to_vec::<f32>().expect("f32"), [n, h, wd], w.times[k]))
}

/// How much of its own range a first-layer map must light on average to be drawn.
pub const MIN_LIT: f32 = 0.1;

/// Which first-layer maps to draw (at most 64), the most varied first: only maps that show
/// something as a tile scaled to its own range. A trained first layer leaves many filters
/// silent on a given window and others lit in a few cells: drawn to their own range, both are
/// black tiles; so kept are maps whose cells average at least [`MIN_LIT`] of their range, and
/// whose range is above rounding noise (1e-4 of the widest map's); all maps that are not flat
/// when none is.
pub fn first_layer_order(maps: &[f32], [_, h, w]: [usize; 3]) -> Vec<usize> {
    let per = (h * w).max(1);
    let stats: Vec<(f32, f32, f32)> = maps.chunks(per).map(tile_stats).collect();
    let widest = stats.iter().map(|s| s.0).fold(0f32, f32::max);
    let shown = |k: &usize| stats[*k].0 > 1e-4 * widest && stats[*k].1 >= MIN_LIT;
    let mut order: Vec<usize> = (0..stats.len()).filter(shown).collect();
    if order.is_empty() {
        // Better dark tiles than no picture: every map that is not flat.
        order = (0..stats.len()).filter(|&k| stats[k].0 > 0.0).collect();
    }
    order.sort_by(|&a, &b| stats[b].2.total_cmp(&stats[a].2));
    order.truncate(64);
    order
}

/// A map's range, its mean as a share of the range (how lit its tile is), its standard deviation.
pub fn tile_stats(m: &[f32]) -> (f32, f32, f32) {
    let (lo, hi) = m.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let n = m.len().max(1) as f32;
    let mean = m.iter().sum::<f32>() / n;
    let sd = (m.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
    let span = hi - lo;
    (span, if span > 0.0 { (mean - lo) / span } else { 0.0 }, sd)
}
