//! Why the model decided: Grad-CAM on the last layer that still has a time axis, for every
//! window of a file, mapped back to seconds (and, where the network keeps one, to frequency).
//!
//! - Convolutional families (cnn, resnet, crnn): the last convolutional block, `[C, H, W]` cells
//!   over (mel band, frame) of the window, through the network's strides.
//! - musicnn transfer heads: the mid-end's output `[753, frames]`: one value per frame (the
//!   front end pools frequency away), through pooling, the embedding and the head.
//!
//! Windows that overlap are averaged cell by cell on a common grid of [`CELLS_PER_SEC`].

use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::softmax;
use genre_model::arch::Family;
use genre_model::gradcam::grad_cam;
use genre_model::musicnn::Backend as MusicnnBackend;
use genre_model::{device, Net};

use crate::classify::Classifier;
use crate::featurize::featurize_file;
use crate::{PipelineError, Result};

/// Time resolution of the importance grid.
pub const CELLS_PER_SEC: f64 = 10.0;

pub struct Explanation {
    /// The class explained, and the file's probabilities (the ensemble's when mixed).
    pub class: usize,
    pub probs: Vec<f32>,
    /// Start and end (s) of each window, its probabilities.
    pub times: Vec<(f64, f64)>,
    pub window_probs: Vec<Vec<f32>>,
    pub duration: f64,
    /// Importance `[rows, cols]`, row 0 = lowest frequency band (1 row when the network keeps no
    /// frequency axis), `CELLS_PER_SEC` columns a second; scaled to a maximum of 1.
    pub grid: Vec<f32>,
    pub rows: usize,
    pub cols: usize,
    /// Mean importance of each second (0..1).
    pub per_second: Vec<f32>,
    /// Why the explanation deserves little trust (silence, too short), if it does.
    pub warning: Option<String>,
}

type Head<'a> = Box<dyn Fn(Tensor<4>) -> Tensor<2> + 'a>;

/// Grad-CAM of `class` over the windows of `path` (at most about `max_windows`, evenly spread).
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
    input.embedding = None; // Grad-CAM needs the network's input, not the cached embedding
    let w = featurize_file(path, &input, None, max_windows)?;
    let net = c.net.valid();
    // One pass: each batch's feature map and the head from it (probabilities now, CAM below).
    let mut parts = Vec::new();
    let mut probs = Vec::new();
    for batch in w.x.chunks(16) {
        let (f, head) = feature_map(c, &net, batch)?;
        let p = softmax(head(f.clone()), 1);
        let k = p.dims()[1];
        probs.extend(p.into_data().try_to_vec::<f32>().expect("f32").chunks(k).map(<[f32]>::to_vec));
        parts.push((f, head));
    }
    let mut file_probs = genre_model::metrics::mean_rows(&probs.iter().map(Vec::as_slice).collect::<Vec<_>>());
    if let Some((others, w)) = mix {
        file_probs.iter_mut().zip(others).for_each(|(p, o)| *p = w * *p + o);
    }
    let class = class.unwrap_or_else(|| genre_model::metrics::argmax(&file_probs));
    if class >= file_probs.len() {
        return Err(PipelineError::Invalid(format!("class {class} out of range")));
    }
    let mut maps = Vec::new(); // per window: ([h, w] cam, h, w)
    for (f, head) in parts {
        let cam = grad_cam(f, &*head, class);
        let [n, h, wd] = cam.dims();
        let v = cam.into_data().try_to_vec::<f32>().expect("f32");
        maps.extend((0..n).map(|i| (v[i * h * wd..(i + 1) * h * wd].to_vec(), h, wd)));
    }
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
    e.warning = warning;
    Ok(e)
}

/// The map Grad-CAM looks at for a batch of input windows, and the rest of the network from it.
fn feature_map<'a>(c: &'a Classifier, net: &'a Net, batch: &[Vec<f32>]) -> Result<(Tensor<4>, Head<'a>)> {
    let d = device::base();
    let mut input = c.spec.clone();
    input.embedding = None;
    let [rows, cols] = input.input_shape();
    let n = batch.len();
    let mut x = Vec::with_capacity(n * rows * cols);
    for win in batch {
        let mut win = win.clone();
        if c.embedder.is_none() {
            c.card.normalization.apply(&mut win, rows);
        }
        x.extend(win);
    }
    let x = Tensor::<3>::from_data(TensorData::new(x, [n, rows, cols]), &d);
    match (&c.embedder, c.card.arch.family) {
        (Some(e), Family::Musicnn) if !c.card.arch.finetune => {
            let m = e.net().backend.midend(e.net().frontend.forward(x)); // [n, 753, T]
            let [_, ch, t] = m.dims();
            let backend: &MusicnnBackend = &e.net().backend;
            let norm = &c.card.normalization;
            let head = move |m4: Tensor<4>| -> Tensor<2> {
                let [b, ch, _, t] = m4.dims();
                let emb = backend.embed_pooled(MusicnnBackend::pool(m4.reshape([b, ch, t])));
                let dim = emb.dims()[1];
                let dev = emb.device();
                let row = |v: &[f32]| {
                    let v: Vec<f32> = (0..dim).map(|i| if v.len() == 1 { v[0] } else { v[i] }).collect();
                    Tensor::<2>::from_data(TensorData::new(v, [1, dim]), &dev)
                };
                let z = (emb - row(&norm.mean)) / row(&norm.std);
                net.forward(z.reshape([b, dim, 1]))
            };
            Ok((m.reshape([n, ch, 1, t]), Box::new(head)))
        }
        (None, Family::Cnn | Family::Resnet | Family::Crnn) => {
            let f = net.conv_features(x).expect("convolutional");
            Ok((f, Box::new(move |f: Tensor<4>| net.head(f).expect("convolutional"))))
        }
        (_, family) => Err(PipelineError::Invalid(format!(
            "explain: Grad-CAM needs a convolutional model (cnn, resnet, crnn) or a musicnn transfer head, not {family:?}{}",
            if c.card.arch.finetune { " (fine-tuned)" } else { "" }
        ))),
    }
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
    let max = grid.iter().copied().fold(0f32, f32::max);
    if max > 0.0 {
        grid.iter_mut().for_each(|v| *v /= max);
    }
    let secs = duration.ceil().max(1.0) as usize;
    let per_second = (0..secs)
        .map(|s| {
            let (c0, c1) = ((s as f64 * CELLS_PER_SEC) as usize, (((s + 1) as f64 * CELLS_PER_SEC) as usize).min(cols));
            let cells: Vec<f32> = (0..rows)
                .flat_map(|r| (c0..c1.max(c0)).map(move |c| (r, c)))
                .map(|(r, c)| grid[r * cols + c])
                .collect();
            cells.iter().sum::<f32>() / cells.len().max(1) as f32
        })
        .collect();
    Explanation { class, probs: Vec::new(), times, window_probs, duration, grid, rows, cols, per_second, warning: None }
}

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
        title: format!("{name}: why {} ({:.0}%)", classes[e.class], 100.0 * e.probs[e.class]),
    };
    genre_report::explain::cam_png(out, &picture)
        .map_err(|err| PipelineError::Invalid(format!("{}: {err}", out.display())))
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
