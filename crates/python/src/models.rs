//! The models: `Model` (the built-in default or a trained run: predict, explain), musicnn's
//! tags and embeddings, and training and evaluation runs through `genre_learn`.

use std::path::PathBuf;
use std::sync::Arc;

use genre_data::spec::MUSICNN_WINDOW_SECS;
use genre_learn::{EvalRequest, Progress, TrainRequest};
use genre_model::metrics::{argmax, mean_rows, top_k};
use genre_model::musicnn::{Layer, Variant};
use genre_model::train::Event;
use genre_pipeline::embed::{musicnn_spec, Output};
use genre_pipeline::{featurize_file, Answer, MusicnnEmbedder, Predictor, Tagger};
use numpy::ndarray::Array2;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::json;

use crate::convert::{detached, to_python, Input};
use crate::InputError;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(tag, m)?)?;
    m.add_function(wrap_pyfunction!(embed, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    Ok(())
}

/// A genre model loaded once: `Model.default()` (built in) or `Model.load(run_dir)`.
/// Thread-safe: several Python threads may predict at once (the GIL is released meanwhile).
#[pyclass(frozen, module = "genre._genre")]
pub struct Model {
    inner: Arc<Predictor>,
    name: String,
}

#[pymethods]
impl Model {
    /// The default model built into genre (no file needed).
    #[staticmethod]
    fn default(py: Python<'_>) -> PyResult<Self> {
        let inner = detached(py, || Ok(Predictor::load(None)?))?;
        Ok(Self { inner: Arc::new(inner), name: "<built-in default>".into() })
    }

    /// A trained run folder (`genre train --out RUN`), its `model.json`, or an ensemble folder.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let p = path.clone();
        let inner = detached(py, move || Ok(Predictor::load(Some(&p))?))?;
        Ok(Self { inner: Arc::new(inner), name: path.display().to_string() })
    }

    /// The genres (classes) the model tells apart, in the order of its probabilities.
    #[getter]
    fn classes(&self) -> Vec<String> {
        self.inner.card().classes.clone()
    }

    /// Whether the model tags (several labels a file) rather than naming one genre.
    #[getter]
    fn multi_label(&self) -> bool {
        self.inner.card().multi_label
    }

    /// The genre of `x` (a path, the bytes of an audio file, or a signal with `sr=`): a dict
    /// shaped like `genre predict --json`'s entry: `genre`, `top`, `probabilities`,
    /// `segments` (per-window timeline), `warning`.
    #[pyo3(signature = (x, *, sr=None, top_k=3, segments=true, max_windows=Some(genre_pipeline::DEFAULT_MAX_WINDOWS)))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        sr: Option<u32>,
        top_k: usize,
        segments: bool,
        max_windows: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if top_k == 0 {
            return Err(InputError::new_err("top_k must be at least 1"));
        }
        let input = Input::extract(x, sr)?;
        let model = Arc::clone(&self.inner);
        let answer = detached(py, move || {
            let staged = input.stage()?;
            let p = model.predict_file(&staged.path, max_windows).map_err(|e| staged.rename_err(e.into()))?;
            Ok(Answer::new(model.card(), staged.name.clone(), p, top_k, segments))
        })?;
        to_python(py, &answer)
    }

    /// Grad-CAM of `genre` (default: the predicted one) over `x`, mapped to seconds: a dict with
    /// `class`, `probabilities`, `segments`, and `cam` (`seconds`: evidence per second 0..1,
    /// `grid`: a `[rows, cols]` array, row 0 the lowest band, `cells_per_second` columns a second).
    #[pyo3(signature = (x, genre=None, *, sr=None, max_windows=64))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        genre: Option<String>,
        sr: Option<u32>,
        max_windows: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let classes = self.classes();
        let class =
            match genre {
                Some(g) => Some(classes.iter().position(|c| *c == g).ok_or_else(|| {
                    InputError::new_err(format!("genre '{g}': the model knows {}", classes.join(", ")))
                })?),
                None => None,
            };
        let input = Input::extract(x, sr)?;
        let model = Arc::clone(&self.inner);
        let (e, name) = detached(py, move || {
            let staged = input.stage()?;
            let e = model
                .explain_file(&staged.path, class, Some(max_windows.max(1)))
                .map_err(|e| staged.rename_err(e.into()))?;
            Ok((e, staged.name.clone()))
        })?;
        let segments: Vec<_> = e
            .times
            .iter()
            .zip(&e.window_probs)
            .map(|(&(s, t), p)| json!({ "start": s, "end": t, "genre": classes[argmax(p)], "probabilities": p }))
            .collect();
        let top: Vec<(String, f32)> =
            top_k(&e.probs, 3).into_iter().map(|i| (classes[i].clone(), e.probs[i])).collect();
        let doc = json!({
            "file": name, "class": classes[e.class], "classes": classes, "top": top, "probabilities": e.probs,
            "warning": e.warning,
            "duration": e.duration, "segments": segments,
            "cam": { "seconds": e.per_second, "cells_per_second": genre_pipeline::explain::CELLS_PER_SEC,
                     "rows": e.rows, "cols": e.cols },
        });
        let out = to_python(py, &doc)?;
        let grid = Array2::from_shape_vec((e.rows, e.cols), e.grid)
            .map_err(|err| InputError::new_err(err.to_string()))?
            .into_pyarray(py);
        out.get_item("cam")?.set_item("grid", grid)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("genre.Model({}: {})", self.name, self.classes().join(", "))
    }
}

fn variant(model: &str) -> PyResult<Variant> {
    model.parse().map_err(InputError::new_err)
}

/// musicnn's tags of `x` (`model`: "msd", 50 Last.fm tags, or "mtt", MagnaTagATune's): a
/// dict with `top` (the `top_k` most likely), `probabilities` (50, the mean over 3 s windows),
/// `segments` (per window) and `labels`.
#[pyfunction]
#[pyo3(signature = (x, *, model="msd", sr=None, top_k=5, segments=true))]
fn tag<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    model: &str,
    sr: Option<u32>,
    top_k: usize,
    segments: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let variant = variant(model)?;
    let input = Input::extract(x, sr)?;
    let tags = detached(py, move || {
        let tagger = Tagger::new(variant)?;
        let staged = input.stage()?;
        tagger.tag_file(&staged.path, staged.name.clone(), top_k, segments).map_err(|e| staged.rename_err(e.into()))
    })?;
    let out = to_python(py, &tags)?;
    out.set_item("labels", variant.labels().to_vec())?;
    Ok(out)
}

/// musicnn embeddings of `x`: `[windows, dim]` float32 (one row per 3 s window, `hop` seconds
/// apart), or `[dim]` with `per_track=True` (the mean over windows). `layer`: "penultimate"
/// (200-d), "pooled" (1506-d) or "taggram" (50).
#[pyfunction]
#[pyo3(signature = (x, *, layer="penultimate", per_track=false, model="msd", sr=None, hop=None))]
fn embed<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    layer: &str,
    per_track: bool,
    model: &str,
    sr: Option<u32>,
    hop: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let variant = variant(model)?;
    let layer: Layer = layer.parse().map_err(InputError::new_err)?;
    let hop = hop.unwrap_or(MUSICNN_WINDOW_SECS);
    if !(hop.is_finite() && hop > 0.0) {
        return Err(InputError::new_err("hop must be a positive number of seconds"));
    }
    let input = Input::extract(x, sr)?;
    let rows = detached(py, move || {
        let net = MusicnnEmbedder::new(variant, Output::Layer(layer))?;
        let spec = musicnn_spec(variant, Output::Layer(layer), hop);
        let staged = input.stage()?;
        let w = featurize_file(&staged.path, &spec, Some(&net), None).map_err(|e| staged.rename_err(e.into()))?;
        Ok(w.x)
    })?;
    let dim = layer.dim();
    if per_track {
        let r: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        return Ok(mean_rows(&r).into_pyarray(py).into_any());
    }
    let n = rows.len();
    let flat = Array2::from_shape_vec((n, dim), rows.concat()).map_err(|e| InputError::new_err(e.to_string()))?;
    Ok(flat.into_pyarray(py).into_any())
}

/// A request (train or eval) from keywords: `fixed` (the positional arguments) over
/// `options`; an unknown keyword is an error naming it.
fn request<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    fixed: serde_json::Value,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    let mut v = match options {
        Some(d) => {
            let kw = PyDict::new(py);
            kw.set_item("default", py.import("builtins")?.getattr("str")?)?;
            let text: String = py.import("json")?.call_method("dumps", (d,), Some(&kw))?.extract()?;
            serde_json::from_str(&text).map_err(|e| InputError::new_err(e.to_string()))?
        }
        None => json!({}),
    };
    for (k, x) in fixed.as_object().expect("an object") {
        v[k] = x.clone();
    }
    serde_json::from_value(v).map_err(|e| InputError::new_err(format!("options: {e}")))
}

/// A progress event as the dict the Python callback receives (`kind` says which).
fn event_dict(p: &Progress) -> serde_json::Value {
    match p {
        Progress::Features { what, done, total } => {
            json!({"kind": "features", "what": what, "done": done, "total": total})
        }
        Progress::Skipped { path, why } => json!({"kind": "skipped", "path": path, "why": why}),
        Progress::Note(text) => json!({"kind": "note", "text": text}),
        Progress::Train(Event::Resumed { epochs_done }) => json!({"kind": "resumed", "epochs_done": epochs_done}),
        Progress::Train(Event::Batch { epoch, batch, batches, loss, acc, metric }) => {
            json!({"kind": "batch", "epoch": epoch, "batch": batch, "batches": batches, "loss": loss, "acc": acc, "metric": metric})
        }
        Progress::Train(Event::Epoch { history }) => {
            let mut v = serde_json::to_value(history.last()).unwrap_or_default();
            v["kind"] = json!("epoch");
            v
        }
    }
}

/// Calls `callback` (if any) with each event; a callback that raises is reported once on
/// stderr by Python and then left alone, so a broken callback cannot stop a run.
fn reporter(callback: Option<Py<PyAny>>) -> impl Fn(Progress) + Sync {
    let failed = std::sync::atomic::AtomicBool::new(false);
    move |p: Progress| {
        let Some(cb) = &callback else { return };
        if failed.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let v = event_dict(&p);
        Python::attach(|py| {
            let r = to_python(py, &v).and_then(|d| cb.call1(py, (d,)));
            if let Err(e) = r {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
                e.print(py);
            }
        });
    }
}

/// Train a model on `data` (a genre folder, manifest or feature table) into `out`; options are
/// `genre train`'s flags as keywords (`epochs=20`, `lists=[train, valid]`, `backbone="mtt"`,
/// ...). `progress`, if given, is called with a dict per event. Returns the run: `dir`,
/// `card` (classes, scores), `best_epoch`, `reports`, `skipped`.
#[pyfunction]
#[pyo3(signature = (data, *, out, model="musicnn", progress=None, **options))]
fn train<'py>(
    py: Python<'py>,
    data: PathBuf,
    out: PathBuf,
    model: &str,
    progress: Option<Py<PyAny>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let req: TrainRequest = request(py, json!({"data": data, "out": out, "model": model}), options)?;
    let on = reporter(progress);
    let run = detached(py, move || genre_learn::train(&req, &on))?;
    to_python(py, &run)
}

/// Score a trained run on `data`: `part` is its split's "valid" or "test" side, or "all".
/// Returns `report` (segment and track scores, per genre, confusion) and `skipped`.
#[pyfunction]
#[pyo3(signature = (model, data, *, part="valid", progress=None, **options))]
fn evaluate<'py>(
    py: Python<'py>,
    model: PathBuf,
    data: PathBuf,
    part: &str,
    progress: Option<Py<PyAny>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let req: EvalRequest = request(py, json!({"model": model, "data": data, "part": part}), options)?;
    let on = reporter(progress);
    let eval = detached(py, move || genre_learn::evaluate(&req, &on))?;
    to_python(py, &eval)
}
