//! Routes and handlers.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, Request, State as Shared};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use genre_audio::AudioError;
use genre_data::DataError;
use genre_features::core::DbRef;
use genre_features::feature::{logmel, MelSpecParams};
use genre_model::metrics::{argmax, top_k};
use genre_pipeline::explain::{explain_picture, CELLS_PER_SEC, MAX_PICTURE_SECS};
use genre_pipeline::{Explanation, PipelineError};
use genre_report::colors::{genre_color, hex};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::quiz::{Quiz, Refused};
use crate::upload::{self, Upload};
use crate::{assets, State};

/// Windows analysed per upload at most (evenly spread): bounds the work of a long upload.
const MAX_WINDOWS: usize = 64;
/// Body cap of every route but the upload (JSON answers are a few dozen bytes).
const SMALL_BODY: usize = 16 << 10;
/// Characters of the file name kept in the picture's title.
const TITLE_CHARS: usize = 40;
/// Mel bands and columns (at most) of the spectrogram the page draws under the CAM: enough for
/// a desktop-wide canvas, a few dozen kB.
const SPEC_BANDS: usize = 64;
const SPEC_COLS: usize = 600;

pub fn routes(st: Arc<State>) -> Router {
    let mut r = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/model", get(model))
        // Uploads are bounded by our own limit (413 with a JSON body), not the extractor default.
        .route("/api/predict", post(predict).layer(DefaultBodyLimit::disable()))
        .route("/api/quiz/next", get(quiz_next))
        .route("/api/quiz/clip/{id}", get(quiz_clip))
        .route("/api/quiz/answer", post(quiz_answer));
    for p in assets::paths() {
        r = r.route(p, get(move || async move { assets::get(p) }));
    }
    r.fallback(|| async { err(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(SMALL_BODY))
        .layer(axum::middleware::from_fn_with_state(st.clone(), crate::quiet::quiet_bodies))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(st)
}

/// Errors made by the framework itself (extractor rejections, wrong method) are plain text:
/// answer every error as `{"error": ...}` with the same status, its text not echoed.
async fn json_errors(r: Response) -> Response {
    let is_json = r.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if r.status().as_u16() < 400 || is_json {
        return r;
    }
    let status = r.status();
    err(status, status.canonical_reason().unwrap_or("request refused").to_lowercase()).into_response()
}

/// An internal failure: the details go to the log, the client gets a generic answer (no paths).
pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    crate::log(format_args!("internal error: {e}"));
    err(StatusCode::INTERNAL_SERVER_ERROR, "internal error, see the server log")
}

/// An error answered as `{"error": "..."}` with its status.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

pub(crate) fn err(status: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError(status, msg.into())
}

async fn model(Shared(st): Shared<Arc<State>>) -> Json<Value> {
    let card = st.model.card();
    Json(json!({
        "name": st.model_name,
        "classes": card.classes,
        "members": st.model.members.len(),
        "description": format!("{} genres; {}", card.classes.len(), card.data),
        "features": card.features,
        "scores": card.scores,
        "colors": genre_colors(&card.classes),
    }))
}

/// Each genre's colour (`#rrggbb`), fixed by its name: the page colours a genre as the
/// pictures do, whatever the model and the genre's place in its class list.
fn genre_colors(classes: &[String]) -> Value {
    classes.iter().map(|c| (c.clone(), Value::from(hex(genre_color(c))))).collect::<serde_json::Map<_, _>>().into()
}

#[derive(Deserialize)]
struct PredictQuery {
    class: Option<String>,
}

/// Refusals that need no body first (declared size 413, busy 503): a refused upload costs no
/// read of its body. Then the body is streamed to disk and analysed, all within the request's
/// deadline. (An unknown genre is refused after the body is read: clients that read the answer
/// only once they have sent everything would otherwise see a reset instead of the reason.)
async fn predict(st: Shared<Arc<State>>, q: Query<PredictQuery>, req: Request) -> Response {
    match receive_and_analyse(st, q, req).await {
        Ok(answer) => answer.into_response(),
        Err(e) => {
            // The body may be left unread: say the connection ends, so the client does not
            // send its next request on it.
            let mut r = e.into_response();
            r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            r
        }
    }
}

async fn receive_and_analyse(
    Shared(st): Shared<Arc<State>>,
    Query(q): Query<PredictQuery>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    upload::check_declared(&st, req.headers())?;
    let slot = Slot::admit(&st)?;
    let deadline = tokio::time::Instant::now() + st.opts.timeout;
    let up = tokio::time::timeout_at(deadline, upload::receive(&st, req)).await.map_err(|_| timed_out(&st))??;
    if up.size == 0 {
        return Err(err(StatusCode::UNPROCESSABLE_ENTITY, "empty upload: send an audio file"));
    }
    let class = class_index(&st, q.class.as_deref())?;
    let work = run_cpu(&st, slot, move |st| analyse(st, &up, class));
    tokio::time::timeout_at(deadline, work).await.map_err(|_| timed_out(&st))?.map(Json)
}

fn class_index(st: &State, class: Option<&str>) -> Result<Option<usize>, ApiError> {
    let classes = &st.model.card().classes;
    let Some(c) = class else { return Ok(None) };
    let i = classes.iter().position(|k| k == c).ok_or_else(|| {
        err(StatusCode::UNPROCESSABLE_ENTITY, format!("unknown genre '{c}' (the model knows {})", classes.join(", ")))
    })?;
    Ok(Some(i))
}

fn timed_out(st: &State) -> ApiError {
    err(StatusCode::SERVICE_UNAVAILABLE, format!("timed out after {} s", st.opts.timeout.as_secs()))
}

/// A place among the `workers + queue` requests in progress (receiving, waiting or working),
/// given back when dropped: when the request ends, or when its CPU work does if it outlives
/// the request (a timed-out analysis still occupies a worker).
struct Slot(Arc<State>);

impl Slot {
    fn admit(st: &Arc<State>) -> Result<Slot, ApiError> {
        let before = st.admitted.fetch_add(1, Ordering::SeqCst);
        let slot = Slot(st.clone());
        if before >= st.opts.queue + st.opts.workers {
            return Err(err(StatusCode::SERVICE_UNAVAILABLE, format!("busy: {before} requests ahead, try again")));
        }
        Ok(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Run CPU work on the bounded blocking pool, at most `workers` at once.
async fn run_cpu<T: Send + 'static>(
    st: &Arc<State>,
    slot: Slot,
    work: impl FnOnce(&State) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit =
        st.cpu.clone().acquire_owned().await.map_err(|_| err(StatusCode::SERVICE_UNAVAILABLE, "shutting down"))?;
    let st2 = st.clone();
    tokio::task::spawn_blocking(move || {
        let _held = (permit, slot); // until the work ends, even if the request gave up
        work(&st2)
    })
    .await
    .map_err(internal)?
}

/// CPU work of a request without an upload: admitted like one, within the deadline.
async fn on_cpu<T: Send + 'static>(
    st: &Arc<State>,
    work: impl FnOnce(&State) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let slot = Slot::admit(st)?;
    tokio::time::timeout(st.opts.timeout, run_cpu(st, slot, work)).await.map_err(|_| timed_out(st))?
}

/// Decode errors of the upload itself: not audio (415) or audio that cannot be read (422).
fn upload_error(e: PipelineError) -> ApiError {
    match &e {
        PipelineError::Data(DataError::Audio(a)) => {
            let status = match a {
                AudioError::UnknownFormat { .. } | AudioError::UnsupportedCodec { .. } | AudioError::NoTrack { .. } => {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            // The temporary file's name means nothing to the client: keep the cause only.
            let msg = a.to_string();
            let cause = msg.split_once(": ").map(|(_, c)| c.to_string()).unwrap_or(msg);
            err(status, cause)
        }
        PipelineError::Data(DataError::Feature { msg, .. }) => err(StatusCode::UNPROCESSABLE_ENTITY, msg.clone()),
        _ => internal(e),
    }
}

/// Explain the upload on disk and draw it (the picture goes to a temporary file, removed when
/// this returns).
fn analyse(st: &State, up: &Upload, class: Option<usize>) -> Result<Value, ApiError> {
    let (audio, name) = (&up.file, up.name.as_str());
    let classes = st.model.card().classes.clone();
    let e = st.model.explain_file(audio.path(), class, Some(MAX_WINDOWS));
    let (probs, segments, cam, picture, duration, tags) = match e {
        Ok(e) => {
            let png =
                tempfile::Builder::new().prefix("cam-").suffix(".png").tempfile_in(st.tmp.path()).map_err(internal)?;
            let title = picture_title(name);
            let picture = explain_picture(audio.path(), Some(&title), &e, &classes, png.path()).ok().and_then(|plot| {
                let bytes = std::fs::read(png.path()).ok()?;
                let (w, h) = png_size(&bytes)?;
                Some(json!({
                    "png": format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes)),
                    "width": w, "height": h, "plot_left": plot.left, "plot_right": plot.left + plot.width,
                }))
            });
            let segments = segments_json(&classes, &e.times, &e.window_probs);
            let cam = cam_json(&classes, &e, audio.path());
            (e.probs, segments, cam, picture.unwrap_or(Value::Null), e.duration, e.tags)
        }
        // Models without a map to explain (feature MLPs, LSTMs) still answer.
        Err(PipelineError::Invalid(msg)) if msg.starts_with("explain:") => {
            let p = st.model.predict_file(audio.path(), Some(MAX_WINDOWS)).map_err(upload_error)?;
            let segments = segments_json(&classes, &p.windows.times, &p.window_probs);
            (p.probs, segments, Value::Null, Value::Null, p.windows.duration, p.windows.tags)
        }
        Err(e) => return Err(upload_error(e)),
    };
    let order = top_k(&probs, 3);
    // The same "outside the genres" verdict and genre tags as `genre predict` gives.
    let verdict = genre_pipeline::answer::verdict(st.model.card(), &tags);
    let mut answer = json!({
        "file": name,
        "duration": duration,
        "classes": classes,
        "genre": classes[argmax(&probs)],
        "top": order.iter().map(|&i| (classes[i].clone(), probs[i])).collect::<Vec<_>>(),
        "probabilities": probs,
        "segments": segments,
        "cam": cam,
        "picture": picture,
        "colors": genre_colors(&classes),
    });
    if let Some(v) = verdict {
        answer["outside"] = json!(v.outside);
        answer["genre_tags"] = json!(v.genre_tags);
        answer["outside_tags"] = json!(if v.outside { v.closest_outside } else { Vec::new() });
    }
    Ok(answer)
}

/// The explanation as the page draws it: evidence per second, and the grid, `rows` bands (row
/// 0 = lowest) by `cols` cells (`cells_per_sec` a second), 0..1 to 3 decimals (a tenth of
/// the bytes, nothing the eye sees), over the upload's spectrogram.
fn cam_json(classes: &[String], e: &Explanation, audio: &std::path::Path) -> Value {
    json!({
        "class": classes[e.class],
        "seconds": e.per_second,
        "rows": e.rows,
        "cols": e.cols,
        "cells_per_sec": CELLS_PER_SEC,
        "grid": e.grid.iter().map(|v| (v * 1000.0).round() / 1000.0).collect::<Vec<f32>>(),
        "spectrogram": spectrogram_json(audio, e.duration),
    })
}

/// The upload's log-mel for the page: `rows` bands (row 0 = lowest, centred on `band_hz`) by
/// `cols` columns (frames averaged) spanning `seconds`; `levels` is base64 of one byte a cell,
/// 0..255 for 80 dB under the loudest up to the loudest. Null past the length pictures are
/// drawn for (the signal is held whole) or when the file cannot be read again.
fn spectrogram_json(audio: &std::path::Path, duration: f64) -> Value {
    if duration > MAX_PICTURE_SECS {
        return Value::Null;
    }
    let Ok(y) = genre_audio::load(audio, genre_audio::LoadOptions::default()) else { return Value::Null };
    let (hop, sr) = (512, y.sr);
    let Ok(m) = logmel(&y.samples, &MelSpecParams::new(sr, 2048, hop, SPEC_BANDS), DbRef::Max, Some(80.0)) else {
        return Value::Null;
    };
    let [rows, frames] = m.shape();
    let cols = frames.clamp(1, SPEC_COLS);
    let mut levels = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let row = &m.data[r * frames..(r + 1) * frames];
        for c in 0..cols {
            let (f0, f1) = (c * frames / cols, ((c + 1) * frames / cols).max(c * frames / cols + 1).min(frames));
            let db = row[f0..f1].iter().sum::<f32>() / (f1 - f0).max(1) as f32;
            levels.push(((db + 80.0) / 80.0 * 255.0).round().clamp(0.0, 255.0) as u8);
        }
    }
    let band_hz = &genre_features::convert::mel_frequencies(rows + 2, 0.0, sr as f64 / 2.0, false)[1..=rows];
    json!({
        "rows": rows,
        "cols": cols,
        "seconds": frames as f64 * hop as f64 / sr as f64,
        "band_hz": band_hz.iter().map(|f| f.round()).collect::<Vec<_>>(),
        "levels": base64::engine::general_purpose::STANDARD.encode(&levels),
    })
}

fn segments_json(classes: &[String], times: &[(f64, f64)], probs: &[Vec<f32>]) -> Value {
    times
        .iter()
        .zip(probs)
        .map(|(&(s, e), p)| json!({ "start": s, "end": e, "genre": classes[argmax(p)], "probabilities": p }))
        .collect()
}

/// The file name as the picture's title: the picture library widens its canvas to fit the
/// title, so a client's name must not reach it whole; the first `TITLE_CHARS` characters.
fn picture_title(name: &str) -> String {
    match name.char_indices().nth(TITLE_CHARS) {
        Some((end, _)) => format!("{}...", &name[..end]),
        None => name.to_string(),
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    (b.len() >= 24 && &b[1..4] == b"PNG")
        .then(|| (u32::from_be_bytes(b[16..20].try_into().unwrap()), u32::from_be_bytes(b[20..24].try_into().unwrap())))
}

fn quiz_of(st: &State) -> Result<&Quiz, ApiError> {
    st.quiz.as_ref().ok_or_else(|| err(StatusCode::NOT_FOUND, "no quiz folder: start genre serve --quiz DIR"))
}

async fn quiz_next(Shared(st): Shared<Arc<State>>) -> Result<Json<Value>, ApiError> {
    let id = quiz_of(&st)?.serve_one();
    let quiz = quiz_of(&st)?;
    Ok(Json(json!({ "id": id, "audio": format!("/api/quiz/clip/{id}"), "choices": st.model.card().classes,
                    "clips": quiz.clips.len(), "left_out": quiz.left_out })))
}

fn no_clip() -> ApiError {
    err(StatusCode::NOT_FOUND, "no such clip: ask /api/quiz/next for one")
}

async fn quiz_clip(Shared(st): Shared<Arc<State>>, UrlPath(id): UrlPath<String>) -> Result<Response, ApiError> {
    let quiz = quiz_of(&st)?;
    let (path, _) = &quiz.clips[quiz.clip_of(&id).ok_or_else(no_clip)?];
    let bytes = tokio::fs::read(path).await.map_err(internal)?;
    Ok(([(header::CONTENT_TYPE, Quiz::content_type(path))], bytes).into_response())
}

#[derive(Deserialize)]
struct Answer {
    id: String,
    guess: String,
}

/// Judge the one answer a served clip allows: the truth and the model's answer.
async fn quiz_answer(Shared(st): Shared<Arc<State>>, Json(a): Json<Answer>) -> Result<Json<Value>, ApiError> {
    let quiz = quiz_of(&st)?;
    let clip = quiz.begin_answer(&a.id).map_err(|r| match r {
        Refused::Unknown => no_clip(),
        Refused::Answered => err(StatusCode::CONFLICT, "this clip was already answered"),
    })?;
    // Not judged (busy, timed out, the client gone): the id may be answered again.
    let mut pending = Unjudged { quiz, id: &a.id, judged: false };
    let top = model_answer(&st, clip).await?;
    pending.judged = true;
    let truth = &quiz.clips[clip].1;
    let model = top[0].0.clone();
    Ok(Json(json!({
        "truth": truth, "model": model, "model_top": top,
        "you_right": a.guess == *truth, "model_right": model == *truth,
    })))
}

/// An answer taken but not yet judged: given back when dropped unjudged.
struct Unjudged<'a> {
    quiz: &'a Quiz,
    id: &'a str,
    judged: bool,
}

impl Drop for Unjudged<'_> {
    fn drop(&mut self) {
        if !self.judged {
            self.quiz.undo_answer(self.id);
        }
    }
}

/// The model's top 3 for a quiz clip, computed once per clip.
async fn model_answer(st: &Arc<State>, clip: usize) -> Result<Vec<(String, f32)>, ApiError> {
    let quiz = quiz_of(st)?;
    if let Some(t) = quiz.answers.lock().expect("quiz answers").get(&clip) {
        return Ok(t.clone());
    }
    let t = on_cpu(st, move |st| {
        let quiz = st.quiz.as_ref().expect("quiz");
        let p = st.model.predict_file(&quiz.clips[clip].0, Some(MAX_WINDOWS)).map_err(upload_error)?;
        let classes = &st.model.card().classes;
        Ok(top_k(&p.probs, 3).into_iter().map(|i| (classes[i].clone(), p.probs[i])).collect::<Vec<_>>())
    })
    .await?;
    quiz.answers.lock().expect("quiz answers").insert(clip, t.clone());
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use genre_audio::synth::genre_clip;
    use genre_audio::wav::write_wav_mono16;
    use genre_pipeline::Predictor;

    #[test]
    fn genre_colours_are_fixed_by_the_genres_names() {
        let a = genre_colors(&["rock".into(), "metal".into(), "electronic".into()]);
        let b = genre_colors(&["electronic".into(), "metal".into()]);
        assert_eq!(a["rock"], "#d62728");
        assert_eq!(a["metal"], "#3c3c3c");
        assert_eq!(a["electronic"], b["electronic"], "not by the place in the class list");
    }

    #[test]
    fn the_cam_answer_carries_the_grid_and_the_spectrogram_the_page_draws() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.wav");
        write_wav_mono16(&path, &genre_clip(1, 12.0, 22050, 3), 22050).unwrap();
        let model = Predictor::load(None).unwrap();
        let e = model.explain_file(&path, None, Some(MAX_WINDOWS)).unwrap();
        let cam = cam_json(&model.card().classes, &e, &path);
        let (rows, cols) = (cam["rows"].as_u64().unwrap() as usize, cam["cols"].as_u64().unwrap() as usize);
        assert_eq!((rows, cols), (e.rows, e.cols));
        assert_eq!(cam["cells_per_sec"], 10.0);
        let grid = cam["grid"].as_array().unwrap();
        assert_eq!(grid.len(), rows * cols);
        assert!(grid.iter().all(|v| (0.0..=1.0).contains(&v.as_f64().unwrap())));
        let spec = &cam["spectrogram"];
        let (rows, cols) = (spec["rows"].as_u64().unwrap() as usize, spec["cols"].as_u64().unwrap() as usize);
        assert_eq!(rows, SPEC_BANDS);
        assert!(cols > 100 && cols <= SPEC_COLS, "{cols} columns");
        let levels = base64::engine::general_purpose::STANDARD.decode(spec["levels"].as_str().unwrap()).unwrap();
        assert_eq!(levels.len(), rows * cols);
        assert!(levels.iter().any(|&v| v > 200), "the loudest cells are near 255");
        assert!((spec["seconds"].as_f64().unwrap() - 12.0).abs() < 0.1);
        let hz: Vec<f64> = spec["band_hz"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(hz.len() == rows && hz.windows(2).all(|w| w[0] < w[1]) && hz[rows - 1] < 11025.0);
    }
}
